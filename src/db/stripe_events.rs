//! Stripe event ids already handled.

use sqlx::PgExecutor;

pub async fn is_recorded(executor: impl PgExecutor<'_>, id: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar("select exists (select 1 from stripe_events where id = $1)").bind(id).fetch_one(executor).await
}

/// Records an event id; false when it was already recorded.
pub async fn record(executor: impl PgExecutor<'_>, id: &str, kind: &str) -> sqlx::Result<bool> {
    let done = sqlx::query("insert into stripe_events (id, type) values ($1, $2) on conflict (id) do nothing")
        .bind(id)
        .bind(kind)
        .execute(executor)
        .await?;
    Ok(done.rows_affected() == 1)
}
