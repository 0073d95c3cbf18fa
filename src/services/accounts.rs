//! Accounts: sign-up, sign-in (argon2id, in a blocking thread, with a dummy hash for unknown
//! emails so answers and timing do not reveal who has an account), failure-only slow-downs per
//! account and source, the CLI's admin creation, mobile API tokens, and claiming guest orders.

use std::sync::LazyLock;

use crate::db::Pool;
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use crate::db;
use crate::db::users::AuditEntry;
use crate::domain::client_addr::rate_limit_group;
use crate::domain::session::delay_after;
use crate::domain::user::{Role, User, check_password};
use crate::domain::{Email, token};
use crate::error::{Error, FieldError, Result};

/// Failed sign-ins allowed per window from one source (an IPv4 address or IPv6 /64), across
/// accounts: past this the source is refused for a while.
pub const ATTEMPTS_PER_IP: i64 = 30;
/// Sign-ups allowed per window from one source.
pub const SIGN_UPS_PER_IP: i64 = 10;
pub const ATTEMPT_WINDOW_SECONDS: f64 = 15.0 * 60.0;
/// How long one account's failures from one source are remembered for its slow-down.
const FAILURE_WINDOW_SECONDS: f64 = 60.0 * 60.0;
/// Mobile tokens live this long.
pub const API_TOKEN_DAYS: i32 = 30;
const TOO_MANY: &str = "Too many attempts. Please wait 15 minutes and try again.";
const SLOW_DOWN: &str = "Too many attempts. Please wait a little and try again.";
/// Verified against when the email is unknown, so that path costs the same as a real one.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_sync("not the password of anyone at all").unwrap_or_default());

fn hash_sync(password: &str) -> Result<String> {
    // Argon2id with the crate's default parameters and a random salt.
    Ok(Argon2::default().hash_password(password.as_bytes()).map_err(|e| anyhow::anyhow!("hashing: {e}"))?.to_string())
}

pub async fn hash_password(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || hash_sync(&password)).await.map_err(|e| anyhow::anyhow!(e))?
}

async fn verify_password(password: String, hash: String) -> Result<bool> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&hash).map_err(|e| anyhow::anyhow!("stored hash: {e}"))?;
        Ok(Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await
    .map_err(|e| anyhow::anyhow!(e))?
}

/// The group a client address counts in ("unknown" without one).
fn source(ip: Option<&str>) -> String {
    ip.map(rate_limit_group).unwrap_or_else(|| "unknown".into())
}

/// Refuses while `key` is slowed down after its recent failures (`domain::session::delay_after`).
pub(crate) async fn check_slowdown(pool: &Pool, key: &str) -> Result<()> {
    let (failures, latest) = db::logins::failures(pool, key, FAILURE_WINDOW_SECONDS).await?;
    let wait = delay_after(failures);
    if latest.is_some_and(|at| time::OffsetDateTime::now_utc() - at < wait) {
        return Err(Error::RateLimited(SLOW_DOWN));
    }
    Ok(())
}

/// Refuses a source that failed too often across accounts.
async fn check_source(pool: &Pool, ip: Option<&str>) -> Result<()> {
    let (failures, _) = db::logins::failures(pool, &format!("fail-ip:{}", source(ip)), ATTEMPT_WINDOW_SECONDS).await?;
    if failures >= ATTEMPTS_PER_IP {
        return Err(Error::RateLimited(TOO_MANY));
    }
    Ok(())
}

/// Counts a failure under `keys` and under its source, and audits it as `action`.
pub(crate) async fn record_failure(
    pool: &Pool,
    keys: &[String],
    user: Option<&User>,
    ip: Option<&str>,
    action: &str,
) -> Result<()> {
    let mut keys = keys.to_vec();
    keys.push(format!("fail-ip:{}", source(ip)));
    db::logins::record_failure(pool, &keys, FAILURE_WINDOW_SECONDS).await?;
    let entry = AuditEntry { user, action, target: None, details: serde_json::json!({}), ip: ip.map(String::from) };
    Ok(db::users::audit(pool, entry).await?)
}

pub(crate) async fn clear_failures(pool: &Pool, key: &str) -> Result<()> {
    Ok(db::logins::clear_failures(pool, key).await?)
}

/// What a sign-up or sign-in form sends.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    pub email: String,
    pub password: String,
}

/// A new account, unverified, and its verification email queued; `None` when the address
/// already had an account: its owner gets an email instead, and the caller answers the same.
pub async fn sign_up(pool: &Pool, ip: Option<&str>, c: &Credentials) -> Result<Option<User>> {
    let mut errors = Vec::new();
    let email = Email::parse(&c.email).map_err(|m| errors.push(FieldError::new("email", m))).ok();
    if let Err(m) = check_password(&c.password) {
        errors.push(FieldError::new("password", m));
    }
    let Some(email) = email.filter(|_| errors.is_empty()) else { return Err(Error::Invalid(errors)) };
    check_source(pool, ip).await?;
    if db::users::count_attempt(pool, &format!("sign_up:{}", source(ip)), ATTEMPT_WINDOW_SECONDS).await?
        > SIGN_UPS_PER_IP
    {
        return Err(Error::RateLimited(TOO_MANY));
    }
    let hash = hash_password(c.password.clone()).await?;
    let Some(user) = db::users::create(pool, email.as_str(), &hash, Role::Customer).await? else {
        super::account_email::send_account_exists(pool, &email).await?;
        return Ok(None);
    };
    let entry = AuditEntry {
        user: Some(&user),
        action: "sign_up",
        target: None,
        details: serde_json::json!({}),
        ip: ip.map(String::from),
    };
    db::users::audit(pool, entry).await?;
    super::account_email::send_verification(pool, user.id).await?;
    Ok(Some(user))
}

/// The same answer for an unknown email and a wrong password. Only failures count (ASVS
/// V2.2.1): each account's failures from one source slow that source down on that account, so
/// an attacker elsewhere cannot lock the owner out.
pub async fn sign_in(pool: &Pool, ip: Option<&str>, c: &Credentials) -> Result<User> {
    let wrong = || Error::invalid("password", "That email and password do not match an account.");
    if c.email.trim().is_empty() || c.password.is_empty() {
        return Err(wrong());
    }
    let email = c.email.trim();
    let pair = format!("fail:{}|{}", email.to_lowercase(), source(ip));
    check_source(pool, ip).await?;
    check_slowdown(pool, &pair).await?;
    let found = db::users::find_with_hash(pool, email).await?;
    let hash = found.as_ref().map(|(_, h)| h.clone()).unwrap_or_else(|| DUMMY_HASH.clone());
    let ok = verify_password(c.password.clone(), hash).await?;
    let user = match found {
        Some((user, _)) if ok => user,
        _ => {
            record_failure(pool, &[pair], None, ip, "sign_in_failed").await?;
            return Err(wrong());
        }
    };
    clear_failures(pool, &pair).await?;
    let entry = AuditEntry {
        user: Some(&user),
        action: "sign_in",
        target: None,
        details: serde_json::json!({}),
        ip: ip.map(String::from),
    };
    db::users::audit(pool, entry).await?;
    Ok(user)
}

/// `tern admin create`: a new admin. An existing account is refused unless `promote`; then it
/// becomes an admin with the typed password, its second factor is reset (enrolment is due at
/// the next sign-in), its sessions and tokens end, and the promotion is audited.
pub async fn create_admin(pool: &Pool, email: &str, password: &str, promote: bool) -> Result<User> {
    let email = Email::parse(email).map_err(|m| Error::invalid("email", m))?;
    check_password(password).map_err(|m| Error::invalid("password", m))?;
    let hash = hash_password(password.to_string()).await?;
    if let Some(user) = db::users::create(pool, email.as_str(), &hash, Role::Admin).await? {
        let details = serde_json::json!({ "via": "cli" });
        let entry =
            AuditEntry { user: None, action: "admin_created", target: Some(user.email.clone()), details, ip: None };
        db::users::audit(pool, entry).await?;
        return Ok(user);
    }
    if !promote {
        return Err(Error::Conflict {
            code: "account_exists",
            message: format!(
                "{} already has an account. To make it an admin (its password replaced by this one, MFA enrolment \
                 required), run again with --promote.",
                email.as_str()
            ),
        });
    }
    let (user, _) = db::users::find_with_hash(pool, email.as_str()).await?.ok_or(Error::NotFound("user"))?;
    let mut tx = pool.begin().await?;
    db::users::set_role(&mut *tx, user.id, Role::Admin).await?;
    db::users::set_password(&mut *tx, user.id, &hash).await?;
    db::mfa::reset(&mut *tx, user.id).await?;
    db::logins::revoke_all(&mut *tx, user.id).await?;
    db::logins::revoke_all_tokens(&mut *tx, user.id).await?;
    let details = serde_json::json!({ "via": "cli", "previous_role": user.role.as_str() });
    let entry =
        AuditEntry { user: None, action: "admin_promoted", target: Some(user.email.clone()), details, ip: None };
    db::users::audit(&mut *tx, entry).await?;
    tx.commit().await?;
    Ok(User { role: Role::Admin, ..user })
}

pub async fn has_admin(pool: &Pool) -> Result<bool> {
    Ok(db::users::count_admins(pool).await? > 0)
}

/// A new mobile token for valid credentials: (token, expiry).
pub async fn issue_token(
    pool: &Pool,
    ip: Option<&str>,
    c: &Credentials,
) -> Result<(String, time::OffsetDateTime, User)> {
    let user = sign_in(pool, ip, c).await.map_err(|e| match e {
        Error::Invalid(_) => Error::Unauthorized("That email and password do not match an account."),
        other => other,
    })?;
    let (token, digest) = token::generate();
    let expires = db::users::insert_token(pool, user.id, &digest, API_TOKEN_DAYS).await?;
    Ok((token, expires, user))
}

/// The user behind a live mobile token.
pub async fn user_for_token(pool: &Pool, bearer: &str) -> Result<Option<User>> {
    Ok(db::users::user_for_token(pool, &token::digest(bearer)).await?)
}

pub async fn revoke_token(pool: &Pool, bearer: &str) -> Result<bool> {
    Ok(db::users::revoke_token(pool, &token::digest(bearer)).await?)
}

pub async fn find_user(pool: &Pool, id: uuid::Uuid) -> Result<Option<User>> {
    Ok(db::users::find(pool, id).await?)
}
