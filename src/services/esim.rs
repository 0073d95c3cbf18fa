//! An order's eSIM as its holder sees it: the activation code, decrypted from storage.

use crate::db::Pool;

use crate::crypto::Cipher;
use crate::db;
use crate::domain::OrderStatus;
use crate::domain::lpa::ActivationCode;
use crate::domain::order::Order;
use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub struct EsimDetails {
    pub iccid: String,
    /// Telnyx's status when last seen (`enabled`, ...).
    pub status: String,
    pub code: ActivationCode,
}

/// The eSIM of a ready order; `Ok(None)` while it is not ready.
pub async fn details(pool: &Pool, cipher: &Cipher, order: &Order) -> Result<Option<EsimDetails>> {
    if order.status != OrderStatus::Ready {
        return Ok(None);
    }
    let Some(esim) = db::esims::find(pool, order.id).await? else { return Ok(None) };
    let Some(sealed) = esim.activation_code_sealed else { return Ok(None) };
    let plain = cipher.decrypt(&sealed, order.id.as_bytes()).map_err(|e| anyhow::anyhow!("activation code: {e}"))?;
    let code = ActivationCode::parse(&plain).map_err(|e| anyhow::anyhow!("stored activation code: {e}"))?;
    Ok(Some(EsimDetails {
        iccid: esim.iccid.unwrap_or_default(),
        status: esim.telnyx_status.unwrap_or_default(),
        code,
    }))
}

/// Like [`details`], but not being ready is an error (409 for the API).
pub async fn require(pool: &Pool, cipher: &Cipher, order: &Order) -> Result<EsimDetails> {
    details(pool, cipher, order).await?.ok_or_else(|| Error::Conflict {
        code: "esim_not_ready",
        message: format!("The eSIM is not ready yet; the order is {}.", order.status),
    })
}
