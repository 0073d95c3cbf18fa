//! The JSON shapes of orders in the API: real timestamps (RFC 3339) and closed sets of names
//! for the status, event type and actor, mapped here from the domain.

use serde::{Serialize, Serializer};
use std::borrow::Cow;
use time::OffsetDateTime;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};
use uuid::Uuid;

use super::dto::MoneyResponse;
use crate::domain::order::{Actor, EventKind, Order, OrderEvent, OrderStatus};

/// Where an order is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(example = "awaiting_payment")]
pub enum OrderStatusResponse {
    AwaitingPayment,
    Paid,
    Provisioning,
    Ready,
    PaymentFailed,
    Expired,
    ProvisioningFailed,
    Refunded,
}

impl From<OrderStatus> for OrderStatusResponse {
    fn from(s: OrderStatus) -> Self {
        match s {
            OrderStatus::AwaitingPayment => Self::AwaitingPayment,
            OrderStatus::Paid => Self::Paid,
            OrderStatus::Provisioning => Self::Provisioning,
            OrderStatus::Ready => Self::Ready,
            OrderStatus::PaymentFailed => Self::PaymentFailed,
            OrderStatus::Expired => Self::Expired,
            OrderStatus::ProvisioningFailed => Self::ProvisioningFailed,
            OrderStatus::Refunded => Self::Refunded,
        }
    }
}

/// Who caused an order event; `admin` is a member of staff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActorResponse {
    Traveller,
    Stripe,
    Telnyx,
    System,
    Admin,
}

impl From<Actor> for ActorResponse {
    fn from(a: Actor) -> Self {
        match a {
            Actor::Traveller => Self::Traveller,
            Actor::Stripe => Self::Stripe,
            Actor::Telnyx => Self::Telnyx,
            Actor::System => Self::System,
            Actor::Operator(_) => Self::Admin,
        }
    }
}

/// What happened to an order: one of the names of [`EventKind::ALL`], as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventTypeResponse(pub EventKind);

impl Serialize for EventTypeResponse {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0.as_str())
    }
}

impl PartialSchema for EventTypeResponse {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("What happened to the order"))
            .enum_values(Some(EventKind::ALL.iter().map(|k| k.as_str())))
            .examples([serde_json::json!("paid")])
            .into()
    }
}

impl ToSchema for EventTypeResponse {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("EventTypeResponse")
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderEventResponse {
    #[serde(rename = "type")]
    pub kind: EventTypeResponse,
    pub actor: ActorResponse,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderResponse {
    pub id: Uuid,
    pub status: OrderStatusResponse,
    /// True while an operator must look at the payment (it did not match the order).
    pub needs_review: bool,
    pub plan_id: Uuid,
    pub plan_name: String,
    pub amount: MoneyResponse,
    pub email: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub paid_at: Option<OffsetDateTime>,
    pub events: Vec<OrderEventResponse>,
}

/// The answer to a create: the order, where to pay, and the token that reads it back.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedOrderResponse {
    #[serde(flatten)]
    pub order: OrderResponse,
    /// Open this in a browser to pay (Stripe Checkout).
    pub checkout_url: String,
    /// Bearer token for `GET /orders/{id}`. Shown once; keep it.
    pub access_token: String,
}

impl OrderResponse {
    pub fn new(order: &Order, events: &[OrderEvent]) -> Self {
        Self {
            id: order.id,
            status: order.status.into(),
            needs_review: order.needs_review,
            plan_id: order.plan_id,
            plan_name: order.plan_name.clone(),
            amount: (&order.amount).into(),
            email: order.email.clone(),
            created_at: order.created_at,
            paid_at: order.paid_at,
            events: events
                .iter()
                .map(|e| OrderEventResponse {
                    kind: EventTypeResponse(e.kind),
                    actor: e.actor.into(),
                    at: e.created_at,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn name(v: impl Serialize) -> Value {
        serde_json::to_value(v).unwrap()
    }

    #[test]
    fn the_names_on_the_wire_are_the_domain_names() {
        for s in OrderStatus::ALL {
            assert_eq!(name(OrderStatusResponse::from(*s)), json!(s.as_str()));
        }
        for k in EventKind::ALL {
            assert_eq!(name(EventTypeResponse(*k)), json!(k.as_str()));
        }
        let admin = Actor::Operator(Uuid::nil());
        for a in [Actor::Traveller, Actor::Stripe, Actor::Telnyx, Actor::System, admin] {
            assert_eq!(name(ActorResponse::from(a)), json!(a.as_str()));
        }
    }

    #[test]
    fn the_schemas_list_every_name() {
        let statuses = serde_json::to_value(OrderStatusResponse::schema()).unwrap();
        assert_eq!(statuses["enum"].as_array().unwrap().len(), OrderStatus::ALL.len());
        let kinds = serde_json::to_value(EventTypeResponse::schema()).unwrap();
        assert_eq!(kinds["enum"].as_array().unwrap().len(), EventKind::ALL.len());
    }

    #[test]
    fn timestamps_are_rfc_3339() {
        let at = time::macros::datetime!(2025-03-01 12:30:05.25 UTC);
        let event = OrderEventResponse { kind: EventTypeResponse(EventKind::Paid), actor: Actor::Stripe.into(), at };
        assert_eq!(name(event), json!({"type": "paid", "actor": "stripe", "at": "2025-03-01T12:30:05.25Z"}));
    }
}
