//! Webhook management for integrators at `/api/v1/webhook_endpoints` and
//! `/api/v1/webhook_deliveries`, with an API key as bearer token: endpoints, secret rotation,
//! tests, the delivery log, retries and recovery.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde_json::Value;
use utoipa::OpenApi;

use super::api_key_auth::ApiKeyAuth;
use super::problems;
use super::webhook_dto::{
    self, CreateWebhookEndpointRequest, QueuedResponse, RecoverRequest, UpdateWebhookEndpointRequest,
    WebhookDeliveryList, WebhookDeliveryResponse, WebhookEndpointList, WebhookEndpointResponse,
    WebhookEndpointWithSecretResponse,
};
use crate::http::errors::ApiError;
use crate::http::extract::ApiJson;
use crate::http::state::AppState;
use crate::services::Pool;
use crate::services::api_keys::ApiKey;
use crate::services::webhooks::Webhooks;
use crate::services::webhooks::endpoints::{self, Manager};
use secrecy::ExposeSecret;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/webhook_endpoints", post(create_endpoint).get(list_endpoints))
        .route("/webhook_endpoints/{id}", get(show_endpoint).patch(update_endpoint).delete(delete_endpoint))
        .route("/webhook_endpoints/{id}/rotate_secret", post(rotate_secret))
        .route("/webhook_endpoints/{id}/test", post(test_endpoint))
        .route("/webhook_endpoints/{id}/deliveries", get(list_deliveries))
        .route("/webhook_endpoints/{id}/recover", post(recover))
        .route("/webhook_deliveries/{id}/retry", post(retry_delivery))
}

/// The management operations, merged into the API's document.
#[derive(OpenApi)]
#[openapi(
    paths(
        create_endpoint,
        list_endpoints,
        show_endpoint,
        update_endpoint,
        delete_endpoint,
        rotate_secret,
        test_endpoint,
        list_deliveries,
        recover,
        retry_delivery
    ),
    components(schemas(CreateWebhookEndpointRequest, UpdateWebhookEndpointRequest, RecoverRequest)),
    tags((name = "webhooks", description = "Webhook endpoints, with an API key: what Tern sends is in the `webhooks` \
        section and at /api/v1/docs/webhooks"))
)]
pub struct WebhookManagementDoc;

fn manager(key: &ApiKey) -> Manager<'static> {
    Manager::Key { id: key.id, role: key.role }
}

/// Registers an endpoint. The answer carries its signing `secret`, shown this once. The URL
/// must be `https://` (in production) and resolve only to public addresses.
#[utoipa::path(post, path = "/webhook_endpoints", tag = "webhooks", security(("api_key" = [])),
    request_body = CreateWebhookEndpointRequest,
    responses(
        (status = 201, description = "Registered", body = WebhookEndpointWithSecretResponse),
        (status = 400, response = inline(problems::BadRequest)),
        (status = 401, response = inline(problems::Unauthorized)),
        (status = 403, response = inline(problems::Forbidden)),
        (status = 422, response = inline(problems::UnprocessableEntity)),
    ))]
pub async fn create_endpoint(
    State(pool): State<Pool>,
    State(webhooks): State<Webhooks>,
    ApiKeyAuth(key): ApiKeyAuth,
    ApiJson(body): ApiJson<Value>,
) -> Result<(StatusCode, Json<WebhookEndpointWithSecretResponse>), ApiError> {
    let input = webhook_dto::endpoint_input(body)?;
    let (endpoint, secret) = endpoints::create(&pool, &webhooks, &manager(&key), &input).await?;
    let secret = secret.expose_secret().to_string();
    Ok((StatusCode::CREATED, Json(WebhookEndpointWithSecretResponse { endpoint: endpoint.into(), secret })))
}

/// The endpoints this key manages (an admin key: every endpoint).
#[utoipa::path(get, path = "/webhook_endpoints", tag = "webhooks", security(("api_key" = [])),
    responses(
        (status = 200, description = "Endpoints", body = WebhookEndpointList),
        (status = 401, response = inline(problems::Unauthorized)),
        (status = 403, response = inline(problems::Forbidden)),
    ))]
pub async fn list_endpoints(
    State(pool): State<Pool>,
    ApiKeyAuth(key): ApiKeyAuth,
) -> Result<Json<WebhookEndpointList>, ApiError> {
    let data = endpoints::list(&pool, &manager(&key)).await?.into_iter().map(Into::into).collect();
    Ok(Json(WebhookEndpointList { data }))
}

/// One endpoint.
#[utoipa::path(get, path = "/webhook_endpoints/{id}", tag = "webhooks", security(("api_key" = [])),
    params(("id" = uuid::Uuid, Path, description = "Endpoint id")),
    responses(
        (status = 200, description = "The endpoint", body = WebhookEndpointResponse),
        (status = 400, response = inline(problems::BadRequest)),
        (status = 401, response = inline(problems::Unauthorized)),
        (status = 403, response = inline(problems::Forbidden)),
        (status = 404, response = inline(problems::NotFound)),
    ))]
pub async fn show_endpoint(
    State(pool): State<Pool>,
    ApiKeyAuth(key): ApiKeyAuth,
    Path(id): Path<String>,
) -> Result<Json<WebhookEndpointResponse>, ApiError> {
    Ok(Json(endpoints::get(&pool, &manager(&key), &id).await?.into()))
}

/// Changes an endpoint's URL, description, event-type filter or whether it is enabled.
#[utoipa::path(patch, path = "/webhook_endpoints/{id}", tag = "webhooks", security(("api_key" = [])),
    params(("id" = uuid::Uuid, Path, description = "Endpoint id")),
    request_body = UpdateWebhookEndpointRequest,
    responses(
        (status = 200, description = "Changed", body = WebhookEndpointResponse),
        (status = 400, response = inline(problems::BadRequest)),
        (status = 401, response = inline(problems::Unauthorized)),
        (status = 403, response = inline(problems::Forbidden)),
        (status = 404, response = inline(problems::NotFound)),
        (status = 422, response = inline(problems::UnprocessableEntity)),
    ))]
pub async fn update_endpoint(
    State(pool): State<Pool>,
    State(webhooks): State<Webhooks>,
    ApiKeyAuth(key): ApiKeyAuth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<WebhookEndpointResponse>, ApiError> {
    endpoints::parse_id(&id)?; // a bad id is named before the body
    let input = webhook_dto::endpoint_input(body)?;
    Ok(Json(endpoints::update(&pool, &webhooks, &manager(&key), &id, &input).await?.into()))
}

/// Deletes an endpoint and its delivery log.
#[utoipa::path(delete, path = "/webhook_endpoints/{id}", tag = "webhooks", security(("api_key" = [])),
    params(("id" = uuid::Uuid, Path, description = "Endpoint id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, response = inline(problems::BadRequest)),
        (status = 401, response = inline(problems::Unauthorized)),
        (status = 403, response = inline(problems::Forbidden)),
        (status = 404, response = inline(problems::NotFound)),
    ))]
pub async fn delete_endpoint(
    State(pool): State<Pool>,
    ApiKeyAuth(key): ApiKeyAuth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    endpoints::delete(&pool, &manager(&key), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new signing secret, shown this once. For 24 hours deliveries carry two signatures, one
/// with each secret, so receivers can switch without losing an event.
#[utoipa::path(post, path = "/webhook_endpoints/{id}/rotate_secret", tag = "webhooks", security(("api_key" = [])),
    params(("id" = uuid::Uuid, Path, description = "Endpoint id")),
    responses(
        (status = 200, description = "Rotated", body = WebhookEndpointWithSecretResponse),
        (status = 400, response = inline(problems::BadRequest)),
        (status = 401, response = inline(problems::Unauthorized)),
        (status = 403, response = inline(problems::Forbidden)),
        (status = 404, response = inline(problems::NotFound)),
    ))]
pub async fn rotate_secret(
    State(pool): State<Pool>,
    State(webhooks): State<Webhooks>,
    ApiKeyAuth(key): ApiKeyAuth,
    Path(id): Path<String>,
) -> Result<Json<WebhookEndpointWithSecretResponse>, ApiError> {
    let (endpoint, secret) = endpoints::rotate_secret(&pool, &webhooks, &manager(&key), &id).await?;
    let secret = secret.expose_secret().to_string();
    Ok(Json(WebhookEndpointWithSecretResponse { endpoint: endpoint.into(), secret }))
}

/// Sends a `ping` event to the endpoint (409 `endpoint_disabled` when it is disabled).
#[utoipa::path(post, path = "/webhook_endpoints/{id}/test", tag = "webhooks", security(("api_key" = [])),
    params(("id" = uuid::Uuid, Path, description = "Endpoint id")),
    responses(
        (status = 202, description = "Queued", body = QueuedResponse),
        (status = 400, response = inline(problems::BadRequest)),
        (status = 401, response = inline(problems::Unauthorized)),
        (status = 403, response = inline(problems::Forbidden)),
        (status = 404, response = inline(problems::NotFound)),
        (status = 409, response = inline(problems::Conflict)),
    ))]
pub async fn test_endpoint(
    State(pool): State<Pool>,
    ApiKeyAuth(key): ApiKeyAuth,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<QueuedResponse>), ApiError> {
    let event_id = endpoints::send_test(&pool, &manager(&key), &id).await?;
    Ok((StatusCode::ACCEPTED, Json(QueuedResponse { queued: 1, event_id: Some(event_id) })))
}

/// Every delivery attempt to the endpoint, newest first (at most 100): when, the status
/// answered, how long it took and the start of the answer.
#[utoipa::path(get, path = "/webhook_endpoints/{id}/deliveries", tag = "webhooks", security(("api_key" = [])),
    params(("id" = uuid::Uuid, Path, description = "Endpoint id")),
    responses(
        (status = 200, description = "Attempts", body = WebhookDeliveryList),
        (status = 400, response = inline(problems::BadRequest)),
        (status = 401, response = inline(problems::Unauthorized)),
        (status = 403, response = inline(problems::Forbidden)),
        (status = 404, response = inline(problems::NotFound)),
    ))]
pub async fn list_deliveries(
    State(pool): State<Pool>,
    ApiKeyAuth(key): ApiKeyAuth,
    Path(id): Path<String>,
) -> Result<Json<WebhookDeliveryList>, ApiError> {
    let data = endpoints::deliveries(&pool, &manager(&key), &id).await?.into_iter().map(Into::into).collect();
    Ok(Json(WebhookDeliveryList { data }))
}

/// Sends again every event since `since` that the endpoint takes (at most 1,000, oldest first).
#[utoipa::path(post, path = "/webhook_endpoints/{id}/recover", tag = "webhooks", security(("api_key" = [])),
    params(("id" = uuid::Uuid, Path, description = "Endpoint id")),
    request_body = RecoverRequest,
    responses(
        (status = 202, description = "Queued", body = QueuedResponse),
        (status = 400, response = inline(problems::BadRequest)),
        (status = 401, response = inline(problems::Unauthorized)),
        (status = 403, response = inline(problems::Forbidden)),
        (status = 404, response = inline(problems::NotFound)),
        (status = 409, response = inline(problems::Conflict)),
        (status = 422, response = inline(problems::UnprocessableEntity)),
    ))]
pub async fn recover(
    State(pool): State<Pool>,
    ApiKeyAuth(key): ApiKeyAuth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<(StatusCode, Json<QueuedResponse>), ApiError> {
    endpoints::parse_id(&id)?;
    let since = webhook_dto::since(body)?;
    let queued = endpoints::recover(&pool, &manager(&key), &id, since.as_deref()).await?;
    Ok((StatusCode::ACCEPTED, Json(QueuedResponse { queued, event_id: None })))
}

/// Sends a logged delivery's event again, from a first attempt.
#[utoipa::path(post, path = "/webhook_deliveries/{id}/retry", tag = "webhooks", security(("api_key" = [])),
    params(("id" = i64, Path, description = "Delivery attempt id")),
    responses(
        (status = 202, description = "Queued", body = WebhookDeliveryResponse),
        (status = 400, response = inline(problems::BadRequest)),
        (status = 401, response = inline(problems::Unauthorized)),
        (status = 403, response = inline(problems::Forbidden)),
        (status = 404, response = inline(problems::NotFound)),
        (status = 409, response = inline(problems::Conflict)),
    ))]
pub async fn retry_delivery(
    State(pool): State<Pool>,
    ApiKeyAuth(key): ApiKeyAuth,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<WebhookDeliveryResponse>), ApiError> {
    let attempt = endpoints::retry(&pool, &manager(&key), &id).await?;
    Ok((StatusCode::ACCEPTED, Json(attempt.into())))
}
