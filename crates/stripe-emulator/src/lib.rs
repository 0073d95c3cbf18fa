//! A local, stateful Stripe for tests and offline runs: the Checkout Session and Refund API in
//! Stripe's wire format (form bodies, JSON objects, error envelope, idempotency keys), a hosted
//! pay page, signed webhook events, and test controls. Point async-stripe's
//! `ClientBuilder::url` at [`StripeEmulator::base_url`].

mod api;
mod checkout;
mod control_auth;
mod controls;
mod error;
mod events;
mod form;
mod idempotency;
mod objects;
mod paging;
mod pay_page;
mod payments;
mod state;
mod webhooks;

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use serde_json::Value;
use tokio::net::TcpListener;

use self::state::{Shared, State};
use self::webhooks::run_delivery_worker;

/// How often overdue sessions are expired (and pending refunds settled) without a request.
const SWEEP_INTERVAL: Duration = Duration::from_secs(1);

/// What the emulator accepts and signs with.
#[derive(Clone)]
pub struct StripeEmulatorConfig {
    /// The secret key clients must send as `Authorization: Bearer …` or as the Basic user name
    /// (e.g. `sk_test_…`).
    pub api_key: String,
    /// The `whsec_…` secret webhook events are signed with.
    pub webhook_secret: String,
}

/// A running emulator; clones share it. It serves until its tokio runtime shuts down, whether
/// or not a handle is kept (keep one to use the test controls from Rust).
#[derive(Clone)]
pub struct StripeEmulator {
    shared: Arc<Shared>,
}

impl StripeEmulator {
    /// Binds 127.0.0.1 on a free port and serves in spawned tokio tasks (the server, the
    /// webhook delivery worker and the expiry sweep).
    pub async fn start(config: StripeEmulatorConfig) -> io::Result<Self> {
        Self::start_on(config, SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await
    }

    /// As [`Self::start`], on `addr` (e.g. a fixed loopback port for `tern emulators`).
    pub async fn start_on(config: StripeEmulatorConfig, addr: SocketAddr) -> io::Result<Self> {
        // reqwest (webhook delivery) needs a process-wide rustls provider; ring is the crate's.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder().no_proxy().build().map_err(io::Error::other)?;

        let listener = TcpListener::bind(addr).await?;
        let base_url = format!("http://{}/", listener.local_addr()?);
        let state = State::new(base_url.clone(), config.webhook_secret);
        let shared = Arc::new(Shared::new(config.api_key, base_url, state, http));

        let app = router(shared.clone());
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(error = %error, "stripe emulator: server failed");
            }
        });
        tokio::spawn(run_delivery_worker(shared.clone()));
        tokio::spawn(run_sweeper(shared.clone()));
        tracing::info!(url = %shared.base_url, "stripe emulator listening");

        Ok(Self { shared })
    }

    fn shared(&self) -> &Shared {
        &self.shared
    }

    /// `http://127.0.0.1:PORT/`, with the trailing slash `ClientBuilder::url` expects.
    pub fn base_url(&self) -> String {
        self.shared().base_url.clone()
    }

    /// This run's token for the HTTP test controls: send it as `X-Emulator-Token` on every
    /// `/_emulator/…` request (the Rust methods here need none).
    pub fn control_token(&self) -> String {
        self.shared().control_token.clone()
    }

    /// Where signed events are POSTed. Events created before this is set wait in the queue.
    pub fn set_webhook_url(&self, url: impl Into<String>) {
        let url = url.into();
        self.shared().change_webhooks(|w| w.set_url(url));
    }

    /// The emulator's clock (Unix seconds): real time plus every `advance_clock`.
    pub fn now(&self) -> i64 {
        self.shared().now()
    }

    /// As clicking Pay: complete + paid, a `pi_`/`ch_` pair, `checkout.session.completed`.
    pub async fn pay(&self, session_id: &str) -> Result<(), String> {
        self.shared().pay(session_id, None).map_err(|r| r.to_string())
    }

    /// A declined card: the session stays open and no event is sent.
    pub async fn decline(&self, session_id: &str) -> Result<(), String> {
        self.shared().decline(session_id).map_err(|r| r.to_string())
    }

    /// A delayed method: complete + unpaid, `checkout.session.completed`.
    pub async fn pay_delayed(&self, session_id: &str) -> Result<(), String> {
        self.shared().pay_delayed(session_id).map_err(|r| r.to_string())
    }

    /// Settles a delayed payment: `…async_payment_succeeded` (then paid) or `…_failed`.
    pub async fn settle_delayed(&self, session_id: &str, succeed: bool) -> Result<(), String> {
        self.shared().settle_delayed(session_id, succeed).map_err(|r| r.to_string())
    }

    /// As if `expires_at` had passed: expired + `checkout.session.expired`.
    pub async fn expire(&self, session_id: &str) -> Result<(), String> {
        self.shared().expire(session_id).map_err(|r| r.to_string())
    }

    /// Moves the emulator's clock; overdue sessions expire on the next access or sweep.
    pub fn advance_clock(&self, seconds: i64) {
        self.shared().advance_clock(seconds);
    }

    /// While holding, new events are queued but not delivered.
    pub fn hold_events(&self, hold: bool) {
        self.shared().change_webhooks(|w| w.set_hold(hold));
    }

    /// Stops holding and delivers the held events in creation order, or reversed.
    pub async fn release_events(&self, reverse: bool) {
        self.shared().change_webhooks(|w| w.release(reverse));
    }

    /// Every event is delivered twice while on.
    pub fn duplicate_deliveries(&self, on: bool) {
        self.shared().change_webhooks(|w| w.set_duplicate(on));
    }

    /// The next `n` events are recorded but never delivered.
    pub fn drop_next_events(&self, n: usize) {
        self.shared().change_webhooks(|w| w.drop_next(n));
    }

    /// The next `n` delivery attempts fail without being sent, so retries kick in.
    pub fn fail_next_deliveries(&self, n: usize) {
        self.shared().change_webhooks(|w| w.fail_next(n));
    }

    /// Makes up to `n` delivery attempts at once, as Stripe does (1, the default, keeps them in
    /// queue order).
    pub fn set_delivery_concurrency(&self, n: usize) {
        self.shared().change_webhooks(|w| w.set_concurrency(n));
    }

    /// The next `n` API requests answer `status` (4xx/5xx) with an `api_error` envelope, and
    /// `Stripe-Should-Retry` when `should_retry` is given. They store no idempotent result.
    pub fn fail_next_requests(&self, status: u16, n: usize, should_retry: Option<bool>) {
        self.shared().fail_next_requests(status, n, should_retry);
    }

    /// Signs with `new_secret` and the previous secret (two `v1` values) from now on.
    pub fn rotate_webhook_secret(&self, new_secret: &str) {
        self.shared().change_webhooks(|w| w.rotate_secret(new_secret));
    }

    /// New refunds start `pending` and succeed within a second (with `refund.updated`).
    pub fn pending_refunds(&self, on: bool) {
        self.shared().update(|state, _| state.pending_refunds = on);
    }

    /// POSTs the event `event_id` (same id, same body) again.
    pub async fn redeliver(&self, event_id: &str) -> Result<(), String> {
        self.shared().redeliver(event_id).map_err(|r| r.to_string())
    }

    /// Every event created so far, oldest first.
    pub fn events(&self) -> Vec<Value> {
        self.shared().with_webhooks(|w| w.events())
    }

    /// How many times a Checkout Session was retrieved through the API so far.
    pub fn session_reads(&self) -> usize {
        self.shared().session_reads.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The session as the API would return it now (without line items).
    pub fn session(&self, session_id: &str) -> Option<Value> {
        self.shared().session_json(session_id)
    }

    /// Resolves when no delivery is queued or in flight (held events aside), or after 10 s.
    pub async fn wait_for_deliveries(&self) {
        self.shared().wait_for_deliveries().await;
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .merge(api::router(shared.clone()))
        .merge(pay_page::router())
        .merge(controls::router(shared.clone()))
        .with_state(shared)
}

/// Expires overdue sessions and settles pending refunds once a second, so their events are
/// sent even when nobody asks.
async fn run_sweeper(shared: Arc<Shared>) {
    let mut interval = tokio::time::interval(SWEEP_INTERVAL);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        shared.update(|state, now| state.settle_pending_refunds(now));
    }
}
