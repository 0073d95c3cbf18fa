//! Plan comparison lists: the sort orders and feature filters a traveller picks on a plan
//! list, and the one-line facts and badges each row shows.

use std::cmp::Ordering;
use std::str::FromStr;

use super::catalogue::{Plan, ValidityStart};

/// How a plan list is ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PlanSort {
    /// Cheapest first (the default).
    #[default]
    Price,
    /// Cheapest per GB first; unlimited plans, which have no price per GB, last.
    PricePerGb,
    /// Longest validity first.
    Days,
    /// Most data first; unlimited plans first of all.
    Data,
}

impl PlanSort {
    pub const ALL: &'static [PlanSort] = &[PlanSort::Price, PlanSort::PricePerGb, PlanSort::Days, PlanSort::Data];

    pub fn as_str(self) -> &'static str {
        match self {
            PlanSort::Price => "price",
            PlanSort::PricePerGb => "price_per_gb",
            PlanSort::Days => "days",
            PlanSort::Data => "data",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PlanSort::Price => "Price, lowest first",
            PlanSort::PricePerGb => "Price per GB, lowest first",
            PlanSort::Days => "Days, most first",
            PlanSort::Data => "Data, most first",
        }
    }
}

impl FromStr for PlanSort {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        PlanSort::ALL
            .iter()
            .copied()
            .find(|sort| sort.as_str() == s)
            .ok_or_else(|| "must be one of: price, price_per_gb, days, data".to_string())
    }
}

/// What a traveller narrows a plan list to; every `true` field must hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlanFeatures {
    pub unlimited: bool,
    pub hotspot: bool,
    pub five_g: bool,
    /// Validity starts on first connection at the destination, not at installation.
    pub on_arrival: bool,
}

impl PlanFeatures {
    pub fn any(&self) -> bool {
        self.unlimited || self.hotspot || self.five_g || self.on_arrival
    }

    pub fn admits(&self, plan: &Plan) -> bool {
        (!self.unlimited || plan.is_unlimited())
            && (!self.hotspot || plan.hotspot)
            && (!self.five_g || is_5g(plan))
            && (!self.on_arrival || plan.validity_start == ValidityStart::FirstConnection)
    }
}

/// A sort and a set of filters, as chosen on a plan list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlanView {
    pub sort: PlanSort,
    pub features: PlanFeatures,
}

impl PlanView {
    /// The plans that pass the filters, in the chosen order (stable: ties keep the input order,
    /// which is by price).
    pub fn apply<'a>(&self, plans: &[&'a Plan]) -> Vec<&'a Plan> {
        let mut out: Vec<&Plan> = plans.iter().copied().filter(|p| self.features.admits(p)).collect();
        out.sort_by(|a, b| compare(self.sort, a, b));
        out
    }
}

fn is_5g(plan: &Plan) -> bool {
    plan.network_generation.eq_ignore_ascii_case("5G")
}

/// Per-GB price in minor units scaled to compare exactly across plans: minor × 1024 / MB,
/// compared as the cross product, so no rounding or floats enter the order.
fn cmp_per_gb(a: &Plan, b: &Plan) -> Ordering {
    match (a.data_mb(), b.data_mb()) {
        (Some(ma), Some(mb)) => (a.price.minor as i128 * mb as i128).cmp(&(b.price.minor as i128 * ma as i128)),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

fn compare(sort: PlanSort, a: &Plan, b: &Plan) -> Ordering {
    let by_price = || (a.price.minor, &a.price.currency).cmp(&(b.price.minor, &b.price.currency));
    match sort {
        PlanSort::Price => by_price(),
        PlanSort::PricePerGb => cmp_per_gb(a, b).then_with(by_price),
        PlanSort::Days => b.validity_days.cmp(&a.validity_days).then_with(by_price),
        PlanSort::Data => {
            let data = |p: &Plan| p.data_mb().map_or(u64::MAX, u64::from);
            data(b).cmp(&data(a)).then_with(by_price)
        }
    }
}

/// The badges of a plan row, in a fixed order.
pub fn badges(plan: &Plan) -> Vec<&'static str> {
    let mut out = Vec::new();
    if plan.is_unlimited() {
        out.push("Unlimited");
    }
    if plan.hotspot {
        out.push("Hotspot");
    }
    if is_5g(plan) {
        out.push("5G");
    }
    if plan.validity_start == ValidityStart::FirstConnection {
        out.push("Starts on arrival");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::catalogue::{DataAllowance, PlanKind};
    use crate::domain::money::Money;

    fn plan(name: &str, minor: i64, mb: Option<u32>, days: u32, g: &str, hotspot: bool) -> Plan {
        Plan {
            id: uuid::Uuid::new_v4(),
            kind: PlanKind::Local,
            name: name.into(),
            destination_iso: Some("JP".into()),
            region_id: None,
            data: match mb {
                Some(mb) => DataAllowance::Limited { mb },
                None => DataAllowance::Unlimited { fair_use_mb: 2048, throttle_kbps: 512 },
            },
            validity_days: days,
            price: Money::new(minor, "USD"),
            validity_start: if hotspot { ValidityStart::FirstConnection } else { ValidityStart::Installation },
            hotspot,
            network_generation: g.into(),
            operators: vec![],
            top_up: false,
            on_sale: true,
            sim_card_group_id: None,
            fine_print: String::new(),
            coverage: vec!["JP".into()],
        }
    }

    fn names(plans: Vec<&Plan>) -> Vec<&str> {
        plans.into_iter().map(|p| p.name.as_str()).collect()
    }

    #[test]
    fn sorts_by_each_key_exactly() {
        let small = plan("1GB", 450, Some(1024), 7, "4G", false);
        let big = plan("10GB", 2600, Some(10 * 1024), 30, "5G", true);
        let unlimited = plan("unl", 3000, None, 15, "5G", true);
        // 3 GB at $7.79 is 259.67 c/GB, just under big's 260: only an exact comparison sees it.
        let three = plan("3GB", 779, Some(3 * 1024), 10, "4G", false);
        let all = [&small, &three, &big, &unlimited];
        let view = |sort| PlanView { sort, features: PlanFeatures::default() }.apply(&all);
        assert_eq!(names(view(PlanSort::Price)), ["1GB", "3GB", "10GB", "unl"]);
        assert_eq!(names(view(PlanSort::PricePerGb)), ["3GB", "10GB", "1GB", "unl"]);
        assert_eq!(names(view(PlanSort::Days)), ["10GB", "unl", "3GB", "1GB"]);
        assert_eq!(names(view(PlanSort::Data)), ["unl", "10GB", "3GB", "1GB"]);
    }

    #[test]
    fn filters_narrow_and_badges_name_the_features() {
        let small = plan("1GB", 450, Some(1024), 7, "4G", false);
        let unlimited = plan("unl", 3000, None, 15, "5G", true);
        let all = [&small, &unlimited];
        for features in [
            PlanFeatures { unlimited: true, ..Default::default() },
            PlanFeatures { hotspot: true, ..Default::default() },
            PlanFeatures { five_g: true, ..Default::default() },
            PlanFeatures { on_arrival: true, ..Default::default() },
        ] {
            assert!(features.any());
            assert_eq!(names(PlanView { sort: PlanSort::Price, features }.apply(&all)), ["unl"]);
        }
        assert_eq!(badges(&unlimited), ["Unlimited", "Hotspot", "5G", "Starts on arrival"]);
        assert!(badges(&small).is_empty());
        assert_eq!("price_per_gb".parse::<PlanSort>(), Ok(PlanSort::PricePerGb));
        assert!("cheapest".parse::<PlanSort>().is_err());
    }
}
