//! Staff second factors: the encrypted TOTP secret of each user, its last accepted step, and
//! the hashed recovery codes.

use sqlx::PgExecutor;
use uuid::Uuid;

/// A user's TOTP secret (still encrypted) and whether enrolment was completed.
pub struct StoredSecret {
    pub secret_enc: Vec<u8>,
    pub enabled: bool,
    pub last_step: i64,
}

pub async fn find(executor: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<Option<StoredSecret>> {
    let row: Option<(Vec<u8>, bool, i64)> =
        sqlx::query_as("select secret_enc, enabled_at is not null, last_step from user_mfa where user_id = $1")
            .bind(user_id)
            .fetch_optional(executor)
            .await?;
    Ok(row.map(|(secret_enc, enabled, last_step)| StoredSecret { secret_enc, enabled, last_step }))
}

/// Stores a secret being enrolled, replacing an unfinished enrolment (never an enabled one).
pub async fn begin(executor: impl PgExecutor<'_>, user_id: Uuid, secret_enc: &[u8]) -> sqlx::Result<()> {
    sqlx::query(
        "insert into user_mfa (user_id, secret_enc) values ($1, $2)
         on conflict (user_id) do update set secret_enc = excluded.secret_enc, last_step = 0, created_at = now()
          where user_mfa.enabled_at is null",
    )
    .bind(user_id)
    .bind(secret_enc)
    .execute(executor)
    .await
    .map(|_| ())
}

/// Accepts time step `step` once: false when it (or a later one) was already used.
pub async fn use_step(executor: impl PgExecutor<'_>, user_id: Uuid, step: i64) -> sqlx::Result<bool> {
    let done = sqlx::query("update user_mfa set last_step = $2 where user_id = $1 and last_step < $2")
        .bind(user_id)
        .bind(step)
        .execute(executor)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn enable(executor: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("update user_mfa set enabled_at = now() where user_id = $1")
        .bind(user_id)
        .execute(executor)
        .await
        .map(|_| ())
}

/// Replaces the user's recovery codes with these digests.
pub async fn set_recovery_codes(executor: impl PgExecutor<'_>, user_id: Uuid, digests: &[Vec<u8>]) -> sqlx::Result<()> {
    sqlx::query(
        "with gone as (delete from mfa_recovery_codes where user_id = $1)
         insert into mfa_recovery_codes (user_id, code_sha256) select $1, unnest($2::bytea[])",
    )
    .bind(user_id)
    .bind(digests)
    .execute(executor)
    .await
    .map(|_| ())
}

/// Uses up a recovery code; false when it is unknown or used.
pub async fn use_recovery_code(executor: impl PgExecutor<'_>, user_id: Uuid, digest: &[u8]) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "update mfa_recovery_codes set used_at = now() where user_id = $1 and code_sha256 = $2 and used_at is null",
    )
    .bind(user_id)
    .bind(digest)
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Forgets the user's second factor: they enrol again at their next sign-in.
pub async fn reset(executor: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "with codes as (delete from mfa_recovery_codes where user_id = $1) delete from user_mfa where user_id = $1",
    )
    .bind(user_id)
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}
