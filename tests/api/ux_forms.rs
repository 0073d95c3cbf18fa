//! Forms that fit a thumb, the compact header, the test-mode banner in a landmark, plain error
//! pages and the favicon (issue 13, step 1).

use crate::helpers::{Page, spawn_app, text_of};

#[tokio::test]
async fn every_kind_of_control_is_styled_at_16px_with_44px_targets() {
    let app = spawn_app().await;
    // Served minified: compared without whitespace.
    let squeeze = |s: &str| s.split_whitespace().collect::<String>();
    let css = squeeze(&app.page("/static/css/tern.css", 200).await);
    let rule = css
        .split('}')
        .find(|r| {
            r.contains(&squeeze(
                "input:not([type=\"checkbox\"], [type=\"radio\"], [type=\"hidden\"]), select, textarea",
            ))
        })
        .expect("one rule styles every text-like input, select and textarea");
    assert!(rule.contains("font-size:max(1rem,16px)"), "16 px text: {rule}");
    assert!(rule.contains("min-height:2.75rem"), "44 px tall: {rule}");
    assert!(css.contains(&squeeze("input[type=\"checkbox\"], input[type=\"radio\"] {")), "checkboxes are styled");
    assert!(!css.contains(&squeeze("input[type=\"search\"], input[type=\"text\"], select {")), "no partial rule left");
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
    assert_eq!(
        lead,
        "The “region” in this page’s address didn’t work: choose one of Europe, Asia, North America, \
         Latin America, Middle East, Africa or Oceania."
    );
    // A way back: the same page without its query string, and the home page.
    assert_eq!(page.attr(".error-page__actions a.button--primary", "href").as_deref(), Some("?"));
    assert!(page.exists(".error-page__actions a[href='/']"));
    let api = app.problem("/api/v1/destinations?region=atlantis", 400).await;
    assert_eq!(api["invalid_params"][0]["name"], "region", "the API still names the parameter");
    assert!(
        api["invalid_params"][0]["reason"].as_str().unwrap().starts_with("is not one of our regions (europe, asia")
    );
    assert!(api["detail"].as_str().unwrap().starts_with("The parameter region is not one of our regions"));

    // Every kind of bad value a storefront page reads says what to do, never the API's words.
    for (path, advice) in [
        ("/plans?type=weekly", "choose one of Local, Regional or Global"),
        ("/destinations/jp?sort=cheapest", "choose an order from the “Sort by” list on the page"),
        ("/destinations/jp?hotspot=maybe", "it can only be switched on or off: use the checkbox on the page"),
        ("/destinations?q=a&q=b", "give it only once"),
        (&format!("/destinations?q={}", "x".repeat(101)), "use at most 100 characters"),
    ] {
        let page = Page::parse(&app.page(path, 400).await);
        let lead = page.text(".error-page .lead");
        assert!(lead.ends_with(&format!("didn’t work: {advice}.")), "{path}: {lead}");
        assert!(!lead.contains("must be") && !lead.contains("one of:"), "{path}: {lead}");
    }
    // Other errors keep their links: a 404 has no "without its filters".
    let missing = Page::parse(&app.page("/destinations/xx", 404).await);
    assert!(!missing.exists(".error-page__actions a[href='?']"));
}

#[tokio::test]
async fn there_is_a_favicon() {
    let app = spawn_app().await;
    let response = app.get("/favicon.ico").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/svg+xml");
    assert!(response.text().await.unwrap().contains("<svg"));
    // Every kind of page links it: storefront, errors, the API reference, the admin's sign-in
    // and, signed in, the admin itself.
    let pages = [
        ("/".to_string(), 200),
        ("/destinations/jp".to_string(), 200),
        ("/destinations?region=atlantis".to_string(), 400),
        ("/nowhere".to_string(), 404),
        ("/api/v1/docs".to_string(), 200),
        ("/api/v1/docs/webhooks".to_string(), 200),
        ("/_dev/mail".to_string(), 200),
        ("/admin".to_string(), 200),
    ];
    app.sign_in_as(tern::domain::user::Role::Admin).await;
    for (path, status) in pages {
        let page = Page::parse(&app.page(&path, status).await);
        let icons = page.select("head link[rel='icon']");
        assert_eq!(icons.len(), 1, "{path}: one icon link");
        let href = icons[0].value().attr("href").unwrap();
        assert!(href.starts_with("/static/favicon.") && href.ends_with(".svg"), "{path}: {href}");
        assert_eq!(icons[0].value().attr("type"), Some("image/svg+xml"), "{path}");
    }
    let svg = app.get("/static/favicon.svg").await;
    assert_eq!(svg.status(), 200);
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
}
