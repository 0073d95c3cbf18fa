//! Outbound webhooks (Standard Webhooks): what each order event delivers to the registered
//! endpoints, queued in the event's transaction as `deliver_webhook` jobs (`events`), signed
//! (`signing`) and delivered by the worker (`delivery`) to URLs the SSRF guard allows (`ssrf`);
//! the endpoints are managed through the API and the admin pages (`endpoints`).

use std::time::Duration;

use super::jobs::{Backoff, ClaimedJob, JobError, RetryPolicy};
use crate::crypto::Cipher;
use crate::db::{Conn, Pool};
use crate::error::Result;

mod delivery;
pub mod endpoints;
pub mod events;
pub mod signing;
pub mod ssrf;

pub use self::delivery::{ATTEMPT_TIMEOUT, DISABLE_AFTER, MAX_RESPONSE_BYTES};
pub use self::events::queue_for_event;
pub use self::ssrf::UrlPolicy;

/// The job that delivers one event to one endpoint.
pub const DELIVER_WEBHOOK: &str = "deliver_webhook";

/// Standard Webhooks' schedule: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
const SCHEDULE: &[Duration] = &[
    Duration::from_secs(5),
    Duration::from_secs(300),
    Duration::from_secs(1800),
    Duration::from_secs(7200),
    Duration::from_secs(18000),
    Duration::from_secs(36000),
    Duration::from_secs(36000),
];

/// The first attempt runs at once; the schedule is the wait after each failed attempt.
pub const RETRY: RetryPolicy = RetryPolicy { max_attempts: 8, backoff: Backoff::Schedule(SCHEDULE) };

/// What saving and sending need: the key endpoint secrets are sealed with, and where
/// deliveries may go.
#[derive(Clone, Debug)]
pub struct Webhooks {
    pub cipher: Cipher,
    pub policy: UrlPolicy,
}

/// The HTTP client deliveries are sent with (see `delivery`).
#[derive(Clone)]
pub struct Deliverer {
    client: reqwest::Client,
    settings: Webhooks,
}

/// Sends one claimed delivery.
pub async fn deliver(pool: &Pool, deliverer: &Deliverer, job: &ClaimedJob) -> std::result::Result<(), JobError> {
    delivery::deliver(pool, deliverer, job).await
}

/// A failed attempt that will be retried: already in the delivery log (`deliver` wrote it).
pub async fn on_retry(_conn: &mut Conn, job: &ClaimedJob, reason: &str) -> Result<()> {
    tracing::info!(job.id = job.id, webhook.delivery = %job.key, attempt = job.attempts, %reason, "webhook delivery will be retried");
    Ok(())
}

/// A delivery given up for good: its attempts are in the delivery log, and it can be sent
/// again with `retry` or `recover`.
pub async fn on_give_up(_conn: &mut Conn, job: &ClaimedJob, reason: &str) -> Result<()> {
    tracing::warn!(job.id = job.id, webhook.delivery = %job.key, %reason, "webhook delivery given up");
    Ok(())
}
