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
        "update esims set purchase_attempted_at = now(), updated_at = now()
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
    sqlx::query(
        "update esims set telnyx_sim_id = $2, iccid = $3, telnyx_status = $4, updated_at = now() where order_id = $1",
    )
    .bind(order_id)
    .bind(sim_id)
    .bind(iccid)
    .bind(status)
    .execute(executor)
    .await
    .map(|_| ())
}

pub async fn set_status(executor: impl PgExecutor<'_>, order_id: Uuid, status: &str) -> sqlx::Result<()> {
    sqlx::query("update esims set telnyx_status = $2, updated_at = now() where order_id = $1")
        .bind(order_id)
        .bind(status)
        .execute(executor)
        .await
        .map(|_| ())
}

/// A data limit Telnyx has just set: `mb` (none for an unlimited plan), with the SIM's status
/// as its answer gave it, when there was one.
#[derive(Debug, Clone)]
pub struct DataLimitSet {
    pub mb: Option<i32>,
    pub status: Option<String>,
}

/// Stores the sealed activation code (the eSIM is ready), and the data limit set since the
/// last write, if one was: one statement.
pub async fn store_activation_code(
    executor: impl PgExecutor<'_>,
    order_id: Uuid,
    sealed: &[u8],
    limit: Option<&DataLimitSet>,
) -> sqlx::Result<()> {
    sqlx::query(
        "update esims set activation_code_sealed = $2, ready_at = now(), updated_at = now(),
                data_limit_mb = case when $3 then $4 else data_limit_mb end,
                data_limit_set_at = case when $3 then now() else data_limit_set_at end,
                telnyx_status = case when $3 then coalesce($5, telnyx_status) else telnyx_status end
          where order_id = $1",
    )
    .bind(order_id)
    .bind(sealed)
    .bind(limit.is_some())
    .bind(limit.and_then(|l| l.mb))
    .bind(limit.and_then(|l| l.status.as_deref()))
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
