//! The emulator's state behind one lock: SIMs, actions, inventory, injected faults, the
//! rate-limit budget and the request log. Actions finish lazily: every access first settles
//! those whose time has come.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;

use super::objects::{Action, ActionStatus, Running, Sim};
use super::{Fault, RecordedRequest, Target};

/// Requests kept for [`super::TelnyxEmulator::requests`]; older ones are dropped so a long
/// offline run does not grow without bound.
const MAX_RECORDED: usize = 10_000;
/// Requests allowed per window unless a test sets another budget. Telnyx's real limits are
/// unpublished; this one is only there to fill the headers.
pub const DEFAULT_RATE_LIMIT: u64 = 1_000;
pub const DEFAULT_RATE_WINDOW: Duration = Duration::from_secs(60);

/// Behaviour switches for the shapes Telnyx documents loosely (all off by default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Quirks {
    /// 401 answers have an empty body (some real 401s do).
    pub empty_401_body: bool,
    /// 404 answers are one bare error object, the spec's `wireless_ResourceNotFound` shape.
    pub bare_not_found: bool,
    /// Purchased SIMs start `registering` with `actions_in_progress` and reach the requested
    /// status after the action delay.
    pub start_registering: bool,
    /// Activation codes carry the SM-DP+ OID and the confirmation-code-required flag.
    pub activation_code_extra_fields: bool,
}

/// One moment, on both clocks: `Instant` for delays, wall time for timestamps.
#[derive(Debug, Clone, Copy)]
pub struct Now {
    pub instant: Instant,
    pub wall: OffsetDateTime,
}

impl Now {
    pub fn new() -> Self {
        Self { instant: Instant::now(), wall: OffsetDateTime::now_utc() }
    }

    /// The wall time of an earlier (or later) instant.
    pub fn wall_at(&self, instant: Instant) -> OffsetDateTime {
        match self.instant.checked_duration_since(instant) {
            Some(ago) => self.wall - ago,
            None => self.wall + instant.duration_since(self.instant),
        }
    }
}

/// A fault waiting for the requests it targets.
#[derive(Debug, Clone)]
pub struct Injected {
    pub target: Target,
    pub fault: Fault,
    pub remaining: usize,
}

/// The rate-limit headers of one answer.
#[derive(Debug, Clone, Copy)]
pub struct RateHeaders {
    pub limit: u64,
    pub remaining: u64,
    pub reset_seconds: u64,
}

/// A fixed window of `limit` requests.
#[derive(Debug)]
pub struct RateBudget {
    pub limit: u64,
    pub window: Duration,
    started: Instant,
    used: u64,
}

impl RateBudget {
    fn new(limit: u64, window: Duration) -> Self {
        Self { limit, window, started: Instant::now(), used: 0 }
    }

    pub fn reset(&mut self, limit: u64, window: Duration) {
        *self = Self::new(limit, window.max(Duration::from_secs(1)));
    }

    fn headers(&mut self, now: Instant) -> RateHeaders {
        if now.duration_since(self.started) >= self.window {
            self.started = now;
            self.used = 0;
        }
        let left = self.window.saturating_sub(now.duration_since(self.started));
        RateHeaders {
            limit: self.limit,
            remaining: self.limit.saturating_sub(self.used),
            reset_seconds: left.as_millis().div_ceil(1000) as u64,
        }
    }

    /// Counts one request; `Err` (with the headers of the refusal) when the budget is spent.
    pub fn take(&mut self, now: Instant) -> Result<RateHeaders, RateHeaders> {
        let headers = self.headers(now);
        if headers.remaining == 0 {
            return Err(headers);
        }
        self.used += 1;
        Ok(RateHeaders { remaining: headers.remaining - 1, ..headers })
    }

    pub fn peek(&mut self, now: Instant) -> RateHeaders {
        self.headers(now)
    }
}

/// A request in the log; its status and response are filled in once it was answered.
#[derive(Debug)]
struct Slot {
    request: RecordedRequest,
    answered: bool,
}

#[derive(Debug)]
pub struct State {
    /// Only [`State::add_sim`] adds SIMs, and only it and [`State::start_running`] set a SIM's
    /// `running`, so that the indexes below stay true.
    pub sims: Vec<Sim>,
    sim_index: HashMap<String, usize>,
    /// Indexes the SIMs whose `running` is set: `(until, position in sims)`, soonest first,
    /// so `settle` looks only at the actions whose time has come.
    running_until: BinaryHeap<Reverse<(Instant, usize)>>,
    /// Every ICCID, IMSI and MSISDN given to a SIM (they never change), for `identifier_taken`.
    iccids: HashSet<String>,
    imsis: HashSet<String>,
    msisdns: HashSet<String>,
    pub actions: Vec<Action>,
    action_index: HashMap<String, usize>,
    /// SIMs left to sell; None = unlimited.
    pub inventory: Option<u64>,
    pub faults: Vec<Injected>,
    /// Applied to the next purchase once it created its SIMs.
    pub after_create: Option<Fault>,
    pub tag_visibility_delay: Duration,
    pub forced_action: Option<ActionStatus>,
    pub purchases: usize,
    pub rate: RateBudget,
    pub quirks: Quirks,
    log: VecDeque<Slot>,
    /// Sequence number of `log[0]`.
    log_first: u64,
}

impl State {
    pub fn new(inventory: Option<u64>) -> Self {
        Self {
            sims: Vec::new(),
            sim_index: HashMap::new(),
            running_until: BinaryHeap::new(),
            iccids: HashSet::new(),
            imsis: HashSet::new(),
            msisdns: HashSet::new(),
            actions: Vec::new(),
            action_index: HashMap::new(),
            inventory,
            faults: Vec::new(),
            after_create: None,
            tag_visibility_delay: Duration::ZERO,
            forced_action: None,
            purchases: 0,
            rate: RateBudget::new(DEFAULT_RATE_LIMIT, DEFAULT_RATE_WINDOW),
            quirks: Quirks::default(),
            log: VecDeque::new(),
            log_first: 0,
        }
    }

    pub fn sim(&self, id: &str) -> Option<&Sim> {
        self.sim_index.get(id).map(|&i| &self.sims[i])
    }

    pub fn sim_mut(&mut self, id: &str) -> Option<&mut Sim> {
        self.sim_index.get(id).map(|&i| &mut self.sims[i])
    }

    pub fn action(&self, id: &str) -> Option<&Action> {
        self.action_index.get(id).map(|&i| &self.actions[i])
    }

    pub fn add_sim(&mut self, sim: Sim) {
        let index = self.sims.len();
        if let Some(running) = &sim.running {
            self.running_until.push(Reverse((running.until, index)));
        }
        self.iccids.insert(sim.iccid.clone());
        self.imsis.insert(sim.imsi.clone());
        self.msisdns.insert(sim.msisdn.clone());
        self.sim_index.insert(sim.id.clone(), index);
        self.sims.push(sim);
    }

    /// Sets the SIM's running action (settled once `running.until` has passed); returns the
    /// SIM, or None when there is no such SIM.
    pub fn start_running(&mut self, id: &str, running: Running) -> Option<&mut Sim> {
        let index = *self.sim_index.get(id)?;
        self.running_until.push(Reverse((running.until, index)));
        let sim = &mut self.sims[index];
        sim.running = Some(running);
        Some(sim)
    }

    pub fn add_action(&mut self, action: Action) {
        self.action_index.insert(action.id.clone(), self.actions.len());
        self.actions.push(action);
    }

    /// Whether a generated identifier is already taken by another SIM.
    pub fn identifier_taken(&self, iccid: &str, imsi: &str, msisdn: &str) -> bool {
        self.iccids.contains(iccid) || self.imsis.contains(imsi) || self.msisdns.contains(msisdn)
    }

    /// Ends every running action (and registration) whose time has come.
    pub fn settle(&mut self, now: &Now) {
        let Self { sims, actions, action_index, running_until, .. } = self;
        while running_until.peek().is_some_and(|Reverse((until, _))| *until <= now.instant) {
            let Some(Reverse((_, index))) = running_until.pop() else { break };
            let Some(sim) = sims.get_mut(index) else { continue };
            // One entry per `running` set, so this is the one it was pushed for (checked anyway).
            if sim.running.as_ref().is_none_or(|r| r.until > now.instant) {
                continue;
            }
            let Some(running) = sim.running.take() else { continue };
            let ended_at = now.wall_at(running.until);
            let action = running.action_id.as_ref().and_then(|id| action_index.get(id)).map(|&i| &mut actions[i]);
            sim.status = match action {
                Some(action) => {
                    action.status = action.outcome.clone();
                    action.updated_at = ended_at;
                    if action.status == ActionStatus::Completed { running.target } else { running.previous }
                }
                None => running.target,
            };
            sim.updated_at = ended_at;
            sim.apply_limit();
        }
    }

    /// The first injected fault aimed at `target` (consumed). `OutOfStock` only hits purchases.
    pub fn take_fault(&mut self, target: Option<Target>) -> Option<Fault> {
        let position = self.faults.iter().position(|f| {
            let aimed = f.target == Target::Any || Some(f.target) == target;
            aimed && (f.fault != Fault::OutOfStock || target == Some(Target::Purchase))
        })?;
        let entry = &mut self.faults[position];
        entry.remaining -= 1;
        let fault = entry.fault.clone();
        if entry.remaining == 0 {
            self.faults.remove(position);
        }
        Some(fault)
    }

    /// Logs a request as it arrives; its number is used to fill in the answer.
    pub fn record_request(&mut self, request: RecordedRequest) -> u64 {
        if self.log.len() >= MAX_RECORDED {
            self.log.pop_front();
            self.log_first += 1;
        }
        self.log.push_back(Slot { request, answered: false });
        self.log_first + self.log.len() as u64 - 1
    }

    pub fn record_answer(&mut self, seq: u64, status: u16, response: Value) {
        let Some(index) = seq.checked_sub(self.log_first) else { return };
        if let Some(slot) = self.log.get_mut(index as usize) {
            slot.request.status = status;
            slot.request.response = response;
            slot.answered = true;
        }
    }

    /// Every answered request, in the order they arrived.
    pub fn recorded(&self) -> Vec<RecordedRequest> {
        self.log.iter().filter(|s| s.answered).map(|s| s.request.clone()).collect()
    }

    /// Requests received and not answered yet (held by a hang, or being handled).
    pub fn in_flight(&self) -> Vec<RecordedRequest> {
        self.log.iter().filter(|s| !s.answered).map(|s| s.request.clone()).collect()
    }
}

/// State shared by the server and the [`super::TelnyxEmulator`] handle (no `Debug`: it holds
/// the API key).
pub struct Shared {
    pub api_key: String,
    pub base_url: String,
    /// What `/_emulator/…` requests must send (`control_auth`).
    pub control_token: String,
    pub action_delay: Duration,
    state: Mutex<State>,
}

impl Shared {
    pub fn new(api_key: String, base_url: String, action_delay: Duration, state: State) -> Self {
        let control_token = super::control_auth::generate();
        Self { api_key, base_url, control_token, action_delay, state: Mutex::new(state) }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind; keep serving it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the state after settling finished actions. Never held across an `.await`.
    pub fn update<R>(&self, f: impl FnOnce(&mut State, &Now) -> R) -> R {
        let now = Now::new();
        let mut state = self.lock();
        state.settle(&now);
        f(&mut state, &now)
    }
}
