//! The plan form: create (`/admin/plans/new`) and edit (`/admin/plans/{id}/edit`).

use crate::services::Pool;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use super::{read_form, region_choices, saved};
use crate::domain::{Catalogue, Plan, PlanKind, ValidityStart};
use crate::error::{Error, FieldError};
use crate::http::admin::ReauthedAdmin;
use crate::http::auth::ClientIp;
use crate::http::errors::HtmlError;
use crate::http::forms::{Choice, FieldErrors, with_checkboxes};
use crate::http::page::PageContext;
use crate::services::catalogue::{self as catalogue_service, CatalogueStore};
use crate::services::catalogue_admin::{self, Operator, PlanInput};

#[derive(Template, WebTemplate)]
#[template(path = "admin/plan_form.html")]
pub struct PlanFormPage {
    pub ctx: PageContext,
    /// The plan being edited; `None` for a new one.
    pub editing: Option<Uuid>,
    pub heading: String,
    pub action: String,
    pub form: PlanInput,
    pub errors: FieldErrors,
    pub kinds: Vec<Choice>,
    pub destinations: Vec<Choice>,
    pub regions: Vec<Choice>,
    pub validity_starts: Vec<Choice>,
    pub generations: Vec<Choice>,
}

impl PlanFormPage {
    fn new(catalogue: &Catalogue, ctx: PageContext, editing: Option<&Plan>, form: PlanInput) -> Self {
        let (heading, action) = match editing {
            Some(plan) => (format!("Edit {}", plan.name), format!("/admin/plans/{}/edit", plan.id)),
            None => ("New plan".to_string(), "/admin/plans/new".to_string()),
        };
        Self {
            ctx: ctx.titled(&heading),
            editing: editing.map(|p| p.id),
            heading,
            action,
            form,
            errors: FieldErrors::default(),
            kinds: PlanKind::ALL.iter().map(|k| Choice::new(k.as_str(), k.label())).collect(),
            destinations: catalogue
                .destinations()
                .iter()
                .map(|d| Choice::new(&d.iso, format!("{} {} ({})", d.flag(), d.name, d.iso)))
                .collect(),
            regions: region_choices(catalogue),
            validity_starts: ValidityStart::ALL.iter().map(|v| Choice::new(v.as_str(), v.label())).collect(),
            generations: ["3G", "4G", "5G"].into_iter().map(|g| Choice::new(g, g)).collect(),
        }
    }

    /// The form again, as typed, with a message beside each field that was not accepted.
    fn refused(mut self, errors: Vec<FieldError>) -> Response {
        self.errors = FieldErrors::from(errors);
        (StatusCode::UNPROCESSABLE_ENTITY, self).into_response()
    }
}

pub async fn new_plan(
    State(store): State<CatalogueStore>,
    ReauthedAdmin(_): ReauthedAdmin,
    ctx: PageContext,
) -> Result<PlanFormPage, HtmlError> {
    Ok(PlanFormPage::new(&store.snapshot(), ctx, None, PlanInput::new_plan()))
}

/// The plan form's checkboxes.
const PLAN_CHECKBOXES: &[&str] = &["hotspot", "top_up", "on_sale"];

pub async fn create_plan(
    State(pool): State<Pool>,
    State(store): State<CatalogueStore>,
    ReauthedAdmin(user): ReauthedAdmin,
    ctx: PageContext,
    ClientIp(ip): ClientIp,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, HtmlError> {
    let input: PlanInput = with_checkboxes(read_form(form)?, PLAN_CHECKBOXES)?;
    let editor = Operator { user: &user, ip };
    match catalogue_admin::create_plan(&pool, &store, &editor, &input).await {
        Ok(plan) => Ok(saved(&format!("plan:{}", plan.id))),
        Err(Error::Invalid(errors)) => Ok(PlanFormPage::new(&store.snapshot(), ctx, None, input).refused(errors)),
        Err(other) => Err(other.into()),
    }
}

pub async fn edit_plan(
    State(store): State<CatalogueStore>,
    ReauthedAdmin(_): ReauthedAdmin,
    ctx: PageContext,
    Path(id): Path<String>,
) -> Result<PlanFormPage, HtmlError> {
    let snapshot = store.snapshot();
    let plan = catalogue_service::plan(&snapshot, &id)?;
    Ok(PlanFormPage::new(&snapshot, ctx, Some(plan), PlanInput::of(plan)))
}

pub async fn update_plan(
    State(pool): State<Pool>,
    State(store): State<CatalogueStore>,
    ReauthedAdmin(user): ReauthedAdmin,
    ctx: PageContext,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, HtmlError> {
    let input: PlanInput = with_checkboxes(read_form(form)?, PLAN_CHECKBOXES)?;
    let editor = Operator { user: &user, ip };
    match catalogue_admin::update_plan(&pool, &store, &editor, &id, &input).await {
        Ok(plan) => Ok(saved(&format!("plan:{}", plan.id))),
        Err(Error::Invalid(errors)) => {
            let snapshot = store.snapshot();
            let plan = catalogue_service::plan(&snapshot, &id)?;
            Ok(PlanFormPage::new(&snapshot, ctx, Some(plan), input).refused(errors))
        }
        Err(other) => Err(other.into()),
    }
}
