//! Durable jobs in PostgreSQL.

use sqlx::PgConnection;
use uuid::Uuid;

/// The job that buys and installs an order's eSIM.
pub const PROVISION_ESIM: &str = "provision_esim";

/// Queues a job for an order unless one of that kind exists. True when it was queued now.
pub async fn enqueue(conn: &mut PgConnection, kind: &str, order_id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query("insert into jobs (kind, order_id) values ($1, $2) on conflict (kind, order_id) do nothing")
        .bind(kind)
        .bind(order_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Jobs of a kind for an order (0 or 1).
pub async fn count_for_order(conn: &mut PgConnection, kind: &str, order_id: Uuid) -> sqlx::Result<i64> {
    sqlx::query_scalar("select count(*) from jobs where kind = $1 and order_id = $2")
        .bind(kind)
        .bind(order_id)
        .fetch_one(conn)
        .await
}
