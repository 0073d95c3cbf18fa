//! What operators do to an order. Each action is an order event naming the operator and an
//! audit-log entry with their address; money and service moves are for admins only.

use sqlx::PgPool;
use uuid::Uuid;

pub use super::Operator;
use super::checkout::Payments;
use super::provisioning::Provisioner;
use crate::db;
use crate::domain::order::Order;
use crate::domain::{Money, OrderStatus};
use crate::error::{Error, Result};

async fn load(pool: &PgPool, id: Uuid) -> Result<Order> {
    db::orders::find(&mut *pool.acquire().await?, id).await?.ok_or(Error::NotFound("order"))
}

async fn record(pool: &PgPool, op: &Operator<'_>, order: Uuid, kind: &str, details: serde_json::Value) -> Result<()> {
    let mut tx = pool.begin().await?;
    db::orders::add_event_by(&mut tx, order, kind, op.user.id, details.clone()).await?;
    op.audit(&mut tx, kind, format!("order:{order}"), details).await?;
    tx.commit().await?;
    Ok(())
}

/// Runs provisioning again for a failed order.
pub async fn retry_provisioning(pool: &PgPool, op: &Operator<'_>, id: Uuid) -> Result<()> {
    let order = load(pool, id).await?;
    if order.status != OrderStatus::ProvisioningFailed {
        return Err(Error::Conflict {
            code: "not_failed",
            message: "Only an order whose provisioning failed can be retried.".into(),
        });
    }
    db::jobs::requeue(&mut *pool.acquire().await?, db::jobs::PROVISION_ESIM, id).await?;
    record(pool, op, id, "provisioning_retry_requested", serde_json::json!({})).await
}

fn sim_id(esim: Option<db::esims::EsimRow>) -> Result<String> {
    esim.and_then(|e| e.telnyx_sim_id)
        .ok_or(Error::Conflict { code: "no_esim", message: "This order has no eSIM yet.".into() })
}

/// Reads the SIM's status from Telnyx now.
pub async fn refresh_sim(pool: &PgPool, provisioner: &Provisioner, op: &Operator<'_>, id: Uuid) -> Result<String> {
    let sim = sim_id(db::esims::find(&mut *pool.acquire().await?, id).await?)?;
    let card = provisioner.telnyx.get_sim(&sim).await.map_err(|e| Error::Upstream(e.to_string()))?;
    db::esims::set_status(&mut *pool.acquire().await?, id, &card.status).await?;
    record(pool, op, id, "sim_status_refreshed", serde_json::json!({ "status": card.status })).await?;
    Ok(card.status)
}

/// Enables or disables the SIM (admin), following Telnyx's action to its end.
pub async fn set_sim_enabled(
    pool: &PgPool,
    provisioner: &Provisioner,
    op: &Operator<'_>,
    id: Uuid,
    enable: bool,
) -> Result<()> {
    op.require_admin("Only an admin may do this.")?;
    let sim = sim_id(db::esims::find(&mut *pool.acquire().await?, id).await?)?;
    let card = if enable { provisioner.telnyx.enable(&sim).await } else { provisioner.telnyx.disable(&sim).await }
        .map_err(|e| Error::Upstream(e.to_string()))?;
    db::esims::set_status(&mut *pool.acquire().await?, id, &card.status).await?;
    let kind = if enable { "sim_enabled" } else { "sim_disabled" };
    record(pool, op, id, kind, serde_json::json!({ "status": card.status })).await
}

/// How much can still be refunded.
pub async fn refundable(pool: &PgPool, order: &Order) -> Result<Money> {
    let refunded = db::orders::refunded(&mut *pool.acquire().await?, order.id).await?;
    Ok(Money::new(order.amount.minor - refunded, order.amount.currency.clone()))
}

/// Refunds `amount` minor units (all that remains when `None`) through Stripe (admin). A full
/// refund moves the order to `refunded` and disables its SIM.
pub async fn refund(
    pool: &PgPool,
    payments: &Payments,
    provisioner: &Provisioner,
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
    let refund_id = payments
        .stripe
        .refund(&payment_intent, Some(amount), &key)
        .await
        .map_err(|e| Error::Upstream(e.to_string()))?;
    let full = amount == remaining.minor;
    let mut tx = pool.begin().await?;
    let current = db::orders::lock(&mut tx, id).await?.ok_or(Error::NotFound("order"))?;
    // Stripe's charge.refunded webhook may have recorded it already: both speak in cumulative totals.
    db::orders::set_refunded_at_least(&mut tx, id, refunded_before + amount).await?;
    let details = serde_json::json!({ "amount": amount, "currency": order.amount.currency, "stripe_refund": refund_id, "full": full });
    db::orders::add_event_by(&mut tx, id, "refund_requested", op.user.id, details.clone()).await?;
    if full && current.status.can_become(OrderStatus::Refunded) {
        db::orders::set_status(&mut tx, id, OrderStatus::Refunded).await?;
        db::orders::add_event_by(&mut tx, id, "refunded", op.user.id, details.clone()).await?;
    }
    op.audit(&mut tx, "refund", format!("order:{id}"), details).await?;
    tx.commit().await?;
    if full && let Ok(sim) = sim_id(db::esims::find(&mut *pool.acquire().await?, id).await?) {
        match provisioner.telnyx.disable(&sim).await {
            Ok(card) => {
                db::esims::set_status(&mut *pool.acquire().await?, id, &card.status).await?;
                record(
                    pool,
                    op,
                    id,
                    "sim_disabled",
                    serde_json::json!({ "status": card.status, "reason": "refunded" }),
                )
                .await?;
            }
            Err(e) => tracing::error!(order.id = %id, error = %e, "refunded, but the SIM could not be disabled"),
        }
    }
    Ok(Money::new(amount, order.amount.currency))
}

/// Cancels an unpaid order by expiring its Checkout Session (admin).
pub async fn cancel_unpaid(pool: &PgPool, payments: &Payments, op: &Operator<'_>, id: Uuid) -> Result<()> {
    op.require_admin("Only an admin may do this.")?;
    let order = load(pool, id).await?;
    if order.status != OrderStatus::AwaitingPayment {
        return Err(Error::Conflict {
            code: "not_unpaid",
            message: "Only an order awaiting payment can be cancelled.".into(),
        });
    }
    if let Some(session) = &order.stripe_session_id {
        payments.stripe.expire_session(session).await.map_err(|e| Error::Upstream(e.to_string()))?;
    }
    let mut tx = pool.begin().await?;
    let current = db::orders::lock(&mut tx, id).await?.ok_or(Error::NotFound("order"))?;
    if current.status.can_become(OrderStatus::Expired) {
        db::orders::set_status(&mut tx, id, OrderStatus::Expired).await?;
    }
    tx.commit().await?;
    record(pool, op, id, "cancelled", serde_json::json!({})).await
}

/// An internal note on the order's timeline (hidden from the traveller).
pub async fn add_note(pool: &PgPool, op: &Operator<'_>, id: Uuid, text: &str) -> Result<()> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::invalid("note", "Write something first."));
    }
    if text.chars().count() > 2000 {
        return Err(Error::invalid("note", "Keep notes under 2,000 characters."));
    }
    load(pool, id).await?;
    record(pool, op, id, "note", serde_json::json!({ "text": text })).await
}
