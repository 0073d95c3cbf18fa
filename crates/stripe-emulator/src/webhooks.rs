//! Events and their delivery: every event is recorded, then POSTed (signed like Stripe) to the
//! webhook URL by one background worker that retries with backoff, under the test controls
//! (hold and release, duplicates, drops, injected delivery failures).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::time::Instant;

use super::objects::{API_VERSION, new_object_id};
use super::payments::Refusal;
use super::state::Shared;

/// Attempts per delivery, the first included.
const MAX_ATTEMPTS: u32 = 6;
/// Backoff before the second attempt; doubled for each further one.
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
/// Per attempt: connect, send and read the answer.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

/// An event as created, in creation order (its id is the key of `event_index`); `json` is
/// what is delivered.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub json: Value,
}

#[derive(Debug)]
struct Delivery {
    event_id: String,
    attempt: u32,
    ready_at: Instant,
}

/// What the worker does next.
pub enum NextDelivery {
    Send(DeliveryJob),
    WaitUntil(Instant),
    /// As many attempts as allowed are under way: wait for one to end.
    Busy,
    Idle,
}

/// One attempt, taken off the queue with everything needed to make it without the lock.
pub struct DeliveryJob {
    event_id: String,
    attempt: u32,
    url: String,
    body: String,
    secrets: Vec<String>,
    fail_without_sending: bool,
}

/// The webhook endpoint, the event log and the delivery queue with its test switches.
#[derive(Debug)]
pub struct WebhookState {
    url: Option<String>,
    /// Signing secrets, newest first; two while a rotation overlaps.
    secrets: Vec<String>,
    events: Vec<StoredEvent>,
    /// Indexes `events`: event id → its position there (events are never removed).
    event_index: HashMap<String, usize>,
    queue: VecDeque<Delivery>,
    held: Vec<String>,
    in_flight: usize,
    /// Attempts made at once (1 by default: deliveries then arrive in queue order, as tests
    /// expect; Stripe itself sends concurrently and promises no order).
    max_in_flight: usize,
    hold: bool,
    duplicate: bool,
    drop_next: usize,
    fail_next: usize,
}

impl WebhookState {
    pub fn new(secret: String) -> Self {
        Self {
            url: None,
            secrets: vec![secret],
            events: Vec::new(),
            event_index: HashMap::new(),
            queue: VecDeque::new(),
            held: Vec::new(),
            in_flight: 0,
            max_in_flight: 1,
            hold: false,
            duplicate: false,
            drop_next: 0,
            fail_next: 0,
        }
    }

    /// Records a new event of `kind` about `object` and schedules its delivery.
    pub fn emit(&mut self, kind: &str, object: Value, created: i64) {
        let id = new_object_id("evt_");
        let dropped = self.drop_next > 0;
        if dropped {
            self.drop_next -= 1;
        }
        let json = json!({
            "id": id,
            "object": "event",
            "api_version": API_VERSION,
            "created": created,
            "data": { "object": object },
            "livemode": false,
            // One endpoint; 0 once a delivery succeeded (a dropped event stays pending).
            "pending_webhooks": 1,
            "request": { "id": null, "idempotency_key": null },
            "type": kind,
        });
        self.event_index.insert(id.clone(), self.events.len());
        self.events.push(StoredEvent { json });
        if dropped {
            tracing::info!(event.id = %id, event.kind = kind, "stripe emulator: event dropped by test control");
        } else if self.hold {
            self.held.push(id);
        } else {
            self.enqueue(id);
        }
    }

    fn enqueue(&mut self, event_id: String) {
        let copies = if self.duplicate { 2 } else { 1 };
        for _ in 0..copies {
            self.queue.push_back(Delivery { event_id: event_id.clone(), attempt: 0, ready_at: Instant::now() });
        }
    }

    fn event(&self, id: &str) -> Option<&StoredEvent> {
        self.event_index.get(id).map(|&i| &self.events[i])
    }

    pub fn events(&self) -> Vec<Value> {
        self.events.iter().map(|e| e.json.clone()).collect()
    }

    pub fn set_url(&mut self, url: String) {
        self.url = Some(url);
    }

    pub fn set_hold(&mut self, hold: bool) {
        self.hold = hold;
    }

    /// Ends holding and queues the held events, oldest first or newest first.
    pub fn release(&mut self, reverse: bool) {
        self.hold = false;
        let mut held = std::mem::take(&mut self.held);
        if reverse {
            held.reverse();
        }
        for id in held {
            self.enqueue(id);
        }
    }

    pub fn set_duplicate(&mut self, on: bool) {
        self.duplicate = on;
    }

    pub fn drop_next(&mut self, n: usize) {
        self.drop_next = n;
    }

    pub fn fail_next(&mut self, n: usize) {
        self.fail_next = n;
    }

    /// Makes up to `n` delivery attempts at once (at least one).
    pub fn set_concurrency(&mut self, n: usize) {
        self.max_in_flight = n.max(1);
    }

    /// Signs with `new_secret` and the latest previous one from now on.
    pub fn rotate_secret(&mut self, new_secret: &str) {
        self.secrets.insert(0, new_secret.to_owned());
        self.secrets.truncate(2);
    }

    /// Queues the event `event_id` once more, even while holding.
    pub fn redeliver(&mut self, event_id: &str) -> Result<(), Refusal> {
        if self.event(event_id).is_none() {
            return Err(Refusal::NoSuchEvent(event_id.to_owned()));
        }
        self.queue.push_back(Delivery { event_id: event_id.to_owned(), attempt: 0, ready_at: Instant::now() });
        Ok(())
    }

    /// True when nothing deliverable is queued or in flight (held events do not count; without
    /// a webhook URL nothing is deliverable yet).
    pub fn is_settled(&self) -> bool {
        self.url.is_none() || (self.queue.is_empty() && self.in_flight == 0)
    }

    /// Takes the first delivery that is due, or says how long to wait for one.
    pub fn next(&mut self) -> NextDelivery {
        let Some(url) = self.url.clone() else {
            return NextDelivery::Idle;
        };
        if self.in_flight >= self.max_in_flight {
            return NextDelivery::Busy;
        }
        let now = Instant::now();
        let Some(position) = self.queue.iter().position(|d| d.ready_at <= now) else {
            return match self.queue.iter().map(|d| d.ready_at).min() {
                Some(at) => NextDelivery::WaitUntil(at),
                None => NextDelivery::Idle,
            };
        };
        let Some(delivery) = self.queue.remove(position) else {
            return NextDelivery::Idle;
        };
        // Field by field, so the counters below stay writable.
        let Some(event) = self.event_index.get(&delivery.event_id).map(|&i| &self.events[i]) else {
            return NextDelivery::Idle;
        };
        let fail_without_sending = self.fail_next > 0;
        if fail_without_sending {
            self.fail_next -= 1;
        }
        self.in_flight += 1;
        NextDelivery::Send(DeliveryJob {
            event_id: delivery.event_id,
            attempt: delivery.attempt,
            url,
            body: event.json.to_string(),
            secrets: self.secrets.clone(),
            fail_without_sending,
        })
    }

    /// Records an attempt's outcome: done, or queued again after a backoff.
    fn finish(&mut self, job: &DeliveryJob, delivered: bool) {
        self.in_flight = self.in_flight.saturating_sub(1);
        if delivered {
            if let Some(event) = self.event_index.get(&job.event_id).map(|&i| &mut self.events[i]) {
                event.json["pending_webhooks"] = json!(0);
            }
            return;
        }
        let next_attempt = job.attempt + 1;
        if next_attempt >= MAX_ATTEMPTS {
            tracing::error!(event.id = %job.event_id, attempts = next_attempt, "stripe emulator: webhook delivery given up");
            return;
        }
        self.queue.push_back(Delivery {
            event_id: job.event_id.clone(),
            attempt: next_attempt,
            ready_at: Instant::now() + FIRST_BACKOFF * 2u32.pow(job.attempt),
        });
    }
}

/// `t=<unix>,v1=<hex>[,v1=<hex>]`: HMAC-SHA256 of `"{t}.{body}"` keyed with each secret string.
pub fn signature_header(secrets: &[String], timestamp: i64, body: &str) -> String {
    let mut header = format!("t={timestamp}");
    for secret in secrets {
        // HMAC accepts keys of any length, so this cannot fail.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
            continue;
        };
        mac.update(format!("{timestamp}.{body}").as_bytes());
        header.push_str(",v1=");
        for byte in mac.finalize().into_bytes() {
            header.push_str(&format!("{byte:02x}"));
        }
    }
    header
}

/// Delivers queued events for as long as the runtime runs, up to the set concurrency at once
/// (one by default, so that first deliveries keep their queue order).
pub async fn run_delivery_worker(shared: Arc<Shared>) {
    loop {
        let next = shared.with_webhooks(WebhookState::next);
        let wait = match next {
            NextDelivery::Send(job) => {
                let shared = shared.clone();
                tokio::spawn(async move {
                    let delivered = attempt(&shared.http, &job).await;
                    shared.with_webhooks(|webhooks| webhooks.finish(&job, delivered));
                    shared.delivery_wakeup.notify_one();
                });
                continue;
            }
            NextDelivery::WaitUntil(at) => Some(at),
            NextDelivery::Busy | NextDelivery::Idle => None,
        };
        tokio::select! {
            _ = shared.delivery_wakeup.notified() => {}
            _ = sleep_until_or_forever(wait) => {}
        }
    }
}

async fn sleep_until_or_forever(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// One POST; true when the endpoint answered 2xx.
async fn attempt(http: &reqwest::Client, job: &DeliveryJob) -> bool {
    let number = job.attempt + 1;
    if job.fail_without_sending {
        tracing::warn!(event.id = %job.event_id, attempt = number, "stripe emulator: webhook delivery failed (injected)");
        return false;
    }
    // Signed with the real clock: receivers check the timestamp against theirs, not ours.
    let timestamp = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or_default();
    let signature = signature_header(&job.secrets, timestamp, &job.body);
    let result = http
        .post(&job.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json; charset=utf-8")
        .header("stripe-signature", signature)
        .body(job.body.clone())
        .timeout(ATTEMPT_TIMEOUT)
        .send()
        .await;
    match result {
        Ok(response) if response.status().is_success() => {
            tracing::debug!(event.id = %job.event_id, attempt = number, "stripe emulator: webhook delivered");
            true
        }
        Ok(response) => {
            tracing::warn!(event.id = %job.event_id, attempt = number, http.status = response.status().as_u16(), "stripe emulator: webhook endpoint refused the event");
            false
        }
        Err(error) => {
            tracing::warn!(event.id = %job.event_id, attempt = number, error = %error, "stripe emulator: webhook delivery failed");
            false
        }
    }
}

#[cfg(test)]
mod tests;
