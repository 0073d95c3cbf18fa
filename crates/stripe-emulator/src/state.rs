//! The emulator's shared state behind one lock, and its clock (real time plus a test offset).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::StatusCode;
use tokio::sync::Notify;

use super::idempotency::IdempotencyStore;
use super::objects::{Charge, PaymentIntent, Refund, Session, SessionStatus};
use super::webhooks::WebhookState;

/// The next API requests answer with this failure (a test control).
#[derive(Debug, Clone, Copy)]
pub struct RequestFault {
    pub status: StatusCode,
    pub remaining: usize,
    pub should_retry: Option<bool>,
}

/// Everything the emulator remembers. Guarded by one mutex, never held across an `.await`.
#[derive(Debug)]
pub struct State {
    /// `http://127.0.0.1:PORT/`, for session URLs.
    pub base_url: String,
    /// Only [`State::add_session`] inserts, so that `expiry_queue` sees every session.
    pub sessions: HashMap<String, Session>,
    /// Indexes `sessions` by `expires_at`, earliest first: one `(expires_at, id)` per session
    /// not yet past its expiry time (paid or expired ones included; they are skipped when
    /// popped), so expiring overdue sessions never walks all of them.
    expiry_queue: BinaryHeap<Reverse<(i64, String)>>,
    pub payment_intents: HashMap<String, PaymentIntent>,
    pub charges: HashMap<String, Charge>,
    pub refunds: HashMap<String, Refund>,
    pub idempotency: IdempotencyStore,
    pub request_fault: Option<RequestFault>,
    /// Refunds start `pending` and succeed on the next sweep (with `refund.updated`).
    pub pending_refunds: bool,
    /// Indexes `refunds`: the ids of those still `pending`, oldest first.
    pub pending_refund_ids: Vec<String>,
    pub webhooks: WebhookState,
}

impl State {
    pub fn new(base_url: String, webhook_secret: String) -> Self {
        Self {
            base_url,
            sessions: HashMap::new(),
            expiry_queue: BinaryHeap::new(),
            payment_intents: HashMap::new(),
            charges: HashMap::new(),
            refunds: HashMap::new(),
            idempotency: IdempotencyStore::default(),
            request_fault: None,
            pending_refunds: false,
            pending_refund_ids: Vec::new(),
            webhooks: WebhookState::new(webhook_secret),
        }
    }

    /// Stores a new session and schedules its expiry check. (Whatever changes a session's
    /// `expires_at` must push it onto `expiry_queue` again.)
    pub fn add_session(&mut self, session: Session) {
        self.expiry_queue.push(Reverse((session.expires_at, session.id.clone())));
        self.sessions.insert(session.id.clone(), session);
    }

    /// Expires every open session whose `expires_at` has passed, with `checkout.session.expired`
    /// (earliest first). Costs nothing while no session is due.
    pub fn expire_due_sessions(&mut self, now: i64) {
        while self.expiry_queue.peek().is_some_and(|Reverse((at, _))| *at <= now) {
            let Some(Reverse((_, id))) = self.expiry_queue.pop() else { break };
            // `expire_session` skips sessions no longer open.
            if self.sessions.get(&id).is_some_and(|s| s.expires_at <= now) {
                self.expire_session(&id, now);
            }
        }
    }

    /// `open` → `expired`, with its event; false when the session is not open.
    pub fn expire_session(&mut self, id: &str, now: i64) -> bool {
        let Some(session) = self.sessions.get_mut(id) else {
            return false;
        };
        if session.status != SessionStatus::Open {
            return false;
        }
        session.status = SessionStatus::Expired;
        let object = session.to_json(&self.base_url);
        self.webhooks.emit("checkout.session.expired", object, now);
        true
    }

    /// Emits `kind` for the session `id` as it is now.
    pub fn emit_session_event(&mut self, kind: &str, id: &str, now: i64) {
        if let Some(session) = self.sessions.get(id) {
            let object = session.to_json(&self.base_url);
            self.webhooks.emit(kind, object, now);
        }
    }
}

/// State shared by the server, the background tasks and the [`super::StripeEmulator`] handle.
pub struct Shared {
    pub api_key: String,
    pub base_url: String,
    /// What `/_emulator/…` requests must send (`control_auth`).
    pub control_token: String,
    pub http: reqwest::Client,
    /// Wakes the delivery worker when something was queued.
    pub delivery_wakeup: Notify,
    clock_offset: AtomicI64,
    /// How many times a Checkout Session was retrieved (`GET /v1/checkout/sessions/{id}`).
    pub session_reads: AtomicUsize,
    state: Mutex<State>,
}

impl Shared {
    pub fn new(api_key: String, base_url: String, state: State, http: reqwest::Client) -> Self {
        Self {
            api_key,
            base_url,
            control_token: super::control_auth::generate(),
            http,
            delivery_wakeup: Notify::new(),
            clock_offset: AtomicI64::new(0),
            session_reads: AtomicUsize::new(0),
            state: Mutex::new(state),
        }
    }

    /// The emulator's "now" in Unix seconds: the real clock moved by `advance_clock`.
    pub fn now(&self) -> i64 {
        let real = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or_default();
        real + self.clock_offset.load(Ordering::Relaxed)
    }

    pub fn advance_clock(&self, seconds: i64) {
        self.clock_offset.fetch_add(seconds, Ordering::Relaxed);
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind; keep serving it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the state at the emulator's "now", after expiring overdue sessions (the
    /// lazy half of expiry), then wakes the delivery worker for any event it emitted.
    pub fn update<R>(&self, f: impl FnOnce(&mut State, i64) -> R) -> R {
        let now = self.now();
        let result = {
            let mut state = self.lock();
            state.expire_due_sessions(now);
            f(&mut state, now)
        };
        self.delivery_wakeup.notify_one();
        result
    }

    /// Runs `f` on the webhook part only, for the delivery worker itself (no wake-up).
    pub fn with_webhooks<R>(&self, f: impl FnOnce(&mut WebhookState) -> R) -> R {
        f(&mut self.lock().webhooks)
    }

    /// Changes webhook settings or the queue, then wakes the delivery worker.
    pub fn change_webhooks<R>(&self, f: impl FnOnce(&mut WebhookState) -> R) -> R {
        let result = self.with_webhooks(f);
        self.delivery_wakeup.notify_one();
        result
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::checkout::new_session;
    use crate::form::Params;

    pub const NOW: i64 = 1_900_000_000;

    pub fn state() -> State {
        State::new("http://127.0.0.1:1/".into(), "whsec_test".into())
    }

    /// A valid open session created at `now`, expiring `lifetime` seconds later.
    pub fn session(now: i64, lifetime: i64, email: Option<&str>) -> Session {
        let mut body = format!(
            "mode=payment&success_url=https://t.example/ok&expires_at={}\
             &line_items[0][price_data][currency]=eur&line_items[0][price_data][unit_amount]=1299\
             &line_items[0][price_data][product_data][name]=Japan&line_items[0][quantity]=1",
            now + lifetime
        );
        if let Some(email) = email {
            body.push_str(&format!("&customer_email={email}"));
        }
        new_session(&Params::parse(body.as_bytes()).expect("params"), now).expect("valid session")
    }

    fn status(state: &State, id: &str) -> SessionStatus {
        state.sessions[id].status
    }

    fn expired_events(state: &State) -> Vec<String> {
        let events = state.webhooks.events();
        let expired = events.iter().filter(|e| e["type"] == "checkout.session.expired");
        expired.map(|e| e["data"]["object"]["id"].as_str().unwrap_or_default().to_owned()).collect()
    }

    #[test]
    fn sessions_added_after_a_scan_still_expire_on_time() {
        let mut state = state();
        let late = session(NOW, 7_200, None);
        let late_id = late.id.clone();
        state.add_session(late);
        state.expire_due_sessions(NOW + 100);
        // Created after that scan and due before the first one.
        let early = session(NOW + 100, 1_800, None);
        let early_id = early.id.clone();
        state.add_session(early);

        state.expire_due_sessions(NOW + 1_899);
        assert_eq!(status(&state, &early_id), SessionStatus::Open);
        state.expire_due_sessions(NOW + 1_900);
        assert_eq!(status(&state, &early_id), SessionStatus::Expired);
        assert_eq!(status(&state, &late_id), SessionStatus::Open);
        state.expire_due_sessions(NOW + 7_200);
        assert_eq!(status(&state, &late_id), SessionStatus::Expired);
        // One event each, earliest first; later scans emit nothing more.
        state.expire_due_sessions(NOW + 100_000);
        assert_eq!(expired_events(&state), [early_id, late_id]);
    }

    #[test]
    fn a_clock_jump_expires_every_overdue_open_session_and_nothing_else() {
        let mut state = state();
        let ids: Vec<String> = (0..5)
            .map(|i| {
                let session = session(NOW, 1_800 + i * 60, None);
                let id = session.id.clone();
                state.add_session(session);
                id
            })
            .collect();
        let paid = ids[1].clone();
        state.pay(&paid, None, NOW + 1).expect("open");
        state.expire_due_sessions(NOW + 1_800 + 3 * 60);
        let statuses: Vec<SessionStatus> = ids.iter().map(|id| status(&state, id)).collect();
        use SessionStatus::{Complete, Expired, Open};
        assert_eq!(statuses, [Expired, Complete, Expired, Expired, Open]);
        assert_eq!(expired_events(&state), [ids[0].clone(), ids[2].clone(), ids[3].clone()]);
    }
}
