//! The `Idempotency-Key` header on API writes: the same key with the same request replays the
//! first answer; the same key with another request is refused; a key still in flight is a
//! conflict. Answers with a 2xx or 4xx status are kept (sealed, 24 hours); after a 5xx the key
//! is freed. Keys must be high-entropy (a UUID, or at least 128 random bits), and they are
//! scoped: to the signed-in account, or for anonymous callers to the client's address, so
//! that another client sending the same key and body creates its own order instead of
//! receiving the first one's access token.

use std::future::Future;

use axum::extract::FromRequestParts;
use uuid::Uuid;

use crate::crypto::Cipher;
use crate::error::{Error, Result};
use crate::services::Pool;
use crate::services::idempotency::{self, Claim};

/// A status code and JSON body.
pub type Answer = (u16, serde_json::Value);

/// The longest key accepted.
const MAX_KEY: usize = 255;
/// 22 base64url characters hold 132 bits; 32 hex characters 128.
const MIN_RANDOM_KEY: usize = 22;
/// Fewer different characters than this is a pattern, not random bits.
const MIN_DISTINCT: usize = 10;

/// The scope keys of `resource` live in for this caller.
pub fn scope(resource: &str, account: Option<Uuid>, client: Option<&str>) -> String {
    match account {
        Some(id) => format!("{resource}:{id}"),
        None => format!("{resource}:anon:{}", client.unwrap_or("unknown")),
    }
}

/// Whether `key` looks like a UUID or at least 128 random bits.
pub fn is_high_entropy(key: &str) -> bool {
    let distinct = |s: &str| s.chars().collect::<std::collections::HashSet<_>>().len();
    if key.len() == 36 && Uuid::try_parse(key).is_ok() {
        return distinct(&key.replace('-', "")) >= 6;
    }
    (MIN_RANDOM_KEY..=MAX_KEY).contains(&key.len())
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && distinct(key) >= MIN_DISTINCT
}

/// The request's `Idempotency-Key` header, and the client's address that scopes an anonymous
/// caller's keys; a write without a key is refused (400).
pub struct IdempotencyKey {
    pub key: String,
    pub client: Option<String>,
}

impl FromRequestParts<crate::http::state::AppState> for IdempotencyKey {
    type Rejection = crate::http::errors::ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &crate::http::state::AppState,
    ) -> Result<Self, Self::Rejection> {
        let key = parts.headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_string);
        let key = key.ok_or(Error::BadRequest {
            code: "idempotency_key_missing",
            message: "Send an Idempotency-Key header so a retried request cannot create a second order.".into(),
        })?;
        let Ok(crate::http::auth::ClientIp(client)) =
            crate::http::auth::ClientIp::from_request_parts(parts, state).await;
        Ok(Self { key, client })
    }
}

/// Runs `operation` once per (scope, key).
pub async fn run<F, Fut>(
    pool: &Pool,
    cipher: &Cipher,
    scope: &str,
    key: &str,
    request: &[u8],
    operation: F,
) -> Result<Answer>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Answer>,
{
    if !is_high_entropy(key) {
        return Err(Error::BadRequest {
            code: "idempotency_key_invalid",
            message: "The Idempotency-Key header must be a UUID (e.g. from uuidgen) or at least 128 random bits \
                      (22 or more base64url characters, or 32 or more hex digits), at most 255 characters."
                .into(),
        });
    }
    if let Claim::Replay { status, body } = idempotency::claim(pool, cipher, scope, key, request).await? {
        return Ok((status, body));
    }
    let (status, body) = operation().await;
    if status >= 500 {
        idempotency::release(pool, scope, key).await?;
    } else {
        idempotency::keep(pool, cipher, scope, key, status, &body).await?;
    }
    Ok((status, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_need_a_uuid_or_128_random_bits() {
        assert!(is_high_entropy(&Uuid::new_v4().to_string()));
        assert!(is_high_entropy("3f9c1e07b2a64d58a0e9c4b7d1f2e6a9"), "32 hex digits");
        assert!(is_high_entropy("Yk3_q9ZrT-1mWx8bLp0sVa"), "22 base64url characters");
        for weak in ["1", "order-1", "aaaaaaaaaaaaaaaaaaaaaaaaaaaa", "00000000-0000-0000-0000-000000000000", "a b"] {
            assert!(!is_high_entropy(weak), "{weak}");
        }
        assert!(!is_high_entropy(&"ab1234567890cdef".repeat(17)), "longer than 255");
    }

    #[test]
    fn anonymous_keys_are_scoped_to_the_client() {
        assert_ne!(scope("orders", None, Some("10.0.0.1")), scope("orders", None, Some("10.0.0.2")));
        let id = Uuid::new_v4();
        assert_eq!(scope("orders", Some(id), Some("10.0.0.1")), scope("orders", Some(id), Some("10.0.0.2")));
    }
}
