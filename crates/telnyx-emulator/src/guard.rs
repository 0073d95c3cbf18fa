//! What wraps every `/v2` request: the request log, the API-key check, the rate-limit budget
//! and headers, and injected faults (before the endpoint runs, or after a purchase created its
//! SIMs).

use std::sync::Arc;

use axum::Json;
use axum::body::{Body, to_bytes};
use axum::extract::{OriginalUri, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::error::{ApiError, ErrorItem};
use super::state::{RateHeaders, Shared};
use super::{Fault, RecordedRequest, Target};

/// Request bodies larger than this are refused (Tern's are a few hundred bytes).
const MAX_BODY: usize = 1 << 20;
/// Logged for a request whose client went away before the answer (nginx's convention).
const CLIENT_CLOSED: u16 = 499;

pub async fn guard(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let path = path.strip_prefix("/v2").filter(|p| !p.is_empty()).unwrap_or(&path).to_owned();
    let query = request.uri().query().unwrap_or("").to_owned();
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return ApiError::unreadable_body("The request body could not be read.").into_response();
    };
    let body = (!bytes.is_empty()).then(|| {
        serde_json::from_slice::<Value>(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
    });
    let target = classify(&method, &path);
    let requested = body.as_ref().and_then(|b| b.get("amount")).and_then(Value::as_u64).unwrap_or(1);
    let entry = RecordedRequest { method: method.to_string(), path, query, body, status: 0, response: Value::Null };
    let mut log =
        LogEntry { shared: shared.clone(), seq: shared.update(|state, _| state.record_request(entry)), done: false };

    let request = Request::from_parts(parts, Body::from(bytes));
    let response = answer(&shared, target, requested, request, next).await;

    let (parts, body) = response.into_parts();
    let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
    log.finish(parts.status.as_u16(), serde_json::from_slice(&bytes).unwrap_or(Value::Null));
    Response::from_parts(parts, Body::from(bytes))
}

/// Fills in a logged request's answer; if dropped unanswered (the client hung up during a
/// hang), logs it as 499 so a test still sees that the request arrived.
struct LogEntry {
    shared: Arc<Shared>,
    seq: u64,
    done: bool,
}

impl LogEntry {
    fn finish(&mut self, status: u16, response: Value) {
        self.done = true;
        self.shared.update(|state, _| state.record_answer(self.seq, status, response));
    }
}

impl Drop for LogEntry {
    fn drop(&mut self) {
        if !self.done {
            self.shared.update(|state, _| state.record_answer(self.seq, CLIENT_CLOSED, Value::Null));
        }
    }
}

async fn answer(shared: &Shared, target: Option<Target>, requested: u64, request: Request, next: Next) -> Response {
    if !authorized(request.headers(), &shared.api_key) {
        let (headers, empty) = shared.update(|state, now| (state.rate.peek(now.instant), state.quirks.empty_401_body));
        let response =
            if empty { StatusCode::UNAUTHORIZED.into_response() } else { ApiError::unauthorized().into_response() };
        return with_rate_headers(response, headers);
    }
    let (budget, fault) = shared.update(|state, now| match state.rate.take(now.instant) {
        Ok(headers) => (Ok(headers), state.take_fault(target)),
        Err(headers) => (Err(headers), None),
    });
    let headers = match budget {
        Ok(headers) => headers,
        Err(headers) => return with_rate_headers(ApiError::too_many_requests().into_response(), headers),
    };
    if let Some(fault) = &fault {
        tracing::info!(?target, ?fault, "telnyx emulator: injected fault");
    }
    match fault {
        None => {}
        Some(Fault::Hang(delay)) => tokio::time::sleep(delay).await,
        Some(fault) => return refuse(fault, headers, requested),
    }

    let after = match target {
        Some(Target::Purchase) => shared.update(|state, _| state.after_create.take()),
        _ => None,
    };
    let response = next.run(request).await;
    let Some(fault) = after else {
        return with_rate_headers(response, headers);
    };
    if response.status() != StatusCode::ACCEPTED {
        // Nothing was bought: keep the fault for the purchase that does buy.
        shared.update(|state, _| {
            state.after_create.get_or_insert(fault);
        });
        return with_rate_headers(response, headers);
    }
    tracing::info!(?fault, "telnyx emulator: purchase done, now failing as asked");
    match fault {
        Fault::Hang(delay) => {
            tokio::time::sleep(delay).await;
            with_rate_headers(response, headers)
        }
        Fault::OutOfStock => with_rate_headers(response, headers),
        fault => refuse(fault, headers, requested),
    }
}

/// The answer of a fault that replaces the normal one.
fn refuse(fault: Fault, headers: RateHeaders, requested: u64) -> Response {
    match fault {
        Fault::ServerError => with_rate_headers(ApiError::server_error().into_response(), headers),
        Fault::RateLimited { reset_seconds } => with_rate_headers(
            ApiError::too_many_requests().into_response(),
            RateHeaders { remaining: 0, reset_seconds, ..headers },
        ),
        Fault::OutOfStock => {
            let body = json!({ "data": [], "errors": [ErrorItem::out_of_stock(requested).to_json()] });
            with_rate_headers((StatusCode::ACCEPTED, Json(body)).into_response(), headers)
        }
        // Hangs delay the normal answer instead; callers handle them before getting here.
        Fault::Hang(_) => with_rate_headers(ApiError::server_error().into_response(), headers),
    }
}

/// `Authorization: Bearer <key>` (the scheme is case-insensitive, as in RFC 9110).
fn authorized(headers: &HeaderMap, api_key: &str) -> bool {
    let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    match value.trim().split_once(' ') {
        Some((scheme, token)) => scheme.eq_ignore_ascii_case("bearer") && token.trim() == api_key,
        None => false,
    }
}

fn with_rate_headers(mut response: Response, rate: RateHeaders) -> Response {
    let headers = response.headers_mut();
    headers.insert("x-ratelimit-limit", HeaderValue::from(rate.limit));
    headers.insert("x-ratelimit-remaining", HeaderValue::from(rate.remaining));
    headers.insert("x-ratelimit-reset", HeaderValue::from(rate.reset_seconds));
    response
}

/// Which fault target a request is (None: only `Target::Any` hits it).
fn classify(method: &Method, path: &str) -> Option<Target> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let target = match (method.as_str(), segments.as_slice()) {
        ("POST", ["actions", "purchase", "esims"]) => Target::Purchase,
        ("GET", ["sim_cards"]) => Target::ListSims,
        ("GET", ["sim_cards", _]) => Target::GetSim,
        ("PATCH", ["sim_cards", _]) => Target::PatchSim,
        ("GET", ["sim_cards", _, "activation_code"]) => Target::ActivationCode,
        ("POST", ["sim_cards", _, "actions", _]) => Target::Action,
        ("GET", ["sim_card_actions", _]) => Target::GetAction,
        _ => return None,
    };
    Some(target)
}

pub async fn unknown_route(method: Method, OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::not_found(format!("The emulator has no route for {method} {}.", uri.path()))
}
