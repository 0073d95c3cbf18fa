//! Idempotency keys: the first request under a key is recorded with its fingerprint, and its
//! answer kept for the same request again. What counts as an answer worth keeping, and how it
//! is sent, is the API's business (`http::api::idempotency`).

use crate::db::{self, Pool};
use crate::domain::token;
use crate::error::{Error, Result};

/// What a key holds for a request.
#[derive(Debug)]
pub enum Claim {
    /// A new key: the caller runs the request, then `keep`s or `release`s its answer.
    New,
    /// The same request ran before: its kept answer (a status and a JSON body).
    Replay { status: u16, body: serde_json::Value },
}

/// Takes `key` in `scope` for `request`. Another request under the key is refused, and one
/// still in flight is a conflict.
pub async fn claim(pool: &Pool, scope: &str, key: &str, request: &[u8]) -> Result<Claim> {
    let fingerprint = token::sha256(request);
    if db::idempotency::claim(pool, scope, key, &fingerprint).await? {
        return Ok(Claim::New);
    }
    let stored = db::idempotency::find(pool, scope, key).await?.ok_or(Error::NotFound("idempotency key"))?;
    if !token::digests_equal(&stored.request_sha256, &fingerprint) {
        return Err(Error::IdempotencyMismatch);
    }
    match (stored.status, stored.body) {
        (Some(status), Some(body)) => Ok(Claim::Replay { status: status as u16, body }),
        _ => Err(Error::Conflict {
            code: "idempotency_key_in_use",
            message: "A request with this Idempotency-Key is still being processed.".into(),
        }),
    }
}

/// Keeps the answer to replay.
pub async fn keep(pool: &Pool, scope: &str, key: &str, status: u16, body: &serde_json::Value) -> Result<()> {
    Ok(db::idempotency::complete(pool, scope, key, status as i16, body).await?)
}

/// Frees the key, so that the client may try again.
pub async fn release(pool: &Pool, scope: &str, key: &str) -> Result<()> {
    Ok(db::idempotency::release(pool, scope, key).await?)
}
