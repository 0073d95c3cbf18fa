//! Forms that fit a thumb, the compact header, the test-mode banner in a landmark, plain error
//! pages and the favicon (issue 13, step 1).

use crate::helpers::{Page, spawn_app, text_of};

#[tokio::test]
async fn every_kind_of_control_is_styled_at_16px_with_44px_targets() {
    let app = spawn_app().await;
    let css = app.page("/static/css/tern.css", 200).await;
    let rule = css
        .split('}')
        .find(|r| r.contains("input:not([type=\"checkbox\"], [type=\"radio\"], [type=\"hidden\"]), select, textarea"))
        .expect("one rule styles every text-like input, select and textarea");
    assert!(rule.contains("font-size: max(1rem, 16px)"), "16 px text: {rule}");
    assert!(rule.contains("min-height: 2.75rem"), "44 px tall: {rule}");
    assert!(css.contains("input[type=\"checkbox\"], input[type=\"radio\"] {"), "checkboxes are styled");
    assert!(!css.contains("input[type=\"search\"], input[type=\"text\"], select {"), "no partial rule left");
}

#[tokio::test]
async fn the_checkout_email_field_has_the_email_keyboard_and_autofill() {
    let app = spawn_app().await;
    let (plan, _) = app.some_plan().await;
    let page = Page::parse(&app.page(&format!("/plans/{plan}/checkout"), 200).await);
    assert_eq!(page.attr("#email", "type").as_deref(), Some("email"));
    assert_eq!(page.attr("#email", "autocomplete").as_deref(), Some("email"));
    assert_eq!(page.attr("#email", "inputmode").as_deref(), Some("email"));
    assert_eq!(page.attr("#header-q", "autocomplete").as_deref(), Some("off"));
    assert_eq!(page.attr("#header-q", "enterkeyhint").as_deref(), Some("search"));
}

#[tokio::test]
async fn the_api_link_lives_in_the_footer_and_the_banner_in_a_landmark() {
    let app = spawn_app().await;
    let page = Page::parse(&app.page("/", 200).await);
    assert!(!page.exists("header [href='/api/v1/docs']"), "no API link in the header");
    let developers = page.one("footer nav[aria-label='For developers']");
    assert!(text_of(developers).contains("API documentation"));
    assert!(page.exists("footer nav[aria-label='For developers'] a[href='/api/v1/docs']"));
    // axe `region`: all content sits inside a landmark; the banner sits in the header's.
    assert_eq!(page.select(".test-banner").len(), 1);
    assert!(page.exists("body > header.site-header > .test-banner"), "the banner is inside <header>");
    assert!(page.text(".test-banner").contains("Test mode"));
    assert!(page.exists(".test-banner a[href='/_dev/mail']"));
    let nav_links = page.select("header .site-nav a").len();
    assert!(nav_links <= 4, "a short main nav: {nav_links} links");
}

#[tokio::test]
async fn a_bad_parameter_page_speaks_plainly() {
    let app = spawn_app().await;
    let page = Page::parse(&app.page("/destinations?region=atlantis", 400).await);
    assert_eq!(page.text("h1"), "This link did not work");
    let lead = page.text(".error-page .lead");
    assert!(lead.starts_with("The “region” in this page’s address is not one of our regions"), "{lead}");
    assert!(lead.contains("Check the link"), "{lead}");
    assert!(!lead.contains("The parameter"), "{lead}");
    let api = app.problem("/api/v1/destinations?region=atlantis", 400).await;
    assert_eq!(api["invalid_params"][0]["name"], "region", "the API still names the parameter");
}

#[tokio::test]
async fn there_is_a_favicon() {
    let app = spawn_app().await;
    let response = app.get("/favicon.ico").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/svg+xml");
    assert!(response.text().await.unwrap().contains("<svg"));
    let page = Page::parse(&app.page("/", 200).await);
    assert!(page.attr("link[rel='icon']", "href").is_some_and(|h| h.contains("favicon")));
}
