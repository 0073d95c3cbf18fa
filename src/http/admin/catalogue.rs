//! Keeping the catalogue (admins only): the list of destinations and plans, and their create
//! and edit forms. Handlers extract and delegate to `services::catalogue_admin`; a form that
//! is not accepted comes back (422) with what was typed and a message beside each bad field.

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
use crate::services::catalogue_admin::{self, CatalogueOverview};

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
    /// The name filter, echoed.
    pub q: String,
    pub overview: CatalogueOverview,
    /// Always empty: a filter that cannot be read is a 400 page.
    pub errors: FieldErrors,
}

/// `GET /admin/catalogue?q=&saved=`: every destination and plan, on sale or not.
pub async fn list_catalogue(
    State(pool): State<Pool>,
    AdminUser(_): AdminUser,
    ctx: PageContext,
    QueryParams(params): QueryParams,
) -> Result<CataloguePage, HtmlError> {
    let q = params.text("q")?;
    let saved = params.text("saved")?;
    let overview = catalogue_admin::overview(&pool, q.as_deref(), saved.as_deref()).await?;
    Ok(CataloguePage {
        ctx: ctx.titled("Catalogue"),
        q: q.unwrap_or_default(),
        overview,
        errors: FieldErrors::default(),
    })
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

/// After a successful write: back to the list (303), which confirms what was saved
/// (`plan:<id>`, `destination:<ISO>`).
fn saved(what: &str) -> Response {
    let query: String = form_urlencoded::Serializer::new(String::new()).append_pair("saved", what).finish();
    Redirect::to(&format!("/admin/catalogue?{query}")).into_response()
}
