//! The emulated Stripe API under `/v1`: API-key check (Bearer or Basic), injected failures, idempotency keys,
//! and the Checkout Session and Refund endpoints Tern uses.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::Value;

use super::checkout::new_session;
use super::error::ApiError;
use super::form::Params;
use super::idempotency::idempotent;
use super::objects::{SessionStatus, line_item_list};
use super::paging::Paging;
use super::state::Shared;

pub fn router(shared: Arc<Shared>) -> Router<Arc<Shared>> {
    let v1 = Router::new()
        .route("/checkout/sessions", post(create_session))
        .route("/checkout/sessions/{id}", get(retrieve_session))
        .route("/checkout/sessions/{id}/line_items", get(list_line_items))
        .route("/checkout/sessions/{id}/expire", post(expire_session))
        .route("/refunds", post(create_refund))
        .route("/events", get(super::events::list_events))
        .fallback(unknown_route)
        .method_not_allowed_fallback(unknown_route)
        // Outermost last: the key check and injected failures come before idempotency.
        .layer(from_fn_with_state(shared.clone(), idempotent))
        .layer(from_fn_with_state(shared, guard));
    Router::new().nest("/v1", v1)
}

/// `Authorization: Bearer <api key>` (or Basic with the key as user name), then any failure a
/// test asked for.
async fn guard(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    if let Err(error) = check_api_key(request.headers(), &shared.api_key) {
        return error.into_response();
    }
    let injected = shared.update(|state, _| {
        let fault = state.request_fault.as_mut()?;
        fault.remaining = fault.remaining.checked_sub(1)?;
        let failure = (fault.status, fault.should_retry);
        if fault.remaining == 0 {
            state.request_fault = None;
        }
        Some(failure)
    });
    if let Some((status, should_retry)) = injected {
        tracing::info!(http.status = status.as_u16(), "stripe emulator: injected API failure");
        return ApiError::injected(status, should_retry).into_response();
    }
    next.run(request).await
}

fn check_api_key(headers: &HeaderMap, api_key: &str) -> Result<(), ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(ApiError::unauthorized(
            "You did not provide an API key. You need to provide your API key in the \
             Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
        ));
    };
    let given = value.to_str().ok().and_then(given_key).unwrap_or_default();
    if given == api_key {
        return Ok(());
    }
    let tail: String = given.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    Err(ApiError::unauthorized(format!("Invalid API Key provided: ****{tail}")))
}

/// The key in `Bearer <key>`, or the user name of `Basic base64(<key>:)` as `curl -u <key>:`
/// sends it (Stripe ignores the password).
fn given_key(value: &str) -> Option<String> {
    let (scheme, credentials) = value.trim().split_once(' ')?;
    let credentials = credentials.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(credentials.to_owned());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = BASE64.decode(credentials).ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let user = decoded.split_once(':').map_or(decoded.as_str(), |(user, _password)| user);
        return Some(user.to_owned());
    }
    None
}

async fn create_session(State(shared): State<Arc<Shared>>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let params = Params::parse(&body)?;
    shared.update(|state, now| {
        let session = new_session(&params, now)?;
        let json = session.to_json(&state.base_url);
        tracing::info!(checkout.session = %session.id, amount = session.amount_total(), "stripe emulator: session created");
        state.add_session(session);
        Ok(Json(json))
    })
}

fn no_such_session(id: &str) -> ApiError {
    ApiError::resource_missing("session", format!("No such checkout.session: '{id}'"))
}

async fn retrieve_session(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    shared.session_reads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let query = Params::parse(uri.query().unwrap_or("").as_bytes())?;
    let expand = query.field("expand");
    let mut line_items = false;
    for (index, value) in expand.strings()?.into_iter().enumerate() {
        match value {
            "line_items" => line_items = true,
            other => {
                return Err(ApiError::invalid(
                    &format!("expand[{index}]"),
                    format!("This property cannot be expanded in the Stripe emulator ({other})."),
                ));
            }
        }
    }
    shared.update(|state, _| {
        let session = state.sessions.get(&id).ok_or_else(|| no_such_session(&id))?;
        let mut json = session.to_json(&state.base_url);
        if line_items {
            json["line_items"] = line_item_list(session, &session.line_items, false);
        }
        Ok(Json(json))
    })
}

async fn list_line_items(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let query = Params::parse(uri.query().unwrap_or("").as_bytes())?;
    let paging = Paging::parse(&query)?;
    shared.update(|state, _| {
        let session = state.sessions.get(&id).ok_or_else(|| no_such_session(&id))?;
        let (page, has_more) = paging.page(&session.line_items, |i| Some(i.id.as_str()), "line item")?;
        Ok(Json(line_item_list(session, page, has_more)))
    })
}

async fn expire_session(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    shared.update(|state, now| {
        let session = state.sessions.get(&id).ok_or_else(|| no_such_session(&id))?;
        if session.status != SessionStatus::Open {
            return Err(ApiError::invalid(
                "session",
                format!(
                    "Only Checkout Sessions with a status in [\"open\"] can be expired. This \
                     Checkout Session has a status of \"{}\".",
                    session.status.as_str()
                ),
            ));
        }
        state.expire_session(&id, now);
        let session = state.sessions.get(&id).ok_or_else(|| no_such_session(&id))?;
        Ok(Json(session.to_json(&state.base_url)))
    })
}

async fn create_refund(State(shared): State<Arc<Shared>>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let params = Params::parse(&body)?;
    shared.update(|state, now| state.create_refund(&params, now)).map(Json)
}

async fn unknown_route(method: Method, OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::unknown_route(method.as_str(), uri.path())
}

/// A status the injected-failure control accepts: any 4xx or 5xx.
pub fn parse_status(status: u16) -> Option<StatusCode> {
    StatusCode::from_u16(status).ok().filter(|s| s.is_client_error() || s.is_server_error())
}
