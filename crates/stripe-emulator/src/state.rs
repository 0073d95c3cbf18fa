//! The emulator's shared state behind one lock, and its clock (real time plus a test offset).

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
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
    pub sessions: HashMap<String, Session>,
    pub payment_intents: HashMap<String, PaymentIntent>,
    pub charges: HashMap<String, Charge>,
    pub refunds: HashMap<String, Refund>,
    pub idempotency: IdempotencyStore,
    pub request_fault: Option<RequestFault>,
    /// Refunds start `pending` and succeed on the next sweep (with `refund.updated`).
    pub pending_refunds: bool,
    pub webhooks: WebhookState,
}

impl State {
    /// Expires every open session whose `expires_at` has passed, with `checkout.session.expired`.
    pub fn expire_due_sessions(&mut self, now: i64) {
        let due: Vec<String> = self
            .sessions
            .values()
            .filter(|s| s.status == SessionStatus::Open && s.expires_at <= now)
            .map(|s| s.id.clone())
            .collect();
        for id in due {
            self.expire_session(&id, now);
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
