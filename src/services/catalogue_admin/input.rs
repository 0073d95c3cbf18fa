//! The admin catalogue forms as typed: every field a string (yes/no fields aside), so that a
//! form that is not accepted comes back exactly as it was sent.

use serde::Deserialize;

use crate::domain::{DataAllowance, Destination, Plan, PlanKind, ValidityStart};

/// The destination form as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct DestinationInput {
    /// Only read when creating: the code is the key other rows refer to.
    pub iso: String,
    pub name: String,
    /// Comma-separated.
    pub aliases: String,
    pub region: String,
    pub popularity_rank: String,
}

impl DestinationInput {
    /// The form filled in with a destination's current values.
    pub fn of(d: &Destination) -> Self {
        Self {
            iso: d.iso.clone(),
            name: d.name.clone(),
            aliases: d.aliases.join(", "),
            region: d.region_id.clone(),
            popularity_rank: d.popularity_rank.map(|r| r.to_string()).unwrap_or_default(),
        }
    }
}

/// The plan form as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct PlanInput {
    pub name: String,
    pub kind: String,
    pub destination: String,
    pub region: String,
    /// ISO codes separated by commas or spaces.
    pub coverage: String,
    /// Megabytes, or `unlimited`.
    pub data: String,
    pub fair_use_mb: String,
    pub throttle_kbps: String,
    pub validity_days: String,
    /// In the currency's major unit: `12.99`.
    pub price: String,
    pub currency: String,
    pub validity_start: String,
    pub hotspot: bool,
    pub network_generation: String,
    /// Comma-separated.
    pub operators: String,
    pub top_up: bool,
    pub on_sale: bool,
    pub sim_card_group_id: String,
    pub fine_print: String,
}

impl PlanInput {
    /// A new plan's starting values.
    pub fn new_plan() -> Self {
        Self {
            kind: PlanKind::Local.as_str().into(),
            currency: "USD".into(),
            validity_start: ValidityStart::FirstConnection.as_str().into(),
            network_generation: "4G".into(),
            on_sale: true,
            ..Self::default()
        }
    }

    /// The form filled in with a plan's current values.
    pub fn of(p: &Plan) -> Self {
        let (data, fair_use_mb, throttle_kbps) = match p.data {
            DataAllowance::Limited { mb } => (mb.to_string(), String::new(), String::new()),
            DataAllowance::Unlimited { fair_use_mb, throttle_kbps } => {
                ("unlimited".into(), fair_use_mb.to_string(), throttle_kbps.to_string())
            }
        };
        Self {
            name: p.name.clone(),
            kind: p.kind.as_str().into(),
            destination: p.destination_iso.clone().unwrap_or_default(),
            region: p.region_id.clone().unwrap_or_default(),
            coverage: if p.kind == PlanKind::Local { String::new() } else { p.coverage.join(", ") },
            data,
            fair_use_mb,
            throttle_kbps,
            validity_days: p.validity_days.to_string(),
            price: p.price.decimal(),
            currency: p.price.currency.clone(),
            validity_start: p.validity_start.as_str().into(),
            hotspot: p.hotspot,
            network_generation: p.network_generation.clone(),
            operators: p.operators.join(", "),
            top_up: p.top_up,
            on_sale: p.on_sale,
            sim_card_group_id: p.sim_card_group_id.map(|g| g.to_string()).unwrap_or_default(),
            fine_print: p.fine_print.clone(),
        }
    }
}
