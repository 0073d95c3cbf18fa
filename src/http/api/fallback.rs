//! Every 4xx under `/api/v1` is `application/problem+json`: unknown paths get the router's
//! fallback, and whatever axum itself answers without a body (a method the path does not
//! accept, with its `Allow` header) is rewritten here as a problem document.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::http::errors::Problem;

/// The router's fallback: no such endpoint.
pub async fn not_found() -> Problem {
    Problem::new(StatusCode::NOT_FOUND, "not_found", "No such endpoint.".into())
}

/// Rewrites a client-error answer that is not a problem document into one, keeping its
/// status and headers (such as `Allow`).
pub async fn problems_only(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let response = next.run(request).await;
    let status = response.status();
    let is_problem = response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v == "application/problem+json");
    if !status.is_client_error() || is_problem {
        return response;
    }
    let (code, detail) = match status {
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            format!("This endpoint does not accept {method}; the Allow header lists what it does."),
        ),
        StatusCode::NOT_FOUND => ("not_found", "No such endpoint.".to_string()),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "The request body is too large.".to_string()),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ("unsupported_media_type", "Send the body as JSON with Content-Type: application/json.".to_string())
        }
        _ => ("bad_request", "The request was not accepted.".to_string()),
    };
    let (mut parts, _) = response.into_parts();
    let problem = Problem::new(status, code, detail).into_response();
    let (problem_parts, body) = problem.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    drop(problem_parts);
    Response::from_parts(parts, Body::new(body))
}
