//! Confirming payments from Stripe's own record: an order becomes `paid` exactly once, unpaid
//! checkouts close, and refunds Stripe reports are recorded.

use serde_json::json;

use super::checkout::Payments;
use super::lifecycle;
use uuid::Uuid;

use crate::clients::stripe::{SessionFacts, StripeClientError};
use crate::db::{self, Conn, Pool};
use crate::domain::order::Order;
use crate::domain::{Actor, EventKind, OrderStatus};
use crate::error::Result;

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
    let done = confirm(&mut tx, &session).await?;
    tx.commit().await?;
    Ok(done)
}

/// `fulfil_checkout` in the caller's transaction (the webhook's, which records the event id in
/// it). A session Stripe itself does not know (404) is `UnknownSession`: retrying cannot help.
pub async fn fulfil_checkout_in(conn: &mut Conn, payments: &Payments, session_id: &str) -> Result<Fulfilment> {
    let session = match payments.stripe.retrieve_session(session_id).await {
        Ok(session) => session,
        Err(StripeClientError::Api { status: 404, code, message }) => {
            tracing::warn!(stripe.session = %session_id, ?code, %message, "Stripe does not know this checkout session");
            return Ok(Fulfilment::UnknownSession);
        }
        Err(e) => return Err(e.into()),
    };
    confirm(conn, &session).await
}

/// Moves the order of a session Stripe reports paid to `paid`, queueing its provisioning, and
/// applies a refund Stripe reported before (the order then ends `refunded`, nothing bought).
async fn confirm(conn: &mut Conn, session: &SessionFacts) -> Result<Fulfilment> {
    // The row lock serialises concurrent confirmations of the same order, and refunds.
    let Some(order) = db::orders::lock_by_session(&mut *conn, &session.id).await? else {
        tracing::warn!(stripe.session = %session.id, "no order for this checkout session");
        return Ok(Fulfilment::UnknownSession);
    };
    if order.status != OrderStatus::AwaitingPayment || order.needs_review {
        return Ok(Fulfilment::AlreadyDone);
    }
    if !session.is_paid() {
        if session.status == "complete"
            && !db::order_events::exists(&mut *conn, order.id, EventKind::PaymentPending).await?
        {
            lifecycle::record(conn, order.id, EventKind::PaymentPending, Actor::Stripe, json!({})).await?;
        }
        return Ok(Fulfilment::NotPaid);
    }
    if !amount_matches(&order, session) {
        db::orders::flag_for_review(&mut *conn, order.id).await?;
        let details = json!({
            "reason": "amount or currency mismatch",
            "expected": { "amount": order.amount.minor, "currency": order.amount.currency },
            "stripe": { "amount": session.amount_total, "currency": session.currency },
        });
        lifecycle::record(conn, order.id, EventKind::FlaggedForReview, Actor::System, details).await?;
        tracing::error!(order.id = %order.id, "payment does not match the order; flagged for review");
        return Ok(Fulfilment::Flagged);
    }
    let details =
        json!({ "session_id": session.id, "payment_intent": session.payment_intent, "amount": session.amount_total });
    let order_id = order.id;
    // Kept for refunds; written with the move to `paid`.
    let order =
        Order { stripe_payment_intent_id: session.payment_intent.clone().or(order.stripe_payment_intent_id), ..order };
    if lifecycle::transition_locked(conn, order, OrderStatus::Paid, EventKind::Paid, Actor::Stripe, details)
        .await?
        .is_none()
    {
        return Ok(Fulfilment::AlreadyDone);
    }
    let early = db::stripe_events::take_pending_refund(&mut *conn, session.payment_intent.as_deref(), order_id).await?;
    if let Some(refund) = early {
        tracing::warn!(order.id = %order_id, amount = refund.amount_minor, full = refund.full, "a refund came before the payment");
        let pi = session.payment_intent.as_deref().unwrap_or_default();
        if apply_refund(conn, order_id, pi, refund.amount_minor, refund.full).await? && refund.full {
            return Ok(Fulfilment::Paid);
        }
    }
    db::jobs::enqueue(&mut *conn, db::jobs::PROVISION_ESIM, order_id).await?;
    tracing::info!(order.id = %order_id, "order paid; provisioning queued");
    Ok(Fulfilment::Paid)
}

fn amount_matches(order: &Order, session: &SessionFacts) -> bool {
    session.amount_total == Some(order.amount.minor)
        && session.currency.as_deref().is_some_and(|c| c.eq_ignore_ascii_case(&order.amount.currency))
}

/// Moves an unpaid order to `expired` or `payment_failed`; a paid order is never touched.
pub async fn close_unpaid(conn: &mut Conn, session_id: &str, to: OrderStatus) -> Result<bool> {
    let kind = match to {
        OrderStatus::Expired => EventKind::Expired,
        _ => EventKind::PaymentFailed,
    };
    let Some(order) = db::orders::lock_by_session(&mut *conn, session_id).await? else { return Ok(false) };
    let details = json!({ "session_id": session_id });
    Ok(lifecycle::transition_locked(conn, order, to, kind, Actor::Stripe, details).await?.is_some())
}

/// Records a refund Stripe reports for a payment (`amount_refunded` is cumulative): the whole
/// amount moves the order to `refunded`, a part is noted on the timeline. A refund of an order
/// not paid yet here (its `charge.refunded` came first) is kept, and applied when the payment
/// is confirmed. `order_hint`: the order id the charge's metadata names.
pub async fn record_refund(
    conn: &mut Conn,
    payment_intent: &str,
    order_hint: Option<Uuid>,
    amount_refunded: i64,
    fully_refunded: bool,
) -> Result<bool> {
    let found = match db::orders::find_by_payment_intent(&mut *conn, payment_intent).await? {
        Some(order) => Some(order),
        None => match order_hint {
            Some(id) => db::orders::find(&mut *conn, id).await?,
            None => None,
        },
    };
    // Locked: a confirmation of the payment waits for this refund, or this for it.
    let order = match found {
        Some(found) => db::orders::lock(&mut *conn, found.id).await?,
        None => None,
    };
    let order = match order {
        Some(order) if order.status != OrderStatus::AwaitingPayment => order,
        unpaid => {
            let order_id = unpaid.map(|o| o.id);
            tracing::warn!(stripe.payment_intent = %payment_intent, ?order_id, "a refund for a payment not confirmed yet: kept");
            db::stripe_events::keep_pending_refund(
                &mut *conn,
                payment_intent,
                order_id,
                amount_refunded,
                fully_refunded,
            )
            .await?;
            return Ok(false);
        }
    };
    apply_refund(conn, order.id, payment_intent, amount_refunded, fully_refunded).await
}

async fn apply_refund(conn: &mut Conn, order_id: Uuid, payment_intent: &str, amount: i64, full: bool) -> Result<bool> {
    let details = json!({ "payment_intent": payment_intent, "amount_refunded": amount });
    db::orders::set_refunded_at_least(&mut *conn, order_id, amount).await?;
    if full {
        let to = OrderStatus::Refunded;
        return Ok(lifecycle::transition(conn, order_id, to, EventKind::Refunded, Actor::Stripe, details)
            .await?
            .is_some());
    }
    lifecycle::record(conn, order_id, EventKind::PartiallyRefunded, Actor::Stripe, details).await?;
    Ok(true)
}
