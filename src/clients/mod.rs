//! Clients of the providers' real APIs. Base URLs come from configuration, so tests and
//! offline runs point the same clients at the local emulators.

pub mod stripe;
pub mod telnyx;

use std::future::Future;
use std::time::Instant;

/// How a provider call ended, for the metrics: `ok`, or the class of its failure.
pub trait CallOutcome {
    fn class(&self) -> &'static str;
}

impl<T, E: CallOutcome> CallOutcome for Result<T, E> {
    fn class(&self) -> &'static str {
        match self {
            Ok(_) => "ok",
            Err(e) => e.class(),
        }
    }
}

/// Classes a failed call by its HTTP status: `rate_limited` (429), `server_error` (5xx),
/// `refused` (other 4xx).
pub fn status_class(status: u16) -> &'static str {
    match status {
        429 => "rate_limited",
        500..=599 => "server_error",
        _ => "refused",
    }
}

/// Runs one provider call, recording its latency (`tern_provider_request_duration_seconds`)
/// and, when it fails, its error class (`tern_provider_errors_total`).
pub async fn observed<T: CallOutcome>(
    provider: &'static str,
    operation: &'static str,
    call: impl Future<Output = T>,
) -> T {
    let started = Instant::now();
    let result = call.await;
    let outcome = result.class();
    metrics::histogram!("tern_provider_request_duration_seconds", "provider" => provider, "operation" => operation, "outcome" => outcome)
        .record(started.elapsed().as_secs_f64());
    if outcome != "ok" {
        metrics::counter!("tern_provider_errors_total", "provider" => provider, "operation" => operation, "class" => outcome)
            .increment(1);
    }
    result
}
