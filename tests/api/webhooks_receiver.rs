//! A webhook receiver for the tests: a small axum server on 127.0.0.1, port 0, that records
//! every request and answers with the statuses it is told (then 200), or never answers; and the
//! API-key and endpoint set-up the webhook tests share.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use tern::domain::webhook::KeyRole;

use crate::helpers::{TestApp, eventually};

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    pub fn event_type(&self) -> String {
        self.json()["type"].as_str().unwrap_or_default().to_string()
    }

    pub fn id(&self) -> String {
        self.headers["webhook-id"].to_str().unwrap().to_string()
    }

    /// Verified with the `standardwebhooks` crate, as a receiver would.
    pub fn verify(&self, secret: &str) -> Result<(), standardwebhooks::WebhookError> {
        standardwebhooks::Webhook::new(secret).unwrap().verify(&self.body, &self.headers)
    }
}

#[derive(Clone, Default)]
struct Script {
    seen: Arc<Mutex<Vec<Received>>>,
    statuses: Arc<Mutex<VecDeque<u16>>>,
    hang: bool,
}

pub struct Receiver {
    pub url: String,
    script: Script,
}

impl Receiver {
    /// Answers `statuses` in turn, then 200.
    pub async fn answering(statuses: &[u16]) -> Receiver {
        Self::start(Script { statuses: Arc::new(Mutex::new(statuses.iter().copied().collect())), ..Default::default() })
            .await
    }

    pub async fn ok() -> Receiver {
        Self::answering(&[]).await
    }

    /// Records each request and never answers it.
    pub async fn hanging() -> Receiver {
        Self::start(Script { hang: true, ..Default::default() }).await
    }

    async fn start(script: Script) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        let app = axum::Router::new().route("/hooks", axum::routing::post(receive)).with_state(script.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { url, script }
    }

    pub fn seen(&self) -> Vec<Received> {
        self.script.seen.lock().unwrap().clone()
    }

    /// Waits (bounded) until `n` requests have arrived; returns them.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        eventually(&format!("the receiver has {n} requests"), || async { self.seen().len() >= n }).await;
        self.seen()
    }

    /// Waits (bounded) until an event of `event_type` has arrived.
    pub async fn wait_for_type(&self, event_type: &str) -> Vec<Received> {
        eventually(&format!("the receiver has a {event_type}"), || async {
            self.seen().iter().any(|r| r.event_type() == event_type)
        })
        .await;
        self.seen()
    }
}

async fn receive(State(script): State<Script>, headers: HeaderMap, body: Bytes) -> StatusCode {
    script.seen.lock().unwrap().push(Received { headers, body });
    if script.hang {
        std::future::pending::<()>().await;
    }
    let status = script.statuses.lock().unwrap().pop_front().unwrap_or(200);
    StatusCode::from_u16(status).unwrap()
}

/// A new API key of `role`.
pub async fn api_key(app: &TestApp, role: KeyRole) -> String {
    tern::services::api_keys::create(&app.pool, "partner", role).await.unwrap().1
}

/// Registers `url` for `event_types` (empty: every type) with `key`; (endpoint id, secret).
pub async fn register(app: &TestApp, key: &str, url: &str, event_types: &[&str]) -> (String, String) {
    let response = app
        .client
        .post(app.url("/api/v1/webhook_endpoints"))
        .bearer_auth(key)
        .json(&json!({ "url": url, "description": "test receiver", "event_types": event_types }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    (body["id"].as_str().unwrap().to_string(), body["secret"].as_str().unwrap().to_string())
}

/// POSTs `body` (or nothing) to an API path with `key`; (status, JSON answer).
pub async fn post(app: &TestApp, key: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = app.client.post(app.url(path)).bearer_auth(key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// GETs an API path with `key`; (status, JSON answer).
pub async fn get(app: &TestApp, key: &str, path: &str) -> (u16, Value) {
    let response = app.client.get(app.url(path)).bearer_auth(key).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}
