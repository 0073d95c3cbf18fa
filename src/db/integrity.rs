//! Queries of the integrity report: its advisory lock, the orders each check looks at, and
//! the stored runs and findings.

use sqlx::PgExecutor;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::OrderStatus;

/// The advisory lock key of a run (`"tern:integ"`, as a number): one at a time across
/// every process on the database.
pub const RUN_LOCK: i64 = 0x7465_726e_696e_7467;
/// Runs kept; older ones are deleted when a new one is saved.
const RUNS_KEPT: i64 = 10;

/// Takes the run's lock for the caller's transaction; false when another holds it.
pub async fn try_lock_run(executor: impl PgExecutor<'_>) -> sqlx::Result<bool> {
    sqlx::query_scalar("select pg_try_advisory_xact_lock($1)").bind(RUN_LOCK).fetch_one(executor).await
}

/// An order as a check sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrderFacts {
    pub id: Uuid,
    pub status: OrderStatus,
    pub paid_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub stripe_session_id: Option<String>,
    pub stripe_payment_intent_id: Option<String>,
    pub refunded_minor: i64,
    pub amount_minor: i64,
    pub sim_id: Option<String>,
    pub sim_status: Option<String>,
    pub last_error: Option<String>,
}

const FACTS: &str = "select o.id, o.status, o.paid_at, o.created_at, o.stripe_session_id,
        o.stripe_payment_intent_id, o.refunded_minor, o.amount_minor, e.telnyx_sim_id as sim_id,
        e.telnyx_status as sim_status,
        (select j.last_error from jobs j where j.order_id = o.id and j.kind = 'provision_esim') as last_error
    from orders o left join esims e on e.order_id = o.id";

/// Paid (or provisioning) orders paid before `paid_before`, still without their eSIM.
pub async fn stuck(
    executor: impl PgExecutor<'_>,
    paid_before: OffsetDateTime,
    limit: i64,
) -> sqlx::Result<Vec<OrderFacts>> {
    sqlx::query_as(&format!(
        "{FACTS} where o.status in ('paid', 'provisioning') and o.paid_at < $1 order by o.paid_at limit $2"
    ))
    .bind(paid_before)
    .bind(limit)
    .fetch_all(executor)
    .await
}

/// Orders in `status`, newest first.
pub async fn in_status(
    executor: impl PgExecutor<'_>,
    status: OrderStatus,
    limit: i64,
) -> sqlx::Result<Vec<OrderFacts>> {
    sqlx::query_as(&format!("{FACTS} where o.status = $1 order by o.created_at desc limit $2"))
        .bind(status)
        .bind(limit)
        .fetch_all(executor)
        .await
}

/// Ready orders whose payment was never confirmed.
pub async fn ready_unpaid(executor: impl PgExecutor<'_>, limit: i64) -> sqlx::Result<Vec<OrderFacts>> {
    sqlx::query_as(&format!(
        "{FACTS} where o.status = 'ready' and o.paid_at is null
            and coalesce(e.telnyx_status, '') <> 'disabled'
          order by o.created_at desc limit $1"
    ))
    .bind(limit)
    .fetch_all(executor)
    .await
}

/// Refunded orders whose SIM Tern does not know to be disabled.
pub async fn refunded_with_live_sim(executor: impl PgExecutor<'_>, limit: i64) -> sqlx::Result<Vec<OrderFacts>> {
    sqlx::query_as(&format!(
        "{FACTS} where o.status = 'refunded' and e.telnyx_sim_id is not null
            and coalesce(e.telnyx_status, '') <> 'disabled'
          order by o.created_at desc limit $1"
    ))
    .bind(limit)
    .fetch_all(executor)
    .await
}

/// Orders awaiting payment (not held for review) created between the two times, newest first.
pub async fn awaiting(
    executor: impl PgExecutor<'_>,
    created_from: OffsetDateTime,
    created_until: OffsetDateTime,
    limit: i64,
) -> sqlx::Result<Vec<OrderFacts>> {
    sqlx::query_as(&format!(
        "{FACTS} where o.status = 'awaiting_payment' and not o.needs_review and o.stripe_session_id is not null
            and o.created_at >= $1 and o.created_at <= $2
          order by o.created_at desc limit $3"
    ))
    .bind(created_from)
    .bind(created_until)
    .bind(limit)
    .fetch_all(executor)
    .await
}

/// The orders among `ids` that exist, or that carry one of `payment_intents`.
pub async fn orders_among(
    executor: impl PgExecutor<'_>,
    ids: &[Uuid],
    payment_intents: &[String],
) -> sqlx::Result<Vec<OrderFacts>> {
    sqlx::query_as(&format!("{FACTS} where o.id = any($1) or o.stripe_payment_intent_id = any($2)"))
        .bind(ids)
        .bind(payment_intents)
        .fetch_all(executor)
        .await
}

/// One finding, as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FindingRow {
    pub key: String,
    pub kind: String,
    pub fix: String,
    pub order_id: Option<Uuid>,
    pub sim_id: Option<String>,
    pub note: String,
    pub details: serde_json::Value,
}

/// A stored run.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RunRow {
    pub id: i64,
    pub trigger: String,
    pub started_at: OffsetDateTime,
    pub finished_at: OffsetDateTime,
    pub notes: serde_json::Value,
}

/// Saves a run and its findings, and deletes the runs before the last few.
pub async fn save_run(
    conn: &mut sqlx::PgConnection,
    trigger: &str,
    started_at: OffsetDateTime,
    notes: &serde_json::Value,
    findings: &[FindingRow],
) -> sqlx::Result<i64> {
    let id: i64 =
        sqlx::query_scalar("insert into integrity_runs (trigger, started_at, notes) values ($1, $2, $3) returning id")
            .bind(trigger)
            .bind(started_at)
            .bind(notes)
            .fetch_one(&mut *conn)
            .await?;
    for f in findings {
        sqlx::query(
            "insert into integrity_findings (run_id, key, kind, fix, order_id, sim_id, note, details)
             values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict do nothing",
        )
        .bind(id)
        .bind(&f.key)
        .bind(&f.kind)
        .bind(&f.fix)
        .bind(f.order_id)
        .bind(&f.sim_id)
        .bind(&f.note)
        .bind(&f.details)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query("delete from integrity_runs where id <= $1 - $2").bind(id).bind(RUNS_KEPT).execute(&mut *conn).await?;
    Ok(id)
}

/// The newest run.
pub async fn latest_run(executor: impl PgExecutor<'_>) -> sqlx::Result<Option<RunRow>> {
    sqlx::query_as("select id, trigger, started_at, finished_at, notes from integrity_runs order by id desc limit 1")
        .fetch_optional(executor)
        .await
}

/// The findings of a run, by kind then key.
pub async fn findings_of(executor: impl PgExecutor<'_>, run_id: i64) -> sqlx::Result<Vec<FindingRow>> {
    sqlx::query_as(
        "select key, kind, fix, order_id, sim_id, note, details from integrity_findings
          where run_id = $1 order by kind, key",
    )
    .bind(run_id)
    .fetch_all(executor)
    .await
}

/// A finding of the newest run, by its key.
pub async fn latest_finding(executor: impl PgExecutor<'_>, key: &str) -> sqlx::Result<Option<FindingRow>> {
    sqlx::query_as(
        "select key, kind, fix, order_id, sim_id, note, details from integrity_findings
          where run_id = (select max(id) from integrity_runs) and key = $1",
    )
    .bind(key)
    .fetch_optional(executor)
    .await
}

/// Removes a fixed finding from the newest run.
pub async fn remove_latest_finding(executor: impl PgExecutor<'_>, key: &str) -> sqlx::Result<()> {
    sqlx::query("delete from integrity_findings where run_id = (select max(id) from integrity_runs) and key = $1")
        .bind(key)
        .execute(executor)
        .await
        .map(|_| ())
}

/// How many findings of each kind the newest run has (kinds with none are left out).
pub async fn latest_counts(executor: impl PgExecutor<'_>) -> sqlx::Result<Vec<(String, i64)>> {
    sqlx::query_as(
        "select kind, count(*) from integrity_findings
          where run_id = (select max(id) from integrity_runs) group by kind order by kind",
    )
    .fetch_all(executor)
    .await
}
