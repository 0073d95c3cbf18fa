//! Every page a traveller or an operator sees, in headless Chromium at 360 and at 1280 px
//! wide: saved as screenshots (`target/screenshots/`, CI's artefacts) and checked not to
//! scroll sideways at either width (the admin pages not even inside a box of their own); on a
//! 360×800 phone the storefront's header (test-mode banner, brand, search and nav) takes at
//! most 160 px, and the dashboard's chart labels render at 12 px or more.

use std::time::Duration;

use reqwest::cookie::CookieStore;
use serde_json::json;
use tern::domain::user::Role;

use crate::browser::start_browser;
use crate::helpers::{TestApp, scratch_dir, spawn_app_with_worker};

/// Loads `path` and waits until it has loaded and the fonts and images are in.
async fn open(browser: &fantoccini::Client, app: &TestApp, path: &str) {
    browser.goto(&app.url(path)).await.unwrap();
    for _ in 0..200 {
        let state = browser.execute("return document.readyState", vec![]).await.unwrap();
        if state.as_str() == Some("complete") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{path} never finished loading");
}

/// How much wider than the window the page is, in CSS pixels (0: no sideways scrolling), and
/// the innermost elements that stick out.
async fn overflow(browser: &fantoccini::Client) -> (i64, String) {
    let found = browser
        .execute(
            "const w = document.documentElement.clientWidth;
             const out = [...document.querySelectorAll('body *')]
               .filter(e => e.getBoundingClientRect().right > w + 0.5)
               .filter(e => ![...e.children].some(c => c.getBoundingClientRect().right > w + 0.5))
               .slice(0, 5)
               .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : ''));
             return [document.documentElement.scrollWidth - w, out.join(', ')];",
            vec![],
        )
        .await
        .unwrap();
    (found[0].as_i64().unwrap(), found[1].as_str().unwrap_or_default().to_string())
}

/// Boxes inside the page that scroll sideways themselves (an `overflow-x: auto` wrapper around
/// a table too wide for it): the page does not grow, but the reader still scrolls sideways.
async fn sideways_boxes(browser: &fantoccini::Client) -> Vec<String> {
    let found = browser
        .execute(
            "return [...document.querySelectorAll('body *')]
               .filter(e => ['auto', 'scroll'].includes(getComputedStyle(e).overflowX))
               .filter(e => e.scrollWidth > e.clientWidth + 1)
               .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : '')
                         + ' (' + (e.scrollWidth - e.clientWidth) + ' px)');",
            vec![],
        )
        .await
        .unwrap();
    found.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
}

/// Every text label of the dashboard's charts (SVG `<text>` and HTML `.chart__label`): its
/// text, computed font size and rendered height, in CSS pixels.
async fn chart_labels(browser: &fantoccini::Client) -> (usize, Vec<(String, f64, f64)>) {
    let found = browser
        .execute(
            "const charts = document.querySelectorAll('figure.chart');
             const labels = [...document.querySelectorAll('figure.chart text, figure.chart .chart__label')]
               .map(e => [e.textContent.trim(), parseFloat(getComputedStyle(e).fontSize), e.getBoundingClientRect().height]);
             return [charts.length, labels];",
            vec![],
        )
        .await
        .unwrap();
    let labels = found[1]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l[0].as_str().unwrap().to_string(), l[1].as_f64().unwrap(), l[2].as_f64().unwrap()))
        .collect();
    (found[0].as_u64().unwrap() as usize, labels)
}

/// The tallest a storefront header (banner included) may be on a 360×800 screen, in CSS px.
const PHONE_HEADER_MAX: f64 = 160.0;

/// The bottom edge of the page's header (`body > header`, the test-mode banner inside it), in
/// CSS pixels from the top of the page, or `None` when the page has none.
async fn header_bottom(browser: &fantoccini::Client) -> Option<f64> {
    let found = browser
        .execute(
            "window.scrollTo(0, 0);
             const h = document.querySelector('body > header');
             return h ? h.getBoundingClientRect().bottom + window.scrollY : null;",
            vec![],
        )
        .await
        .unwrap();
    found.as_f64()
}

/// The window's inner size set to `width` × `height` (the outer size includes no chrome when
/// headless).
async fn set_size(browser: &fantoccini::Client, width: u32, height: u32) {
    browser.set_window_size(width, height).await.unwrap();
    let inner = browser.execute("return window.innerWidth", vec![]).await.unwrap();
    assert_eq!(inner.as_u64(), Some(u64::from(width)), "the viewport is {width} px wide");
}

fn screenshot_dir() -> std::path::PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn every_page_fits_its_screen_at_360_and_1280_and_is_photographed() {
    let app = spawn_app_with_worker().await;
    let (plan_id, _) = app.some_plan().await;
    // A ready order, opened in the browser through its link (which sets the order's cookie).
    let created: serde_json::Value = app
        .client
        .post(app.url("/api/v1/orders"))
        .header("idempotency-key", uuid::Uuid::new_v4().to_string())
        .json(&json!({ "plan_id": plan_id, "email": "screens@example.com" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let order = uuid::Uuid::parse_str(created["id"].as_str().unwrap()).unwrap();
    let session = created["checkout_url"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
    app.pay(&session).await;
    app.wait_ready(order).await;
    let token = created["access_token"].as_str().unwrap().to_string();

    // An admin's session, signed in (with MFA) by the test's client, handed to the browser.
    let admin_client = crate::helpers::browser_with_jar();
    app.sign_in_on(&admin_client.0, Role::Admin).await;
    let session_cookie = admin_client.1.cookies(&app.url("/").parse().unwrap()).expect("a session cookie");

    let storefront = [
        ("home", "/".to_string()),
        ("search", "/destinations?q=japan".to_string()),
        ("destination", "/destinations/jp".to_string()),
        ("plan", format!("/plans/{plan_id}")),
        ("checkout", format!("/plans/{plan_id}/checkout")),
        ("find-order", "/orders/find".to_string()),
        ("sign-in", "/account/sign-in".to_string()),
        ("help", "/help".to_string()),
        ("api-docs", "/api/v1/docs".to_string()),
        ("ready", format!("/orders/{order}?token={token}")),
    ];
    // Something in every admin list: an API key, a webhook endpoint with a delivery, an
    // integrity run.
    tern::services::api_keys::create(
        &app.pool,
        "Partner with a rather long name",
        tern::domain::webhook::KeyRole::Integrator,
    )
    .await
    .unwrap();
    let hook = app
        .post_form_on(
            &admin_client.0,
            "/admin/webhooks",
            &[
                ("url", "http://127.0.0.1:9/a/rather/long/path/for/the/partners/webhook/receiver"),
                ("description", "Partner"),
            ],
        )
        .await;
    assert_eq!(hook.status(), 200, "the endpoint is created");
    let hook: uuid::Uuid = sqlx::query_scalar("select id from webhook_endpoints").fetch_one(&app.pool).await.unwrap();
    app.post_form_on(&admin_client.0, &format!("/admin/webhooks/{hook}/test"), &[]).await;
    app.post_form_on(&admin_client.0, "/admin/integrity/run", &[]).await;

    let admin = [
        ("admin-dashboard", "/admin".to_string()),
        ("admin-orders", "/admin/orders".to_string()),
        ("admin-order", format!("/admin/orders/{order}")),
        ("admin-catalogue", "/admin/catalogue".to_string()),
        ("admin-catalogue-search", "/admin/catalogue?q=japan".to_string()),
        ("admin-plan-edit", format!("/admin/plans/{plan_id}/edit")),
        ("admin-destination-edit", "/admin/destinations/JP/edit".to_string()),
        ("admin-integrity", "/admin/integrity".to_string()),
        ("admin-webhooks", "/admin/webhooks".to_string()),
        ("admin-webhook", format!("/admin/webhooks/{hook}")),
        ("admin-api-keys", "/admin/api-keys".to_string()),
        ("admin-audit", "/admin/audit".to_string()),
    ];

    let profile = scratch_dir("chromium-layout");
    let (_driver, browser) = start_browser(profile.path()).await;
    let dir = screenshot_dir();
    let mut too_wide = Vec::new();
    let mut too_tall = Vec::new();
    for (width, height) in [(360, 800), (1280, 900)] {
        set_size(&browser, width, height).await;
        for (name, path) in &storefront {
            open(&browser, &app, path).await;
            std::fs::write(dir.join(format!("{name}-{width}.png")), browser.screenshot().await.unwrap()).unwrap();
            let (extra, culprits) = overflow(&browser).await;
            if extra > 0 {
                too_wide.push(format!("{name} at {width}: {extra} px too wide ({culprits})"));
            }
            if width == 360 {
                match header_bottom(&browser).await {
                    Some(bottom) if bottom <= PHONE_HEADER_MAX => {}
                    Some(bottom) => too_tall.push(format!("{name}: the header ends at {bottom} px")),
                    None => too_tall.push(format!("{name}: no header")),
                }
            }
        }
    }
    // The admin, in a browser of its own holding the admin's session cookie (one set by the
    // server is HttpOnly, and no script may replace it).
    browser.close().await.unwrap();
    let profile = scratch_dir("chromium-layout-admin");
    let (_admin_driver, browser) = start_browser(profile.path()).await;
    open(&browser, &app, "/healthz").await;
    // WebDriver refuses cookies for an IP address's domain; the page's own script may set it.
    for pair in session_cookie.to_str().unwrap().split("; ") {
        browser.execute("document.cookie = arguments[0] + '; path=/'", vec![json!(pair)]).await.unwrap();
    }
    let mut small_labels = Vec::new();
    for width in [360, 1280] {
        set_size(&browser, width, 900).await;
        for (name, path) in &admin {
            open(&browser, &app, path).await;
            let url = browser.current_url().await.unwrap();
            assert_eq!(url.path(), path.split('?').next().unwrap(), "{name}: still signed in");
            std::fs::write(dir.join(format!("{name}-{width}.png")), browser.screenshot().await.unwrap()).unwrap();
            // And its first chart or list (or the fine print), which on a phone is below the fold.
            let scrolled = browser
                .execute(
                    "const e = document.querySelector('.admin-main figure, .admin-main table, #fine_print');
                     if (e) { e.scrollIntoView(); }
                     return !!e;",
                    vec![],
                )
                .await
                .unwrap();
            if scrolled.as_bool() == Some(true) {
                let shot = browser.screenshot().await.unwrap();
                std::fs::write(dir.join(format!("{name}-{width}-list.png")), shot).unwrap();
            }
            let (extra, culprits) = overflow(&browser).await;
            if extra > 0 {
                too_wide.push(format!("{name} at {width}: {extra} px too wide ({culprits})"));
            }
            let boxes = sideways_boxes(&browser).await;
            if !boxes.is_empty() {
                too_wide.push(format!("{name} at {width}: boxes scroll sideways ({})", boxes.join(", ")));
            }
            if *name == "admin-dashboard" {
                let (charts, labels) = chart_labels(&browser).await;
                assert!(charts >= 2, "the orders chart and a revenue chart: {charts}");
                assert!(labels.len() >= 3 * charts, "a top value and two days per chart: {labels:?}");
                for (text, size, height) in &labels {
                    if *size < 12.0 || *height < 11.0 {
                        small_labels.push(format!("“{text}” at {width}: {size} px font, {height} px high"));
                    }
                }
            }
        }
    }
    browser.close().await.unwrap();
    assert!(
        too_wide.is_empty() && too_tall.is_empty(),
        "pages scroll sideways: {too_wide:#?}; headers taller than {PHONE_HEADER_MAX} px at 360×800: {too_tall:#?}"
    );
    assert!(small_labels.is_empty(), "chart labels under 12 px: {small_labels:#?}");
    eprintln!("screenshots in {}", dir.display());
}
