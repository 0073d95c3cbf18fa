//! An order's eSIM for mobile apps: everything needed to install it.

use crate::services::Pool;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde::Serialize;
use utoipa::ToSchema;

use super::orders::bearer;
use super::problems;
use crate::http::errors::ApiError;
use crate::services::esim;
use crate::services::orders;
use crate::services::provisioning::Provisioner;

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
    /// The QR code as a PNG (same access token, as the `token` query parameter).
    pub qr_png_url: String,
}

/// The eSIM of a ready order (`Authorization: Bearer <access token>`); 409 `esim_not_ready` before.
/// 401 without a token, 404 when there is no such order for this token.
#[utoipa::path(get, path = "/orders/{id}/esim", tag = "orders",
    params(("id" = uuid::Uuid, Path, description = "Order id")),
    security(("order_token" = [])),
    responses(
        (status = 200, description = "The eSIM", body = EsimResponse),
        (status = 401, response = inline(problems::Unauthorized)),
        (status = 404, response = inline(problems::NotFound)),
        (status = 409, response = inline(problems::Conflict)),
    ))]
pub async fn show_esim(
    State(pool): State<Pool>,
    State(provisioner): State<Provisioner>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<EsimResponse>, ApiError> {
    let token = bearer(&headers)?;
    let order = orders::by_token(&pool, &id, token).await?;
    let details = esim::require(&pool, &provisioner.cipher, &order).await?;
    Ok(Json(EsimResponse {
        iccid: details.iccid,
        status: details.status,
        ios_install_url: details.code.ios_install_url(),
        android_install_url: details.code.android_install_url(),
        qr_png_url: format!("/orders/{}/qr.png?token={token}", order.id),
        activation_code: details.code.raw,
        sm_dp_address: details.code.sm_dp_address,
        matching_id: details.code.matching_id,
        confirmation_code_required: details.code.confirmation_code_required,
    }))
}
