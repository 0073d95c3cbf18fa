//! Signed-in sessions (ASVS V3.3): each sign-in is a row the browser session points to, judged
//! on every request against the role's idle and absolute lifetimes; "sign out everywhere" ends
//! every session and revokes every API token of the account.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::db;
use crate::db::Pool;
use crate::db::users::AuditEntry;
use crate::domain::session::{Lifetime, REAUTH_WITHIN};
use crate::domain::user::User;
use crate::error::Result;

/// How often `last_seen_at` is written at most (a request a second need not write a second).
const TOUCH_EVERY: time::Duration = time::Duration::seconds(60);

/// A live session.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub id: Uuid,
    pub user: User,
    /// When the second factor was last checked.
    pub mfa_at: Option<OffsetDateTime>,
}

impl SignedIn {
    /// Staff who gave their password but not yet their second factor.
    pub fn awaits_mfa(&self) -> bool {
        self.user.role.is_staff() && self.mfa_at.is_none()
    }

    /// Whether the second factor was checked within the last 15 minutes.
    pub fn recently_authenticated(&self) -> bool {
        self.mfa_at.is_some_and(|at| OffsetDateTime::now_utc() - at < REAUTH_WITHIN)
    }
}

/// A new session for `user` (its second factor not yet checked).
pub async fn start(pool: &Pool, user: &User) -> Result<Uuid> {
    Ok(db::logins::start(pool, user.id).await?)
}

/// The session `id` if it is live; an idle or too old one is ended here.
pub async fn current(pool: &Pool, id: Uuid) -> Result<Option<SignedIn>> {
    let Some(login) = db::logins::find(pool, id).await? else { return Ok(None) };
    let now = OffsetDateTime::now_utc();
    if !Lifetime::for_role(login.user.role).alive(login.created_at, login.last_seen_at, now) {
        db::logins::revoke(pool, id).await?;
        return Ok(None);
    }
    if now - login.last_seen_at > TOUCH_EVERY {
        db::logins::touch(pool, id).await?;
    }
    Ok(Some(SignedIn { id: login.id, user: login.user, mfa_at: login.mfa_at }))
}

/// The second factor was checked now.
pub async fn second_factor_checked(pool: &Pool, id: Uuid) -> Result<()> {
    Ok(db::logins::mark_mfa(pool, id).await?)
}

/// Ends one session (sign out).
pub async fn end(pool: &Pool, id: Uuid) -> Result<()> {
    Ok(db::logins::revoke(pool, id).await?)
}

/// Ends every session of `user` and revokes all their API tokens, audited.
pub async fn end_everywhere(pool: &Pool, user: &User, ip: Option<&str>) -> Result<()> {
    let mut tx = pool.begin().await?;
    let sessions = db::logins::revoke_all(&mut *tx, user.id).await?;
    let tokens = db::logins::revoke_all_tokens(&mut *tx, user.id).await?;
    let entry = AuditEntry {
        user: Some(user),
        action: "signed_out_everywhere",
        target: Some(user.email.clone()),
        details: serde_json::json!({ "sessions": sessions, "api_tokens": tokens }),
        ip: ip.map(String::from),
    };
    db::users::audit(&mut *tx, entry).await?;
    tx.commit().await?;
    Ok(())
}
