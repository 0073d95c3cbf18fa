//! A cache of rendered catalogue responses. The catalogue only changes by whole snapshots,
//! so a page rendered for one snapshot generation stays right until the next; the home page
//! alone renders ~100 destinations and every multi-country plan, which is worth not redoing
//! on every request.

use std::collections::HashMap;
use std::sync::RwLock;

use axum::body::{Body, Bytes};
use axum::extract::{OriginalUri, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::services::catalogue::CatalogueStore;

/// Entries kept at most; past that the cache starts over (old generations pile up otherwise).
const MAX_ENTRIES: usize = 4096;
/// Bodies larger than this are not kept.
const MAX_BODY: usize = 512 * 1024;

struct Entry {
    generation: u64,
    content_type: HeaderValue,
    body: Bytes,
}

#[derive(Default)]
pub struct ResponseCache {
    entries: RwLock<HashMap<(bool, String), Entry>>,
}

impl ResponseCache {
    fn get(&self, key: &(bool, String), generation: u64) -> Option<Response> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        let entry = entries.get(key).filter(|e| e.generation == generation)?;
        Some(([(header::CONTENT_TYPE, entry.content_type.clone())], entry.body.clone()).into_response())
    }

    fn put(&self, key: (bool, String), entry: Entry) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key, entry);
    }
}

/// What the cache middleware needs of the app state (its `FromRef` is in `state`).
#[derive(Clone)]
pub struct CachedCatalogue {
    pub catalogue: CatalogueStore,
    pub responses: std::sync::Arc<ResponseCache>,
    /// Pages differ in test mode (the banner): kept apart.
    pub test_mode: bool,
}

/// Serves successful GETs of catalogue routes from the cache when the snapshot is unchanged.
pub async fn cached(State(state): State<CachedCatalogue>, request: Request, next: Next) -> Response {
    if request.method() != Method::GET {
        return next.run(request).await;
    }
    let test_mode = state.test_mode;
    // The full path: inside a nested router `uri()` has lost its prefix (`/api/v1`).
    let uri = request.extensions().get::<OriginalUri>().map(|o| &o.0).unwrap_or(request.uri());
    let key = (test_mode, uri.to_string());
    let store: &CatalogueStore = &state.catalogue;
    // Read before rendering: a reload during rendering leaves this entry already stale.
    let generation = store.generation();
    if let Some(hit) = state.responses.get(&key, generation) {
        return hit;
    }
    let response = next.run(request).await;
    if response.status() != StatusCode::OK {
        return response;
    }
    let (parts, body) = response.into_parts();
    if http_body::Body::size_hint(&body).exact().is_none_or(|n| n > MAX_BODY as u64) {
        return Response::from_parts(parts, body);
    }
    let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::error!(error = %e, "reading a rendered response failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    if let Some(content_type) = parts.headers.get(header::CONTENT_TYPE) {
        state.responses.put(key, Entry { generation, content_type: content_type.clone(), body: bytes.clone() });
    }
    Response::from_parts(parts, Body::from(bytes))
}
