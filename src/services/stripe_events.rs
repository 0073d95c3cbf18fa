//! Handling Stripe's webhook events, each at most once.

use crate::db::Pool;

use super::checkout::Payments;
use super::payments::{self, Fulfilment};
use crate::db;
use crate::domain::OrderStatus;
use crate::error::{Error, Result};
use uuid::Uuid;

/// A verified event: its id, type and `data.object`.
#[derive(Debug, Clone)]
pub struct StripeEvent {
    pub id: String,
    pub kind: String,
    pub object: serde_json::Value,
}

impl StripeEvent {
    /// Reads the fields Tern uses from a verified event body.
    pub fn from_json(body: &serde_json::Value) -> Option<Self> {
        Some(Self {
            id: body.get("id")?.as_str()?.to_string(),
            kind: body.get("type")?.as_str()?.to_string(),
            object: body.get("data")?.get("object")?.clone(),
        })
    }

    fn object_str(&self, field: &str) -> Option<&str> {
        self.object.get(field).and_then(|v| v.as_str())
    }
}

/// What became of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    Processed,
    Duplicate,
    Ignored,
    /// About a checkout session Stripe itself does not know: recorded, not retried.
    UnknownSession,
}

/// Acts on one event, once. The event id is recorded first, in the transaction that handles it:
/// a second delivery of the id at the same moment waits on that row and then finds it (a
/// no-op), and a failure rolls the record back with the handling, so Stripe's retry redoes it.
pub async fn handle(pool: &Pool, payments: &Payments, event: &StripeEvent) -> Result<Handled> {
    let mut tx = pool.begin().await?;
    if !db::stripe_events::record(&mut *tx, &event.id, &event.kind).await? {
        return Ok(Handled::Duplicate);
    }
    let session_id = || {
        event
            .object_str("id")
            .ok_or_else(|| Error::BadRequest { code: "malformed_event", message: "no object id".into() })
    };
    let handled = match event.kind.as_str() {
        "checkout.session.completed" | "checkout.session.async_payment_succeeded" => {
            match payments::fulfil_checkout_in(&mut tx, payments, session_id()?).await? {
                Fulfilment::UnknownSession => Handled::UnknownSession,
                _ => Handled::Processed,
            }
        }
        "checkout.session.async_payment_failed" => {
            payments::close_unpaid(&mut tx, session_id()?, OrderStatus::PaymentFailed).await?;
            Handled::Processed
        }
        "checkout.session.expired" => {
            payments::close_unpaid(&mut tx, session_id()?, OrderStatus::Expired).await?;
            Handled::Processed
        }
        "charge.refunded" => {
            if let Some(pi) = event.object_str("payment_intent") {
                let amount = event.object.get("amount_refunded").and_then(|v| v.as_i64()).unwrap_or(0);
                let full = event.object.get("refunded").and_then(|v| v.as_bool()).unwrap_or(false);
                let order_hint = event
                    .object
                    .pointer("/metadata/order_id")
                    .and_then(|v| v.as_str())
                    .and_then(|id| Uuid::parse_str(id).ok());
                payments::record_refund(&mut tx, pi, order_hint, amount, full).await?;
            }
            Handled::Processed
        }
        _ => Handled::Ignored,
    };
    tx.commit().await?;
    if handled == Handled::UnknownSession {
        tracing::warn!(stripe.event = %event.id, stripe.type_ = %event.kind, "stripe event for an unknown session; recorded, not retried");
    } else {
        tracing::info!(stripe.event = %event.id, stripe.type_ = %event.kind, ?handled, "stripe event");
    }
    Ok(handled)
}
