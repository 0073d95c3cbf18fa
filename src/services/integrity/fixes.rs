//! The one-click fixes of the report's findings, each through the service that owns the move
//! (`payments::fulfil_checkout`, `payments::record_refund`, `order_admin`, provisioning's
//! `adopt`, so every order change goes through `lifecycle`), each audited as
//! `integrity.<fix>`. A fixed finding leaves the stored report at once.

use serde_json::json;
use uuid::Uuid;

use super::{Finding, FindingKind, Fix, finding_of};
use crate::db::{self, Pool};
use crate::domain::OrderStatus;
use crate::error::{Error, Result};
use crate::services::Operator;
use crate::services::checkout::Payments;
use crate::services::order_admin;
use crate::services::payments::{self, Fulfilment};
use crate::services::provisioning::{self, Provisioner};

fn conflict(code: &'static str, message: &str) -> Error {
    Error::Conflict { code, message: message.to_string() }
}

/// Applies the fix of the latest report's finding `key`; returns the fix and what was done,
/// for people.
pub async fn fix(
    pool: &Pool,
    payments: &Payments,
    provisioner: &Provisioner,
    op: &Operator<'_>,
    key: &str,
) -> Result<(Fix, &'static str)> {
    let key = key.trim();
    if key.is_empty() || key.len() > 200 {
        return Err(Error::invalid("finding", "Name a finding of the integrity report."));
    }
    let row = db::integrity::latest_finding(pool, key).await?.ok_or(Error::NotFound("finding"))?;
    let finding = finding_of(row).ok_or(Error::NotFound("finding"))?;
    if finding.fix.needs_admin() {
        op.require_admin("Only an admin may do this.")?;
    }
    let order = finding.order_id;
    let need_order = || order.ok_or_else(|| conflict("no_order", "This finding names no order."));
    let done = match finding.fix {
        Fix::ConfirmPayment => confirm_payment(pool, payments, need_order()?).await?,
        Fix::RetryProvisioning => {
            order_admin::retry_provisioning(pool, op, need_order()?).await?;
            "Provisioning queued again."
        }
        Fix::ApplyRefund => apply_refund(pool, &finding).await?,
        Fix::AdoptSim => adopt(pool, provisioner, op, &finding).await?,
        Fix::DisableSim => disable(pool, provisioner, op, &finding).await?,
    };
    let mut conn = pool.acquire().await?;
    let target = match (&finding.order_id, &finding.sim_id) {
        (Some(id), _) => format!("order:{id}"),
        (None, Some(sim)) => format!("sim:{sim}"),
        (None, None) => key.to_string(),
    };
    let details = json!({ "finding": key, "kind": finding.kind.as_str(), "sim": finding.sim_id });
    op.audit(&mut conn, &format!("integrity.{}", finding.fix.as_str()), target, details).await?;
    db::integrity::remove_latest_finding(&mut *conn, key).await?;
    Ok((finding.fix, done))
}

/// Confirms the payment from Stripe's own record of the session, as the webhook would.
async fn confirm_payment(pool: &Pool, payments: &Payments, id: Uuid) -> Result<&'static str> {
    let order = db::orders::find(pool, id).await?.ok_or(Error::NotFound("order"))?;
    let session =
        order.stripe_session_id.ok_or_else(|| conflict("no_session", "This order has no checkout session."))?;
    match payments::fulfil_checkout(pool, payments, &session).await? {
        Fulfilment::Paid => Ok("Payment confirmed; the eSIM is being prepared."),
        Fulfilment::AlreadyDone => Ok("The payment was confirmed already."),
        Fulfilment::NotPaid => Err(conflict("not_paid", "Stripe does not report this order paid.")),
        Fulfilment::Flagged => Err(conflict("flagged", "Stripe's amount differs: the order is held for review.")),
        Fulfilment::UnknownSession => Err(conflict("unknown_session", "Stripe does not know this session.")),
    }
}

/// Records the refund Stripe reported, as its `charge.refunded` would have; a full refund
/// then queues the disabling of the order's SIM (the lifecycle owner does).
async fn apply_refund(pool: &Pool, f: &Finding) -> Result<&'static str> {
    let id = f.order_id.ok_or_else(|| conflict("no_order", "This finding names no order."))?;
    let pi = f.details["payment_intent"].as_str().unwrap_or_default();
    let amount = f.details["amount_refunded"].as_i64().unwrap_or(0);
    let full = f.details["full"].as_bool().unwrap_or(false);
    let mut tx = pool.begin().await?;
    payments::record_refund(&mut tx, pi, Some(id), amount, full).await?;
    tx.commit().await?;
    if full && live_sim(pool, id).await?.is_some() {
        return Ok("Refund applied; the SIM is being disabled.");
    }
    Ok("Refund applied.")
}

/// The order's recorded SIM, unless it is disabled.
async fn live_sim(pool: &Pool, id: Uuid) -> Result<Option<String>> {
    let esim = db::esims::find(pool, id).await?;
    Ok(esim.filter(|e| e.telnyx_status.as_deref() != Some("disabled")).and_then(|e| e.telnyx_sim_id))
}

/// Adopts the tagged SIM as the order's eSIM (re-read from Telnyx first), and lets its
/// provisioning carry on from it.
async fn adopt(pool: &Pool, provisioner: &Provisioner, op: &Operator<'_>, f: &Finding) -> Result<&'static str> {
    let id = f.order_id.ok_or_else(|| conflict("no_order", "This finding names no order."))?;
    let sim = f.sim_id.as_deref().ok_or_else(|| conflict("no_sim", "This finding names no SIM."))?;
    let card = provisioner.telnyx.get_sim(sim).await?;
    provisioning::adopt(pool, id, &card, op.actor()).await?;
    carry_on(pool, op, id).await?;
    Ok("SIM adopted; provisioning carries on from it.")
}

/// Queues the provisioning of an order that adopted a SIM again, unless its job is in flight
/// (which then finds the SIM itself).
async fn carry_on(pool: &Pool, op: &Operator<'_>, id: Uuid) -> Result<()> {
    match order_admin::retry_provisioning(pool, op, id).await {
        Err(Error::Conflict { code: "not_failed", .. }) => Ok(()),
        other => other,
    }
}

/// Disables the SIM: the order's own through `order_admin`, a stray one directly, or every
/// SIM of an order with several but the one it keeps.
async fn disable(pool: &Pool, provisioner: &Provisioner, op: &Operator<'_>, f: &Finding) -> Result<&'static str> {
    match f.kind {
        FindingKind::RefundedSimEnabled | FindingKind::ReadyUnpaid => {
            let id = f.order_id.ok_or_else(|| conflict("no_order", "This finding names no order."))?;
            order_admin::set_sim_enabled(pool, provisioner, op, id, false).await?;
            Ok("SIM disabled.")
        }
        FindingKind::StraySim => {
            let sim = f.sim_id.as_deref().ok_or_else(|| conflict("no_sim", "This finding names no SIM."))?;
            provisioner.telnyx.disable(sim).await?;
            Ok("Stray SIM disabled.")
        }
        FindingKind::TwoSims => {
            let id = f.order_id.ok_or_else(|| conflict("no_order", "This finding names no order."))?;
            let sims: Vec<String> = f.details["sims"]
                .as_array()
                .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
                .unwrap_or_default();
            let order = db::orders::find(pool, id).await?;
            let recorded = db::esims::find(pool, id).await?.and_then(|e| e.telnyx_sim_id);
            let keep = match (&order, recorded) {
                (_, Some(recorded)) => Some(recorded),
                // None recorded: the first is adopted if the order still wants one.
                (Some(o), None)
                    if matches!(
                        o.status,
                        OrderStatus::Paid | OrderStatus::Provisioning | OrderStatus::ProvisioningFailed
                    ) =>
                {
                    let first = sims.first().ok_or_else(|| conflict("no_sim", "This finding names no SIM."))?;
                    let card = provisioner.telnyx.get_sim(first).await?;
                    provisioning::adopt(pool, id, &card, op.actor()).await?;
                    carry_on(pool, op, id).await?;
                    Some(first.clone())
                }
                _ => None,
            };
            for sim in sims.iter().filter(|s| Some(*s) != keep.as_ref()) {
                provisioner.telnyx.disable(sim).await?;
            }
            Ok("The extra SIMs are disabled.")
        }
        _ => Err(conflict("no_sim", "This finding has no SIM to disable.")),
    }
}
