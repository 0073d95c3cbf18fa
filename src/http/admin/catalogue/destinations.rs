//! The destination form: create (`/admin/destinations/new`) and edit
//! (`/admin/destinations/{iso}/edit`).

use crate::http::errors::FORM_REFUSED;
use crate::services::Pool;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};

use super::{back_href, query_of, read_form, region_choices, saved};
use crate::domain::{Catalogue, Destination};
use crate::error::{Error, FieldError};
use crate::http::admin::ReauthedAdmin;
use crate::http::auth::ClientIp;
use crate::http::errors::HtmlError;
use crate::http::extract::QueryParams;
use crate::http::forms::{Choice, FieldErrors};
use crate::http::page::PageContext;
use crate::services::catalogue::CatalogueStore;
use crate::services::catalogue_admin::{self, DestinationInput, Item, ListView, Operator};

#[derive(Template, WebTemplate)]
#[template(path = "admin/destination_form.html")]
pub struct DestinationFormPage {
    pub ctx: PageContext,
    /// The ISO code of the destination being edited; `None` for a new one.
    pub editing: Option<String>,
    pub heading: String,
    /// Where the form posts: its own address, carrying the list's search and pages along.
    pub action: String,
    /// The list as the editor left it.
    pub back: String,
    pub form: DestinationInput,
    pub regions: Vec<Choice>,
    pub errors: FieldErrors,
}

impl DestinationFormPage {
    fn new(
        catalogue: &Catalogue,
        ctx: PageContext,
        view: &ListView,
        editing: Option<&Destination>,
        form: DestinationInput,
    ) -> Self {
        let (heading, path) = match editing {
            Some(d) => (format!("Edit {} ({})", d.name, d.iso), format!("/admin/destinations/{}/edit", d.iso)),
            None => ("New destination".to_string(), "/admin/destinations/new".to_string()),
        };
        Self {
            ctx: ctx.titled(&heading),
            editing: editing.map(|d| d.iso.clone()),
            heading,
            action: format!("{path}{}", query_of(view)),
            back: back_href(view, editing.map(|d| Item::Destination(d.iso.clone())).as_ref()),
            form,
            regions: region_choices(catalogue),
            errors: FieldErrors::default(),
        }
    }

    /// The form again, as typed, with a message beside each field that was not accepted.
    fn refused(mut self, errors: Vec<FieldError>) -> Response {
        self.errors = FieldErrors::from(errors);
        (FORM_REFUSED, self).into_response()
    }
}

pub async fn new_destination(
    State(store): State<CatalogueStore>,
    ReauthedAdmin(_): ReauthedAdmin,
    ctx: PageContext,
    QueryParams(params): QueryParams,
) -> Result<DestinationFormPage, HtmlError> {
    let view = ListView::from_params(&params)?;
    Ok(DestinationFormPage::new(&store.snapshot(), ctx, &view, None, DestinationInput::default()))
}

pub async fn create_destination(
    State(pool): State<Pool>,
    State(store): State<CatalogueStore>,
    ReauthedAdmin(user): ReauthedAdmin,
    ctx: PageContext,
    ClientIp(ip): ClientIp,
    QueryParams(params): QueryParams,
    form: Result<Form<DestinationInput>, FormRejection>,
) -> Result<Response, HtmlError> {
    let view = ListView::from_params(&params)?;
    let input = read_form(form)?;
    let editor = Operator { user: &user, ip };
    match catalogue_admin::create_destination(&pool, &store, &editor, &input).await {
        Ok(destination) => Ok(saved(&pool, &view, Item::Destination(destination.iso)).await?),
        Err(Error::Invalid(errors)) => {
            Ok(DestinationFormPage::new(&store.snapshot(), ctx, &view, None, input).refused(errors))
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn edit_destination(
    State(store): State<CatalogueStore>,
    ReauthedAdmin(_): ReauthedAdmin,
    ctx: PageContext,
    Path(iso): Path<String>,
    QueryParams(params): QueryParams,
) -> Result<DestinationFormPage, HtmlError> {
    let view = ListView::from_params(&params)?;
    let snapshot = store.snapshot();
    let destination = snapshot.destination(&iso).ok_or(Error::NotFound("destination"))?;
    Ok(DestinationFormPage::new(&snapshot, ctx, &view, Some(destination), DestinationInput::of(destination)))
}

// An axum handler: one argument per extractor (the list's view is carried in the query).
#[allow(clippy::too_many_arguments)]
pub async fn update_destination(
    State(pool): State<Pool>,
    State(store): State<CatalogueStore>,
    ReauthedAdmin(user): ReauthedAdmin,
    ctx: PageContext,
    ClientIp(ip): ClientIp,
    Path(iso): Path<String>,
    QueryParams(params): QueryParams,
    form: Result<Form<DestinationInput>, FormRejection>,
) -> Result<Response, HtmlError> {
    let view = ListView::from_params(&params)?;
    let input = read_form(form)?;
    let editor = Operator { user: &user, ip };
    match catalogue_admin::update_destination(&pool, &store, &editor, &iso, &input).await {
        Ok(destination) => Ok(saved(&pool, &view, Item::Destination(destination.iso)).await?),
        Err(Error::Invalid(errors)) => {
            let snapshot = store.snapshot();
            let destination = snapshot.destination(&iso).ok_or(Error::NotFound("destination"))?;
            Ok(DestinationFormPage::new(&snapshot, ctx, &view, Some(destination), input).refused(errors))
        }
        Err(other) => Err(other.into()),
    }
}
