//! Orders for mobile apps: create one (idempotently), read it back with its access token or
//! its account's, and cancel it while it is unpaid.

use crate::services::Pool;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::OptionalAccount;
use super::idempotency;
use super::order_dto::{CreatedOrderResponse, OrderResponse};
use super::params::{ApiPath, ApiQuery};
use super::problems;
use crate::domain::Actor;
use crate::error::Error;
use crate::http::errors::ApiError;
use crate::http::extract::ApiJson;
use crate::services::cancellation;
use crate::services::catalogue::CatalogueStore;
use crate::services::checkout::{self, CheckoutInput, Payments};
use crate::services::orders;
use crate::services::reconcile;
use crate::services::settlements::{self, Settlements};
use std::time::Duration;

/// The longest `GET /orders/{id}?wait=` may hold a request, in seconds: well inside the
/// request timeout, so a full wait is answered with the order, never with a 503.
const MAX_WAIT_SECONDS: u64 = 20;
const _: () = assert!(MAX_WAIT_SECONDS + 5 <= crate::http::REQUEST_TIMEOUT.as_secs());

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrderRequest {
    /// The plan to buy.
    #[schema(format = Uuid)]
    pub plan_id: String,
    /// Where the eSIM details go: once the order is paid, Tern emails this address the payment
    /// receipt and then the eSIM (QR code, codes for manual entry, one-tap install links).
    #[schema(example = "traveller@example.com", format = Email, max_length = 254, pattern = r"^\s*(?=[^@\s]{1,64}@)[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}\s*$")]
    pub email: String,
}

/// Creates an order and its Stripe Checkout Session. Requires an `Idempotency-Key`: the same
/// key and body answer the same again; the same key with another body is refused (422).
/// With a user's bearer token (from `POST /auth/token`) the order belongs to that account.
///
/// Sends email: once paid, to the order's `email` (payment received, then the eSIM ready, or
/// that it could not be prepared; a refund later). Creating the order sends nothing yet.
///
/// Errors: 400 without an `Idempotency-Key` or with a malformed body; 401 for a bearer token
/// that is expired or revoked; 404 for no such plan; 409 when the plan is not on sale or the
/// same key is still in flight; 422 for an invalid email or a key used with another body;
/// 502 when Stripe did not answer (nothing was created for this key).
#[utoipa::path(post, path = "/orders", tag = "orders",
    params(("Idempotency-Key" = String, Header, description = "A UUID, or at least 128 random bits (22+ base64url \
        characters or 32+ hex digits), unique per intended order; kept 24 hours, per account (or per client address \
        when anonymous)", min_length = 22, max_length = 255, pattern = r"^[A-Za-z0-9_-]{22,255}$")),
    security((), ("user_token" = [])),
    request_body = CreateOrderRequest,
    responses(
        (status = 201, description = "Order created", body = CreatedOrderResponse),
        (status = 400, response = inline(problems::BadRequest)),
        (status = 401, response = inline(problems::Unauthorized)),
        (status = 404, response = inline(problems::NotFound)),
        (status = 409, response = inline(problems::Conflict)),
        (status = 413, response = inline(problems::PayloadTooLarge)),
        (status = 422, response = inline(problems::UnprocessableEntity)),
        (status = 429, response = inline(problems::TooManyRequests)),
        (status = 502, response = inline(problems::BadGateway)),
    ))]
pub async fn create_order(
    State(pool): State<Pool>,
    State(payments): State<Payments>,
    State(store): State<CatalogueStore>,
    State(provisioner): State<crate::services::provisioning::Provisioner>,
    OptionalAccount(account): OptionalAccount,
    idempotency::IdempotencyKey { key, client }: idempotency::IdempotencyKey,
    ApiJson(body): ApiJson<CreateOrderRequest>,
) -> Result<Response, ApiError> {
    let request = serde_json::to_vec(&body).map_err(anyhow::Error::from)?;
    let scope = idempotency::scope("orders", account.as_ref().map(|u| u.id), client.as_deref());
    let (status, json) = idempotency::run(&pool, &provisioner.cipher, &scope, &key, &request, || async {
        let catalogue = store.snapshot();
        let input = CheckoutInput {
            plan_id: body.plan_id.clone(),
            email: body.email.clone(),
            device_confirmed: true,
            user_id: account.as_ref().map(|u| u.id),
        };
        match checkout::start(&pool, &payments, &catalogue, &input).await {
            Ok(started) => {
                let created = CreatedOrderResponse {
                    order: OrderResponse::new(&started.order, &started.events),
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

/// An order, for the holder of its access token or of a token of its account
/// (`Authorization: Bearer <token>`); 401 without one, 404 when there is no such order for
/// this token (another account's order is not found either).
///
/// With `wait` (seconds, 1 to 20), an order still in progress (`awaiting_payment`, `paid`,
/// `provisioning`) is answered as soon as it settles (`ready`, or ended without an eSIM), or
/// as it is when the wait ends: one request instead of polling. A settled order is answered
/// at once.
#[utoipa::path(get, path = "/orders/{id}", tag = "orders",
    params(("id" = uuid::Uuid, Path, description = "Order id"),
        ("wait" = Option<u64>, Query, minimum = 1, maximum = 20,
            description = "Seconds to wait for an order in progress to settle")),
    security(("order_token" = []), ("user_token" = [])),
    responses(
        (status = 200, description = "The order", body = OrderResponse),
        (status = 400, response = inline(problems::BadRequest)),
        (status = 401, response = inline(problems::Unauthorized)),
        (status = 404, response = inline(problems::NotFound)),
    ))]
pub async fn show_order(
    State(pool): State<Pool>,
    State(payments): State<Payments>,
    State(settlements): State<Settlements>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(params): ApiQuery,
    headers: HeaderMap,
) -> Result<Json<OrderResponse>, ApiError> {
    let wait = params.int::<u64>("wait", 1, MAX_WAIT_SECONDS).map_err(Error::from)?;
    let token = bearer(&headers)?;
    // Watched before the read, so a settlement committed after it wakes this request.
    let watch = wait.zip(uuid::Uuid::parse_str(&id).ok()).map(|(_, id)| settlements.watch(id));
    let (mut order, _) = orders::for_bearer(&pool, &id, token).await?;
    if reconcile::confirm_on_read(&pool, &payments, &order).await {
        order = orders::for_bearer(&pool, &id, token).await?.0;
    }
    if let (Some(seconds), Some(watch)) = (wait, watch) {
        let read = || async { Ok(orders::for_bearer(&pool, &id, token).await?.0) };
        order = settlements::until_settled(watch, Duration::from_secs(seconds), order, read).await?;
    }
    let events = orders::timeline(&pool, order.id).await?;
    Ok(Json(OrderResponse::new(&order, &events)))
}

/// Cancels an order that is still awaiting payment: its Stripe Checkout Session is expired
/// (it can no longer be paid) and the order becomes `expired` with a `cancelled` event.
/// `Authorization: Bearer <token>`: the order's access token or its account's.
///
/// Errors: 401 without a token; 404 when there is no such order for this token; 409
/// `not_unpaid` once it is paid, expired or already cancelled; 502 when Stripe did not answer
/// (nothing was cancelled).
#[utoipa::path(post, path = "/orders/{id}/cancel", tag = "orders",
    params(("id" = uuid::Uuid, Path, description = "Order id")),
    security(("order_token" = []), ("user_token" = [])),
    responses(
        (status = 200, description = "Cancelled", body = OrderResponse),
        (status = 400, response = inline(problems::BadRequest)),
        (status = 401, response = inline(problems::Unauthorized)),
        (status = 404, response = inline(problems::NotFound)),
        (status = 409, response = inline(problems::Conflict)),
        (status = 429, response = inline(problems::TooManyRequests)),
        (status = 502, response = inline(problems::BadGateway)),
    ))]
pub async fn cancel_order(
    State(pool): State<Pool>,
    State(payments): State<Payments>,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
) -> Result<Json<OrderResponse>, ApiError> {
    let token = bearer(&headers)?;
    let (order, _) = orders::for_bearer(&pool, &id, token).await?;
    let order = cancellation::cancel_unpaid(&pool, &payments, &order, Actor::Traveller, None).await?;
    let events = orders::timeline(&pool, order.id).await?;
    Ok(Json(OrderResponse::new(&order, &events)))
}

/// A failed creation as the idempotency record keeps it: its status and problem document.
fn problem(e: &Error) -> (u16, serde_json::Value) {
    (e.status().as_u16(), serde_json::to_value(crate::http::errors::problem_for(e)).unwrap_or_default())
}

pub(super) fn bearer(headers: &HeaderMap) -> Result<&str, Error> {
    super::auth::bearer(headers).ok_or(Error::Unauthorized(
        "Send the order's access token (or your account's token) as Authorization: Bearer <token>.",
    ))
}
