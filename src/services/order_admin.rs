//! What operators do to an order. Each action is an order event naming the operator and an
//! audit-log entry with their address; money and service moves are for admins only.

use serde_json::json;
use uuid::Uuid;

pub use super::Operator;
use super::checkout::Payments;
use super::esim::sim_id;
use super::lifecycle;
use super::provisioning::Provisioner;
use crate::db::{self, Pool};
use crate::domain::order::Order;
use crate::domain::{EventKind, Money, OrderStatus};
use crate::error::{Error, Result};

async fn load(pool: &Pool, id: Uuid) -> Result<Order> {
    db::orders::find(pool, id).await?.ok_or(Error::NotFound("order"))
}

/// The operator's event on the order's timeline and its audit entry, in one transaction.
async fn record(
    pool: &Pool,
    op: &Operator<'_>,
    order: Uuid,
    kind: EventKind,
    details: serde_json::Value,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    lifecycle::record(&mut tx, order, kind, op.actor(), details.clone()).await?;
    op.audit(&mut tx, kind.as_str(), format!("order:{order}"), details).await?;
    tx.commit().await?;
    Ok(())
}

/// A paid order still without its eSIM this long after payment is stuck, and may be retried.
pub const STUCK_AFTER: time::Duration = time::Duration::minutes(10);

/// Runs provisioning again for a failed order, or a stuck one (paid over [`STUCK_AFTER`] ago).
pub async fn retry_provisioning(pool: &Pool, op: &Operator<'_>, id: Uuid) -> Result<()> {
    let order = load(pool, id).await?;
    let stuck = matches!(order.status, OrderStatus::Paid | OrderStatus::Provisioning)
        && order.paid_at.is_some_and(|at| time::OffsetDateTime::now_utc() - at > STUCK_AFTER);
    if order.status != OrderStatus::ProvisioningFailed && !stuck {
        return Err(Error::Conflict {
            code: "not_failed",
            message: "Only an order whose provisioning failed, or paid over 10 minutes ago and still without \
                      its eSIM, can be retried."
                .into(),
        });
    }
    db::jobs::requeue(pool, db::jobs::PROVISION_ESIM, id).await?;
    record(pool, op, id, EventKind::ProvisioningRetryRequested, json!({})).await
}

/// Reads the SIM's status from Telnyx now.
pub async fn refresh_sim(pool: &Pool, provisioner: &Provisioner, op: &Operator<'_>, id: Uuid) -> Result<String> {
    let status = super::esim::read_status(pool, provisioner, id).await?;
    record(pool, op, id, EventKind::SimStatusRefreshed, json!({ "status": status })).await?;
    Ok(status)
}

/// Enables or disables the SIM (admin), following Telnyx's action to its end.
pub async fn set_sim_enabled(
    pool: &Pool,
    provisioner: &Provisioner,
    op: &Operator<'_>,
    id: Uuid,
    enable: bool,
) -> Result<()> {
    op.require_admin("Only an admin may do this.")?;
    let sim = sim_id(db::esims::find(pool, id).await?)?;
    let card = if enable { provisioner.telnyx.enable(&sim).await } else { provisioner.telnyx.disable(&sim).await }?;
    db::esims::set_status(pool, id, &card.status).await?;
    let kind = if enable { EventKind::SimEnabled } else { EventKind::SimDisabled };
    record(pool, op, id, kind, json!({ "status": card.status })).await
}

/// How much can still be refunded.
pub async fn refundable(pool: &Pool, order: &Order) -> Result<Money> {
    let refunded = db::orders::refunded(pool, order.id).await?;
    Ok(Money::new(order.amount.minor - refunded, order.amount.currency.clone()))
}

/// Refunds `amount` minor units (all that remains when `None`) through Stripe (admin). A full
/// refund moves the order to `refunded`, which queues the disabling of its SIM.
pub async fn refund(
    pool: &Pool,
    payments: &Payments,
    op: &Operator<'_>,
    id: Uuid,
    amount: Option<i64>,
) -> Result<Money> {
    op.require_admin("Only an admin may do this.")?;
    let order = load(pool, id).await?;
    let payment_intent = order
        .stripe_payment_intent_id
        .clone()
        .filter(|_| order.status.is_paid())
        .ok_or(Error::Conflict { code: "not_paid", message: "Only a paid order can be refunded.".into() })?;
    let remaining = refundable(pool, &order).await?;
    let amount = amount.unwrap_or(remaining.minor);
    if amount <= 0 || remaining.minor <= 0 {
        return Err(Error::invalid("amount", "There is nothing left to refund."));
    }
    if amount > remaining.minor {
        return Err(Error::invalid("amount", format!("At most {remaining} can be refunded.")));
    }
    let refunded_before = order.amount.minor - remaining.minor;
    // The key names the refund by what was refunded before it: a retried click is not a second refund.
    let key = format!("refund-{}-{refunded_before}-{amount}", order.id);
    let refund_id = payments.stripe.refund(&payment_intent, Some(amount), &key).await?;
    let full = amount == remaining.minor;
    let mut tx = pool.begin().await?;
    db::orders::lock(&mut *tx, id).await?.ok_or(Error::NotFound("order"))?;
    // Stripe's charge.refunded webhook may have recorded it already: both speak in cumulative totals.
    db::orders::set_refunded_at_least(&mut *tx, id, refunded_before + amount).await?;
    let details =
        json!({ "amount": amount, "currency": order.amount.currency, "stripe_refund": refund_id, "full": full });
    lifecycle::record(&mut tx, id, EventKind::RefundRequested, op.actor(), details.clone()).await?;
    if full {
        let (to, kind) = (OrderStatus::Refunded, EventKind::Refunded);
        lifecycle::transition(&mut tx, id, to, kind, op.actor(), details.clone()).await?;
    }
    op.audit(&mut tx, "refund", format!("order:{id}"), details).await?;
    tx.commit().await?;
    Ok(Money::new(amount, order.amount.currency))
}

/// Cancels an unpaid order by expiring its Checkout Session (admin).
pub async fn cancel_unpaid(pool: &Pool, payments: &Payments, op: &Operator<'_>, id: Uuid) -> Result<()> {
    op.require_admin("Only an admin may do this.")?;
    let order = load(pool, id).await?;
    super::cancellation::cancel_unpaid(pool, payments, &order, op.actor(), Some(op)).await?;
    Ok(())
}

/// An internal note on the order's timeline (hidden from the traveller).
pub async fn add_note(pool: &Pool, op: &Operator<'_>, id: Uuid, text: &str) -> Result<()> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::invalid("note", "Write something first."));
    }
    if text.chars().count() > 2000 {
        return Err(Error::invalid("note", "Keep notes under 2,000 characters."));
    }
    load(pool, id).await?;
    record(pool, op, id, EventKind::Note, json!({ "text": text })).await
}
