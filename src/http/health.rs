//! Liveness and readiness. `/healthz`: the process is up. `/readyz`: this instance should get
//! traffic — 503 while it starts (migrations running), after shutdown begins (so a load
//! balancer drains it before it stops) and while the database does not answer.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::services::Pool;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;

use crate::http::state::AppState;
use crate::services;

/// Where the instance is in its life, shared by the start-up, the server and `/readyz`.
#[derive(Debug, Clone, Default)]
pub struct Readiness(Arc<AtomicU8>);

const STARTING: u8 = 0;
const SERVING: u8 = 1;
const DRAINING: u8 = 2;

impl Readiness {
    pub fn set_serving(&self) {
        self.0.store(SERVING, Ordering::SeqCst);
    }

    /// Shutdown has begun: `/readyz` answers 503 from now on.
    pub fn set_draining(&self) {
        self.0.store(DRAINING, Ordering::SeqCst);
    }

    /// Why the instance should get no traffic now, if it should not.
    fn not_ready(&self) -> Option<&'static str> {
        match self.0.load(Ordering::SeqCst) {
            STARTING => Some("starting: migrations are running"),
            DRAINING => Some("shutting down"),
            _ => None,
        }
    }
}

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz))
}

/// While the instance starts: `/healthz` answers, everything else is 503 (readiness says why),
/// until `stop` completes.
pub async fn serve_starting(
    listener: tokio::net::TcpListener,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = Router::new().route("/healthz", get(healthz)).fallback(|| async {
        (StatusCode::SERVICE_UNAVAILABLE, [("retry-after", "1")], "starting: migrations are running")
    });
    axum::serve(listener, app).with_graceful_shutdown(stop).await
}

/// The process is up; touches nothing else.
async fn healthz() -> &'static str {
    "ok"
}

/// Serving, and the database answers.
async fn readyz(State(pool): State<Pool>, State(readiness): State<Readiness>) -> (StatusCode, &'static str) {
    if let Some(why) = readiness.not_ready() {
        return (StatusCode::SERVICE_UNAVAILABLE, why);
    }
    match services::ping(&pool).await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_is_starting_then_serving_then_draining() {
        let r = Readiness::default();
        assert!(r.not_ready().unwrap().contains("migrations"));
        r.set_serving();
        assert_eq!(r.not_ready(), None);
        r.set_draining();
        assert_eq!(r.not_ready(), Some("shutting down"));
    }
}
