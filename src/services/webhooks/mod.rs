//! Outbound webhooks (Standard Webhooks): what each order event delivers to the registered
//! endpoints, queued in the event's transaction as `deliver_webhook` jobs, and delivered by the
//! worker. (Being built: the outbox hooks exist.)

use std::time::Duration;

use uuid::Uuid;

use super::jobs::{Backoff, ClaimedJob, JobError, RetryPolicy};
use crate::db::{Conn, Pool};
use crate::domain::EventKind;
use crate::error::Result;

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

/// The HTTP client deliveries are sent with.
#[derive(Clone, Default)]
pub struct Deliverer {}

/// Queues the deliveries `kind` causes for the order, in the caller's transaction.
pub async fn queue_for_event(_conn: &mut Conn, _order_id: Uuid, _kind: EventKind) -> Result<()> {
    Ok(())
}

/// Sends one claimed delivery.
pub async fn deliver(_pool: &Pool, _deliverer: &Deliverer, _job: &ClaimedJob) -> std::result::Result<(), JobError> {
    Err(JobError::Fail { reason: "webhooks are not built yet".into() })
}

/// Records a failed attempt that will be retried.
pub async fn on_retry(_conn: &mut Conn, _job: &ClaimedJob, _reason: &str) -> Result<()> {
    Ok(())
}

/// Records a delivery given up for good.
pub async fn on_give_up(_conn: &mut Conn, _job: &ClaimedJob, _reason: &str) -> Result<()> {
    Ok(())
}
