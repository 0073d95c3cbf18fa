//! The events endpoints receive: the thin payload of each (`id`, `type`, `created_at`, `data`
//! with the object's id, status and what changed; the full object is one GET away), recorded
//! once in `webhook_events` and queued as one `deliver_webhook` job per subscribed endpoint, in
//! the transaction of the order event that caused it.

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use super::DELIVER_WEBHOOK;
use crate::db::webhooks::OrderFacts;
use crate::db::{self, Conn};
use crate::domain::EventKind;
use crate::domain::webhook::EventType;
use crate::error::Result;

/// What a delivery job carries: which event goes to which endpoint.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub struct Target {
    pub event_id: Uuid,
    pub endpoint_id: Uuid,
}

impl Target {
    /// Unique per (event, endpoint): queueing it twice queues it once.
    pub fn key(&self) -> String {
        format!("{}:{}", self.event_id, self.endpoint_id)
    }

    pub fn payload(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// Queues the deliveries an order event causes to `subscribers` (read with the event:
/// `db::order_events::insert`): nothing for kinds outside the catalogue, and nothing at all
/// (not even the event row) while no endpoint exists (`None`).
pub async fn queue_for_event(
    conn: &mut Conn,
    order_id: Uuid,
    kind: EventKind,
    subscribers: Option<Vec<Uuid>>,
) -> Result<()> {
    let Some(event_type) = EventType::for_order_event(kind) else { return Ok(()) };
    let Some(endpoints) = subscribers else { return Ok(()) };
    let Some(facts) = db::webhooks::order_facts(&mut *conn, order_id).await? else { return Ok(()) };
    let (id, at) = (Uuid::new_v4(), OffsetDateTime::now_utc());
    let body = envelope(id, event_type, at, order_data(order_id, event_type, kind, &facts));
    db::webhooks::insert_event(&mut *conn, id, event_type.as_str(), Some(order_id), None, &body, at).await?;
    for endpoint_id in endpoints {
        enqueue(conn, Target { event_id: id, endpoint_id }, Some(order_id)).await?;
    }
    tracing::debug!(order.id = %order_id, webhook.event = %event_type, "webhook deliveries queued");
    Ok(())
}

/// A `ping` for one endpoint, queued; its event id.
pub async fn queue_ping(conn: &mut Conn, endpoint_id: Uuid) -> Result<Uuid> {
    let (id, at) = (Uuid::new_v4(), OffsetDateTime::now_utc());
    let data = json!({ "object": "webhook_endpoint", "id": endpoint_id });
    let body = envelope(id, EventType::Ping, at, data);
    db::webhooks::insert_event(&mut *conn, id, EventType::Ping.as_str(), None, Some(endpoint_id), &body, at).await?;
    enqueue(conn, Target { event_id: id, endpoint_id }, None).await?;
    Ok(id)
}

async fn enqueue(conn: &mut Conn, target: Target, order_id: Option<Uuid>) -> Result<()> {
    let (key, payload) = (target.key(), target.payload());
    let job = db::jobs::NewJob { kind: DELIVER_WEBHOOK, key: &key, order_id, payload: Some(&payload) };
    db::jobs::enqueue_keyed(&mut *conn, job).await?;
    Ok(())
}

/// Sends `target` again from its first attempt (a retry, a recovery), unless it is on its way.
pub async fn requeue(conn: &mut Conn, target: Target, order_id: Option<Uuid>) -> Result<()> {
    db::webhooks::requeue_delivery(&mut *conn, DELIVER_WEBHOOK, &target.key(), order_id, &target.payload()).await?;
    Ok(())
}

/// The body every event shares.
pub fn envelope(id: Uuid, event_type: EventType, at: OffsetDateTime, data: Value) -> Value {
    json!({
        "id": id,
        "type": event_type.as_str(),
        "created_at": at.format(&Rfc3339).unwrap_or_default(),
        "data": data,
    })
}

/// The order or eSIM as the event leaves it: ids, status, and the fields the event changed.
pub fn order_data(order_id: Uuid, event_type: EventType, kind: EventKind, facts: &OrderFacts) -> Value {
    if event_type.is_esim() {
        return json!({
            "object": "esim",
            "order_id": order_id,
            "order_status": facts.status.as_str(),
            "iccid": facts.iccid,
            "status": facts.sim_status,
        });
    }
    let mut data = json!({
        "object": "order",
        "id": order_id,
        "status": facts.status.as_str(),
        "amount": { "amount_minor": facts.amount_minor, "currency": facts.currency },
    });
    if event_type == EventType::OrderRefunded {
        data["amount_refunded"] = json!({ "amount_minor": facts.refunded_minor, "currency": facts.currency });
        data["refund"] = json!(if kind == EventKind::Refunded { "full" } else { "partial" });
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::OrderStatus;

    fn facts(status: OrderStatus) -> OrderFacts {
        OrderFacts {
            status,
            amount_minor: 1299,
            currency: "EUR".into(),
            refunded_minor: 500,
            iccid: Some("89000000000000000012".into()),
            sim_status: Some("enabled".into()),
        }
    }

    #[test]
    fn payloads_are_thin_and_say_what_changed() {
        let order = Uuid::new_v4();
        let paid = order_data(order, EventType::OrderPaid, EventKind::Paid, &facts(OrderStatus::Paid));
        assert_eq!(paid["status"], "paid");
        assert_eq!(paid["amount"]["amount_minor"], 1299);
        assert!(paid.get("amount_refunded").is_none());
        let kind = EventKind::PartiallyRefunded;
        let refunded = order_data(order, EventType::OrderRefunded, kind, &facts(OrderStatus::Ready));
        assert_eq!(refunded["amount_refunded"]["amount_minor"], 500);
        assert_eq!(refunded["refund"], "partial");
        let ready = order_data(order, EventType::EsimReady, EventKind::Ready, &facts(OrderStatus::Ready));
        assert_eq!(ready["object"], "esim");
        assert_eq!(ready["iccid"], "89000000000000000012");
        assert!(!ready.to_string().contains("LPA:"), "no activation code in a payload");
        let body = envelope(Uuid::nil(), EventType::EsimReady, OffsetDateTime::UNIX_EPOCH, ready);
        assert_eq!(body["created_at"], "1970-01-01T00:00:00Z");
        assert_eq!(body["type"], "esim.ready");
    }
}
