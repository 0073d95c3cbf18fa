//! Catalogue endpoints: regions, destinations, plans. Served from the in-memory snapshot.

use axum::Json;
use axum::extract::State;

use super::dto::{
    DestinationDetailResponse, DestinationList, DestinationResponse, ListMeta, PlanList, PlanResponse, RegionList,
    RegionResponse,
};
use super::params::{ApiPath, ApiQuery};
use super::problems;
use crate::domain::query::Paging;
use crate::http::errors::ApiError;
use crate::services::catalogue::{self as service, CatalogueStore};

/// Every region, in display order.
#[utoipa::path(get, path = "/regions", tag = "catalogue",
    responses((status = 200, description = "All regions", body = RegionList)))]
pub async fn list_regions(State(store): State<CatalogueStore>) -> Json<RegionList> {
    let c = store.snapshot();
    let data: Vec<RegionResponse> = c.regions().iter().map(|r| RegionResponse::new(&c, r)).collect();
    let total = data.len();
    Json(RegionList { data, meta: ListMeta { page: 1, per_page: total as u32, total } })
}

/// Search and list destinations.
///
/// `q` matches names, ISO codes and aliases ("UK", "USA", "Turkey"), ignoring case and
/// accents; best matches come first. Without `q`, destinations are listed by name.
#[utoipa::path(get, path = "/destinations", tag = "catalogue",
    params(
        ("q" = Option<String>, Query, description = "Free text, 1 to 100 characters (not only spaces), without control characters",
            min_length = 1, max_length = 100, pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"),
        ("region" = Option<String>, Query, description = "A region id, e.g. `europe` (one of `GET /regions`)"),
        ("page" = Option<u32>, Query, description = "1-based page, default 1", minimum = 1, maximum = 100000),
        ("per_page" = Option<u32>, Query, description = "Page size, default 20", minimum = 1, maximum = 100),
    ),
    responses(
        (status = 200, description = "Matching destinations", body = DestinationList),
        (status = 400, response = inline(problems::BadRequest)),
    ))]
pub async fn list_destinations(
    State(store): State<CatalogueStore>,
    ApiQuery(params): ApiQuery,
) -> Result<Json<DestinationList>, ApiError> {
    let c = store.snapshot();
    let paging = Paging::from_params(&params)?;
    let search = service::search_destinations(&c, &params)?;
    let data = paging.slice(&search.results).iter().map(|d| DestinationResponse::new(&c, d)).collect();
    let meta = ListMeta { page: paging.page, per_page: paging.per_page, total: search.results.len() };
    Ok(Json(DestinationList { data, meta }))
}

/// One destination with every on-sale plan that works there (local, regional, global), cheapest first.
#[utoipa::path(get, path = "/destinations/{iso}", tag = "catalogue",
    params(("iso" = String, Path, description = "ISO 3166-1 alpha-2 code, any case", example = "JP")),
    responses(
        (status = 200, description = "The destination and its plans", body = DestinationDetailResponse),
        (status = 400, response = inline(problems::BadRequest)),
        (status = 404, response = inline(problems::NotFound)),
    ))]
pub async fn show_destination(
    State(store): State<CatalogueStore>,
    ApiPath(iso): ApiPath<String>,
) -> Result<Json<DestinationDetailResponse>, ApiError> {
    let c = store.snapshot();
    let (destination, _, plans) = service::destination_with_plans(&c, &iso)?;
    Ok(Json(DestinationDetailResponse {
        destination: DestinationResponse::new(&c, destination),
        plans: plans.into_iter().map(PlanResponse::from).collect(),
    }))
}

/// List on-sale plans, cheapest first. Every filter narrows the list.
#[utoipa::path(get, path = "/plans", tag = "catalogue",
    params(
        ("destination" = Option<String>, Query, description = "Plans that work in this country (ISO 3166-1 alpha-2 code of a destination, any case): local, regional and global"),
        ("region" = Option<String>, Query, description = "Regional plans of this region and local plans of its countries (one of `GET /regions`)"),
        ("type" = Option<String>, Query, description = "`local`, `regional` or `global`"),
        ("min_days" = Option<u32>, Query, description = "At least this many days of validity", minimum = 1, maximum = 365),
        ("max_price" = Option<i64>, Query, description = "At most this price, in minor units (cents)", minimum = 1, maximum = 100000000),
        ("unlimited" = Option<bool>, Query, description = "`true`: only unlimited plans; `false`: only plans with a data amount"),
        ("page" = Option<u32>, Query, description = "1-based page, default 1", minimum = 1, maximum = 100000),
        ("per_page" = Option<u32>, Query, description = "Page size, default 20", minimum = 1, maximum = 100),
    ),
    responses(
        (status = 200, description = "Matching plans", body = PlanList),
        (status = 400, response = inline(problems::BadRequest)),
    ))]
pub async fn list_plans(
    State(store): State<CatalogueStore>,
    ApiQuery(params): ApiQuery,
) -> Result<Json<PlanList>, ApiError> {
    let c = store.snapshot();
    let paging = Paging::from_params(&params)?;
    let plans = c.filter_plans(&service::plan_filter(&c, &params)?);
    let data = paging.slice(&plans).iter().map(|p| PlanResponse::from(*p)).collect();
    let meta = ListMeta { page: paging.page, per_page: paging.per_page, total: plans.len() };
    Ok(Json(PlanList { data, meta }))
}

/// One plan with its whole fine print and coverage, whether on sale or not.
#[utoipa::path(get, path = "/plans/{id}", tag = "catalogue",
    params(("id" = uuid::Uuid, Path, description = "Plan id")),
    responses(
        (status = 200, description = "The plan", body = PlanResponse),
        (status = 400, response = inline(problems::BadRequest)),
        (status = 404, response = inline(problems::NotFound)),
    ))]
pub async fn show_plan(
    State(store): State<CatalogueStore>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<PlanResponse>, ApiError> {
    let c = store.snapshot();
    Ok(Json(service::plan(&c, &id)?.into()))
}
