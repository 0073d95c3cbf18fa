//! Webhook deliveries end to end: a purchase reaches a receiver as `order.created`,
//! `order.paid` and `esim.ready`, each verified with the `standardwebhooks` crate; replays with
//! an old timestamp fail; failures are retried on the schedule and logged per attempt; `410`
//! disables (and the dashboard shows it); a hanging endpoint delays nothing; filters, rotation and
//! recovery do what they say.

use serde_json::{Value, json};
use tern::domain::user::Role;
use tern::domain::webhook::KeyRole;

use crate::helpers::{eventually, spawn_app_with_worker};
use crate::webhooks_receiver::{Receiver, api_key, get, post, register};

#[tokio::test]
async fn a_purchase_is_delivered_as_created_paid_ready_each_verified() {
    let app = spawn_app_with_worker().await;
    let receiver = Receiver::ok().await;
    let key = api_key(&app, KeyRole::Integrator).await;
    let (_, secret) = register(&app, &key, &receiver.url, &[]).await;

    let (plan_id, _) = app.some_plan().await;
    let (order_id, _, session_id) = app.buy_plan(&plan_id).await;
    app.pay(&session_id).await;
    app.wait_ready(order_id).await;
    let mut seen = receiver.wait_for_type("esim.ready").await;

    for delivery in &seen {
        delivery.verify(&secret).expect("every delivery verifies");
        assert_eq!(delivery.json()["id"].as_str().unwrap(), delivery.id(), "webhook-id is the event id");
        assert!(delivery.headers["webhook-signature"].to_str().unwrap().starts_with("v1,"));
    }
    // Deliveries run side by side; the events' own times give their sequence.
    seen.sort_by_key(|d| d.json()["created_at"].as_str().unwrap().to_string());
    let types: Vec<String> = seen.iter().map(|d| d.event_type()).collect();
    assert_eq!(types, ["order.created", "order.paid", "esim.ready"]);
    let paid = seen[1].json();
    assert_eq!(paid["data"]["id"], order_id.to_string());
    assert_eq!(paid["data"]["status"], "paid");
    let ready = seen[2].json();
    assert_eq!(ready["data"]["object"], "esim");
    assert!(ready["data"]["iccid"].is_string());
    assert!(!String::from_utf8_lossy(&seen[2].body).contains("LPA:"), "thin: no activation code");
}

#[tokio::test]
async fn a_replayed_delivery_with_an_old_timestamp_fails_verification() {
    let app = spawn_app_with_worker().await;
    let receiver = Receiver::ok().await;
    let key = api_key(&app, KeyRole::Integrator).await;
    let (id, secret) = register(&app, &key, &receiver.url, &[]).await;
    assert_eq!(post(&app, &key, &format!("/api/v1/webhook_endpoints/{id}/test"), None).await.0, 202);
    let captured = receiver.wait_for(1).await.remove(0);
    captured.verify(&secret).expect("the fresh delivery verifies");
    assert_eq!(captured.event_type(), "ping");

    // The captured request sent again later with its timestamp moved forward: the signature
    // no longer matches.
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let signed_at: i64 = captured.headers["webhook-timestamp"].to_str().unwrap().parse().unwrap();
    let mut refreshed = captured.clone();
    refreshed.headers.insert("webhook-timestamp", (signed_at + 60).to_string().parse().unwrap());
    assert!(matches!(refreshed.verify(&secret), Err(standardwebhooks::WebhookError::InvalidSignature)));
    // With its own (old) timestamp it is too old.
    let old = now - 600;
    let webhook = standardwebhooks::Webhook::new(&secret).unwrap();
    let signature = webhook.sign(&captured.id(), old, &captured.body).unwrap();
    let mut replayed = captured.clone();
    replayed.headers.insert("webhook-timestamp", old.to_string().parse().unwrap());
    replayed.headers.insert("webhook-signature", signature.parse().unwrap());
    assert!(matches!(replayed.verify(&secret), Err(standardwebhooks::WebhookError::TimestampTooOldError)));
}

#[tokio::test]
async fn an_endpoint_answering_500_then_200_gets_one_event_twice_logged_as_two_attempts() {
    let app = spawn_app_with_worker().await;
    let receiver = Receiver::answering(&[500]).await;
    let key = api_key(&app, KeyRole::Integrator).await;
    let (id, secret) = register(&app, &key, &receiver.url, &[]).await;
    post(&app, &key, &format!("/api/v1/webhook_endpoints/{id}/test"), None).await;

    // The second attempt follows the schedule's 5 s (with jitter).
    let seen = receiver.wait_for(2).await;
    assert_eq!(seen[0].id(), seen[1].id(), "one event, the same webhook-id on the retry");
    seen[1].verify(&secret).unwrap();
    let path = format!("/api/v1/webhook_endpoints/{id}/deliveries");
    eventually("both attempts are logged", || async {
        get(&app, &key, &path).await.1["data"].as_array().unwrap().len() == 2
    })
    .await;
    let log = get(&app, &key, &path).await.1;
    let attempts = log["data"].as_array().unwrap();
    let (second, first) = (&attempts[0], &attempts[1]);
    assert_eq!((first["status_code"].as_i64(), first["succeeded"].as_bool()), (Some(500), Some(false)));
    assert_eq!((second["status_code"].as_i64(), second["succeeded"].as_bool()), (Some(200), Some(true)));
    assert_eq!((first["attempt"].as_i64(), second["attempt"].as_i64()), (Some(1), Some(2)));
    assert_eq!(first["event_id"], second["event_id"]);
    assert!(first["latency_ms"].as_i64().unwrap() >= 0);
    let endpoint = get(&app, &key, &format!("/api/v1/webhook_endpoints/{id}")).await.1;
    assert!(endpoint["failing_since"].is_null(), "the success ended the failure streak");
}

#[tokio::test]
async fn gone_disables_the_endpoint_and_the_dashboard_shows_it() {
    let app = spawn_app_with_worker().await;
    let receiver = Receiver::answering(&[410]).await;
    let key = api_key(&app, KeyRole::Integrator).await;
    let (id, _) = register(&app, &key, &receiver.url, &[]).await;
    post(&app, &key, &format!("/api/v1/webhook_endpoints/{id}/test"), None).await;
    let path = format!("/api/v1/webhook_endpoints/{id}");
    eventually("the endpoint is disabled", || async { get(&app, &key, &path).await.1["enabled"] == json!(false) })
        .await;
    let endpoint = get(&app, &key, &path).await.1;
    assert!(endpoint["disabled_reason"].as_str().unwrap().contains("410"));
    assert_eq!(receiver.seen().len(), 1, "not retried");

    // Nothing more is sent to it: a test is refused, an order's events are not queued for it.
    let (status, problem) = post(&app, &key, &format!("/api/v1/webhook_endpoints/{id}/test"), None).await;
    assert_eq!((status, problem["code"].as_str()), (409, Some("endpoint_disabled")));
    app.sign_in_as(Role::Admin).await;
    let dashboard = app.page("/admin", 200).await;
    assert!(dashboard.contains(&receiver.url), "the disabled endpoint is on the dashboard");
    assert!(dashboard.contains("410"));
}

#[tokio::test]
async fn a_hanging_endpoint_delays_neither_the_order_nor_other_endpoints() {
    let app = spawn_app_with_worker().await;
    let hanging = Receiver::hanging().await;
    let fine = Receiver::ok().await;
    let key = api_key(&app, KeyRole::Integrator).await;
    let (hanging_id, _) = register(&app, &key, &hanging.url, &[]).await;
    register(&app, &key, &fine.url, &[]).await;

    let (plan_id, _) = app.some_plan().await;
    let (order_id, _, session_id) = app.buy_plan(&plan_id).await;
    app.pay(&session_id).await;
    app.wait_ready(order_id).await;
    fine.wait_for_type("esim.ready").await;
    assert!(!hanging.seen().is_empty(), "the hanging endpoint was reached");
    let log = get(&app, &key, &format!("/api/v1/webhook_endpoints/{hanging_id}/deliveries")).await.1;
    assert!(log["data"].as_array().unwrap().is_empty(), "its attempts are still waiting for an answer");
}

#[tokio::test]
async fn a_filter_excludes_the_types_not_selected() {
    let app = spawn_app_with_worker().await;
    let receiver = Receiver::ok().await;
    let key = api_key(&app, KeyRole::Integrator).await;
    let (id, _) = register(&app, &key, &receiver.url, &["esim.ready"]).await;
    let order_id = {
        let (plan_id, _) = app.some_plan().await;
        let (order_id, _, session_id) = app.buy_plan(&plan_id).await;
        app.pay(&session_id).await;
        app.wait_ready(order_id).await;
        order_id
    };
    let seen = receiver.wait_for_type("esim.ready").await;
    assert_eq!(seen.len(), 1, "only esim.ready");
    let queued: i64 = sqlx::query_scalar("select count(*) from jobs where kind = 'deliver_webhook' and key like $1")
        .bind(format!("%:{id}"))
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(queued, 1, "nothing else was even queued for it");
    assert_eq!(seen[0].json()["data"]["order_id"], order_id.to_string());
}

#[tokio::test]
async fn a_rotation_sends_two_signatures_one_per_secret() {
    let app = spawn_app_with_worker().await;
    let receiver = Receiver::ok().await;
    let key = api_key(&app, KeyRole::Integrator).await;
    let (id, old_secret) = register(&app, &key, &receiver.url, &[]).await;
    let (status, rotated) = post(&app, &key, &format!("/api/v1/webhook_endpoints/{id}/rotate_secret"), None).await;
    assert_eq!(status, 200);
    let new_secret = rotated["secret"].as_str().unwrap().to_string();
    assert_ne!(new_secret, old_secret);
    assert!(new_secret.starts_with("whsec_"));
    assert!(rotated["previous_secret_expires_at"].is_string(), "the overlap is shown");

    post(&app, &key, &format!("/api/v1/webhook_endpoints/{id}/test"), None).await;
    let delivery = receiver.wait_for(1).await.remove(0);
    let signatures = delivery.headers["webhook-signature"].to_str().unwrap().to_string();
    assert_eq!(signatures.split(' ').filter(|s| s.starts_with("v1,")).count(), 2, "{signatures}");
    delivery.verify(&new_secret).expect("verifies with the new secret");
    delivery.verify(&old_secret).expect("and with the old one during the overlap");
    let (_, listed) = get(&app, &key, &format!("/api/v1/webhook_endpoints/{id}")).await;
    assert!(listed.get("secret").is_none(), "a secret is only shown when made");
}

#[tokio::test]
async fn recover_sends_again_everything_since_a_time() {
    let app = spawn_app_with_worker().await;
    let receiver = Receiver::ok().await;
    let key = api_key(&app, KeyRole::Integrator).await;
    let (id, _) = register(&app, &key, &receiver.url, &[]).await;
    let test = format!("/api/v1/webhook_endpoints/{id}/test");
    post(&app, &key, &test, None).await;
    let first = receiver.wait_for(1).await.remove(0);
    post(&app, &key, &test, None).await;
    let second = receiver.wait_for(2).await.remove(1);
    assert_ne!(first.id(), second.id());

    let since = second.json()["created_at"].clone();
    let recover = format!("/api/v1/webhook_endpoints/{id}/recover");
    let (status, answer) = post(&app, &key, &recover, Some(json!({ "since": since }))).await;
    assert_eq!((status, answer["queued"].as_i64()), (202, Some(1)));
    let seen = receiver.wait_for(3).await;
    assert_eq!(seen[2].id(), second.id(), "the event since that time, sent again with its own id");

    let (_, answer) = post(&app, &key, &recover, Some(json!({ "since": first.json()["created_at"] }))).await;
    assert_eq!(answer["queued"].as_i64(), Some(2));
    let seen = receiver.wait_for(5).await;
    let mut resent: Vec<String> = seen[3..].iter().map(|r| r.id()).collect();
    resent.sort();
    let mut expected = vec![first.id(), second.id()];
    expected.sort();
    assert_eq!(resent, expected);
}

#[tokio::test]
async fn a_logged_delivery_can_be_retried() {
    let app = spawn_app_with_worker().await;
    let receiver = Receiver::ok().await;
    let key = api_key(&app, KeyRole::Integrator).await;
    let (id, _) = register(&app, &key, &receiver.url, &[]).await;
    post(&app, &key, &format!("/api/v1/webhook_endpoints/{id}/test"), None).await;
    let first = receiver.wait_for(1).await.remove(0);
    let path = format!("/api/v1/webhook_endpoints/{id}/deliveries");
    eventually("the attempt is logged", || async {
        !get(&app, &key, &path).await.1["data"].as_array().unwrap().is_empty()
    })
    .await;
    let attempt: Value = get(&app, &key, &path).await.1["data"][0].clone();
    let (status, _) = post(&app, &key, &format!("/api/v1/webhook_deliveries/{}/retry", attempt["id"]), None).await;
    assert_eq!(status, 202);
    let again = receiver.wait_for(2).await.remove(1);
    assert_eq!(again.id(), first.id());
}
