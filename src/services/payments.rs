//! Confirming payments from Stripe's own record: an order becomes `paid` exactly once, unpaid
//! checkouts close, and refunds Stripe reports are recorded.

use serde_json::json;

use super::checkout::Payments;
use super::lifecycle;
use crate::clients::stripe::SessionFacts;
use crate::db::{self, Pool};
use crate::domain::order::Order;
use crate::domain::{Actor, EventKind, OrderStatus};
use crate::error::{Error, Result};

/// What `fulfil_checkout` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fulfilment {
    /// The order moved to `paid` now (exactly one call ever sees this).
    Paid,
    /// Already paid or past it: nothing to do.
    AlreadyDone,
    /// Not paid (yet): a delayed method, or an open session.
    NotPaid,
    /// Amount or currency did not match: flagged for review, not paid.
    Flagged,
    /// No order has this session.
    UnknownSession,
}

/// Confirms a payment from Stripe's own record of the session, never from the caller's word:
/// safe to call any number of times, from the webhook and the success page at once.
pub async fn fulfil_checkout(pool: &Pool, payments: &Payments, session_id: &str) -> Result<Fulfilment> {
    let session = payments.stripe.retrieve_session(session_id).await?;
    let mut tx = pool.begin().await?;
    let Some(found) = db::orders::find_by_session(&mut *tx, &session.id).await? else {
        tracing::warn!(stripe.session = %session.id, "no order for this checkout session");
        return Ok(Fulfilment::UnknownSession);
    };
    // The row lock serialises concurrent confirmations of the same order.
    let order = db::orders::lock(&mut *tx, found.id).await?.ok_or(Error::NotFound("order"))?;
    if order.status != OrderStatus::AwaitingPayment || order.needs_review {
        return Ok(Fulfilment::AlreadyDone);
    }
    if !session.is_paid() {
        if session.status == "complete"
            && !db::order_events::exists(&mut *tx, order.id, EventKind::PaymentPending).await?
        {
            lifecycle::record(&mut tx, order.id, EventKind::PaymentPending, Actor::Stripe, json!({})).await?;
            tx.commit().await?;
        }
        return Ok(Fulfilment::NotPaid);
    }
    if !amount_matches(&order, &session) {
        db::orders::flag_for_review(&mut *tx, order.id).await?;
        let details = json!({
            "reason": "amount or currency mismatch",
            "expected": { "amount": order.amount.minor, "currency": order.amount.currency },
            "stripe": { "amount": session.amount_total, "currency": session.currency },
        });
        lifecycle::record(&mut tx, order.id, EventKind::FlaggedForReview, Actor::System, details).await?;
        tx.commit().await?;
        tracing::error!(order.id = %order.id, "payment does not match the order; flagged for review");
        return Ok(Fulfilment::Flagged);
    }
    db::orders::set_payment_intent(&mut *tx, order.id, session.payment_intent.as_deref()).await?;
    let details =
        json!({ "session_id": session.id, "payment_intent": session.payment_intent, "amount": session.amount_total });
    if lifecycle::transition(&mut tx, order.id, OrderStatus::Paid, EventKind::Paid, Actor::Stripe, details)
        .await?
        .is_none()
    {
        return Ok(Fulfilment::AlreadyDone);
    }
    db::jobs::enqueue(&mut *tx, db::jobs::PROVISION_ESIM, order.id).await?;
    tx.commit().await?;
    tracing::info!(order.id = %order.id, "order paid; provisioning queued");
    Ok(Fulfilment::Paid)
}

fn amount_matches(order: &Order, session: &SessionFacts) -> bool {
    session.amount_total == Some(order.amount.minor)
        && session.currency.as_deref().is_some_and(|c| c.eq_ignore_ascii_case(&order.amount.currency))
}

/// Moves an unpaid order to `expired` or `payment_failed`; a paid order is never touched.
pub async fn close_unpaid(pool: &Pool, session_id: &str, to: OrderStatus) -> Result<bool> {
    let kind = match to {
        OrderStatus::Expired => EventKind::Expired,
        _ => EventKind::PaymentFailed,
    };
    let mut tx = pool.begin().await?;
    let Some(found) = db::orders::find_by_session(&mut *tx, session_id).await? else { return Ok(false) };
    let details = json!({ "session_id": session_id });
    if lifecycle::transition(&mut tx, found.id, to, kind, Actor::Stripe, details).await?.is_none() {
        return Ok(false);
    }
    tx.commit().await?;
    Ok(true)
}

/// Records a refund Stripe reports for a payment: the whole amount moves the order to
/// `refunded`, a part is noted on the timeline.
pub async fn record_refund(
    pool: &Pool,
    payment_intent: &str,
    amount_refunded: i64,
    fully_refunded: bool,
) -> Result<bool> {
    let mut tx = pool.begin().await?;
    let Some(found) = db::orders::find_by_payment_intent(&mut *tx, payment_intent).await? else { return Ok(false) };
    let order = db::orders::lock(&mut *tx, found.id).await?.ok_or(Error::NotFound("order"))?;
    let details = json!({ "payment_intent": payment_intent, "amount_refunded": amount_refunded });
    db::orders::set_refunded_at_least(&mut *tx, order.id, amount_refunded).await?;
    if fully_refunded {
        let moved = lifecycle::transition(
            &mut tx,
            order.id,
            OrderStatus::Refunded,
            EventKind::Refunded,
            Actor::Stripe,
            details,
        );
        if moved.await?.is_none() {
            return Ok(false);
        }
    } else {
        lifecycle::record(&mut tx, order.id, EventKind::PartiallyRefunded, Actor::Stripe, details).await?;
    }
    tx.commit().await?;
    Ok(true)
}
