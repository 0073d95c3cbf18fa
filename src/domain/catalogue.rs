//! Regions, destinations and plans, and the in-memory catalogue snapshot the storefront and
//! the API read from.

use std::collections::HashMap;
use std::str::FromStr;

use uuid::Uuid;

use super::money::Money;
use super::search;

mod flags;
pub use flags::{FLAG_CODES, NEUTRAL_FLAG_FILE, RASTER_FLAG_CODES, flag_code};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    /// A slug: `europe`, `latin-america`.
    pub id: String,
    pub name: String,
    pub sort_order: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// ISO 3166-1 alpha-2, upper case.
    pub iso: String,
    pub name: String,
    pub aliases: Vec<String>,
    pub region_id: String,
    /// Set for destinations shown as popular; lower ranks first.
    pub popularity_rank: Option<i32>,
}

impl Destination {
    /// The ISO code in lower case, as used in URLs.
    pub fn slug(&self) -> String {
        self.iso.to_ascii_lowercase()
    }
}

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(format!(
                        "must be one of: {}",
                        [$($text),+].join(", ")
                    )),
                }
            }
        }
    };
}

string_enum!(
    /// Where a plan works: one country, a list of countries, or worldwide.
    PlanKind { Local = "local", Regional = "regional", Global = "global" }
);

string_enum!(
    /// When a plan's validity period starts counting.
    ValidityStart { FirstConnection = "first_connection", Installation = "installation" }
);

impl PlanKind {
    pub fn label(self) -> &'static str {
        match self {
            PlanKind::Local => "Local",
            PlanKind::Regional => "Regional",
            PlanKind::Global => "Global",
        }
    }
}

impl ValidityStart {
    pub fn label(self) -> &'static str {
        match self {
            ValidityStart::FirstConnection => "On first connection",
            ValidityStart::Installation => "On installation",
        }
    }
}

/// How much data a plan includes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataAllowance {
    Limited {
        mb: u32,
    },
    /// Unlimited, at full speed up to `fair_use_mb` a day, then throttled to `throttle_kbps`.
    Unlimited {
        fair_use_mb: u32,
        throttle_kbps: u32,
    },
}

/// Formats megabytes as travellers read them: `500 MB`, `1 GB`, `1.5 GB`.
pub fn format_mb(mb: u32) -> String {
    if mb < 1024 {
        return format!("{mb} MB");
    }
    let tenths = (mb as u64 * 10 + 512) / 1024;
    if tenths.is_multiple_of(10) {
        format!("{} GB", tenths / 10)
    } else {
        format!("{}.{} GB", tenths / 10, tenths % 10)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub id: Uuid,
    pub kind: PlanKind,
    pub name: String,
    /// The country of a local plan.
    pub destination_iso: Option<String>,
    /// The region a regional plan is sold under.
    pub region_id: Option<String>,
    pub data: DataAllowance,
    pub validity_days: u32,
    pub price: Money,
    pub validity_start: ValidityStart,
    pub hotspot: bool,
    /// `4G` or `5G`.
    pub network_generation: String,
    pub operators: Vec<String>,
    pub top_up: bool,
    pub on_sale: bool,
    pub sim_card_group_id: Option<Uuid>,
    pub fine_print: String,
    /// ISO codes of every country the plan works in, sorted.
    pub coverage: Vec<String>,
}

impl Plan {
    pub fn is_unlimited(&self) -> bool {
        matches!(self.data, DataAllowance::Unlimited { .. })
    }

    pub fn data_mb(&self) -> Option<u32> {
        match self.data {
            DataAllowance::Limited { mb } => Some(mb),
            DataAllowance::Unlimited { .. } => None,
        }
    }

    /// `10 GB` or `Unlimited`.
    pub fn data_label(&self) -> String {
        match self.data {
            DataAllowance::Limited { mb } => format_mb(mb),
            DataAllowance::Unlimited { .. } => "Unlimited".to_string(),
        }
    }

    /// `30 days`, `1 day`.
    pub fn validity_label(&self) -> String {
        match self.validity_days {
            1 => "1 day".to_string(),
            n => format!("{n} days"),
        }
    }

    /// The fair-use rule of an unlimited plan, in words.
    pub fn fair_use_label(&self) -> Option<String> {
        match self.data {
            DataAllowance::Unlimited { fair_use_mb, throttle_kbps } => Some(format!(
                "Full speed for the first {} each day, then {} kbps for the rest of the day",
                format_mb(fair_use_mb),
                throttle_kbps
            )),
            DataAllowance::Limited { .. } => None,
        }
    }

    /// Price per GB (1024 MB); none for unlimited plans.
    pub fn price_per_gb(&self) -> Option<Money> {
        self.data_mb().map(|mb| self.price.div_round(1024, mb as i64))
    }

    pub fn price_per_gb_label(&self) -> String {
        match self.price_per_gb() {
            Some(m) => format!("{m}/GB"),
            None => "—".to_string(),
        }
    }

    pub fn covers(&self, iso: &str) -> bool {
        self.coverage.binary_search_by(|c| c.as_str().cmp(iso)).is_ok()
    }
}

/// Which on-sale plans a listing wants; every field narrows the result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanFilter {
    /// Plans that work in this country (local, regional and global).
    pub destination: Option<String>,
    /// Regional plans sold under this region and local plans of its countries.
    pub region: Option<String>,
    pub kind: Option<PlanKind>,
    pub min_days: Option<u32>,
    /// In minor units of the plan's currency.
    pub max_price_minor: Option<i64>,
    pub unlimited: Option<bool>,
}

/// An immutable snapshot of the whole catalogue with its look-up indexes.
#[derive(Debug, Default)]
pub struct Catalogue {
    regions: Vec<Region>,
    destinations: Vec<Destination>,
    /// All plans, on sale or not, sorted by price then name.
    plans: Vec<Plan>,
    region_index: HashMap<String, usize>,
    destination_index: HashMap<String, usize>,
    plan_index: HashMap<Uuid, usize>,
    /// Per ISO code: on-sale plans covering it, in price order (indexes into `plans`).
    plans_by_destination: HashMap<String, Vec<usize>>,
    /// Per destination (same order as `destinations`): folded name, ISO code and aliases.
    search_keys: Vec<Vec<String>>,
}

impl Catalogue {
    pub fn new(mut regions: Vec<Region>, mut destinations: Vec<Destination>, mut plans: Vec<Plan>) -> Self {
        regions.sort_by(|a, b| a.sort_order.cmp(&b.sort_order).then_with(|| a.name.cmp(&b.name)));
        destinations.sort_by_cached_key(|d| search::fold(&d.name));
        plans.sort_by(|a, b| {
            (a.price.minor, &a.price.currency, &a.name).cmp(&(b.price.minor, &b.price.currency, &b.name))
        });
        for plan in &mut plans {
            plan.coverage.sort();
            plan.coverage.dedup();
        }
        let region_index = regions.iter().enumerate().map(|(i, r)| (r.id.clone(), i)).collect();
        let destination_index = destinations.iter().enumerate().map(|(i, d)| (d.iso.clone(), i)).collect();
        let plan_index = plans.iter().enumerate().map(|(i, p)| (p.id, i)).collect();
        let mut plans_by_destination: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, plan) in plans.iter().enumerate().filter(|(_, p)| p.on_sale) {
            for iso in &plan.coverage {
                plans_by_destination.entry(iso.clone()).or_default().push(i);
            }
        }
        let search_keys = destinations
            .iter()
            .map(|d| {
                let mut keys = vec![search::fold(&d.name), d.iso.to_ascii_lowercase()];
                keys.extend(d.aliases.iter().map(|a| search::fold(a)));
                keys
            })
            .collect();
        Self {
            regions,
            destinations,
            plans,
            region_index,
            destination_index,
            plan_index,
            plans_by_destination,
            search_keys,
        }
    }

    pub fn regions(&self) -> &[Region] {
        &self.regions
    }

    pub fn region(&self, id: &str) -> Option<&Region> {
        self.region_index.get(id).map(|&i| &self.regions[i])
    }

    /// Every destination, by name.
    pub fn destinations(&self) -> &[Destination] {
        &self.destinations
    }

    /// A destination by ISO code, in any case.
    pub fn destination(&self, iso: &str) -> Option<&Destination> {
        self.destination_index.get(&iso.to_ascii_uppercase()).map(|&i| &self.destinations[i])
    }

    pub fn destinations_in(&self, region_id: &str) -> impl Iterator<Item = &Destination> {
        self.destinations.iter().filter(move |d| d.region_id == region_id)
    }

    /// Destinations with a popularity rank, best first.
    pub fn popular_destinations(&self) -> Vec<&Destination> {
        let mut popular: Vec<&Destination> = self.destinations.iter().filter(|d| d.popularity_rank.is_some()).collect();
        popular.sort_by_key(|d| d.popularity_rank);
        popular
    }

    /// Destinations matching a free-text query (name, ISO code or alias; case and accents
    /// ignored), best matches first, optionally within one region. An empty query lists all.
    pub fn search_destinations(&self, query: &str, region_id: Option<&str>) -> Vec<&Destination> {
        let folded = search::fold(query);
        let mut hits: Vec<(u8, usize)> = self
            .destinations
            .iter()
            .enumerate()
            .filter(|(_, d)| region_id.is_none_or(|r| d.region_id == r))
            .filter_map(|(i, _)| search::best_score(&folded, &self.search_keys[i]).map(|s| (s, i)))
            .collect();
        hits.sort();
        hits.into_iter().map(|(_, i)| &self.destinations[i]).collect()
    }

    /// A plan by id, whether on sale or not.
    pub fn plan(&self, id: Uuid) -> Option<&Plan> {
        self.plan_index.get(&id).map(|&i| &self.plans[i])
    }

    /// The destinations a plan works in, by name.
    pub fn coverage_of(&self, plan: &Plan) -> Vec<&Destination> {
        self.destinations.iter().filter(|d| plan.covers(&d.iso)).collect()
    }

    /// On-sale plans that work in a country, cheapest first.
    pub fn plans_covering(&self, iso: &str) -> Vec<&Plan> {
        self.plans_by_destination
            .get(&iso.to_ascii_uppercase())
            .map(|ids| ids.iter().map(|&i| &self.plans[i]).collect())
            .unwrap_or_default()
    }

    /// The cheapest on-sale plan that works in a country.
    pub fn cheapest_plan(&self, iso: &str) -> Option<&Plan> {
        self.plans_by_destination.get(&iso.to_ascii_uppercase()).and_then(|ids| ids.first()).map(|&i| &self.plans[i])
    }

    /// On-sale plans of one kind, cheapest first.
    pub fn plans_of_kind(&self, kind: PlanKind) -> Vec<&Plan> {
        self.on_sale().filter(|p| p.kind == kind).collect()
    }

    /// On-sale plans matching a filter, cheapest first.
    pub fn filter_plans(&self, filter: &PlanFilter) -> Vec<&Plan> {
        let destination = filter.destination.as_deref().map(str::to_ascii_uppercase);
        self.on_sale()
            .filter(|p| destination.as_deref().is_none_or(|iso| p.covers(iso)))
            .filter(|p| {
                filter.region.as_deref().is_none_or(|r| {
                    p.region_id.as_deref() == Some(r)
                        || p.destination_iso
                            .as_deref()
                            .and_then(|iso| self.destination(iso))
                            .is_some_and(|d| d.region_id == r)
                })
            })
            .filter(|p| filter.kind.is_none_or(|k| p.kind == k))
            .filter(|p| filter.min_days.is_none_or(|d| p.validity_days >= d))
            .filter(|p| filter.max_price_minor.is_none_or(|m| p.price.minor <= m))
            .filter(|p| filter.unlimited.is_none_or(|u| p.is_unlimited() == u))
            .collect()
    }

    fn on_sale(&self) -> impl Iterator<Item = &Plan> {
        self.plans.iter().filter(|p| p.on_sale)
    }

    /// Number of plans on sale.
    pub fn plans_on_sale(&self) -> usize {
        self.on_sale().count()
    }
}

#[cfg(test)]
mod tests;
