//! The bookkeeping of durable jobs: claiming one, keeping the claim alive by heartbeat, and
//! recording how it ended, with the order event each ending causes written in the same
//! transaction. Every write after the claim holds only while that claim does: a runner whose
//! job was taken over writes nothing (the functions answer `false`).

use std::time::Duration;

use rand::Rng;
use serde_json::json;
use uuid::Uuid;

use super::{lifecycle, mail, webhooks};
use crate::db::notify::{self, Listener, Wake};
use crate::db::{self, Pool};
use crate::domain::{Actor, EventKind, OrderStatus};
use crate::error::{Error, Result};

pub use crate::db::jobs::{ClaimedJob, DISABLE_ESIM, PROVISION_ESIM};

/// How a job run ended, short of success.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Try again later (at the earliest after `after`).
    #[error("{reason}")]
    Retry { reason: String, after: Option<Duration> },
    /// Retrying will not help: an operator must look.
    #[error("{reason}")]
    Fail { reason: String },
    /// The database failed: the job stays claimed until its lease runs out.
    #[error(transparent)]
    Store(#[from] Error),
}

/// How a job's run succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    /// The runner marks the job done now.
    Pending,
    /// The job's last transaction marked it done, with what it wrote (`db::jobs::complete`):
    /// a crash in between cannot run it again. `held`: this claim still held the job then.
    Recorded { held: bool },
}

/// When a job of one kind is tried again, and how often.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts before a retryable failure becomes final.
    pub max_attempts: i32,
    pub backoff: Backoff,
}

#[derive(Debug, Clone, Copy)]
pub enum Backoff {
    /// Between half and all of `base × 2^(attempt-1)`, capped at `max`.
    Exponential { base: Duration, max: Duration },
    /// A fixed schedule: the delay after attempt n is `schedule[n-1]` (the last one repeats),
    /// with up to 10% jitter either way.
    Schedule(&'static [Duration]),
}

impl Backoff {
    /// The delay before the attempt after `attempt` (1-based).
    pub fn after(&self, attempt: i32) -> Duration {
        match *self {
            Backoff::Exponential { base, max } => backoff(attempt, base, max),
            Backoff::Schedule(schedule) => {
                let Some(last) = schedule.len().checked_sub(1) else { return Duration::ZERO };
                let step = schedule[usize::try_from(attempt - 1).unwrap_or(0).min(last)];
                step.mul_f64(rand::rng().random_range(0.9..=1.1))
            }
        }
    }
}

/// Exponential backoff with jitter: between half and all of `base × 2^(attempt-1)`, capped.
pub fn backoff(attempt: i32, base: Duration, max: Duration) -> Duration {
    let exp = base.saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1).clamp(0, 30) as u32)).min(max);
    exp.mul_f64(rand::rng().random_range(0.5..=1.0))
}

impl From<db::DbError> for JobError {
    fn from(e: db::DbError) -> Self {
        JobError::Store(e.into())
    }
}

/// Claims the next due job for `lease`, after putting the jobs of expired leases back.
pub async fn claim(pool: &Pool, lease: Duration) -> Result<Option<ClaimedJob>> {
    claim_kinds(pool, lease, JobKinds::All).await
}

/// Puts the jobs whose leases ran out (their workers died) back in the queue, due at once;
/// how many. The worker does this every `idle_poll`; a claim then takes them up.
pub async fn requeue_expired(pool: &Pool) -> Result<u64> {
    let requeued = db::jobs::requeue_expired(pool).await?;
    if requeued > 0 {
        tracing::warn!(jobs = requeued, "jobs whose lease ran out are queued again");
    }
    Ok(requeued)
}

/// Which kinds of job a worker runs.
#[derive(Debug, Clone, Copy, Default)]
pub enum JobKinds {
    #[default]
    All,
    Only(&'static [&'static str]),
    Except(&'static [&'static str]),
}

impl JobKinds {
    /// The kinds to run (all when empty) and those not to.
    fn filters(self) -> (&'static [&'static str], &'static [&'static str]) {
        match self {
            JobKinds::All => (&[], &[]),
            JobKinds::Only(only) => (only, &[]),
            JobKinds::Except(except) => (&[], except),
        }
    }
}

/// Claims the next due job of `kinds` for `lease`, after putting the jobs of expired leases back.
pub async fn claim_kinds(pool: &Pool, lease: Duration, kinds: JobKinds) -> Result<Option<ClaimedJob>> {
    Ok(claim_many(pool, lease, kinds, 1).await?.pop())
}

/// Claims up to `limit` due jobs of `kinds` for `lease`, after putting the jobs of expired
/// leases back.
pub async fn claim_many(pool: &Pool, lease: Duration, kinds: JobKinds, limit: usize) -> Result<Vec<ClaimedJob>> {
    requeue_expired(pool).await?;
    claim_due(pool, lease, kinds, limit).await
}

/// Claims up to `limit` queued jobs of `kinds` that are due, for `lease`, in one statement
/// (the worker's claim: it requeues expired leases on a clock of its own).
pub async fn claim_due(pool: &Pool, lease: Duration, kinds: JobKinds, limit: usize) -> Result<Vec<ClaimedJob>> {
    let (only, except) = kinds.filters();
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    Ok(db::jobs::claim_many(pool, lease.as_secs_f64(), only, except, limit).await?)
}

/// Extends the job's lease to `lease` from now while this claim still holds it.
pub async fn heartbeat(pool: &Pool, job: &ClaimedJob, lease: Duration) -> Result<bool> {
    Ok(db::jobs::heartbeat(pool, job, lease.as_secs_f64()).await?)
}

pub async fn complete(pool: &Pool, job: &ClaimedJob) -> Result<bool> {
    Ok(db::jobs::complete(pool, job).await?)
}

/// Puts the job back to run after `delay`; its order's timeline says why.
pub async fn retry_later(pool: &Pool, job: &ClaimedJob, delay: Duration, reason: &str) -> Result<bool> {
    let mut tx = pool.begin().await?;
    if !db::jobs::retry_later(&mut *tx, job, delay.as_secs_f64(), reason).await? {
        return Ok(false);
    }
    match job.kind.as_str() {
        PROVISION_ESIM => {
            if let Some(order_id) = job.order_id {
                let details =
                    json!({ "reason": reason, "attempt": job.attempts, "retry_in_seconds": delay.as_secs_f64() });
                lifecycle::record(&mut tx, order_id, EventKind::ProvisioningRetry, Actor::System, details).await?;
            }
        }
        mail::SEND_EMAIL => mail::on_retry(&mut tx, job, reason).await?,
        webhooks::DELIVER_WEBHOOK => webhooks::on_retry(&mut tx, job, reason).await?,
        _ => {}
    }
    tx.commit().await?;
    Ok(true)
}

/// Gives the job up for good: a provisioning job's order becomes `provisioning_failed`, for an
/// operator; an email or a delivery records its failure its own way.
pub async fn give_up(pool: &Pool, job: &ClaimedJob, reason: &str) -> Result<bool> {
    let mut tx = pool.begin().await?;
    if !db::jobs::fail(&mut *tx, job, reason).await? {
        return Ok(false);
    }
    match (job.kind.as_str(), job.order_id) {
        (PROVISION_ESIM, Some(order_id)) => fail_order(&mut tx, order_id, reason, job.attempts).await?,
        (mail::SEND_EMAIL, _) => mail::on_give_up(&mut tx, job, reason).await?,
        (webhooks::DELIVER_WEBHOOK, _) => webhooks::on_give_up(&mut tx, job, reason).await?,
        _ => {}
    }
    tx.commit().await?;
    Ok(true)
}

async fn fail_order(tx: &mut db::Conn, order_id: Uuid, reason: &str, attempts: i32) -> Result<()> {
    if db::orders::find(&mut *tx, order_id).await?.is_none() {
        return Ok(());
    }
    let details = json!({ "reason": reason, "attempts": attempts });
    let to = OrderStatus::ProvisioningFailed;
    lifecycle::transition(tx, order_id, to, EventKind::ProvisioningFailed, Actor::System, details).await?;
    Ok(())
}

/// Wakes an idle worker when a job is queued (`NOTIFY jobs_queued`), or after `idle_poll`.
pub struct JobWaker {
    listener: Option<Listener>,
    idle_poll: Duration,
}

impl JobWaker {
    /// Without a listening connection it still wakes every `idle_poll`.
    pub async fn connect(pool: &Pool, idle_poll: Duration) -> Self {
        let listener = Listener::connect(pool, notify::JOBS_QUEUED).await.ok();
        JobWaker { listener, idle_poll }
    }

    pub async fn wait(&mut self) {
        match self.listener.as_mut() {
            Some(l) => match l.wait(Some(self.idle_poll)).await {
                Ok(Wake::Notified) => l.drain(),
                Ok(Wake::Reconnected | Wake::TimedOut) => {}
                Err(_) => tokio::time::sleep(self.idle_poll).await,
            },
            None => tokio::time::sleep(self.idle_poll).await,
        }
    }
}
