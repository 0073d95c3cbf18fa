//! The signed-in traveller's eSIMs, for the app's home screen.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::Account;
use super::esims::EsimStatusResponse;
use super::problems;
use crate::http::errors::ApiError;
use crate::services::Pool;
use crate::services::esim;

#[derive(Debug, Serialize, ToSchema)]
pub struct MyEsims {
    pub data: Vec<EsimStatusResponse>,
}

/// The signed-in traveller's eSIMs (every order of the account with a SIM bought), newest
/// order first, each with its status as Telnyx last reported it (refresh one with
/// `POST /orders/{id}/esim/refresh`).
#[utoipa::path(get, path = "/me/esims", tag = "accounts", security(("user_token" = [])),
    responses(
        (status = 200, description = "eSIMs", body = MyEsims),
        (status = 401, response = inline(problems::Unauthorized)),
    ))]
pub async fn my_esims(State(pool): State<Pool>, Account(user): Account) -> Result<Json<MyEsims>, ApiError> {
    let esims = esim::for_account(&pool, user.id).await?;
    Ok(Json(MyEsims { data: esims.iter().map(EsimStatusResponse::from).collect() }))
}
