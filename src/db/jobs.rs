//! Durable jobs in PostgreSQL.

use sqlx::PgExecutor;
use uuid::Uuid;

/// The job that buys and installs an order's eSIM.
pub const PROVISION_ESIM: &str = "provision_esim";

/// The job that disables the SIM of an order refunded after its eSIM was bought.
pub const DISABLE_ESIM: &str = "disable_esim";

/// Queues a job for an order unless one of that kind exists for it (its key is the order id).
/// True when it was queued now.
pub async fn enqueue(executor: impl PgExecutor<'_>, kind: &str, order_id: Uuid) -> sqlx::Result<bool> {
    enqueue_keyed(executor, NewJob { kind, key: &order_id.to_string(), order_id: Some(order_id), payload: None }).await
}

/// A job to queue: `key` is unique within `kind`, so queueing the same message twice (a
/// repeated transition, a retried request) queues it once.
pub struct NewJob<'a> {
    pub kind: &'a str,
    pub key: &'a str,
    pub order_id: Option<Uuid>,
    pub payload: Option<&'a serde_json::Value>,
}

/// Queues `job` unless one with its kind and key exists. True when it was queued now.
pub async fn enqueue_keyed(executor: impl PgExecutor<'_>, job: NewJob<'_>) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "insert into jobs (kind, key, order_id, payload) values ($1, $2, $3, coalesce($4, '{}'::jsonb))
         on conflict (kind, key) do nothing",
    )
    .bind(job.kind)
    .bind(job.key)
    .bind(job.order_id)
    .bind(job.payload)
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Jobs of a kind for an order.
pub async fn count_for_order(executor: impl PgExecutor<'_>, kind: &str, order_id: Uuid) -> sqlx::Result<i64> {
    sqlx::query_scalar("select count(*) from jobs where kind = $1 and order_id = $2")
        .bind(kind)
        .bind(order_id)
        .fetch_one(executor)
        .await
}

/// A job claimed by a worker until `locked_until`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedJob {
    pub id: i64,
    pub kind: String,
    /// Unique within the kind: the order id for provisioning, the message's own key otherwise.
    pub key: String,
    pub order_id: Option<Uuid>,
    /// What the kind needs beyond the order (which email, which delivery...).
    pub payload: serde_json::Value,
    /// Including this one.
    pub attempts: i32,
    /// This claim's own token: writes about the job are made only while it still matches.
    pub claim_token: Uuid,
}

/// Claims up to `limit` queued jobs that are due, of the kinds in `only` (all when empty) and
/// none of those in `except`. `SKIP LOCKED` lets several workers claim side by side, each a
/// different job. One statement, one token for the batch (each job's writes
/// still name its own id). The eSIM's jobs come first (`priority`), then the oldest due.
/// Fewer than `limit` means nothing else was due. A job whose lease ran out is not claimed
/// here: `requeue_expired` puts it back in the queue first.
pub async fn claim_many(
    executor: impl PgExecutor<'_>,
    lease_seconds: f64,
    only: &[&str],
    except: &[&str],
    limit: i64,
) -> sqlx::Result<Vec<ClaimedJob>> {
    sqlx::query_as(
        "update jobs set status = 'running', attempts = attempts + 1, claim_token = $2,
                locked_until = now() + make_interval(secs => $1), updated_at = now()
          where id = any(array(select id from jobs
                       where status = 'queued' and run_at <= now()
                         and (cardinality($3::text[]) = 0 or kind = any($3))
                         and not (kind = any($4::text[]))
                       order by priority, run_at, id
                       for update skip locked
                       limit $5))
         returning id, kind, key, order_id, payload, attempts, claim_token",
    )
    .bind(lease_seconds)
    .bind(Uuid::new_v4())
    .bind(only)
    .bind(except)
    .bind(limit)
    .fetch_all(executor)
    .await
}

/// Puts back in the queue every running job whose lease ran out (its worker died or lost the
/// database): due at once, where it was in the queue. Its claim token goes, so the runner it
/// was taken from can no longer write. How many came back.
pub async fn requeue_expired(executor: impl PgExecutor<'_>) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "update jobs set status = 'queued', locked_until = null, claim_token = null, updated_at = now()
          where status = 'running' and locked_until < now()",
    )
    .execute(executor)
    .await?;
    Ok(done.rows_affected())
}

/// The claim still held by `job`'s attempt: running, with its token.
const HELD: &str = "status = 'running' and id = $1 and claim_token = $2";

/// Extends the lease of a job still running under this claim to `lease_seconds` from now.
/// False when the claim was lost (taken over after an expired lease, requeued, or ended).
pub async fn heartbeat(executor: impl PgExecutor<'_>, job: &ClaimedJob, lease_seconds: f64) -> sqlx::Result<bool> {
    let sql =
        format!("update jobs set locked_until = now() + make_interval(secs => $3), updated_at = now() where {HELD}");
    let done = sqlx::query(&sql).bind(job.id).bind(job.claim_token).bind(lease_seconds).execute(executor).await?;
    Ok(done.rows_affected() == 1)
}

/// Marks the job done. False (and nothing written) when this claim no longer holds it.
pub async fn complete(executor: impl PgExecutor<'_>, job: &ClaimedJob) -> sqlx::Result<bool> {
    let sql = format!(
        "update jobs set status = 'done', locked_until = null, claim_token = null, last_error = null, updated_at = now()
          where {HELD}"
    );
    let done = sqlx::query(&sql).bind(job.id).bind(job.claim_token).execute(executor).await?;
    Ok(done.rows_affected() == 1)
}

/// Puts the job back in the queue to run after `delay_seconds`. False when this claim no
/// longer holds it.
pub async fn retry_later(
    executor: impl PgExecutor<'_>,
    job: &ClaimedJob,
    delay_seconds: f64,
    error: &str,
) -> sqlx::Result<bool> {
    let sql = format!(
        "update jobs set status = 'queued', run_at = now() + make_interval(secs => $3), locked_until = null,
                claim_token = null, last_error = $4, updated_at = now()
          where {HELD}"
    );
    let done =
        sqlx::query(&sql).bind(job.id).bind(job.claim_token).bind(delay_seconds).bind(error).execute(executor).await?;
    Ok(done.rows_affected() == 1)
}

/// Gives the job up. False when this claim no longer holds it.
pub async fn fail(executor: impl PgExecutor<'_>, job: &ClaimedJob, error: &str) -> sqlx::Result<bool> {
    let sql = format!(
        "update jobs set status = 'failed', locked_until = null, claim_token = null, last_error = $3, updated_at = now()
          where {HELD}"
    );
    let done = sqlx::query(&sql).bind(job.id).bind(job.claim_token).bind(error).execute(executor).await?;
    Ok(done.rows_affected() == 1)
}

/// Queues an order's job of `kind` again now (an operator's retry), resetting its attempts.
pub async fn requeue(executor: impl PgExecutor<'_>, kind: &str, order_id: Uuid) -> sqlx::Result<()> {
    sqlx::query(
        "insert into jobs (kind, key, order_id) values ($1, $2::text, $2)
         on conflict (kind, key) do update
            set status = 'queued', attempts = 0, run_at = now(), locked_until = null, claim_token = null,
                last_error = null, updated_at = now()",
    )
    .bind(kind)
    .bind(order_id)
    .execute(executor)
    .await
    .map(|_| ())
}

/// Jobs of one kind in one status.
#[derive(Debug, sqlx::FromRow)]
pub struct QueueStat {
    pub kind: String,
    pub status: String,
    pub count: i64,
    /// How long the oldest job that is due has waited (0 when none is due).
    pub oldest_due_age_seconds: f64,
}

/// The queue by kind and status (done jobs left out: they only grow).
pub async fn queue_stats(executor: impl PgExecutor<'_>) -> sqlx::Result<Vec<QueueStat>> {
    sqlx::query_as(
        "select kind, status, count(*) as count,
                coalesce(extract(epoch from now() - min(run_at) filter (where run_at <= now())), 0)::float8
                    as oldest_due_age_seconds
           from jobs where status <> 'done' group by kind, status order by kind, status",
    )
    .fetch_all(executor)
    .await
}
