//! Email to travellers: what each order event sends, queued in the event's transaction as a
//! `send_email` job, and sent by the worker over SMTP. (Being built: the outbox hooks exist.)

use uuid::Uuid;

use super::jobs::{Backoff, ClaimedJob, JobError, RetryPolicy};
use crate::db::{Conn, Pool};
use crate::domain::EventKind;
use crate::error::Result;

/// The job that sends one email.
pub const SEND_EMAIL: &str = "send_email";

/// Retries of an email the SMTP server did not take.
pub const RETRY: RetryPolicy = RetryPolicy {
    max_attempts: 12,
    backoff: Backoff::Exponential {
        base: std::time::Duration::from_secs(15),
        max: std::time::Duration::from_secs(3600),
    },
};

/// The SMTP transport the worker sends with.
#[derive(Clone, Default)]
pub struct Mailer {}

/// Queues the emails `kind` causes for the order, in the caller's transaction.
pub async fn queue_for_event(_conn: &mut Conn, _order_id: Uuid, _kind: EventKind) -> Result<()> {
    Ok(())
}

/// Sends the email of a claimed `send_email` job.
pub async fn send(_pool: &Pool, _mailer: &Mailer, _job: &ClaimedJob) -> std::result::Result<(), JobError> {
    Err(JobError::Fail { reason: "email is not built yet".into() })
}

/// Records a failed attempt that will be retried.
pub async fn on_retry(_conn: &mut Conn, _job: &ClaimedJob, _reason: &str) -> Result<()> {
    Ok(())
}

/// Records an email given up for good.
pub async fn on_give_up(_conn: &mut Conn, _job: &ClaimedJob, _reason: &str) -> Result<()> {
    Ok(())
}
