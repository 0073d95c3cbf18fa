//! Order events: the timeline of every order, written by `services::lifecycle` alone.

use sqlx::PgExecutor;
use uuid::Uuid;

use crate::domain::order::OrderEvent;
use crate::domain::{Actor, EventKind};

/// An event as written: when, and (for an event of a webhook type) the endpoints that take it.
pub struct Written {
    pub created_at: time::OffsetDateTime,
    /// The enabled endpoints that take `webhook_type` (an empty filter takes every type);
    /// `None` when there is no endpoint at all, enabled or not, or no type was given.
    pub subscribers: Option<Vec<Uuid>>,
}

/// Writes an event, and reads who takes `webhook_type` in the same statement (one round trip,
/// not two, for each of an order's events).
pub async fn insert(
    executor: impl PgExecutor<'_>,
    order_id: Uuid,
    kind: EventKind,
    actor: Actor,
    details: &serde_json::Value,
    webhook_type: Option<&str>,
) -> sqlx::Result<Written> {
    let (created_at, any_endpoint, takers): (time::OffsetDateTime, bool, Vec<Uuid>) = sqlx::query_as(
        "with written as (
              insert into order_events (order_id, type, actor, user_id, details) values ($1, $2, $3, $4, $5)
              returning created_at)
         select written.created_at, endpoints.any_endpoint, endpoints.takers
           from written,
                (select count(*) > 0 as any_endpoint,
                        coalesce(array_agg(id) filter (where enabled and (cardinality(event_types) = 0
                                                                           or $6 = any(event_types))), '{}') as takers
                   from webhook_endpoints where $6::text is not null) endpoints",
    )
    .bind(order_id)
    .bind(kind)
    .bind(actor.as_str())
    .bind(actor.user_id())
    .bind(details)
    .bind(webhook_type)
    .fetch_one(executor)
    .await?;
    Ok(Written { created_at, subscribers: any_endpoint.then_some(takers) })
}

#[derive(sqlx::FromRow)]
struct EventRow {
    order_id: Uuid,
    kind: EventKind,
    actor: String,
    user_id: Option<Uuid>,
    details: serde_json::Value,
    created_at: time::OffsetDateTime,
    email: Option<String>,
}

impl EventRow {
    fn into_event(self) -> sqlx::Result<(OrderEvent, Option<String>)> {
        let actor = Actor::from_parts(&self.actor, self.user_id)
            .map_err(|e| sqlx::Error::ColumnDecode { index: "actor".into(), source: e.into() })?;
        let event = OrderEvent {
            order_id: self.order_id,
            kind: self.kind,
            actor,
            details: self.details,
            created_at: self.created_at,
        };
        Ok((event, self.email))
    }
}

/// What an event read selects, with the acting operator's email.
const SELECT: &str = "select e.order_id, e.type as kind, e.actor, e.user_id, e.details, e.created_at, u.email
    from order_events e left join users u on u.id = e.user_id";

/// Every event of one order, oldest first, with the acting operator's email. (A query of its
/// own, not `for_orders` with one id: an array parameter makes PostgreSQL plan it afresh on
/// each call, and its estimates for a table growing fast are poor.)
pub async fn for_order(
    executor: impl PgExecutor<'_>,
    order_id: Uuid,
) -> sqlx::Result<Vec<(OrderEvent, Option<String>)>> {
    let rows: Vec<EventRow> = sqlx::query_as(&format!("{SELECT} where e.order_id = $1 order by e.id"))
        .bind(order_id)
        .fetch_all(executor)
        .await?;
    rows.into_iter().map(EventRow::into_event).collect()
}

/// Every event of these orders, oldest first within each, with the acting operator's email.
/// One query for any number of orders.
pub async fn for_orders(
    executor: impl PgExecutor<'_>,
    order_ids: &[Uuid],
) -> sqlx::Result<Vec<(OrderEvent, Option<String>)>> {
    let rows: Vec<EventRow> = sqlx::query_as(&format!("{SELECT} where e.order_id = any($1) order by e.order_id, e.id"))
        .bind(order_ids)
        .fetch_all(executor)
        .await?;
    rows.into_iter().map(EventRow::into_event).collect()
}

/// Whether the order has an event of this kind.
pub async fn exists(executor: impl PgExecutor<'_>, order_id: Uuid, kind: EventKind) -> sqlx::Result<bool> {
    sqlx::query_scalar("select exists (select 1 from order_events where order_id = $1 and type = $2)")
        .bind(order_id)
        .bind(kind)
        .fetch_one(executor)
        .await
}
