//! "Find my order" (`/orders/find`): one email listing every order of an address, with their
//! links. The answer is the same whether or not the address has orders; requests are limited
//! per address and per client IP (counted in PostgreSQL, shared by every process).

use serde_json::json;

use super::mail;
use crate::db::{self, Pool};
use crate::domain::Email;
use crate::error::{Error, Result};

/// Requests allowed per window, per address and per client IP.
pub const PER_ADDRESS: i64 = 3;
pub const PER_IP: i64 = 10;
pub const WINDOW_SECONDS: f64 = 3600.0;

const SLOW_DOWN: &str = "Too many requests. Please wait an hour and try again, or check the emails you already have.";

/// Counts a request from `ip` (and for the address): refused once either is over its limit.
pub async fn rate_limit(pool: &Pool, scope: &str, ip: Option<&str>, email: &Email) -> Result<()> {
    let per_ip = match ip {
        Some(ip) => db::users::count_attempt(pool, &format!("{scope}:ip:{ip}"), WINDOW_SECONDS).await?,
        None => 0,
    };
    let address = email.as_str().to_lowercase();
    let per_address = db::users::count_attempt(pool, &format!("{scope}:email:{address}"), WINDOW_SECONDS).await?;
    if per_ip > PER_IP || per_address > PER_ADDRESS {
        return Err(Error::RateLimited(SLOW_DOWN));
    }
    Ok(())
}

/// Queues the list of the address's orders if it has any; nothing otherwise. The caller shows
/// the same page either way.
pub async fn request(pool: &Pool, ip: Option<&str>, raw: &str) -> Result<Email> {
    let email = Email::parse(raw).map_err(|m| Error::invalid("email", m))?;
    rate_limit(pool, "find_orders", ip, &email).await?;
    if !db::mail::order_ids_for_email(pool, email.as_str()).await?.is_empty() {
        let mut tx = pool.begin().await?;
        mail::queue_message(&mut tx, json!({ "message": mail::kinds::FIND_ORDERS, "to": email.as_str() })).await?;
        tx.commit().await?;
    }
    tracing::info!(email.domain = email.domain(), "order look-up requested");
    Ok(email)
}
