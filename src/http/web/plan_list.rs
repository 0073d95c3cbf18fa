//! Plan comparison on the storefront: compact plan rows (data · days · price · price per GB,
//! badges, a Buy button) and the sort-and-filter GET form shared by every plan list, plus the
//! page listing regional and global plans.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

use super::Layout;
use crate::domain::plan_list::{self, PlanSort, PlanView};
use crate::domain::{Plan, PlanKind};
use crate::http::errors::HtmlError;
use crate::http::extract::QueryParams;
use crate::http::page::PageContext;
use crate::services::catalogue::{self as service, CatalogueStore};

/// One plan as a compact row.
#[derive(Clone)]
pub struct PlanRow<'a> {
    pub plan: &'a Plan,
    pub badges: Vec<&'static str>,
}

impl<'a> PlanRow<'a> {
    pub fn new(plan: &'a Plan) -> Self {
        Self { plan, badges: plan_list::badges(plan) }
    }

    pub fn all(plans: &[&'a Plan]) -> Vec<Self> {
        plans.iter().map(|p| Self::new(p)).collect()
    }
}

/// A filter checkbox of the form.
pub struct FilterBox {
    pub name: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

/// The sort-and-filter form above a plan list, and what it left of the list.
pub struct PlanControls {
    /// Where the form submits (the list's own path).
    pub action: String,
    /// A plan type the list is narrowed to, kept across submissions.
    pub kind: Option<PlanKind>,
    pub sort: PlanSort,
    pub sorts: &'static [PlanSort],
    pub filters: Vec<FilterBox>,
    pub total: usize,
    pub shown: usize,
    pub filtered: bool,
}

impl PlanControls {
    /// Applies `view` to `plans`, returning the controls and the rows to show.
    pub fn apply<'a>(action: String, view: PlanView, plans: &[&'a Plan]) -> (Self, Vec<PlanRow<'a>>) {
        let shown = view.apply(plans);
        let f = view.features;
        let controls = Self {
            action,
            kind: None,
            sort: view.sort,
            sorts: PlanSort::ALL,
            filters: vec![
                FilterBox { name: "unlimited", label: "Unlimited data", checked: f.unlimited },
                FilterBox { name: "hotspot", label: "Hotspot", checked: f.hotspot },
                FilterBox { name: "5g", label: "5G", checked: f.five_g },
                FilterBox { name: "on_arrival", label: "Starts on arrival", checked: f.on_arrival },
            ],
            total: plans.len(),
            shown: shown.len(),
            filtered: f.any(),
        };
        (controls, PlanRow::all(&shown))
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "web/plans.html")]
pub struct PlansPage<'a> {
    pub ctx: PageContext,
    pub heading: &'static str,
    pub intro: &'static str,
    pub controls: PlanControls,
    pub rows: Vec<PlanRow<'a>>,
}

/// `/plans`: regional and global plans (or one `type`), sorted and filtered.
pub async fn list_plans(
    State(store): State<CatalogueStore>,
    QueryParams(params): QueryParams,
) -> Result<Response, HtmlError> {
    let catalogue = store.snapshot();
    let (kind, plans) = service::multi_country_plans(&catalogue, &params)?;
    let view = service::plan_view(&params)?;
    let (heading, intro) = match kind {
        Some(PlanKind::Regional) => {
            ("Regional plans", "One eSIM for several countries: made for trips that cross borders.")
        }
        Some(PlanKind::Global) => ("Global plans", "One eSIM that works across continents."),
        Some(PlanKind::Local) => ("Local plans", "One eSIM for one country, often the cheapest per GB."),
        None => ("Plans for several countries", "Regional and global plans: one eSIM for the whole trip."),
    };
    let (mut controls, rows) = PlanControls::apply("/plans".into(), view, &plans);
    controls.kind = kind;
    Ok(PlansPage { ctx: PageContext::public(Layout::new(heading)), heading, intro, controls, rows }.into_response())
}
