//! Orders: the rows, their look-ups, and the one statement that changes an order's status.

use sqlx::PgExecutor;
use uuid::Uuid;

use crate::domain::order::Order;
use crate::domain::{Money, OrderStatus};

#[derive(sqlx::FromRow)]
struct OrderRow {
    id: Uuid,
    plan_id: Uuid,
    plan_name: String,
    amount_minor: i64,
    currency: String,
    email: String,
    status: OrderStatus,
    stripe_session_id: Option<String>,
    stripe_payment_intent_id: Option<String>,
    needs_review: bool,
    user_id: Option<Uuid>,
    access_token_sha256: Vec<u8>,
    paid_at: Option<time::OffsetDateTime>,
    created_at: time::OffsetDateTime,
}

const COLUMNS: &str = "id, plan_id, plan_name, amount_minor, currency::text as currency, email, status,
    stripe_session_id, stripe_payment_intent_id, needs_review, user_id, access_token_sha256, paid_at, created_at";

impl From<OrderRow> for Order {
    fn from(r: OrderRow) -> Self {
        Order {
            id: r.id,
            plan_id: r.plan_id,
            plan_name: r.plan_name,
            amount: Money::new(r.amount_minor, r.currency),
            email: r.email,
            status: r.status,
            stripe_session_id: r.stripe_session_id,
            stripe_payment_intent_id: r.stripe_payment_intent_id,
            needs_review: r.needs_review,
            user_id: r.user_id,
            access_token_sha256: r.access_token_sha256,
            paid_at: r.paid_at,
            created_at: r.created_at,
        }
    }
}

async fn one(executor: impl PgExecutor<'_>, sql: &str, bind: &str) -> sqlx::Result<Option<Order>> {
    let row: Option<OrderRow> = sqlx::query_as(sql).bind(bind).fetch_optional(executor).await?;
    Ok(row.map(Order::from))
}

/// Creates an order for an on-sale plan, copying its name and price at this moment, attached
/// to `user_id`'s account when one places it. `None` when the plan does not exist or is not on sale.
pub async fn insert(
    executor: impl PgExecutor<'_>,
    plan_id: Uuid,
    email: &str,
    token_sha256: &[u8],
    user_id: Option<Uuid>,
) -> sqlx::Result<Option<Order>> {
    let row: Option<OrderRow> = sqlx::query_as(&format!(
        "insert into orders (plan_id, plan_name, amount_minor, currency, email, access_token_sha256, user_id)
         select id, name, price_minor, currency, $2, $3, $4 from plans where id = $1 and on_sale
         returning {COLUMNS}"
    ))
    .bind(plan_id)
    .bind(email)
    .bind(token_sha256)
    .bind(user_id)
    .fetch_optional(executor)
    .await?;
    Ok(row.map(Order::from))
}

pub async fn find(executor: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<Order>> {
    one(executor, &format!("select {COLUMNS} from orders where id = $1::uuid"), &id.to_string()).await
}

/// The order, locked until the transaction ends: state changes are serialised per order.
pub async fn lock(executor: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<Order>> {
    one(executor, &format!("select {COLUMNS} from orders where id = $1::uuid for update"), &id.to_string()).await
}

/// The order of a checkout session, its row locked until the transaction ends.
pub async fn lock_by_session(executor: impl PgExecutor<'_>, session_id: &str) -> sqlx::Result<Option<Order>> {
    one(executor, &format!("select {COLUMNS} from orders where stripe_session_id = $1 for update"), session_id).await
}

pub async fn find_by_payment_intent(
    executor: impl PgExecutor<'_>,
    payment_intent: &str,
) -> sqlx::Result<Option<Order>> {
    one(executor, &format!("select {COLUMNS} from orders where stripe_payment_intent_id = $1"), payment_intent).await
}

pub async fn set_session(executor: impl PgExecutor<'_>, id: Uuid, session_id: &str) -> sqlx::Result<()> {
    sqlx::query("update orders set stripe_session_id = $2, updated_at = now() where id = $1")
        .bind(id)
        .bind(session_id)
        .execute(executor)
        .await
        .map(|_| ())
}

/// The only statement that changes an order's status; called by `services::lifecycle::transition`
/// alone, which locks the row and checks the move first. Becoming `paid` stamps `paid_at`. The
/// PaymentIntent is written with it (a payment's, kept for refunds: one row version, not two);
/// `None` leaves the one the order has. `settled` also sends the order's id on
/// [`notify::ORDER_SETTLED`](super::notify::ORDER_SETTLED), delivered at commit (by this
/// statement: no round trip of its own).
pub async fn set_status(
    executor: impl PgExecutor<'_>,
    id: Uuid,
    status: OrderStatus,
    payment_intent: Option<&str>,
    settled: bool,
) -> sqlx::Result<()> {
    sqlx::query(
        "update orders set status = $2, paid_at = case when $2 = 'paid'::order_status then now() else paid_at end,
                stripe_payment_intent_id = coalesce($3, stripe_payment_intent_id), updated_at = now()
          where id = $1
         returning (select pg_notify($5, $1::text) where $4)",
    )
    .bind(id)
    .bind(status)
    .bind(payment_intent)
    .bind(settled)
    .bind(super::notify::ORDER_SETTLED)
    .execute(executor)
    .await
    .map(|_| ())
}

pub async fn flag_for_review(executor: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("update orders set needs_review = true, updated_at = now() where id = $1")
        .bind(id)
        .execute(executor)
        .await
        .map(|_| ())
}

/// A user's orders, newest first.
pub async fn for_user(executor: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<Vec<Order>> {
    let rows: Vec<OrderRow> =
        sqlx::query_as(&format!("select {COLUMNS} from orders where user_id = $1 order by created_at desc limit 200"))
            .bind(user_id)
            .fetch_all(executor)
            .await?;
    Ok(rows.into_iter().map(Order::from).collect())
}

/// Attaches an order to a user (claiming a guest order with the same email).
pub async fn set_user(executor: impl PgExecutor<'_>, id: Uuid, user_id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query("update orders set user_id = $2, updated_at = now() where id = $1 and user_id is null")
        .bind(id)
        .bind(user_id)
        .execute(executor)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn refunded(executor: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<i64> {
    sqlx::query_scalar("select refunded_minor from orders where id = $1").bind(id).fetch_one(executor).await
}

/// Stripe reports the cumulative refunded amount: the total never goes down.
pub async fn set_refunded_at_least(executor: impl PgExecutor<'_>, id: Uuid, amount: i64) -> sqlx::Result<()> {
    sqlx::query("update orders set refunded_minor = greatest(refunded_minor, $2), updated_at = now() where id = $1")
        .bind(id)
        .bind(amount)
        .execute(executor)
        .await
        .map(|_| ())
}
