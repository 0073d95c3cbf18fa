//! End to end in headless Chromium (Debian's chromium and chromium-driver): home → destination
//! → plan → checkout form → the Stripe emulator's page → confirmation, then the QR code on the
//! page is decoded and compared with the activation code shown beside it; then the eSIM email
//! is opened in the test mailbox and its link followed back to the order.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use fantoccini::{ClientBuilder, Locator};
use serde_json::json;

use crate::helpers::{scratch_dir, spawn_app_with_worker};

/// chromedriver, in a process group of its own with the Chromium it starts: dropping it (also
/// when a test panics before its session is closed) kills the whole group, so no headless
/// browser outlives its test.
pub(crate) struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        if let Ok(group) = libc::pid_t::try_from(self.0.id()) {
            // SAFETY: kill(2) takes plain integers; a negative pid names the process group
            // `process_group(0)` gave chromedriver (its own pid).
            unsafe { libc::kill(-group, libc::SIGKILL) };
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn chromedriver_path() -> String {
    ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(str::to_string)
        .expect("chromedriver is missing: apt-get install chromium chromium-driver (.ci/run does)")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub(crate) async fn start_browser(profile: &std::path::Path) -> (Driver, fantoccini::Client) {
    let port = free_port();
    let driver = Driver(
        Command::new(chromedriver_path())
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts"),
    );
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,2000",
                format!("--user-data-dir={}", profile.display()),
            ]
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    for _ in 0..100 {
        let client = ClientBuilder::new(connector.clone())
            .capabilities(capabilities.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await;
        if let Ok(client) = client {
            return (driver, client);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("could not start a Chromium session through chromedriver");
}

/// Waits until the browser is on a page whose path satisfies `on`, and that page has loaded
/// (`document.readyState` is `complete`): an element found before then may belong to the page
/// being left, or be replaced while it loads.
async fn wait_for_path(browser: &fantoccini::Client, wait: Duration, on: impl Fn(&str) -> bool) {
    let deadline = std::time::Instant::now() + wait;
    loop {
        let url = browser.current_url().await.unwrap();
        if on(url.path()) {
            let state = browser.execute("return document.readyState", vec![]).await.ok();
            if state.as_ref().and_then(|s| s.as_str()) == Some("complete")
                && browser.current_url().await.unwrap() == url
            {
                return;
            }
        }
        assert!(std::time::Instant::now() < deadline, "still on {url} after {wait:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Once on the page `on` describes, clicks the element `css` finds there.
async fn click_on(browser: &fantoccini::Client, wait: Duration, on: impl Fn(&str) -> bool, css: &str) {
    wait_for_path(browser, wait, on).await;
    browser.wait().at_most(wait).for_element(Locator::Css(css)).await.unwrap().click().await.unwrap();
}

#[tokio::test]
async fn a_traveller_buys_a_plan_and_scans_the_qr_code_in_a_real_browser() {
    let app = spawn_app_with_worker().await;
    let profile = scratch_dir("chromium");
    let (_driver, browser) = start_browser(profile.path()).await;
    let wait = Duration::from_secs(20);

    browser.goto(&app.url("/")).await.unwrap();
    let search = browser.find(Locator::Css("main form[action='/destinations'] input[name='q']")).await.unwrap();
    search.send_keys("Japan").await.unwrap();
    let submit = Locator::Css("main form[action='/destinations'] button[type='submit']");
    browser.find(submit).await.unwrap().click().await.unwrap();
    // Each step waits for the next page's address first: the page being left may hold a
    // matching link too (the home page links to Japan), and clicking it then races the load.
    click_on(&browser, wait, |path| path == "/destinations", "main a[href='/destinations/jp']").await;
    click_on(&browser, wait, |path| path == "/destinations/jp", "main a[href^='/plans/']").await;
    click_on(
        &browser,
        wait,
        |path| path.starts_with("/plans/") && !path.ends_with("/checkout"),
        "a[href$='/checkout']",
    )
    .await;
    wait_for_path(&browser, wait, |path| path.ends_with("/checkout")).await;

    browser
        .wait()
        .at_most(wait)
        .for_element(Locator::Id("email"))
        .await
        .unwrap()
        .send_keys("traveller@example.com")
        .await
        .unwrap();
    browser.find(Locator::Id("device_confirmed")).await.unwrap().click().await.unwrap();
    browser.find(Locator::Css("form.checkout-form button[type='submit']")).await.unwrap().click().await.unwrap();
    let review_pay = Locator::Css("form.review-actions button#pay");
    browser.wait().at_most(wait).for_element(review_pay).await.unwrap().click().await.unwrap();

    // The Stripe emulator's checkout page. The review page has a `button#pay` too: only the
    // emulator's sits in a form posting to `/pay/…`, so this cannot catch the page being left.
    let pay = browser
        .wait()
        .at_most(wait)
        .for_element(Locator::Css("form[action^='/pay/'] button#pay[value='pay']"))
        .await
        .unwrap();
    assert!(browser.current_url().await.unwrap().as_str().starts_with(&app.stripe.base_url()));
    pay.click().await.unwrap();

    // The confirmation page polls its status (static/js/order-status.js) and reloads when ready.
    let qr = browser.wait().at_most(Duration::from_secs(30)).for_element(Locator::Id("qr")).await.unwrap();
    let src = qr.attr("src").await.unwrap().unwrap();
    let png =
        base64::engine::general_purpose::STANDARD.decode(src.strip_prefix("data:image/png;base64,").unwrap()).unwrap();
    let shown = browser.find(Locator::Id("activation-code")).await.unwrap().text().await.unwrap();

    let image = image::load_from_memory(&png).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1);
    let decoded = grids[0].decode().unwrap().1;
    assert!(decoded.starts_with("LPA:1$"), "{decoded}");
    assert_eq!(decoded, shown.trim(), "the QR code holds the activation code shown on the page");

    // The same eSIM by email: the test mailbox lists the message, its HTML version links to the
    // order, and the order page opened from the email shows the same code.
    let esim_mail = Locator::XPath("//table[@id='mailbox']//a[starts-with(normalize-space(.), 'Your eSIM is ready')]");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        browser.goto(&app.url("/_dev/mail")).await.unwrap();
        wait_for_path(&browser, wait, |path| path == "/_dev/mail").await;
        if browser.find(esim_mail).await.is_ok() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the eSIM email never reached the test mailbox");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    browser.find(esim_mail).await.unwrap().click().await.unwrap();
    click_on(&browser, wait, |path| path.starts_with("/_dev/mail/") && !path.ends_with("/html"), "a#open-html").await;
    click_on(&browser, wait, |path| path.ends_with("/html"), "a[href*='/orders/']").await;
    wait_for_path(&browser, wait, |path| path.starts_with("/orders/")).await;
    let from_email = browser.wait().at_most(wait).for_element(Locator::Id("activation-code")).await.unwrap();
    assert_eq!(from_email.text().await.unwrap().trim(), shown.trim(), "the email's link opens the same eSIM");

    let artefacts = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("artefacts");
    std::fs::create_dir_all(&artefacts).unwrap();
    std::fs::write(artefacts.join("confirmation.png"), browser.screenshot().await.unwrap()).unwrap();
    browser.close().await.unwrap();
}
