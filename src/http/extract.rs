//! Extractors that turn malformed input into Tern's own errors instead of axum's plain text.

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;

use crate::domain::query::Params;

/// The query string as raw pairs, validated later by the use-case that reads them.
pub struct QueryParams(pub Params);

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // Decoding into pairs of strings cannot fail on content; a query string that does not
        // decode at all is treated as empty.
        let pairs = Query::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map(|Query(p)| p)
            .unwrap_or_default();
        Ok(QueryParams(Params::from(pairs)))
    }
}
