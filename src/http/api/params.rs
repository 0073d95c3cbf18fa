//! The API's path and query extractors: input that cannot be read (a path segment that is not
//! UTF-8 once decoded, an empty or undecodable query value) is a 400 problem naming the
//! parameter, never axum's plain text and never silently dropped.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::domain::query::{ParamError, Params};
use crate::error::Error;
use crate::http::errors::ApiError;

/// Path parameters, with rejections as problems.
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::path::ErrorKind;
        use axum::extract::rejection::PathRejection;
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(ApiPath(value)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => Err(match e.kind() {
                ErrorKind::InvalidUtf8InPathParam { key } => {
                    ParamError::new(key, "must be valid UTF-8 once percent-decoded").into()
                }
                ErrorKind::ParseErrorAtKey { key, expected_type, .. } => {
                    ParamError::new(key, format!("must be a valid {expected_type}")).into()
                }
                ErrorKind::DeserializeError { key, message, .. } => ParamError::new(key, message.clone()).into(),
                _ => ParamError::new("path", e.body_text()).into(),
            }),
            Err(other) => Err(Error::Internal(anyhow::anyhow!("path parameters: {}", other.body_text())).into()),
        }
    }
}

/// The query string as pairs for the use-case to validate. Unlike the pages' `QueryParams`,
/// an empty value (`page=`) is an error like any other bad value, as is one that is not
/// UTF-8 once decoded.
pub struct ApiQuery(pub Params);

impl<S: Send + Sync> FromRequestParts<S> for ApiQuery {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ApiQuery(Params::from(pairs(parts.uri.query().unwrap_or(""))?)))
    }
}

fn pairs(query: &str) -> Result<Vec<(String, String)>, ParamError> {
    let mut pairs = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = decode(name).ok_or_else(|| ParamError::new("query", "names must be UTF-8 once percent-decoded"))?;
        let value = decode(value).ok_or_else(|| ParamError::new(&name, "must be UTF-8 once percent-decoded"))?;
        if value.trim().is_empty() {
            return Err(ParamError::new(&name, "must not be empty; leave the parameter out instead"));
        }
        pairs.push((name, value));
    }
    Ok(pairs)
}

/// `application/x-www-form-urlencoded` decoding (`+` is a space), strictly UTF-8.
fn decode(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_decoded_strictly() {
        assert_eq!(
            pairs("q=s%C3%A3o+paulo&page=2").unwrap(),
            [("q".into(), "são paulo".into()), ("page".into(), "2".into())]
        );
        assert_eq!(pairs("q=%ff").unwrap_err().param, "q");
        assert_eq!(pairs("q=100%").unwrap()[0].1, "100%");
    }

    #[test]
    fn an_empty_value_names_its_parameter() {
        assert_eq!(
            pairs("per_page=5&page=").unwrap_err(),
            ParamError::new("page", "must not be empty; leave the parameter out instead")
        );
        assert_eq!(pairs("q=%20").unwrap_err().param, "q");
        assert_eq!(pairs("page").unwrap_err().param, "page");
        assert!(pairs("").unwrap().is_empty());
    }
}
