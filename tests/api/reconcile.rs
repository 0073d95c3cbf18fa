//! Reconciling with Stripe: a completion or refund whose webhook never arrived, and an expiry
//! nobody was told of, are recovered by the sweep or by reading the order.

use std::time::Duration;

use tern::services::reconcile::{self, SweepReport};
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app};

/// A sweep as if two minutes had passed, past the webhook's head start.
async fn sweep_later(app: &TestApp) -> SweepReport {
    let later = time::OffsetDateTime::now_utc() + Duration::from_secs(120);
    reconcile::sweep_at(&app.pool, &app.payments, later).await.expect("the sweep runs")
}

/// An order whose next Stripe event is dropped, not delivered.
async fn order_with_dropped_event(app: &TestApp) -> (Uuid, String, String) {
    let (plan_id, _) = app.some_plan().await;
    let order = app.buy_plan(&plan_id).await;
    app.stripe.drop_next_events(1);
    order
}

async fn provision_jobs(app: &TestApp, id: Uuid) -> i64 {
    sqlx::query_scalar("select count(*) from jobs where order_id = $1 and kind = 'provision_esim'")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_sweep_confirms_a_payment_whose_webhook_was_dropped() {
    let app = spawn_app().await;
    let (id, _, session_id) = order_with_dropped_event(&app).await;
    app.pay(&session_id).await;
    app.stripe.wait_for_deliveries().await;
    assert_eq!(app.status(id).await, "awaiting_payment", "no webhook arrived");

    let report = sweep_later(&app).await;
    assert!(report.ran);
    assert_eq!((report.sessions_checked, report.paid), (1, 1), "{report:?}");
    assert_eq!(app.status(id).await, "paid");
    assert_eq!(app.event_count(id, "paid").await, 1);
    assert_eq!(provision_jobs(&app, id).await, 1);

    let again = sweep_later(&app).await;
    assert_eq!((again.sessions_checked, again.paid, again.events_handled), (0, 0, 0), "{again:?}");
    assert_eq!(app.event_count(id, "paid").await, 1);
}

#[tokio::test]
async fn the_sweep_leaves_a_fresh_checkout_to_the_webhook_and_runs_once_at_a_time() {
    let app = spawn_app().await;
    let (plan_id, _) = app.some_plan().await;
    let (id, _, _) = app.buy_plan(&plan_id).await;
    let now = reconcile::sweep(&app.pool, &app.payments).await.unwrap();
    assert_eq!(now.sessions_checked, 0, "not before a minute has passed");
    assert_eq!(sweep_later(&app).await.sessions_checked, 1, "an open session is read, and left open");
    assert_eq!(app.status(id).await, "awaiting_payment");

    // Another process holds the sweep's lock: this one does nothing.
    let mut other = app.pool.begin().await.unwrap();
    let held: bool = sqlx::query_scalar("select pg_try_advisory_xact_lock($1)")
        .bind(tern::db::reconcile::SWEEP_LOCK)
        .fetch_one(&mut *other)
        .await
        .unwrap();
    assert!(held);
    assert_eq!(sweep_later(&app).await, SweepReport::default());
    other.rollback().await.unwrap();
    assert!(sweep_later(&app).await.ran);
}

#[tokio::test]
async fn the_sweep_closes_an_expired_session_nobody_was_told_of() {
    let app = spawn_app().await;
    let (id, _, session_id) = order_with_dropped_event(&app).await;
    app.stripe.expire(&session_id).await.unwrap();
    app.stripe.wait_for_deliveries().await;
    assert_eq!(app.status(id).await, "awaiting_payment", "no webhook arrived");

    let report = sweep_later(&app).await;
    assert_eq!(report.closed, 1, "{report:?}");
    assert_eq!(app.status(id).await, "expired");
    assert_eq!(app.event_count(id, "expired").await, 1);
}

#[tokio::test]
async fn a_missed_refund_is_caught_up_from_the_events_list() {
    let app = spawn_app().await;
    let (id, _) = app.paid_order().await;
    let payment_intent: String = sqlx::query_scalar("select stripe_payment_intent_id from orders where id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    // Refunded in Stripe's dashboard; neither `charge.refunded` nor `refund.created` arrives.
    app.stripe.drop_next_events(2);
    app.payments.stripe.refund(&payment_intent, None, "dashboard-refund").await.unwrap();
    app.stripe.wait_for_deliveries().await;
    assert_eq!(app.status(id).await, "paid", "no webhook arrived");

    let report = reconcile::sweep(&app.pool, &app.payments).await.unwrap();
    assert_eq!(report.events_handled, 2, "the two missed events; the delivered one is known: {report:?}");
    assert_eq!(app.status(id).await, "refunded");
    assert_eq!(app.event_count(id, "refunded").await, 1);

    // The cursor moved on: nothing is handled twice.
    let again = reconcile::sweep(&app.pool, &app.payments).await.unwrap();
    assert_eq!(again.events_handled, 0);
    assert_eq!(app.event_count(id, "refunded").await, 1);
}

async fn api_status(app: &TestApp, id: Uuid, token: &str) -> String {
    let response = app.client.get(app.url(&format!("/api/v1/orders/{id}"))).bearer_auth(token).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    body["status"].as_str().unwrap().to_string()
}

/// What `READ_CHECK_INTERVAL` brings: the order was first read waiting that long ago.
async fn first_read_long_ago(app: &TestApp, id: Uuid) {
    let moved = sqlx::query(
        "update order_payment_checks set checked_at = checked_at - interval '1 minute' where order_id = $1",
    )
    .bind(id)
    .execute(&app.pool)
    .await
    .unwrap();
    assert_eq!(moved.rows_affected(), 1, "the first read was recorded");
}

#[tokio::test]
async fn reading_an_order_through_the_api_confirms_a_dropped_payment() {
    let app = spawn_app().await;
    let (id, token, session_id) = order_with_dropped_event(&app).await;
    app.pay(&session_id).await;
    app.stripe.wait_for_deliveries().await;
    assert_eq!(app.status(id).await, "awaiting_payment", "no webhook arrived");

    // Read right after paying, the webhook may still be on its way: Stripe is not asked yet.
    let asked = app.stripe.session_reads();
    assert_eq!(api_status(&app, id, &token).await, "awaiting_payment");
    assert_eq!(app.stripe.session_reads(), asked, "no Stripe read on the first poll");
    // Still waiting at a read the interval later: confirmed from Stripe's record.
    first_read_long_ago(&app, id).await;
    assert_eq!(api_status(&app, id, &token).await, "paid");
    assert_eq!(app.event_count(id, "paid").await, 1);
    assert_eq!(provision_jobs(&app, id).await, 1);
}

#[tokio::test]
async fn confirming_on_read_asks_stripe_at_most_once_per_interval() {
    let app = spawn_app().await;
    let (id, token, session_id) = order_with_dropped_event(&app).await;
    assert_eq!(api_status(&app, id, &token).await, "awaiting_payment", "first read: the clock starts");
    first_read_long_ago(&app, id).await;
    assert_eq!(api_status(&app, id, &token).await, "awaiting_payment", "open: asked, nothing to confirm");
    app.pay(&session_id).await;
    app.stripe.wait_for_deliveries().await;
    assert_eq!(api_status(&app, id, &token).await, "awaiting_payment", "asked a moment ago: not again yet");

    // The interval has passed.
    first_read_long_ago(&app, id).await;
    assert_eq!(api_status(&app, id, &token).await, "paid");
}

#[tokio::test]
async fn the_order_page_confirms_a_dropped_payment() {
    let app = spawn_app().await;
    let (id, token, session_id) = order_with_dropped_event(&app).await;
    app.pay(&session_id).await;
    app.stripe.wait_for_deliveries().await;
    // Opened later from the e-mail, not from Stripe's redirect (no session id), and open (or
    // its status polled) still waiting a while later.
    app.order_page(id, &token, "").await;
    assert_eq!(app.status(id).await, "awaiting_payment", "the first read starts the clock");
    first_read_long_ago(&app, id).await;
    app.order_page(id, &token, "").await;
    assert_eq!(app.status(id).await, "paid");
}
