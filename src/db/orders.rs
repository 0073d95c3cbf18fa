//! Orders and their events.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::order::{Order, OrderEvent};
use crate::domain::{Actor, Money, OrderStatus};

#[derive(sqlx::FromRow)]
struct OrderRow {
    id: Uuid,
    plan_id: Uuid,
    plan_name: String,
    amount_minor: i64,
    currency: String,
    email: String,
    status: String,
    stripe_session_id: Option<String>,
    stripe_payment_intent_id: Option<String>,
    needs_review: bool,
    user_id: Option<Uuid>,
    access_token_sha256: Vec<u8>,
    paid_at: Option<time::OffsetDateTime>,
    created_at: time::OffsetDateTime,
}

const COLUMNS: &str = "id, plan_id, plan_name, amount_minor, currency::text as currency, email, status::text as status,
    stripe_session_id, stripe_payment_intent_id, needs_review, user_id, access_token_sha256, paid_at, created_at";

impl TryFrom<OrderRow> for Order {
    type Error = sqlx::Error;
    fn try_from(r: OrderRow) -> Result<Self, Self::Error> {
        Ok(Order {
            id: r.id,
            plan_id: r.plan_id,
            plan_name: r.plan_name,
            amount: Money::new(r.amount_minor, r.currency),
            email: r.email,
            status: r
                .status
                .parse()
                .map_err(|e: String| sqlx::Error::ColumnDecode { index: "status".into(), source: e.into() })?,
            stripe_session_id: r.stripe_session_id,
            stripe_payment_intent_id: r.stripe_payment_intent_id,
            needs_review: r.needs_review,
            user_id: r.user_id,
            access_token_sha256: r.access_token_sha256,
            paid_at: r.paid_at,
            created_at: r.created_at,
        })
    }
}

async fn one(conn: &mut PgConnection, sql: &str, bind: &str) -> sqlx::Result<Option<Order>> {
    let row: Option<OrderRow> = sqlx::query_as(sql).bind(bind).fetch_optional(conn).await?;
    row.map(Order::try_from).transpose()
}

/// Creates an order for an on-sale plan, copying its name and price at this moment. `None`
/// when the plan does not exist or is not on sale.
pub async fn insert(
    conn: &mut PgConnection,
    plan_id: Uuid,
    email: &str,
    token_sha256: &[u8],
) -> sqlx::Result<Option<Order>> {
    let row: Option<OrderRow> = sqlx::query_as(&format!(
        "insert into orders (plan_id, plan_name, amount_minor, currency, email, access_token_sha256)
         select id, name, price_minor, currency, $2, $3 from plans where id = $1 and on_sale
         returning {COLUMNS}"
    ))
    .bind(plan_id)
    .bind(email)
    .bind(token_sha256)
    .fetch_optional(conn)
    .await?;
    row.map(Order::try_from).transpose()
}

pub async fn find(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Order>> {
    one(conn, &format!("select {COLUMNS} from orders where id = $1::uuid"), &id.to_string()).await
}

/// The order, locked until the transaction ends: state changes are serialised per order.
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Order>> {
    one(conn, &format!("select {COLUMNS} from orders where id = $1::uuid for update"), &id.to_string()).await
}

pub async fn find_by_session(conn: &mut PgConnection, session_id: &str) -> sqlx::Result<Option<Order>> {
    one(conn, &format!("select {COLUMNS} from orders where stripe_session_id = $1"), session_id).await
}

pub async fn find_by_payment_intent(conn: &mut PgConnection, payment_intent: &str) -> sqlx::Result<Option<Order>> {
    one(conn, &format!("select {COLUMNS} from orders where stripe_payment_intent_id = $1"), payment_intent).await
}

pub async fn set_session(conn: &mut PgConnection, id: Uuid, session_id: &str) -> sqlx::Result<()> {
    sqlx::query("update orders set stripe_session_id = $2 where id = $1")
        .bind(id)
        .bind(session_id)
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn set_status(conn: &mut PgConnection, id: Uuid, status: OrderStatus) -> sqlx::Result<()> {
    sqlx::query("update orders set status = $2::order_status where id = $1")
        .bind(id)
        .bind(status.as_str())
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn mark_paid(conn: &mut PgConnection, id: Uuid, payment_intent: Option<&str>) -> sqlx::Result<()> {
    sqlx::query(
        "update orders set status = 'paid', paid_at = now(),
                stripe_payment_intent_id = coalesce($2, stripe_payment_intent_id)
          where id = $1",
    )
    .bind(id)
    .bind(payment_intent)
    .execute(conn)
    .await
    .map(|_| ())
}

pub async fn flag_for_review(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("update orders set needs_review = true where id = $1").bind(id).execute(conn).await.map(|_| ())
}

pub async fn add_event(
    conn: &mut PgConnection,
    order_id: Uuid,
    kind: &str,
    actor: Actor,
    details: serde_json::Value,
) -> sqlx::Result<()> {
    sqlx::query("insert into order_events (order_id, type, actor, details) values ($1, $2, $3, $4)")
        .bind(order_id)
        .bind(kind)
        .bind(actor.as_str())
        .bind(details)
        .execute(conn)
        .await
        .map(|_| ())
}

#[derive(sqlx::FromRow)]
struct EventRow {
    kind: String,
    actor: String,
    details: serde_json::Value,
    created_at: time::OffsetDateTime,
}

/// The order's timeline as travellers see it (operators' notes left out), oldest first.
pub async fn events(conn: &mut PgConnection, order_id: Uuid) -> sqlx::Result<Vec<OrderEvent>> {
    let rows: Vec<EventRow> = sqlx::query_as(
        "select type as kind, actor, details, created_at from order_events
          where order_id = $1 and type not in ('note', 'sim_status_refreshed') order by id",
    )
    .bind(order_id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| OrderEvent { kind: r.kind, actor: r.actor, details: r.details, created_at: r.created_at })
        .collect())
}

/// A user's orders, newest first.
pub async fn for_user(conn: &mut PgConnection, user_id: Uuid) -> sqlx::Result<Vec<Order>> {
    let rows: Vec<OrderRow> =
        sqlx::query_as(&format!("select {COLUMNS} from orders where user_id = $1 order by created_at desc limit 200"))
            .bind(user_id)
            .fetch_all(conn)
            .await?;
    rows.into_iter().map(Order::try_from).collect()
}

/// Attaches an order to a user (ordering signed in, or claiming a guest order with the same email).
pub async fn set_user(conn: &mut PgConnection, id: Uuid, user_id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query("update orders set user_id = $2 where id = $1 and user_id is null")
        .bind(id)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// An event caused by an operator.
pub async fn add_event_by(
    conn: &mut PgConnection,
    order_id: Uuid,
    kind: &str,
    user_id: Uuid,
    details: serde_json::Value,
) -> sqlx::Result<()> {
    sqlx::query("insert into order_events (order_id, type, actor, user_id, details) values ($1, $2, 'admin', $3, $4)")
        .bind(order_id)
        .bind(kind)
        .bind(user_id)
        .bind(details)
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn refunded(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<i64> {
    sqlx::query_scalar("select refunded_minor from orders where id = $1").bind(id).fetch_one(conn).await
}

/// An operator's view of the timeline: every event with the acting user's email.
pub async fn events_with_users(
    conn: &mut PgConnection,
    order_id: Uuid,
) -> sqlx::Result<Vec<(OrderEvent, Option<String>)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        kind: String,
        actor: String,
        details: serde_json::Value,
        created_at: time::OffsetDateTime,
        email: Option<String>,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "select e.type as kind, e.actor, e.details, e.created_at, u.email
           from order_events e left join users u on u.id = e.user_id
          where e.order_id = $1 order by e.id",
    )
    .bind(order_id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (OrderEvent { kind: r.kind, actor: r.actor, details: r.details, created_at: r.created_at }, r.email))
        .collect())
}

/// Stripe reports the cumulative refunded amount: the total never goes down.
pub async fn set_refunded_at_least(conn: &mut PgConnection, id: Uuid, amount: i64) -> sqlx::Result<()> {
    sqlx::query("update orders set refunded_minor = greatest(refunded_minor, $2) where id = $1")
        .bind(id)
        .bind(amount)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Whether the order has an event of this kind.
pub async fn has_event(conn: &mut PgConnection, order_id: Uuid, kind: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar("select exists (select 1 from order_events where order_id = $1 and type = $2)")
        .bind(order_id)
        .bind(kind)
        .fetch_one(conn)
        .await
}
