//! API idempotency keys.

use sqlx::PgConnection;

#[derive(sqlx::FromRow)]
pub struct StoredRequest {
    pub request_sha256: Vec<u8>,
    pub status: Option<i16>,
    pub body: Option<serde_json::Value>,
}

/// Takes the key for a new request; false when it exists already.
pub async fn claim(conn: &mut PgConnection, scope: &str, key: &str, request_sha256: &[u8]) -> sqlx::Result<bool> {
    // Keys are kept for 24 hours, as Stripe does; an older one starts over.
    sqlx::query(
        "delete from api_idempotency where scope = $1 and key = $2 and created_at < now() - interval '24 hours'",
    )
    .bind(scope)
    .bind(key)
    .execute(&mut *conn)
    .await?;
    let done = sqlx::query(
        "insert into api_idempotency (scope, key, request_sha256) values ($1, $2, $3) on conflict do nothing",
    )
    .bind(scope)
    .bind(key)
    .bind(request_sha256)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn find(conn: &mut PgConnection, scope: &str, key: &str) -> sqlx::Result<Option<StoredRequest>> {
    sqlx::query_as("select request_sha256, status, body from api_idempotency where scope = $1 and key = $2")
        .bind(scope)
        .bind(key)
        .fetch_optional(conn)
        .await
}

pub async fn complete(
    conn: &mut PgConnection,
    scope: &str,
    key: &str,
    status: i16,
    body: &serde_json::Value,
) -> sqlx::Result<()> {
    sqlx::query("update api_idempotency set status = $3, body = $4 where scope = $1 and key = $2")
        .bind(scope)
        .bind(key)
        .bind(status)
        .bind(body)
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn release(conn: &mut PgConnection, scope: &str, key: &str) -> sqlx::Result<()> {
    sqlx::query("delete from api_idempotency where scope = $1 and key = $2")
        .bind(scope)
        .bind(key)
        .execute(conn)
        .await
        .map(|_| ())
}
