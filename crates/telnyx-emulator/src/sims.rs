//! One SIM card: `GET /sim_cards/{id}`, `PATCH /sim_cards/{id}` (data limit, tags, group,
//! authorized IMEIs) and `GET /sim_cards/{id}/activation_code`.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use serde_json::{Value, json};

use super::error::ApiError;
use super::generate::{activation_code, parse_amount};
use super::list::query_pairs;
use super::objects::{DataLimit, Sim};
use super::purchase::{string_list, uuid_string};
use super::state::{Now, Shared, State as EmulatorState};

impl EmulatorState {
    /// 404 `10005` for an unknown SIM (a bare error object under the `bare_not_found` quirk).
    pub fn sim_not_found(&self, id: &str) -> ApiError {
        ApiError::not_found(format!("SIM card {id} was not found.")).bare_if(self.quirks.bare_not_found)
    }

    pub fn find_sim(&self, id: &str) -> Result<&Sim, ApiError> {
        self.sim(id).ok_or_else(|| self.sim_not_found(id))
    }
}

pub async fn show_sim(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let mut include_pin_puk_codes = false;
    for (key, value) in query_pairs(query.as_deref()) {
        if key == "include_pin_puk_codes" {
            include_pin_puk_codes = match value.as_str() {
                "true" => true,
                "false" => false,
                _ => return Err(ApiError::invalid_parameter(&key, "include_pin_puk_codes must be true or false")),
            };
        }
    }
    shared.update(|state, _| {
        let sim = state.find_sim(&id)?;
        Ok(Json(json!({ "data": sim.full_json(include_pin_puk_codes) })))
    })
}

pub async fn update_sim(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let patch = SimPatch::parse(&body)?;
    shared.update(|state, now| {
        let not_found = state.sim_not_found(&id);
        let sim = state.sim_mut(&id).ok_or(not_found)?;
        patch.apply(sim, now);
        tracing::info!(esim.id = %sim.id, "telnyx emulator: SIM card updated");
        Ok(Json(json!({ "data": sim.full_json(false) })))
    })
}

pub async fn show_activation_code(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    shared.update(|state, _| {
        let sim = state.find_sim(&id)?;
        if sim.eid.is_some() {
            // Telnyx refuses, but its status and code are unconfirmed: 422/10015 is our choice.
            return Err(ApiError::unprocessable(
                "10015",
                "Activation code not available",
                "The eSIM profile is already installed on a device; its activation code cannot be retrieved again.",
            ));
        }
        let code = activation_code(&sim.matching_id, state.quirks.activation_code_extra_fields);
        Ok(Json(json!({ "data": { "record_type": "sim_card_activation_code", "activation_code": code } })))
    })
}

/// The writable fields of a PATCH; read-only `SIMCard` fields in the body are ignored.
#[derive(Debug, Default)]
struct SimPatch {
    data_limit: Option<DataLimit>,
    tags: Option<Vec<String>>,
    group_id: Option<String>,
    authorized_imeis: Option<Option<Vec<String>>>,
}

impl SimPatch {
    fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|_| ApiError::unreadable_body("The request body must be a JSON object."))?;
        let Some(object) = value.as_object() else {
            return Err(ApiError::invalid_field("", "The request body must be a JSON object."));
        };
        let mut patch = Self::default();
        if let Some(limit) = object.get("data_limit") {
            patch.data_limit = Some(data_limit(limit)?);
        }
        if let Some(tags) = object.get("tags") {
            patch.tags = Some(string_list(tags, "/tags")?);
        }
        if let Some(group) = object.get("sim_card_group_id") {
            let group = uuid_string(group)
                .ok_or_else(|| ApiError::invalid_field("/sim_card_group_id", "sim_card_group_id must be a UUID"))?;
            patch.group_id = Some(group);
        }
        if let Some(imeis) = object.get("authorized_imeis") {
            let imeis = if imeis.is_null() { None } else { Some(string_list(imeis, "/authorized_imeis")?) };
            patch.authorized_imeis = Some(imeis);
        }
        Ok(patch)
    }

    fn apply(self, sim: &mut Sim, now: &Now) {
        if let Some(limit) = self.data_limit {
            sim.data_limit = Some(limit);
        }
        if let Some(tags) = self.tags {
            sim.tags = tags;
        }
        if let Some(group) = self.group_id {
            sim.group_id = Some(group);
        }
        if let Some(imeis) = self.authorized_imeis {
            sim.authorized_imeis = imeis;
        }
        sim.updated_at = now.wall;
        sim.apply_limit();
    }
}

/// `{"amount": "<decimal string>", "unit": "MB" | "GB"}` (unit defaults to MB).
fn data_limit(value: &Value) -> Result<DataLimit, ApiError> {
    let Some(object) = value.as_object() else {
        return Err(ApiError::invalid_field("/data_limit", "data_limit must be an object with amount and unit"));
    };
    let amount = match object.get("amount") {
        None => return Err(ApiError::missing_field("/data_limit/amount")),
        // Telnyx amounts are decimal strings; whether numbers are accepted is unconfirmed.
        Some(Value::String(raw)) => parse_amount(raw).ok_or_else(|| {
            ApiError::invalid_field(
                "/data_limit/amount",
                "amount must be a non-negative decimal string such as \"2048.0\"",
            )
        })?,
        Some(_) => {
            return Err(ApiError::invalid_field(
                "/data_limit/amount",
                "amount must be a decimal string such as \"2048.0\", not a number",
            ));
        }
    };
    let unit = match object.get("unit").map(|u| u.as_str()) {
        None => "MB",
        Some(Some("MB")) => "MB",
        Some(Some("GB")) => "GB",
        Some(_) => return Err(ApiError::invalid_field("/data_limit/unit", "unit must be MB or GB")),
    };
    Ok(DataLimit { amount, unit })
}
