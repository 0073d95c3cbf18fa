//! `Idempotency-Key` on POST requests: the first answer is stored with a hash of method, path
//! and body and replayed byte for byte; another body under the same key is refused, and so is
//! a second request while the first is still running.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::error::{ApiError, NotExecuted};
use super::state::Shared;

/// Stripe keeps keys for at least 24 hours; the emulator prunes them after exactly that.
const KEY_LIFETIME_SECS: i64 = 24 * 60 * 60;
/// The longest key Stripe accepts.
const MAX_KEY_LEN: usize = 255;
/// Largest request body the API reads.
const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone)]
pub struct StoredResponse {
    status: StatusCode,
    body: Bytes,
}

#[derive(Debug)]
struct Entry {
    fingerprint: Vec<u8>,
    created: i64,
    /// `None` while the first request is still running.
    outcome: Option<StoredResponse>,
}

/// What a key means for an incoming request.
pub enum Claim {
    /// First use: run the request, then `complete` or `release`.
    New,
    Replay(StoredResponse),
    Mismatch,
    InUse,
}

#[derive(Debug, Default)]
pub struct IdempotencyStore {
    entries: HashMap<String, Entry>,
    /// Indexes `entries` by age: one `(created, key)` per entry, oldest first, so pruning
    /// touches only the keys it removes.
    by_age: BTreeSet<(i64, String)>,
}

impl IdempotencyStore {
    pub fn claim(&mut self, key: &str, fingerprint: Vec<u8>, now: i64) -> Claim {
        self.prune(now);
        match self.entries.get(key) {
            None => {
                self.entries.insert(key.to_owned(), Entry { fingerprint, created: now, outcome: None });
                self.by_age.insert((now, key.to_owned()));
                Claim::New
            }
            Some(entry) if entry.fingerprint != fingerprint => Claim::Mismatch,
            Some(Entry { outcome: None, .. }) => Claim::InUse,
            Some(Entry { outcome: Some(stored), .. }) => Claim::Replay(stored.clone()),
        }
    }

    fn complete(&mut self, key: &str, stored: StoredResponse) {
        if let Some(entry) = self.entries.get_mut(key) {
            entry.outcome = Some(stored);
        }
    }

    /// Forgets every key at least a day old.
    fn prune(&mut self, now: i64) {
        while let Some((created, _)) = self.by_age.first()
            && now - created >= KEY_LIFETIME_SECS
        {
            if let Some((_, key)) = self.by_age.pop_first() {
                self.entries.remove(&key);
            }
        }
    }

    /// Forgets a key whose request never ran, so it can be used again.
    fn release(&mut self, key: &str) {
        if let Some(entry) = self.entries.remove(key) {
            self.by_age.remove(&(entry.created, key.to_owned()));
        }
    }
}

fn fingerprint(method: &Method, path_and_query: &str, body: &[u8]) -> Vec<u8> {
    Sha256::new()
        .chain_update(method.as_str())
        .chain_update(b" ")
        .chain_update(path_and_query)
        .chain_update(b"\n")
        .chain_update(body)
        .finalize()
        .to_vec()
}

/// Middleware for the `/v1` routes: applies the key semantics to POST requests that carry one.
pub async fn idempotent(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let key = match request.headers().get("idempotency-key") {
        None => return next.run(request).await,
        Some(value) => match value.to_str() {
            Ok(key) if !key.is_empty() && key.len() <= MAX_KEY_LEN => key.to_owned(),
            _ => {
                return ApiError::invalid(
                    "Idempotency-Key",
                    "Idempotency-Key must be 1 to 255 printable ASCII characters.",
                )
                .into_response();
            }
        },
    };
    // Stripe applies keys to POST only; GET and DELETE are idempotent by definition.
    if request.method() != Method::POST {
        return next.run(request).await;
    }

    let (parts, body) = request.into_parts();
    let Ok(body) = to_bytes(body, MAX_BODY_BYTES).await else {
        return ApiError::invalid("body", "The request body could not be read.").into_response();
    };
    let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or_else(|| parts.uri.path());
    let fingerprint = fingerprint(&parts.method, path, &body);

    match shared.update(|state, now| state.idempotency.claim(&key, fingerprint, now)) {
        Claim::New => {}
        Claim::Replay(stored) => return replay(stored),
        Claim::Mismatch => return ApiError::idempotency_mismatch(&key).into_response(),
        Claim::InUse => return ApiError::idempotency_in_use(&key).into_response(),
    }

    let response = next.run(Request::from_parts(parts, Body::from(body))).await;
    if response.extensions().get::<NotExecuted>().is_some() {
        shared.update(|state, _| state.idempotency.release(&key));
        return response;
    }
    let (parts, body) = response.into_parts();
    match to_bytes(body, usize::MAX).await {
        Ok(bytes) => {
            let stored = StoredResponse { status: parts.status, body: bytes.clone() };
            shared.update(|state, _| state.idempotency.complete(&key, stored));
            Response::from_parts(parts, Body::from(bytes))
        }
        Err(error) => {
            tracing::error!(error = %error, "stripe emulator: response body unreadable");
            shared.update(|state, _| state.idempotency.release(&key));
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

fn replay(stored: StoredResponse) -> Response {
    let mut response = (stored.status, stored.body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_replay_refuse_other_bodies_and_expire_after_a_day() {
        let mut store = IdempotencyStore::default();
        let first = fingerprint(&Method::POST, "/v1/refunds", b"amount=1");
        let other = fingerprint(&Method::POST, "/v1/refunds", b"amount=2");
        assert!(matches!(store.claim("k", first.clone(), 0), Claim::New));
        assert!(matches!(store.claim("k", first.clone(), 1), Claim::InUse));
        store.complete("k", StoredResponse { status: StatusCode::OK, body: Bytes::from_static(b"{}") });
        assert!(matches!(store.claim("k", first.clone(), 2), Claim::Replay(_)));
        assert!(matches!(store.claim("k", other, 3), Claim::Mismatch));
        assert!(matches!(store.claim("k", first, KEY_LIFETIME_SECS), Claim::New));
    }

    #[test]
    fn a_released_key_is_aged_from_its_new_claim() {
        let mut store = IdempotencyStore::default();
        let body = fingerprint(&Method::POST, "/v1/refunds", b"amount=1");
        assert!(matches!(store.claim("k", body.clone(), 0), Claim::New));
        store.release("k");
        assert!(matches!(store.claim("k", body.clone(), 10), Claim::New));
        store.complete("k", StoredResponse { status: StatusCode::OK, body: Bytes::from_static(b"{}") });
        // A day after the first claim, not yet a day after the second.
        assert!(matches!(store.claim("k", body.clone(), KEY_LIFETIME_SECS), Claim::Replay(_)));
        assert!(matches!(store.claim("other", body.clone(), KEY_LIFETIME_SECS + 5), Claim::New));
        assert!(matches!(store.claim("k", body, KEY_LIFETIME_SECS + 10), Claim::New));
        assert_eq!((store.entries.len(), store.by_age.len()), (2, 2));
    }
}
