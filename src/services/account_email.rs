//! Accounts and email: the address of a new account is verified by a link before the guest
//! orders placed with it appear under "My eSIMs"; a password is reset through a single-use
//! link valid for an hour; signing up with an address that has an account sends that owner an
//! email instead (the sign-up answer is the same either way). Tokens are stored as SHA-256.

use serde_json::json;
use uuid::Uuid;

use super::{accounts, find_order, lifecycle, mail};
use crate::db::users::AuditEntry;
use crate::db::{self, Pool};
use crate::domain::user::{User, check_password};
use crate::domain::{Actor, Email, EventKind, token};
use crate::error::{Error, Result};

const VERIFY: &str = mail::kinds::VERIFY_EMAIL;
const RESET: &str = mail::kinds::RESET_PASSWORD;

fn dead_link() -> Error {
    Error::invalid("token", "This link has expired or was already used. Ask for a new one.")
}

/// Queues the verification email of a new account.
pub async fn send_verification(pool: &Pool, user_id: Uuid) -> Result<()> {
    let mut tx = pool.begin().await?;
    mail::queue_message(&mut tx, json!({ "message": VERIFY, "user_id": user_id })).await?;
    tx.commit().await?;
    Ok(())
}

/// Someone signed up with an address that has an account: its owner is told, nothing else.
pub async fn send_account_exists(pool: &Pool, email: &Email) -> Result<()> {
    let mut tx = pool.begin().await?;
    mail::queue_message(&mut tx, json!({ "message": mail::kinds::ACCOUNT_EXISTS, "to": email.as_str() })).await?;
    tx.commit().await?;
    Ok(())
}

/// Uses a verification link: the account's address is verified and its guest orders are
/// attached to it. The user, to sign them in.
pub async fn verify(pool: &Pool, raw_token: &str) -> Result<User> {
    let mut tx = pool.begin().await?;
    let user_id =
        db::account_tokens::consume(&mut *tx, VERIFY, &token::digest(raw_token)).await?.ok_or_else(dead_link)?;
    db::account_tokens::retire(&mut *tx, user_id, VERIFY).await?;
    db::account_tokens::mark_verified(&mut *tx, user_id).await?;
    let user = db::users::find(&mut *tx, user_id).await?.ok_or_else(dead_link)?;
    claim(&mut tx, &user).await?;
    let entry = AuditEntry { user: Some(&user), action: "email_verified", target: None, details: json!({}), ip: None };
    db::users::audit(&mut *tx, entry).await?;
    tx.commit().await?;
    Ok(user)
}

async fn claim(tx: &mut db::Conn, user: &User) -> Result<()> {
    for order_id in db::mail::claim_guest_orders(&mut *tx, &user.email, user.id).await? {
        let details = json!({ "user_id": user.id, "via": "verified_email" });
        lifecycle::record(tx, order_id, EventKind::Claimed, Actor::Traveller, details).await?;
    }
    Ok(())
}

/// Attaches guest orders placed since with a verified account's address ("My eSIMs" shows them).
pub async fn claim_verified_orders(pool: &Pool, user: &User) -> Result<()> {
    if !db::account_tokens::is_verified(pool, user.id).await? {
        return Ok(());
    }
    let mut tx = pool.begin().await?;
    claim(&mut tx, user).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn is_verified(pool: &Pool, user_id: Uuid) -> Result<bool> {
    Ok(db::account_tokens::is_verified(pool, user_id).await?)
}

/// Queues a reset link if the address has an account; the same answer either way.
pub async fn request_reset(pool: &Pool, ip: Option<&str>, raw: &str) -> Result<()> {
    let email = Email::parse(raw).map_err(|m| Error::invalid("email", m))?;
    find_order::rate_limit(pool, "reset_password", ip, &email).await?;
    if let Some((user, _)) = db::users::find_with_hash(pool, email.as_str()).await? {
        let mut tx = pool.begin().await?;
        mail::queue_message(&mut tx, json!({ "message": RESET, "user_id": user.id })).await?;
        tx.commit().await?;
    }
    Ok(())
}

/// Whether a reset link still works (the form is shown only then).
pub async fn reset_link_works(pool: &Pool, raw_token: &str) -> Result<bool> {
    Ok(db::account_tokens::is_live(pool, RESET, &token::digest(raw_token)).await?)
}

/// Sets a new password through a reset link, once.
pub async fn reset_password(pool: &Pool, ip: Option<&str>, raw_token: &str, password: &str) -> Result<User> {
    check_password(password).map_err(|m| Error::invalid("password", m))?;
    let hash = accounts::hash_password(password.to_string()).await?;
    let mut tx = pool.begin().await?;
    let user_id =
        db::account_tokens::consume(&mut *tx, RESET, &token::digest(raw_token)).await?.ok_or_else(dead_link)?;
    db::account_tokens::retire(&mut *tx, user_id, RESET).await?;
    db::account_tokens::set_password(&mut *tx, user_id, &hash).await?;
    // Whoever reset the password proved they read the address's mail.
    db::account_tokens::mark_verified(&mut *tx, user_id).await?;
    let user = db::users::find(&mut *tx, user_id).await?.ok_or_else(dead_link)?;
    // A new password ends every session and API token the old one opened (ASVS V3.3.3).
    let sessions = db::logins::revoke_all(&mut *tx, user_id).await?;
    let tokens = db::logins::revoke_all_tokens(&mut *tx, user_id).await?;
    let entry = AuditEntry {
        user: Some(&user),
        action: "password_reset",
        target: None,
        details: json!({ "sessions_ended": sessions, "api_tokens_revoked": tokens }),
        ip: ip.map(String::from),
    };
    db::users::audit(&mut *tx, entry).await?;
    tx.commit().await?;
    Ok(user)
}
