//! Orders for mobile apps: create one (idempotently) and read it back with its access token.

use crate::services::Pool;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::OptionalAccount;
use super::dto::MoneyResponse;
use super::idempotency;
use crate::domain::order::{Order, OrderEvent};
use crate::error::Error;
use crate::http::errors::{ApiError, Problem};
use crate::http::extract::ApiJson;
use crate::services::catalogue::CatalogueStore;
use crate::services::checkout::{self, CheckoutInput, Payments};
use crate::services::orders;

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct CreateOrderRequest {
    /// The plan to buy.
    pub plan_id: String,
    /// Where the eSIM details go.
    #[schema(example = "traveller@example.com")]
    pub email: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderEventResponse {
    /// `created`, `checkout_started`, `paid`, `expired`, `payment_failed`, `refunded`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// `traveller`, `stripe`, `system` or `admin`.
    pub actor: String,
    /// RFC 3339.
    pub at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderResponse {
    pub id: Uuid,
    /// `awaiting_payment`, `paid`, `provisioning`, `ready`, `payment_failed`, `expired`,
    /// `provisioning_failed` or `refunded`.
    #[schema(example = "awaiting_payment")]
    pub status: String,
    /// True while an operator must look at the payment (it did not match the order).
    pub needs_review: bool,
    pub plan_id: Uuid,
    pub plan_name: String,
    pub amount: MoneyResponse,
    pub email: String,
    /// RFC 3339.
    pub created_at: String,
    pub paid_at: Option<String>,
    pub events: Vec<OrderEventResponse>,
}

/// The answer to a create: the order, where to pay, and the token that reads it back.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedOrderResponse {
    #[serde(flatten)]
    pub order: OrderResponse,
    /// Open this in a browser to pay (Stripe Checkout).
    pub checkout_url: String,
    /// Bearer token for `GET /orders/{id}`. Shown once; keep it.
    pub access_token: String,
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

impl OrderResponse {
    pub fn new(order: &Order, events: &[OrderEvent]) -> Self {
        Self {
            id: order.id,
            status: order.status.as_str().to_string(),
            needs_review: order.needs_review,
            plan_id: order.plan_id,
            plan_name: order.plan_name.clone(),
            amount: (&order.amount).into(),
            email: order.email.clone(),
            created_at: rfc3339(order.created_at),
            paid_at: order.paid_at.map(rfc3339),
            events: events
                .iter()
                .map(|e| OrderEventResponse {
                    kind: e.kind.to_string(),
                    actor: e.actor.to_string(),
                    at: rfc3339(e.created_at),
                })
                .collect(),
        }
    }
}

/// Creates an order and its Stripe Checkout Session. Requires an `Idempotency-Key`: the same
/// key and body answer the same again; the same key with another body is refused (422).
/// With a user's bearer token (from `POST /auth/token`) the order belongs to that account.
#[utoipa::path(post, path = "/orders", tag = "orders",
    params(("Idempotency-Key" = String, Header, description = "1 to 255 characters, unique per intended order")),
    security((), ("user_token" = [])),
    request_body = CreateOrderRequest,
    responses(
        (status = 201, description = "Order created", body = CreatedOrderResponse),
        (status = 400, description = "Missing Idempotency-Key or malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "A bearer token that is expired or revoked", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Plan not on sale, or the same key still in flight", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid email, or the key was used with another body", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "Stripe did not answer; nothing was created for this key", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_order(
    State(pool): State<Pool>,
    State(payments): State<Payments>,
    State(store): State<CatalogueStore>,
    OptionalAccount(account): OptionalAccount,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CreateOrderRequest>,
) -> Result<Response, ApiError> {
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).ok_or(Error::BadRequest {
        code: "idempotency_key_missing",
        message: "Send an Idempotency-Key header so a retried request cannot create a second order.".into(),
    })?;
    let request = serde_json::to_vec(&body).map_err(anyhow::Error::from)?;
    let scope = account.as_ref().map(|u| format!("orders:{}", u.id)).unwrap_or_else(|| "orders".into());
    let (status, json) = idempotency::run(&pool, &scope, key, &request, || async {
        let catalogue = store.snapshot();
        let input = CheckoutInput {
            plan_id: body.plan_id.clone(),
            email: body.email.clone(),
            device_confirmed: true,
            user_id: account.as_ref().map(|u| u.id),
        };
        match checkout::start(&pool, &payments, &catalogue, &input).await {
            Ok(started) => {
                let events = match orders::timeline(&pool, started.order.id).await {
                    Ok(events) => events,
                    Err(e) => return problem(&e),
                };
                let created = CreatedOrderResponse {
                    order: OrderResponse::new(&started.order, &events),
                    checkout_url: started.checkout_url,
                    access_token: started.access_token,
                };
                (201, serde_json::to_value(created).unwrap_or_default())
            }
            Err(e) => problem(&e),
        }
    })
    .await?;
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let content_type = if status.is_success() { "application/json" } else { "application/problem+json" };
    Ok((status, [(header::CONTENT_TYPE, content_type)], Json(json)).into_response())
}

/// An order, for the holder of its access token (`Authorization: Bearer <token>`).
#[utoipa::path(get, path = "/orders/{id}", tag = "orders",
    params(("id" = Uuid, Path, description = "Order id")),
    security(("order_token" = [])),
    responses(
        (status = 200, description = "The order", body = OrderResponse),
        (status = 401, description = "No bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order for this token", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn show_order(
    State(pool): State<Pool>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<OrderResponse>, ApiError> {
    let token = bearer(&headers)?;
    let order = orders::by_token(&pool, &id, token).await?;
    let events = orders::timeline(&pool, order.id).await?;
    Ok(Json(OrderResponse::new(&order, &events)))
}

/// A failed creation as the idempotency record keeps it: its status and problem document.
fn problem(e: &Error) -> (u16, serde_json::Value) {
    (e.status().as_u16(), serde_json::to_value(crate::http::errors::problem_for(e)).unwrap_or_default())
}

pub(super) fn bearer(headers: &HeaderMap) -> Result<&str, Error> {
    super::auth::bearer(headers)
        .ok_or(Error::Unauthorized("Send the order's access token as Authorization: Bearer <token>."))
}
