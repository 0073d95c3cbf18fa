//! Idempotent API writes: the same key with the same request replays the first answer; the
//! same key with another request is refused; a key still in flight is a conflict.

use std::future::Future;

use crate::db::Pool;

use crate::db;
use crate::domain::token;
use crate::error::{Error, Result};

/// A stored answer: status code and JSON body.
pub type Answer = (u16, serde_json::Value);

/// Runs `operation` once per (scope, key). Answers with a 2xx or 4xx status are stored and
/// replayed; after a 5xx the key is released so the client can retry.
pub async fn run<F, Fut>(pool: &Pool, scope: &str, key: &str, request: &[u8], operation: F) -> Result<Answer>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Answer>,
{
    if key.is_empty() || key.len() > 255 || key.chars().any(|c| c.is_control()) {
        return Err(Error::BadRequest {
            code: "idempotency_key_invalid",
            message: "The Idempotency-Key header must be 1 to 255 printable characters.".into(),
        });
    }
    let fingerprint = token::sha256(request);
    if !db::idempotency::claim(pool, scope, key, &fingerprint).await? {
        let stored = db::idempotency::find(pool, scope, key).await?.ok_or(Error::NotFound("idempotency key"))?;
        if !token::digests_equal(&stored.request_sha256, &fingerprint) {
            return Err(Error::IdempotencyMismatch);
        }
        return match (stored.status, stored.body) {
            (Some(status), Some(body)) => Ok((status as u16, body)),
            _ => Err(Error::Conflict {
                code: "idempotency_key_in_use",
                message: "A request with this Idempotency-Key is still being processed.".into(),
            }),
        };
    }
    let (status, body) = operation().await;
    if status >= 500 {
        db::idempotency::release(pool, scope, key).await?;
    } else {
        db::idempotency::complete(pool, scope, key, status as i16, &body).await?;
    }
    Ok((status, body))
}
