//! Rate limits on the API as HTTP: every write under `/api/v1` is counted per client address
//! (`ClientIp`), endpoints add their own policies, and answers carry the IETF draft's
//! `RateLimit-Policy` and `RateLimit` fields; a refusal is a 429 problem with `Retry-After`.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::Error;
use crate::http::auth::ClientIp;
use crate::http::errors::{ApiError, Problem};
use crate::http::state::AppState;
use crate::services::Pool;
use crate::services::rate_limit::{self, Decision, Policy};

/// Counts every write (any method but GET, HEAD and OPTIONS) against the client address's
/// `api-writes` policy before the handler runs; a refused write reaches no handler.
pub async fn limit_writes(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    request: Request,
    next: Next,
) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(request).await;
    }
    let subject = format!("ip:{}", ip.as_deref().unwrap_or("unknown"));
    match rate_limit::check(&state.pool, state.limits.api_writes, &subject).await {
        Ok(decision) if !decision.allowed => too_many(&decision),
        Ok(decision) => {
            let mut response = next.run(request).await;
            add_headers(response.headers_mut(), &decision);
            response
        }
        Err(e) => ApiError(e).into_response(),
    }
}

/// An API answer that is an error or a refusal by a rate limit.
pub enum ApiFailure {
    Error(ApiError),
    Limited(Decision),
}

impl<E: Into<Error>> From<E> for ApiFailure {
    fn from(e: E) -> Self {
        ApiFailure::Error(ApiError(e.into()))
    }
}

impl IntoResponse for ApiFailure {
    fn into_response(self) -> Response {
        match self {
            ApiFailure::Error(e) => e.into_response(),
            ApiFailure::Limited(decision) => too_many(&decision),
        }
    }
}

/// Counts one request of `subject` against `policy`: the decision to report on success, or
/// the 429 to answer.
pub async fn enforce(pool: &Pool, policy: Policy, subject: &str) -> Result<Decision, ApiFailure> {
    let decision = rate_limit::check(pool, policy, subject).await?;
    if decision.allowed { Ok(decision) } else { Err(ApiFailure::Limited(decision)) }
}

/// `RateLimit-Policy: "name";q=LIMIT;w=WINDOW` and `RateLimit: "name";r=REMAINING;t=RESET`
/// (draft-ietf-httpapi-ratelimit-headers), appended: several policies make a list.
pub fn add_headers(headers: &mut HeaderMap, d: &Decision) {
    let p = d.policy;
    let policy = format!("\"{}\";q={};w={}", p.name, p.limit, p.window_seconds);
    let current = format!("\"{}\";r={};t={}", p.name, d.remaining, d.reset_seconds);
    for (name, value) in [("ratelimit-policy", policy), ("ratelimit", current)] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.append(name, value);
        }
    }
}

/// The 429 problem: when to retry, and the policy that refused.
fn too_many(d: &Decision) -> Response {
    let p = d.policy;
    let detail = format!(
        "Too many requests: at most {} every {} seconds ({}). Retry in {} seconds.",
        p.limit, p.window_seconds, p.name, d.retry_after_seconds
    );
    let mut response = Problem::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", detail).into_response();
    let headers = response.headers_mut();
    headers.insert(header::RETRY_AFTER, HeaderValue::from(d.retry_after_seconds));
    add_headers(headers, d);
    response
}
