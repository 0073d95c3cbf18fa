//! Stripe event ids already handled, and refunds Stripe reported before the payment they undo.

use sqlx::PgExecutor;
use uuid::Uuid;

/// Records an event id; false when it was already recorded. Inside a transaction, a concurrent
/// insert of the same id waits for this one to commit (then finds it) or roll back (then records it).
pub async fn record(executor: impl PgExecutor<'_>, id: &str, kind: &str) -> sqlx::Result<bool> {
    let done = sqlx::query("insert into stripe_events (id, type) values ($1, $2) on conflict (id) do nothing")
        .bind(id)
        .bind(kind)
        .execute(executor)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// A refund waiting for its payment to be confirmed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PendingRefund {
    pub amount_minor: i64,
    pub full: bool,
}

/// Keeps a refund reported before its payment; Stripe's amounts are cumulative, so the larger
/// one wins and a full refund stays full.
pub async fn keep_pending_refund(
    executor: impl PgExecutor<'_>,
    payment_intent: &str,
    order_id: Option<Uuid>,
    amount_minor: i64,
    full: bool,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into pending_refunds (payment_intent, order_id, amount_minor, full_refund) values ($1, $2, $3, $4)
         on conflict (payment_intent) do update
            set order_id = coalesce(excluded.order_id, pending_refunds.order_id),
                amount_minor = greatest(pending_refunds.amount_minor, excluded.amount_minor),
                full_refund = pending_refunds.full_refund or excluded.full_refund",
    )
    .bind(payment_intent)
    .bind(order_id)
    .bind(amount_minor)
    .bind(full)
    .execute(executor)
    .await
    .map(|_| ())
}

/// Removes and returns what was kept for this payment or order (merged when both match rows).
pub async fn take_pending_refund(
    executor: impl PgExecutor<'_>,
    payment_intent: Option<&str>,
    order_id: Uuid,
) -> sqlx::Result<Option<PendingRefund>> {
    sqlx::query_as(
        "with taken as (delete from pending_refunds where payment_intent = $1 or order_id = $2
                        returning amount_minor, full_refund)
         select max(amount_minor) as amount_minor, bool_or(full_refund) as full from taken having count(*) > 0",
    )
    .bind(payment_intent)
    .bind(order_id)
    .fetch_optional(executor)
    .await
}
