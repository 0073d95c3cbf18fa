//! Showing an eSIM's activation code to an operator: never by default (the admin order page
//! masks it), only on request with a reason, and every reveal is an audit-log entry naming
//! who, when, from where and why.

use uuid::Uuid;

use super::Operator;
use crate::crypto::Cipher;
use crate::db::{self, Pool};
use crate::domain::lpa::ActivationCode;
use crate::error::{Error, Result};

/// What the audit log calls a reveal.
pub const AUDIT_ACTION: &str = "activation_code_revealed";
const MAX_REASON: usize = 500;

/// The order's activation code, for `op`, who gave `reason`; audited in the same transaction.
pub async fn reveal(pool: &Pool, cipher: &Cipher, op: &Operator<'_>, id: Uuid, reason: &str) -> Result<ActivationCode> {
    let reason = reason.trim();
    if reason.chars().count() < 5 {
        return Err(Error::invalid("reason", "Say why you need the code (a ticket number, say)."));
    }
    if reason.chars().count() > MAX_REASON {
        return Err(Error::invalid("reason", format!("Keep the reason under {MAX_REASON} characters.")));
    }
    let esim = db::esims::find(pool, id).await?.ok_or(Error::NotFound("eSIM"))?;
    let sealed = esim.activation_code_sealed.ok_or(Error::NotFound("activation code"))?;
    let plain = cipher.decrypt(&sealed, id.as_bytes()).map_err(|e| anyhow::anyhow!("activation code: {e}"))?;
    let code = ActivationCode::parse(&plain).map_err(|e| anyhow::anyhow!("stored activation code: {e}"))?;
    let mut tx = pool.begin().await?;
    op.audit(&mut tx, AUDIT_ACTION, format!("order:{id}"), serde_json::json!({ "reason": reason })).await?;
    tx.commit().await?;
    tracing::info!(order.id = %id, user.id = %op.user.id, "an operator revealed an activation code");
    Ok(code)
}
