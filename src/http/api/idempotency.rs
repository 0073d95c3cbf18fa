//! The `Idempotency-Key` header on API writes: the same key with the same request replays the
//! first answer; the same key with another request is refused; a key still in flight is a
//! conflict. Answers with a 2xx or 4xx status are kept; after a 5xx the key is freed.

use std::future::Future;

use crate::error::{Error, Result};
use crate::services::Pool;
use crate::services::idempotency::{self, Claim};

/// A status code and JSON body.
pub type Answer = (u16, serde_json::Value);

/// Runs `operation` once per (scope, key).
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
    if let Claim::Replay { status, body } = idempotency::claim(pool, scope, key, request).await? {
        return Ok((status, body));
    }
    let (status, body) = operation().await;
    if status >= 500 {
        idempotency::release(pool, scope, key).await?;
    } else {
        idempotency::keep(pool, scope, key, status, &body).await?;
    }
    Ok((status, body))
}
