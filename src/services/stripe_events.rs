//! Handling Stripe's webhook events, each at most once.

use crate::db::Pool;

use super::checkout::Payments;
use super::payments;
use crate::db;
use crate::domain::OrderStatus;
use crate::error::{Error, Result};

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
}

/// Acts on one event. A redelivered event id is a no-op; the id is recorded only once the
/// event was handled, so a failure is retried by Stripe's redelivery.
pub async fn handle(pool: &Pool, payments: &Payments, event: &StripeEvent) -> Result<Handled> {
    if db::stripe_events::is_recorded(pool, &event.id).await? {
        return Ok(Handled::Duplicate);
    }
    let session_id = || {
        event
            .object_str("id")
            .ok_or_else(|| Error::BadRequest { code: "malformed_event", message: "no object id".into() })
    };
    let handled = match event.kind.as_str() {
        "checkout.session.completed" | "checkout.session.async_payment_succeeded" => {
            payments::fulfil_checkout(pool, payments, session_id()?).await?;
            Handled::Processed
        }
        "checkout.session.async_payment_failed" => {
            payments::close_unpaid(pool, session_id()?, OrderStatus::PaymentFailed).await?;
            Handled::Processed
        }
        "checkout.session.expired" => {
            payments::close_unpaid(pool, session_id()?, OrderStatus::Expired).await?;
            Handled::Processed
        }
        "charge.refunded" => {
            if let Some(pi) = event.object_str("payment_intent") {
                let amount = event.object.get("amount_refunded").and_then(|v| v.as_i64()).unwrap_or(0);
                let full = event.object.get("refunded").and_then(|v| v.as_bool()).unwrap_or(false);
                payments::record_refund(pool, pi, amount, full).await?;
            }
            Handled::Processed
        }
        _ => Handled::Ignored,
    };
    db::stripe_events::record(pool, &event.id, &event.kind).await?;
    tracing::info!(stripe.event = %event.id, stripe.type_ = %event.kind, ?handled, "stripe event");
    Ok(handled)
}
