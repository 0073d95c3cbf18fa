//! The JSON of webhook management: requests (read field by field, so a wrong type is a
//! `validation_failed` problem naming its field) and responses (never a secret, except the one
//! just made).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::{Error, FieldError};
use crate::services::webhooks::endpoints::{Delivery, Endpoint, EndpointInput};

/// A webhook endpoint to create. Only `url` is required; `null` is the same as leaving a
/// field out.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)] // documents `additionalProperties: false`; `endpoint_input` enforces it
#[allow(dead_code)] // the request is read field by field; this documents it
pub struct CreateWebhookEndpointRequest {
    /// Where events are POSTed: `https://` in production, to a public address (one that
    /// resolves to a loopback, private, link-local or metadata address is refused with a 422;
    /// every delivery checks the address again).
    #[schema(
        max_length = 2048,
        format = "uri",
        pattern = r"^https?://[^\u0000-\u0020\u007F-\u009F]+$",
        example = "https://partner.example/tern-events"
    )]
    pub url: String,
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// The types to send (see the `webhooks` section); empty or left out: every type.
    #[schema(example = json!(["order.paid", "esim.ready"]))]
    pub event_types: Option<Vec<String>>,
    /// Default `true`.
    pub enabled: Option<bool>,
}

/// The fields to change; the others keep their values (so does a field given as `null`).
/// Enabling clears why it was disabled.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct UpdateWebhookEndpointRequest {
    #[schema(max_length = 2048, format = "uri", pattern = r"^https?://[^\u0000-\u0020\u007F-\u009F]+$")]
    pub url: Option<String>,
    #[schema(max_length = 500)]
    pub description: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

/// Everything since this time is sent again.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct RecoverRequest {
    /// RFC 3339. Events are kept 30 days: an earlier time resends from the start of those 30
    /// days; a time still to come resends nothing.
    #[schema(format = DateTime, example = "2026-12-01T09:00:00Z")]
    pub since: String,
}

/// The body as an object holding only `allowed` fields (an unknown one is a 400 naming it, as
/// for the typed requests); `null` fields are dropped, the same as left out.
fn object(body: Value, allowed: &[&str]) -> Result<Map<String, Value>, Error> {
    let Value::Object(mut map) = body else {
        return Err(Error::BadRequest { code: "invalid_body", message: "The body must be a JSON object.".into() });
    };
    if let Some(unknown) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
        let name: String = unknown.chars().take(64).collect();
        let message = format!("unknown field `{name}`: this request takes {}.", allowed.join(", "));
        return Err(Error::BadRequest { code: "invalid_body", message });
    }
    map.retain(|_, v| !v.is_null());
    Ok(map)
}

/// Reads the endpoint fields of a create or update body; every wrong type is named.
pub fn endpoint_input(body: Value) -> Result<EndpointInput, Error> {
    let map = object(body, &["url", "description", "event_types", "enabled"])?;
    let mut errors = Vec::new();
    let mut input = EndpointInput::default();
    let text = |name: &'static str, errors: &mut Vec<FieldError>| match map.get(name) {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            errors.push(FieldError::new(name, "Must be a string."));
            None
        }
    };
    input.url = text("url", &mut errors);
    input.description = text("description", &mut errors);
    input.event_types = match map.get("event_types") {
        None => None,
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => {
            Some(items.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
        }
        Some(_) => {
            errors.push(FieldError::new("event_types", "Must be a list of event type names."));
            None
        }
    };
    input.enabled = match map.get("enabled") {
        None => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            errors.push(FieldError::new("enabled", "Must be true or false."));
            None
        }
    };
    if errors.is_empty() { Ok(input) } else { Err(Error::Invalid(errors)) }
}

/// The `since` of a recover body, as given (checked by the service).
pub fn since(body: Value) -> Result<Option<String>, Error> {
    match object(body, &["since"])?.remove("since") {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Error::invalid("since", "Must be an RFC 3339 time as a string.")),
    }
}

/// A webhook endpoint (without its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookEndpointResponse {
    pub id: Uuid,
    pub url: String,
    pub description: String,
    /// Empty: every type.
    pub event_types: Vec<String>,
    pub enabled: bool,
    /// Why it was disabled (`410 Gone`, five days of failures, or by request).
    pub disabled_reason: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub disabled_at: Option<time::OffsetDateTime>,
    /// Since when every delivery has failed; null after a success.
    #[serde(with = "time::serde::rfc3339::option")]
    pub failing_since: Option<time::OffsetDateTime>,
    /// While a rotation overlaps: until when the previous secret still signs (both are sent).
    #[serde(with = "time::serde::rfc3339::option")]
    pub previous_secret_expires_at: Option<time::OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
}

impl From<Endpoint> for WebhookEndpointResponse {
    fn from(e: Endpoint) -> Self {
        Self {
            id: e.id,
            url: e.url,
            description: e.description,
            event_types: e.event_types,
            enabled: e.enabled,
            disabled_reason: e.disabled_reason,
            disabled_at: e.disabled_at,
            failing_since: e.failing_since,
            previous_secret_expires_at: e.previous_secret_expires_at,
            created_at: e.created_at,
        }
    }
}

/// The endpoint with its signing secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookEndpointWithSecretResponse {
    #[serde(flatten)]
    pub endpoint: WebhookEndpointResponse,
    /// `whsec_` + base64: verify deliveries with it (Standard Webhooks).
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookEndpointList {
    pub data: Vec<WebhookEndpointResponse>,
}

/// One delivery attempt.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookDeliveryResponse {
    /// Retry it with `POST /webhook_deliveries/{id}/retry`.
    pub id: i64,
    /// The event's id, also its `webhook-id`.
    pub event_id: Uuid,
    pub event_type: String,
    /// 1 for the first attempt of a (re)sending.
    pub attempt: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub attempted_at: time::OffsetDateTime,
    /// A 2xx answer.
    pub succeeded: bool,
    /// The HTTP status answered; null when there was no answer.
    pub status_code: Option<i16>,
    pub latency_ms: i32,
    /// Why it failed without an answer (timeout, refused by the SSRF guard...).
    pub error: Option<String>,
    /// The start of the answer's body (at most 500 characters).
    pub response_excerpt: Option<String>,
}

impl From<Delivery> for WebhookDeliveryResponse {
    fn from(d: Delivery) -> Self {
        Self {
            id: d.id,
            event_id: d.event_id,
            event_type: d.event_type,
            attempt: d.attempt,
            attempted_at: d.attempted_at,
            succeeded: d.succeeded,
            status_code: d.status_code,
            latency_ms: d.latency_ms,
            error: d.error,
            response_excerpt: d.response_excerpt,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookDeliveryList {
    /// Newest first, at most 100.
    pub data: Vec<WebhookDeliveryResponse>,
}

/// Queued for sending.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueuedResponse {
    /// How many events were queued.
    pub queued: usize,
    /// For a test: the `ping` event's id.
    pub event_id: Option<Uuid>,
}
