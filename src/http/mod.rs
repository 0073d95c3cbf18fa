//! The HTTP surfaces: storefront pages at `/`, the JSON API at `/api/v1`, health checks and
//! static files, behind one layer stack.

pub mod admin;
pub mod api;
pub mod auth;
pub mod cache;
pub mod compression;
pub mod email;
pub mod errors;
pub mod extract;
pub mod forms;
mod guard;
pub mod headers;
pub mod health;
pub mod metrics;
pub mod page;
pub mod precompressed;
pub mod qr;
pub mod state;
pub(crate) mod statics;
pub mod web;
mod webhooks;

use std::time::Duration;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::{StatusCode, header};
use axum::middleware;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
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
    let routes = Router::new()
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
        .merge(statics::router())
        .fallback(web::not_found);
    with_layers(routes, state, REQUEST_TIMEOUT)
}

/// How long a request may take before it is answered 503.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The one layer stack around `routes` (public so that tests can put a panicking or hanging
/// route under it).
pub fn with_layers(routes: Router<AppState>, state: AppState, timeout: Duration) -> Router {
    routes
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(guard::reject_control_chars))
        .layer(middleware::from_fn_with_state(state.clone(), guard::log_access_failures))
        .layer(middleware::from_fn_with_state(state.mode, web::with_site_mode))
        .layer(middleware::from_fn(metrics::record))
        .layer(
            ServiceBuilder::new()
                .layer(SetSensitiveRequestHeadersLayer::new([header::AUTHORIZATION, header::COOKIE]))
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
                    let route = req.extensions().get::<MatchedPath>().map(MatchedPath::as_str).unwrap_or("");
                    let request_id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
                    tracing::info_span!("http", http.method = %req.method(), http.route = route, http.path = %req.uri().path(), request_id)
                }))
                .layer(CatchPanicLayer::custom(|_| web::internal_error_page()))
                .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, timeout)),
        )
        // Outermost, so that catch-panic 500s and timeout 503s get the headers too.
        .layer(middleware::from_fn_with_state(state.headers.clone(), headers::security_headers))
        .with_state(state)
}

/// The session cookie's name: with the `__Host-` prefix whenever it is Secure (HTTPS), so that
/// no subdomain or plain-HTTP page can set or shadow it.
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure { "__Host-tern_session" } else { "tern_session" }
}

/// Sessions in PostgreSQL: HttpOnly, SameSite=Lax, Secure over HTTPS, a week of inactivity.
fn sessions(state: &AppState) -> tower_sessions::SessionManagerLayer<tower_sessions_sqlx_store::PostgresStore> {
    tower_sessions::SessionManagerLayer::new(state.sessions.clone())
        .with_name(session_cookie_name(state.mode.secure_cookies))
        .with_path("/")
        .with_http_only(true)
        .with_same_site(tower_sessions::cookie::SameSite::Lax)
        .with_secure(state.mode.secure_cookies)
        .with_expiry(tower_sessions::Expiry::OnInactivity(tower_sessions::cookie::time::Duration::days(7)))
}
