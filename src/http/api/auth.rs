//! Mobile sign-in: email and password for a bearer token (stored hashed, expiring, revocable),
//! and the signed-in traveller's orders.

use crate::services::Pool;
use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::order_dto::OrderResponse;
use super::problems;
use crate::domain::user::User;
use crate::error::Error;
use crate::http::auth::ClientIp;
use crate::http::errors::ApiError;
use crate::http::extract::ApiJson;
use crate::http::state::AppState;
use crate::services::accounts::{self, Credentials};
use crate::services::orders;

/// The token of `Authorization: Bearer <token>`.
pub(super) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// A signed-in user from `Authorization: Bearer <token>`; 401 without a live token.
pub struct Account(pub User);

/// Like [`Account`], but anonymous when no Authorization header is sent at all.
pub struct OptionalAccount(pub Option<User>);

const NO_TOKEN: &str = "Send a live token from POST /api/v1/auth/token as Authorization: Bearer <token>.";

impl FromRequestParts<AppState> for Account {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer(&parts.headers).ok_or(Error::Unauthorized(NO_TOKEN))?;
        let user = accounts::user_for_token(&state.pool, token).await?.ok_or(Error::Unauthorized(
            "This token is unknown, expired or revoked. Sign in again with POST /api/v1/auth/token.",
        ))?;
        Ok(Account(user))
    }
}

impl FromRequestParts<AppState> for OptionalAccount {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if parts.headers.get(header::AUTHORIZATION).is_none() {
            return Ok(OptionalAccount(None));
        }
        Account::from_request_parts(parts, state).await.map(|Account(u)| OptionalAccount(Some(u)))
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: time::OffsetDateTime,
    pub email: String,
}

/// Signs in: a bearer token for the account. Wrong email or password: 401, the same answer
/// either way. Rate-limited per IP and per account (429).
#[utoipa::path(post, path = "/auth/token", tag = "accounts", request_body = TokenRequest,
    responses(
        (status = 201, description = "Signed in", body = TokenResponse),
        (status = 400, response = inline(problems::BadRequest)),
        (status = 401, response = inline(problems::Unauthorized)),
        (status = 429, response = inline(problems::TooManyRequests)),
    ))]
pub async fn create_token(
    State(pool): State<Pool>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<TokenRequest>,
) -> Result<(StatusCode, Json<TokenResponse>), ApiError> {
    let credentials = Credentials { email: body.email, password: body.password };
    let (token, expires_at, user) = accounts::issue_token(&pool, ip.as_deref(), &credentials).await?;
    Ok((StatusCode::CREATED, Json(TokenResponse { token, expires_at, email: user.email })))
}

/// Signs out: revokes the token sent.
#[utoipa::path(delete, path = "/auth/token", tag = "accounts", security(("user_token" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, response = inline(problems::Unauthorized)),
        (status = 429, response = inline(problems::TooManyRequests)),
    ))]
pub async fn delete_token(
    State(pool): State<Pool>,
    headers: HeaderMap,
    _account: Account,
) -> Result<StatusCode, ApiError> {
    let token = bearer(&headers).ok_or(Error::Unauthorized(NO_TOKEN))?;
    accounts::revoke_token(&pool, token).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyOrders {
    pub data: Vec<OrderResponse>,
}

/// The signed-in traveller's orders, newest first.
#[utoipa::path(get, path = "/me/orders", tag = "accounts", security(("user_token" = [])),
    responses(
        (status = 200, description = "Orders", body = MyOrders),
        (status = 401, response = inline(problems::Unauthorized)),
    ))]
pub async fn my_orders(State(pool): State<Pool>, Account(user): Account) -> Result<Json<MyOrders>, ApiError> {
    let orders = orders::for_account_with_timelines(&pool, user.id).await?;
    let data = orders.iter().map(|(order, events)| OrderResponse::new(order, events)).collect();
    Ok(Json(MyOrders { data }))
}
