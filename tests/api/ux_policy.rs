//! Trust and policy pages, the devices list, the footer links and the plan page's short facts
//! (issue 13, step 5).

use crate::helpers::{Page, spawn_app};

#[tokio::test]
async fn every_policy_page_is_linked_from_the_footer_and_answers() {
    let app = spawn_app().await;
    let home = Page::parse(&app.page("/", 200).await);
    for path in ["/help", "/devices", "/refund-policy", "/terms", "/privacy", "/contact"] {
        assert!(home.exists(&format!("footer a[href='{path}']")), "footer links {path}");
        let page = Page::parse(&app.page(path, 200).await);
        assert!(!page.text("h1").is_empty(), "{path} has a heading");
    }
}

#[tokio::test]
async fn the_faq_covers_installing_validity_data_roaming_and_no_phone_number() {
    let app = spawn_app().await;
    let page = Page::parse(&app.page("/help", 200).await);
    for id in ["install", "validity", "data-runs-out", "roaming", "phone-number"] {
        assert!(page.exists(&format!("h2#{id}")), "FAQ answers {id}");
    }
    assert!(page.text("body").contains("no phone number"));
}

#[tokio::test]
async fn the_refund_policy_states_the_rules_the_shop_applies() {
    let app = spawn_app().await;
    let page = Page::parse(&app.page("/refund-policy", 200).await);
    let rules = page.texts(".rules li").join(" ");
    for rule in [
        "nothing was charged",
        "refunds it in full",
        "no eSIM is bought",
        "never more than you paid",
        "A full refund disables the eSIM",
        "A partial refund leaves it working",
    ] {
        assert!(rules.contains(rule), "{rule}: {rules}");
    }
}

#[tokio::test]
async fn the_contact_page_gives_the_support_address() {
    let app = spawn_app().await;
    let page = Page::parse(&app.page("/contact", 200).await);
    let mailto = page.attr("a[href^='mailto:']", "href").expect("a mailto link");
    assert_eq!(mailto, format!("mailto:{}", tern::config::DEFAULT_SUPPORT_EMAIL));
}

#[tokio::test]
async fn the_devices_list_is_searchable() {
    let app = spawn_app().await;
    let all = Page::parse(&app.page("/devices", 200).await);
    assert!(all.select(".devices tbody tr").len() >= 30);
    let pixel = Page::parse(&app.page("/devices?q=pixel+8", 200).await);
    assert_eq!(pixel.texts(".devices tbody th"), ["Google"]);
    assert_eq!(pixel.attr("#device-q", "value").as_deref(), Some("pixel 8"));
    let none = Page::parse(&app.page("/devices?q=nokia+3310", 200).await);
    assert!(!none.exists(".devices") && none.text(".empty").contains("nokia 3310"));
    app.page(&format!("/devices?q={}", "x".repeat(101)), 400).await;
}

#[tokio::test]
async fn the_plan_page_says_data_only_speed_end_of_data_and_the_refund_rule() {
    let app = spawn_app().await;
    let limited = app.json("/api/v1/plans?unlimited=false&per_page=1", 200).await["data"][0]["id"].clone();
    let page = Page::parse(&app.page(&format!("/plans/{}", limited.as_str().unwrap()), 200).await);
    assert!(page.text("#fact-data-only").contains("no phone number"));
    assert!(page.text("#fact-speed").contains("Full speed until"));
    assert!(page.text("#fact-end").contains("the data stops"));
    assert!(page.exists("#fact-refund a[href='/refund-policy']"));
    let unlimited = app.json("/api/v1/plans?unlimited=true&per_page=1", 200).await["data"][0]["id"].clone();
    let page = Page::parse(&app.page(&format!("/plans/{}", unlimited.as_str().unwrap()), 200).await);
    assert!(page.text("#fact-speed").contains("kbps"), "speed after the daily cap");
}
