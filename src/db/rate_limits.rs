//! Rate-limit counters (GCRA): one theoretical arrival time per key in `api_rate_limits`,
//! advanced atomically by one upsert, so every process sharing the database counts together.

use sqlx::PgExecutor;

/// What one request did to its key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    /// Whether the request fits the policy (the arrival time then moved on by one interval).
    pub allowed: bool,
    /// How far the key's arrival time is ahead of now, in seconds (after this request).
    pub ahead_seconds: f64,
}

/// Counts one request on `key`: it is allowed when, after adding `interval_seconds`, the key's
/// arrival time is at most `window_seconds` ahead of now; a refused request changes nothing.
pub async fn hit(
    executor: impl PgExecutor<'_>,
    key: &str,
    interval_seconds: f64,
    window_seconds: f64,
) -> sqlx::Result<Hit> {
    // In `do update`, `r.tat` is the row as it was (locked by the upsert), so concurrent
    // requests on one key are serialised and each sees the others' counts.
    let (allowed, ahead_seconds): (bool, f64) = sqlx::query_as(
        "insert into api_rate_limits as r (key, tat, allowed)
         values ($1, now() + make_interval(secs => $2), $2 <= $3)
         on conflict (key) do update set
             allowed = greatest(r.tat, now()) + make_interval(secs => $2) <= now() + make_interval(secs => $3),
             tat = case
                 when greatest(r.tat, now()) + make_interval(secs => $2) <= now() + make_interval(secs => $3)
                 then greatest(r.tat, now()) + make_interval(secs => $2)
                 else r.tat
             end
         returning allowed, extract(epoch from (tat - now()))::float8",
    )
    .bind(key)
    .bind(interval_seconds)
    .bind(window_seconds)
    .fetch_one(executor)
    .await?;
    Ok(Hit { allowed, ahead_seconds })
}

/// Deletes keys whose arrival time has passed: a missing row means a full quota.
pub async fn sweep(executor: impl PgExecutor<'_>) -> sqlx::Result<u64> {
    let done = sqlx::query("delete from api_rate_limits where tat < now()").execute(executor).await?;
    Ok(done.rows_affected())
}
