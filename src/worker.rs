//! The durable job runner: claims jobs from PostgreSQL with `FOR UPDATE SKIP LOCKED` under a
//! lease, runs them, retries retryable failures with exponential backoff and jitter, and gives
//! up into `provisioning_failed` (an order event) after the last attempt. A job whose worker
//! died is taken up again when its lease runs out, so several Tern processes can share one
//! database safely.

use std::future::Future;
use std::time::Duration;

use rand::Rng;

use crate::error::Result;
use crate::services::Pool;
use crate::services::jobs::{self, ClaimedJob, JobWaker};
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
    pub pool: Pool,
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
    pub async fn run_once(&self) -> Result<Option<(ClaimedJob, JobResult)>> {
        let Some(job) = jobs::claim(&self.pool, self.config.lease).await? else { return Ok(None) };
        let result = self.run(&job).await?;
        Ok(Some((job, result)))
    }

    async fn run(&self, job: &ClaimedJob) -> Result<JobResult> {
        let outcome = match (job.kind.as_str(), job.order_id) {
            (jobs::PROVISION_ESIM, Some(order_id)) => {
                provisioning::provision(&self.pool, &self.provisioner, order_id).await.map(|_| ())
            }
            _ => Err(ProvisionError::Fail { reason: format!("unknown job kind {}", job.kind) }),
        };
        match outcome {
            Ok(()) => {
                jobs::complete(&self.pool, job).await?;
                Ok(JobResult::Done)
            }
            Err(ProvisionError::Store(e)) => {
                // The job stays claimed; its lease expiry brings it back.
                tracing::error!(job.id = job.id, error = %e, "job hit a database error");
                Err(e)
            }
            Err(ProvisionError::Retry { reason, after }) if job.attempts < self.config.max_attempts => {
                let delay = backoff(job.attempts, self.config.base_backoff, self.config.max_backoff)
                    .max(after.unwrap_or_default());
                tracing::warn!(job.id = job.id, order.id = ?job.order_id, attempt = job.attempts, %reason, "job will retry");
                jobs::retry_later(&self.pool, job, delay, &reason).await?;
                Ok(JobResult::Retrying { delay })
            }
            Err(ProvisionError::Retry { reason, .. } | ProvisionError::Fail { reason }) => {
                tracing::error!(job.id = job.id, order.id = ?job.order_id, %reason, "job failed");
                jobs::give_up(&self.pool, job, &reason).await?;
                Ok(JobResult::Failed { reason })
            }
        }
    }

    /// Runs jobs until `shutdown` completes; sleeps when idle and wakes on NOTIFY.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut waker = JobWaker::connect(&self.pool, self.config.idle_poll).await;
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
            tokio::select! {
                () = &mut shutdown => return,
                () = waker.wait() => {}
            }
        }
    }
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
