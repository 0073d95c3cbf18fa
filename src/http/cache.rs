//! A cache of rendered catalogue responses. The catalogue only changes by whole snapshots,
//! so a page rendered for one snapshot generation stays right until the next; the home page
//! alone renders ~100 destinations and every multi-country plan, which is worth not redoing
//! on every request. Entries are keyed by the path and only the query parameters that route
//! reads (the home page reads none, so `/?n=1…N` is one entry), and the whole cache is bounded
//! by bytes, so no stream of distinct URLs can grow it without limit. Each entry is kept
//! compressed too (`precompressed`), so a cached page costs no compression per request.

use std::collections::HashMap;
use std::sync::RwLock;

use axum::body::Body;
use axum::extract::{OriginalUri, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::precompressed::{Effort, Precompressed};
use crate::services::catalogue::CatalogueStore;

/// Bytes kept at most (bodies and keys); past that the cache starts over.
const MAX_BYTES: usize = 32 * 1024 * 1024;
/// Bodies larger than this are not kept.
const MAX_BODY: usize = 512 * 1024;

struct Entry {
    generation: u64,
    content_type: HeaderValue,
    body: Precompressed,
}

/// Test mode (pages differ: the banner), the path, the parameters the route reads.
type Key = (bool, String, Vec<(String, String)>);

#[derive(Default)]
struct Entries {
    map: HashMap<Key, Entry>,
    bytes: usize,
}

#[derive(Default)]
pub struct ResponseCache {
    entries: RwLock<Entries>,
}

fn cost(key: &Key, entry: &Entry) -> usize {
    key.1.len() + key.2.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>() + entry.body.size() + 64
}

impl ResponseCache {
    fn get(&self, key: &Key, generation: u64, request: &HeaderMap) -> Option<Response> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        let entry = entries.map.get(key).filter(|e| e.generation == generation)?;
        Some(entry.body.respond(request, entry.content_type.clone()))
    }

    fn put(&self, key: Key, entry: Entry) {
        let size = cost(&key, &entry);
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.bytes + size > MAX_BYTES {
            // Stale generations first; if that is not enough, everything.
            entries.map.retain(|_, e| e.generation == entry.generation);
            entries.bytes = entries.map.iter().map(|(k, e)| cost(k, e)).sum();
            if entries.bytes + size > MAX_BYTES {
                entries.map.clear();
                entries.bytes = 0;
            }
        }
        if let Some(old) = entries.map.insert(key.clone(), entry) {
            entries.bytes -= cost(&key, &old);
        }
        entries.bytes += size;
    }

    /// Entries and bytes held (for tests and metrics).
    pub fn usage(&self) -> (usize, usize) {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        (entries.map.len(), entries.bytes)
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

/// The query parameters each cached route reads; a route not listed is not cached.
fn params_read(path: &str) -> Option<&'static [&'static str]> {
    const PAGING: [&str; 2] = ["page", "per_page"];
    // The storefront's plan lists: their sort-and-filter form (`services::catalogue::plan_view`).
    const PLAN_VIEW: [&str; 5] = ["sort", "unlimited", "hotspot", "5g", "on_arrival"];
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    Some(match segments.as_slice() {
        [""] | ["destinations", _] => &PLAN_VIEW,
        ["plans"] => &["type", "sort", "unlimited", "hotspot", "5g", "on_arrival"],
        ["destinations"] => &["q", "region"],
        ["plans", _] => &["checkout"],
        ["api", "v1", "regions"] => &PAGING,
        ["api", "v1", "destinations"] => &["page", "per_page", "q", "region"],
        ["api", "v1", "destinations", _] | ["api", "v1", "plans", _] => &[],
        ["api", "v1", "plans"] => {
            &["page", "per_page", "destination", "type", "min_days", "max_price", "unlimited", "region"]
        }
        _ => return None,
    })
}

/// The cache key of a request: `None` when it must not be cached (an unknown route, or a
/// parameter given twice, which the handler refuses anyway).
fn key(test_mode: bool, path: &str, query: Option<&str>) -> Option<Key> {
    let read = params_read(path)?;
    let mut params: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .filter(|(k, _)| read.contains(&k.as_ref()))
        .map(|(k, v)| (k.into_owned(), v.trim().to_string()))
        .collect();
    params.sort();
    // A parameter given twice, or given empty (`region=`), is the handler's to judge (the API
    // refuses both, a page may read empty as absent): such a request is never served from,
    // nor stored in, the cache.
    if params.windows(2).any(|w| w[0].0 == w[1].0) || params.iter().any(|(_, v)| v.is_empty()) {
        return None;
    }
    // Ids and ISO codes are read case-insensitively.
    Some((test_mode, path.to_ascii_lowercase(), params))
}

/// Serves successful GETs of catalogue routes from the cache when the snapshot is unchanged.
pub async fn cached(State(state): State<CachedCatalogue>, request: Request, next: Next) -> Response {
    if request.method() != Method::GET {
        return next.run(request).await;
    }
    // The full path: inside a nested router `uri()` has lost its prefix (`/api/v1`).
    let uri = request.extensions().get::<OriginalUri>().map(|o| &o.0).unwrap_or(request.uri());
    let Some(key) = key(state.test_mode, uri.path(), uri.query()) else {
        return next.run(request).await;
    };
    let store: &CatalogueStore = &state.catalogue;
    // Read before rendering: a reload during rendering leaves this entry already stale.
    let generation = store.generation();
    if let Some(hit) = state.responses.get(&key, generation, request.headers()) {
        return hit;
    }
    let accept = request.headers().clone();
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
    let Some(content_type) = parts.headers.get(header::CONTENT_TYPE).cloned() else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let body = Precompressed::new(bytes, Effort::Quick);
    let response = body.respond(&accept, content_type.clone());
    state.responses.put(key, Entry { generation, content_type, body });
    response
}

#[cfg(test)]
mod tests {
    use axum::body::Bytes;

    use super::*;

    #[test]
    fn keys_hold_the_route_and_the_parameters_it_reads() {
        assert_eq!(key(false, "/", Some("n=1")), key(false, "/", Some("n=2")), "the home page does not read n");
        assert_eq!(key(false, "/destinations", Some("q=ja&utm=x")), key(false, "/destinations", Some("q=ja")));
        assert_ne!(key(false, "/destinations", Some("q=ja")), key(false, "/destinations", Some("q=fr")));
        assert_eq!(
            key(false, "/api/v1/plans", Some("per_page=5&type=local")),
            key(false, "/api/v1/plans", Some("type=local&per_page=5&x=1"))
        );
        for list in ["/", "/destinations/jp", "/plans"] {
            assert_ne!(
                key(false, list, Some("sort=days&5g=true")),
                key(false, list, None),
                "{list} is sorted and filtered"
            );
        }
        assert!(key(false, "/destinations", Some("q=a&q=b")).is_none(), "refused by the handler: not cached");
        assert!(key(false, "/api/v1/destinations", Some("region=")).is_none(), "an empty value: not cached");
        assert!(key(false, "/orders/x", None).is_none(), "not a catalogue route");
        assert_ne!(key(true, "/", None), key(false, "/", None));
    }

    #[test]
    fn the_cache_is_bounded_by_bytes() {
        let cache = ResponseCache::default();
        let body = Precompressed::new(Bytes::from(vec![b'x'; MAX_BODY]), Effort::Quick);
        for n in 0..200 {
            let entry =
                Entry { generation: 1, content_type: HeaderValue::from_static("text/html"), body: body.clone() };
            cache.put((false, format!("/plans/{n}"), vec![]), entry);
        }
        let (entries, bytes) = cache.usage();
        assert!(bytes <= MAX_BYTES, "{bytes} bytes held");
        assert!(entries > 0 && entries < 200);
    }
}
