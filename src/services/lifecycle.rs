//! The one owner of an order's lifecycle: `transition` (or `transition_locked`, for a row the
//! caller has locked) is the only way an order changes status, and `record` the only way an
//! event is written. Both run in the caller's transaction, which is where what a change sends
//! out (emails, webhook deliveries) is queued, and the job that disables the SIM of an order
//! refunded after its eSIM was bought. A move to a settled status is announced (`NOTIFY
//! order_settled`) at commit, for the API reads waiting on it (`services::settlements`).

use uuid::Uuid;

use crate::db::{self, Conn};
use crate::domain::order::{Order, OrderEvent};
use crate::domain::webhook::EventType;
use crate::domain::{Actor, EventKind, OrderStatus};
use crate::error::{Error, Result};

/// Moves the order to `to` if the lifecycle allows it from where it is now, writing `kind` as
/// its event. Locks the row first, so concurrent moves of one order are serialised. `Ok(None)`
/// when the move is not allowed (nothing is written); else the order as it now is.
pub async fn transition(
    conn: &mut Conn,
    order_id: Uuid,
    to: OrderStatus,
    kind: EventKind,
    actor: Actor,
    details: serde_json::Value,
) -> Result<Option<Order>> {
    let order = db::orders::lock(&mut *conn, order_id).await?.ok_or(Error::NotFound("order"))?;
    transition_locked(conn, order, to, kind, actor, details).await
}

/// [`transition`] of an order whose row the caller's transaction has just locked
/// (`db::orders::lock`, `lock_by_session`): `order` is that row, so it is not read again. Its
/// PaymentIntent is written with the status: a payment sets the one it brought (`fulfil_checkout`).
pub async fn transition_locked(
    conn: &mut Conn,
    order: Order,
    to: OrderStatus,
    kind: EventKind,
    actor: Actor,
    details: serde_json::Value,
) -> Result<Option<Order>> {
    let order_id = order.id;
    if !order.status.can_become(to) {
        return Ok(None);
    }
    let settled = !to.in_progress();
    db::orders::set_status(&mut *conn, order_id, to, order.stripe_payment_intent_id.as_deref(), settled).await?;
    if to == OrderStatus::Refunded && matches!(order.status, OrderStatus::Ready | OrderStatus::ProvisioningFailed) {
        // Its eSIM may have been bought: the SIM must not stay usable. (A refund during
        // provisioning is seen by the provisioning job itself.)
        db::jobs::enqueue(&mut *conn, db::jobs::DISABLE_ESIM, order_id).await?;
    }
    let order = Order { status: to, ..order };
    write_event(conn, order_id, kind, actor, details).await?;
    tracing::info!(order.id = %order_id, order.status = %to, event = %kind, "order moved");
    Ok(Some(order))
}

/// Writes an event that changes no status (a note, an eSIM bought, a partial refund...); the
/// event as written.
pub async fn record(
    conn: &mut Conn,
    order_id: Uuid,
    kind: EventKind,
    actor: Actor,
    details: serde_json::Value,
) -> Result<OrderEvent> {
    write_event(conn, order_id, kind, actor, details).await
}

async fn write_event(
    conn: &mut Conn,
    order_id: Uuid,
    kind: EventKind,
    actor: Actor,
    details: serde_json::Value,
) -> Result<OrderEvent> {
    let webhook_type = EventType::for_order_event(kind).map(|t| t.as_str());
    let written = db::order_events::insert(&mut *conn, order_id, kind, actor, &details, webhook_type).await?;
    // Counted when written: a transaction that rolls back afterwards still counts (rare).
    metrics::counter!("tern_order_events_total", "kind" => kind.as_str()).increment(1);
    queue_messages(conn, order_id, kind, written.subscribers).await?;
    Ok(OrderEvent { order_id, kind, actor, details, created_at: written.created_at })
}

/// Where the outgoing messages an event causes are queued, in the same transaction as the
/// event: its emails and its webhook deliveries (to `subscribers`, read with the event). Each
/// loads what else it needs only for the kinds that send something.
async fn queue_messages(
    conn: &mut Conn,
    order_id: Uuid,
    kind: EventKind,
    subscribers: Option<Vec<Uuid>>,
) -> Result<()> {
    super::mail::queue_for_event(conn, order_id, kind).await?;
    super::webhooks::queue_for_event(conn, order_id, kind, subscribers).await
}
