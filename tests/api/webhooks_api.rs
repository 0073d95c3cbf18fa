//! Webhook management: who may manage endpoints (API keys, not customer tokens; integrators
//! only their own), bad input on every operation answered with a problem naming the field and
//! changing nothing, the SSRF guard (in production mode, at save and at send time), and the
//! `webhooks` section of the OpenAPI document.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};
use tern::domain::webhook::KeyRole;
use tern::services::webhooks::{Deliverer, UrlPolicy, Webhooks};
use tern::worker::{JobResult, Worker};

use crate::helpers::{TestApp, problem_of, spawn_app, spawn_app_with, spawn_app_with_worker};
use crate::webhooks_receiver::{Receiver, api_key, get, post, register};

async fn customer_token(app: &TestApp) -> String {
    let (email, password) = ("traveller@example.com", "a long enough password");
    app.post_form("/account/sign-up", &[("email", email), ("password", password)]).await;
    let response = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    response.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn an_integrator_key_manages_endpoints_and_a_customer_token_cannot() {
    let app = spawn_app().await;
    let body = json!({ "url": "http://127.0.0.1:9/hooks" });
    let url = app.url("/api/v1/webhook_endpoints");

    let customer = customer_token(&app).await;
    let refused = app.client.post(&url).bearer_auth(&customer).json(&body).send().await.unwrap();
    assert_eq!(problem_of(refused, 403).await["code"], "forbidden");
    let listed = app.client.get(&url).bearer_auth(&customer).send().await.unwrap();
    problem_of(listed, 403).await;
    let anonymous = app.client.post(&url).json(&body).send().await.unwrap();
    assert_eq!(problem_of(anonymous, 401).await["code"], "unauthorized");
    let forged = app.client.get(&url).bearer_auth("tern_key_forged").send().await.unwrap();
    problem_of(forged, 401).await;

    let key = api_key(&app, KeyRole::Integrator).await;
    let (id, secret) = register(&app, &key, "http://127.0.0.1:9/hooks", &["order.paid"]).await;
    assert!(secret.starts_with("whsec_"));
    let (status, listed) = get(&app, &key, "/api/v1/webhook_endpoints").await;
    assert_eq!((status, listed["data"].as_array().unwrap().len()), (200, 1));
    assert_eq!(listed["data"][0]["event_types"], json!(["order.paid"]));

    let response = app
        .client
        .patch(format!("{url}/{id}"))
        .bearer_auth(&key)
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let changed: Value = response.json().await.unwrap();
    assert_eq!(changed["enabled"], false);
    assert_eq!(changed["url"], "http://127.0.0.1:9/hooks", "the fields left out are kept");

    // Another integrator sees none of it; an admin key sees everything.
    let other = api_key(&app, KeyRole::Integrator).await;
    assert_eq!(get(&app, &other, &format!("/api/v1/webhook_endpoints/{id}")).await.0, 404);
    assert!(get(&app, &other, "/api/v1/webhook_endpoints").await.1["data"].as_array().unwrap().is_empty());
    let admin = api_key(&app, KeyRole::Admin).await;
    assert_eq!(get(&app, &admin, &format!("/api/v1/webhook_endpoints/{id}")).await.0, 200);

    // A revoked key stops working at once.
    let key_id: uuid::Uuid = sqlx::query_scalar("select id from api_keys where prefix = $1")
        .bind(&key[..15])
        .fetch_one(&app.pool)
        .await
        .unwrap();
    sqlx::query("update api_keys set revoked_at = now() where id = $1").bind(key_id).execute(&app.pool).await.unwrap();
    assert_eq!(get(&app, &key, "/api/v1/webhook_endpoints").await.0, 401);

    let deleted = app.client.delete(format!("{url}/{id}")).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(get(&app, &admin, &format!("/api/v1/webhook_endpoints/{id}")).await.0, 404);
}

/// Sends a request and checks it is refused with a problem naming `field`.
async fn refused(request: reqwest::RequestBuilder, status: u16, field: &str) {
    let problem = problem_of(request.send().await.unwrap(), status).await;
    let params = problem["invalid_params"].as_array().unwrap_or_else(|| panic!("{field}: {problem}"));
    let named: Vec<&str> = params.iter().filter_map(|p| p["name"].as_str()).collect();
    assert!(named.contains(&field), "{field} is named in {problem}");
}

#[tokio::test]
async fn bad_input_on_every_operation_names_the_field_and_changes_nothing() {
    // Some thirty writes from one address: above the default write limit, which
    // `mobile_api::every_write_is_rate_limited_per_client_with_ratelimit_headers` covers.
    let app = spawn_app_with(|c| c.api_writes_per_minute = 1_000).await;
    let key = api_key(&app, KeyRole::Integrator).await;
    let (id, _) = register(&app, &key, "http://127.0.0.1:9/hooks", &[]).await;
    let base = app.url("/api/v1/webhook_endpoints");
    let c = &app.client;
    let long = "x".repeat(501);
    for (body, field) in [
        (json!({}), "url"),
        (json!({ "url": 5 }), "url"),
        (json!({ "url": "ftp://example.com/" }), "url"),
        (json!({ "url": "http://169.254.169.254/latest/meta-data/" }), "url"),
        (json!({ "url": "http://10.0.0.7/" }), "url"),
        (json!({ "url": "http://127.0.0.1:9/", "event_types": ["order.lost"] }), "event_types"),
        (json!({ "url": "http://127.0.0.1:9/", "event_types": "order.paid" }), "event_types"),
        (json!({ "url": "http://127.0.0.1:9/", "event_types": ["ping"] }), "event_types"),
        (json!({ "url": "http://127.0.0.1:9/", "description": long }), "description"),
        (json!({ "url": "http://127.0.0.1:9/", "enabled": "yes" }), "enabled"),
    ] {
        refused(c.post(&base).bearer_auth(&key).json(&body), 422, field).await;
        if field != "url" || body.get("url").is_some() {
            refused(c.patch(format!("{base}/{id}")).bearer_auth(&key).json(&body), 422, field).await;
        }
    }
    for (method, path) in [
        (reqwest::Method::GET, "/api/v1/webhook_endpoints/not-a-uuid"),
        (reqwest::Method::PATCH, "/api/v1/webhook_endpoints/not-a-uuid"),
        (reqwest::Method::DELETE, "/api/v1/webhook_endpoints/not-a-uuid"),
        (reqwest::Method::POST, "/api/v1/webhook_endpoints/not-a-uuid/rotate_secret"),
        (reqwest::Method::POST, "/api/v1/webhook_endpoints/not-a-uuid/test"),
        (reqwest::Method::GET, "/api/v1/webhook_endpoints/not-a-uuid/deliveries"),
        (reqwest::Method::POST, "/api/v1/webhook_endpoints/not-a-uuid/recover"),
        (reqwest::Method::POST, "/api/v1/webhook_deliveries/seven/retry"),
    ] {
        let request =
            c.request(method, app.url(path)).bearer_auth(&key).json(&json!({ "since": "2026-12-01T00:00:00Z" }));
        refused(request, 400, "id").await;
    }
    let recover = format!("{base}/{id}/recover");
    let a_year_ago = (time::OffsetDateTime::now_utc() - time::Duration::days(365))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    for body in [json!({}), json!({ "since": "yesterday" }), json!({ "since": 5 }), json!({ "since": null })] {
        refused(c.post(&recover).bearer_auth(&key).json(&body), 422, "since").await;
    }
    // Events are kept 30 days: earlier resends from the start of those, later resends nothing.
    for (since, queued) in [("2999-01-01T00:00:00Z", 0), (a_year_ago.as_str(), 0)] {
        let answer = c.post(&recover).bearer_auth(&key).json(&json!({ "since": since })).send().await.unwrap();
        assert_eq!(answer.status(), 202, "{since}");
        assert_eq!(answer.json::<Value>().await.unwrap()["queued"], queued, "{since}");
    }
    // A field the request does not take is named, for typed and field-by-field bodies alike.
    for (path, body) in [
        (recover.clone(), json!({ "since": "2026-12-01T00:00:00Z", "until": "x" })),
        (base.clone(), json!({ "url": "http://127.0.0.1:9/", "secret": "mine" })),
        (app.url("/api/v1/orders"), json!({ "plan_id": uuid::Uuid::new_v4(), "email": "a@b.co", "coupon": "x" })),
    ] {
        let answer = c.post(&path).header("idempotency-key", uuid::Uuid::new_v4().to_string());
        let answer = if path.ends_with("/orders") { answer } else { answer.bearer_auth(&key) };
        let problem = problem_of(answer.json(&body).send().await.unwrap(), 400).await;
        assert!(problem["detail"].as_str().unwrap().contains("unknown field"), "{problem}");
    }
    // `null` is a field left out: the endpoint keeps its URL.
    let kept = c.patch(format!("{base}/{id}")).bearer_auth(&key).json(&json!({ "url": null, "enabled": null }));
    assert_eq!(kept.send().await.unwrap().status(), 200);
    let malformed = c.post(&base).bearer_auth(&key).header("content-type", "application/json").body("{").send().await;
    assert_eq!(problem_of(malformed.unwrap(), 400).await["code"], "malformed_json");
    let not_an_object = c.post(&base).bearer_auth(&key).json(&json!(["http://127.0.0.1:9/"])).send().await;
    problem_of(not_an_object.unwrap(), 400).await;
    assert_eq!(get(&app, &key, &format!("/api/v1/webhook_endpoints/{}", uuid::Uuid::new_v4())).await.0, 404);

    let (_, listed) = get(&app, &key, "/api/v1/webhook_endpoints").await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1, "nothing was created");
    assert_eq!(listed["data"][0]["url"], "http://127.0.0.1:9/hooks", "nothing was changed");
    assert_eq!(listed["data"][0]["description"], "test receiver");
}

#[tokio::test]
async fn the_production_guard_refuses_loopback_and_metadata_urls() {
    let production = UrlPolicy::PRODUCTION;
    for url in ["http://127.0.0.1/", "http://169.254.169.254/", "https://127.0.0.1/", "https://169.254.169.254/"] {
        assert!(production.check_url(url).await.is_err(), "{url}");
    }
    assert!(production.check_url("https://localhost/").await.unwrap_err().contains("loopback"));
    // Development allows loopback (the tests, the demo), but never the metadata address.
    assert!(UrlPolicy::DEVELOPMENT.check_url("http://127.0.0.1:9/").await.is_ok());
    assert!(UrlPolicy::DEVELOPMENT.check_url("http://169.254.169.254/").await.is_err());
}

#[tokio::test]
async fn the_guard_runs_again_at_send_time_before_any_connection() {
    let app = spawn_app().await;
    // A listener that only counts connections: nothing may reach it.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    tokio::spawn(async move {
        while listener.accept().await.is_ok() {
            counted.fetch_add(1, Ordering::SeqCst);
        }
    });
    let key = api_key(&app, KeyRole::Integrator).await;
    // Saved while loopback was allowed; sent by a process in production mode.
    let (id, _) = register(&app, &key, &format!("https://localhost:{port}/hooks"), &[]).await;
    post(&app, &key, &format!("/api/v1/webhook_endpoints/{id}/test"), None).await;
    let settings = Webhooks { cipher: app.provisioner.cipher.clone(), policy: UrlPolicy::PRODUCTION };
    let production = Worker { webhooks: Deliverer::new(settings).unwrap(), ..app.worker() };
    let (_, result) = production.run_once().await.unwrap().expect("the delivery job");
    assert!(matches!(result, JobResult::Retrying { .. }), "{result:?}");

    let log = get(&app, &key, &format!("/api/v1/webhook_endpoints/{id}/deliveries")).await.1;
    let error = log["data"][0]["error"].as_str().unwrap().to_string();
    assert!(error.starts_with("refused:") && error.contains("loopback"), "{error}");
    assert!(log["data"][0]["status_code"].is_null());
    assert_eq!(connections.load(Ordering::SeqCst), 0, "no connection was made");
}

#[tokio::test]
async fn the_openapi_document_describes_every_webhook_and_a_real_payload_matches() {
    let app = spawn_app_with_worker().await;
    let doc = app.json("/api/v1/openapi.json", 200).await;
    let webhooks = doc["webhooks"].as_object().expect("a webhooks section");
    for t in tern::domain::webhook::EventType::ALL {
        let post = &webhooks[t.as_str()]["post"];
        let names: Vec<&str> =
            post["parameters"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["webhook-id", "webhook-timestamp", "webhook-signature"], "{t}");
    }
    for path in ["/webhook_endpoints", "/webhook_endpoints/{id}/recover", "/webhook_deliveries/{id}/retry"] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
    assert_eq!(doc["paths"]["/webhook_endpoints"]["post"]["security"][0]["api_key"], json!([]));

    let receiver = Receiver::ok().await;
    let key = api_key(&app, KeyRole::Integrator).await;
    let (id, _) = register(&app, &key, &receiver.url, &[]).await;
    post(&app, &key, &format!("/api/v1/webhook_endpoints/{id}/test"), None).await;
    let ping = receiver.wait_for(1).await.remove(0).json();
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": webhooks["ping"]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "components": doc["components"],
    });
    let validator = jsonschema::validator_for(&schema).unwrap();
    assert!(validator.is_valid(&ping), "{ping}");
    let mut broken = ping.clone();
    broken["type"] = json!("order.paid");
    assert!(!validator.is_valid(&broken), "the schema would catch a wrong payload");

    let page = app.page("/api/v1/docs/webhooks", 200).await;
    for t in tern::domain::webhook::EventType::ALL {
        assert!(page.contains(t.as_str()), "{t} is on the docs page");
    }
    assert!(page.contains("standardwebhooks") && page.contains("webhook-signature"));
}
