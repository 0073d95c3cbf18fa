//! API keys as bearer tokens (`Authorization: Bearer tern_key_…`), for integrators and admins.
//! A customer's own token is refused with a 403 that says what to use instead; no token or an
//! unknown or revoked key is a 401. Any endpoint that takes keys extracts [`ApiKeyAuth`] (any
//! role) or [`AdminKey`] (the admin role).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::auth::bearer;
use crate::domain::webhook::KeyRole;
use crate::error::Error;
use crate::http::errors::ApiError;
use crate::http::state::AppState;
use crate::services::accounts;
use crate::services::api_keys::{self, ApiKey};

/// A live API key of any role.
pub struct ApiKeyAuth(pub ApiKey);

/// A live API key with the `admin` role.
pub struct AdminKey(pub ApiKey);

const NO_KEY: &str = "Send an API key (created with `tern api-key create`) as Authorization: Bearer <key>.";

impl FromRequestParts<AppState> for ApiKeyAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer(&parts.headers).ok_or(Error::Unauthorized(NO_KEY))?;
        if let Some(key) = api_keys::authenticate(&state.pool, token).await? {
            return Ok(ApiKeyAuth(key));
        }
        if !api_keys::looks_like_key(token) && accounts::user_for_token(&state.pool, token).await?.is_some() {
            return Err(Error::Forbidden(
                "A customer's sign-in token cannot do this: use an API key (created with `tern api-key create`).",
            )
            .into());
        }
        Err(Error::Unauthorized("This API key is unknown or revoked.").into())
    }
}

impl FromRequestParts<AppState> for AdminKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let ApiKeyAuth(key) = ApiKeyAuth::from_request_parts(parts, state).await?;
        if key.role != KeyRole::Admin {
            return Err(Error::Forbidden("This needs an API key with the admin role.").into());
        }
        Ok(AdminKey(key))
    }
}
