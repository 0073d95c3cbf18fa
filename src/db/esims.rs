//! The eSIM of each order.

use sqlx::PgExecutor;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EsimRow {
    pub order_id: Uuid,
    pub tag: String,
    pub purchase_attempted_at: Option<time::OffsetDateTime>,
    pub telnyx_sim_id: Option<String>,
    pub iccid: Option<String>,
    pub telnyx_status: Option<String>,
    pub data_limit_set_at: Option<time::OffsetDateTime>,
    pub activation_code_sealed: Option<Vec<u8>>,
    pub ready_at: Option<time::OffsetDateTime>,
}

const COLUMNS: &str = "order_id, tag, purchase_attempted_at, telnyx_sim_id, iccid, telnyx_status, data_limit_set_at,
    activation_code_sealed, ready_at";

pub async fn find(executor: impl PgExecutor<'_>, order_id: Uuid) -> sqlx::Result<Option<EsimRow>> {
    sqlx::query_as(&format!("select {COLUMNS} from esims where order_id = $1"))
        .bind(order_id)
        .fetch_optional(executor)
        .await
}

/// The row for an order, created on first use.
pub async fn find_or_create(executor: impl PgExecutor<'_>, order_id: Uuid, tag: &str) -> sqlx::Result<EsimRow> {
    sqlx::query_as(&format!(
        "with created as (insert into esims (order_id, tag) values ($1, $2) on conflict (order_id) do nothing
                          returning {COLUMNS})
         select {COLUMNS} from created union all select {COLUMNS} from esims where order_id = $1 limit 1"
    ))
    .bind(order_id)
    .bind(tag)
    .fetch_one(executor)
    .await
}

/// Written before the purchase request leaves. False (and nothing written) when the order was
/// refunded meanwhile: then nothing may be bought.
pub async fn mark_purchase_attempted(executor: impl PgExecutor<'_>, order_id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "update esims set purchase_attempted_at = now()
          where order_id = $1
            and exists (select 1 from orders where id = $1 and status <> 'refunded'::order_status)",
    )
    .bind(order_id)
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_sim(
    executor: impl PgExecutor<'_>,
    order_id: Uuid,
    sim_id: &str,
    iccid: &str,
    status: &str,
) -> sqlx::Result<()> {
    sqlx::query("update esims set telnyx_sim_id = $2, iccid = $3, telnyx_status = $4 where order_id = $1")
        .bind(order_id)
        .bind(sim_id)
        .bind(iccid)
        .bind(status)
        .execute(executor)
        .await
        .map(|_| ())
}

pub async fn set_status(executor: impl PgExecutor<'_>, order_id: Uuid, status: &str) -> sqlx::Result<()> {
    sqlx::query("update esims set telnyx_status = $2 where order_id = $1")
        .bind(order_id)
        .bind(status)
        .execute(executor)
        .await
        .map(|_| ())
}

/// Records the data limit as set (`mb`, or none for an unlimited plan), with the SIM's status
/// as Telnyx's answer gave it, when there was one.
pub async fn mark_data_limit_set(
    executor: impl PgExecutor<'_>,
    order_id: Uuid,
    mb: Option<i32>,
    status: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query(
        "update esims set data_limit_mb = $2, data_limit_set_at = now(), telnyx_status = coalesce($3, telnyx_status)
          where order_id = $1",
    )
    .bind(order_id)
    .bind(mb)
    .bind(status)
    .execute(executor)
    .await
    .map(|_| ())
}

pub async fn store_activation_code(executor: impl PgExecutor<'_>, order_id: Uuid, sealed: &[u8]) -> sqlx::Result<()> {
    sqlx::query("update esims set activation_code_sealed = $2, ready_at = now() where order_id = $1")
        .bind(order_id)
        .bind(sealed)
        .execute(executor)
        .await
        .map(|_| ())
}

/// The eSIMs of several orders, in one query.
pub async fn for_orders(executor: impl PgExecutor<'_>, order_ids: &[Uuid]) -> sqlx::Result<Vec<EsimRow>> {
    sqlx::query_as(&format!("select {COLUMNS} from esims where order_id = any($1)"))
        .bind(order_ids)
        .fetch_all(executor)
        .await
}
