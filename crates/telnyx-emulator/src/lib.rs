//! A local, stateful Telnyx SIM / eSIM API for tests and offline runs: eSIM purchase, SIM
//! search by tag, single SIMs, data limits, activation codes and asynchronous enable / disable /
//! standby actions, in Telnyx's wire format (JSON envelopes, string error codes, rate-limit
//! headers), plus test controls in Rust and under `/_emulator/…`. Point the Telnyx client's
//! base URL at [`TelnyxEmulator::base_url`].

mod actions;
mod control_auth;
mod controls;
mod error;
mod generate;
mod guard;
mod list;
mod objects;
mod purchase;
mod sims;
mod state;

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use serde_json::Value;
use tokio::net::TcpListener;

pub use self::state::Quirks;
use self::state::{Shared, State};

/// The group purchased eSIMs join when the request names none (Telnyx uses the account's
/// default group).
pub const DEFAULT_SIM_CARD_GROUP_ID: &str = "7d3e5a4b-2c1f-4e8d-9b6a-0f1e2d3c4b5a";

/// What the emulator accepts and how fast it is.
#[derive(Clone)]
pub struct TelnyxEmulatorConfig {
    /// The key clients must send as `Authorization: Bearer …`.
    pub api_key: String,
    /// How long enable/disable/standby actions stay in-progress (2 s for cargo run, 0 in tests).
    pub action_delay: Duration,
    /// SIMs left to sell; None = unlimited.
    pub inventory: Option<u64>,
}

/// A running emulator; clones share it. It serves until its tokio runtime shuts down.
#[derive(Clone)]
pub struct TelnyxEmulator {
    shared: Arc<Shared>,
}

/// Which requests an injected fault hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Any,
    Purchase,
    ListSims,
    GetSim,
    PatchSim,
    ActivationCode,
    Action,
    GetAction,
}

/// What happens instead of (or after) the normal answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// 500 with an errors envelope (code "10007").
    ServerError,
    /// 429 with {"errors":[{"code":"10011","title":"Too many requests",…}]}, x-ratelimit-remaining 0 and x-ratelimit-reset = this many seconds.
    RateLimited { reset_seconds: u64 },
    /// The response is delayed this long (so a client timeout fires) and then answered normally.
    Hang(Duration),
    /// Purchase only: 202 with the SIMs it could create (none) and an errors entry code "70001".
    OutOfStock,
}

/// One request to `/v2` and the answer it got.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    /// Path without the /v2 prefix, e.g. "/sim_cards/{uuid}/activation_code" (the concrete path).
    pub path: String,
    /// The raw query string ("" if none).
    pub query: String,
    /// The JSON request body, if any.
    pub body: Option<Value>,
    /// The answer's status; 499 when the client went away before the answer (a hang).
    pub status: u16,
    /// The JSON response body (serde_json::Value::Null when empty).
    pub response: Value,
}

impl TelnyxEmulator {
    /// Binds 127.0.0.1:0 and serves in a spawned tokio task.
    pub async fn start(config: TelnyxEmulatorConfig) -> io::Result<Self> {
        Self::start_on(config, SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await
    }

    /// As [`Self::start`], on `addr` (e.g. a fixed loopback port for `tern emulators`).
    pub async fn start_on(config: TelnyxEmulatorConfig, addr: SocketAddr) -> io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let base_url = format!("http://{}/v2", listener.local_addr()?);
        let state = State::new(config.inventory);
        let shared = Arc::new(Shared::new(config.api_key, base_url, config.action_delay, state));
        let app = router(shared.clone());
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(error = %error, "telnyx emulator: server failed");
            }
        });
        tracing::info!(url = %shared.base_url, "telnyx emulator listening");
        Ok(Self { shared })
    }

    /// "http://127.0.0.1:PORT/v2" (no trailing slash; the client appends "/sim_cards" etc.).
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// This run's token for the HTTP test controls: send it as `X-Emulator-Token` on every
    /// `/_emulator/…` request (the Rust methods here need none).
    pub fn control_token(&self) -> String {
        self.shared.control_token.clone()
    }

    /// The next `times` requests matching `target` get `fault` (processed before the normal work, so nothing is created).
    pub fn inject(&self, target: Target, fault: Fault, times: usize) {
        self.shared.inject(target, fault, times);
    }

    /// The next purchase creates its SIMs (and stores them) and THEN answers with `fault` (ServerError or Hang): the "partial success / crash after purchase" case.
    pub fn fail_next_purchase_after_creating(&self, fault: Fault) {
        self.shared.update(|state, _| state.after_create = Some(fault));
    }

    /// Newly purchased SIMs become visible in tag searches only after this delay.
    pub fn delay_tag_visibility(&self, delay: Duration) {
        self.shared.update(|state, _| state.tag_visibility_delay = delay);
    }

    pub fn set_inventory(&self, remaining: Option<u64>) {
        self.shared.update(|state, _| state.inventory = remaining);
    }

    /// Marks a SIM installed: sets a 32-digit eid; its activation code now answers 422.
    pub fn mark_installed(&self, sim_id: &str) -> Result<(), String> {
        self.shared.mark_installed(sim_id).map_err(|r| r.to_string())
    }

    /// Forces the next enable/disable/standby action to end `failed` or `interrupted` with this reason.
    /// Any other status is ignored (with a warning).
    pub fn force_next_action(&self, status: &str, reason: &str) {
        if let Err(refusal) = self.shared.force_next_action(status, reason) {
            tracing::warn!(error = %refusal, "telnyx emulator: force_next_action ignored");
        }
    }

    /// Adds usage to the current billing period; crossing the data limit of an enabled SIM sets
    /// `data_limit_exceeded`, and usage on a standby SIM enables it (`enable_standby_sim_card`).
    pub fn add_usage_mb(&self, sim_id: &str, mb: f64) -> Result<(), String> {
        self.shared.add_usage_mb(sim_id, mb).map_err(|r| r.to_string())
    }

    /// Usage back to "0.0"; a SIM held by its data limit is enabled again.
    pub fn new_billing_period(&self, sim_id: &str) -> Result<(), String> {
        self.shared.new_billing_period(sim_id).map_err(|r| r.to_string())
    }

    /// Every SIM card (full SIMCard JSON), in creation order.
    pub fn sims(&self) -> Vec<Value> {
        self.shared.update(|state, _| state.sims.iter().map(|s| s.full_json(false)).collect())
    }

    /// How many purchase requests created at least one SIM.
    pub fn purchases(&self) -> usize {
        self.shared.update(|state, _| state.purchases)
    }

    /// Every request received and the answer given, in order (for spec validation in tests).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.update(|state, _| state.recorded())
    }

    /// The requests received and not answered yet (a hung call, until its client hangs up);
    /// their `status` and `response` are not filled in.
    pub fn in_flight(&self) -> Vec<RecordedRequest> {
        self.shared.update(|state, _| state.in_flight())
    }

    /// Removes a SIM from its group, so enabling it fails with 70007 (purchases always assign
    /// a group, so this is the only way to reach that case).
    pub fn remove_from_group(&self, sim_id: &str) -> Result<(), String> {
        self.shared.remove_from_group(sim_id).map_err(|r| r.to_string())
    }

    /// A fixed window of `limit` requests per `window`; request `limit + 1` gets 429 `10011`.
    pub fn set_rate_limit(&self, limit: u64, window: Duration) {
        self.shared.update(|state, _| state.rate.reset(limit, window));
    }

    /// Turns the documented-but-loose response shapes on or off.
    pub fn set_quirks(&self, quirks: Quirks) {
        self.shared.update(|state, _| state.quirks = quirks);
    }
}

fn router(shared: Arc<Shared>) -> Router {
    let v2 = Router::new()
        .route("/actions/purchase/esims", post(purchase::purchase_esims))
        .route("/sim_cards", get(list::list_sims))
        .route("/sim_cards/{id}", get(sims::show_sim).patch(sims::update_sim))
        .route("/sim_cards/{id}/activation_code", get(sims::show_activation_code))
        .route("/sim_cards/{id}/actions/{action}", post(actions::start_action))
        .route("/sim_card_actions", get(list::list_actions))
        .route("/sim_card_actions/{id}", get(actions::show_action))
        .fallback(guard::unknown_route)
        .method_not_allowed_fallback(guard::unknown_route)
        .layer(axum::middleware::from_fn_with_state(shared.clone(), guard::guard));
    Router::new().nest("/v2", v2).merge(controls::router(shared.clone())).with_state(shared)
}
