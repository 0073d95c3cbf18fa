//! The Telnyx emulator over HTTP with reqwest, as Tern's client talks to it: purchase and tag
//! search, identifiers, activation codes, actions, data limits, pagination, auth, injected
//! faults and inventory. Every test ends by checking every answer the emulator gave (and every
//! request body it accepted) against Telnyx's OpenAPI spec (Tern's `tests/fixtures`, a
//! verbatim copy of the trimmed spec in the shared docs).

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use telnyx_emulator::{
    DEFAULT_SIM_CARD_GROUP_ID, Fault, Quirks, RecordedRequest, Target, TelnyxEmulator, TelnyxEmulatorConfig,
};

const API_KEY: &str = "KEY_emulator_test";
const GROUP: &str = "3f1c2a9e-6b0d-4f5e-9a41-2c7d8e0b5a13";

mod controls;
mod faults;
mod lists;
mod purchase;
mod sims;
mod spec;

use spec::{assert_spec_conformant, spec_problems};

// ---------------------------------------------------------------------------------------------
// Harness

struct Telnyx {
    emulator: TelnyxEmulator,
    http: reqwest::Client,
}

fn config() -> TelnyxEmulatorConfig {
    TelnyxEmulatorConfig { api_key: API_KEY.into(), action_delay: Duration::ZERO, inventory: None }
}

async fn start() -> Telnyx {
    start_with(config()).await
}

async fn start_with(config: TelnyxEmulatorConfig) -> Telnyx {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let emulator = TelnyxEmulator::start(config).await.expect("emulator starts");
    Telnyx { emulator, http: client(None) }
}

fn client(timeout: Option<Duration>) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder().no_proxy();
    if let Some(timeout) = timeout {
        builder = builder.timeout(timeout);
    }
    builder.build().expect("http client")
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    fn code(&self) -> &str {
        self.body["errors"][0]["code"].as_str().unwrap_or("")
    }
}

impl Telnyx {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.emulator.base_url())
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, self.url(path)).bearer_auth(API_KEY)
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body");
        let body = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).expect("JSON body") };
        Answer { status, headers, body }
    }

    async fn get(&self, path: &str) -> Answer {
        self.send(self.request(Method::GET, path)).await
    }

    async fn post(&self, path: &str, body: Option<Value>) -> Answer {
        let request = self.request(Method::POST, path);
        self.send(match body {
            Some(body) => request.json(&body),
            None => request,
        })
        .await
    }

    async fn patch(&self, path: &str, body: Value) -> Answer {
        self.send(self.request(Method::PATCH, path).json(&body)).await
    }

    async fn purchase(&self, body: Value) -> Answer {
        self.post("/actions/purchase/esims", Some(body)).await
    }

    /// Buys one enabled eSIM in `GROUP` tagged `tag`; returns its id.
    async fn buy(&self, tag: &str) -> String {
        let answer = self.purchase(json!({ "amount": 1, "sim_card_group_id": GROUP, "tags": [tag] })).await;
        assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
        answer.body["data"][0]["id"].as_str().expect("SIM id").to_owned()
    }

    /// The ids a `GET /sim_cards` query string finds.
    async fn search(&self, query: &str) -> Vec<String> {
        let answer = self.get(&format!("/sim_cards?{query}")).await;
        assert_eq!(answer.status, StatusCode::OK, "{query}: {}", answer.body);
        ids(&answer.body)
    }

    async fn control(&self, path: &str, body: Value) -> StatusCode {
        let base = self.emulator.base_url();
        let root = base.strip_suffix("/v2").expect("base ends with /v2");
        let token = self.emulator.control_token();
        let request = self.http.post(format!("{root}{path}")).header("x-emulator-token", token).json(&body);
        request.send().await.expect("control").status()
    }
}

fn ids(body: &Value) -> Vec<String> {
    body["data"].as_array().expect("data list").iter().map(|s| s["id"].as_str().unwrap().to_owned()).collect()
}

fn luhn_valid(number: &str) -> bool {
    let sum: u32 = number
        .chars()
        .rev()
        .enumerate()
        .map(|(i, c)| {
            let d = c.to_digit(10).expect("digit");
            if i % 2 == 1 { if d * 2 > 9 { d * 2 - 9 } else { d * 2 } } else { d }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn all_digits(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| b.is_ascii_digit())
}

/// `2026-03-01T10:15:30.123Z`.
fn is_millisecond_utc(text: &str) -> bool {
    let shape = "dddd-dd-ddTdd:dd:dd.dddZ";
    text.len() == shape.len()
        && text.chars().zip(shape.chars()).all(|(c, s)| if s == 'd' { c.is_ascii_digit() } else { c == s })
}
