//! The HTTP surfaces: storefront pages at `/`, the JSON API at `/api/v1`, health checks and
//! static files, behind one layer stack.

pub mod admin;
pub mod api;
pub mod auth;
pub mod cache;
pub mod errors;
pub mod extract;
pub mod forms;
mod guard;
mod health;
pub mod page;
pub mod qr;
pub mod state;
mod statics;
pub mod web;
mod webhooks;

use std::time::Duration;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::http::state::AppState;

/// Largest request body accepted anywhere.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Serves the app on `listener` until `shutdown` completes, then drains connections.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

/// The whole application, ready to serve. Tests call this directly.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(web::router(&state))
        .merge(
            web::session_router()
                .nest("/admin", admin::router())
                .layer(middleware::from_fn(auth::verify_csrf))
                .layer(sessions(&state)),
        )
        .nest("/api/v1", api::router(&state))
        .merge(health::router())
        .merge(webhooks::router())
        .nest_service("/static", statics::service())
        .fallback(web::not_found)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(guard::reject_control_chars))
        .layer(middleware::from_fn_with_state(state.clone(), guard::log_access_failures))
        .layer(middleware::from_fn_with_state(state.mode, web::with_site_mode))
        .layer(
            ServiceBuilder::new()
                .layer(SetSensitiveRequestHeadersLayer::new([header::AUTHORIZATION, header::COOKIE]))
                .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
                    let route = req.extensions().get::<MatchedPath>().map(MatchedPath::as_str).unwrap_or("");
                    tracing::info_span!("http", http.method = %req.method(), http.route = route, http.path = %req.uri().path())
                }))
                .layer(CatchPanicLayer::custom(|_| web::internal_error_page()))
                .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, Duration::from_secs(30)))
                .layer(security_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                .layer(security_header(header::X_FRAME_OPTIONS, "DENY"))
                .layer(security_header(header::REFERRER_POLICY, "strict-origin-when-cross-origin"))
                .layer(security_header(
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                     object-src 'none'; base-uri 'self'; frame-ancestors 'none'",
                )),
        )
        .with_state(state)
}

/// Sessions in PostgreSQL: HttpOnly, SameSite=Lax, Secure in production, a week of inactivity.
fn sessions(state: &AppState) -> tower_sessions::SessionManagerLayer<tower_sessions_sqlx_store::PostgresStore> {
    tower_sessions::SessionManagerLayer::new(state.sessions.clone())
        .with_name("tern_session")
        .with_http_only(true)
        .with_same_site(tower_sessions::cookie::SameSite::Lax)
        .with_secure(state.mode.secure_cookies)
        .with_expiry(tower_sessions::Expiry::OnInactivity(tower_sessions::cookie::time::Duration::days(7)))
}

fn security_header(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}
