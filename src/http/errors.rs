//! The two renderers of [`Error`]: an HTML page in the site layout, and RFC 9457
//! `application/problem+json` for the API. A 5xx is logged once with its cause; its text
//! never reaches the client.

use askama::Template;
use askama_web::WebTemplate;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use super::page::PageContext;
use super::web::Layout;
use crate::error::{Error, Provider};

/// The status of a form page sent back with its messages beside the fields (what was typed kept):
/// 200, because the answer is the form itself, ready to be corrected and sent again. A browser
/// counts a 4xx document as a failed load (a console error, and Lighthouse marks the page down
/// for best practices and SEO), which a traveller correcting a typo is not. The API answers the
/// same mistake with its 422 problem document.
pub const FORM_REFUSED: StatusCode = StatusCode::OK;

impl Error {
    pub fn status(&self) -> StatusCode {
        match self {
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::InvalidParam(_) | Error::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Error::Invalid(_) | Error::IdempotencyMismatch => StatusCode::UNPROCESSABLE_ENTITY,
            Error::Conflict { .. } => StatusCode::CONFLICT,
            Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Error::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Error::Upstream { .. } => StatusCode::BAD_GATEWAY,
            Error::Database(_) | Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A stable, machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Error::NotFound(_) => "not_found",
            Error::InvalidParam(_) => "invalid_parameter",
            Error::Invalid(_) => "validation_failed",
            Error::BadRequest { code, .. } | Error::Conflict { code, .. } => code,
            Error::Unauthorized(_) => "unauthorized",
            Error::RateLimited(_) => "rate_limited",
            Error::Forbidden(_) => "forbidden",
            Error::IdempotencyMismatch => "idempotency_key_reused",
            Error::PayloadTooLarge => "payload_too_large",
            Error::Upstream { .. } => "provider_unavailable",
            Error::Database(_) | Error::Internal(_) => "internal_error",
        }
    }

    /// What the client may be told.
    fn public_detail(&self) -> String {
        match self {
            Error::NotFound(what) => format!("No such {what}."),
            Error::InvalidParam(p) => format!("The parameter {} {}.", p.param, p.reason),
            Error::Invalid(fields) => match fields.as_slice() {
                [one] => one.message.clone(),
                _ => "Some fields need your attention.".to_string(),
            },
            Error::BadRequest { message, .. } | Error::Conflict { message, .. } => message.clone(),
            Error::Unauthorized(why) | Error::RateLimited(why) | Error::Forbidden(why) => why.to_string(),
            Error::IdempotencyMismatch => "This Idempotency-Key was already used with a different request.".to_string(),
            Error::PayloadTooLarge => "The request body is too large.".to_string(),
            Error::Upstream { provider: Provider::Stripe, .. } => {
                "Our payment provider did not answer. Nothing was charged; please try again in a moment.".to_string()
            }
            Error::Upstream { provider: Provider::Telnyx, .. } => {
                "Our eSIM provider did not answer. Nothing was changed; please try again in a moment.".to_string()
            }
            Error::Database(_) | Error::Internal(_) => {
                "Something went wrong on our side. Please try again in a moment.".to_string()
            }
        }
    }

    /// What a page says: as `public_detail`, but a bad query parameter in plain words: which
    /// one, and what to do instead (its hint, else its reason), never the API's wording.
    fn page_detail(&self) -> String {
        match self {
            Error::InvalidParam(p) => {
                let advice = match &p.hint {
                    Some(hint) => hint.clone(),
                    None if p.reason.starts_with("is ") || p.reason.starts_with("must ") => format!("it {}", p.reason),
                    None => p.reason.clone(),
                };
                format!("The “{}” in this page’s address didn’t work: {advice}.", p.param)
            }
            _ => self.public_detail(),
        }
    }

    fn log_if_internal(&self) {
        if self.status().is_server_error() {
            tracing::error!(error = ?self, "request failed");
        }
    }
}

/// An error shown as a page in the site layout.
pub struct HtmlError(pub Error);

impl<E: Into<Error>> From<E> for HtmlError {
    fn from(e: E) -> Self {
        HtmlError(e.into())
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "errors/error.html")]
pub struct ErrorPage {
    pub ctx: PageContext,
    pub status: u16,
    pub title: String,
    pub message: String,
    /// Offer the same page without its query string (a bad parameter in the address).
    pub without_query: bool,
}

impl ErrorPage {
    pub fn new(status: StatusCode, message: String) -> Self {
        let title = match status {
            StatusCode::NOT_FOUND => "Page not found".to_string(),
            StatusCode::BAD_REQUEST => "This link did not work".to_string(),
            StatusCode::CONFLICT => "That cannot be done right now".to_string(),
            StatusCode::FORBIDDEN => "Not allowed".to_string(),
            StatusCode::TOO_MANY_REQUESTS => "Too many attempts".to_string(),
            s if s.is_server_error() => "Something went wrong".to_string(),
            s => s.canonical_reason().unwrap_or("Error").to_string(),
        };
        Self {
            ctx: PageContext::public(Layout::new(&title)),
            status: status.as_u16(),
            title,
            message,
            without_query: false,
        }
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "We could not find that page. Try searching for your destination.".into())
    }
}

pub fn html_response(status: StatusCode, page: ErrorPage) -> Response {
    (status, page).into_response()
}

impl IntoResponse for HtmlError {
    fn into_response(self) -> Response {
        self.0.log_if_internal();
        let status = self.0.status();
        let mut page = ErrorPage::new(status, self.0.page_detail());
        page.without_query = matches!(self.0, Error::InvalidParam(_));
        html_response(status, page)
    }
}

/// An error answered as `application/problem+json`.
pub struct ApiError(pub Error);

impl<E: Into<Error>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

/// One parameter that was not accepted.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvalidParam {
    /// The parameter's name.
    pub name: String,
    /// Why it was not accepted.
    pub reason: String,
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI identifying the problem type: `urn:tern:problem:<code>`.
    #[serde(rename = "type")]
    pub type_: String,
    /// A short summary of the problem type.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request.
    pub detail: String,
    /// A stable machine-readable code: `not_found`, `invalid_parameter`, `validation_failed`,
    /// `plan_not_on_sale`, `unauthorized`, `idempotency_key_reused`, `internal_error`, ...
    pub code: String,
    /// For `invalid_parameter` and `validation_failed`: which parameters or fields, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub invalid_params: Vec<InvalidParam>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &str, detail: String) -> Self {
        Self {
            type_: format!("urn:tern:problem:{code}"),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail,
            code: code.to_string(),
            invalid_params: Vec::new(),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        (status, [(header::CONTENT_TYPE, "application/problem+json")], body).into_response()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0.log_if_internal();
        problem_for(&self.0).into_response()
    }
}

/// The problem document for an error.
pub fn problem_for(error: &Error) -> Problem {
    let mut problem = Problem::new(error.status(), error.code(), error.public_detail());
    match error {
        Error::InvalidParam(p) => {
            problem.invalid_params.push(InvalidParam { name: p.param.clone(), reason: p.reason.clone() })
        }
        Error::Invalid(fields) => problem
            .invalid_params
            .extend(fields.iter().map(|f| InvalidParam { name: f.field.to_string(), reason: f.message.clone() })),
        _ => {}
    }
    problem
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    fn upstream(why: &str) -> Error {
        Error::Upstream { provider: Provider::Stripe, source: why.into() }
    }

    fn internal() -> Error {
        Error::Internal(anyhow::anyhow!("connection to 10.0.0.7 refused: password for user tern_admin"))
    }

    #[tokio::test]
    async fn a_server_error_page_says_nothing_internal() {
        let response = HtmlError(internal()).into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let html = body(response).await;
        assert!(html.contains("Something went wrong"));
        assert!(!html.contains("10.0.0.7") && !html.contains("tern_admin"));
        assert!(html.contains("/static/css/tern."), "in the site layout");
        let html = body(HtmlError(Error::Database(crate::error::DbError::PoolTimedOut)).into_response()).await;
        assert!(!html.to_lowercase().contains("pool"));
        let panic = crate::http::web::internal_error_page();
        assert_eq!(panic.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(body(panic).await.contains("Something went wrong"));
    }

    #[tokio::test]
    async fn a_server_error_problem_says_nothing_internal() {
        let response = ApiError(internal()).into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/problem+json");
        let json: serde_json::Value = serde_json::from_str(&body(response).await).unwrap();
        assert_eq!(json["code"], "internal_error");
        assert!(!json.to_string().contains("10.0.0.7"));
    }

    #[test]
    fn every_error_has_a_status_and_a_stable_code() {
        let cases = [
            (Error::NotFound("plan"), 404, "not_found"),
            (Error::invalid("email", "bad"), 422, "validation_failed"),
            (Error::Conflict { code: "plan_not_on_sale", message: String::new() }, 409, "plan_not_on_sale"),
            (Error::Unauthorized("x"), 401, "unauthorized"),
            (Error::IdempotencyMismatch, 422, "idempotency_key_reused"),
            (Error::PayloadTooLarge, 413, "payload_too_large"),
            (upstream("stripe down"), 502, "provider_unavailable"),
        ];
        for (error, status, code) in cases {
            assert_eq!((error.status().as_u16(), error.code()), (status, code));
        }
        let problem = problem_for(&Error::invalid("email", "Enter your email address."));
        assert_eq!(problem.invalid_params[0].name, "email");
        assert!(!problem_for(&upstream("secret detail")).detail.contains("secret"));
    }
}
