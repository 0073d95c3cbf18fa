//! gzip and brotli for what a traveller on roaming data loads most: the catalogue pages and
//! endpoints, the policy pages, the API reference and static files. Only responses that carry
//! no secret are compressed: pages with a CSRF token, an access token or an activation code are
//! sent as they are, so that compression cannot leak them through response sizes (BREACH).

use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};
use tower_http::compression::{CompressionLayer, CompressionLevel};

/// The layer for routes whose responses are public.
pub fn public() -> CompressionLayer<impl Predicate> {
    // The default skips tiny bodies, images and gRPC; SVG is text and compresses well.
    let predicate = DefaultPredicate::new().and(NotForContentType::const_new("image/png"));
    CompressionLayer::new().br(true).gzip(true).quality(CompressionLevel::Default).compress_when(predicate)
}
