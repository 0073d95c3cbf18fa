//! Telnyx's error envelope, `{"errors": [{"code", "title", "detail", "source", "meta"}]}` with
//! string codes, as an axum response.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

/// One entry of the `errors` list (`wireless_Error`).
#[derive(Debug, Clone)]
pub struct ErrorItem {
    code: &'static str,
    title: &'static str,
    detail: Option<String>,
    pointer: Option<String>,
    parameter: Option<String>,
}

impl ErrorItem {
    pub fn new(code: &'static str, title: &'static str, detail: impl Into<String>) -> Self {
        Self { code, title, detail: Some(detail.into()), pointer: None, parameter: None }
    }

    /// 70001: the purchase could not get (all) the SIMs it asked for.
    pub fn out_of_stock(missing: u64) -> Self {
        Self::new(
            "70001",
            "Not enough SIM cards available",
            format!("{missing} eSIM(s) could not be purchased: not enough SIM cards are available."),
        )
    }

    pub fn to_json(&self) -> Value {
        let mut item = Map::new();
        item.insert("code".into(), json!(self.code));
        item.insert("title".into(), json!(self.title));
        if let Some(detail) = &self.detail {
            item.insert("detail".into(), json!(detail));
            item.insert(
                "meta".into(),
                json!({ "url": format!("https://developers.telnyx.com/docs/overview/errors/{}", self.code) }),
            );
        }
        let mut source = Map::new();
        if let Some(pointer) = &self.pointer {
            source.insert("pointer".into(), json!(pointer));
        }
        if let Some(parameter) = &self.parameter {
            source.insert("parameter".into(), json!(parameter));
        }
        if !source.is_empty() {
            item.insert("source".into(), Value::Object(source));
        }
        Value::Object(item)
    }
}

/// An error answer of the emulated API.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    item: ErrorItem,
    /// The spec's not-found shape: one bare error object instead of the envelope (a quirk).
    bare: bool,
}

impl ApiError {
    fn new(status: StatusCode, item: ErrorItem) -> Self {
        Self { status, item, bare: false }
    }

    /// 401 with exactly `{"errors":[{"code":"10009","title":"Authentication failed"}]}`.
    pub fn unauthorized() -> Self {
        let item =
            ErrorItem { code: "10009", title: "Authentication failed", detail: None, pointer: None, parameter: None };
        Self::new(StatusCode::UNAUTHORIZED, item)
    }

    /// 404 10005 for an unknown id or route.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorItem::new("10005", "Resource not found", detail))
    }

    /// 422 10015 for a bad value in the JSON body, pointing at it (RFC 6901).
    pub fn invalid_field(pointer: &str, detail: impl Into<String>) -> Self {
        let mut item = ErrorItem::new("10015", "Bad Request", detail);
        item.pointer = Some(pointer.to_owned());
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, item)
    }

    /// 422 10004 for a required body field that is missing.
    pub fn missing_field(pointer: &str) -> Self {
        let name = pointer.rsplit('/').next().unwrap_or(pointer);
        let mut item = ErrorItem::new("10004", "Missing required parameter", format!("{name} is required"));
        item.pointer = Some(pointer.to_owned());
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, item)
    }

    /// 422 10015 for a bad query parameter, naming it.
    pub fn invalid_parameter(parameter: &str, detail: impl Into<String>) -> Self {
        let mut item = ErrorItem::new("10015", "Bad Request", detail);
        item.parameter = Some(parameter.to_owned());
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, item)
    }

    /// 400 10015 for a body that is not JSON at all.
    pub fn unreadable_body(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorItem::new("10015", "Bad Request", detail))
    }

    /// 422 with a domain code (70007 no group, 70000 data limit, ...).
    pub fn unprocessable(code: &'static str, title: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, ErrorItem::new(code, title, detail))
    }

    /// 500 10007, for an injected server error.
    pub fn server_error() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorItem::new("10007", "Unexpected error", "An unexpected error occurred."),
        )
    }

    /// 429 10011; the caller sets the rate-limit headers.
    pub fn too_many_requests() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorItem::new("10011", "Too many requests", "Too many requests. Wait for x-ratelimit-reset seconds."),
        )
    }

    pub fn bare_if(mut self, bare: bool) -> Self {
        self.bare = bare;
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = if self.bare { self.item.to_json() } else { json!({ "errors": [self.item.to_json()] }) };
        (self.status, Json(body)).into_response()
    }
}
