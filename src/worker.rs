//! The durable job runner: claims jobs from PostgreSQL with `FOR UPDATE SKIP LOCKED` under a
//! lease, runs them, retries retryable failures with exponential backoff and jitter, and gives
//! up into `provisioning_failed` (an order event) after the last attempt. A job whose worker
//! died is taken up again when its lease runs out, so several Tern processes can share one
//! database safely.

use std::future::Future;
use std::time::Duration;

use rand::Rng;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use uuid::Uuid;

use crate::db;
use crate::db::jobs::ClaimedJob;
use crate::domain::{Actor, OrderStatus};
use crate::services::provisioning::{self, ProvisionError, Provisioner};

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// How long a claimed job belongs to its worker; longer than any single run.
    pub lease: Duration,
    /// Attempts before a retryable failure becomes final.
    pub max_attempts: i32,
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    /// How often an idle worker looks for due jobs (it is also woken by NOTIFY).
    pub idle_poll: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(300),
            max_attempts: 8,
            base_backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(600),
            idle_poll: Duration::from_secs(2),
        }
    }
}

/// What became of one claimed job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobResult {
    Done,
    Retrying { delay: Duration },
    Failed { reason: String },
}

#[derive(Clone)]
pub struct Worker {
    pub pool: PgPool,
    pub provisioner: Provisioner,
    pub config: WorkerConfig,
}

/// Exponential backoff with jitter: between half and all of `base × 2^(attempt-1)`, capped.
pub fn backoff(attempt: i32, base: Duration, max: Duration) -> Duration {
    let exp = base.saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1).clamp(0, 30) as u32)).min(max);
    exp.mul_f64(rand::rng().random_range(0.5..=1.0))
}

impl Worker {
    /// Claims and runs one due job, if there is one.
    pub async fn run_once(&self) -> sqlx::Result<Option<(ClaimedJob, JobResult)>> {
        let mut conn = self.pool.acquire().await?;
        let Some(job) = db::jobs::claim(&mut conn, self.config.lease.as_secs_f64()).await? else { return Ok(None) };
        drop(conn);
        let result = self.run(&job).await?;
        Ok(Some((job, result)))
    }

    async fn run(&self, job: &ClaimedJob) -> sqlx::Result<JobResult> {
        let outcome = match (job.kind.as_str(), job.order_id) {
            (db::jobs::PROVISION_ESIM, Some(order_id)) => {
                provisioning::provision(&self.pool, &self.provisioner, order_id).await.map(|_| ())
            }
            _ => Err(ProvisionError::Fail { reason: format!("unknown job kind {}", job.kind) }),
        };
        let mut conn = self.pool.acquire().await?;
        match outcome {
            Ok(()) => {
                db::jobs::complete(&mut conn, job.id).await?;
                Ok(JobResult::Done)
            }
            Err(ProvisionError::Database(e)) => {
                // The job stays claimed; its lease expiry brings it back.
                tracing::error!(job.id = job.id, error = %e, "job hit a database error");
                Err(e)
            }
            Err(ProvisionError::Retry { reason, after }) if job.attempts < self.config.max_attempts => {
                let delay = backoff(job.attempts, self.config.base_backoff, self.config.max_backoff)
                    .max(after.unwrap_or_default());
                tracing::warn!(job.id = job.id, order.id = ?job.order_id, attempt = job.attempts, %reason, "job will retry");
                db::jobs::retry_later(&mut conn, job.id, delay.as_secs_f64(), &reason).await?;
                if let Some(order_id) = job.order_id {
                    let details = serde_json::json!({ "reason": reason, "attempt": job.attempts, "retry_in_seconds": delay.as_secs_f64() });
                    db::orders::add_event(&mut conn, order_id, "provisioning_retry", Actor::System, details).await?;
                }
                Ok(JobResult::Retrying { delay })
            }
            Err(ProvisionError::Retry { reason, .. } | ProvisionError::Fail { reason }) => {
                tracing::error!(job.id = job.id, order.id = ?job.order_id, %reason, "job failed");
                db::jobs::fail(&mut conn, job.id, &reason).await?;
                if let Some(order_id) = job.order_id {
                    fail_order(&mut conn, order_id, &reason, job.attempts).await?;
                }
                Ok(JobResult::Failed { reason })
            }
        }
    }

    /// Runs jobs until `shutdown` completes; sleeps when idle and wakes on NOTIFY.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut listener = match PgListener::connect_with(&self.pool).await {
            Ok(mut l) => l.listen("jobs_queued").await.map(|_| l).ok(),
            Err(_) => None,
        };
        loop {
            let idle = match self.run_once().await {
                Ok(Some(_)) => false,
                Ok(None) => true,
                Err(e) => {
                    if self.pool.is_closed() {
                        return;
                    }
                    tracing::error!(error = %e, "worker could not claim a job");
                    true
                }
            };
            if !idle {
                continue;
            }
            let wake = async {
                match listener.as_mut() {
                    Some(l) => {
                        let _ = tokio::time::timeout(self.config.idle_poll, l.recv()).await;
                    }
                    None => tokio::time::sleep(self.config.idle_poll).await,
                }
            };
            tokio::select! {
                () = &mut shutdown => return,
                () = wake => {}
            }
        }
    }
}

async fn fail_order(conn: &mut sqlx::PgConnection, order_id: Uuid, reason: &str, attempts: i32) -> sqlx::Result<()> {
    let Some(order) = db::orders::find(conn, order_id).await? else { return Ok(()) };
    if order.status.can_become(OrderStatus::ProvisioningFailed) && order.status != OrderStatus::ProvisioningFailed {
        db::orders::set_status(conn, order_id, OrderStatus::ProvisioningFailed).await?;
        db::orders::add_event(
            conn,
            order_id,
            "provisioning_failed",
            Actor::System,
            serde_json::json!({ "reason": reason, "attempts": attempts }),
        )
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_exponentially_with_jitter_and_a_cap() {
        let base = Duration::from_secs(2);
        let max = Duration::from_secs(600);
        for _ in 0..50 {
            let first = backoff(1, base, max);
            assert!(first >= Duration::from_secs(1) && first <= base);
            let fourth = backoff(4, base, max);
            assert!(fourth >= Duration::from_secs(8) && fourth <= Duration::from_secs(16));
            assert!(backoff(40, base, max) <= max);
        }
        let samples: std::collections::HashSet<u128> = (0..20).map(|_| backoff(3, base, max).as_millis()).collect();
        assert!(samples.len() > 1, "jittered");
    }
}
