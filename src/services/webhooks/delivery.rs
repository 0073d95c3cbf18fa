//! One delivery attempt: the event signed for its endpoint, POSTed with a 15 s timeout, no
//! redirects followed, through the SSRF-guarded resolver, the answer read up to a cap; the
//! attempt logged; a 2xx ends it, a `410 Gone` disables the endpoint, anything else is retried
//! on the schedule until the endpoint has failed everything for five days (then it is disabled).

use std::time::{Duration, Instant};

use reqwest::header::{CONTENT_TYPE, USER_AGENT};
use secrecy::SecretString;

use super::events::Target;
use super::signing::{self, Signed};
use super::ssrf::{GuardedResolver, Refused};
use super::{Deliverer, Webhooks};
use crate::db::webhooks::{EndpointRow, NewAttempt, Scope};
use crate::db::{self, Pool};
use crate::services::jobs::{ClaimedJob, JobError};

/// Each attempt's whole time, connection to last byte read.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);
/// The most of an answer read; the rest is never read.
pub const MAX_RESPONSE_BYTES: usize = 4096;
/// How much of it the delivery log keeps.
const EXCERPT_CHARS: usize = 500;
/// An endpoint that has failed every delivery for this long is disabled.
pub const DISABLE_AFTER: Duration = Duration::from_secs(5 * 24 * 3600);

impl Deliverer {
    /// The delivery client: the guarded resolver, no proxy, no redirects, the attempt timeout.
    pub fn new(settings: Webhooks) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(ATTEMPT_TIMEOUT)
            .connect_timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(GuardedResolver(settings.policy))
            .build()?;
        Ok(Self { client, settings })
    }
}

/// How an attempt went, as logged.
struct Answer {
    status: Option<u16>,
    excerpt: Option<String>,
    error: Option<String>,
}

impl Answer {
    fn failed(error: String) -> Self {
        Self { status: None, excerpt: None, error: Some(error) }
    }
}

/// Sends one claimed delivery. An endpoint deleted or disabled since it was queued is skipped.
pub async fn deliver(pool: &Pool, deliverer: &Deliverer, job: &ClaimedJob) -> Result<(), JobError> {
    let target: Target = serde_json::from_value(job.payload.clone())
        .map_err(|e| JobError::Fail { reason: format!("not a delivery: {e}") })?;
    let Some(endpoint) = db::webhooks::find_endpoint(pool, target.endpoint_id, Scope::All).await? else {
        return Ok(());
    };
    let Some(event) = db::webhooks::find_event(pool, target.event_id).await? else { return Ok(()) };
    if !endpoint.enabled {
        tracing::info!(webhook.endpoint = %endpoint.id, webhook.event = %event.id, "endpoint disabled: delivery skipped");
        return Ok(());
    }
    let secrets = secrets(&deliverer.settings, &endpoint).map_err(|e| JobError::Fail { reason: e.to_string() })?;
    let body = serde_json::to_vec(&event.payload).map_err(|e| JobError::Fail { reason: e.to_string() })?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let signed = signing::sign(&event.id.to_string(), now, &body, &secrets)
        .map_err(|e| JobError::Fail { reason: e.to_string() })?;

    let started = Instant::now();
    let answer = send(deliverer, &endpoint.url, &signed, body).await;
    let latency_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
    let succeeded = answer.status.is_some_and(|s| (200..300).contains(&s));
    let outcome = match answer.status {
        _ if succeeded => "delivered",
        Some(410) => "gone",
        Some(_) => "refused",
        None => "unreachable",
    };
    metrics::counter!("tern_webhook_deliveries_total", "outcome" => outcome).increment(1);
    metrics::histogram!("tern_webhook_delivery_duration_seconds").record(started.elapsed().as_secs_f64());
    let attempt = NewAttempt {
        endpoint_id: endpoint.id,
        event_id: event.id,
        attempt: job.attempts,
        succeeded,
        status_code: answer.status.and_then(|s| i16::try_from(s).ok()),
        latency_ms,
        error: answer.error.as_deref(),
        response_excerpt: answer.excerpt.as_deref(),
    };
    db::webhooks::insert_attempt(pool, attempt).await?;
    if succeeded {
        db::webhooks::note_success(pool, endpoint.id).await?;
        return Ok(());
    }
    let reason = match (answer.status, &answer.error) {
        (Some(status), _) => format!("the endpoint answered {status}"),
        (None, Some(error)) => error.clone(),
        (None, None) => "no answer".to_string(),
    };
    if answer.status == Some(410) {
        db::webhooks::disable(pool, endpoint.id, "The endpoint answered 410 Gone.").await?;
        tracing::warn!(webhook.endpoint = %endpoint.id, "endpoint answered 410 Gone: disabled");
        return Err(JobError::Fail { reason: format!("{reason}: endpoint disabled") });
    }
    if db::webhooks::note_failure(pool, endpoint.id, DISABLE_AFTER.as_secs_f64()).await? {
        db::webhooks::disable(pool, endpoint.id, "Every delivery failed for 5 days.").await?;
        tracing::warn!(webhook.endpoint = %endpoint.id, "endpoint failed everything for 5 days: disabled");
        return Err(JobError::Fail { reason: format!("{reason}: endpoint disabled after 5 days of failures") });
    }
    Err(JobError::Retry { reason, after: None })
}

/// The secrets deliveries are signed with: the current one, and the one before it while the
/// rotation's overlap lasts.
fn secrets(settings: &Webhooks, endpoint: &EndpointRow) -> crate::error::Result<Vec<SecretString>> {
    let mut secrets = vec![signing::unseal(&settings.cipher, endpoint.id, &endpoint.secret_sealed)?];
    let overlapping = endpoint.previous_secret_expires_at.is_some_and(|until| until > time::OffsetDateTime::now_utc());
    if let (Some(previous), true) = (&endpoint.previous_secret_sealed, overlapping) {
        secrets.push(signing::unseal(&settings.cipher, endpoint.id, previous)?);
    }
    Ok(secrets)
}

async fn send(deliverer: &Deliverer, url: &str, signed: &Signed, body: Vec<u8>) -> Answer {
    // A URL saved under a laxer policy, or an address literal, is refused before any connection.
    let url = match deliverer.settings.policy.parse(url) {
        Ok(url) => url,
        Err(why) => return Answer::failed(format!("refused: {why}")),
    };
    let request = deliverer
        .client
        .post(url)
        .header(CONTENT_TYPE, "application/json")
        .header(USER_AGENT, "Tern-Webhooks/1")
        .header("webhook-id", &signed.id)
        .header("webhook-timestamp", signed.timestamp.to_string())
        .header("webhook-signature", &signed.signature)
        .body(body);
    let mut response = match request.send().await {
        Ok(response) => response,
        Err(e) => return Answer::failed(describe(&e)),
    };
    let status = response.status().as_u16();
    let mut read = Vec::new();
    let mut error = None;
    while read.len() < MAX_RESPONSE_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => read.extend_from_slice(&chunk[..chunk.len().min(MAX_RESPONSE_BYTES - read.len())]),
            Ok(None) => break,
            Err(e) => {
                error = Some(describe(&e));
                break;
            }
        }
    }
    if (300..400).contains(&status) {
        error = Some("redirects are not followed".into());
    }
    let excerpt: String = String::from_utf8_lossy(&read).chars().take(EXCERPT_CHARS).collect();
    Answer { status: Some(status), excerpt: (!excerpt.is_empty()).then_some(excerpt), error }
}

/// What went wrong, for the delivery log: never the URL's secrets (there are none: credentials
/// in URLs are refused) and never the signing secret.
fn describe(e: &reqwest::Error) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<Refused>() {
            return refused.to_string();
        }
        if cause.to_string().starts_with("refused: ") {
            return cause.to_string();
        }
        source = cause.source();
    }
    if e.is_timeout() {
        format!("no answer within {} s", ATTEMPT_TIMEOUT.as_secs())
    } else if e.is_connect() {
        "could not connect".into()
    } else {
        "the request failed".into()
    }
}
