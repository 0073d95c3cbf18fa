//! Users, API tokens, sign-in attempts and the audit log.

use sqlx::PgExecutor;
use uuid::Uuid;

use crate::domain::user::{Role, User};

#[derive(sqlx::FromRow)]
struct UserRow {
    id: Uuid,
    email: String,
    role: String,
}

impl UserRow {
    fn into_user(self) -> sqlx::Result<User> {
        let role = self
            .role
            .parse()
            .map_err(|e: String| sqlx::Error::ColumnDecode { index: "role".into(), source: e.into() })?;
        Ok(User { id: self.id, email: self.email, role })
    }
}

/// Creates a user; `None` when the email is taken.
pub async fn create(
    executor: impl PgExecutor<'_>,
    email: &str,
    password_hash: &str,
    role: Role,
) -> sqlx::Result<Option<User>> {
    let row: Option<UserRow> = sqlx::query_as(
        "insert into users (email, password_hash, role) values ($1, $2, $3::user_role)
         on conflict do nothing returning id, email, role::text as role",
    )
    .bind(email)
    .bind(password_hash)
    .bind(role.as_str())
    .fetch_optional(executor)
    .await?;
    row.map(UserRow::into_user).transpose()
}

/// The user and their password hash.
pub async fn find_with_hash(executor: impl PgExecutor<'_>, email: &str) -> sqlx::Result<Option<(User, String)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: Uuid,
        email: String,
        role: String,
        password_hash: String,
    }
    let row: Option<Row> =
        sqlx::query_as("select id, email, role::text as role, password_hash from users where lower(email) = lower($1)")
            .bind(email)
            .fetch_optional(executor)
            .await?;
    row.map(|r| Ok((UserRow { id: r.id, email: r.email, role: r.role }.into_user()?, r.password_hash))).transpose()
}

pub async fn find(executor: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<User>> {
    let row: Option<UserRow> = sqlx::query_as("select id, email, role::text as role from users where id = $1")
        .bind(id)
        .fetch_optional(executor)
        .await?;
    row.map(UserRow::into_user).transpose()
}

pub async fn count_admins(executor: impl PgExecutor<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar("select count(*) from users where role = 'admin'").fetch_one(executor).await
}

pub async fn set_role(executor: impl PgExecutor<'_>, id: Uuid, role: Role) -> sqlx::Result<()> {
    sqlx::query("update users set role = $2::user_role where id = $1")
        .bind(id)
        .bind(role.as_str())
        .execute(executor)
        .await
        .map(|_| ())
}

pub async fn set_password(executor: impl PgExecutor<'_>, id: Uuid, password_hash: &str) -> sqlx::Result<()> {
    sqlx::query("update users set password_hash = $2 where id = $1")
        .bind(id)
        .bind(password_hash)
        .execute(executor)
        .await
        .map(|_| ())
}

pub async fn insert_token(
    executor: impl PgExecutor<'_>,
    user_id: Uuid,
    sha256: &[u8],
    ttl_days: i32,
) -> sqlx::Result<time::OffsetDateTime> {
    sqlx::query_scalar(
        "insert into api_tokens (user_id, token_sha256, expires_at) values ($1, $2, now() + make_interval(days => $3))
         returning expires_at",
    )
    .bind(user_id)
    .bind(sha256)
    .bind(ttl_days)
    .fetch_one(executor)
    .await
}

/// The owner of a live (unexpired, unrevoked) token.
pub async fn user_for_token(executor: impl PgExecutor<'_>, sha256: &[u8]) -> sqlx::Result<Option<User>> {
    let row: Option<UserRow> = sqlx::query_as(
        "select u.id, u.email, u.role::text as role from api_tokens t join users u on u.id = t.user_id
          where t.token_sha256 = $1 and t.revoked_at is null and t.expires_at > now()",
    )
    .bind(sha256)
    .fetch_optional(executor)
    .await?;
    row.map(UserRow::into_user).transpose()
}

/// Revokes a token; false when it was not live.
pub async fn revoke_token(executor: impl PgExecutor<'_>, sha256: &[u8]) -> sqlx::Result<bool> {
    let done = sqlx::query("update api_tokens set revoked_at = now() where token_sha256 = $1 and revoked_at is null")
        .bind(sha256)
        .execute(executor)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Records an attempt under `key` and counts those within the window, this one included.
pub async fn count_attempt(executor: impl PgExecutor<'_>, key: &str, window_seconds: f64) -> sqlx::Result<i64> {
    // One statement: the sub-statements see the table as it was, hence the `+ 1` for this attempt.
    sqlx::query_scalar(
        "with expired as (delete from auth_attempts where key = $1 and created_at < now() - make_interval(secs => $2)),
              attempt as (insert into auth_attempts (key) values ($1))
         select count(*) + 1 from auth_attempts where key = $1 and created_at >= now() - make_interval(secs => $2)",
    )
    .bind(key)
    .bind(window_seconds)
    .fetch_one(executor)
    .await
}

/// An audit log entry.
pub struct AuditEntry<'a> {
    pub user: Option<&'a User>,
    pub action: &'a str,
    pub target: Option<String>,
    pub details: serde_json::Value,
    pub ip: Option<String>,
}

pub async fn audit(executor: impl PgExecutor<'_>, entry: AuditEntry<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "insert into audit_log (user_id, user_email, action, target, details, ip) values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(entry.user.map(|u| u.id))
    .bind(entry.user.map(|u| u.email.clone()))
    .bind(entry.action)
    .bind(entry.target)
    .bind(entry.details)
    .bind(entry.ip)
    .execute(executor)
    .await
    .map(|_| ())
}
