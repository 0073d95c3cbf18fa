//! API keys for integrators and admins: created from the command line (shown once, stored as
//! SHA-256), used as bearer tokens, listed and revoked by admins.

use uuid::Uuid;

use super::Operator;
use crate::db::{self, Pool};
use crate::domain::token;
use crate::domain::webhook::KeyRole;
use crate::error::{Error, Result};

pub use crate::db::api_keys::ApiKeyRow as ApiKey;

/// Every key starts so: a leaked one is easy to recognise (and to tell from a customer token).
pub const KEY_PREFIX: &str = "tern_key_";
/// How many of a key's characters are kept in the clear to tell keys apart.
const SHOWN: usize = KEY_PREFIX.len() + 6;

/// Creates a key; returns it with the key itself, which is never shown again.
pub async fn create(pool: &Pool, name: &str, role: KeyRole) -> Result<(ApiKey, String)> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::invalid("name", "Name the key (1 to 100 characters), e.g. after the partner using it."));
    }
    let (random, _) = token::generate();
    let key = format!("{KEY_PREFIX}{random}");
    let row = db::api_keys::insert(pool, name, role, &token::digest(&key), &key[..SHOWN]).await?;
    tracing::info!(api_key.id = %row.id, api_key.role = %role, "API key created");
    Ok((row, key))
}

/// Whether a bearer token is shaped like an API key (else it may be a customer's token).
pub fn looks_like_key(bearer: &str) -> bool {
    bearer.starts_with(KEY_PREFIX)
}

/// The live key behind a bearer token.
pub async fn authenticate(pool: &Pool, bearer: &str) -> Result<Option<ApiKey>> {
    if !looks_like_key(bearer) {
        return Ok(None);
    }
    Ok(db::api_keys::use_live(pool, &token::digest(bearer)).await?)
}

pub async fn list(pool: &Pool) -> Result<Vec<ApiKey>> {
    Ok(db::api_keys::list(pool).await?)
}

/// Revokes a key at once (an admin's action, audited).
pub async fn revoke(pool: &Pool, op: &Operator<'_>, id: Uuid) -> Result<()> {
    op.require_admin("Only an admin may revoke API keys.")?;
    let mut tx = pool.begin().await?;
    if !db::api_keys::revoke(&mut *tx, id).await? {
        return Err(Error::NotFound("live API key"));
    }
    op.audit(&mut tx, "api_key.revoke", format!("api_key:{id}"), serde_json::json!({})).await?;
    tx.commit().await?;
    Ok(())
}
