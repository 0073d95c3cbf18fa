//! Single-use account tokens sent by email (address verification, password reset), stored as
//! SHA-256, and the account's verified address.

use sqlx::PgExecutor;
use uuid::Uuid;

pub async fn insert(
    executor: impl PgExecutor<'_>,
    user_id: Uuid,
    purpose: &str,
    digest: &[u8],
    ttl_seconds: f64,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into account_tokens (token_sha256, user_id, purpose, expires_at)
         values ($1, $2, $3, now() + make_interval(secs => $4))",
    )
    .bind(digest)
    .bind(user_id)
    .bind(purpose)
    .bind(ttl_seconds)
    .execute(executor)
    .await
    .map(|_| ())
}

/// Uses a live token once: the user it belongs to, or `None` (unknown, used, expired, or for
/// another purpose).
pub async fn consume(executor: impl PgExecutor<'_>, purpose: &str, digest: &[u8]) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar(
        "update account_tokens set used_at = now()
          where token_sha256 = $1 and purpose = $2 and used_at is null and expires_at > now()
         returning user_id",
    )
    .bind(digest)
    .bind(purpose)
    .fetch_optional(executor)
    .await
}

/// Retires the user's other live tokens of a purpose (after one was used).
pub async fn retire(executor: impl PgExecutor<'_>, user_id: Uuid, purpose: &str) -> sqlx::Result<()> {
    sqlx::query("update account_tokens set used_at = now() where user_id = $1 and purpose = $2 and used_at is null")
        .bind(user_id)
        .bind(purpose)
        .execute(executor)
        .await
        .map(|_| ())
}

/// Whether a token is live, without using it (the reset form checks before asking).
pub async fn is_live(executor: impl PgExecutor<'_>, purpose: &str, digest: &[u8]) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "select exists(select 1 from account_tokens
                        where token_sha256 = $1 and purpose = $2 and used_at is null and expires_at > now())",
    )
    .bind(digest)
    .bind(purpose)
    .fetch_one(executor)
    .await
}

pub async fn mark_verified(executor: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("update users set email_verified_at = coalesce(email_verified_at, now()) where id = $1")
        .bind(user_id)
        .execute(executor)
        .await
        .map(|_| ())
}

pub async fn is_verified(executor: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar("select email_verified_at is not null from users where id = $1")
        .bind(user_id)
        .fetch_optional(executor)
        .await
        .map(|v| v.unwrap_or(false))
}

pub async fn set_password(executor: impl PgExecutor<'_>, user_id: Uuid, hash: &str) -> sqlx::Result<()> {
    sqlx::query("update users set password_hash = $2 where id = $1")
        .bind(user_id)
        .bind(hash)
        .execute(executor)
        .await
        .map(|_| ())
}
