//! The orders API: idempotent creates, reading an order with its token, and bad input.

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

async fn plan_id(app: &TestApp) -> String {
    app.json("/api/v1/plans?per_page=1", 200).await["data"][0]["id"].as_str().unwrap().to_string()
}

/// A high-entropy Idempotency-Key named by `label` (the same label, the same key).
fn key(label: &str) -> String {
    tern::domain::token::sha256(label.as_bytes())[..16].iter().map(|b| format!("{b:02x}")).collect()
}

async fn create(app: &TestApp, key: Option<&str>, body: &Value) -> (u16, Value, String) {
    let mut request = app.client.post(app.url("/api/v1/orders")).json(body);
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response.headers()["content-type"].to_str().unwrap().to_string();
    (status, response.json().await.unwrap(), content_type)
}

async fn orders_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from orders").fetch_one(&app.pool).await.unwrap()
}

#[tokio::test]
async fn creating_an_order_is_idempotent_per_key() {
    let app = spawn_app().await;
    let body = json!({"plan_id": plan_id(&app).await, "email": "app@example.com"});
    let (status, first, content_type) = create(&app, Some(&key("key-1")), &body).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(content_type, "application/json");
    assert_eq!(first["status"], "awaiting_payment");
    assert!(first["checkout_url"].as_str().unwrap().starts_with(&app.stripe.base_url()));
    assert_eq!(first["access_token"].as_str().unwrap().len(), 43);

    let (status, again, _) = create(&app, Some(&key("key-1")), &body).await;
    assert_eq!(status, 201);
    assert_eq!(again, first, "same key, same body: the same answer");
    assert_eq!(orders_count(&app).await, 1);

    let other = json!({"plan_id": body["plan_id"], "email": "someone.else@example.com"});
    let (status, problem, content_type) = create(&app, Some(&key("key-1")), &other).await;
    assert_eq!(status, 422);
    assert_eq!(content_type, "application/problem+json");
    assert_eq!(problem["code"], "idempotency_key_reused");
    assert_eq!(orders_count(&app).await, 1);

    let (status, second, _) = create(&app, Some(&key("key-2")), &body).await;
    assert_eq!(status, 201);
    assert_ne!(second["id"], first["id"]);
}

#[tokio::test]
async fn a_key_older_than_24_hours_starts_over_with_a_new_order() {
    let app = spawn_app().await;
    let body = json!({"plan_id": plan_id(&app).await, "email": "app@example.com"});
    let (_, first, _) = create(&app, Some(&key("old-key")), &body).await;
    sqlx::query("update api_idempotency set created_at = now() - interval '25 hours'")
        .execute(&app.pool)
        .await
        .unwrap();
    // The claim that purges the other expired keys takes this one over, in one statement.
    let (status, again, _) = create(&app, Some(&key("old-key")), &body).await;
    assert_eq!(status, 201, "{again}");
    assert_ne!(again["id"], first["id"], "an expired key is not replayed");
    assert_eq!(orders_count(&app).await, 2);
    let (_, replayed, _) = create(&app, Some(&key("old-key")), &body).await;
    assert_eq!(replayed["id"], again["id"], "and is kept again from now");
}

#[tokio::test]
async fn an_order_is_read_back_with_its_token_only() {
    let app = spawn_app().await;
    let body = json!({"plan_id": plan_id(&app).await, "email": "app@example.com"});
    let (_, created, _) = create(&app, Some(&key("k")), &body).await;
    let path = format!("/api/v1/orders/{}", created["id"].as_str().unwrap());
    let token = created["access_token"].as_str().unwrap();
    let response = app.client.get(app.url(&path)).bearer_auth(token).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let order: Value = response.json().await.unwrap();
    assert_eq!(order["id"], created["id"]);
    assert_eq!(order["amount"], created["amount"]);
    let kinds: Vec<&str> = order["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["created", "checkout_started"]);
    assert_eq!(order["events"], created["events"], "the answer to the create has the timeline as it is read back");
    assert!(order.get("access_token").is_none(), "the token is shown once");

    let p = app.problem(&path, 401).await;
    assert_eq!(p["code"], "unauthorized");
    let response = app.client.get(app.url(&path)).bearer_auth("wrong").send().await.unwrap();
    assert_eq!(response.status(), 404, "a wrong token does not reveal the order");
    let response = app
        .client
        .get(app.url("/api/v1/orders/00000000-0000-0000-0000-000000000000"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn bad_creates_are_problems_and_create_nothing() {
    let app = spawn_app().await;
    let plan = plan_id(&app).await;
    let (status, p, _) = create(&app, None, &json!({"plan_id": plan, "email": "a@b.co"})).await;
    assert_eq!((status, p["code"].as_str()), (400, Some("idempotency_key_missing")));

    let (status, p, _) = create(&app, Some(&key("e1")), &json!({"plan_id": plan, "email": "not-an-email"})).await;
    assert_eq!(status, 422);
    assert_eq!(p["code"], "validation_failed");
    assert_eq!(p["invalid_params"][0]["name"], "email");

    let (status, p, _) =
        create(&app, Some(&key("e2")), &json!({"plan_id": "00000000-0000-0000-0000-000000000000", "email": "a@b.co"}))
            .await;
    assert_eq!((status, p["code"].as_str()), (404, Some("not_found")));

    let (retired,): (uuid::Uuid,) =
        sqlx::query_as("select id from plans where not on_sale limit 1").fetch_one(&app.pool).await.unwrap();
    let (status, p, _) = create(&app, Some(&key("e3")), &json!({"plan_id": retired, "email": "a@b.co"})).await;
    assert_eq!((status, p["code"].as_str()), (409, Some("plan_not_on_sale")));

    let (status, p, _) = create(&app, Some(&key("e4")), &json!({"plan": plan})).await;
    assert_eq!((status, p["code"].as_str()), (400, Some("invalid_body")));

    let response = app
        .client
        .post(app.url("/api/v1/orders"))
        .header("idempotency-key", key("e5"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(response.headers()["content-type"], "application/problem+json");

    let huge = json!({"plan_id": plan, "email": "x".repeat(100 * 1024)});
    let (status, p, _) = create(&app, Some(&key("e6")), &huge).await;
    assert_eq!((status, p["code"].as_str()), (413, Some("payload_too_large")));

    assert_eq!(orders_count(&app).await, 0);
}
