//! Test controls: what a device, the billing cycle or a misbehaving Telnyx would do, as methods
//! (used by [`super::TelnyxEmulator`]) and as `/_emulator/…` routes with JSON bodies. Never
//! under `/v2`: they are not part of Telnyx's API.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::generate;
use super::objects::ActionStatus;
use super::state::{Injected, Quirks, Shared};
use super::{Fault, Target};

/// Why a control could not do what it was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("no SIM card {0}")]
    NoSuchSim(String),
    #[error("{0}")]
    Invalid(String),
}

impl Shared {
    pub fn inject(&self, target: Target, fault: Fault, times: usize) {
        if times == 0 {
            return;
        }
        self.update(|state, _| state.faults.push(Injected { target, fault, remaining: times }));
    }

    pub fn mark_installed(&self, sim_id: &str) -> Result<(), Refusal> {
        self.update(|state, now| {
            let sim = state.sim_mut(sim_id).ok_or_else(|| Refusal::NoSuchSim(sim_id.to_owned()))?;
            sim.eid.get_or_insert_with(generate::eid);
            sim.imei.get_or_insert_with(generate::imei);
            sim.updated_at = now.wall;
            Ok(())
        })
    }

    pub fn force_next_action(&self, status: &str, reason: &str) -> Result<(), Refusal> {
        let outcome = ActionStatus::forced(status, reason)
            .ok_or_else(|| Refusal::Invalid(format!("status must be failed or interrupted, not {status:?}")))?;
        self.update(|state, _| state.forced_action = Some(outcome));
        Ok(())
    }

    pub fn add_usage_mb(&self, sim_id: &str, mb: f64) -> Result<(), Refusal> {
        if !mb.is_finite() || mb < 0.0 {
            return Err(Refusal::Invalid(format!("usage must be a non-negative number of MB, not {mb}")));
        }
        self.update(|state, now| {
            let sim = state.sim_mut(sim_id).ok_or_else(|| Refusal::NoSuchSim(sim_id.to_owned()))?;
            sim.usage_mb += mb;
            sim.updated_at = now.wall;
            if mb > 0.0 {
                state.enable_standby_sim(sim_id, now);
            }
            if let Some(sim) = state.sim_mut(sim_id) {
                sim.apply_limit();
            }
            Ok(())
        })
    }

    pub fn new_billing_period(&self, sim_id: &str) -> Result<(), Refusal> {
        self.update(|state, now| {
            let sim = state.sim_mut(sim_id).ok_or_else(|| Refusal::NoSuchSim(sim_id.to_owned()))?;
            sim.usage_mb = 0.0;
            sim.updated_at = now.wall;
            sim.apply_limit();
            Ok(())
        })
    }

    pub fn remove_from_group(&self, sim_id: &str) -> Result<(), Refusal> {
        self.update(|state, now| {
            let sim = state.sim_mut(sim_id).ok_or_else(|| Refusal::NoSuchSim(sim_id.to_owned()))?;
            sim.group_id = None;
            sim.updated_at = now.wall;
            Ok(())
        })
    }
}

pub fn router(shared: Arc<Shared>) -> Router<Arc<Shared>> {
    Router::new()
        .route("/_emulator/inject", post(inject))
        .route("/_emulator/purchases/fail_after_creating", post(fail_after_creating))
        .route("/_emulator/purchases", get(purchases))
        .route("/_emulator/tag_visibility", post(tag_visibility))
        .route("/_emulator/inventory", post(inventory))
        .route("/_emulator/rate_limit", post(rate_limit))
        .route("/_emulator/quirks", post(quirks))
        .route("/_emulator/actions/force", post(force_action))
        .route("/_emulator/sims", get(list_sims))
        .route("/_emulator/sims/{id}/installed", post(installed))
        .route("/_emulator/sims/{id}/usage", post(usage))
        .route("/_emulator/sims/{id}/billing_period", post(billing_period))
        .route("/_emulator/sims/{id}/remove_group", post(remove_group))
        .route("/_emulator/requests", get(requests))
        .route_layer(axum::middleware::from_fn_with_state(shared, super::control_auth::require))
}

/// A control's refusal: `{"error": "…"}` with a 400 or 404.
struct ControlError(StatusCode, String);

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

fn bad_request(message: String) -> ControlError {
    ControlError(StatusCode::BAD_REQUEST, message)
}

fn done(result: Result<(), Refusal>) -> Response {
    match result {
        Ok(()) => Json(json!({ "ok": true })).into_response(),
        Err(refusal @ Refusal::NoSuchSim(_)) => {
            ControlError(StatusCode::NOT_FOUND, refusal.to_string()).into_response()
        }
        Err(refusal) => bad_request(refusal.to_string()).into_response(),
    }
}

/// A control's JSON body; an empty body means the defaults.
fn body<T: DeserializeOwned + Default>(bytes: &[u8]) -> Result<T, ControlError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(bytes).map_err(|e| bad_request(e.to_string()))
}

/// A fault in JSON: `{"fault": "server_error" | "rate_limited" | "hang" | "out_of_stock",
/// "reset_seconds": 30, "delay_ms": 5000}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct FaultSpec {
    fault: String,
    reset_seconds: Option<u64>,
    delay_ms: Option<u64>,
}

impl FaultSpec {
    fn fault(&self) -> Result<Fault, ControlError> {
        match self.fault.as_str() {
            "server_error" => Ok(Fault::ServerError),
            "rate_limited" => Ok(Fault::RateLimited { reset_seconds: self.reset_seconds.unwrap_or(1) }),
            "hang" => Ok(Fault::Hang(Duration::from_millis(self.delay_ms.unwrap_or(30_000)))),
            "out_of_stock" => Ok(Fault::OutOfStock),
            other => Err(bad_request(format!(
                "fault must be server_error, rate_limited, hang or out_of_stock, not {other:?}"
            ))),
        }
    }
}

fn target(name: &str) -> Result<Target, ControlError> {
    Ok(match name {
        "" | "any" => Target::Any,
        "purchase" => Target::Purchase,
        "list_sims" => Target::ListSims,
        "get_sim" => Target::GetSim,
        "patch_sim" => Target::PatchSim,
        "activation_code" => Target::ActivationCode,
        "action" => Target::Action,
        "get_action" => Target::GetAction,
        other => return Err(bad_request(format!("unknown target {other:?}"))),
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct InjectRequest {
    target: String,
    times: Option<usize>,
    #[serde(flatten)]
    fault: FaultSpec,
}

async fn inject(State(shared): State<Arc<Shared>>, bytes: Bytes) -> Response {
    let run = || -> Result<(), ControlError> {
        let request: InjectRequest = body(&bytes)?;
        shared.inject(target(&request.target)?, request.fault.fault()?, request.times.unwrap_or(1));
        Ok(())
    };
    run().map_or_else(IntoResponse::into_response, |()| done(Ok(())))
}

async fn fail_after_creating(State(shared): State<Arc<Shared>>, bytes: Bytes) -> Response {
    let run = || -> Result<(), ControlError> {
        let fault = body::<FaultSpec>(&bytes)?.fault()?;
        shared.update(|state, _| state.after_create = Some(fault));
        Ok(())
    };
    run().map_or_else(IntoResponse::into_response, |()| done(Ok(())))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DelayRequest {
    delay_ms: u64,
}

async fn tag_visibility(State(shared): State<Arc<Shared>>, bytes: Bytes) -> Response {
    match body::<DelayRequest>(&bytes) {
        Ok(request) => {
            shared.update(|state, _| state.tag_visibility_delay = Duration::from_millis(request.delay_ms));
            done(Ok(()))
        }
        Err(error) => error.into_response(),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct InventoryRequest {
    remaining: Option<u64>,
}

async fn inventory(State(shared): State<Arc<Shared>>, bytes: Bytes) -> Response {
    match body::<InventoryRequest>(&bytes) {
        Ok(request) => {
            shared.update(|state, _| state.inventory = request.remaining);
            done(Ok(()))
        }
        Err(error) => error.into_response(),
    }
}

#[derive(Debug, Deserialize)]
#[serde(default)]
struct RateLimitRequest {
    limit: u64,
    window_seconds: u64,
}

impl Default for RateLimitRequest {
    fn default() -> Self {
        Self { limit: super::state::DEFAULT_RATE_LIMIT, window_seconds: super::state::DEFAULT_RATE_WINDOW.as_secs() }
    }
}

async fn rate_limit(State(shared): State<Arc<Shared>>, bytes: Bytes) -> Response {
    match body::<RateLimitRequest>(&bytes) {
        Ok(request) => {
            shared.update(|state, _| state.rate.reset(request.limit, Duration::from_secs(request.window_seconds)));
            done(Ok(()))
        }
        Err(error) => error.into_response(),
    }
}

async fn quirks(State(shared): State<Arc<Shared>>, bytes: Bytes) -> Response {
    match body::<Quirks>(&bytes) {
        Ok(quirks) => {
            shared.update(|state, _| state.quirks = quirks);
            done(Ok(()))
        }
        Err(error) => error.into_response(),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ForceRequest {
    status: String,
    reason: String,
}

async fn force_action(State(shared): State<Arc<Shared>>, bytes: Bytes) -> Response {
    match body::<ForceRequest>(&bytes) {
        Ok(request) => done(shared.force_next_action(&request.status, &request.reason)),
        Err(error) => error.into_response(),
    }
}

async fn installed(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    done(shared.mark_installed(&id))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct UsageRequest {
    mb: f64,
}

async fn usage(State(shared): State<Arc<Shared>>, Path(id): Path<String>, bytes: Bytes) -> Response {
    match body::<UsageRequest>(&bytes) {
        Ok(request) => done(shared.add_usage_mb(&id, request.mb)),
        Err(error) => error.into_response(),
    }
}

async fn billing_period(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    done(shared.new_billing_period(&id))
}

async fn remove_group(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    done(shared.remove_from_group(&id))
}

async fn list_sims(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(json!({ "data": shared.update(|state, _| state.sims.iter().map(|s| s.full_json(false)).collect::<Vec<_>>()) }))
}

async fn purchases(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(json!({ "purchases": shared.update(|state, _| state.purchases) }))
}

async fn requests(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let recorded = shared.update(|state, _| state.recorded());
    let entries: Vec<Value> = recorded
        .into_iter()
        .map(|r| {
            json!({
                "method": r.method, "path": r.path, "query": r.query, "body": r.body,
                "status": r.status, "response": r.response,
            })
        })
        .collect();
    Json(json!({ "data": entries }))
}
