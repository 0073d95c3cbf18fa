//! Webhook endpoints, the events sent to them and every delivery attempt.

use sqlx::PgExecutor;
use uuid::Uuid;

use crate::domain::OrderStatus;

/// An endpoint as stored; its secrets still sealed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EndpointRow {
    pub id: Uuid,
    pub owner_key_id: Option<Uuid>,
    pub url: String,
    pub description: String,
    pub event_types: Vec<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<time::OffsetDateTime>,
    pub secret_sealed: Vec<u8>,
    pub previous_secret_sealed: Option<Vec<u8>>,
    pub previous_secret_expires_at: Option<time::OffsetDateTime>,
    pub failing_since: Option<time::OffsetDateTime>,
    pub created_at: time::OffsetDateTime,
}

const ENDPOINT: &str = "id, owner_key_id, url, description, event_types, enabled, disabled_reason, disabled_at,
    secret_sealed, previous_secret_sealed, previous_secret_expires_at, failing_since, created_at";

/// Which endpoints a caller sees: an integrator key its own, an admin every one.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    All,
    OwnedBy(Uuid),
}

impl Scope {
    fn owner(self) -> Option<Uuid> {
        match self {
            Scope::All => None,
            Scope::OwnedBy(id) => Some(id),
        }
    }
}

/// What a new endpoint is made of; `id` is chosen first, since the secret is sealed to it.
pub struct NewEndpoint<'a> {
    pub id: Uuid,
    pub owner_key_id: Option<Uuid>,
    pub url: &'a str,
    pub description: &'a str,
    pub event_types: &'a [String],
    pub enabled: bool,
    pub secret_sealed: &'a [u8],
}

pub async fn insert_endpoint(executor: impl PgExecutor<'_>, e: NewEndpoint<'_>) -> sqlx::Result<EndpointRow> {
    sqlx::query_as(&format!(
        "insert into webhook_endpoints (id, owner_key_id, url, description, event_types, enabled, secret_sealed)
         values ($1, $2, $3, $4, $5, $6, $7) returning {ENDPOINT}"
    ))
    .bind(e.id)
    .bind(e.owner_key_id)
    .bind(e.url)
    .bind(e.description)
    .bind(e.event_types)
    .bind(e.enabled)
    .bind(e.secret_sealed)
    .fetch_one(executor)
    .await
}

pub async fn find_endpoint(executor: impl PgExecutor<'_>, id: Uuid, scope: Scope) -> sqlx::Result<Option<EndpointRow>> {
    sqlx::query_as(&format!(
        "select {ENDPOINT} from webhook_endpoints where id = $1 and ($2::uuid is null or owner_key_id = $2)"
    ))
    .bind(id)
    .bind(scope.owner())
    .fetch_optional(executor)
    .await
}

pub async fn list_endpoints(executor: impl PgExecutor<'_>, scope: Scope) -> sqlx::Result<Vec<EndpointRow>> {
    sqlx::query_as(&format!(
        "select {ENDPOINT} from webhook_endpoints where $1::uuid is null or owner_key_id = $1 order by created_at, id"
    ))
    .bind(scope.owner())
    .fetch_all(executor)
    .await
}

/// The editable fields of an endpoint, all given (a PATCH fills in the ones it leaves out).
pub struct EndpointChange<'a> {
    pub url: &'a str,
    pub description: &'a str,
    pub event_types: &'a [String],
    pub enabled: bool,
}

/// Saves the fields; enabling clears the reason it was disabled and its failure streak.
pub async fn update_endpoint(
    executor: impl PgExecutor<'_>,
    id: Uuid,
    c: EndpointChange<'_>,
) -> sqlx::Result<Option<EndpointRow>> {
    sqlx::query_as(&format!(
        "update webhook_endpoints
            set url = $2, description = $3, event_types = $4,
                disabled_reason = case when $5 then null else coalesce(disabled_reason, 'disabled by request') end,
                disabled_at = case when $5 then null when enabled then now() else disabled_at end,
                failing_since = case when $5 and not enabled then null else failing_since end,
                enabled = $5
          where id = $1 returning {ENDPOINT}"
    ))
    .bind(id)
    .bind(c.url)
    .bind(c.description)
    .bind(c.event_types)
    .bind(c.enabled)
    .fetch_optional(executor)
    .await
}

pub async fn delete_endpoint(executor: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query("delete from webhook_endpoints where id = $1").bind(id).execute(executor).await?;
    Ok(done.rows_affected() == 1)
}

/// A new secret; the current one stays valid (signed with too) until `overlap_seconds` from now.
pub async fn rotate_secret(
    executor: impl PgExecutor<'_>,
    id: Uuid,
    new_sealed: &[u8],
    overlap_seconds: f64,
) -> sqlx::Result<Option<EndpointRow>> {
    sqlx::query_as(&format!(
        "update webhook_endpoints
            set previous_secret_sealed = secret_sealed, secret_sealed = $2,
                previous_secret_expires_at = now() + make_interval(secs => $3)
          where id = $1 returning {ENDPOINT}"
    ))
    .bind(id)
    .bind(new_sealed)
    .bind(overlap_seconds)
    .fetch_optional(executor)
    .await
}

/// Turns an enabled endpoint off, saying why. False when it was off already.
pub async fn disable(executor: impl PgExecutor<'_>, id: Uuid, reason: &str) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "update webhook_endpoints set enabled = false, disabled_reason = $2, disabled_at = now()
          where id = $1 and enabled",
    )
    .bind(id)
    .bind(reason)
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A delivery succeeded: the failure streak ends.
pub async fn note_success(executor: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("update webhook_endpoints set failing_since = null where id = $1 and failing_since is not null")
        .bind(id)
        .execute(executor)
        .await
        .map(|_| ())
}

/// A delivery failed: starts the failure streak unless one is running. True when the streak
/// has lasted `seconds` or more.
pub async fn note_failure(executor: impl PgExecutor<'_>, id: Uuid, seconds: f64) -> sqlx::Result<bool> {
    let long: Option<bool> = sqlx::query_scalar(
        "update webhook_endpoints set failing_since = coalesce(failing_since, now())
          where id = $1 returning failing_since <= now() - make_interval(secs => $2)",
    )
    .bind(id)
    .bind(seconds)
    .fetch_optional(executor)
    .await?;
    Ok(long.unwrap_or(false))
}

/// The disabled endpoints, for the dashboard.
pub async fn disabled_endpoints(executor: impl PgExecutor<'_>) -> sqlx::Result<Vec<EndpointRow>> {
    sqlx::query_as(&format!(
        "select {ENDPOINT} from webhook_endpoints where not enabled order by disabled_at desc nulls last, id"
    ))
    .fetch_all(executor)
    .await
}

/// An event as sent.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub id: Uuid,
    #[sqlx(rename = "type")]
    pub event_type: String,
    pub order_id: Option<Uuid>,
    pub endpoint_id: Option<Uuid>,
    pub payload: serde_json::Value,
    pub created_at: time::OffsetDateTime,
}

const EVENT: &str = "id, type, order_id, endpoint_id, payload, created_at";

pub async fn insert_event(
    executor: impl PgExecutor<'_>,
    id: Uuid,
    event_type: &str,
    order_id: Option<Uuid>,
    endpoint_id: Option<Uuid>,
    payload: &serde_json::Value,
    created_at: time::OffsetDateTime,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into webhook_events (id, type, order_id, endpoint_id, payload, created_at)
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(event_type)
    .bind(order_id)
    .bind(endpoint_id)
    .bind(payload)
    .bind(created_at)
    .execute(executor)
    .await
    .map(|_| ())
}

pub async fn find_event(executor: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<EventRow>> {
    sqlx::query_as(&format!("select {EVENT} from webhook_events where id = $1")).bind(id).fetch_optional(executor).await
}

/// The events since `since` an endpoint takes (its filter; its own pings), oldest first, at
/// most `limit`.
pub async fn events_since(
    executor: impl PgExecutor<'_>,
    endpoint: &EndpointRow,
    since: time::OffsetDateTime,
    limit: i64,
) -> sqlx::Result<Vec<EventRow>> {
    sqlx::query_as(&format!(
        "select {EVENT} from webhook_events
          where created_at >= $1 and (endpoint_id is null or endpoint_id = $2)
            and (cardinality($3::text[]) = 0 or type = any($3) or endpoint_id = $2)
          order by created_at, id limit $4"
    ))
    .bind(since)
    .bind(endpoint.id)
    .bind(&endpoint.event_types)
    .bind(limit)
    .fetch_all(executor)
    .await
}

/// What the thin payload of an order's event says about it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrderFacts {
    pub status: OrderStatus,
    pub amount_minor: i64,
    pub currency: String,
    pub refunded_minor: i64,
    pub iccid: Option<String>,
    pub sim_status: Option<String>,
}

pub async fn order_facts(executor: impl PgExecutor<'_>, order_id: Uuid) -> sqlx::Result<Option<OrderFacts>> {
    sqlx::query_as(
        "select o.status, o.amount_minor, o.currency::text as currency, o.refunded_minor, e.iccid,
                e.telnyx_status as sim_status
           from orders o left join esims e on e.order_id = o.id where o.id = $1",
    )
    .bind(order_id)
    .fetch_optional(executor)
    .await
}

/// One delivery attempt.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttemptRow {
    pub id: i64,
    pub endpoint_id: Uuid,
    pub event_id: Uuid,
    pub event_type: String,
    pub attempt: i32,
    pub attempted_at: time::OffsetDateTime,
    pub succeeded: bool,
    pub status_code: Option<i16>,
    pub latency_ms: i32,
    pub error: Option<String>,
    pub response_excerpt: Option<String>,
}

/// How an attempt ended, to be recorded.
pub struct NewAttempt<'a> {
    pub endpoint_id: Uuid,
    pub event_id: Uuid,
    pub attempt: i32,
    pub succeeded: bool,
    pub status_code: Option<i16>,
    pub latency_ms: i32,
    pub error: Option<&'a str>,
    pub response_excerpt: Option<&'a str>,
}

pub async fn insert_attempt(executor: impl PgExecutor<'_>, a: NewAttempt<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "insert into webhook_deliveries
            (endpoint_id, event_id, attempt, succeeded, status_code, latency_ms, error, response_excerpt)
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(a.endpoint_id)
    .bind(a.event_id)
    .bind(a.attempt)
    .bind(a.succeeded)
    .bind(a.status_code)
    .bind(a.latency_ms)
    .bind(a.error)
    .bind(a.response_excerpt)
    .execute(executor)
    .await
    .map(|_| ())
}

const ATTEMPT: &str = "d.id, d.endpoint_id, d.event_id, v.type as event_type, d.attempt, d.attempted_at, d.succeeded,
    d.status_code, d.latency_ms, d.error, d.response_excerpt";

/// An endpoint's attempts, newest first, at most `limit`.
pub async fn attempts(executor: impl PgExecutor<'_>, endpoint_id: Uuid, limit: i64) -> sqlx::Result<Vec<AttemptRow>> {
    sqlx::query_as(&format!(
        "select {ATTEMPT} from webhook_deliveries d join webhook_events v on v.id = d.event_id
          where d.endpoint_id = $1 order by d.id desc limit $2"
    ))
    .bind(endpoint_id)
    .bind(limit)
    .fetch_all(executor)
    .await
}

pub async fn find_attempt(executor: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<AttemptRow>> {
    sqlx::query_as(&format!(
        "select {ATTEMPT} from webhook_deliveries d join webhook_events v on v.id = d.event_id where d.id = $1"
    ))
    .bind(id)
    .fetch_optional(executor)
    .await
}

/// Queues a delivery job again from its first attempt, unless it is queued or running already
/// (then it is on its way). A job that never existed is queued.
pub async fn requeue_delivery(
    executor: impl PgExecutor<'_>,
    kind: &str,
    key: &str,
    order_id: Option<Uuid>,
    payload: &serde_json::Value,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into jobs (kind, key, order_id, payload) values ($1, $2, $3, $4)
         on conflict (kind, key) do update
            set status = 'queued', attempts = 0, run_at = now(), locked_until = null, claim_token = null,
                last_error = null, updated_at = now()
          where jobs.status in ('done', 'failed')",
    )
    .bind(kind)
    .bind(key)
    .bind(order_id)
    .bind(payload)
    .execute(executor)
    .await
    .map(|_| ())
}
