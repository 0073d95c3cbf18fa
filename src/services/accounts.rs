//! Accounts: sign-up, sign-in (argon2id, in a blocking thread, with a dummy hash for unknown
//! emails so answers and timing do not reveal who has an account), rate limits per IP and per
//! account, mobile API tokens, and claiming guest orders.

use std::sync::LazyLock;

use crate::db::Pool;
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use crate::db;
use crate::db::users::AuditEntry;
use crate::domain::user::{Role, User, check_password};
use crate::domain::{Email, token};
use crate::error::{Error, FieldError, Result};

/// Attempts allowed per window, per client IP and per account.
pub const ATTEMPTS_PER_IP: i64 = 30;
pub const ATTEMPTS_PER_ACCOUNT: i64 = 8;
pub const ATTEMPT_WINDOW_SECONDS: f64 = 15.0 * 60.0;
/// Mobile tokens live this long.
pub const API_TOKEN_DAYS: i32 = 30;

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

/// Counts an attempt from `ip` on `email`; refuses once either is over its limit.
async fn rate_limit(pool: &Pool, ip: Option<&str>, email: &str) -> Result<()> {
    let per_ip = match ip {
        Some(ip) => db::users::count_attempt(pool, &format!("ip:{ip}"), ATTEMPT_WINDOW_SECONDS).await?,
        None => 0,
    };
    let per_account =
        db::users::count_attempt(pool, &format!("account:{}", email.to_lowercase()), ATTEMPT_WINDOW_SECONDS).await?;
    if per_ip > ATTEMPTS_PER_IP || per_account > ATTEMPTS_PER_ACCOUNT {
        return Err(Error::RateLimited("Too many attempts. Please wait 15 minutes and try again."));
    }
    Ok(())
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
    rate_limit(pool, ip, email.as_str()).await?;
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

/// The same answer for an unknown email and a wrong password.
pub async fn sign_in(pool: &Pool, ip: Option<&str>, c: &Credentials) -> Result<User> {
    let wrong = || Error::invalid("password", "That email and password do not match an account.");
    if c.email.trim().is_empty() || c.password.is_empty() {
        return Err(wrong());
    }
    rate_limit(pool, ip, c.email.trim()).await?;
    let found = db::users::find_with_hash(pool, c.email.trim()).await?;
    let hash = found.as_ref().map(|(_, h)| h.clone()).unwrap_or_else(|| DUMMY_HASH.clone());
    let ok = verify_password(c.password.clone(), hash).await?;
    let user = match found {
        Some((user, _)) if ok => user,
        _ => {
            let entry = AuditEntry {
                user: None,
                action: "sign_in_failed",
                target: None,
                details: serde_json::json!({}),
                ip: ip.map(String::from),
            };
            db::users::audit(pool, entry).await?;
            return Err(wrong());
        }
    };
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

/// `tern admin create`: a new admin, or an existing user promoted to admin.
pub async fn create_admin(pool: &Pool, email: &str, password: &str) -> Result<User> {
    let email = Email::parse(email).map_err(|m| Error::invalid("email", m))?;
    check_password(password).map_err(|m| Error::invalid("password", m))?;
    let hash = hash_password(password.to_string()).await?;
    let user = match db::users::create(pool, email.as_str(), &hash, Role::Admin).await? {
        Some(user) => user,
        None => {
            let (user, _) = db::users::find_with_hash(pool, email.as_str()).await?.ok_or(Error::NotFound("user"))?;
            db::users::set_role(pool, user.id, Role::Admin).await?;
            User { role: Role::Admin, ..user }
        }
    };
    let entry = AuditEntry {
        user: Some(&user),
        action: "admin_created",
        target: Some(user.email.clone()),
        details: serde_json::json!({ "via": "cli" }),
        ip: None,
    };
    db::users::audit(pool, entry).await?;
    Ok(user)
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
