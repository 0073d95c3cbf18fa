//! Signed-in sessions (`user_sessions`: lifetimes, second-factor time, revocation) and
//! sign-in failures counted per key (`auth_attempts`).

use sqlx::PgExecutor;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::user::User;

/// A signed-in session and its user.
pub struct Login {
    pub id: Uuid,
    pub user: User,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    pub mfa_at: Option<OffsetDateTime>,
}

pub async fn start(executor: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<Uuid> {
    sqlx::query_scalar("insert into user_sessions (user_id) values ($1) returning id")
        .bind(user_id)
        .fetch_one(executor)
        .await
}

/// The unrevoked session `id` with its user.
pub async fn find(executor: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<Login>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: Uuid,
        user_id: Uuid,
        email: String,
        role: String,
        created_at: OffsetDateTime,
        last_seen_at: OffsetDateTime,
        mfa_at: Option<OffsetDateTime>,
    }
    let row: Option<Row> = sqlx::query_as(
        "select s.id, u.id as user_id, u.email, u.role::text as role, s.created_at, s.last_seen_at, s.mfa_at
           from user_sessions s join users u on u.id = s.user_id
          where s.id = $1 and s.revoked_at is null",
    )
    .bind(id)
    .fetch_optional(executor)
    .await?;
    row.map(|r| {
        let role =
            r.role.parse().map_err(|e: String| sqlx::Error::ColumnDecode { index: "role".into(), source: e.into() })?;
        Ok(Login {
            id: r.id,
            user: User { id: r.user_id, email: r.email, role },
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
            mfa_at: r.mfa_at,
        })
    })
    .transpose()
}

pub async fn touch(executor: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("update user_sessions set last_seen_at = now() where id = $1")
        .bind(id)
        .execute(executor)
        .await
        .map(|_| ())
}

/// The second factor was checked just now.
pub async fn mark_mfa(executor: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("update user_sessions set mfa_at = now(), last_seen_at = now() where id = $1")
        .bind(id)
        .execute(executor)
        .await
        .map(|_| ())
}

pub async fn revoke(executor: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("update user_sessions set revoked_at = now() where id = $1 and revoked_at is null")
        .bind(id)
        .execute(executor)
        .await
        .map(|_| ())
}

/// Ends every session of the user; the number ended.
pub async fn revoke_all(executor: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<u64> {
    let done = sqlx::query("update user_sessions set revoked_at = now() where user_id = $1 and revoked_at is null")
        .bind(user_id)
        .execute(executor)
        .await?;
    Ok(done.rows_affected())
}

/// Revokes every live API token of the user; the number revoked.
pub async fn revoke_all_tokens(executor: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<u64> {
    let done = sqlx::query("update api_tokens set revoked_at = now() where user_id = $1 and revoked_at is null")
        .bind(user_id)
        .execute(executor)
        .await?;
    Ok(done.rows_affected())
}

/// Failures under `key` within the window, and when the latest was.
pub async fn failures(
    executor: impl PgExecutor<'_>,
    key: &str,
    window_seconds: f64,
) -> sqlx::Result<(i64, Option<OffsetDateTime>)> {
    sqlx::query_as(
        "select count(*), max(created_at) from auth_attempts
          where key = $1 and created_at >= now() - make_interval(secs => $2)",
    )
    .bind(key)
    .bind(window_seconds)
    .fetch_one(executor)
    .await
}

/// Records a failure under each of `keys`, dropping those past the window.
pub async fn record_failure(executor: impl PgExecutor<'_>, keys: &[String], window_seconds: f64) -> sqlx::Result<()> {
    sqlx::query(
        "with expired as (delete from auth_attempts where key = any($1) and created_at < now() - make_interval(secs => $2))
         insert into auth_attempts (key) select unnest($1::text[])",
    )
    .bind(keys)
    .bind(window_seconds)
    .execute(executor)
    .await
    .map(|_| ())
}

/// Forgets the failures under `key` (after a success).
pub async fn clear_failures(executor: impl PgExecutor<'_>, key: &str) -> sqlx::Result<()> {
    sqlx::query("delete from auth_attempts where key = $1").bind(key).execute(executor).await.map(|_| ())
}
