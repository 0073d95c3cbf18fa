//! Files under the crate's `static/` directory, with cache headers.

use axum::http::{HeaderValue, header};
use tower::Layer;
use tower_http::compression::{Compression, Predicate};
use tower_http::services::ServeDir;
use tower_http::set_header::{SetResponseHeader, SetResponseHeaderLayer};

pub fn service() -> Compression<SetResponseHeader<ServeDir, HeaderValue>, impl Predicate> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/static");
    let cached =
        SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"))
            .layer(ServeDir::new(dir));
    super::compression::public().layer(cached)
}
