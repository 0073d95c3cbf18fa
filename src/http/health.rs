//! Liveness and readiness.

use crate::services::Pool;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;

use crate::http::state::AppState;
use crate::services;

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz))
}

/// The process is up; touches nothing else.
async fn healthz() -> &'static str {
    "ok"
}

/// The database answers.
async fn readyz(State(pool): State<Pool>) -> (StatusCode, &'static str) {
    match services::ping(&pool).await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}
