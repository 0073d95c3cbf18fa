//! The destination form: create (`/admin/destinations/new`) and edit
//! (`/admin/destinations/{iso}/edit`).

use crate::services::Pool;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{read_form, region_choices, saved};
use crate::domain::{Catalogue, Destination};
use crate::error::{Error, FieldError};
use crate::http::admin::ReauthedAdmin;
use crate::http::auth::ClientIp;
use crate::http::errors::HtmlError;
use crate::http::forms::{Choice, FieldErrors};
use crate::http::page::PageContext;
use crate::services::catalogue::CatalogueStore;
use crate::services::catalogue_admin::{self, DestinationInput, Operator};

#[derive(Template, WebTemplate)]
#[template(path = "admin/destination_form.html")]
pub struct DestinationFormPage {
    pub ctx: PageContext,
    /// The ISO code of the destination being edited; `None` for a new one.
    pub editing: Option<String>,
    pub heading: String,
    pub action: String,
    pub form: DestinationInput,
    pub regions: Vec<Choice>,
    pub errors: FieldErrors,
}

impl DestinationFormPage {
    fn new(catalogue: &Catalogue, ctx: PageContext, editing: Option<&Destination>, form: DestinationInput) -> Self {
        let (heading, action) = match editing {
            Some(d) => {
                (format!("Edit {} {} ({})", d.flag(), d.name, d.iso), format!("/admin/destinations/{}/edit", d.iso))
            }
            None => ("New destination".to_string(), "/admin/destinations/new".to_string()),
        };
        Self {
            ctx: ctx.titled(&heading),
            editing: editing.map(|d| d.iso.clone()),
            heading,
            action,
            form,
            regions: region_choices(catalogue),
            errors: FieldErrors::default(),
        }
    }

    /// The form again, as typed, with a message beside each field that was not accepted.
    fn refused(mut self, errors: Vec<FieldError>) -> Response {
        self.errors = FieldErrors::from(errors);
        (StatusCode::UNPROCESSABLE_ENTITY, self).into_response()
    }
}

pub async fn new_destination(
    State(store): State<CatalogueStore>,
    ReauthedAdmin(_): ReauthedAdmin,
    ctx: PageContext,
) -> Result<DestinationFormPage, HtmlError> {
    Ok(DestinationFormPage::new(&store.snapshot(), ctx, None, DestinationInput::default()))
}

pub async fn create_destination(
    State(pool): State<Pool>,
    State(store): State<CatalogueStore>,
    ReauthedAdmin(user): ReauthedAdmin,
    ctx: PageContext,
    ClientIp(ip): ClientIp,
    form: Result<Form<DestinationInput>, FormRejection>,
) -> Result<Response, HtmlError> {
    let input = read_form(form)?;
    let editor = Operator { user: &user, ip };
    match catalogue_admin::create_destination(&pool, &store, &editor, &input).await {
        Ok(destination) => Ok(saved(&format!("destination:{}", destination.iso))),
        Err(Error::Invalid(errors)) => {
            Ok(DestinationFormPage::new(&store.snapshot(), ctx, None, input).refused(errors))
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn edit_destination(
    State(store): State<CatalogueStore>,
    ReauthedAdmin(_): ReauthedAdmin,
    ctx: PageContext,
    Path(iso): Path<String>,
) -> Result<DestinationFormPage, HtmlError> {
    let snapshot = store.snapshot();
    let destination = snapshot.destination(&iso).ok_or(Error::NotFound("destination"))?;
    Ok(DestinationFormPage::new(&snapshot, ctx, Some(destination), DestinationInput::of(destination)))
}

pub async fn update_destination(
    State(pool): State<Pool>,
    State(store): State<CatalogueStore>,
    ReauthedAdmin(user): ReauthedAdmin,
    ctx: PageContext,
    ClientIp(ip): ClientIp,
    Path(iso): Path<String>,
    form: Result<Form<DestinationInput>, FormRejection>,
) -> Result<Response, HtmlError> {
    let input = read_form(form)?;
    let editor = Operator { user: &user, ip };
    match catalogue_admin::update_destination(&pool, &store, &editor, &iso, &input).await {
        Ok(destination) => Ok(saved(&format!("destination:{}", destination.iso))),
        Err(Error::Invalid(errors)) => {
            let snapshot = store.snapshot();
            let destination = snapshot.destination(&iso).ok_or(Error::NotFound("destination"))?;
            Ok(DestinationFormPage::new(&snapshot, ctx, Some(destination), input).refused(errors))
        }
        Err(other) => Err(other.into()),
    }
}
