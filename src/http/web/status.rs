//! The order's live status for the confirmation page's script: a small JSON document the page
//! polls every 1.5 s while the payment is confirmed and the eSIM prepared, so the page updates
//! in place (no meta refresh) and reloads to show the QR code as soon as the order is ready.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::orders::describe;
use crate::domain::order::Order;
use crate::domain::{EventKind, OrderStatus};
use crate::http::auth::MaybeUser;
use crate::http::errors::HtmlError;
use crate::http::extract::QueryParams;
use crate::services::Pool;
use crate::services::checkout::Payments;
use crate::services::provisioning::Provisioner;
use crate::services::{orders, reconcile};

/// After this long in preparation the page says it is taking longer.
const PATIENCE: time::Duration = time::Duration::seconds(20);

#[derive(Debug, Serialize)]
pub struct OrderStatusView {
    /// The order's status, as in the API (`provisioning`, `ready`...).
    pub status: &'static str,
    pub headline: &'static str,
    pub message: &'static str,
    /// The page should keep polling.
    pub pending: bool,
    /// Preparation is taking longer than usual (retries are running).
    pub taking_longer: bool,
}

/// What the page says while an eSIM takes longer than usual.
pub const TAKING_LONGER: &str = "This is taking longer than usual: our eSIM provider is busy and we keep trying. \
     You can close this page: we will email you your eSIM as soon as it is ready.";

/// The view of an order's status; `retried` says whether a provisioning retry has happened.
pub fn view(order: &Order, retried: bool, returning_from_payment: bool) -> OrderStatusView {
    let (headline, message, pending) = describe(order, returning_from_payment);
    let preparing = matches!(order.status, OrderStatus::Paid | OrderStatus::Provisioning);
    let slow = order.paid_at.is_some_and(|at| time::OffsetDateTime::now_utc() - at > PATIENCE);
    OrderStatusView {
        status: order.status.as_str(),
        headline,
        message,
        pending,
        taking_longer: preparing && (retried || slow),
    }
}

/// `GET /orders/{id}/status`: for the same viewers as the order page (the browser holding the
/// order's cookie, or its account); the token never rides in this URL. Never cached.
pub async fn order_status(
    State(pool): State<Pool>,
    State(payments): State<Payments>,
    State(provisioner): State<Provisioner>,
    MaybeUser(viewer): MaybeUser,
    Path(id): Path<String>,
    QueryParams(params): QueryParams,
    headers: HeaderMap,
) -> Result<Response, HtmlError> {
    let mut order = super::orders::by_cookie_or_account(&pool, &provisioner, &id, &headers, viewer.as_ref()).await?;
    if reconcile::confirm_on_read(&pool, &payments, &order).await {
        order = orders::by_id(&pool, order.id).await?;
    }
    let retried = orders::timeline(&pool, order.id).await?.iter().any(|e| e.kind == EventKind::ProvisioningRetry);
    let session_id = params.text("session_id").ok().flatten();
    let returning = session_id.is_some() && session_id == order.stripe_session_id;
    let mut response = Json(view(&order, retried, returning)).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
