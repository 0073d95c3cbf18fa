//! Catalogue pages: home, destination search, a destination's plans, a plan's fine print.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};

use super::Layout;
use super::plan_list::{PlanControls, PlanRow};
use crate::domain::{Catalogue, Destination, Money, Plan, PlanKind, Region};
use crate::http::errors::HtmlError;
use crate::http::extract::QueryParams;
use crate::http::page::PageContext;
use crate::services::catalogue::{self as service, CatalogueStore};

/// A destination as a card: flag, name, cheapest price, number of plans.
pub struct DestinationCard<'a> {
    pub destination: &'a Destination,
    pub region_name: &'a str,
    pub from: Option<&'a Money>,
    pub plan_count: usize,
}

impl<'a> DestinationCard<'a> {
    fn new(catalogue: &'a Catalogue, destination: &'a Destination) -> Self {
        Self {
            destination,
            region_name: catalogue.region(&destination.region_id).map(|r| r.name.as_str()).unwrap_or(""),
            from: catalogue.cheapest_plan(&destination.iso).map(|p| &p.price),
            plan_count: catalogue.plans_covering(&destination.iso).len(),
        }
    }
}

pub struct RegionSection<'a> {
    pub region: &'a Region,
    pub destination_count: usize,
}

/// How many multi-country plans of each kind the home page shows before "See all".
const HOME_PLANS: usize = 6;

#[derive(Template, WebTemplate)]
#[template(path = "web/home.html")]
pub struct HomePage<'a> {
    pub ctx: PageContext,
    pub popular: Vec<DestinationCard<'a>>,
    pub regions: Vec<RegionSection<'a>>,
    pub regional_plans: Vec<PlanRow<'a>>,
    pub regional_total: usize,
    pub global_plans: Vec<PlanRow<'a>>,
    pub global_total: usize,
}

pub async fn home(State(store): State<CatalogueStore>) -> Response {
    let catalogue = store.snapshot();
    let c = &*catalogue;
    let (regional, global) = (c.plans_of_kind(PlanKind::Regional), c.plans_of_kind(PlanKind::Global));
    HomePage {
        ctx: PageContext::public(Layout::new("Travel eSIMs for 90+ destinations")),
        popular: c.popular_destinations().into_iter().map(|d| DestinationCard::new(c, d)).collect(),
        regions: c
            .regions()
            .iter()
            .map(|region| RegionSection { region, destination_count: c.destinations_in(&region.id).count() })
            .collect(),
        regional_plans: PlanRow::all(&regional[..regional.len().min(HOME_PLANS)]),
        regional_total: regional.len(),
        global_plans: PlanRow::all(&global[..global.len().min(HOME_PLANS)]),
        global_total: global.len(),
    }
    .into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "web/destinations.html")]
pub struct DestinationsPage<'a> {
    pub ctx: PageContext,
    pub q: String,
    pub selected_region: Option<&'a Region>,
    pub regions: &'a [Region],
    pub results: Vec<DestinationCard<'a>>,
    /// Regions the query named, each with its regional plans.
    pub region_results: Vec<RegionResult<'a>>,
    pub suggestion: Option<&'a str>,
}

pub struct RegionResult<'a> {
    pub region: &'a Region,
    pub destination_count: usize,
    pub plans: Vec<PlanRow<'a>>,
}

pub async fn list_destinations(
    State(store): State<CatalogueStore>,
    QueryParams(params): QueryParams,
) -> Result<Response, HtmlError> {
    let snapshot = store.snapshot();
    let c = &snapshot.catalogue;
    let search = service::search_destinations(&snapshot, &params)?;
    let title = match (search.q.is_empty(), search.region) {
        (false, _) => format!("Destinations matching “{}”", search.q),
        (true, Some(region)) => format!("eSIMs for {}", region.name),
        (true, None) => "All destinations".to_string(),
    };
    let mut layout = Layout::new(&title);
    layout.search_query = search.q.clone();
    Ok(DestinationsPage {
        ctx: PageContext::public(layout),
        q: search.q,
        selected_region: search.region,
        regions: c.regions(),
        results: search.results.into_iter().map(|d| DestinationCard::new(c, d)).collect(),
        region_results: search
            .regions
            .into_iter()
            .map(|region| RegionResult {
                region,
                destination_count: c.destinations_in(&region.id).count(),
                plans: PlanRow::all(&service::regional_plans(c, region)),
            })
            .collect(),
        suggestion: search.suggestion,
    }
    .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "web/destination.html")]
pub struct DestinationPage<'a> {
    pub ctx: PageContext,
    pub destination: &'a Destination,
    pub region: &'a Region,
    pub plans: Vec<&'a Plan>,
    pub local_count: usize,
    pub controls: PlanControls,
    pub rows: Vec<PlanRow<'a>>,
}

pub async fn show_destination(
    State(store): State<CatalogueStore>,
    Path(iso): Path<String>,
    QueryParams(params): QueryParams,
) -> Result<Response, HtmlError> {
    let catalogue = store.snapshot();
    let (destination, region, plans) = service::destination_with_plans(&catalogue, &iso)?;
    let view = service::plan_view(&params)?;
    let (controls, rows) = PlanControls::apply(format!("/destinations/{}", destination.slug()), view, &plans);
    let layout = Layout::new(&format!("{} eSIM data plans", destination.name)).described(format!(
        "Compare {} travel eSIM plans for {}: data, validity, price per GB, hotspot and network.",
        plans.len(),
        destination.name
    ));
    Ok(DestinationPage {
        ctx: PageContext::public(layout),
        destination,
        region,
        local_count: plans.iter().filter(|p| p.kind == PlanKind::Local).count(),
        plans,
        controls,
        rows,
    }
    .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "web/plan.html")]
pub struct PlanPage<'a> {
    pub ctx: PageContext,
    pub plan: &'a Plan,
    pub coverage: Vec<&'a Destination>,
    pub destination: Option<&'a Destination>,
    pub region: Option<&'a Region>,
    pub buy_url: String,
    /// Shown above the plan: a returning traveller who cancelled payment.
    pub notice: Option<&'static str>,
}

pub async fn show_plan(
    State(store): State<CatalogueStore>,
    Path(id): Path<String>,
    QueryParams(params): QueryParams,
) -> Result<Response, HtmlError> {
    let catalogue = store.snapshot();
    let c = &*catalogue;
    let plan = service::plan(c, &id)?;
    let layout = Layout::new(&plan.name).described(format!(
        "{}: {} for {}, {}. Full fine print and coverage.",
        plan.name,
        plan.data_label(),
        plan.validity_label(),
        plan.price
    ));
    Ok(PlanPage {
        ctx: PageContext::public(layout),
        plan,
        coverage: c.coverage_of(plan),
        destination: plan.destination_iso.as_deref().and_then(|iso| c.destination(iso)),
        region: plan.region_id.as_deref().and_then(|r| c.region(r)),
        buy_url: format!("/plans/{}/checkout", plan.id),
        notice: (params.text("checkout").ok().flatten().as_deref() == Some("cancelled"))
            .then_some("Payment cancelled: nothing was charged. You can buy this plan again whenever you like."),
    }
    .into_response())
}
