//! Asynchronous SIM card actions: `POST /sim_cards/{id}/actions/{enable|disable|set_standby}`
//! answers 202 with an `in-progress` action and moves the SIM to `enabling`/`disabling`/
//! `setting_standby`; after the configured delay the next access settles it (see
//! `State::settle`). `GET /sim_card_actions/{id}` follows one.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::error::ApiError;
use super::generate;
use super::objects::{Action, ActionKind, ActionStatus, Running, SimStatus};
use super::state::{Now, Shared, State as EmulatorState};

pub async fn start_action(
    State(shared): State<Arc<Shared>>,
    Path((id, action)): Path<(String, String)>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Some(kind) = ActionKind::from_path(&action) else {
        return Err(ApiError::not_found(format!("The emulator has no SIM card action named {action}.")));
    };
    let delay = shared.action_delay;
    shared.update(|state, now| {
        let action = state.start_action(&id, kind, now, delay)?;
        Ok((StatusCode::ACCEPTED, Json(json!({ "data": action }))))
    })
}

pub async fn show_action(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    shared.update(|state, _| match state.action(&id) {
        Some(action) => Ok(Json(json!({ "data": action.to_json() }))),
        None => {
            Err(ApiError::not_found(format!("SIM card action {id} was not found."))
                .bare_if(state.quirks.bare_not_found))
        }
    })
}

impl EmulatorState {
    /// Starts `kind` on the SIM, or refuses it: 422 while another action runs, over the data
    /// limit, or (enable, standby) without a SIM card group.
    fn start_action(&mut self, sim_id: &str, kind: ActionKind, now: &Now, delay: Duration) -> Result<Value, ApiError> {
        let sim = self.find_sim(sim_id)?;
        if sim.running.is_some() {
            return Err(ApiError::unprocessable(
                "10015",
                "Action in progress",
                "The SIM card has an action in progress; wait for it to finish.",
            ));
        }
        if sim.status == SimStatus::DataLimitExceeded {
            return Err(ApiError::unprocessable(
                "70000",
                "Data limit reached",
                "The SIM card is over its data limit: raise the limit or wait for the next billing period.",
            ));
        }
        if matches!(kind, ActionKind::Enable | ActionKind::SetStandby) && sim.group_id.is_none() {
            return Err(ApiError::unprocessable(
                "70007",
                "SIM card group required",
                "The SIM card must belong to a SIM card group to be enabled or set to standby.",
            ));
        }
        let previous = sim.status;
        let outcome = self.forced_action.take().unwrap_or(ActionStatus::Completed);
        let action = Action {
            id: generate::uuid(),
            sim_id: sim_id.to_owned(),
            kind,
            status: ActionStatus::InProgress,
            outcome,
            created_at: now.wall,
            updated_at: now.wall,
        };
        let (during, target) = kind.statuses();
        let running = Running { action_id: Some(action.id.clone()), previous, target, until: now.instant + delay };
        if let Some(sim) = self.start_running(sim_id, running) {
            sim.status = during;
            sim.updated_at = now.wall;
        }
        tracing::info!(esim.id = %sim_id, action.kind = kind.as_str(), "telnyx emulator: SIM card action started");
        let json = action.to_json();
        self.add_action(action);
        Ok(json)
    }

    /// A standby SIM that uses data is switched on by Telnyx: a completed
    /// `enable_standby_sim_card` action, and the SIM is `enabled`.
    pub fn enable_standby_sim(&mut self, sim_id: &str, now: &Now) {
        let Some(sim) = self.sim_mut(sim_id) else { return };
        if sim.status != SimStatus::Standby || sim.running.is_some() {
            return;
        }
        sim.status = SimStatus::Enabled;
        sim.updated_at = now.wall;
        self.add_action(Action {
            id: generate::uuid(),
            sim_id: sim_id.to_owned(),
            kind: ActionKind::EnableStandbySimCard,
            status: ActionStatus::Completed,
            outcome: ActionStatus::Completed,
            created_at: now.wall,
            updated_at: now.wall,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::purchase::Order;
    use crate::purchase::tests::later;

    #[test]
    fn an_action_ends_when_its_delay_passed_and_a_failed_one_restores_the_status() {
        let mut state = EmulatorState::new(None);
        let order = Order::parse(br#"{"amount": 2}"#).expect("valid");
        let start = Now::new();
        state.buy(&order, &start, Duration::ZERO);
        let busy = state.sims[0].id.clone();
        let delay = Duration::from_secs(10);
        let action = state.start_action(&busy, ActionKind::Disable, &start, delay).expect("started");
        let action_id = action["id"].as_str().expect("id").to_owned();

        state.settle(&later(&start, Duration::from_secs(9)));
        assert_eq!(state.sims[0].status, SimStatus::Disabling);
        assert_eq!(state.action(&action_id).map(|a| a.status.clone()), Some(ActionStatus::InProgress));
        let ended = later(&start, delay);
        state.settle(&later(&start, Duration::from_secs(30)));
        assert_eq!(state.sims[0].status, SimStatus::Disabled);
        assert_eq!(state.sims[0].updated_at, ended.wall);
        let action = state.action(&action_id).expect("stored");
        assert_eq!((action.status.clone(), action.updated_at), (ActionStatus::Completed, ended.wall));
        assert_eq!((state.sims[1].status, state.sims[1].updated_at), (SimStatus::Enabled, start.wall), "untouched");

        state.forced_action = Some(ActionStatus::Failed("no network".into()));
        let second = later(&start, Duration::from_secs(40));
        state.start_action(&busy, ActionKind::Enable, &second, delay).expect("started");
        assert_eq!(state.sims[0].status, SimStatus::Enabling);
        state.settle(&later(&second, delay));
        assert_eq!(state.sims[0].status, SimStatus::Disabled, "back to where it was");
        assert!(state.sims[0].running.is_none());
    }
}
