//! Keeping the catalogue (admins only): the list of destinations and plans, and their create
//! and edit forms. Handlers extract and delegate to `services::catalogue_admin`; a form that
//! is not accepted comes back (`FORM_REFUSED`, 200) with what was typed and a message beside each bad field.

mod destinations;
mod plans;

use crate::services::Pool;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::Router;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use super::AdminUser;
use crate::domain::Catalogue;
use crate::error::Error;
use crate::http::errors::HtmlError;
use crate::http::extract::QueryParams;
use crate::http::forms::{Choice, FieldErrors};
use crate::http::page::PageContext;
use crate::http::state::AppState;
use crate::services::catalogue_admin::{self, CatalogueOverview, Item, ListView};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/catalogue", get(list_catalogue))
        .route("/destinations/new", get(destinations::new_destination).post(destinations::create_destination))
        .route("/destinations/{iso}/edit", get(destinations::edit_destination).post(destinations::update_destination))
        .route("/plans/new", get(plans::new_plan).post(plans::create_plan))
        .route("/plans/{id}/edit", get(plans::edit_plan).post(plans::update_plan))
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/catalogue.html")]
pub struct CataloguePage {
    pub ctx: PageContext,
    /// The search, echoed.
    pub q: String,
    pub overview: CatalogueOverview,
    /// `?…` carrying the search and pages into an edit form (and back), or "".
    pub carried: String,
    pub destinations_previous: Option<String>,
    pub destinations_next: Option<String>,
    pub plans_previous: Option<String>,
    pub plans_next: Option<String>,
    /// Always empty: a search or page that cannot be read is a 400 page.
    pub errors: FieldErrors,
}

/// `GET /admin/catalogue?q=&destinations_page=&plans_page=&saved=`: destinations and plans, on
/// sale or not, searched and paged.
pub async fn list_catalogue(
    State(pool): State<Pool>,
    AdminUser(_): AdminUser,
    ctx: PageContext,
    QueryParams(params): QueryParams,
) -> Result<CataloguePage, HtmlError> {
    let view = ListView::from_params(&params)?;
    let saved = params.text("saved")?;
    let overview = catalogue_admin::overview(&pool, &view, saved.as_deref()).await?;
    let turn = |to: fn(&mut ListView)| {
        let mut other = view.clone();
        to(&mut other);
        list_href(&other, None)
    };
    let (d, p) = (&overview.destinations, &overview.plans);
    Ok(CataloguePage {
        ctx: ctx.titled("Catalogue"),
        q: view.q.clone().unwrap_or_default(),
        carried: query_of(&view),
        destinations_previous: d.has_previous().then(|| turn(|v| v.destinations_page -= 1)),
        destinations_next: d.has_next().then(|| turn(|v| v.destinations_page += 1)),
        plans_previous: p.has_previous().then(|| turn(|v| v.plans_page -= 1)),
        plans_next: p.has_next().then(|| turn(|v| v.plans_page += 1)),
        overview,
        errors: FieldErrors::default(),
    })
}

/// `?q=…&destinations_page=…&plans_page=…` for `view` (only what differs from the first page),
/// or "".
fn query_of(view: &ListView) -> String {
    let pairs = view.to_pairs();
    if pairs.is_empty() {
        return String::new();
    }
    let mut query = form_urlencoded::Serializer::for_suffix(String::from("?"), 1);
    for (name, value) in pairs {
        query.append_pair(name, &value);
    }
    query.finish()
}

/// The list as `view` shows it, with `saved` confirmed and scrolled to.
fn list_href(view: &ListView, saved: Option<&Item>) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in view.to_pairs() {
        query.append_pair(name, &value);
    }
    if let Some(item) = saved {
        query.append_pair("saved", &item.saved());
    }
    let query = query.finish();
    let fragment = saved.map(|item| format!("#{}", item.anchor())).unwrap_or_default();
    if query.is_empty() { format!("/admin/catalogue{fragment}") } else { format!("/admin/catalogue?{query}{fragment}") }
}

/// Where an edit form's "back" link leads: the list as the editor left it, at `item`.
fn back_href(view: &ListView, item: Option<&Item>) -> String {
    let fragment = item.map(|item| format!("#{}", item.anchor())).unwrap_or_default();
    format!("/admin/catalogue{}{fragment}", query_of(view))
}

/// The regions, in display order, as the options of a select.
fn region_choices(catalogue: &Catalogue) -> Vec<Choice> {
    catalogue.regions().iter().map(|r| Choice::new(&r.id, &r.name)).collect()
}

/// A posted form; one that cannot be read at all is a 400 page, not axum's plain text.
fn read_form<T>(form: Result<Form<T>, FormRejection>) -> Result<T, Error> {
    form.map(|Form(input)| input).map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => Error::PayloadTooLarge,
        _ => Error::BadRequest { code: "malformed_form", message: "The form could not be read.".into() },
    })
}

/// After a successful write: back (303) to the page of the list that shows `item`, in the
/// search the editor came from when it still finds it, scrolled to the item and confirming it.
async fn saved(pool: &Pool, view: &ListView, item: Item) -> Result<Response, Error> {
    let view = catalogue_admin::locate(pool, view, &item).await?;
    Ok(Redirect::to(&list_href(&view, Some(&item))).into_response())
}
