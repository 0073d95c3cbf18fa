//! Fulfilment under Stripe's delivery order and Telnyx's call budget: refunds that arrive
//! before the payment, events for sessions Stripe does not know, one event id delivered twice
//! at once, and the Telnyx calls one order costs.

use hmac::{Hmac, KeyInit, Mac};
use secrecy::ExposeSecret;
use serde_json::json;
use sha2::Sha256;
use uuid::Uuid;

use crate::helpers::{TestApp, eventually, spawn_app};

fn sign(secret: &str, body: &str) -> String {
    let t = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={t},v1={hex}")
}

/// POSTs `body` to the webhook, signed with the app's secret; returns the status.
async fn post_signed(app: &TestApp, body: &str) -> u16 {
    let signature = sign(app.payments.webhook_secret.expose_secret(), body);
    let request = app
        .client
        .post(app.url("/webhooks/stripe"))
        .header("content-type", "application/json")
        .header("stripe-signature", signature)
        .body(body.to_string());
    request.send().await.unwrap().status().as_u16()
}

async fn recorded(app: &TestApp, event_id: &str) -> i64 {
    sqlx::query_scalar("select count(*) from stripe_events where id = $1")
        .bind(event_id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

async fn provision_jobs(app: &TestApp, id: Uuid) -> i64 {
    sqlx::query_scalar("select count(*) from jobs where order_id = $1 and kind = 'provision_esim'")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// An order whose session is paid at Stripe while its events are held; (order id, session id,
/// payment intent).
async fn paid_at_stripe_events_held(app: &TestApp) -> (Uuid, String, String) {
    let (plan_id, _) = app.some_plan().await;
    let (id, _, session_id) = app.buy_plan(&plan_id).await;
    app.stripe.hold_events(true);
    app.pay(&session_id).await;
    let pi = app.stripe.session(&session_id).unwrap()["payment_intent"].as_str().unwrap().to_string();
    (id, session_id, pi)
}

#[tokio::test]
async fn a_full_refund_reported_before_the_payment_ends_refunded_and_buys_nothing() {
    let app = spawn_app().await;
    let (id, _, pi) = paid_at_stripe_events_held(&app).await;
    app.payments.stripe.refund(&pi, None, &format!("early-{id}")).await.unwrap();
    // charge.refunded is delivered before checkout.session.completed.
    app.stripe.hold_events(false);
    app.stripe.release_events(true).await;
    app.stripe.wait_for_deliveries().await;
    app.wait_status(id, "refunded").await;
    assert_eq!(app.event_count(id, "paid").await, 1);
    assert_eq!(app.event_count(id, "refunded").await, 1);
    assert_eq!(provision_jobs(&app, id).await, 0, "no eSIM to buy");
    assert!(app.worker().run_once().await.unwrap().is_none(), "no job");
    assert_eq!(app.telnyx.purchases(), 0);
    assert!(app.telnyx.sims().is_empty());
    assert_eq!(app.status(id).await, "refunded");
}

#[tokio::test]
async fn a_full_refund_made_in_stripe_after_the_esim_was_ready_disables_the_sim() {
    let app = spawn_app().await;
    let id = app.ready_order().await;
    let pi = app.payment_intent(id).await;
    // Refunded in Stripe's dashboard: only its charge.refunded reaches Tern.
    app.payments.stripe.refund(&pi, None, &format!("dashboard-{id}")).await.unwrap();
    app.wait_status(id, "refunded").await;
    assert_eq!(app.run_due(&["disable_esim"]).await, 1);
    assert_eq!(app.telnyx.sims()[0]["status"]["value"], "disabled");
    assert_eq!(app.event_count(id, "sim_disabled").await, 1);
    let status: String = sqlx::query_scalar("select telnyx_status from esims where order_id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(status, "disabled");
    // One job did it: the refund queued it in its own transaction.
    let jobs: i64 = sqlx::query_scalar("select count(*) from jobs where order_id = $1 and kind = 'disable_esim'")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(jobs, 1);
}

#[tokio::test]
async fn a_partial_refund_reported_before_the_payment_is_kept_and_noted() {
    let app = spawn_app().await;
    let (id, _, pi) = paid_at_stripe_events_held(&app).await;
    app.payments.stripe.refund(&pi, Some(100), &format!("early-{id}")).await.unwrap();
    app.stripe.hold_events(false);
    app.stripe.release_events(true).await;
    app.stripe.wait_for_deliveries().await;
    app.wait_status(id, "paid").await;
    eventually("the partial refund is noted", || async { app.event_count(id, "partially_refunded").await == 1 }).await;
    assert_eq!(app.refunded_minor(id).await, 100);
    assert_eq!(provision_jobs(&app, id).await, 1, "the rest is still sold");
}

#[tokio::test]
async fn an_event_for_a_session_stripe_does_not_know_is_acknowledged_and_recorded() {
    let app = spawn_app().await;
    let body = json!({"id": "evt_unknown_session", "object": "event", "type": "checkout.session.completed",
        "data": {"object": {"id": "cs_test_nobody_knows", "object": "checkout.session"}}})
    .to_string();
    assert_eq!(post_signed(&app, &body).await, 200);
    assert_eq!(recorded(&app, "evt_unknown_session").await, 1);
    assert_eq!(post_signed(&app, &body).await, 200, "a redelivery is a no-op");

    // Stripe itself failing is still worth a retry: 5xx, nothing recorded.
    let (plan_id, _) = app.some_plan().await;
    let (id, _, session_id) = app.buy_plan(&plan_id).await;
    app.stripe.hold_events(true);
    app.pay(&session_id).await;
    app.stripe.fail_next_requests(500, 10, Some(true));
    let body = json!({"id": "evt_stripe_down", "object": "event", "type": "checkout.session.completed",
        "data": {"object": {"id": session_id, "object": "checkout.session"}}})
    .to_string();
    assert_eq!(post_signed(&app, &body).await, 500);
    assert_eq!(recorded(&app, "evt_stripe_down").await, 0);
    app.stripe.fail_next_requests(500, 0, None);
    assert_eq!(post_signed(&app, &body).await, 200, "Stripe's retry");
    assert_eq!(app.status(id).await, "paid");
}

#[tokio::test]
async fn one_event_id_delivered_twice_at_once_is_handled_once() {
    let app = spawn_app().await;
    let (id, session_id, pi) = paid_at_stripe_events_held(&app).await;
    let completed = json!({"id": "evt_twice_paid", "object": "event", "type": "checkout.session.completed",
        "data": {"object": {"id": session_id, "object": "checkout.session"}}})
    .to_string();
    let (a, b) = tokio::join!(post_signed(&app, &completed), post_signed(&app, &completed));
    assert_eq!((a, b), (200, 200));
    assert_eq!(app.event_count(id, "paid").await, 1);
    assert_eq!(recorded(&app, "evt_twice_paid").await, 1);

    // A partial refund: handling it twice would note it twice.
    let refunded = json!({"id": "evt_twice_refund", "object": "event", "type": "charge.refunded",
        "data": {"object": {"id": "ch_twice", "object": "charge", "payment_intent": pi,
            "amount_refunded": 100, "refunded": false, "metadata": {"order_id": id.to_string()}}}})
    .to_string();
    let (a, b) = tokio::join!(post_signed(&app, &refunded), post_signed(&app, &refunded));
    assert_eq!((a, b), (200, 200));
    assert_eq!(app.event_count(id, "partially_refunded").await, 1);
    assert_eq!(recorded(&app, "evt_twice_refund").await, 1);
}

#[tokio::test]
async fn the_happy_path_costs_three_telnyx_calls() {
    let app = spawn_app().await;
    let (plan_id, _) = app.some_plan().await;
    let id = app.ready_order_of(&plan_id).await;
    assert_eq!(app.status(id).await, "ready");
    let calls: Vec<String> = app.telnyx.requests().iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    assert_eq!(calls.len(), 3, "{calls:?}");
    assert!(calls[0].starts_with("POST /actions/purchase/esims"), "{calls:?}");
    assert!(calls[1].starts_with("PATCH /sim_cards/"), "{calls:?}");
    assert!(calls[2].starts_with("GET /sim_cards/") && calls[2].ends_with("/activation_code"), "{calls:?}");
    let status: Option<String> = sqlx::query_scalar("select telnyx_status from esims where order_id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(status.is_some_and(|s| !s.is_empty()), "the SIM's status is known without a read of its own");
}
