//! The JSON shapes of the catalogue API (`…Response`), documented in the OpenAPI document.

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::{Catalogue, DataAllowance, Destination, Money, Plan, Region};

/// An amount of money.
#[derive(Debug, Serialize, ToSchema)]
pub struct MoneyResponse {
    /// In minor units of the currency (cents): 1299 is 12.99.
    #[schema(example = 1299)]
    pub amount_minor: i64,
    /// ISO 4217 code, upper case.
    #[schema(example = "USD")]
    pub currency: String,
    /// For display: `$12.99`.
    #[schema(example = "$12.99")]
    pub formatted: String,
}

impl From<&Money> for MoneyResponse {
    fn from(m: &Money) -> Self {
        Self { amount_minor: m.minor, currency: m.currency.clone(), formatted: m.to_string() }
    }
}

/// Paging of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListMeta {
    /// 1-based page number.
    pub page: u32,
    pub per_page: u32,
    /// Items in the whole list, over all pages.
    pub total: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegionResponse {
    /// Slug, used as the `region` filter.
    #[schema(example = "europe")]
    pub id: String,
    #[schema(example = "Europe")]
    pub name: String,
    pub destination_count: usize,
}

impl RegionResponse {
    pub fn new(c: &Catalogue, r: &Region) -> Self {
        Self { id: r.id.clone(), name: r.name.clone(), destination_count: c.destinations_in(&r.id).count() }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegionList {
    pub data: Vec<RegionResponse>,
    pub meta: ListMeta,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DestinationResponse {
    /// ISO 3166-1 alpha-2 code.
    #[schema(example = "JP")]
    pub iso: String,
    #[schema(example = "Japan")]
    pub name: String,
    /// Other names it is found by.
    pub aliases: Vec<String>,
    /// Region id.
    #[schema(example = "asia")]
    pub region: String,
    /// Flag emoji.
    pub flag: String,
    /// Rank among popular destinations (1 = most popular), if it is one.
    pub popularity_rank: Option<i32>,
    /// Cheapest on-sale plan that works there.
    pub from_price: Option<MoneyResponse>,
    /// On-sale plans that work there (local, regional and global).
    pub plan_count: usize,
}

impl DestinationResponse {
    pub fn new(c: &Catalogue, d: &Destination) -> Self {
        Self {
            iso: d.iso.clone(),
            name: d.name.clone(),
            aliases: d.aliases.clone(),
            region: d.region_id.clone(),
            flag: d.flag(),
            popularity_rank: d.popularity_rank,
            from_price: c.cheapest_plan(&d.iso).map(|p| (&p.price).into()),
            plan_count: c.plans_covering(&d.iso).len(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DestinationList {
    pub data: Vec<DestinationResponse>,
    pub meta: ListMeta,
}

/// A destination with every on-sale plan that works there, cheapest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct DestinationDetailResponse {
    #[serde(flatten)]
    pub destination: DestinationResponse,
    pub plans: Vec<PlanResponse>,
}

/// The fair-use rule of an unlimited plan.
#[derive(Debug, Serialize, ToSchema)]
pub struct FairUseResponse {
    /// Full-speed data per day, in MB.
    pub daily_mb: u32,
    /// Speed after that, until the day ends.
    pub throttle_kbps: u32,
    /// The rule in words.
    pub description: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanResponse {
    pub id: Uuid,
    /// `local`, `regional` or `global`.
    #[schema(example = "local")]
    pub kind: String,
    #[schema(example = "Japan 10 GB · 30 days")]
    pub name: String,
    /// ISO code of a local plan's country.
    pub destination: Option<String>,
    /// Region id of a regional plan.
    pub region: Option<String>,
    /// Data in MB; null when unlimited.
    #[schema(example = 10240)]
    pub data_mb: Option<u32>,
    pub unlimited: bool,
    /// Present for unlimited plans.
    pub fair_use: Option<FairUseResponse>,
    #[schema(example = 30)]
    pub validity_days: u32,
    /// When validity starts: `first_connection` or `installation`.
    #[schema(example = "first_connection")]
    pub validity_start: String,
    pub price: MoneyResponse,
    /// Price per GB (1024 MB); null when unlimited.
    pub price_per_gb: Option<MoneyResponse>,
    pub hotspot: bool,
    /// `4G` or `5G`.
    #[schema(example = "5G")]
    pub network_generation: String,
    pub operators: Vec<String>,
    pub top_up: bool,
    pub on_sale: bool,
    pub fine_print: String,
    /// ISO codes of every country the plan works in.
    pub coverage: Vec<String>,
}

impl From<&Plan> for PlanResponse {
    fn from(p: &Plan) -> Self {
        let fair_use = match p.data {
            DataAllowance::Unlimited { fair_use_mb, throttle_kbps } => Some(FairUseResponse {
                daily_mb: fair_use_mb,
                throttle_kbps,
                description: p.fair_use_label().unwrap_or_default(),
            }),
            DataAllowance::Limited { .. } => None,
        };
        Self {
            id: p.id,
            kind: p.kind.as_str().to_string(),
            name: p.name.clone(),
            destination: p.destination_iso.clone(),
            region: p.region_id.clone(),
            data_mb: p.data_mb(),
            unlimited: p.is_unlimited(),
            fair_use,
            validity_days: p.validity_days,
            validity_start: p.validity_start.as_str().to_string(),
            price: (&p.price).into(),
            price_per_gb: p.price_per_gb().as_ref().map(Into::into),
            hotspot: p.hotspot,
            network_generation: p.network_generation.clone(),
            operators: p.operators.clone(),
            top_up: p.top_up,
            on_sale: p.on_sale,
            fine_print: p.fine_print.clone(),
            coverage: p.coverage.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanList {
    pub data: Vec<PlanResponse>,
    pub meta: ListMeta,
}
