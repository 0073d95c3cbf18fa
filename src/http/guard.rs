//! Two checks every request passes: text with control characters is refused before any handler
//! runs (ASVS V5.1.4: query strings, forms and JSON bodies alike, a 422 naming the field), and
//! access-control failures are logged (V7.2: 403s, and 404s of requests that carried a token, at
//! warn with the path and the client, never the query or the token).

use std::net::SocketAddr;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::errors::{ErrorPage, HtmlError, InvalidParam, Problem, html_response};
use crate::domain::text::{CONTROL_MESSAGE, has_control};
use crate::error::Error;
use crate::http::auth::client_addr;
use crate::http::state::AppState;

/// Refuses a request whose query, form or JSON body holds a control character; nothing else
/// runs. Webhooks are exempt: their bodies are the provider's, checked by signature.
pub async fn reject_control_chars(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    if path.starts_with("/webhooks/") {
        return next.run(request).await;
    }
    let api = path.starts_with("/api/");
    if let Some(field) = request.uri().query().and_then(|q| form_field_with_control(q.as_bytes())) {
        return refused(api, &field);
    }
    let content_type =
        request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    let form = content_type.starts_with("application/x-www-form-urlencoded");
    let json = content_type.starts_with("application/json") || content_type.contains("+json");
    if !form && !json {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes: Bytes = match axum::body::to_bytes(body, super::MAX_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) if api => return super::errors::ApiError(Error::PayloadTooLarge).into_response(),
        Err(_) => return HtmlError(Error::PayloadTooLarge).into_response(),
    };
    let field = if form {
        form_field_with_control(&bytes)
    } else {
        serde_json::from_slice::<serde_json::Value>(&bytes).ok().and_then(|v| json_field_with_control(&v, ""))
    };
    match field {
        Some(field) => refused(api, &field),
        None => next.run(Request::from_parts(parts, Body::from(bytes))).await,
    }
}

fn form_field_with_control(encoded: &[u8]) -> Option<String> {
    form_urlencoded::parse(encoded).find(|(k, v)| has_control(k) || has_control(v)).map(|(k, _)| k.into_owned())
}

/// The path (`a.b[0]`) of the first string or key holding a control character.
fn json_field_with_control(value: &serde_json::Value, path: &str) -> Option<String> {
    match value {
        serde_json::Value::String(s) => has_control(s).then(|| path.to_string()),
        serde_json::Value::Array(items) => {
            items.iter().enumerate().find_map(|(i, v)| json_field_with_control(v, &format!("{path}[{i}]")))
        }
        serde_json::Value::Object(map) => map.iter().find_map(|(k, v)| {
            let here = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
            if has_control(k) { Some(here) } else { json_field_with_control(v, &here) }
        }),
        _ => None,
    }
}

fn refused(api: bool, field: &str) -> Response {
    // The name is the client's own text: shown escaped, cut short, without its control characters.
    let name: String = field.chars().filter(|c| !c.is_control()).take(64).collect();
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    if api {
        let mut problem =
            Problem::new(status, "validation_failed", format!("The field {name} {}", lowercase(CONTROL_MESSAGE)));
        problem.invalid_params.push(InvalidParam { name, reason: CONTROL_MESSAGE.to_string() });
        problem.into_response()
    } else {
        let message =
            format!("The field “{name}” holds a control character (such as NUL). Remove it and send the form again.");
        html_response(status, ErrorPage::new(status, message))
    }
}

fn lowercase(message: &str) -> String {
    format!("must not hold control characters: {}", message.to_lowercase())
}

/// Logs refused access at warn: every 403, and every 404 of a request that carried a token (an
/// order token, a bearer token) or named an order, which is how a guessed or stolen token shows.
pub async fn log_access_failures(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let carried_token = request.headers().contains_key(header::AUTHORIZATION)
        || request.uri().query().is_some_and(|q| form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == "token"))
        || path.starts_with("/orders/")
        || path.starts_with("/api/v1/orders/");
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let client = client_addr(request.headers(), peer, &state.trusted_proxies);
    let response = next.run(request).await;
    let status = response.status();
    if status == StatusCode::FORBIDDEN || (status == StatusCode::NOT_FOUND && carried_token) {
        let client = client.map(|ip| ip.to_string()).unwrap_or_default();
        tracing::warn!(
            http.method = %method,
            http.path = %path,
            http.status = status.as_u16(),
            client.ip = %client,
            "access refused"
        );
    }
    response
}
