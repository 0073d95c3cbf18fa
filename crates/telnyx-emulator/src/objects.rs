//! SIM cards and SIM card actions as the emulator keeps them, and their JSON in the spec's
//! shapes (`SimpleSIMCard` for lists and purchases, `SIMCard` for one SIM, `SIMCardAction`).

use std::time::Instant;

use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use super::generate::{amount, timestamp};

/// MB in a GB for data limits. Telnyx does not say whether it is 1000 or 1024; the emulator
/// uses 1024 and clients should send MB anyway.
pub const MB_PER_GB: f64 = 1024.0;

/// `SIMCardStatus.value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimStatus {
    Registering,
    Enabling,
    Enabled,
    Disabling,
    Disabled,
    DataLimitExceeded,
    SettingStandby,
    Standby,
}

impl SimStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SimStatus::Registering => "registering",
            SimStatus::Enabling => "enabling",
            SimStatus::Enabled => "enabled",
            SimStatus::Disabling => "disabling",
            SimStatus::Disabled => "disabled",
            SimStatus::DataLimitExceeded => "data_limit_exceeded",
            SimStatus::SettingStandby => "setting_standby",
            SimStatus::Standby => "standby",
        }
    }

    /// The statuses a purchase may ask for (`ESimPurchase.status`).
    pub fn purchasable(value: &str) -> Option<Self> {
        match value {
            "enabled" => Some(SimStatus::Enabled),
            "disabled" => Some(SimStatus::Disabled),
            "standby" => Some(SimStatus::Standby),
            _ => None,
        }
    }

    fn reason(self) -> &'static str {
        match self {
            SimStatus::Registering => "SIM card is being registered.",
            SimStatus::Enabling => "SIM card is being enabled.",
            SimStatus::Enabled => "SIM card is active and can use data.",
            SimStatus::Disabling => "SIM card is being disabled.",
            SimStatus::Disabled => "SIM card is disabled and cannot use data.",
            SimStatus::DataLimitExceeded => {
                "SIM card reached its data limit; it can use data again once the limit is raised or a new billing period starts."
            }
            SimStatus::SettingStandby => "SIM card is being set to standby.",
            SimStatus::Standby => "SIM card is on standby; it will be enabled when it first uses data.",
        }
    }
}

/// `SIMCardAction.action_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind {
    Enable,
    EnableStandbySimCard,
    Disable,
    SetStandby,
}

impl ActionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Enable => "enable",
            ActionKind::EnableStandbySimCard => "enable_standby_sim_card",
            ActionKind::Disable => "disable",
            ActionKind::SetStandby => "set_standby",
        }
    }

    /// The action behind `POST /sim_cards/{id}/actions/{path}`.
    pub fn from_path(path: &str) -> Option<Self> {
        match path {
            "enable" => Some(ActionKind::Enable),
            "disable" => Some(ActionKind::Disable),
            "set_standby" => Some(ActionKind::SetStandby),
            _ => None,
        }
    }

    /// The SIM's status while the action runs, and once it completed.
    pub fn statuses(self) -> (SimStatus, SimStatus) {
        match self {
            ActionKind::Enable | ActionKind::EnableStandbySimCard => (SimStatus::Enabling, SimStatus::Enabled),
            ActionKind::Disable => (SimStatus::Disabling, SimStatus::Disabled),
            ActionKind::SetStandby => (SimStatus::SettingStandby, SimStatus::Standby),
        }
    }
}

/// `SIMCardAction.status`: terminal ones other than `completed` carry a reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionStatus {
    InProgress,
    Completed,
    Failed(String),
    Interrupted(String),
}

impl ActionStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            ActionStatus::InProgress => "in-progress",
            ActionStatus::Completed => "completed",
            ActionStatus::Failed(_) => "failed",
            ActionStatus::Interrupted(_) => "interrupted",
        }
    }

    /// A forced outcome from a test control: `failed` or `interrupted`.
    pub fn forced(status: &str, reason: &str) -> Option<Self> {
        match status {
            "failed" => Some(ActionStatus::Failed(reason.to_owned())),
            "interrupted" => Some(ActionStatus::Interrupted(reason.to_owned())),
            _ => None,
        }
    }

    fn to_json(&self) -> Value {
        match self {
            // The spec types `reason` as a plain string, so "no reason" is an absent key, not null.
            ActionStatus::InProgress | ActionStatus::Completed => json!({ "value": self.as_str() }),
            ActionStatus::Failed(reason) | ActionStatus::Interrupted(reason) => {
                json!({ "value": self.as_str(), "reason": reason })
            }
        }
    }
}

/// A per-SIM data limit as set (`unit` is `MB` or `GB`).
#[derive(Debug, Clone, PartialEq)]
pub struct DataLimit {
    pub amount: f64,
    pub unit: &'static str,
}

impl DataLimit {
    pub fn megabytes(&self) -> f64 {
        if self.unit == "GB" { self.amount * MB_PER_GB } else { self.amount }
    }
}

/// An action still running on a SIM (or the registration of a new SIM when `action_id` is None).
#[derive(Debug, Clone)]
pub struct Running {
    pub action_id: Option<String>,
    /// The status the SIM returns to when the action fails.
    pub previous: SimStatus,
    pub target: SimStatus,
    pub until: Instant,
}

#[derive(Debug, Clone)]
pub struct PinPuk {
    pub pin1: String,
    pub pin2: String,
    pub puk1: String,
    pub puk2: String,
}

#[derive(Debug, Clone)]
pub struct Sim {
    pub id: String,
    pub iccid: String,
    pub imsi: String,
    pub msisdn: String,
    pub status: SimStatus,
    pub group_id: Option<String>,
    pub tags: Vec<String>,
    pub data_limit: Option<DataLimit>,
    pub usage_mb: f64,
    pub authorized_imeis: Option<Vec<String>>,
    /// The matching id inside the activation code, fixed per SIM.
    pub matching_id: String,
    /// Set once the profile is installed on a device (a test control).
    pub eid: Option<String>,
    pub imei: Option<String>,
    pub pin_puk: PinPuk,
    pub running: Option<Running>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// Until then the SIM is left out of tag searches (a test control).
    pub tags_visible_at: Instant,
}

impl Sim {
    pub fn limit_exceeded(&self) -> bool {
        self.data_limit.as_ref().is_some_and(|limit| self.usage_mb >= limit.megabytes())
    }

    /// Moves between `enabled` and `data_limit_exceeded` after usage or the limit changed.
    pub fn apply_limit(&mut self) {
        match self.status {
            SimStatus::Enabled if self.limit_exceeded() => self.status = SimStatus::DataLimitExceeded,
            SimStatus::DataLimitExceeded if !self.limit_exceeded() => self.status = SimStatus::Enabled,
            _ => {}
        }
    }

    /// `SimpleSIMCard`: what lists and purchases return.
    pub fn simple_json(&self) -> Value {
        let mut sim = Map::new();
        sim.insert("id".into(), json!(self.id));
        sim.insert("record_type".into(), json!("sim_card"));
        sim.insert("type".into(), json!("esim"));
        sim.insert("status".into(), json!({ "value": self.status.as_str(), "reason": self.status.reason() }));
        sim.insert("iccid".into(), json!(self.iccid));
        sim.insert("imsi".into(), json!(self.imsi));
        sim.insert("msisdn".into(), json!(self.msisdn));
        // The spec types these as non-null objects/strings: when unset they are left out.
        if let Some(group) = &self.group_id {
            sim.insert("sim_card_group_id".into(), json!(group));
        }
        if let Some(limit) = &self.data_limit {
            sim.insert("data_limit".into(), json!({ "amount": amount(limit.amount), "unit": limit.unit }));
        }
        sim.insert("tags".into(), json!(self.tags));
        sim.insert(
            "current_billing_period_consumed_data".into(),
            json!({ "amount": amount(self.usage_mb), "unit": "MB" }),
        );
        sim.insert("actions_in_progress".into(), json!(self.running.is_some()));
        sim.insert("resources_with_in_progress_actions".into(), json!([]));
        sim.insert("esim_installation_status".into(), json!("released"));
        sim.insert("eid".into(), json!(self.eid));
        sim.insert("authorized_imeis".into(), json!(self.authorized_imeis));
        sim.insert("version".into(), json!("4.3"));
        sim.insert("voice_enabled".into(), json!(false));
        sim.insert("created_at".into(), json!(timestamp(self.created_at)));
        sim.insert("updated_at".into(), json!(timestamp(self.updated_at)));
        Value::Object(sim)
    }

    /// `SIMCard`: one SIM (GET, PATCH), with network details once a device uses it.
    pub fn full_json(&self, include_pin_puk_codes: bool) -> Value {
        let mut sim = self.simple_json();
        let connected = self.imei.is_some() && self.status == SimStatus::Enabled;
        sim["live_data_session"] = json!(if connected { "connected" } else { "disconnected" });
        if let Some(imei) = &self.imei {
            sim["current_imei"] = json!(imei);
            sim["current_mcc"] = json!("001");
            sim["current_mnc"] = json!("01");
        }
        if include_pin_puk_codes {
            let codes = &self.pin_puk;
            sim["pin_puk_codes"] =
                json!({ "pin1": codes.pin1, "pin2": codes.pin2, "puk1": codes.puk1, "puk2": codes.puk2 });
        }
        sim
    }
}

#[derive(Debug, Clone)]
pub struct Action {
    pub id: String,
    pub sim_id: String,
    pub kind: ActionKind,
    pub status: ActionStatus,
    /// How it ends: `completed` unless a test forced another outcome.
    pub outcome: ActionStatus,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl Action {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "record_type": "sim_card_action",
            "sim_card_id": self.sim_id,
            "action_type": self.kind.as_str(),
            "status": self.status.to_json(),
            "settings": {},
            "created_at": timestamp(self.created_at),
            "updated_at": timestamp(self.updated_at),
        })
    }
}
