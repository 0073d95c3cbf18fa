//! The one error type of Tern's use-cases. `http::errors` renders it as an HTML page or as
//! RFC 9457 problem JSON.

use crate::clients::stripe::StripeClientError;
use crate::clients::telnyx::TelnyxError;
pub use crate::db::DbError;
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
    /// A provider failed; the source is for logs only, the public text names the provider.
    #[error("{provider} failed: {source}")]
    Upstream { provider: Provider, source: Box<dyn std::error::Error + Send + Sync> },
    #[error("database error: {0}")]
    Database(#[from] DbError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The outside services Tern depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Stripe,
    Telnyx,
}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Provider::Stripe => "Stripe",
            Provider::Telnyx => "Telnyx",
        })
    }
}

impl From<StripeClientError> for Error {
    fn from(e: StripeClientError) -> Self {
        Error::Upstream { provider: Provider::Stripe, source: Box::new(e) }
    }
}

impl From<TelnyxError> for Error {
    fn from(e: TelnyxError) -> Self {
        Error::Upstream { provider: Provider::Telnyx, source: Box::new(e) }
    }
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
