//! Queries of the reconciliation with Stripe: the sweep's advisory lock, the orders whose
//! checkout it re-reads, its cursor in Stripe's events list, and the per-order rate limit of
//! confirming a payment on read.

use sqlx::PgExecutor;
use uuid::Uuid;

/// The advisory lock key of the sweep (`"tern:reconcile"`, as a number): one sweep at a time
/// across every process on the database.
pub const SWEEP_LOCK: i64 = 0x7465_726e_7265_636e;

/// Takes the sweep's lock for the caller's transaction; false when another holds it.
pub async fn try_lock_sweep(executor: impl PgExecutor<'_>) -> sqlx::Result<bool> {
    sqlx::query_scalar("select pg_try_advisory_xact_lock($1)").bind(SWEEP_LOCK).fetch_one(executor).await
}

/// Checkout sessions of orders still awaiting payment (and not held for review) that were
/// created between `created_from` and `created_until`, oldest first.
pub async fn awaiting_sessions(
    executor: impl PgExecutor<'_>,
    created_from: time::OffsetDateTime,
    created_until: time::OffsetDateTime,
    limit: i64,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "select stripe_session_id from orders
          where status = 'awaiting_payment' and not needs_review and stripe_session_id is not null
            and created_at >= $1 and created_at <= $2
          order by created_at limit $3",
    )
    .bind(created_from)
    .bind(created_until)
    .bind(limit)
    .fetch_all(executor)
    .await
}

/// The newest event read from Stripe's list so far: (its `created`, its id).
pub async fn event_cursor(executor: impl PgExecutor<'_>) -> sqlx::Result<Option<(i64, String)>> {
    sqlx::query_as("select last_created, last_event_id from stripe_event_cursor").fetch_optional(executor).await
}

/// Moves the cursor forward to `created` (never back).
pub async fn advance_event_cursor(executor: impl PgExecutor<'_>, created: i64, event_id: &str) -> sqlx::Result<()> {
    sqlx::query(
        "insert into stripe_event_cursor (last_created, last_event_id) values ($1, $2)
         on conflict (id) do update set last_created = excluded.last_created,
             last_event_id = excluded.last_event_id, updated_at = now()
         where stripe_event_cursor.last_created <= excluded.last_created",
    )
    .bind(created)
    .bind(event_id)
    .execute(executor)
    .await?;
    Ok(())
}

/// Claims the right to confirm `order_id`'s payment on read now: true at most once per
/// `interval_seconds` per order, across every process, and never on the first read (which
/// records when the order was first read waiting; a read `interval_seconds` later claims).
pub async fn claim_read_check(
    executor: impl PgExecutor<'_>,
    order_id: Uuid,
    interval_seconds: f64,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "with earlier as (select 1 from order_payment_checks where order_id = $1),
              claimed as (insert into order_payment_checks (order_id) values ($1)
                          on conflict (order_id) do update set checked_at = now()
                          where order_payment_checks.checked_at <= now() - make_interval(secs => $2)
                          returning order_id)
         select exists(select 1 from earlier) and exists(select 1 from claimed)",
    )
    .bind(order_id)
    .bind(interval_seconds)
    .fetch_one(executor)
    .await
}
