//! HTTP metrics: every request counted and timed by method, matched route and status; and the
//! `/metrics` listener (`TERN_METRICS_ADDR`, separate from the shop's port) that renders the
//! process's Prometheus registry after sampling the database gauges.

use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::services::{self, Pool};

/// Records `tern_http_requests_total` and `tern_http_request_duration_seconds`. The route is
/// the matched pattern (`/orders/{id}`), never the path, so ids make no new series.
pub async fn record(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str).to_owned();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::histogram!("tern_http_request_duration_seconds", "method" => method.clone(), "route" => route.clone())
        .record(started.elapsed().as_secs_f64());
    metrics::counter!("tern_http_requests_total", "method" => method, "route" => route, "status" => status)
        .increment(1);
    response
}

/// The metrics listener's routes.
pub fn router(pool: Pool) -> Router {
    Router::new().route("/metrics", get(render)).with_state(pool)
}

async fn render(State(pool): State<Pool>) -> Response {
    if let Err(e) = services::telemetry::sample(&pool).await {
        tracing::warn!(error = %e, "metrics: the database gauges could not be sampled");
    }
    let body = crate::telemetry::metrics().render();
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response()
}

/// Serves `/metrics` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    pool: Pool,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(pool)).with_graceful_shutdown(shutdown).await
}
