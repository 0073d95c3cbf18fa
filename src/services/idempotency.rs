//! Idempotency keys: the first request under a key is recorded with its fingerprint, and its
//! answer kept, sealed with the application's key (answers carry access tokens), for the same
//! request again within 24 hours; older keys are purged. What counts as an answer worth
//! keeping, how keys are scoped and how answers are sent is the API's business
//! (`http::api::idempotency`).

use crate::crypto::Cipher;
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

/// What a kept answer is bound to: a sealed answer moved to another key does not open.
pub fn associated_data(scope: &str, key: &str) -> Vec<u8> {
    [scope.as_bytes(), b"\0", key.as_bytes()].concat()
}

/// Takes `key` in `scope` for `request`. Another request under the key is refused, and one
/// still in flight is a conflict. Keys older than 24 hours are purged as it is taken.
pub async fn claim(pool: &Pool, cipher: &Cipher, scope: &str, key: &str, request: &[u8]) -> Result<Claim> {
    let fingerprint = token::sha256(request);
    if db::idempotency::claim(pool, scope, key, &fingerprint).await? {
        return Ok(Claim::New);
    }
    let stored = db::idempotency::find(pool, scope, key).await?.ok_or(Error::NotFound("idempotency key"))?;
    if !token::digests_equal(&stored.request_sha256, &fingerprint) {
        return Err(Error::IdempotencyMismatch);
    }
    let body = match (stored.body_sealed, stored.body) {
        (Some(sealed), _) => {
            let plain = cipher
                .open(&sealed, &associated_data(scope, key))
                .map_err(|e| anyhow::anyhow!("kept idempotent answer: {e}"))?;
            Some(serde_json::from_slice(&plain).map_err(anyhow::Error::from)?)
        }
        (None, body) => body,
    };
    match (stored.status, body) {
        (Some(status), Some(body)) => Ok(Claim::Replay { status: status as u16, body }),
        _ => Err(Error::Conflict {
            code: "idempotency_key_in_use",
            message: "A request with this Idempotency-Key is still being processed.".into(),
        }),
    }
}

/// Keeps the answer to replay, sealed.
pub async fn keep(
    pool: &Pool,
    cipher: &Cipher,
    scope: &str,
    key: &str,
    status: u16,
    body: &serde_json::Value,
) -> Result<()> {
    let plain = serde_json::to_vec(body).map_err(anyhow::Error::from)?;
    let sealed = cipher.seal(&plain, &associated_data(scope, key));
    Ok(db::idempotency::complete(pool, scope, key, status as i16, &sealed).await?)
}

/// Frees the key, so that the client may try again.
pub async fn release(pool: &Pool, scope: &str, key: &str) -> Result<()> {
    Ok(db::idempotency::release(pool, scope, key).await?)
}
