//! The one error type of Tern's use-cases. `http::errors` renders it as an HTML page or as
//! RFC 9457 problem JSON.

use crate::domain::query::ParamError;

/// One input field that was not accepted, and why (shown beside the field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self { field, message: message.into() }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Something the request named does not exist (or is not visible to the caller).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A query parameter could not be accepted.
    #[error("invalid parameter {}: {}", .0.param, .0.reason)]
    InvalidParam(ParamError),
    /// Submitted fields could not be accepted; nothing was changed.
    #[error("invalid input: {0:?}")]
    Invalid(Vec<FieldError>),
    /// A malformed request, with a stable code.
    #[error("{code}: {message}")]
    BadRequest { code: &'static str, message: String },
    /// The request conflicts with the current state (a plan no longer on sale).
    #[error("{code}: {message}")]
    Conflict { code: &'static str, message: String },
    /// Missing or unusable credentials.
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    /// Too many attempts (sign-in, sign-up); the text says what to do.
    #[error("rate limited: {0}")]
    RateLimited(&'static str),
    /// Signed in, but not allowed to do this.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// An idempotency key reused with a different request.
    #[error("idempotency key reused with a different request")]
    IdempotencyMismatch,
    /// The request body is larger than accepted.
    #[error("request body too large")]
    PayloadTooLarge,
    /// A provider (Stripe) failed; the text is for logs only.
    #[error("upstream failure: {0}")]
    Upstream(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<ParamError> for Error {
    fn from(e: ParamError) -> Self {
        Error::InvalidParam(e)
    }
}

impl Error {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Error::Invalid(vec![FieldError::new(field, message)])
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
