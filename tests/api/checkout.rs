//! Buying a plan: the form, orders, Stripe Checkout through the emulator, signed webhooks,
//! and payment confirmed exactly once.

use hmac::{Hmac, KeyInit, Mac};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use sha2::Sha256;
use uuid::Uuid;

use crate::helpers::{TestApp, eventually, spawn_app};

async fn orders_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from orders").fetch_one(&app.pool).await.unwrap()
}

#[tokio::test]
async fn a_plan_is_bought_end_to_end_and_paid_exactly_once() {
    let app = spawn_app().await;
    let (plan_id, price) = app.some_plan().await;
    let form = app.page(&format!("/plans/{plan_id}/checkout"), 200).await;
    assert!(form.contains("name=\"email\"") && form.contains("name=\"device_confirmed\""));
    assert!(form.contains("<label for=\"email\">"), "labelled");

    // The review step shows the address back, and suggests a fix for a typo.
    let review = app
        .post_form(&format!("/plans/{plan_id}/checkout"), &[("email", "ana@gmial.com"), ("device_confirmed", "on")])
        .await;
    assert_eq!(review.status(), 200);
    let review = review.text().await.unwrap();
    assert!(review.contains("ana@gmial.com") && review.contains("ana@gmail.com"), "typo suggested");
    assert_eq!(orders_count(&app).await, 0, "reviewing creates nothing");

    let (id, token, session_id) = app.buy_plan(&plan_id).await;
    let (amount, currency): (i64, String) =
        sqlx::query_as("select amount_minor, currency::text from orders where id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((amount, currency.as_str()), (price, "USD"), "price copied from the catalogue");
    assert_eq!(app.status(id).await, "awaiting_payment");
    let session = app.stripe.session(&session_id).unwrap();
    assert_eq!(session["amount_total"], price);
    assert_eq!(session["client_reference_id"], id.to_string());
    assert_eq!(session["metadata"]["order_id"], id.to_string());
    assert_eq!(session["customer_email"], "ana@example.com");
    let ttl = session["expires_at"].as_i64().unwrap() - session["created"].as_i64().unwrap();
    assert!((1800..=1900).contains(&ttl), "expires 30 minutes ahead (and a minute's margin), not {ttl}");

    app.pay(&session_id).await;
    app.wait_status(id, "paid").await;
    app.stripe.wait_for_deliveries().await;
    assert_eq!(app.event_count(id, "paid").await, 1);
    assert_eq!(app.event_count(id, "created").await, 1);
    assert_eq!(app.event_count(id, "checkout_started").await, 1);
    let jobs: i64 = sqlx::query_scalar("select count(*) from jobs where order_id = $1 and kind = 'provision_esim'")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(jobs, 1, "provisioning queued with the payment");

    let page = app.order_page(id, &token, &format!("&session_id={session_id}")).await;
    assert!(page.contains("Payment received"), "the success page");
    assert!(page.contains("http-equiv=\"refresh\""), "refreshes itself while the eSIM is prepared");
    assert!(page.contains("Test mode"), "test mode banner");
    assert_eq!(app.event_count(id, "paid").await, 1, "the success page does not pay twice");
}

#[tokio::test]
async fn the_order_page_needs_the_right_token() {
    let app = spawn_app().await;
    let (plan_id, _) = app.some_plan().await;
    let (id, token, _) = app.buy_plan(&plan_id).await;
    assert!(app.order_page(id, &token, "").await.contains("Waiting for payment"));
    let stranger = reqwest::Client::new();
    assert_eq!(stranger.get(app.url(&format!("/orders/{id}"))).send().await.unwrap().status(), 404, "no cookie");
    app.page(&format!("/orders/{id}?token=wrong"), 404).await;
    app.page(&format!("/orders/{}?token={token}", Uuid::new_v4()), 404).await;
    app.page(&format!("/orders/not-an-id?token={token}"), 404).await;
}

#[tokio::test]
async fn bad_checkout_input_rerenders_the_form_and_changes_nothing() {
    let app = spawn_app().await;
    let (plan_id, price) = app.some_plan().await;
    let path = format!("/plans/{plan_id}/checkout");
    let response = app.post_form(&path, &[("email", "ana@"), ("device_confirmed", "on"), ("step", "pay")]).await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("id=\"email-error\"") && html.contains("not a valid domain"), "message beside the field");
    assert!(html.contains("value=\"ana@\""), "what was typed is kept");

    let response = app.post_form(&path, &[("email", "ana@example.com"), ("step", "pay")]).await;
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("id=\"device-error\""));
    assert_eq!(orders_count(&app).await, 0);

    // Unknown and retired plans.
    assert_eq!(
        app.post_form(&format!("/plans/{}/checkout", Uuid::new_v4()), &[("email", "a@b.co")]).await.status(),
        404
    );
    let (retired,): (Uuid,) =
        sqlx::query_as("select id from plans where not on_sale limit 1").fetch_one(&app.pool).await.unwrap();
    app.page(&format!("/plans/{retired}/checkout"), 409).await;
    let response = app
        .post_form(
            &format!("/plans/{retired}/checkout"),
            &[("email", "a@b.co"), ("device_confirmed", "on"), ("step", "pay")],
        )
        .await;
    assert_eq!(response.status(), 409);
    assert_eq!(orders_count(&app).await, 0);

    // A price slipped into the form is ignored.
    let response = app
        .post_form(
            &path,
            &[
                ("email", "ana@example.com"),
                ("device_confirmed", "on"),
                ("step", "pay"),
                ("price_minor", "1"),
                ("amount", "1"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    let amount: i64 = sqlx::query_scalar("select amount_minor from orders").fetch_one(&app.pool).await.unwrap();
    assert_eq!(amount, price);

    // An oversized body.
    let big = "x".repeat(200 * 1024);
    let response = app.post_form(&path, &[("email", big.as_str())]).await;
    assert_eq!(response.status(), 413);
    assert_eq!(orders_count(&app).await, 1);
}

#[tokio::test]
async fn cancelling_returns_to_the_plan_and_leaves_the_order_open() {
    let app = spawn_app().await;
    let (plan_id, _) = app.some_plan().await;
    let (id, _, session_id) = app.buy_plan(&plan_id).await;
    let cancel_url = app.stripe.session(&session_id).unwrap()["cancel_url"].as_str().unwrap().to_string();
    let path = cancel_url.strip_prefix(&format!("http://{}", app.addr)).unwrap().to_string();
    let html = app.page(&path, 200).await;
    assert!(html.contains("Payment cancelled"));
    assert_eq!(app.status(id).await, "awaiting_payment");
}

fn sign(secret: &str, body: &str, t: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={t},v1={hex}")
}

async fn post_event(app: &TestApp, body: &str, signature: Option<String>) -> u16 {
    let mut request =
        app.client.post(app.url("/webhooks/stripe")).header("content-type", "application/json").body(body.to_string());
    if let Some(s) = signature {
        request = request.header("stripe-signature", s);
    }
    request.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn webhooks_with_bad_or_stale_signatures_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let (plan_id, _) = app.some_plan().await;
    let (id, _, session_id) = app.buy_plan(&plan_id).await;
    let secret = app.payments.webhook_secret.expose_secret().to_string();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let body = json!({"id": "evt_forged", "object": "event", "type": "checkout.session.expired", "data": {"object": {"id": session_id, "object": "checkout.session"}}}).to_string();
    assert_eq!(post_event(&app, &body, None).await, 400);
    assert_eq!(post_event(&app, &body, Some(sign("whsec_wrong", &body, now))).await, 400);
    assert_eq!(post_event(&app, &body, Some(sign(&secret, &body, now - 400))).await, 400, "stale");
    assert_eq!(post_event(&app, &body, Some("t=1,v1=zz".into())).await, 400);
    assert_eq!(app.status(id).await, "awaiting_payment");

    // Correctly signed: acted on; an unknown type is acknowledged and ignored.
    assert_eq!(post_event(&app, &body, Some(sign(&secret, &body, now))).await, 200);
    assert_eq!(app.status(id).await, "expired");
    let unknown = json!({"id": "evt_unknown", "object": "event", "type": "customer.created", "data": {"object": {"id": "cus_1"}}}).to_string();
    assert_eq!(post_event(&app, &unknown, Some(sign(&secret, &unknown, now))).await, 200);
}

#[tokio::test]
async fn duplicate_and_redelivered_events_are_no_ops() {
    let app = spawn_app().await;
    let (plan_id, _) = app.some_plan().await;
    let (id, _, session_id) = app.buy_plan(&plan_id).await;
    app.stripe.duplicate_deliveries(true);
    app.pay(&session_id).await;
    app.wait_status(id, "paid").await;
    app.stripe.wait_for_deliveries().await;
    let completed = app.stripe.events().into_iter().find(|e| e["type"] == "checkout.session.completed").unwrap();
    app.stripe.redeliver(completed["id"].as_str().unwrap()).await.unwrap();
    app.stripe.wait_for_deliveries().await;
    assert_eq!(app.event_count(id, "paid").await, 1);
    let recorded: i64 = sqlx::query_scalar("select count(*) from stripe_events where id = $1")
        .bind(completed["id"].as_str().unwrap())
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(recorded, 1);
}

#[tokio::test]
async fn out_of_order_and_late_events_keep_the_order_moving_forward() {
    let app = spawn_app().await;
    let (plan_id, _) = app.some_plan().await;
    // A delayed method: completed (unpaid), then succeeded; delivered in reverse.
    let (id, _, session_id) = app.buy_plan(&plan_id).await;
    app.stripe.hold_events(true);
    app.stripe.pay_delayed(&session_id).await.unwrap();
    app.stripe.settle_delayed(&session_id, true).await.unwrap();
    app.stripe.hold_events(false);
    app.stripe.release_events(true).await;
    app.wait_status(id, "paid").await;
    app.stripe.wait_for_deliveries().await;
    assert_eq!(app.event_count(id, "paid").await, 1);

    // A late "expired" for a paid order changes nothing.
    let secret = app.payments.webhook_secret.expose_secret().to_string();
    let body = json!({"id": "evt_late_expiry", "object": "event", "type": "checkout.session.expired", "data": {"object": {"id": session_id}}}).to_string();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    assert_eq!(post_event(&app, &body, Some(sign(&secret, &body, now))).await, 200);
    assert_eq!(app.status(id).await, "paid");
}

#[tokio::test]
async fn the_webhook_and_the_success_page_racing_pay_once() {
    let app = spawn_app().await;
    let (plan_id, _) = app.some_plan().await;
    let (id, token, session_id) = app.buy_plan(&plan_id).await;
    app.stripe.hold_events(true);
    app.pay(&session_id).await;
    // Back from Stripe: the success URL with the session id, in the browser holding the cookie.
    assert!(!token.is_empty());
    let page = app.url(&format!("/orders/{id}?session_id={session_id}"));
    let mut visits = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let (client, page) = (app.client.clone(), page.clone());
        visits.spawn(async move { client.get(page).send().await.unwrap().status().as_u16() });
    }
    app.stripe.hold_events(false);
    app.stripe.release_events(false).await;
    while let Some(status) = visits.join_next().await {
        assert_eq!(status.unwrap(), 200);
    }
    app.stripe.wait_for_deliveries().await;
    assert_eq!(app.status(id).await, "paid");
    assert_eq!(app.event_count(id, "paid").await, 1);
}

#[tokio::test]
async fn a_missed_webhook_is_made_up_for_by_the_success_page() {
    let app = spawn_app().await;
    let (plan_id, _) = app.some_plan().await;
    let (id, token, session_id) = app.buy_plan(&plan_id).await;
    app.stripe.drop_next_events(1);
    app.pay(&session_id).await;
    app.stripe.wait_for_deliveries().await;
    assert_eq!(app.status(id).await, "awaiting_payment", "no webhook arrived");
    app.order_page(id, &token, &format!("&session_id={session_id}")).await;
    assert_eq!(app.status(id).await, "paid");
    // A session id that is not the order's is not used to confirm it.
    let (other, other_token, _) = app.buy_plan(&plan_id).await;
    app.order_page(other, &other_token, &format!("&session_id={session_id}")).await;
    assert_eq!(app.status(other).await, "awaiting_payment");
}

#[tokio::test]
async fn expired_declined_and_failed_payments() {
    let app = spawn_app().await;
    let (plan_id, _) = app.some_plan().await;
    let (expired, _, s1) = app.buy_plan(&plan_id).await;
    app.stripe.expire(&s1).await.unwrap();
    app.wait_status(expired, "expired").await;

    let (declined, _, s2) = app.buy_plan(&plan_id).await;
    app.stripe.decline(&s2).await.unwrap();
    app.stripe.wait_for_deliveries().await;
    assert_eq!(app.status(declined).await, "awaiting_payment");

    let (failed, _, s3) = app.buy_plan(&plan_id).await;
    app.stripe.pay_delayed(&s3).await.unwrap();
    eventually("the pending payment is on the timeline", || async {
        app.event_count(failed, "payment_pending").await == 1
    })
    .await;
    app.stripe.settle_delayed(&s3, false).await.unwrap();
    app.wait_status(failed, "payment_failed").await;
    assert_eq!(app.event_count(failed, "payment_failed").await, 1);
}

#[tokio::test]
async fn a_payment_that_does_not_match_the_order_is_flagged_not_paid() {
    let app = spawn_app().await;
    let (plan_id, _) = app.some_plan().await;
    let (id, _, session_id) = app.buy_plan(&plan_id).await;
    sqlx::query("update orders set amount_minor = amount_minor + 100 where id = $1")
        .bind(id)
        .execute(&app.pool)
        .await
        .unwrap();
    app.pay(&session_id).await;
    eventually("the order is flagged", || async { app.event_count(id, "flagged_for_review").await == 1 }).await;
    app.stripe.wait_for_deliveries().await;
    assert_eq!(app.status(id).await, "awaiting_payment");
    let needs_review: bool = sqlx::query_scalar("select needs_review from orders where id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(needs_review);
    assert_eq!(app.event_count(id, "paid").await, 0);
}

#[tokio::test]
async fn refunds_reported_by_stripe_reach_the_order() {
    let app = spawn_app().await;
    let (plan_id, price) = app.some_plan().await;
    let (id, _, session_id) = app.buy_plan(&plan_id).await;
    app.pay(&session_id).await;
    app.wait_status(id, "paid").await;
    let pi: String = sqlx::query_scalar("select stripe_payment_intent_id from orders where id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    app.payments.stripe.refund(&pi, Some(100), &format!("refund-{id}-1")).await.unwrap();
    eventually("the partial refund is noted", || async { app.event_count(id, "partially_refunded").await == 1 }).await;
    assert_eq!(app.status(id).await, "paid");
    app.payments.stripe.refund(&pi, None, &format!("refund-{id}-2")).await.unwrap();
    app.wait_status(id, "refunded").await;
    let refunded: Vec<Value> = app.stripe.events().into_iter().filter(|e| e["type"] == "charge.refunded").collect();
    assert_eq!(refunded.last().unwrap()["data"]["object"]["amount_refunded"], price);
}
