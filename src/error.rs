//! The one error type of Tern's use-cases. `http::errors` renders it as an HTML page or as
//! RFC 9457 problem JSON.

use crate::domain::query::ParamError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Something the request named does not exist (or is not visible to the caller).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A query parameter could not be accepted.
    #[error("invalid parameter {}: {}", .0.param, .0.reason)]
    InvalidParam(ParamError),
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

pub type Result<T, E = Error> = std::result::Result<T, E>;
