//! Cancelling an unpaid order, for an admin and for the traveller alike: its Checkout Session
//! is expired at Stripe first (so it can no longer be paid), then the order moves to
//! `expired` with a `cancelled` event naming who cancelled it.

use serde_json::json;

use super::Operator;
use super::checkout::Payments;
use super::lifecycle;
use crate::clients::stripe::StripeClientError;
use crate::db::{self, Pool};
use crate::domain::order::Order;
use crate::domain::{Actor, EventKind, OrderStatus};
use crate::error::{Error, Result};

fn not_unpaid() -> Error {
    Error::Conflict { code: "not_unpaid", message: "Only an order awaiting payment can be cancelled.".into() }
}

/// Cancels `order` if it is still awaiting payment. `operator`, when an operator cancels, is
/// also written to the audit log in the same transaction.
pub async fn cancel_unpaid(
    pool: &Pool,
    payments: &Payments,
    order: &Order,
    actor: Actor,
    operator: Option<&Operator<'_>>,
) -> Result<Order> {
    if order.status != OrderStatus::AwaitingPayment {
        return Err(not_unpaid());
    }
    if let Some(session) = &order.stripe_session_id {
        match payments.stripe.expire_session(session).await {
            Ok(()) => {}
            // Stripe refuses to expire a session that is no longer open: it was paid (or
            // expired) a moment ago and its webhook is on its way. The order is not cancelled.
            Err(StripeClientError::Api { status: 400, .. }) => return Err(not_unpaid()),
            Err(e) => return Err(e.into()),
        }
    }
    let mut tx = pool.begin().await?;
    let (to, kind) = (OrderStatus::Expired, EventKind::Cancelled);
    // Stripe's `checkout.session.expired` may have moved it already: the cancellation is
    // still recorded, once, as what happened.
    if lifecycle::transition(&mut tx, order.id, to, kind, actor, json!({})).await?.is_none() {
        lifecycle::record(&mut tx, order.id, kind, actor, json!({})).await?;
    }
    if let Some(op) = operator {
        op.audit(&mut tx, kind.as_str(), format!("order:{}", order.id), json!({})).await?;
    }
    tx.commit().await?;
    db::orders::find(pool, order.id).await?.ok_or(Error::NotFound("order"))
}
