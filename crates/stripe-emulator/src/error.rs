//! Stripe's error envelope, `{"error": {"type", "code", "message", "param"}}`, as an axum response.

use axum::Json;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Marks a response that was refused before the endpoint ran (validation, unknown resource,
/// key conflict): Stripe stores no idempotent result for those.
#[derive(Debug, Clone, Copy)]
pub struct NotExecuted;

/// An error answer of the emulated API.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    kind: &'static str,
    code: Option<&'static str>,
    message: String,
    param: Option<String>,
    should_retry: Option<bool>,
}

impl ApiError {
    fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self { status, kind, code: None, message: message.into(), param: None, should_retry: None }
    }

    fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
    }

    fn with_code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }

    fn with_param(mut self, param: &str) -> Self {
        self.param = Some(param.to_owned());
        self
    }

    /// 400 for a bad value that has no specific Stripe error code (enums, ranges, lists).
    pub fn invalid(param: &str, message: impl Into<String>) -> Self {
        Self::invalid_request(message).with_param(param)
    }

    pub fn missing(param: &str) -> Self {
        Self::invalid_request(format!("Missing required param: {param}."))
            .with_code("parameter_missing")
            .with_param(param)
    }

    pub fn invalid_empty(param: &str) -> Self {
        Self::invalid_request(format!(
            "You passed an empty string for '{param}'. We assume empty values are an attempt to \
             unset a parameter; however '{param}' cannot be unset."
        ))
        .with_code("parameter_invalid_empty")
        .with_param(param)
    }

    pub fn invalid_integer(param: &str, raw: &str) -> Self {
        Self::invalid_request(format!("Invalid integer: {raw}"))
            .with_code("parameter_invalid_integer")
            .with_param(param)
    }

    /// An integer outside the range the parameter allows.
    pub fn integer_out_of_range(param: &str, message: impl Into<String>) -> Self {
        Self::invalid_request(message).with_code("parameter_invalid_integer").with_param(param)
    }

    pub fn url_invalid(param: &str) -> Self {
        Self::invalid_request(format!("Not a valid URL: {param} must be an http(s) URL."))
            .with_code("url_invalid")
            .with_param(param)
    }

    /// 404 `resource_missing` for a path or parameter naming an unknown object.
    pub fn resource_missing(param: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "invalid_request_error", message)
            .with_code("resource_missing")
            .with_param(param)
    }

    /// 400 with a specific code (e.g. `amount_too_large`, `charge_already_refunded`).
    pub fn request_failed(code: &'static str, param: Option<&str>, message: impl Into<String>) -> Self {
        let mut error = Self::invalid_request(message).with_code(code);
        error.param = param.map(str::to_owned);
        error
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_request_error", message)
    }

    pub fn unknown_route(method: &str, path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            format!("Unrecognized request URL ({method}: {path})."),
        )
    }

    pub fn idempotency_mismatch(key: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "idempotency_error",
            format!(
                "Keys for idempotent requests can only be used with the same parameters they \
                 were first used with. Try using a key other than '{key}' if you meant to \
                 execute a different request."
            ),
        )
    }

    pub fn idempotency_in_use(key: &str) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "idempotency_error",
            format!(
                "There is currently another in-progress request using this Stripe token or \
                 idempotency key ({key}). Please try again later."
            ),
        )
        .with_code("idempotency_key_in_use")
    }

    /// A failure injected by a test control: `api_error` with the chosen status.
    pub fn injected(status: StatusCode, should_retry: Option<bool>) -> Self {
        let mut error = Self::new(
            status,
            "api_error",
            "An error occurred with our connection to Stripe (injected by the emulator).",
        );
        if status == StatusCode::TOO_MANY_REQUESTS {
            error = error.with_code("rate_limit");
        }
        error.should_retry = should_retry;
        error
    }

    #[cfg(test)]
    pub fn code(&self) -> Option<&str> {
        self.code
    }

    #[cfg(test)]
    pub fn param(&self) -> Option<&str> {
        self.param.as_deref()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "error": {
                "type": self.kind,
                "code": self.code,
                "message": self.message,
                "param": self.param,
                "doc_url": self.code.map(|c| format!("https://stripe.com/docs/error-codes/{c}")),
            }
        });
        let mut response = (self.status, Json(body)).into_response();
        if let Some(retry) = self.should_retry {
            response
                .headers_mut()
                .insert("stripe-should-retry", HeaderValue::from_static(if retry { "true" } else { "false" }));
        }
        // Every error the handlers produce is a refusal before execution (see `NotExecuted`).
        response.extensions_mut().insert(NotExecuted);
        response
    }
}
