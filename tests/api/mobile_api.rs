//! The mobile API, complete: cancelling an unpaid order, an account's eSIMs, refreshing a
//! SIM's status, account tokens on their own orders only, rate limits on every write, and
//! problem documents for every client error.

use reqwest::{Method, Response};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, problem_of, spawn_app};

/// A new account signed in from the app: (its email, its bearer token).
async fn account(app: &TestApp, name: &str) -> (String, String) {
    let email = format!("{name}-{}@example.com", Uuid::new_v4().simple());
    let password = "a long enough password";
    let hash = tern::services::accounts::hash_password(password.to_string()).await.unwrap();
    tern::db::users::create(&app.pool, &email, &hash, tern::domain::user::Role::Customer).await.unwrap().unwrap();
    let response = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let token: Value = response.json().await.unwrap();
    (email, token["token"].as_str().unwrap().to_string())
}

pub(crate) async fn send(app: &TestApp, method: Method, path: &str, bearer: Option<&str>) -> Response {
    let mut request = app.client.request(method, app.url(path));
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

/// An order created through the API (for the account of `bearer`, if given): (id, access
/// token, Checkout Session id).
pub(crate) async fn api_order(app: &TestApp, bearer: Option<&str>) -> (String, String, String) {
    let (plan_id, _) = app.some_plan().await;
    let mut request = app
        .client
        .post(app.url("/api/v1/orders"))
        .header("idempotency-key", Uuid::new_v4().to_string())
        .json(&json!({"plan_id": plan_id, "email": "app@example.com"}));
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    let session = created["checkout_url"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
    (created["id"].as_str().unwrap().to_string(), created["access_token"].as_str().unwrap().to_string(), session)
}

#[tokio::test]
async fn cancelling_an_unpaid_order_expires_its_checkout_session() {
    let app = spawn_app().await;
    let (id, token, session) = api_order(&app, None).await;
    let response = send(&app, Method::POST, &format!("/api/v1/orders/{id}/cancel"), Some(&token)).await;
    assert_eq!(response.status(), 200);
    let order: Value = response.json().await.unwrap();
    assert_eq!(order["status"], "expired");
    assert!(order["events"].as_array().unwrap().iter().any(|e| e["type"] == "cancelled" && e["actor"] == "traveller"));
    assert_eq!(app.stripe.session(&session).unwrap()["status"], "expired", "expired at Stripe too");
    assert!(app.stripe.pay(&session).await.is_err(), "it can no longer be paid");
    assert_eq!(app.event_count(id.parse().unwrap(), "cancelled").await, 1);

    let again =
        problem_of(send(&app, Method::POST, &format!("/api/v1/orders/{id}/cancel"), Some(&token)).await, 409).await;
    assert_eq!(again["code"], "not_unpaid");
    assert_eq!(app.event_count(id.parse().unwrap(), "cancelled").await, 1, "nothing more was written");
}

#[tokio::test]
async fn a_paid_order_cannot_be_cancelled() {
    let app = spawn_app().await;
    let (id, token) = app.paid_order().await;
    let refused =
        problem_of(send(&app, Method::POST, &format!("/api/v1/orders/{id}/cancel"), Some(&token)).await, 409).await;
    assert_eq!(refused["code"], "not_unpaid");
    assert_eq!(app.status(id).await, "paid");
    assert_eq!(app.event_count(id, "cancelled").await, 0);
}

#[tokio::test]
async fn an_account_token_opens_its_own_orders_and_no_one_elses() {
    let app = spawn_app().await;
    let (_, mine) = account(&app, "owner").await;
    let (_, theirs) = account(&app, "other").await;
    let (id, _, session) = api_order(&app, Some(&mine)).await;

    let order: Value =
        send(&app, Method::GET, &format!("/api/v1/orders/{id}"), Some(&mine)).await.json().await.unwrap();
    assert_eq!(order["id"], id.as_str());
    let not_ready =
        problem_of(send(&app, Method::GET, &format!("/api/v1/orders/{id}/esim"), Some(&mine)).await, 409).await;
    assert_eq!(not_ready["code"], "esim_not_ready");

    for path in [format!("/api/v1/orders/{id}"), format!("/api/v1/orders/{id}/esim")] {
        let hidden = problem_of(send(&app, Method::GET, &path, Some(&theirs)).await, 404).await;
        assert!(!hidden.to_string().contains("app@example.com"), "nothing of the order leaks: {hidden}");
    }
    problem_of(send(&app, Method::POST, &format!("/api/v1/orders/{id}/cancel"), Some(&theirs)).await, 404).await;
    assert_eq!(app.status(id.parse().unwrap()).await, "awaiting_payment", "the other account cancelled nothing");

    app.pay(&session).await;
    app.wait_status(id.parse().unwrap(), "paid").await;
    app.worker().run_once().await.unwrap();
    let response = send(&app, Method::GET, &format!("/api/v1/orders/{id}/esim"), Some(&mine)).await;
    assert_eq!(response.status(), 200);
    let esim: Value = response.json().await.unwrap();
    assert!(esim["activation_code"].as_str().unwrap().starts_with("LPA:1$"));
    assert_eq!(esim["qr_png_url"], format!("/orders/{id}/qr.png"), "an account token never goes into a URL");
}

#[tokio::test]
async fn me_esims_lists_the_accounts_esims_with_their_status() {
    let app = spawn_app().await;
    let (_, mine) = account(&app, "owner").await;
    let (_, theirs) = account(&app, "other").await;
    let (ready, _, session) = api_order(&app, Some(&mine)).await;
    api_order(&app, Some(&mine)).await; // unpaid: no eSIM yet
    let (_, _, other_session) = api_order(&app, Some(&theirs)).await;
    for s in [&session, &other_session] {
        app.pay(s).await;
    }
    app.wait_status(ready.parse().unwrap(), "paid").await;
    while app.worker().run_once().await.unwrap().is_some() {}
    app.wait_ready(ready.parse().unwrap()).await;

    let response = send(&app, Method::GET, "/api/v1/me/esims", Some(&mine)).await;
    assert_eq!(response.status(), 200);
    let list: Value = response.json().await.unwrap();
    let data = list["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "{list}");
    assert_eq!(data[0]["order_id"], ready.as_str());
    assert_eq!(data[0]["order_status"], "ready");
    assert!(!data[0]["iccid"].as_str().unwrap().is_empty());
    assert!(!data[0]["status"].as_str().unwrap().is_empty());

    problem_of(send(&app, Method::GET, "/api/v1/me/esims", None).await, 401).await;
    problem_of(send(&app, Method::GET, "/api/v1/me/esims", Some("not-a-token")).await, 401).await;
}

#[tokio::test]
async fn refreshing_an_esim_reads_telnyx_again_and_is_rate_limited() {
    let app = spawn_app().await;
    let (plan_id, _) = app.some_plan().await;
    let (early, early_token, _) = app.buy_plan(&plan_id).await;
    let no_esim = problem_of(
        send(&app, Method::POST, &format!("/api/v1/orders/{early}/esim/refresh"), Some(&early_token)).await,
        409,
    )
    .await;
    assert_eq!(no_esim["code"], "no_esim");

    let (id, token) = app.paid_order().await;
    app.worker().run_once().await.unwrap();
    app.wait_ready(id).await;
    let sim: String = sqlx::query_scalar("select telnyx_sim_id from esims where order_id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    // The SIM changes at Telnyx behind Tern's back; a refresh sees it.
    app.provisioner.telnyx.disable(&sim).await.unwrap();
    let path = format!("/api/v1/orders/{id}/esim/refresh");
    let response = send(&app, Method::POST, &path, Some(&token)).await;
    assert_eq!(response.status(), 200);
    let policies: Vec<&str> =
        response.headers().get_all("ratelimit-policy").iter().map(|v| v.to_str().unwrap()).collect();
    assert!(policies.contains(&"\"esim-refresh\";q=3;w=60"), "{policies:?}");
    let refreshed: Value = response.json().await.unwrap();
    assert_eq!(refreshed["status"], "disabled");
    assert_eq!(refreshed["order_id"], id.to_string());
    let stored: String = sqlx::query_scalar("select telnyx_status from esims where order_id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, "disabled");

    for _ in 0..2 {
        assert_eq!(send(&app, Method::POST, &path, Some(&token)).await.status(), 200);
    }
    let response = send(&app, Method::POST, &path, Some(&token)).await;
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after));
    let limited = problem_of(response, 429).await;
    assert_eq!(limited["code"], "rate_limited");
    assert_eq!(app.event_count(id, "sim_status_refreshed").await, 3, "the fourth never reached Telnyx");
}

#[tokio::test]
async fn every_write_is_rate_limited_per_client_with_ratelimit_headers() {
    let app = spawn_app().await;
    let create = || {
        app.client
            .post(app.url("/api/v1/orders"))
            .header("idempotency-key", Uuid::new_v4().to_string())
            .json(&json!({"plan": "none"}))
            .send()
    };
    for n in 1..=20 {
        let response = create().await.unwrap();
        assert_eq!(response.status(), 400, "write {n} is let through to the handler");
        assert_eq!(response.headers()["ratelimit-policy"], "\"api-writes\";q=20;w=60");
        let current = response.headers()["ratelimit"].to_str().unwrap().to_string();
        assert!(current.starts_with(&format!("\"api-writes\";r={};t=", 20 - n)), "{current}");
    }
    let response = create().await.unwrap();
    assert!(response.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    assert_eq!(response.headers()["ratelimit-policy"], "\"api-writes\";q=20;w=60");
    assert!(response.headers()["ratelimit"].to_str().unwrap().starts_with("\"api-writes\";r=0;t="));
    let limited = problem_of(response, 429).await;
    assert_eq!(limited["code"], "rate_limited");

    // Other writes share the client's quota; reads are not limited.
    let token = problem_of(send(&app, Method::DELETE, "/api/v1/auth/token", Some("x")).await, 429).await;
    assert_eq!(token["code"], "rate_limited");
    assert_eq!(app.get("/api/v1/plans?per_page=1").await.status(), 200);
    let orders: i64 = sqlx::query_scalar("select count(*) from orders").fetch_one(&app.pool).await.unwrap();
    assert_eq!(orders, 0);
}

#[tokio::test]
async fn every_client_error_under_the_api_is_a_problem_document() {
    let app = spawn_app().await;
    let response = send(&app, Method::DELETE, "/api/v1/plans", None).await;
    let allow = response.headers()["allow"].to_str().unwrap().to_string();
    assert!(allow.contains("GET"), "{allow}");
    assert_eq!(problem_of(response, 405).await["code"], "method_not_allowed");
    assert_eq!(
        problem_of(send(&app, Method::PUT, "/api/v1/orders", None).await, 405).await["code"],
        "method_not_allowed"
    );

    for path in ["/api/v1/plans/%ff", "/api/v1/destinations/%ff", "/api/v1/orders/%ff"] {
        let bad = problem_of(send(&app, Method::GET, path, Some("token")).await, 400).await;
        assert_eq!(bad["code"], "invalid_parameter", "{path}");
        let named = bad["invalid_params"][0]["name"].as_str().unwrap().to_string();
        assert!(named == "id" || named == "iso", "{path}: {bad}");
    }
    assert_eq!(
        problem_of(send(&app, Method::GET, "/api/v1/no-such-thing", None).await, 404).await["code"],
        "not_found"
    );

    // With the plain lists already in the page cache, which must not answer for these.
    app.json("/api/v1/plans", 200).await;
    app.json("/api/v1/destinations", 200).await;
    for (path, param) in [
        ("/api/v1/destinations?region=", "region"),
        ("/api/v1/plans?page=", "page"),
        ("/api/v1/plans?per_page=5&max_price=", "max_price"),
        ("/api/v1/destinations?q=", "q"),
        ("/api/v1/destinations?q=%ff", "q"),
        ("/api/v1/plans?region=atlantis", "region"),
    ] {
        let bad = problem_of(send(&app, Method::GET, path, None).await, 400).await;
        assert_eq!(bad["invalid_params"][0]["name"], param, "{path}");
    }
}

#[tokio::test]
async fn the_new_endpoints_answer_bad_input_with_problems_naming_the_field() {
    let app = spawn_app().await;
    let (id, token, _) = api_order(&app, None).await;
    for path in ["/api/v1/orders/%ff/cancel", "/api/v1/orders/%ff/esim/refresh"] {
        let bad = problem_of(send(&app, Method::POST, path, Some(&token)).await, 400).await;
        assert_eq!(bad["invalid_params"][0]["name"], "id", "{path}");
    }
    for path in [format!("/api/v1/orders/{id}/cancel"), format!("/api/v1/orders/{id}/esim/refresh")] {
        assert_eq!(problem_of(send(&app, Method::POST, &path, None).await, 401).await["code"], "unauthorized");
        assert_eq!(problem_of(send(&app, Method::POST, &path, Some("wrong")).await, 404).await["code"], "not_found");
        let not_an_id = path.replace(&id, "not-an-order");
        problem_of(send(&app, Method::POST, &not_an_id, Some(&token)).await, 404).await;
        problem_of(send(&app, Method::GET, &path, Some(&token)).await, 405).await;
    }
    assert_eq!(app.status(id.parse().unwrap()).await, "awaiting_payment", "nothing changed");
}

#[tokio::test]
async fn the_document_states_the_constraints_the_server_enforces() {
    let app = spawn_app().await;
    let doc = app.json("/api/v1/openapi.json", 200).await;
    let param = |path: &str, name: &str| {
        doc["paths"][path]["get"]["parameters"].as_array().unwrap().iter().find(|p| p["name"] == name).unwrap().clone()
    };
    assert_eq!(param("/destinations", "q")["schema"]["maxLength"], 100);
    let regions = param("/plans", "region")["schema"]["enum"].clone();
    assert!(regions.as_array().unwrap().contains(&json!("europe")), "{regions}");
    assert_eq!(param("/destinations", "region")["schema"]["enum"], regions);
    assert!(param("/plans", "destination")["schema"]["enum"].as_array().unwrap().contains(&json!("JP")));
    assert_eq!(param("/plans", "max_price")["schema"]["maximum"], 100_000_000);
    let create = &doc["paths"]["/orders"]["post"];
    let key = create["parameters"].as_array().unwrap().iter().find(|p| p["name"] == "Idempotency-Key").unwrap();
    assert_eq!((key["schema"]["minLength"].as_u64(), key["schema"]["maxLength"].as_u64()), (Some(22), Some(255)));
    assert_eq!(key["schema"]["pattern"], "^[A-Za-z0-9_-]{22,255}$", "UUIDs or 128+ random bits");
    assert_eq!(doc["components"]["schemas"]["CreateOrderRequest"]["properties"]["email"]["format"], "email");
    for (path, method) in [
        ("/orders", "post"),
        ("/orders/{id}/cancel", "post"),
        ("/orders/{id}/esim/refresh", "post"),
        ("/auth/token", "post"),
        ("/auth/token", "delete"),
    ] {
        let limited = &doc["paths"][path][method]["responses"]["429"];
        assert!(limited["headers"]["Retry-After"].is_object(), "{method} {path} documents its 429");
    }
    for path in ["/me/esims", "/orders/{id}/cancel", "/orders/{id}/esim/refresh"] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
}
