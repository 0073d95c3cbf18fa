//! The durable job runner: claims jobs from PostgreSQL with `FOR UPDATE SKIP LOCKED` under a
//! short lease, runs several at once (a bounded `JoinSet`), keeps each claim alive with a
//! heartbeat while its job runs, retries retryable failures with exponential backoff and
//! jitter, and gives up into `provisioning_failed` (an order event) after the last attempt. A
//! job whose worker died stops being renewed; once its lease runs out, the next worker to
//! requeue expired leases (every `idle_poll`) puts it back and it is taken up again (about
//! `lease + idle_poll`), so several Tern processes can share one database safely, and one
//! hung provider call delays only its own order.

use std::future::Future;
use std::time::Duration;

use tokio::task::JoinSet;
use tracing::Instrument;

use crate::config::DEFAULT_WORKER_CONCURRENCY;
use crate::error::Result;
use crate::services::Pool;
use crate::services::jobs::{self, Backoff, ClaimedJob, Completion, JobError, JobKinds, JobWaker, RetryPolicy};
use crate::services::provisioning::{self, Provisioner};
use crate::services::{mail, webhooks};

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// How long a claim lasts without a heartbeat; renewed every `lease / 3` while the job
    /// runs, so a dead worker's jobs come back after about this long. Longer than any single
    /// provider call (the Telnyx client's timeouts).
    pub lease: Duration,
    /// Attempts before a retryable failure becomes final.
    pub max_attempts: i32,
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    /// How often an idle worker looks for due jobs (it is also woken by NOTIFY).
    pub idle_poll: Duration,
    /// Retries of an email that could not be sent.
    pub email: RetryPolicy,
    /// Retries of a webhook delivery.
    pub webhook: RetryPolicy,
    /// The kinds of job this worker runs (every kind by default).
    pub kinds: JobKinds,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(30),
            max_attempts: 8,
            base_backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(600),
            idle_poll: Duration::from_secs(2),
            email: mail::RETRY,
            webhook: webhooks::RETRY,
            kinds: JobKinds::All,
        }
    }
}

impl WorkerConfig {
    /// The retry policy of a job kind.
    pub fn policy(&self, kind: &str) -> RetryPolicy {
        match kind {
            mail::SEND_EMAIL => self.email,
            webhooks::DELIVER_WEBHOOK => self.webhook,
            _ => RetryPolicy {
                max_attempts: self.max_attempts,
                backoff: Backoff::Exponential { base: self.base_backoff, max: self.max_backoff },
            },
        }
    }
}

/// What became of one claimed job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobResult {
    Done,
    Retrying {
        delay: Duration,
    },
    Failed {
        reason: String,
    },
    /// The claim was lost while the job ran (its lease ran out and another worker took it, or
    /// an operator requeued it): this runner stopped and wrote nothing.
    Lost,
}

#[derive(Clone)]
pub struct Worker {
    pub pool: Pool,
    pub provisioner: Provisioner,
    /// Sends the queued emails.
    pub mailer: mail::Mailer,
    /// Delivers the queued webhook events.
    pub webhooks: webhooks::Deliverer,
    pub config: WorkerConfig,
}

impl Worker {
    /// Claims and runs one due job, if there is one, renewing its lease while it runs.
    pub async fn run_once(&self) -> Result<Option<(ClaimedJob, JobResult)>> {
        let Some(job) = jobs::claim_kinds(&self.pool, self.config.lease, self.config.kinds).await? else {
            return Ok(None);
        };
        let result = self.run_claimed(&job).await?;
        Ok(Some((job, result)))
    }

    /// How often a running job's lease is renewed.
    pub fn heartbeat_interval(&self) -> Duration {
        self.config.lease / 3
    }

    /// Runs a claimed job beside its heartbeat; a lost claim stops the run.
    async fn run_claimed(&self, job: &ClaimedJob) -> Result<JobResult> {
        let span = tracing::info_span!("job", job.id = job.id, job.kind = %job.kind, order.id = tracing::field::Empty);
        if let Some(order_id) = job.order_id {
            span.record("order.id", tracing::field::display(order_id));
        }
        metrics::counter!("tern_job_attempts_total", "kind" => job.kind.clone()).increment(1);
        let result = tokio::select! {
            result = self.run(job).instrument(span) => result,
            () = self.keep_claimed(job) => {
                tracing::warn!(job.id = job.id, "job was taken over; this run stops");
                Ok(JobResult::Lost)
            }
        };
        if let Ok(ended) = &result {
            let outcome = match ended {
                JobResult::Done => "done",
                JobResult::Retrying { .. } => "retrying",
                JobResult::Failed { .. } => "failed",
                JobResult::Lost => "lost",
            };
            metrics::counter!("tern_job_runs_total", "kind" => job.kind.clone(), "outcome" => outcome).increment(1);
        }
        result
    }

    /// Renews the lease every `heartbeat_interval`; returns only once the claim is lost. A
    /// failed heartbeat is tried again at the next beat (the lease still has two left).
    async fn keep_claimed(&self, job: &ClaimedJob) {
        let mut beat = tokio::time::interval(self.heartbeat_interval());
        beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        beat.tick().await;
        loop {
            beat.tick().await;
            match jobs::heartbeat(&self.pool, job, self.config.lease).await {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) => tracing::warn!(job.id = job.id, error = %e, "job heartbeat failed"),
            }
        }
    }

    async fn run(&self, job: &ClaimedJob) -> Result<JobResult> {
        let outcome = match (job.kind.as_str(), job.order_id) {
            (jobs::PROVISION_ESIM, Some(order_id)) => {
                provisioning::provision(&self.pool, &self.provisioner, job, order_id).await
            }
            (jobs::DISABLE_ESIM, Some(order_id)) => {
                provisioning::disable_refunded(&self.pool, &self.provisioner, order_id)
                    .await
                    .map(|()| Completion::Pending)
            }
            (mail::SEND_EMAIL, _) => mail::send(&self.pool, &self.mailer, job).await,
            (webhooks::DELIVER_WEBHOOK, _) => {
                webhooks::deliver(&self.pool, &self.webhooks, job).await.map(|()| Completion::Pending)
            }
            _ => Err(JobError::Fail { reason: format!("unknown job kind {}", job.kind) }),
        };
        let policy = self.config.policy(&job.kind);
        match outcome {
            Ok(Completion::Recorded { held }) => Ok(if held { JobResult::Done } else { JobResult::Lost }),
            Ok(Completion::Pending) => {
                Ok(if jobs::complete(&self.pool, job).await? { JobResult::Done } else { JobResult::Lost })
            }
            Err(JobError::Store(e)) => {
                // The job stays claimed; its lease expiry brings it back.
                tracing::error!(job.id = job.id, error = %e, "job hit a database error");
                Err(e)
            }
            Err(JobError::Retry { reason, after }) if job.attempts < policy.max_attempts => {
                let delay = policy.backoff.after(job.attempts).max(after.unwrap_or_default());
                tracing::warn!(job.id = job.id, attempt = job.attempts, %reason, "job will retry");
                let kept = jobs::retry_later(&self.pool, job, delay, &reason).await?;
                Ok(if kept { JobResult::Retrying { delay } } else { JobResult::Lost })
            }
            Err(JobError::Retry { reason, .. } | JobError::Fail { reason }) => {
                tracing::error!(job.id = job.id, %reason, "job failed");
                let kept = jobs::give_up(&self.pool, job, &reason).await?;
                Ok(if kept { JobResult::Failed { reason } } else { JobResult::Lost })
            }
        }
    }

    /// Runs up to `DEFAULT_WORKER_CONCURRENCY` jobs at once until `shutdown` completes.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) {
        self.run_concurrently(DEFAULT_WORKER_CONCURRENCY, shutdown).await;
    }

    /// Runs up to `concurrency` jobs at once until `shutdown` completes: claims while there is
    /// a free slot and a due job, then sleeps until a job is queued (NOTIFY) or `idle_poll`
    /// passes (or, while jobs were still due, until a slot frees). Every `idle_poll` it also
    /// puts back in the queue the jobs whose leases ran out, so a dead worker's job is taken
    /// over about `lease + idle_poll` after its last heartbeat. On shutdown the running jobs
    /// get one lease to finish; the rest are dropped and come back to another worker when
    /// their leases run out.
    pub async fn run_concurrently(self, concurrency: usize, shutdown: impl Future<Output = ()>) {
        let concurrency = concurrency.max(1);
        tokio::pin!(shutdown);
        let mut waker = JobWaker::connect(&self.pool, self.config.idle_poll).await;
        let mut requeue = tokio::time::interval(self.config.idle_poll);
        requeue.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut running: JoinSet<()> = JoinSet::new();
        // False once a claim found fewer jobs than it asked for: a slot freeing up then claims
        // again only after a wake-up (a job queued, or `idle_poll`), not once per finished job.
        let mut maybe_due = true;
        loop {
            while let Some(ended) = running.try_join_next() {
                log_panic(ended);
            }
            let free = concurrency - running.len().min(concurrency);
            if maybe_due && free > 0 {
                match jobs::claim_due(&self.pool, self.config.lease, self.config.kinds, free).await {
                    Ok(claimed) => {
                        maybe_due = claimed.len() == free;
                        for job in claimed {
                            let worker = self.clone();
                            running.spawn(async move { worker.finish(job).await });
                        }
                    }
                    Err(e) => {
                        if self.pool.is_closed() {
                            break;
                        }
                        tracing::error!(error = %e, "worker could not claim a job");
                    }
                }
            }
            let full = running.len() >= concurrency;
            tokio::select! {
                () = &mut shutdown => break,
                Some(ended) = running.join_next(), if !running.is_empty() => log_panic(ended),
                () = waker.wait(), if !full => maybe_due = true,
                // The idle clock: a retry scheduled earlier may be due now (no NOTIFY says so),
                // and so may a job whose lease ran out. (The waker's own timeout cannot serve:
                // it starts again on every pass of this loop, so this tick always came first.)
                _ = requeue.tick() => {
                    if let Err(e) = jobs::requeue_expired(&self.pool).await {
                        tracing::warn!(error = %e, "worker could not requeue expired leases");
                    }
                    maybe_due = true;
                }
            }
        }
        let drain = async {
            while let Some(ended) = running.join_next().await {
                log_panic(ended);
            }
        };
        if tokio::time::timeout(self.config.lease, drain).await.is_err() {
            running.abort_all();
        }
    }

    /// Runs one claimed job in its own task; errors are logged (the lease brings it back).
    async fn finish(self, job: ClaimedJob) {
        if let Err(e) = self.run_claimed(&job).await {
            tracing::error!(job.id = job.id, error = %e, "job run failed");
        }
    }
}

fn log_panic(ended: std::result::Result<(), tokio::task::JoinError>) {
    if let Err(e) = ended
        && e.is_panic()
    {
        tracing::error!(error = %e, "a job task panicked");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::jobs::backoff;

    #[test]
    fn leases_are_short_and_renewed_well_before_they_run_out() {
        let lease = WorkerConfig::default().lease;
        assert!(lease <= Duration::from_secs(30), "a dead worker's jobs come back within about 30 s");
        assert!(lease / 3 < lease);
    }

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

    #[test]
    fn a_schedule_is_followed_with_jitter_and_its_last_step_repeats() {
        const STEPS: &[Duration] = &[Duration::ZERO, Duration::from_secs(5), Duration::from_secs(300)];
        let schedule = Backoff::Schedule(STEPS);
        for _ in 0..50 {
            assert_eq!(schedule.after(1), Duration::ZERO);
            let second = schedule.after(2);
            assert!(second >= Duration::from_millis(4500) && second <= Duration::from_millis(5500));
            let late = schedule.after(9);
            assert!(late >= Duration::from_secs(270) && late <= Duration::from_secs(330));
        }
    }
}
