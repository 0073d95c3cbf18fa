//! The Telnyx emulator over HTTP with reqwest, as Tern's client talks to it: purchase and tag
//! search, identifiers, activation codes, actions, data limits, pagination, auth, injected
//! faults and inventory. Every test ends by checking every answer the emulator gave (and every
//! request body it accepted) against Telnyx's OpenAPI spec (`tests/fixtures`, a verbatim copy
//! of the trimmed spec in the shared docs).

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tern::emulators::telnyx::{
    DEFAULT_SIM_CARD_GROUP_ID, Fault, Quirks, RecordedRequest, Target, TelnyxEmulator, TelnyxEmulatorConfig,
};

const API_KEY: &str = "KEY_emulator_test";
const GROUP: &str = "3f1c2a9e-6b0d-4f5e-9a41-2c7d8e0b5a13";

// ---------------------------------------------------------------------------------------------
// Spec validation

fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| serde_json::from_str(include_str!("../fixtures/telnyx-openapi-esim.json")).expect("spec JSON"))
}

/// Checks instances against `schema` with the spec's components reachable, formats included.
fn validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(&json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "allOf": [schema],
            "components": spec()["components"],
        }))
        .expect("a valid JSON Schema")
}

fn resolve(value: &'static Value) -> &'static Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => spec().pointer(reference.trim_start_matches('#')).expect("ref resolves"),
        None => value,
    }
}

/// The spec operation for a concrete path: the template with the same segments, literal
/// segments preferred over `{id}`.
fn operation(method: &str, path: &str) -> Option<(&'static str, &'static Value)> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let paths = spec()["paths"].as_object().expect("paths");
    paths
        .iter()
        .filter_map(|(template, item)| {
            let parts: Vec<&str> = template.trim_matches('/').split('/').collect();
            if parts.len() != segments.len() {
                return None;
            }
            let mut literal = 0;
            for (part, segment) in parts.iter().zip(&segments) {
                if part.starts_with('{') {
                    if segment.is_empty() {
                        return None;
                    }
                } else if part == segment {
                    literal += 1;
                } else {
                    return None;
                }
            }
            Some((literal, template.as_str(), item.get(method.to_lowercase())?))
        })
        .max_by_key(|(literal, ..)| *literal)
        .map(|(_, template, op)| (template, op))
}

/// The schema for `status` in `op`: the declared response, or `default` for an error status.
/// `Ok(None)` when the response is declared without a body (401) or, for an error status, not
/// declared at all.
fn response_schema(op: &'static Value, status: u16) -> Result<Option<&'static Value>, String> {
    let responses = &op["responses"];
    let error = status >= 400;
    match responses.get(status.to_string()).or_else(|| responses.get("default").filter(|_| error)) {
        Some(response) => Ok(resolve(response).pointer("/content/application~1json/schema")),
        None if error => Ok(None),
        None => Err(format!("status {status} is not declared")),
    }
}

/// Where the spec declares no body for an error status (401, purchase errors), the emulator
/// still answers Telnyx's standard envelope: check that one.
fn fallback_error_schema() -> Value {
    json!({ "$ref": "#/components/schemas/wireless_Errors", "required": ["errors"] })
}

/// Every way `recorded` departs from the spec, as readable lines.
fn spec_problems(recorded: &[RecordedRequest]) -> Vec<String> {
    let mut validators: HashMap<String, jsonschema::Validator> = HashMap::new();
    let mut problems = Vec::new();
    let mut check = |key: String, schema: &Value, instance: &Value, what: &str, problems: &mut Vec<String>| {
        let validator = validators.entry(key.clone()).or_insert_with(|| validator(schema));
        for error in validator.iter_errors(instance) {
            problems.push(format!("{key} {what}: {error} at {}", error.instance_path));
        }
    };
    for r in recorded {
        let label = format!("{} {}?{} → {}", r.method, r.path, r.query, r.status);
        if r.status == 499 {
            continue; // the client hung up before any answer
        }
        let Some((template, op)) = operation(&r.method, &r.path) else {
            // A path Telnyx does not have may only be refused, in the standard envelope.
            if r.status == 404 {
                check("unknown route 404".into(), &fallback_error_schema(), &r.response, "response", &mut problems);
            } else {
                problems.push(format!("{label}: no such operation in the spec"));
            }
            continue;
        };
        let key = format!("{} {template} {}", r.method, r.status);
        let success = (200..300).contains(&r.status);
        match response_schema(op, r.status) {
            Err(message) => problems.push(format!("{label}: {message}")),
            Ok(Some(schema)) => {
                if success && r.response.is_null() {
                    problems.push(format!("{label}: empty body where the spec declares one"));
                }
                if !r.response.is_null() {
                    check(key.clone(), schema, &r.response, "response", &mut problems);
                }
            }
            Ok(None) if r.response.is_null() => {}
            Ok(None) => check(
                format!("{key} (errors envelope)"),
                &fallback_error_schema(),
                &r.response,
                "response",
                &mut problems,
            ),
        }
        if let Some(schema) = op.pointer("/requestBody/content/application~1json/schema") {
            let required = op.pointer("/requestBody/required").and_then(Value::as_bool).unwrap_or(false);
            match &r.body {
                // The emulator may refuse a bad body; it must never accept one.
                Some(body) if success => {
                    check(format!("{} {template} request", r.method), schema, body, "request", &mut problems)
                }
                None if success && required => problems.push(format!("{label}: accepted without the required body")),
                _ => {}
            }
        }
    }
    problems
}

fn assert_spec_conformant(emulator: &TelnyxEmulator) {
    let recorded = emulator.requests();
    assert!(!recorded.is_empty(), "the test made requests");
    let problems = spec_problems(&recorded);
    assert!(problems.is_empty(), "answers outside the spec:\n{problems:#?}");
}

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
        self.http.post(format!("{root}{path}")).json(&body).send().await.expect("control").status()
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

// ---------------------------------------------------------------------------------------------
// Purchase and search

#[tokio::test]
async fn a_purchase_with_tags_is_found_by_both_tag_filter_forms() {
    let t = start().await;
    let answer = t
        .purchase(
            json!({ "amount": 1, "sim_card_group_id": GROUP, "status": "enabled", "tags": ["tern-order-a", "common"] }),
        )
        .await;
    assert_eq!(answer.status, StatusCode::ACCEPTED);
    assert_eq!(answer.body["errors"], json!([]));
    let sim = &answer.body["data"][0];
    assert_eq!(answer.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(sim["record_type"], "sim_card");
    assert_eq!(sim["type"], "esim");
    assert_eq!(sim["status"]["value"], "enabled");
    assert!(sim["status"]["reason"].is_string());
    assert_eq!(sim["esim_installation_status"], "released");
    assert_eq!(sim["eid"], Value::Null);
    assert_eq!(sim["tags"], json!(["tern-order-a", "common"]));
    assert_eq!(sim["sim_card_group_id"], GROUP);
    assert_eq!(sim["version"], "4.3");
    assert_eq!(sim["actions_in_progress"], false);
    assert_eq!(sim["current_billing_period_consumed_data"], json!({ "amount": "0.0", "unit": "MB" }));
    assert!(sim.get("activation_code").is_none(), "purchases carry no activation code");
    assert!(is_millisecond_utc(sim["created_at"].as_str().unwrap()), "{}", sim["created_at"]);
    let a = sim["id"].as_str().unwrap().to_owned();

    let other = t.purchase(json!({ "amount": 1, "status": "standby", "tags": ["tern-order-b", "common"] })).await;
    let b = other.body["data"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(other.body["data"][0]["status"]["value"], "standby");
    assert_eq!(other.body["data"][0]["sim_card_group_id"], DEFAULT_SIM_CARD_GROUP_ID, "default group");

    // reqwest's .query percent-encodes the brackets; a hand-written URL keeps them raw.
    let encoded = t.send(t.request(Method::GET, "/sim_cards").query(&[("filter[tags][]", "tern-order-a")])).await;
    assert_eq!(ids(&encoded.body), [a.as_str()]);
    assert_eq!(t.search("filter[tags]=tern-order-a").await, [a.as_str()]);
    assert_eq!(t.search("filter[tags][]=tern-order-a").await, [a.as_str()]);
    assert_eq!(t.search("filter%5Btags%5D=tern-order-a").await, [a.as_str()]);
    // Repeated keys are AND-ed.
    assert_eq!(t.search("filter[tags][]=tern-order-a&filter[tags][]=common").await, [a.as_str()]);
    assert!(t.search("filter[tags][]=tern-order-a&filter[tags][]=tern-order-b").await.is_empty());
    assert_eq!(t.search("filter[tags]=common").await, [a.as_str(), b.as_str()]);
    assert!(t.search("filter[tags][]=tern-order").await.is_empty(), "tags match whole");
    assert_eq!(t.search("filter[status][]=standby").await, [b.as_str()]);
    assert_eq!(t.search(&format!("filter[sim_card_group_id]={GROUP}")).await, [a.as_str()]);

    let queries: Vec<String> = t.emulator.requests().into_iter().map(|r| r.query).collect();
    assert!(queries.iter().any(|q| q.contains("filter%5Btags%5D%5B%5D=tern-order-a")), "{queries:?}");
    assert!(queries.iter().any(|q| q.contains("filter[tags]=tern-order-a")), "{queries:?}");
    assert_eq!(t.emulator.purchases(), 2);
    assert_spec_conformant(&t.emulator);
}

#[tokio::test]
async fn identifiers_look_real_and_iccids_pass_luhn() {
    let t = start().await;
    let answer = t.purchase(json!({ "amount": 20, "tags": ["bulk"] })).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED);
    let sims = answer.body["data"].as_array().unwrap();
    assert_eq!(sims.len(), 20);
    let mut iccids = std::collections::HashSet::new();
    for sim in sims {
        let iccid = sim["iccid"].as_str().unwrap();
        assert!(all_digits(iccid, 20) && iccid.starts_with("89") && luhn_valid(iccid), "{iccid}");
        assert!(iccids.insert(iccid.to_owned()), "unique ICCIDs");
        let imsi = sim["imsi"].as_str().unwrap();
        assert!(all_digits(imsi, 15) && imsi.starts_with("00101"), "{imsi}");
        let msisdn = sim["msisdn"].as_str().unwrap();
        assert!(msisdn.starts_with("+1202555") && all_digits(&msisdn[1..], 11), "{msisdn}");
        assert!(uuid::Uuid::parse_str(sim["id"].as_str().unwrap()).is_ok());
    }
    assert!(!luhn_valid("89310410106543789301"), "the checker rejects the spec's bad example");
    let stored: Vec<Value> = t.emulator.sims().into_iter().map(|s| s["id"].clone()).collect();
    let answered: Vec<Value> = sims.iter().map(|s| s["id"].clone()).collect();
    assert_eq!(stored, answered, "sims() in creation order");
    assert_spec_conformant(&t.emulator);
}

#[tokio::test]
async fn purchase_validation_answers_422_with_a_pointer() {
    let t = start().await;
    for (body, pointer, code) in [
        (json!({ "amount": 0 }), "/amount", "10015"),
        (json!({ "amount": "1" }), "/amount", "10015"),
        (json!({ "amount": 1.5 }), "/amount", "10015"),
        (json!({}), "/amount", "10004"),
        (json!({ "amount": 1, "status": "active" }), "/status", "10015"),
        (json!({ "amount": 1, "tags": ["ok", 7] }), "/tags/1", "10015"),
        (json!({ "amount": 1, "tags": "solo" }), "/tags", "10015"),
        (json!({ "amount": 1, "sim_card_group_id": "group-1" }), "/sim_card_group_id", "10015"),
        (json!({ "amount": 1, "whitelabel_name": "Tern!" }), "/whitelabel_name", "10015"),
    ] {
        let answer = t.purchase(body.clone()).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(answer.code(), code, "{body}");
        assert_eq!(answer.body["errors"][0]["source"]["pointer"], pointer, "{body}");
    }
    let garbage = t.send(t.request(Method::POST, "/actions/purchase/esims").body("amount=1")).await;
    assert_eq!(garbage.status, StatusCode::BAD_REQUEST);
    assert!(t.emulator.sims().is_empty());
    assert_eq!(t.emulator.purchases(), 0);
    assert_spec_conformant(&t.emulator);
}

// ---------------------------------------------------------------------------------------------
// Activation codes, actions, data limits

#[tokio::test]
async fn the_activation_code_is_stable_until_the_esim_is_installed() {
    let t = start().await;
    let id = t.buy("code").await;
    let first = t.get(&format!("/sim_cards/{id}/activation_code")).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body["data"]["record_type"], "sim_card_activation_code");
    let code = first.body["data"]["activation_code"].as_str().unwrap().to_owned();
    let matching_id = code.strip_prefix("LPA:1$smdp.tern.test$").expect(&code);
    let groups: Vec<&str> = matching_id.split('-').collect();
    assert_eq!(groups.len(), 4, "{code}");
    assert_eq!(groups[0], "TN");
    for group in &groups[1..] {
        assert!(group.len() == 4 && group.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()), "{code}");
    }
    let again = t.get(&format!("/sim_cards/{id}/activation_code")).await;
    assert_eq!(again.body["data"]["activation_code"], code.as_str());

    t.emulator.mark_installed(&id).unwrap();
    let refused = t.get(&format!("/sim_cards/{id}/activation_code")).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!refused.code().is_empty());
    let sim = t.get(&format!("/sim_cards/{id}")).await.body;
    assert!(all_digits(sim["data"]["eid"].as_str().unwrap(), 32));

    // The same through the HTTP control.
    let other = t.buy("code-2").await;
    assert_eq!(t.control(&format!("/_emulator/sims/{other}/installed"), json!({})).await, StatusCode::OK);
    assert_eq!(t.get(&format!("/sim_cards/{other}/activation_code")).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(t.emulator.mark_installed("no-such-sim").is_err());
    assert_spec_conformant(&t.emulator);
}

#[tokio::test]
async fn enable_disable_and_standby_actions_reach_their_terminal_state() {
    // Long enough that the reads below see the action running even on a busy machine.
    let t = start_with(TelnyxEmulatorConfig { action_delay: Duration::from_millis(1000), ..config() }).await;
    let answer = t.purchase(json!({ "amount": 1, "sim_card_group_id": GROUP, "status": "disabled" })).await;
    let id = answer.body["data"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(answer.body["data"][0]["status"]["value"], "disabled");

    let started = t.post(&format!("/sim_cards/{id}/actions/enable"), None).await;
    assert_eq!(started.status, StatusCode::ACCEPTED);
    let action = &started.body["data"];
    assert_eq!(action["record_type"], "sim_card_action");
    assert_eq!(action["action_type"], "enable");
    assert_eq!(action["sim_card_id"], id.as_str());
    assert_eq!(action["status"]["value"], "in-progress");
    let action_id = action["id"].as_str().unwrap().to_owned();

    let sim = t.get(&format!("/sim_cards/{id}")).await.body;
    assert_eq!(sim["data"]["status"]["value"], "enabling");
    assert_eq!(sim["data"]["actions_in_progress"], true);
    assert_eq!(t.get(&format!("/sim_card_actions/{action_id}")).await.body["data"]["status"]["value"], "in-progress");
    let busy = t.post(&format!("/sim_cards/{id}/actions/disable"), None).await;
    assert_eq!(busy.status, StatusCode::UNPROCESSABLE_ENTITY, "one action at a time");

    tokio::time::sleep(Duration::from_millis(1050)).await;
    let done = t.get(&format!("/sim_card_actions/{action_id}")).await.body;
    assert_eq!(done["data"]["status"]["value"], "completed");
    let sim = t.get(&format!("/sim_cards/{id}")).await.body;
    assert_eq!(sim["data"]["status"]["value"], "enabled");
    assert_eq!(sim["data"]["actions_in_progress"], false);

    // With no delay the next read already sees the end.
    let t = start().await;
    let id = t.buy("instant").await;
    for (path, during, end) in [
        ("disable", "disabling", "disabled"),
        ("set_standby", "setting_standby", "standby"),
        ("enable", "enabling", "enabled"),
    ] {
        let started = t.post(&format!("/sim_cards/{id}/actions/{path}"), None).await;
        assert_eq!(started.status, StatusCode::ACCEPTED, "{path}");
        assert_eq!(started.body["data"]["status"]["value"], "in-progress");
        assert_ne!(during, end);
        let action_id = started.body["data"]["id"].as_str().unwrap();
        let action = t.get(&format!("/sim_card_actions/{action_id}")).await.body;
        assert_eq!(action["data"]["status"]["value"], "completed", "{path}");
        assert!(action["data"]["status"].get("reason").is_none());
        assert_eq!(t.get(&format!("/sim_cards/{id}")).await.body["data"]["status"]["value"], end);
    }
    assert_eq!(t.get("/sim_card_actions/6a09cdc3-8948-47f0-aa62-74ac943d6c58").await.code(), "10005");
    assert_spec_conformant(&t.emulator);
}

#[tokio::test]
async fn forced_outcomes_missing_groups_and_data_limits_stop_actions() {
    let t = start().await;
    let id = t.buy("forced").await;
    t.emulator.force_next_action("failed", "The network refused the SIM.");
    let started = t.post(&format!("/sim_cards/{id}/actions/disable"), None).await;
    let action_id = started.body["data"]["id"].as_str().unwrap();
    let action = t.get(&format!("/sim_card_actions/{action_id}")).await.body;
    assert_eq!(action["data"]["status"], json!({ "value": "failed", "reason": "The network refused the SIM." }));
    assert_eq!(
        t.get(&format!("/sim_cards/{id}")).await.body["data"]["status"]["value"],
        "enabled",
        "back where it was"
    );

    assert_eq!(
        t.control("/_emulator/actions/force", json!({ "status": "interrupted", "reason": "Timed out." })).await,
        StatusCode::OK
    );
    let started = t.post(&format!("/sim_cards/{id}/actions/disable"), None).await;
    let action_id = started.body["data"]["id"].as_str().unwrap();
    assert_eq!(t.get(&format!("/sim_card_actions/{action_id}")).await.body["data"]["status"]["value"], "interrupted");
    assert_eq!(t.control("/_emulator/actions/force", json!({ "status": "completed" })).await, StatusCode::BAD_REQUEST);

    // Without a group: no enable, no standby (70007); disable still works.
    t.emulator.remove_from_group(&id).unwrap();
    let refused = t.post(&format!("/sim_cards/{id}/actions/enable"), None).await;
    assert_eq!((refused.status, refused.code()), (StatusCode::UNPROCESSABLE_ENTITY, "70007"));
    assert_eq!(t.post(&format!("/sim_cards/{id}/actions/set_standby"), None).await.code(), "70007");
    assert_eq!(t.post(&format!("/sim_cards/{id}/actions/disable"), None).await.status, StatusCode::ACCEPTED);

    // Over the data limit: every action is refused until the limit is raised.
    let id = t.buy("limited").await;
    t.patch(&format!("/sim_cards/{id}"), json!({ "data_limit": { "amount": "10.0", "unit": "MB" } })).await;
    t.emulator.add_usage_mb(&id, 12.0).unwrap();
    assert_eq!(t.get(&format!("/sim_cards/{id}")).await.body["data"]["status"]["value"], "data_limit_exceeded");
    let refused = t.post(&format!("/sim_cards/{id}/actions/enable"), None).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        t.post(&format!("/sim_cards/{id}/actions/disable"), None).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_spec_conformant(&t.emulator);
}

#[tokio::test]
async fn patch_sets_the_data_limit_and_usage_follows_it() {
    let t = start().await;
    let id = t.buy("limit").await;
    let answer =
        t.patch(&format!("/sim_cards/{id}"), json!({ "data_limit": { "amount": "100.0", "unit": "MB" } })).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["data"]["data_limit"], json!({ "amount": "100.0", "unit": "MB" }));
    assert_eq!(answer.body["data"]["live_data_session"], "disconnected", "a full SIMCard");

    t.emulator.add_usage_mb(&id, 60.0).unwrap();
    let sim = t.get(&format!("/sim_cards/{id}")).await.body;
    assert_eq!(sim["data"]["current_billing_period_consumed_data"], json!({ "amount": "60.0", "unit": "MB" }));
    assert_eq!(sim["data"]["status"]["value"], "enabled");
    assert_eq!(t.control(&format!("/_emulator/sims/{id}/usage"), json!({ "mb": 50.5 })).await, StatusCode::OK);
    let sim = t.get(&format!("/sim_cards/{id}")).await.body;
    assert_eq!(sim["data"]["current_billing_period_consumed_data"]["amount"], "110.5");
    assert_eq!(sim["data"]["status"]["value"], "data_limit_exceeded");

    // Raising the limit (1 GB = 1024 MB here) clears it; so does a new billing period.
    let raised = t.patch(&format!("/sim_cards/{id}"), json!({ "data_limit": { "amount": "1.0", "unit": "GB" } })).await;
    assert_eq!(raised.body["data"]["status"]["value"], "enabled");
    t.patch(&format!("/sim_cards/{id}"), json!({ "data_limit": { "amount": "50.0", "unit": "MB" } })).await;
    assert_eq!(t.get(&format!("/sim_cards/{id}")).await.body["data"]["status"]["value"], "data_limit_exceeded");
    t.emulator.new_billing_period(&id).unwrap();
    let sim = t.get(&format!("/sim_cards/{id}")).await.body;
    assert_eq!(sim["data"]["current_billing_period_consumed_data"]["amount"], "0.0");
    assert_eq!(sim["data"]["status"]["value"], "enabled");

    let tagged = t.patch(&format!("/sim_cards/{id}"), json!({ "tags": ["renamed"], "sim_card_group_id": GROUP })).await;
    assert_eq!(tagged.body["data"]["tags"], json!(["renamed"]));
    assert_eq!(t.search("filter[tags][]=renamed").await, [id.as_str()]);

    for (body, pointer) in [
        (json!({ "data_limit": { "amount": "abc", "unit": "MB" } }), "/data_limit/amount"),
        (json!({ "data_limit": { "amount": "-5.0", "unit": "MB" } }), "/data_limit/amount"),
        (json!({ "data_limit": { "amount": 100, "unit": "MB" } }), "/data_limit/amount"),
        (json!({ "data_limit": { "amount": "100.0", "unit": "TB" } }), "/data_limit/unit"),
        (json!({ "tags": "one" }), "/tags"),
    ] {
        let answer = t.patch(&format!("/sim_cards/{id}"), body.clone()).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(answer.body["errors"][0]["source"]["pointer"], pointer, "{body}");
    }
    let sim = t.get(&format!("/sim_cards/{id}")).await.body;
    assert_eq!(sim["data"]["data_limit"]["amount"], "50.0", "refused patches change nothing");
    let missing = t.patch("/sim_cards/6a09cdc3-8948-47f0-aa62-74ac943d6c58", json!({ "tags": [] })).await;
    assert_eq!((missing.status, missing.code()), (StatusCode::NOT_FOUND, "10005"));
    assert_spec_conformant(&t.emulator);
}

// ---------------------------------------------------------------------------------------------
// Lists, auth, unknown ids

#[tokio::test]
async fn pages_have_computed_meta_and_page_size_stops_at_250() {
    let t = start().await;
    let bought = t.purchase(json!({ "amount": 7, "tags": ["paged"] })).await;
    let all = ids(&bought.body);
    t.buy("other").await;

    let first = t.get("/sim_cards?filter[tags][]=paged&page[number]=1&page[size]=3").await;
    assert_eq!(first.body["meta"], json!({ "page_number": 1, "page_size": 3, "total_pages": 3, "total_results": 7 }));
    let mut walked = ids(&first.body);
    for number in 2..=3 {
        let page =
            t.get(&format!("/sim_cards?filter%5Btags%5D%5B%5D=paged&page%5Bnumber%5D={number}&page%5Bsize%5D=3")).await;
        assert_eq!(page.body["meta"]["page_number"], number);
        walked.extend(ids(&page.body));
    }
    assert_eq!(walked, all, "stable creation order across pages");
    let past = t.get("/sim_cards?filter[tags][]=paged&page[number]=4&page[size]=3").await;
    assert_eq!(ids(&past.body), Vec::<String>::new());
    assert_eq!(past.body["meta"]["total_pages"], 3);

    let default = t.get("/sim_cards").await;
    assert_eq!(
        default.body["meta"],
        json!({ "page_number": 1, "page_size": 20, "total_pages": 1, "total_results": 8 })
    );
    assert_eq!(t.get("/sim_cards?page[size]=250").await.status, StatusCode::OK);
    let too_big = t.get("/sim_cards?page[size]=251").await;
    assert_eq!(too_big.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(too_big.body["errors"][0]["source"]["parameter"], "page[size]");
    let zero = t.get("/sim_cards?page%5Bnumber%5D=0").await;
    assert_eq!(zero.body["errors"][0]["source"]["parameter"], "page[number]");
    let none = t.get("/sim_cards?filter[tags][]=nothing-has-this").await;
    assert_eq!(none.body["meta"], json!({ "page_number": 1, "page_size": 20, "total_pages": 0, "total_results": 0 }));

    // filter[iccid] matches part of the number.
    let sim = &bought.body["data"][3];
    let part = &sim["iccid"].as_str().unwrap()[6..16];
    assert!(t.search(&format!("filter[iccid]={part}")).await.contains(&sim["id"].as_str().unwrap().to_owned()));
    assert_spec_conformant(&t.emulator);
}

#[tokio::test]
async fn requests_without_the_api_key_get_401() {
    let t = start().await;
    let expected = json!({ "errors": [{ "code": "10009", "title": "Authentication failed" }] });
    let bare = t.send(t.http.get(t.url("/sim_cards"))).await;
    assert_eq!(bare.status, StatusCode::UNAUTHORIZED);
    assert_eq!(bare.body, expected);
    let wrong = t
        .send(t.http.post(t.url("/actions/purchase/esims")).bearer_auth("KEY_wrong").json(&json!({ "amount": 1 })))
        .await;
    assert_eq!((wrong.status, &wrong.body), (StatusCode::UNAUTHORIZED, &expected));
    assert!(wrong.headers.contains_key("x-ratelimit-limit"));
    let basic = t.send(t.http.get(t.url("/sim_cards")).basic_auth(API_KEY, None::<&str>)).await;
    assert_eq!(basic.status, StatusCode::UNAUTHORIZED);
    assert!(t.emulator.sims().is_empty());

    t.emulator.set_quirks(Quirks { empty_401_body: true, ..Quirks::default() });
    let empty = t.send(t.http.get(t.url("/sim_cards"))).await;
    assert_eq!((empty.status, empty.body), (StatusCode::UNAUTHORIZED, Value::Null));
    assert_eq!(t.get("/sim_cards").await.status, StatusCode::OK, "the right key still works");
    assert_spec_conformant(&t.emulator);
}

#[tokio::test]
async fn unknown_ids_answer_404_10005() {
    let t = start().await;
    let unknown = "6a09cdc3-8948-47f0-aa62-74ac943d6c58";
    for answer in [
        t.get(&format!("/sim_cards/{unknown}")).await,
        t.get(&format!("/sim_cards/{unknown}/activation_code")).await,
        t.post(&format!("/sim_cards/{unknown}/actions/enable"), None).await,
        t.get(&format!("/sim_card_actions/{unknown}")).await,
    ] {
        assert_eq!((answer.status, answer.code()), (StatusCode::NOT_FOUND, "10005"), "{}", answer.body);
        assert!(answer.body["errors"][0]["detail"].is_string());
    }
    t.emulator.set_quirks(Quirks { bare_not_found: true, ..Quirks::default() });
    let bare = t.get(&format!("/sim_cards/{unknown}")).await;
    assert_eq!(bare.status, StatusCode::NOT_FOUND);
    assert_eq!(bare.body["code"], "10005", "one bare error object: {}", bare.body);
    assert_spec_conformant(&t.emulator);
}

// ---------------------------------------------------------------------------------------------
// Faults and inventory

#[tokio::test]
async fn injected_server_errors_and_rate_limits_answer_before_any_work() {
    let t = start().await;
    t.emulator.inject(Target::Purchase, Fault::ServerError, 1);
    let failed = t.purchase(json!({ "amount": 1, "tags": ["x"] })).await;
    assert_eq!((failed.status, failed.code()), (StatusCode::INTERNAL_SERVER_ERROR, "10007"));
    assert!(t.emulator.sims().is_empty(), "nothing bought");
    let id = t.buy("after-500").await;

    t.emulator.inject(Target::Any, Fault::RateLimited { reset_seconds: 7 }, 2);
    for _ in 0..2 {
        let limited = t.get(&format!("/sim_cards/{id}")).await;
        assert_eq!((limited.status, limited.code()), (StatusCode::TOO_MANY_REQUESTS, "10011"));
        assert_eq!(limited.body["errors"][0]["title"], "Too many requests");
        assert_eq!(limited.headers["x-ratelimit-remaining"], "0");
        assert_eq!(limited.headers["x-ratelimit-reset"], "7");
    }
    let fine = t.get(&format!("/sim_cards/{id}")).await;
    assert_eq!(fine.status, StatusCode::OK);
    for name in ["x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"] {
        let value = fine.headers[name].to_str().unwrap();
        assert!(value.parse::<u64>().is_ok(), "{name}: {value}");
    }

    // A fault aimed at one endpoint leaves the others alone.
    t.emulator.inject(Target::GetSim, Fault::ServerError, 1);
    assert_eq!(t.get("/sim_cards").await.status, StatusCode::OK);
    assert_eq!(t.get(&format!("/sim_cards/{id}")).await.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(t.get(&format!("/sim_cards/{id}")).await.status, StatusCode::OK);

    // The budget: request limit + 1 is refused until the window resets.
    t.emulator.set_rate_limit(3, Duration::from_secs(60));
    for remaining in ["2", "1", "0"] {
        assert_eq!(t.get("/sim_cards").await.headers["x-ratelimit-remaining"], remaining);
    }
    let over = t.get("/sim_cards").await;
    assert_eq!((over.status, over.code()), (StatusCode::TOO_MANY_REQUESTS, "10011"));
    let reset: u64 = over.headers["x-ratelimit-reset"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&reset), "{reset}");
    assert_spec_conformant(&t.emulator);
}

#[tokio::test]
async fn an_injected_hang_outlasts_a_short_client_timeout() {
    let t = start().await;
    t.emulator.inject(Target::Purchase, Fault::Hang(Duration::from_millis(1500)), 1);
    let impatient = client(Some(Duration::from_millis(300)));
    let started = Instant::now();
    let error = impatient
        .post(t.url("/actions/purchase/esims"))
        .bearer_auth(API_KEY)
        .json(&json!({ "amount": 1, "tags": ["hung"] }))
        .send()
        .await
        .expect_err("the client gives up");
    assert!(error.is_timeout(), "{error}");
    assert!(started.elapsed() < Duration::from_millis(1200));
    tokio::time::sleep(Duration::from_millis(1700)).await;
    assert!(t.emulator.sims().is_empty(), "the hang came before the work and the client left");
    let log = t.emulator.requests();
    assert_eq!((log.len(), log[0].status), (1, 499), "logged as abandoned");

    // A patient client gets the normal answer after the delay.
    t.emulator.inject(Target::ListSims, Fault::Hang(Duration::from_millis(200)), 1);
    let started = Instant::now();
    assert_eq!(t.get("/sim_cards").await.status, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_spec_conformant(&t.emulator);
}

#[tokio::test]
async fn out_of_stock_and_inventory_answer_202_with_70001() {
    let t = start_with(TelnyxEmulatorConfig { inventory: Some(2), ..config() }).await;
    t.emulator.inject(Target::Purchase, Fault::OutOfStock, 1);
    let none = t.purchase(json!({ "amount": 1 })).await;
    assert_eq!(none.status, StatusCode::ACCEPTED);
    assert_eq!(none.body["data"], json!([]));
    assert_eq!(none.body["errors"][0]["code"], "70001");
    assert_eq!(t.emulator.purchases(), 0);

    let short = t.purchase(json!({ "amount": 3, "tags": ["short"] })).await;
    assert_eq!(short.status, StatusCode::ACCEPTED);
    assert_eq!(short.body["data"].as_array().unwrap().len(), 2, "what it could create");
    assert_eq!(short.body["errors"][0]["code"], "70001");
    assert_eq!(t.emulator.purchases(), 1);
    let empty = t.purchase(json!({ "amount": 1 })).await;
    assert_eq!((empty.body["data"].as_array().unwrap().len(), empty.code()), (0, "70001"));
    assert_eq!(t.emulator.purchases(), 1, "a purchase that bought nothing does not count");

    t.emulator.set_inventory(None);
    t.buy("restocked").await;
    assert_eq!(t.control("/_emulator/inventory", json!({ "remaining": 0 })).await, StatusCode::OK);
    assert_eq!(t.purchase(json!({ "amount": 1 })).await.code(), "70001");
    assert_eq!(t.emulator.sims().len(), 3);
    assert_spec_conformant(&t.emulator);
}

#[tokio::test]
async fn a_purchase_can_fail_after_creating_its_sims() {
    let t = start().await;
    t.emulator.fail_next_purchase_after_creating(Fault::ServerError);
    let failed = t.purchase(json!({ "amount": 1, "sim_card_group_id": GROUP, "tags": ["tern-order-crash"] })).await;
    assert_eq!((failed.status, failed.code()), (StatusCode::INTERNAL_SERVER_ERROR, "10007"));
    assert_eq!(t.emulator.sims().len(), 1, "the SIM exists anyway");
    assert_eq!(t.emulator.purchases(), 1);
    let found = t.search("filter[tags][]=tern-order-crash").await;
    assert_eq!(found, [t.emulator.sims()[0]["id"].as_str().unwrap().to_owned()]);
    t.buy("next-is-normal").await;

    // Hang after creating: the client times out, the SIM is there.
    t.emulator.fail_next_purchase_after_creating(Fault::Hang(Duration::from_secs(2)));
    let impatient = client(Some(Duration::from_millis(300)));
    let error = impatient
        .post(t.url("/actions/purchase/esims"))
        .bearer_auth(API_KEY)
        .json(&json!({ "amount": 1, "tags": ["tern-order-hang"] }))
        .send()
        .await
        .expect_err("times out");
    assert!(error.is_timeout());
    assert_eq!(t.search("filter[tags][]=tern-order-hang").await.len(), 1);

    // New SIMs may reach tag searches late; the SIM itself is readable at once.
    t.emulator.delay_tag_visibility(Duration::from_millis(1000));
    let late = t.buy("tern-order-late").await;
    assert!(t.search("filter[tags][]=tern-order-late").await.is_empty());
    assert_eq!(t.get(&format!("/sim_cards/{late}")).await.status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1050)).await;
    assert_eq!(t.search("filter[tags][]=tern-order-late").await, [late]);
    assert_spec_conformant(&t.emulator);
}

// ---------------------------------------------------------------------------------------------
// Controls, quirks, the other endpoints, and the validator itself

#[tokio::test]
async fn http_controls_quirks_and_the_action_list() {
    let t = start_with(TelnyxEmulatorConfig { action_delay: Duration::from_millis(200), ..config() }).await;
    t.emulator.set_quirks(Quirks { start_registering: true, activation_code_extra_fields: true, ..Quirks::default() });
    let bought = t.purchase(json!({ "amount": 1, "status": "standby", "tags": ["quirky"] })).await;
    let id = bought.body["data"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(bought.body["data"][0]["status"]["value"], "registering");
    assert_eq!(bought.body["data"][0]["actions_in_progress"], true);
    let code = t.get(&format!("/sim_cards/{id}/activation_code")).await.body;
    assert!(code["data"]["activation_code"].as_str().unwrap().ends_with("$2.999.1$1"), "{code}");
    tokio::time::sleep(Duration::from_millis(250)).await;
    let sim = t.get(&format!("/sim_cards/{id}?include_pin_puk_codes=true")).await.body;
    assert_eq!(sim["data"]["status"]["value"], "standby");
    assert!(all_digits(sim["data"]["pin_puk_codes"]["puk1"].as_str().unwrap(), 8));
    assert!(t.get(&format!("/sim_cards/{id}")).await.body["data"].get("pin_puk_codes").is_none());

    // A standby SIM that uses data is enabled by an `enable_standby_sim_card` action.
    t.emulator.add_usage_mb(&id, 1.0).unwrap();
    let actions =
        t.get(&format!("/sim_card_actions?filter[sim_card_id]={id}&filter[action_type]=enable_standby_sim_card")).await;
    assert_eq!(actions.body["data"][0]["status"]["value"], "completed");
    assert_eq!(actions.body["meta"]["total_results"], 1);
    assert_eq!(t.get(&format!("/sim_cards/{id}")).await.body["data"]["status"]["value"], "enabled");
    let sorted = t.get("/sim_cards?sort=-current_billing_period_consumed_data.amount").await;
    assert_eq!(sorted.status, StatusCode::OK);
    assert_eq!(t.get("/sim_card_actions?filter[status]=paused").await.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Controls over HTTP, with their own errors.
    assert_eq!(
        t.control("/_emulator/inject", json!({ "target": "get_sim", "fault": "server_error" })).await,
        StatusCode::OK
    );
    assert_eq!(t.get(&format!("/sim_cards/{id}")).await.code(), "10007");
    assert_eq!(
        t.control("/_emulator/inject", json!({ "target": "purchase", "fault": "melt" })).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        t.control("/_emulator/inject", json!({ "target": "moon", "fault": "hang" })).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(t.control("/_emulator/sims/nope/usage", json!({ "mb": 1.0 })).await, StatusCode::NOT_FOUND);
    assert_eq!(t.control(&format!("/_emulator/sims/{id}/billing_period"), json!({})).await, StatusCode::OK);
    assert_eq!(t.control("/_emulator/rate_limit", json!({ "limit": 500, "window_seconds": 10 })).await, StatusCode::OK);
    assert_eq!(t.get("/sim_cards").await.headers["x-ratelimit-limit"], "500");
    assert_eq!(t.get("/_emulator/sims").await.status, StatusCode::NOT_FOUND, "controls are not under /v2");
    assert_spec_conformant(&t.emulator);
}

#[tokio::test]
async fn the_spec_check_catches_broken_bodies() {
    let t = start().await;
    let id = t.buy("valid").await;
    t.get(&format!("/sim_cards/{id}")).await;
    t.get("/sim_cards").await;
    t.get("/sim_cards/6a09cdc3-8948-47f0-aa62-74ac943d6c58").await;
    let recorded = t.emulator.requests();
    assert!(spec_problems(&recorded).is_empty());

    let broken = |index: usize, edit: &dyn Fn(&mut RecordedRequest)| {
        let mut copy = recorded.clone();
        edit(&mut copy[index]);
        let problems = spec_problems(&copy);
        assert!(!problems.is_empty(), "the check misses a broken {} {}", copy[index].method, copy[index].path);
    };
    broken(0, &|r| r.response["data"][0]["status"]["value"] = json!("bogus"));
    broken(0, &|r| r.response["data"][0]["sim_card_group_id"] = json!("not-a-uuid"));
    broken(0, &|r| r.body = Some(json!({ "amount": 0 })));
    broken(1, &|r| r.response["data"]["data_limit"] = json!({ "amount": 100, "unit": "MB" }));
    broken(1, &|r| r.response = Value::Null);
    broken(2, &|r| r.response["meta"]["total_pages"] = json!("1"));
    broken(3, &|r| r.response["errors"][0]["code"] = json!(10005));
    broken(3, &|r| r.status = 201); // `default` covers errors only
    broken(0, &|r| {
        // An error the spec does not declare for purchases must still be the errors envelope.
        r.status = 500;
        r.response = json!({ "message": "boom" });
    });

    broken(1, &|r| r.path = "/sim_cards/x/teleport".into());
}
