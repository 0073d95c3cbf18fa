//! `POST /actions/purchase/esims`: validates an `ESimPurchase`, creates as many eSIMs as the
//! inventory allows and answers 202 with them plus an `errors` list (`70001` when short).

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::DEFAULT_SIM_CARD_GROUP_ID;
use super::error::{ApiError, ErrorItem};
use super::generate;
use super::objects::{PinPuk, Running, Sim, SimStatus};
use super::state::{Now, Shared, State as EmulatorState};

/// The most eSIMs one request may buy: a guard for the emulator's memory, not a Telnyx rule.
const MAX_AMOUNT: u64 = 1_000;
/// Attempts at drawing identifiers no other SIM has before accepting a duplicate.
const UNIQUE_TRIES: usize = 20;

pub async fn purchase_esims(
    State(shared): State<Arc<Shared>>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let order = Order::parse(&body)?;
    let delay = shared.action_delay;
    let (sims, missing) = shared.update(|state, now| state.buy(&order, now, delay));
    tracing::info!(esim.count = sims.len(), esim.missing = missing, "telnyx emulator: eSIMs purchased");
    let errors: Vec<Value> = if missing > 0 { vec![ErrorItem::out_of_stock(missing).to_json()] } else { Vec::new() };
    Ok((StatusCode::ACCEPTED, Json(json!({ "data": sims, "errors": errors }))))
}

/// A validated `ESimPurchase`.
#[derive(Debug)]
pub struct Order {
    amount: u64,
    status: SimStatus,
    group_id: String,
    tags: Vec<String>,
}

impl Order {
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|_| ApiError::unreadable_body("The request body must be a JSON object."))?;
        let Some(object) = value.as_object() else {
            return Err(ApiError::invalid_field("", "The request body must be a JSON object."));
        };
        let amount = match object.get("amount") {
            None | Some(Value::Null) => return Err(ApiError::missing_field("/amount")),
            Some(amount) => integer(amount)
                .filter(|&n| n >= 1)
                .ok_or_else(|| ApiError::invalid_field("/amount", "amount must be an integer of at least 1"))?,
        };
        if amount > MAX_AMOUNT {
            return Err(ApiError::invalid_field("/amount", format!("amount must be at most {MAX_AMOUNT}")));
        }
        let status = match object.get("status") {
            None => SimStatus::Enabled,
            Some(status) => status.as_str().and_then(SimStatus::purchasable).ok_or_else(|| {
                ApiError::invalid_field("/status", "status must be one of: enabled, disabled, standby")
            })?,
        };
        let group_id = match object.get("sim_card_group_id") {
            None => DEFAULT_SIM_CARD_GROUP_ID.to_owned(),
            Some(group) => uuid_string(group)
                .ok_or_else(|| ApiError::invalid_field("/sim_card_group_id", "sim_card_group_id must be a UUID"))?,
        };
        let tags = match object.get("tags") {
            None => Vec::new(),
            Some(tags) => string_list(tags, "/tags")?,
        };
        check_spn(object)?;
        Ok(Self { amount, status, group_id, tags })
    }
}

/// `product` is a string; `whitelabel_name` only letters, digits and spaces.
fn check_spn(object: &Map<String, Value>) -> Result<(), ApiError> {
    if object.get("product").is_some_and(|p| !p.is_string()) {
        return Err(ApiError::invalid_field("/product", "product must be a string"));
    }
    if let Some(name) = object.get("whitelabel_name") {
        let valid = name.as_str().is_some_and(|n| n.chars().all(|c| c.is_alphanumeric() || c == ' '));
        if !valid {
            return Err(ApiError::invalid_field(
                "/whitelabel_name",
                "whitelabel_name must only contain letters, numbers and whitespaces",
            ));
        }
    }
    Ok(())
}

/// A JSON integer (`3` or `3.0`), if non-negative.
pub fn integer(value: &Value) -> Option<u64> {
    value.as_u64().or_else(|| value.as_f64().filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 1e15).map(|f| f as u64))
}

/// A hyphenated UUID string, as the spec's `format: uuid` wants.
pub fn uuid_string(value: &Value) -> Option<String> {
    let text = value.as_str()?;
    (text.len() == 36 && uuid::Uuid::parse_str(text).is_ok()).then(|| text.to_owned())
}

/// An array of strings; the error points at the bad element.
pub fn string_list(value: &Value, pointer: &str) -> Result<Vec<String>, ApiError> {
    let Some(items) = value.as_array() else {
        return Err(ApiError::invalid_field(pointer, format!("{} must be an array of strings", &pointer[1..])));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            item.as_str()
                .map(str::to_owned)
                .ok_or_else(|| ApiError::invalid_field(&format!("{pointer}/{i}"), "must be a string"))
        })
        .collect()
}

impl EmulatorState {
    /// Creates up to `order.amount` SIMs (fewer when the inventory is short); returns their
    /// `SimpleSIMCard` JSON and how many could not be created.
    pub fn buy(&mut self, order: &Order, now: &Now, action_delay: Duration) -> (Vec<Value>, u64) {
        let count = self.inventory.map_or(order.amount, |left| order.amount.min(left));
        if let Some(left) = &mut self.inventory {
            *left -= count;
        }
        let sims: Vec<Value> = (0..count).map(|_| self.create_sim(order, now, action_delay)).collect();
        if count > 0 {
            self.purchases += 1;
        }
        (sims, order.amount - count)
    }

    fn create_sim(&mut self, order: &Order, now: &Now, action_delay: Duration) -> Value {
        let mut ids = (generate::iccid(), generate::imsi(), generate::msisdn());
        for _ in 0..UNIQUE_TRIES {
            if !self.identifier_taken(&ids.0, &ids.1, &ids.2) {
                break;
            }
            ids = (generate::iccid(), generate::imsi(), generate::msisdn());
        }
        let (iccid, imsi, msisdn) = ids;
        let registering = self.quirks.start_registering;
        let sim = Sim {
            id: generate::uuid(),
            iccid,
            imsi,
            msisdn,
            status: if registering { SimStatus::Registering } else { order.status },
            group_id: Some(order.group_id.clone()),
            tags: order.tags.clone(),
            data_limit: None,
            usage_mb: 0.0,
            authorized_imeis: None,
            matching_id: generate::matching_id(),
            eid: None,
            imei: None,
            pin_puk: PinPuk {
                pin1: generate::pin(4),
                pin2: generate::pin(4),
                puk1: generate::pin(8),
                puk2: generate::pin(8),
            },
            running: registering.then(|| Running {
                action_id: None,
                previous: order.status,
                target: order.status,
                until: now.instant + action_delay,
            }),
            created_at: now.wall,
            updated_at: now.wall,
            tags_visible_at: now.instant + self.tag_visibility_delay,
        };
        let json = sim.simple_json();
        self.add_sim(sim);
        json
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// `base` moved on by `by`, on both clocks.
    pub fn later(base: &Now, by: Duration) -> Now {
        Now { instant: base.instant + by, wall: base.wall + by }
    }

    #[test]
    fn registering_sims_are_settled_once_their_delay_passed() {
        let mut state = EmulatorState::new(None);
        state.quirks.start_registering = true;
        let order = Order::parse(br#"{"amount": 2, "status": "disabled"}"#).expect("valid");
        let start = Now::new();
        let delay = Duration::from_secs(10);
        state.buy(&order, &start, delay);
        state.settle(&later(&start, Duration::from_secs(5)));
        // Bought after a settle, due before the first two.
        let soon = later(&start, Duration::from_secs(5));
        let one = Order::parse(br#"{"amount": 1, "status": "disabled"}"#).expect("valid");
        state.buy(&one, &soon, Duration::from_secs(1));
        let statuses = |state: &EmulatorState| state.sims.iter().map(|s| s.status).collect::<Vec<_>>();
        assert_eq!(statuses(&state), [SimStatus::Registering; 3]);

        state.settle(&later(&start, Duration::from_secs(6)));
        use SimStatus::{Disabled, Registering};
        assert_eq!(statuses(&state), [Registering, Registering, Disabled]);
        assert_eq!(state.sims[2].updated_at, later(&start, Duration::from_secs(6)).wall);
        state.settle(&later(&start, Duration::from_secs(60)));
        assert_eq!(statuses(&state), [Disabled; 3]);
        // Ended when the delay passed, not when settled.
        assert_eq!(state.sims[0].updated_at, later(&start, delay).wall);
        assert!(state.sims.iter().all(|s| s.running.is_none()));
    }

    #[test]
    fn every_sims_identifiers_are_taken() {
        let mut state = EmulatorState::new(None);
        let order = Order::parse(br#"{"amount": 3}"#).expect("valid");
        state.buy(&order, &Now::new(), Duration::ZERO);
        assert!(!state.identifier_taken("8900000000000000000", "000000000000000", "+10000000000"));
        for sim in state.sims.clone() {
            assert!(state.identifier_taken(&sim.iccid, "-", "-"));
            assert!(state.identifier_taken("-", &sim.imsi, "-"));
            assert!(state.identifier_taken("-", "-", &sim.msisdn));
        }
    }
}
