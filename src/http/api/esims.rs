//! An order's eSIM for mobile apps: everything needed to install it, and its SIM status read
//! again from Telnyx (rate-limited per order).

use crate::services::Pool;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::order_dto::OrderStatusResponse;
use super::orders::bearer;
use super::params::ApiPath;
use super::problems;
use super::rate_limit::{self, ApiFailure};
use crate::http::errors::ApiError;
use crate::services::esim::{self, EsimStatus};
use crate::services::orders::{self, Holder};
use crate::services::provisioning::Provisioner;
use crate::services::rate_limit::ESIM_REFRESH;

#[derive(Debug, Serialize, ToSchema)]
pub struct EsimResponse {
    #[schema(example = "89000000000000000012")]
    pub iccid: String,
    /// Telnyx's SIM status when last seen: `enabled`, `disabled`, ...
    #[schema(example = "enabled")]
    pub status: String,
    /// The whole LPA string the QR code encodes.
    #[schema(example = "LPA:1$smdp.tern.test$TN-7K3Q-9XW2-4M8P")]
    pub activation_code: String,
    pub sm_dp_address: String,
    pub matching_id: String,
    /// The phone will ask for a confirmation code.
    pub confirmation_code_required: bool,
    /// One-tap install on iOS 17.4+.
    pub ios_install_url: String,
    pub android_install_url: String,
    /// The QR code as a PNG: with the order's access token as the `token` query parameter
    /// when the order's token was sent; without it when an account's token was (an account
    /// token never goes into a URL; the app draws the QR from `activation_code`).
    pub qr_png_url: String,
}

/// The eSIM of a ready order (`Authorization: Bearer <token>`: the order's access token, or
/// a token of the account the order belongs to); 409 `esim_not_ready` before.
/// 401 without a token, 404 when there is no such order for this token.
#[utoipa::path(get, path = "/orders/{id}/esim", tag = "orders",
    params(("id" = uuid::Uuid, Path, description = "Order id")),
    security(("order_token" = []), ("user_token" = [])),
    responses(
        (status = 200, description = "The eSIM", body = EsimResponse),
        (status = 400, response = inline(problems::BadRequest)),
        (status = 401, response = inline(problems::Unauthorized)),
        (status = 404, response = inline(problems::NotFound)),
        (status = 409, response = inline(problems::Conflict)),
    ))]
pub async fn show_esim(
    State(pool): State<Pool>,
    State(provisioner): State<Provisioner>,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
) -> Result<Json<EsimResponse>, ApiError> {
    let token = bearer(&headers)?;
    let (order, holder) = orders::for_bearer(&pool, &id, token).await?;
    let details = esim::require(&pool, &provisioner.cipher, &order).await?;
    let qr_png_url = match holder {
        Holder::OrderToken => format!("/orders/{}/qr.png?token={token}", order.id),
        Holder::Account => format!("/orders/{}/qr.png", order.id),
    };
    Ok(Json(EsimResponse {
        iccid: details.iccid,
        status: details.status,
        ios_install_url: details.code.ios_install_url(),
        android_install_url: details.code.android_install_url(),
        qr_png_url,
        activation_code: details.code.raw,
        sm_dp_address: details.code.sm_dp_address,
        matching_id: details.code.matching_id,
        confirmation_code_required: details.code.confirmation_code_required,
    }))
}

/// An eSIM's status: which order, which SIM, and what Telnyx last said of it.
#[derive(Debug, Serialize, ToSchema)]
pub struct EsimStatusResponse {
    pub order_id: Uuid,
    pub order_status: OrderStatusResponse,
    #[schema(example = "Japan 10 GB · 30 days")]
    pub plan_name: String,
    #[schema(example = "89000000000000000012")]
    pub iccid: String,
    /// Telnyx's SIM status when last read: `enabled`, `disabled`, ...
    #[schema(example = "enabled")]
    pub status: String,
}

impl From<&EsimStatus> for EsimStatusResponse {
    fn from(e: &EsimStatus) -> Self {
        Self {
            order_id: e.order.id,
            order_status: e.order.status.into(),
            plan_name: e.order.plan_name.clone(),
            iccid: e.iccid.clone(),
            status: e.status.clone(),
        }
    }
}

/// Reads the eSIM's status again from Telnyx (`Authorization: Bearer <token>`: the order's
/// access token or its account's). At most 3 a minute per order (429 with `Retry-After`),
/// besides the limit on every write. 409 `no_esim` before the eSIM was bought; 502 when
/// Telnyx did not answer.
#[utoipa::path(post, path = "/orders/{id}/esim/refresh", tag = "orders",
    params(("id" = uuid::Uuid, Path, description = "Order id")),
    security(("order_token" = []), ("user_token" = [])),
    responses(
        (status = 200, description = "The status as Telnyx reports it now", body = EsimStatusResponse),
        (status = 400, response = inline(problems::BadRequest)),
        (status = 401, response = inline(problems::Unauthorized)),
        (status = 404, response = inline(problems::NotFound)),
        (status = 409, response = inline(problems::Conflict)),
        (status = 429, response = inline(problems::TooManyRequests)),
        (status = 502, response = inline(problems::BadGateway)),
    ))]
pub async fn refresh_esim(
    State(pool): State<Pool>,
    State(provisioner): State<Provisioner>,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
) -> Result<Response, ApiFailure> {
    let token = bearer(&headers)?;
    let (order, _) = orders::for_bearer(&pool, &id, token).await?;
    let decision = rate_limit::enforce(&pool, ESIM_REFRESH, &format!("order:{}", order.id)).await?;
    let status = esim::refresh(&pool, &provisioner, &order).await?;
    let mut response = Json(EsimStatusResponse::from(&status)).into_response();
    rate_limit::add_headers(response.headers_mut(), &decision);
    Ok(response)
}
