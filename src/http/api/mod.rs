//! The JSON API for mobile apps at `/api/v1`: JSON only, errors as problem documents, and an
//! OpenAPI 3.1 document generated from these handlers.

pub mod api_key_auth;
mod auth;
mod catalogue;
mod docs_page;
mod dto;
mod esims;
mod fallback;
mod idempotency;
mod integrity;
mod me;
mod openapi;
mod order_dto;
mod orders;
mod params;
mod problems;
mod rate_limit;
mod webhook_docs;
mod webhook_dto;
mod webhook_endpoints;

use axum::routing::{get, post};

use axum::Router;
use utoipa::OpenApi;

use super::errors::Problem;
use crate::http::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Tern API", version = "1", description = "The Tern travel eSIM shop for mobile apps. \
        Lists answer `{\"data\": [...], \"meta\": {\"page\", \"per_page\", \"total\"}}`; errors are RFC 9457 \
        `application/problem+json` documents with a stable `code`. \
        Email: only `POST /orders` leads to mail, sent to the order's `email` once the order is paid (payment \
        received, then the eSIM with its QR code, or news of a failure; a refund too). No other action sends mail."),
    servers((url = "/api/v1")),
    paths(
        catalogue::list_regions,
        catalogue::list_destinations,
        catalogue::show_destination,
        catalogue::list_plans,
        catalogue::show_plan,
        orders::create_order,
        orders::show_order,
        esims::show_esim,
        auth::create_token,
        auth::delete_token,
        auth::my_orders,
        orders::cancel_order,
        esims::refresh_esim,
        me::my_esims,
    ),
    modifiers(&BearerToken),
    components(schemas(Problem, super::errors::InvalidParam)),
    tags(
        (name = "catalogue", description = "Regions, destinations and plans"),
        (name = "orders", description = "Buying a plan and following the order"),
        (name = "accounts", description = "Signing in from the app, and the account's orders")
    )
)]
pub struct ApiDoc;

/// The order access token, sent as a bearer token.
struct BearerToken;

impl utoipa::Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "order_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The order's access_token, returned when the order was created"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "user_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A signed-in user's token from POST /auth/token"))
                    .build(),
            ),
        );
    }
}

pub fn router(state: &AppState) -> Router<AppState> {
    let catalogue = Router::new()
        .route("/regions", get(catalogue::list_regions))
        .route("/destinations", get(catalogue::list_destinations))
        .route("/destinations/{iso}", get(catalogue::show_destination))
        .route("/plans", get(catalogue::list_plans))
        .route("/plans/{id}", get(catalogue::show_plan))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), crate::http::cache::cached))
        .layer(crate::http::compression::public());
    let reference = Router::new()
        .route("/openapi.json", get(openapi::openapi))
        .route("/docs", get(docs_page::docs))
        .route("/docs/webhooks", get(webhook_docs::webhook_docs))
        .layer(crate::http::compression::public());
    Router::new()
        .merge(catalogue)
        .route("/orders", axum::routing::post(orders::create_order))
        .route("/orders/{id}", get(orders::show_order))
        .route("/orders/{id}/esim", get(esims::show_esim))
        .route("/auth/token", axum::routing::post(auth::create_token).delete(auth::delete_token))
        .route("/me/orders", get(auth::my_orders))
        .merge(integrity::routes())
        .route("/orders/{id}/cancel", post(orders::cancel_order))
        .route("/orders/{id}/esim/refresh", post(esims::refresh_esim))
        .route("/me/esims", get(me::my_esims))
        .merge(reference)
        .merge(webhook_endpoints::routes())
        .fallback(fallback::not_found)
        // Outermost last: every write is counted before it runs, and every 4xx leaves as a problem.
        .layer(axum::middleware::from_fn_with_state(state.clone(), rate_limit::limit_writes))
        .layer(axum::middleware::from_fn(fallback::problems_only))
}
