//! Buying an order's eSIM from Telnyx, step by step, each step safe to repeat: purchase (or
//! adopt a SIM an interrupted attempt already bought) → store the SIM → set its data limit →
//! fetch the activation code → store it encrypted → order `ready`.

use std::time::Duration;

use serde_json::json;
use uuid::Uuid;

use super::jobs::{ClaimedJob, Completion, JobError};
use super::lifecycle;
use crate::clients::telnyx::{SimCard, TelnyxClient, TelnyxError};
use crate::crypto::Cipher;
use crate::db::{self, Pool};
use crate::domain::lpa::ActivationCode;
use crate::domain::{Actor, EventKind, OrderStatus};
use crate::error::{Error, Result};

/// What provisioning needs.
#[derive(Clone)]
pub struct Provisioner {
    pub telnyx: TelnyxClient,
    pub cipher: Cipher,
    /// `TELNYX_SIM_CARD_GROUP_ID`: used when the plan names no group of its own.
    pub default_group: Option<String>,
    /// After an ambiguous purchase, how long to keep looking the tag up before buying again
    /// (how fast a new SIM shows in tag searches is not documented).
    pub tag_grace: Duration,
}

impl From<TelnyxError> for JobError {
    fn from(e: TelnyxError) -> Self {
        match e {
            TelnyxError::Retryable { reason, retry_after } => JobError::Retry { reason, after: retry_after },
            TelnyxError::Permanent { status, code, detail } => {
                JobError::Fail { reason: format!("Telnyx refused ({status} {code}): {detail}") }
            }
        }
    }
}

/// The Telnyx tag that marks an order's purchase.
pub fn tag_for(order_id: Uuid) -> String {
    format!("tern-order-{}", order_id.simple())
}

/// Runs the `provision_esim` job of `order_id`. The move to `ready` marks the job done in its
/// own transaction (`Completion::Recorded`); any other way out (nothing to do: already ready,
/// refunded, not paid...) leaves that to the runner.
pub async fn provision(pool: &Pool, p: &Provisioner, job: &ClaimedJob, order_id: Uuid) -> Result<Completion, JobError> {
    let mut tx = pool.begin().await?;
    let order = db::orders::lock(&mut *tx, order_id).await?.ok_or(JobError::Fail { reason: "no such order".into() })?;
    let plan_id = order.plan_id;
    match order.status {
        OrderStatus::Paid | OrderStatus::ProvisioningFailed => {
            let kind = if order.status == OrderStatus::Paid {
                EventKind::ProvisioningStarted
            } else {
                EventKind::ProvisioningRetried
            };
            let moved =
                lifecycle::transition_locked(&mut tx, order, OrderStatus::Provisioning, kind, Actor::System, json!({}));
            if moved.await?.is_none() {
                return Ok(Completion::Pending);
            }
        }
        OrderStatus::Provisioning => {}
        OrderStatus::Refunded => {
            drop(tx);
            disable_if_bought(pool, p, order_id).await?;
            return Ok(Completion::Pending);
        }
        _ => return Ok(Completion::Pending),
    }

    let tag = tag_for(order_id);
    let mut esim = db::esims::find_or_create(&mut *tx, order_id, &tag).await?;
    let (data_mb, plan_group) = db::catalogue::provisioning_facts(&mut *tx, plan_id).await?;
    // A first attempt is marked in the transaction that holds the order's row (no refund can
    // come in between), committed before the purchase request leaves.
    let first_attempt = esim.telnyx_sim_id.is_none() && esim.purchase_attempted_at.is_none();
    if first_attempt && !db::esims::mark_purchase_attempted(&mut *tx, order_id).await? {
        return Ok(Completion::Pending);
    }
    tx.commit().await?;

    if esim.telnyx_sim_id.is_none() {
        // Never two eSIMs for one order: after an attempt whose outcome is unknown, a SIM
        // already tagged with the order is adopted, not bought again. Before any attempt there
        // is nothing to find (a refund that came meanwhile is seen where the attempt is marked).
        let found = match esim.purchase_attempted_at {
            Some(_) if refunded_meanwhile(pool, order_id).await? => return Ok(Completion::Pending),
            Some(_) => p.telnyx.list_sims_by_tag(&tag).await?,
            None => Vec::new(),
        };
        if found.len() > 1 {
            tracing::error!(order.id = %order_id, count = found.len(), "several SIMs carry this order's tag");
        }
        let (sim, kind) = match found.into_iter().next() {
            Some(sim) => (sim, EventKind::EsimAdopted),
            None => match purchase(pool, p, order_id, &esim, first_attempt, plan_group, &tag).await? {
                Some(sim) => (sim, EventKind::EsimPurchased),
                None => return Ok(Completion::Pending),
            },
        };
        store_sim(pool, order_id, &sim, kind, Actor::System).await?;
        esim.telnyx_sim_id = Some(sim.id);
        esim.iccid = Some(sim.iccid);
        esim.telnyx_status = Some(sim.status);
    }
    let sim_id = esim.telnyx_sim_id.clone().unwrap_or_default();
    let iccid = esim.iccid.clone().unwrap_or_default();

    // Recorded with the activation code below: setting the same limit again, after a failure
    // in between, is harmless.
    let limit_set = match esim.data_limit_set_at {
        Some(_) => None,
        // The answer is the SIM as it now is: its status needs no read of its own.
        None => Some(db::esims::DataLimitSet {
            mb: data_mb,
            status: match data_mb {
                Some(mb) => Some(p.telnyx.set_data_limit(&sim_id, mb as u32).await?.status),
                None => None,
            },
        }),
    };

    if esim.activation_code_sealed.is_none() {
        let code = p.telnyx.activation_code(&sim_id).await?;
        ActivationCode::parse(&code)
            .map_err(|why| JobError::Fail { reason: format!("Telnyx gave an unusable activation code: {why}") })?;
        let sealed = p.cipher.encrypt(&code, order_id.as_bytes());
        let mut tx = pool.begin().await?;
        let order =
            db::orders::lock(&mut *tx, order_id).await?.ok_or(JobError::Fail { reason: "order vanished".into() })?;
        db::esims::store_activation_code(&mut *tx, order_id, &sealed, limit_set.as_ref()).await?;
        let details = json!({ "iccid": iccid });
        let moved =
            lifecycle::transition_locked(&mut tx, order, OrderStatus::Ready, EventKind::Ready, Actor::System, details);
        let moved = moved.await?;
        let held = moved.is_some() && db::jobs::complete(&mut *tx, job).await?;
        tx.commit().await?;
        let ready = moved.is_some();
        if let Some(paid_at) = moved.and_then(|order| order.paid_at) {
            let waited = time::OffsetDateTime::now_utc() - paid_at;
            metrics::histogram!("tern_paid_to_ready_seconds").record(waited.as_seconds_f64().max(0.0));
        }
        if !ready {
            // Refunded while it was being bought: the SIM must not stay usable.
            disable_if_bought(pool, p, order_id).await?;
            return Ok(Completion::Pending);
        }
        tracing::info!(order.id = %order_id, esim.iccid = %iccid, "eSIM ready");
        return Ok(Completion::Recorded { held });
    }
    Ok(Completion::Pending)
}

/// Records `sim` as the order's eSIM, bought (`EsimPurchased`) or adopted (`EsimAdopted`),
/// with its event, in one transaction.
async fn store_sim(pool: &Pool, order_id: Uuid, sim: &SimCard, kind: EventKind, actor: Actor) -> Result<()> {
    let mut tx = pool.begin().await?;
    db::esims::set_sim(&mut *tx, order_id, &sim.id, &sim.iccid, &sim.status).await?;
    lifecycle::record(&mut tx, order_id, kind, actor, json!({ "iccid": sim.iccid })).await?;
    tx.commit().await?;
    Ok(())
}

/// Adopts `sim` (a SIM tagged for the order) as the order's eSIM, when it has none yet; the
/// order's provisioning job then carries on from it (data limit, activation code).
pub async fn adopt(pool: &Pool, order_id: Uuid, sim: &SimCard, actor: Actor) -> Result<()> {
    let tag = tag_for(order_id);
    if !sim.tags.contains(&tag) {
        return Err(Error::Conflict {
            code: "sim_not_tagged",
            message: "This SIM is not tagged for the order.".into(),
        });
    }
    let esim = db::esims::find_or_create(pool, order_id, &tag).await?;
    if esim.telnyx_sim_id.is_some() {
        return Err(Error::Conflict { code: "has_esim", message: "This order has an eSIM already.".into() });
    }
    store_sim(pool, order_id, sim, EventKind::EsimAdopted, actor).await
}

/// Whether the order was refunded since this run moved it to `provisioning`.
async fn refunded_meanwhile(pool: &Pool, order_id: Uuid) -> Result<bool, JobError> {
    let order = db::orders::find(pool, order_id).await?;
    Ok(order.is_some_and(|o| o.status == OrderStatus::Refunded))
}

/// The `disable_esim` job: disables the SIM of an order refunded after its eSIM was bought.
pub async fn disable_refunded(pool: &Pool, p: &Provisioner, order_id: Uuid) -> Result<(), JobError> {
    match db::orders::find(pool, order_id).await? {
        Some(order) if order.status == OrderStatus::Refunded => disable_if_bought(pool, p, order_id).await,
        _ => Ok(()),
    }
}

/// Disables the SIM of a refunded order, if one was bought and is not disabled yet.
async fn disable_if_bought(pool: &Pool, p: &Provisioner, order_id: Uuid) -> Result<(), JobError> {
    let Some(esim) = db::esims::find(pool, order_id).await? else { return Ok(()) };
    let Some(sim_id) = esim.telnyx_sim_id else { return Ok(()) };
    if esim.telnyx_status.as_deref() == Some("disabled") {
        return Ok(());
    }
    let sim = p.telnyx.disable(&sim_id).await?;
    let mut tx = pool.begin().await?;
    db::esims::set_status(&mut *tx, order_id, &sim.status).await?;
    let details = json!({ "status": sim.status, "reason": "refunded" });
    lifecycle::record(&mut tx, order_id, EventKind::SimDisabled, Actor::System, details).await?;
    tx.commit().await?;
    tracing::warn!(order.id = %order_id, esim.iccid = %sim.iccid, "the order was refunded: its SIM is disabled");
    Ok(())
}

/// Buys the order's SIM, unless an earlier attempt's may still show up in tag searches. `None`
/// when the order was refunded meanwhile: nothing is bought. A first attempt (`first`) was
/// marked already, with the order's move to `provisioning`.
async fn purchase(
    pool: &Pool,
    p: &Provisioner,
    order_id: Uuid,
    esim: &db::esims::EsimRow,
    first: bool,
    plan_group: Option<Uuid>,
    tag: &str,
) -> Result<Option<SimCard>, JobError> {
    if let Some(attempted) = esim.purchase_attempted_at {
        let since = (time::OffsetDateTime::now_utc() - attempted).unsigned_abs();
        if since < p.tag_grace {
            return Err(JobError::Retry {
                reason: "an earlier purchase may still appear in tag searches".into(),
                after: Some(p.tag_grace - since),
            });
        }
    }
    if !first && !db::esims::mark_purchase_attempted(pool, order_id).await? {
        return Ok(None);
    }
    let group = plan_group.map(|g| g.to_string()).or_else(|| p.default_group.clone());
    let purchase = p.telnyx.purchase_esims(1, group.as_deref(), &[tag.to_string()]).await?;
    let Some(sim) = purchase.sims.into_iter().next() else {
        let codes: Vec<String> = purchase.errors.iter().map(|e| format!("{} {}", e.code, e.title)).collect();
        let reason = if purchase.errors.iter().any(|e| e.code == "70001") {
            "Telnyx is out of eSIM inventory (70001)".to_string()
        } else {
            format!("Telnyx bought nothing: {}", codes.join("; "))
        };
        return Err(JobError::Fail { reason });
    };
    Ok(Some(sim))
}
