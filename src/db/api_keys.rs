//! API keys for integrators and admins: stored as SHA-256, revocable, last use remembered.

use sqlx::PgExecutor;
use uuid::Uuid;

use crate::domain::webhook::KeyRole;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiKeyRow {
    pub id: Uuid,
    pub name: String,
    pub role: KeyRole,
    pub prefix: String,
    pub created_at: time::OffsetDateTime,
    pub last_used_at: Option<time::OffsetDateTime>,
    pub revoked_at: Option<time::OffsetDateTime>,
}

const COLUMNS: &str = "id, name, role, prefix, created_at, last_used_at, revoked_at";

pub async fn insert(
    executor: impl PgExecutor<'_>,
    name: &str,
    role: KeyRole,
    sha256: &[u8],
    prefix: &str,
) -> sqlx::Result<ApiKeyRow> {
    sqlx::query_as(&format!(
        "insert into api_keys (name, role, key_sha256, prefix) values ($1, $2, $3, $4) returning {COLUMNS}"
    ))
    .bind(name)
    .bind(role)
    .bind(sha256)
    .bind(prefix)
    .fetch_one(executor)
    .await
}

/// The live (unrevoked) key with this digest, its last use noted.
pub async fn use_live(executor: impl PgExecutor<'_>, sha256: &[u8]) -> sqlx::Result<Option<ApiKeyRow>> {
    sqlx::query_as(&format!(
        "update api_keys set last_used_at = now() where key_sha256 = $1 and revoked_at is null returning {COLUMNS}"
    ))
    .bind(sha256)
    .fetch_optional(executor)
    .await
}

/// Every key, newest first.
pub async fn list(executor: impl PgExecutor<'_>) -> sqlx::Result<Vec<ApiKeyRow>> {
    sqlx::query_as(&format!("select {COLUMNS} from api_keys order by created_at desc, id")).fetch_all(executor).await
}

/// Revokes a key; false when there is no such live key.
pub async fn revoke(executor: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query("update api_keys set revoked_at = now() where id = $1 and revoked_at is null")
        .bind(id)
        .execute(executor)
        .await?;
    Ok(done.rows_affected() == 1)
}
