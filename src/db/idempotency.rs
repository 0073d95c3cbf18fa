//! API idempotency keys: claimed per (scope, key), their answers kept sealed, purged after 24 h.

use sqlx::PgExecutor;

#[derive(sqlx::FromRow)]
pub struct StoredRequest {
    pub request_sha256: Vec<u8>,
    pub status: Option<i16>,
    /// Rows from before answers were sealed.
    pub body: Option<serde_json::Value>,
    pub body_sealed: Option<Vec<u8>>,
}

/// How long a key and its answer are kept.
const KEPT: &str = "interval '24 hours'";

/// Takes the key for a new request; false when it exists already. Keys are kept for 24 hours,
/// as Stripe does: an older one starts over. The same statement purges the other keys older
/// than that (no round trip of its own; this key, if expired, is taken over instead).
pub async fn claim(executor: impl PgExecutor<'_>, scope: &str, key: &str, request_sha256: &[u8]) -> sqlx::Result<bool> {
    let done = sqlx::query(&format!(
        "with purged as (delete from api_idempotency
                          where created_at < now() - {KEPT} and (scope, key) <> ($1, $2))
         insert into api_idempotency (scope, key, request_sha256) values ($1, $2, $3)
         on conflict (scope, key) do update
            set request_sha256 = excluded.request_sha256, status = null, body = null, body_sealed = null,
                created_at = now()
          where api_idempotency.created_at < now() - {KEPT}"
    ))
    .bind(scope)
    .bind(key)
    .bind(request_sha256)
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn find(executor: impl PgExecutor<'_>, scope: &str, key: &str) -> sqlx::Result<Option<StoredRequest>> {
    sqlx::query_as(
        "select request_sha256, status, body, body_sealed from api_idempotency where scope = $1 and key = $2",
    )
    .bind(scope)
    .bind(key)
    .fetch_optional(executor)
    .await
}

pub async fn complete(
    executor: impl PgExecutor<'_>,
    scope: &str,
    key: &str,
    status: i16,
    body_sealed: &[u8],
) -> sqlx::Result<()> {
    sqlx::query("update api_idempotency set status = $3, body_sealed = $4, body = null where scope = $1 and key = $2")
        .bind(scope)
        .bind(key)
        .bind(status)
        .bind(body_sealed)
        .execute(executor)
        .await
        .map(|_| ())
}

pub async fn release(executor: impl PgExecutor<'_>, scope: &str, key: &str) -> sqlx::Result<()> {
    sqlx::query("delete from api_idempotency where scope = $1 and key = $2")
        .bind(scope)
        .bind(key)
        .execute(executor)
        .await
        .map(|_| ())
}
