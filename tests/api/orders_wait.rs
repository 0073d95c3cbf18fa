//! Waiting for an order to settle: `GET /api/v1/orders/{id}?wait=N` answers when the order is
//! ready (woken by the lifecycle's `order_settled` announcement), as it is when the wait ends,
//! at once for a settled order or a closing server, and bad `wait` values are problems.

use std::time::Duration;

use reqwest::{Method, Response};
use serde_json::Value;
use tern::worker::JobResult;

use crate::helpers::{TestApp, eventually, spawn_app};
use crate::mobile_api::{api_order, send};

/// `GET /api/v1/orders/{id}{query}` with the order's token.
async fn read(app: &TestApp, id: &str, token: &str, query: &str) -> Response {
    send(app, Method::GET, &format!("/api/v1/orders/{id}{query}"), Some(token)).await
}

/// A read with `?wait=20` in the background, once the server holds it (its watch is taken).
async fn waiting_read(app: &TestApp, id: &str, token: &str) -> tokio::task::JoinHandle<Value> {
    let (client, url, token) =
        (app.client.clone(), app.url(&format!("/api/v1/orders/{id}?wait=20")), token.to_string());
    let before = app.state.settlements.watched();
    let read = tokio::spawn(async move {
        let response = client.get(url).bearer_auth(token).send().await.unwrap();
        assert_eq!(response.status(), 200);
        response.json::<Value>().await.unwrap()
    });
    let settlements = app.state.settlements.clone();
    eventually("the read is waiting", || async { settlements.watched() > before }).await;
    read
}

/// Bounded well under the 20 s wait: an answer within it was woken, not timed out.
async fn answer(read: tokio::task::JoinHandle<Value>) -> Value {
    tokio::time::timeout(Duration::from_secs(10), read).await.expect("answered before the wait ran out").unwrap()
}

#[tokio::test]
async fn a_waiting_read_answers_when_the_order_becomes_ready_and_not_before() {
    let app = spawn_app().await;
    let (id, token, session) = api_order(&app, None).await;
    let read = waiting_read(&app, &id, &token).await;

    app.pay(&session).await;
    app.wait_status(id.parse().unwrap(), "paid").await;
    app.stripe.wait_for_deliveries().await;
    assert!(!read.is_finished(), "paid is still in progress: the read goes on waiting");

    assert_eq!(app.run_due(&["provision_esim"]).await, 1);
    let order = answer(read).await;
    assert_eq!(order["status"], "ready", "{order}");
    assert!(order["paid_at"].is_string(), "{order}");
    assert_eq!(app.state.settlements.watched(), 0, "the finished read stopped watching");
}

#[tokio::test]
async fn a_wait_that_runs_out_answers_with_the_order_as_it_is() {
    let app = spawn_app().await;
    let (id, token, _) = api_order(&app, None).await;
    let response = read(&app, &id, &token, "?wait=1").await;
    assert_eq!(response.status(), 200);
    let order: Value = response.json().await.unwrap();
    assert_eq!(order["status"], "awaiting_payment");
    assert_eq!(app.state.settlements.watched(), 0);
}

#[tokio::test]
async fn a_settled_order_is_answered_at_once_and_so_is_every_wait_when_the_server_closes() {
    let app = spawn_app().await;
    let (ready, token) = app.paid_order().await;
    assert_eq!(app.run_due(&["provision_esim"]).await, 1);
    let order = tokio::time::timeout(Duration::from_secs(10), read(&app, &ready.to_string(), &token, "?wait=20"))
        .await
        .expect("a ready order does not wait");
    assert_eq!(order.json::<Value>().await.unwrap()["status"], "ready");

    let (id, token, _) = api_order(&app, None).await;
    let waiting = waiting_read(&app, &id, &token).await;
    drop(app); // the application shuts down as on SIGTERM: the drain does not wait 20 s
    assert_eq!(answer(waiting).await["status"], "awaiting_payment");
}

#[tokio::test]
async fn a_settlement_committed_by_another_connection_wakes_the_read() {
    // The worker here is the test's own, on its own pool connection: the wake comes through
    // PostgreSQL's NOTIFY, as from another process.
    let app = spawn_app().await;
    let (id, token, session) = api_order(&app, None).await;
    app.pay(&session).await;
    app.wait_status(id.parse().unwrap(), "paid").await;
    let read = waiting_read(&app, &id, &token).await;
    let (_, result) = app.worker().run_once().await.unwrap().expect("the provisioning job");
    assert_eq!(result, JobResult::Done);
    assert_eq!(answer(read).await["status"], "ready");
}

#[tokio::test]
async fn bad_wait_values_are_problems_naming_wait() {
    let app = spawn_app().await;
    let (id, token, _) = api_order(&app, None).await;
    for bad in ["0", "21", "abc", "-1", "", "1.5"] {
        let response = read(&app, &id, &token, &format!("?wait={bad}")).await;
        let p = crate::helpers::problem_of(response, 400).await;
        assert_eq!(p["code"], "invalid_parameter", "wait={bad}");
        assert_eq!(p["invalid_params"][0]["name"], "wait", "wait={bad}");
    }
    let doc = app.json("/api/v1/openapi.json", 200).await;
    let wait = doc["paths"]["/orders/{id}"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "wait")
        .expect("wait is documented")
        .clone();
    assert_eq!((wait["schema"]["minimum"].as_u64(), wait["schema"]["maximum"].as_u64()), (Some(1), Some(20)));
}
