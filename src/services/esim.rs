//! An order's eSIM as its holder sees it: the activation code, decrypted from storage; its
//! SIM status, read again from Telnyx on request; and an account's eSIMs.

use serde_json::json;
use uuid::Uuid;

use super::lifecycle;
use super::provisioning::Provisioner;
use crate::db::Pool;
use crate::domain::{Actor, EventKind};

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

/// The Telnyx SIM of an order's eSIM row; 409 `no_esim` before one was bought.
pub(super) fn sim_id(esim: Option<db::esims::EsimRow>) -> Result<String> {
    esim.and_then(|e| e.telnyx_sim_id)
        .ok_or(Error::Conflict { code: "no_esim", message: "This order has no eSIM yet.".into() })
}

/// Reads the order's SIM status from Telnyx now and keeps it (what the admin's "check SIM
/// status" and the traveller's refresh both do).
pub(super) async fn read_status(pool: &Pool, provisioner: &Provisioner, order_id: Uuid) -> Result<String> {
    let sim = sim_id(db::esims::find(pool, order_id).await?)?;
    let card = provisioner.telnyx.get_sim(&sim).await?;
    db::esims::set_status(pool, order_id, &card.status).await?;
    Ok(card.status)
}

/// The status of an order's eSIM as the traveller sees it.
#[derive(Debug, Clone)]
pub struct EsimStatus {
    pub order: Order,
    pub iccid: String,
    /// Telnyx's status when last read (`enabled`, `disabled`, ...).
    pub status: String,
}

/// The traveller's refresh: the SIM's status read again from Telnyx, as an order event.
pub async fn refresh(pool: &Pool, provisioner: &Provisioner, order: &Order) -> Result<EsimStatus> {
    let status = read_status(pool, provisioner, order.id).await?;
    let mut tx = pool.begin().await?;
    let details = json!({ "status": status });
    lifecycle::record(&mut tx, order.id, EventKind::SimStatusRefreshed, Actor::Traveller, details).await?;
    tx.commit().await?;
    let iccid = db::esims::find(pool, order.id).await?.and_then(|e| e.iccid).unwrap_or_default();
    Ok(EsimStatus { order: order.clone(), iccid, status })
}

/// An account's eSIMs (orders with a SIM bought), newest order first: two queries.
pub async fn for_account(pool: &Pool, user_id: Uuid) -> Result<Vec<EsimStatus>> {
    let orders = db::orders::for_user(pool, user_id).await?;
    let ids: Vec<Uuid> = orders.iter().map(|o| o.id).collect();
    let esims = db::esims::for_orders(pool, &ids).await?;
    Ok(orders
        .into_iter()
        .filter_map(|order| {
            let esim = esims.iter().find(|e| e.order_id == order.id && e.telnyx_sim_id.is_some())?;
            Some(EsimStatus {
                iccid: esim.iccid.clone().unwrap_or_default(),
                status: esim.telnyx_status.clone().unwrap_or_default(),
                order,
            })
        })
        .collect())
}
