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

/// A JSON body whose rejections are Tern errors (rendered as problem documents), not axum's text.
pub struct ApiJson<T>(pub T);

impl<S, T> axum::extract::FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned,
{
    type Rejection = crate::http::errors::ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        use crate::error::Error;
        use axum::extract::rejection::JsonRejection;
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(match rejection {
                JsonRejection::MissingJsonContentType(_) => Error::BadRequest {
                    code: "unsupported_media_type",
                    message: "Send the body as JSON with Content-Type: application/json.".into(),
                },
                JsonRejection::JsonDataError(e) => Error::BadRequest { code: "invalid_body", message: e.body_text() },
                JsonRejection::JsonSyntaxError(_) => {
                    Error::BadRequest { code: "malformed_json", message: "The body is not valid JSON.".into() }
                }
                r if r.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => Error::PayloadTooLarge,
                _ => Error::BadRequest { code: "unreadable_body", message: "The body could not be read.".into() },
            }
            .into()),
        }
    }
}
