//! Test controls: what a buyer, the passage of time or a misbehaving network would do, as
//! methods (used by [`super::StripeEmulator`]) and as `POST /_emulator/…` routes taking JSON
//! or form bodies and answering JSON.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, to_bytes};
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Json, Router};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::api::parse_status;
use super::payments::Refusal;
use super::state::{RequestFault, Shared};

/// How long `wait_for_deliveries` waits at most, so a test never hangs on a dead endpoint.
const DELIVERY_WAIT_LIMIT: Duration = Duration::from_secs(10);
const DELIVERY_POLL: Duration = Duration::from_millis(10);

impl Shared {
    pub fn pay(&self, session_id: &str, email: Option<&str>) -> Result<(), Refusal> {
        self.update(|state, now| state.pay(session_id, email, now))
    }

    pub fn decline(&self, session_id: &str) -> Result<(), Refusal> {
        self.update(|state, _| state.require_open(session_id))
    }

    pub fn pay_delayed(&self, session_id: &str) -> Result<(), Refusal> {
        self.update(|state, now| state.pay_delayed(session_id, None, now))
    }

    pub fn settle_delayed(&self, session_id: &str, succeed: bool) -> Result<(), Refusal> {
        self.update(|state, now| state.settle_delayed(session_id, succeed, now))
    }

    pub fn expire(&self, session_id: &str) -> Result<(), Refusal> {
        self.update(|state, now| {
            state.require_open(session_id)?;
            state.expire_session(session_id, now);
            Ok(())
        })
    }

    pub fn redeliver(&self, event_id: &str) -> Result<(), Refusal> {
        self.change_webhooks(|webhooks| webhooks.redeliver(event_id))
    }

    pub fn fail_next_requests(&self, status: u16, n: usize, should_retry: Option<bool>) {
        let Some(status) = parse_status(status) else {
            tracing::warn!(http.status = status, "stripe emulator: ignoring a fault status that is not 4xx/5xx");
            return;
        };
        self.update(|state, _| {
            state.request_fault = (n > 0).then_some(RequestFault { status, remaining: n, should_retry });
        });
    }

    pub fn session_json(&self, session_id: &str) -> Option<Value> {
        self.update(|state, _| state.sessions.get(session_id).map(|s| s.to_json(&state.base_url)))
    }

    /// Resolves once nothing deliverable is queued or in flight, or after the wait limit.
    pub async fn wait_for_deliveries(&self) {
        let deadline = tokio::time::Instant::now() + DELIVERY_WAIT_LIMIT;
        while tokio::time::Instant::now() < deadline {
            if self.with_webhooks(|webhooks| webhooks.is_settled()) {
                return;
            }
            tokio::time::sleep(DELIVERY_POLL).await;
        }
        tracing::warn!("stripe emulator: deliveries still pending after the wait limit");
    }
}

pub fn router(shared: Arc<Shared>) -> Router<Arc<Shared>> {
    Router::new()
        .route("/_emulator/sessions/{id}", post(show_session).get(show_session))
        .route("/_emulator/sessions/{id}/pay", post(pay))
        .route("/_emulator/sessions/{id}/decline", post(decline))
        .route("/_emulator/sessions/{id}/pay_delayed", post(pay_delayed))
        .route("/_emulator/sessions/{id}/settle", post(settle))
        .route("/_emulator/sessions/{id}/expire", post(expire))
        .route("/_emulator/clock/advance", post(advance_clock))
        .route("/_emulator/events", post(list_events).get(list_events))
        .route("/_emulator/events/{id}/redeliver", post(redeliver))
        .route("/_emulator/webhooks/url", post(set_webhook_url))
        .route("/_emulator/webhooks/hold", post(hold_events))
        .route("/_emulator/webhooks/release", post(release_events))
        .route("/_emulator/webhooks/duplicate", post(duplicate_deliveries))
        .route("/_emulator/webhooks/drop", post(drop_next_events))
        .route("/_emulator/webhooks/fail", post(fail_next_deliveries))
        .route("/_emulator/webhooks/concurrency", post(delivery_concurrency))
        .route("/_emulator/webhooks/rotate_secret", post(rotate_webhook_secret))
        .route("/_emulator/webhooks/wait", post(wait_for_deliveries))
        .route("/_emulator/requests/fail", post(fail_next_requests))
        .route("/_emulator/refunds/pending", post(pending_refunds))
        .route_layer(axum::middleware::from_fn_with_state(shared, super::control_auth::require))
}

/// A control's body: JSON when sent as JSON, else a form; an empty body means defaults.
pub struct ControlBody<T>(T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for ControlBody<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        let bytes = to_bytes(body, 64 * 1024)
            .await
            .map_err(|_| control_error(StatusCode::BAD_REQUEST, "unreadable body".into()))?;
        if bytes.is_empty() {
            return Ok(Self(T::default()));
        }
        let is_json = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if is_json {
            return serde_json::from_slice(&bytes)
                .map(Self)
                .map_err(|e| control_error(StatusCode::BAD_REQUEST, e.to_string()));
        }
        let request = Request::from_parts(parts, Body::from(bytes));
        Form::<T>::from_request(request, state)
            .await
            .map(|Form(value)| Self(value))
            .map_err(|e| control_error(StatusCode::BAD_REQUEST, e.body_text()))
    }
}

fn control_error(status: StatusCode, message: String) -> Response {
    (status, Json(json!({ "error": { "message": message } }))).into_response()
}

fn done(result: Result<(), Refusal>) -> Response {
    match result {
        Ok(()) => Json(json!({ "ok": true })).into_response(),
        Err(refusal @ (Refusal::NoSuchSession(_) | Refusal::NoSuchEvent(_))) => {
            control_error(StatusCode::NOT_FOUND, refusal.to_string())
        }
        Err(refusal) => control_error(StatusCode::BAD_REQUEST, refusal.to_string()),
    }
}

fn ok() -> Response {
    done(Ok(()))
}

async fn show_session(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    match shared.session_json(&id) {
        Some(session) => Json(session).into_response(),
        None => control_error(StatusCode::NOT_FOUND, format!("No such checkout session: '{id}'")),
    }
}

#[derive(Debug, Default, Deserialize)]
struct PayRequest {
    email: Option<String>,
}

async fn pay(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    ControlBody(body): ControlBody<PayRequest>,
) -> Response {
    done(shared.pay(&id, body.email.as_deref()))
}

async fn decline(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    done(shared.decline(&id))
}

async fn pay_delayed(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    done(shared.pay_delayed(&id))
}

#[derive(Debug, Default, Deserialize)]
struct SettleRequest {
    succeed: bool,
}

async fn settle(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    ControlBody(body): ControlBody<SettleRequest>,
) -> Response {
    done(shared.settle_delayed(&id, body.succeed))
}

async fn expire(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    done(shared.expire(&id))
}

#[derive(Debug, Default, Deserialize)]
struct AdvanceClockRequest {
    seconds: i64,
}

async fn advance_clock(
    State(shared): State<Arc<Shared>>,
    ControlBody(body): ControlBody<AdvanceClockRequest>,
) -> Response {
    shared.advance_clock(body.seconds);
    Json(json!({ "ok": true, "now": shared.now() })).into_response()
}

async fn list_events(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(json!({ "data": shared.with_webhooks(|w| w.events()) }))
}

async fn redeliver(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    done(shared.redeliver(&id))
}

#[derive(Debug, Default, Deserialize)]
struct UrlRequest {
    url: String,
}

async fn set_webhook_url(State(shared): State<Arc<Shared>>, ControlBody(body): ControlBody<UrlRequest>) -> Response {
    if body.url.is_empty() {
        return control_error(StatusCode::BAD_REQUEST, "url is required".into());
    }
    shared.change_webhooks(|w| w.set_url(body.url));
    ok()
}

#[derive(Debug, Deserialize)]
struct SwitchRequest {
    #[serde(default = "default_on")]
    on: bool,
}

impl Default for SwitchRequest {
    fn default() -> Self {
        Self { on: true }
    }
}

fn default_on() -> bool {
    true
}

async fn hold_events(State(shared): State<Arc<Shared>>, ControlBody(body): ControlBody<SwitchRequest>) -> Response {
    shared.change_webhooks(|w| w.set_hold(body.on));
    ok()
}

#[derive(Debug, Default, Deserialize)]
struct ReleaseRequest {
    #[serde(default)]
    reverse: bool,
}

async fn release_events(State(shared): State<Arc<Shared>>, ControlBody(body): ControlBody<ReleaseRequest>) -> Response {
    shared.change_webhooks(|w| w.release(body.reverse));
    ok()
}

async fn duplicate_deliveries(
    State(shared): State<Arc<Shared>>,
    ControlBody(body): ControlBody<SwitchRequest>,
) -> Response {
    shared.change_webhooks(|w| w.set_duplicate(body.on));
    ok()
}

#[derive(Debug, Default, Deserialize)]
struct CountRequest {
    n: usize,
}

async fn drop_next_events(State(shared): State<Arc<Shared>>, ControlBody(body): ControlBody<CountRequest>) -> Response {
    shared.change_webhooks(|w| w.drop_next(body.n));
    ok()
}

async fn fail_next_deliveries(
    State(shared): State<Arc<Shared>>,
    ControlBody(body): ControlBody<CountRequest>,
) -> Response {
    shared.change_webhooks(|w| w.fail_next(body.n));
    ok()
}

async fn delivery_concurrency(
    State(shared): State<Arc<Shared>>,
    ControlBody(body): ControlBody<CountRequest>,
) -> Response {
    shared.change_webhooks(|w| w.set_concurrency(body.n));
    ok()
}

#[derive(Debug, Default, Deserialize)]
struct RotateRequest {
    secret: String,
}

async fn rotate_webhook_secret(
    State(shared): State<Arc<Shared>>,
    ControlBody(body): ControlBody<RotateRequest>,
) -> Response {
    if body.secret.is_empty() {
        return control_error(StatusCode::BAD_REQUEST, "secret is required".into());
    }
    shared.change_webhooks(|w| w.rotate_secret(&body.secret));
    ok()
}

async fn wait_for_deliveries(State(shared): State<Arc<Shared>>) -> Response {
    shared.wait_for_deliveries().await;
    ok()
}

#[derive(Debug, Default, Deserialize)]
struct FailRequestsRequest {
    status: u16,
    #[serde(default = "one")]
    n: usize,
    #[serde(default)]
    should_retry: Option<bool>,
}

fn one() -> usize {
    1
}

async fn fail_next_requests(
    State(shared): State<Arc<Shared>>,
    ControlBody(body): ControlBody<FailRequestsRequest>,
) -> Response {
    if parse_status(body.status).is_none() {
        return control_error(StatusCode::BAD_REQUEST, "status must be a 4xx or 5xx".into());
    }
    shared.fail_next_requests(body.status, body.n, body.should_retry);
    ok()
}

async fn pending_refunds(State(shared): State<Arc<Shared>>, ControlBody(body): ControlBody<SwitchRequest>) -> Response {
    shared.update(|state, _| state.pending_refunds = body.on);
    ok()
}
