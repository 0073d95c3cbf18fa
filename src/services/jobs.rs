//! The bookkeeping of durable jobs: claiming one, keeping the claim alive by heartbeat, and
//! recording how it ended, with the order event each ending causes written in the same
//! transaction. Every write after the claim holds only while that claim does: a runner whose
//! job was taken over writes nothing (the functions answer `false`).

use std::time::Duration;

use serde_json::json;
use uuid::Uuid;

use super::lifecycle;
use crate::db::notify::{self, Listener, Wake};
use crate::db::{self, Pool};
use crate::domain::{Actor, EventKind, OrderStatus};
use crate::error::Result;

pub use crate::db::jobs::{ClaimedJob, PROVISION_ESIM};

/// Claims the next due job for `lease`.
pub async fn claim(pool: &Pool, lease: Duration) -> Result<Option<ClaimedJob>> {
    Ok(db::jobs::claim(pool, lease.as_secs_f64()).await?)
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
    if let Some(order_id) = job.order_id {
        let details = json!({ "reason": reason, "attempt": job.attempts, "retry_in_seconds": delay.as_secs_f64() });
        lifecycle::record(&mut tx, order_id, EventKind::ProvisioningRetry, Actor::System, details).await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Gives the job up for good: its order becomes `provisioning_failed`, for an operator.
pub async fn give_up(pool: &Pool, job: &ClaimedJob, reason: &str) -> Result<bool> {
    let mut tx = pool.begin().await?;
    if !db::jobs::fail(&mut *tx, job, reason).await? {
        return Ok(false);
    }
    if let Some(order_id) = job.order_id {
        fail_order(&mut tx, order_id, reason, job.attempts).await?;
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
