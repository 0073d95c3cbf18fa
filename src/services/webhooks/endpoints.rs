//! Managing webhook endpoints, for the API (with an API key: an integrator key sees only the
//! endpoints it created, an admin key every one) and the admin pages (operators, audited):
//! create, read, change, delete, rotate the secret, send a test, read the delivery log, and send
//! again (one delivery, or everything since a time). Bad input changes nothing and names its field.

use secrecy::SecretString;
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use super::Webhooks;
use super::events::{self, Target};
use super::signing::{self, ROTATION_OVERLAP};
use crate::db::webhooks::{EndpointChange, EndpointRow, NewEndpoint};
use crate::db::{self, Pool};
use crate::domain::query::ParamError;
use crate::domain::webhook::{EventType, KeyRole};
use crate::error::{Error, FieldError, Result};
use crate::services::Operator;

pub use crate::db::webhooks::{AttemptRow as Delivery, Scope};

/// How far back `recover` reaches (events are kept at least this long).
pub const RECOVER_WINDOW: time::Duration = time::Duration::days(30);
/// The most events one `recover` sends again.
pub const RECOVER_LIMIT: i64 = 1000;
/// The most attempts the delivery log shows.
pub const LOG_LIMIT: i64 = 100;

/// Who manages endpoints.
pub enum Manager<'a> {
    /// An API key, by id and role.
    Key { id: Uuid, role: KeyRole },
    /// A signed-in admin on the admin pages.
    Operator(&'a Operator<'a>),
}

impl Manager<'_> {
    fn scope(&self) -> Scope {
        match self {
            Manager::Key { id, role: KeyRole::Integrator } => Scope::OwnedBy(*id),
            _ => Scope::All,
        }
    }

    fn owner(&self) -> Option<Uuid> {
        match self {
            Manager::Key { id, .. } => Some(*id),
            Manager::Operator(_) => None,
        }
    }

    /// An operator's action goes to the audit log; a key's to the log.
    async fn record(&self, conn: &mut db::Conn, action: &str, endpoint_id: Uuid) -> Result<()> {
        match self {
            Manager::Operator(op) => {
                op.require_admin("Only an admin may manage webhooks.")?;
                op.audit(conn, action, format!("webhook_endpoint:{endpoint_id}"), json!({})).await
            }
            Manager::Key { id, .. } => {
                tracing::info!(api_key.id = %id, webhook.endpoint = %endpoint_id, action, "webhook endpoint managed");
                Ok(())
            }
        }
    }
}

/// An endpoint as managers see it (never its secret).
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub id: Uuid,
    pub url: String,
    pub description: String,
    /// Empty: every type.
    pub event_types: Vec<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<OffsetDateTime>,
    /// Since when every delivery has failed.
    pub failing_since: Option<OffsetDateTime>,
    /// Until when the secret before the last rotation still signs deliveries.
    pub previous_secret_expires_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
}

impl From<EndpointRow> for Endpoint {
    fn from(r: EndpointRow) -> Self {
        let overlap = r.previous_secret_expires_at.filter(|until| *until > OffsetDateTime::now_utc());
        Self {
            id: r.id,
            url: r.url,
            description: r.description,
            event_types: r.event_types,
            enabled: r.enabled,
            disabled_reason: r.disabled_reason,
            disabled_at: r.disabled_at,
            failing_since: r.failing_since,
            previous_secret_expires_at: overlap,
            created_at: r.created_at,
        }
    }
}

/// What a request sets; a field left out keeps its value (on creation: its default).
#[derive(Debug, Clone, Default)]
pub struct EndpointInput {
    pub url: Option<String>,
    pub description: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

struct Valid {
    url: String,
    description: String,
    event_types: Vec<String>,
    enabled: bool,
}

/// Every field checked (the URL against the SSRF guard); every message at once.
async fn validate(settings: &Webhooks, input: &EndpointInput, current: Option<&EndpointRow>) -> Result<Valid> {
    let mut errors = Vec::new();
    let url = match (&input.url, current) {
        (Some(url), _) => match settings.policy.check_url(url).await {
            Ok(url) => url.to_string(),
            Err(why) => {
                errors.push(FieldError::new("url", why));
                String::new()
            }
        },
        (None, Some(current)) => current.url.clone(),
        (None, None) => {
            errors.push(FieldError::new("url", "Enter the URL events are sent to."));
            String::new()
        }
    };
    let description = match (&input.description, current) {
        (Some(d), _) => d.trim().to_string(),
        (None, Some(current)) => current.description.clone(),
        (None, None) => String::new(),
    };
    if description.chars().count() > 500 {
        errors.push(FieldError::new("description", "Keep the description under 500 characters."));
    }
    let mut event_types: Vec<String> = Vec::new();
    match (&input.event_types, current) {
        (Some(types), _) => {
            for t in types {
                match t.parse::<EventType>() {
                    Ok(EventType::Ping) => {
                        errors.push(FieldError::new("event_types", "ping is sent on request only: leave it out."))
                    }
                    Ok(t) if !event_types.iter().any(|s| s == t.as_str()) => event_types.push(t.as_str().into()),
                    Ok(_) => {}
                    Err(_) => errors.push(FieldError::new(
                        "event_types",
                        format!("{t:?} is not an event type: see the list at /api/v1/docs/webhooks."),
                    )),
                }
            }
        }
        (None, Some(current)) => event_types = current.event_types.clone(),
        (None, None) => {}
    }
    let enabled = input.enabled.or(current.map(|c| c.enabled)).unwrap_or(true);
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    Ok(Valid { url, description, event_types, enabled })
}

/// An id from the path: a UUID, or a 400 naming `id`.
pub fn parse_id(raw: &str) -> Result<Uuid> {
    Uuid::parse_str(raw.trim()).map_err(|_| ParamError::new("id", "must be a UUID").into())
}

async fn load(pool: &Pool, manager: &Manager<'_>, id: &str) -> Result<EndpointRow> {
    let id = parse_id(id)?;
    db::webhooks::find_endpoint(pool, id, manager.scope()).await?.ok_or(Error::NotFound("webhook endpoint"))
}

/// A new endpoint and its signing secret (shown this once).
pub async fn create(
    pool: &Pool,
    settings: &Webhooks,
    manager: &Manager<'_>,
    input: &EndpointInput,
) -> Result<(Endpoint, SecretString)> {
    let valid = validate(settings, input, None).await?;
    let (id, secret) = (Uuid::new_v4(), signing::new_secret());
    let sealed = signing::seal(&settings.cipher, id, &secret);
    let mut tx = pool.begin().await?;
    let new = NewEndpoint {
        id,
        owner_key_id: manager.owner(),
        url: &valid.url,
        description: &valid.description,
        event_types: &valid.event_types,
        enabled: valid.enabled,
        secret_sealed: &sealed,
    };
    let row = db::webhooks::insert_endpoint(&mut *tx, new).await?;
    manager.record(&mut tx, "webhook_endpoint.create", id).await?;
    tx.commit().await?;
    Ok((row.into(), secret))
}

pub async fn list(pool: &Pool, manager: &Manager<'_>) -> Result<Vec<Endpoint>> {
    Ok(db::webhooks::list_endpoints(pool, manager.scope()).await?.into_iter().map(Endpoint::from).collect())
}

pub async fn get(pool: &Pool, manager: &Manager<'_>, id: &str) -> Result<Endpoint> {
    Ok(load(pool, manager, id).await?.into())
}

/// Changes the fields given. Enabling a disabled endpoint clears why it was disabled.
pub async fn update(
    pool: &Pool,
    settings: &Webhooks,
    manager: &Manager<'_>,
    id: &str,
    input: &EndpointInput,
) -> Result<Endpoint> {
    let current = load(pool, manager, id).await?;
    let valid = validate(settings, input, Some(&current)).await?;
    let mut tx = pool.begin().await?;
    let change = EndpointChange {
        url: &valid.url,
        description: &valid.description,
        event_types: &valid.event_types,
        enabled: valid.enabled,
    };
    let row = db::webhooks::update_endpoint(&mut *tx, current.id, change)
        .await?
        .ok_or(Error::NotFound("webhook endpoint"))?;
    manager.record(&mut tx, "webhook_endpoint.update", current.id).await?;
    tx.commit().await?;
    Ok(row.into())
}

pub async fn delete(pool: &Pool, manager: &Manager<'_>, id: &str) -> Result<()> {
    let current = load(pool, manager, id).await?;
    let mut tx = pool.begin().await?;
    db::webhooks::delete_endpoint(&mut *tx, current.id).await?;
    manager.record(&mut tx, "webhook_endpoint.delete", current.id).await?;
    tx.commit().await?;
    Ok(())
}

/// A new secret (shown this once); the old one signs too for the next 24 hours.
pub async fn rotate_secret(
    pool: &Pool,
    settings: &Webhooks,
    manager: &Manager<'_>,
    id: &str,
) -> Result<(Endpoint, SecretString)> {
    let current = load(pool, manager, id).await?;
    let secret = signing::new_secret();
    let sealed = signing::seal(&settings.cipher, current.id, &secret);
    let mut tx = pool.begin().await?;
    let overlap = ROTATION_OVERLAP.as_secs_f64();
    let row = db::webhooks::rotate_secret(&mut *tx, current.id, &sealed, overlap)
        .await?
        .ok_or(Error::NotFound("webhook endpoint"))?;
    manager.record(&mut tx, "webhook_endpoint.rotate_secret", current.id).await?;
    tx.commit().await?;
    Ok((row.into(), secret))
}

fn require_enabled(endpoint: &EndpointRow) -> Result<()> {
    if endpoint.enabled {
        return Ok(());
    }
    Err(Error::Conflict { code: "endpoint_disabled", message: "This endpoint is disabled: enable it first.".into() })
}

/// Queues a `ping` to the endpoint; its event id.
pub async fn send_test(pool: &Pool, manager: &Manager<'_>, id: &str) -> Result<Uuid> {
    let endpoint = load(pool, manager, id).await?;
    require_enabled(&endpoint)?;
    let mut tx = pool.begin().await?;
    let event_id = events::queue_ping(&mut tx, endpoint.id).await?;
    manager.record(&mut tx, "webhook_endpoint.test", endpoint.id).await?;
    tx.commit().await?;
    Ok(event_id)
}

/// The endpoint's latest delivery attempts, newest first.
pub async fn deliveries(pool: &Pool, manager: &Manager<'_>, id: &str) -> Result<Vec<Delivery>> {
    let endpoint = load(pool, manager, id).await?;
    Ok(db::webhooks::attempts(pool, endpoint.id, LOG_LIMIT).await?)
}

/// Sends the event of a logged attempt again, from a first attempt.
pub async fn retry(pool: &Pool, manager: &Manager<'_>, attempt_id: &str) -> Result<Delivery> {
    let id: i64 = attempt_id
        .trim()
        .parse()
        .map_err(|_| Error::from(ParamError::new("id", "must be a delivery id (a whole number)")))?;
    let attempt = db::webhooks::find_attempt(pool, id).await?.ok_or(Error::NotFound("webhook delivery"))?;
    let endpoint = db::webhooks::find_endpoint(pool, attempt.endpoint_id, manager.scope())
        .await?
        .ok_or(Error::NotFound("webhook delivery"))?;
    require_enabled(&endpoint)?;
    let event = db::webhooks::find_event(pool, attempt.event_id).await?.ok_or(Error::NotFound("webhook event"))?;
    let mut tx = pool.begin().await?;
    events::requeue(&mut tx, Target { event_id: event.id, endpoint_id: endpoint.id }, event.order_id).await?;
    manager.record(&mut tx, "webhook_delivery.retry", endpoint.id).await?;
    tx.commit().await?;
    Ok(attempt)
}

/// `since` as given: an RFC 3339 time. Events are kept for `RECOVER_WINDOW`: an earlier time
/// resends from the start of that window, a time still to come resends nothing.
pub fn parse_since(raw: Option<&str>) -> Result<OffsetDateTime> {
    let raw = raw.map(str::trim).filter(|s| !s.is_empty());
    let raw = raw.ok_or_else(|| Error::invalid("since", "Give the time to resend from, e.g. 2026-12-01T09:00:00Z."))?;
    let since = OffsetDateTime::parse(raw, &Rfc3339)
        .map_err(|_| Error::invalid("since", "Give an RFC 3339 time such as 2026-12-01T09:00:00Z."))?;
    Ok(since.max(OffsetDateTime::now_utc() - RECOVER_WINDOW))
}

/// Sends again every event since `since` that the endpoint takes; how many were queued.
pub async fn recover(pool: &Pool, manager: &Manager<'_>, id: &str, since: Option<&str>) -> Result<usize> {
    let endpoint = load(pool, manager, id).await?;
    let since = parse_since(since)?;
    require_enabled(&endpoint)?;
    let found = db::webhooks::events_since(pool, &endpoint, since, RECOVER_LIMIT).await?;
    let mut tx = pool.begin().await?;
    for event in &found {
        events::requeue(&mut tx, Target { event_id: event.id, endpoint_id: endpoint.id }, event.order_id).await?;
    }
    manager.record(&mut tx, "webhook_endpoint.recover", endpoint.id).await?;
    tx.commit().await?;
    Ok(found.len())
}

/// The disabled endpoints, for the dashboard.
pub async fn disabled(pool: &Pool) -> Result<Vec<Endpoint>> {
    Ok(db::webhooks::disabled_endpoints(pool).await?.into_iter().map(Endpoint::from).collect())
}
