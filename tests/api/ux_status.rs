//! The "preparing your eSIM" state without meta refresh: a status endpoint the page polls, the
//! page's live region and its <noscript> fallback (issue 13, step 4).

use crate::helpers::{Page, spawn_app, spawn_app_with_worker};

/// The order page's path: this client holds the order's cookie since its checkout.
fn order_path(id: uuid::Uuid) -> String {
    format!("/orders/{id}")
}

#[tokio::test]
async fn the_status_endpoint_follows_the_order_for_its_cookie_holder_only() {
    let app = spawn_app().await;
    let (plan, _) = app.some_plan().await;
    let (id, token, session) = app.buy_plan(&plan).await;
    let status = app.json(&format!("/orders/{id}/status"), 200).await;
    assert_eq!(status["status"], "awaiting_payment");
    assert_eq!(status["pending"], false, "an unpaid order is not polled");
    app.pay(&session).await;
    app.wait_status(id, "paid").await;
    let response = app.get(&format!("/orders/{id}/status")).await;
    assert_eq!(response.headers()["cache-control"], "no-store");
    let status: serde_json::Value = response.json().await.unwrap();
    assert_eq!(status["status"], "paid");
    assert_eq!(status["pending"], true);
    assert_eq!(status["taking_longer"], false);
    assert!(status["headline"].as_str().unwrap().contains("preparing your eSIM"));
    // Another browser gets nothing, not even with the token in the URL (tokens stay out of it).
    let stranger = crate::helpers::browser();
    for path in [format!("/orders/{id}/status"), format!("/orders/{id}/status?token={token}")] {
        assert_eq!(stranger.get(app.url(&path)).send().await.unwrap().status(), 404, "{path}");
    }
}

#[tokio::test]
async fn the_preparing_page_polls_with_a_live_region_and_refreshes_only_without_javascript() {
    let app = spawn_app().await;
    let (plan, _) = app.some_plan().await;
    let (id, _, session) = app.buy_plan(&plan).await;
    app.pay(&session).await;
    app.wait_status(id, "paid").await;
    let html = app.page(&order_path(id), 200).await;
    let page = Page::parse(&html);
    assert_eq!(page.attr("#order-live", "aria-live").as_deref(), Some("polite"));
    assert_eq!(page.attr("#order-live", "data-poll").as_deref(), Some("paid"));
    assert!(page.exists("script[src^='/static/js/order-status.'][src$='.js']"));
    // The only refresh is inside <noscript>.
    let outside: String =
        html.split("<noscript>").map(|part| part.split_once("</noscript>").map_or(part, |(_, rest)| rest)).collect();
    assert!(html.contains("<noscript><meta http-equiv=\"refresh\""), "a refresh without JavaScript");
    assert!(!outside.contains("http-equiv=\"refresh\""), "no meta refresh outside <noscript>");
    assert!(page.attr("#order-slow", "hidden").is_some(), "not taking longer yet");
    let script = app.page("/static/js/order-status.js", 200).await;
    assert!(script.contains("/status") && script.contains("1500") && script.contains("location.reload"));
}

#[tokio::test]
async fn a_ready_order_stops_polling_and_shows_the_qr() {
    let app = spawn_app_with_worker().await;
    let (plan, _) = app.some_plan().await;
    let (id, _, session) = app.buy_plan(&plan).await;
    app.pay(&session).await;
    app.wait_ready(id).await;
    let status = app.json(&format!("/orders/{id}/status"), 200).await;
    assert_eq!((status["status"].as_str(), status["pending"].as_bool()), (Some("ready"), Some(false)));
    let page = Page::parse(&app.page(&order_path(id), 200).await);
    assert!(page.exists("#qr"));
    assert!(page.attr("#order-live", "data-poll").is_none());
    assert!(!page.exists("noscript"), "nothing refreshes a ready page");
}

#[tokio::test]
async fn while_retries_run_the_page_says_it_is_taking_longer_and_will_be_emailed() {
    let app = spawn_app().await;
    let (plan, _) = app.some_plan().await;
    let (id, _, session) = app.buy_plan(&plan).await;
    app.pay(&session).await;
    app.wait_status(id, "paid").await;
    sqlx::query(
        "insert into order_events (order_id, type, actor, details) values ($1, 'provisioning_retry', 'system', '{}')",
    )
    .bind(id)
    .execute(&app.pool)
    .await
    .unwrap();
    let status = app.json(&format!("/orders/{id}/status"), 200).await;
    assert_eq!(status["taking_longer"], true);
    assert_eq!(status["pending"], true, "still polling");
    let page = Page::parse(&app.page(&order_path(id), 200).await);
    assert!(page.attr("#order-slow", "hidden").is_none(), "shown");
    let text = page.text("#order-slow");
    assert!(text.contains("taking longer") && text.contains("email you your eSIM"), "{text}");
}
