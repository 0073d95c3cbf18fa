//! The plan form: create (`/admin/plans/new`) and edit (`/admin/plans/{id}/edit`).

use crate::http::errors::FORM_REFUSED;
use crate::services::Pool;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use super::{back_href, query_of, read_form, region_choices, saved};
use crate::domain::{Catalogue, Plan, PlanKind, ValidityStart};
use crate::error::{Error, FieldError};
use crate::http::admin::ReauthedAdmin;
use crate::http::auth::ClientIp;
use crate::http::errors::HtmlError;
use crate::http::extract::QueryParams;
use crate::http::forms::{Choice, FieldErrors, with_checkboxes};
use crate::http::page::PageContext;
use crate::services::catalogue::{self as catalogue_service, CatalogueStore};
use crate::services::catalogue_admin::{self, Item, ListView, Operator, PlanInput};

#[derive(Template, WebTemplate)]
#[template(path = "admin/plan_form.html")]
pub struct PlanFormPage {
    pub ctx: PageContext,
    /// The plan being edited; `None` for a new one.
    pub editing: Option<Uuid>,
    pub heading: String,
    /// Where the form posts: its own address, carrying the list's search and pages along.
    pub action: String,
    /// The list as the editor left it.
    pub back: String,
    pub form: PlanInput,
    pub errors: FieldErrors,
    pub kinds: Vec<Choice>,
    pub destinations: Vec<Choice>,
    pub regions: Vec<Choice>,
    pub validity_starts: Vec<Choice>,
    pub generations: Vec<Choice>,
}

impl PlanFormPage {
    fn new(catalogue: &Catalogue, ctx: PageContext, view: &ListView, editing: Option<&Plan>, form: PlanInput) -> Self {
        let (heading, path) = match editing {
            Some(plan) => (format!("Edit {}", plan.name), format!("/admin/plans/{}/edit", plan.id)),
            None => ("New plan".to_string(), "/admin/plans/new".to_string()),
        };
        Self {
            ctx: ctx.titled(&heading),
            editing: editing.map(|p| p.id),
            heading,
            action: format!("{path}{}", query_of(view)),
            back: back_href(view, editing.map(|p| Item::Plan(p.id)).as_ref()),
            form,
            errors: FieldErrors::default(),
            kinds: PlanKind::ALL.iter().map(|k| Choice::new(k.as_str(), k.label())).collect(),
            destinations: catalogue
                .destinations()
                .iter()
                .map(|d| Choice::new(&d.iso, format!("{} ({})", d.name, d.iso)))
                .collect(),
            regions: region_choices(catalogue),
            validity_starts: ValidityStart::ALL.iter().map(|v| Choice::new(v.as_str(), v.label())).collect(),
            generations: ["3G", "4G", "5G"].into_iter().map(|g| Choice::new(g, g)).collect(),
        }
    }

    /// The form again, as typed, with a message beside each field that was not accepted.
    fn refused(mut self, errors: Vec<FieldError>) -> Response {
        self.errors = FieldErrors::from(errors);
        (FORM_REFUSED, self).into_response()
    }
}

pub async fn new_plan(
    State(store): State<CatalogueStore>,
    ReauthedAdmin(_): ReauthedAdmin,
    ctx: PageContext,
    QueryParams(params): QueryParams,
) -> Result<PlanFormPage, HtmlError> {
    let view = ListView::from_params(&params)?;
    Ok(PlanFormPage::new(&store.snapshot(), ctx, &view, None, PlanInput::new_plan()))
}

/// The plan form's checkboxes.
const PLAN_CHECKBOXES: &[&str] = &["hotspot", "top_up", "on_sale"];

pub async fn create_plan(
    State(pool): State<Pool>,
    State(store): State<CatalogueStore>,
    ReauthedAdmin(user): ReauthedAdmin,
    ctx: PageContext,
    ClientIp(ip): ClientIp,
    QueryParams(params): QueryParams,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, HtmlError> {
    let view = ListView::from_params(&params)?;
    let input: PlanInput = with_checkboxes(read_form(form)?, PLAN_CHECKBOXES)?;
    let editor = Operator { user: &user, ip };
    match catalogue_admin::create_plan(&pool, &store, &editor, &input).await {
        Ok(plan) => Ok(saved(&pool, &view, Item::Plan(plan.id)).await?),
        Err(Error::Invalid(errors)) => {
            Ok(PlanFormPage::new(&store.snapshot(), ctx, &view, None, input).refused(errors))
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn edit_plan(
    State(store): State<CatalogueStore>,
    ReauthedAdmin(_): ReauthedAdmin,
    ctx: PageContext,
    Path(id): Path<String>,
    QueryParams(params): QueryParams,
) -> Result<PlanFormPage, HtmlError> {
    let view = ListView::from_params(&params)?;
    let snapshot = store.snapshot();
    let plan = catalogue_service::plan(&snapshot, &id)?;
    Ok(PlanFormPage::new(&snapshot, ctx, &view, Some(plan), PlanInput::of(plan)))
}

// An axum handler: one argument per extractor (the list's view is carried in the query).
#[allow(clippy::too_many_arguments)]
pub async fn update_plan(
    State(pool): State<Pool>,
    State(store): State<CatalogueStore>,
    ReauthedAdmin(user): ReauthedAdmin,
    ctx: PageContext,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    QueryParams(params): QueryParams,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, HtmlError> {
    let view = ListView::from_params(&params)?;
    let input: PlanInput = with_checkboxes(read_form(form)?, PLAN_CHECKBOXES)?;
    let editor = Operator { user: &user, ip };
    match catalogue_admin::update_plan(&pool, &store, &editor, &id, &input).await {
        Ok(plan) => Ok(saved(&pool, &view, Item::Plan(plan.id)).await?),
        Err(Error::Invalid(errors)) => {
            let snapshot = store.snapshot();
            let plan = catalogue_service::plan(&snapshot, &id)?;
            Ok(PlanFormPage::new(&snapshot, ctx, &view, Some(plan), input).refused(errors))
        }
        Err(other) => Err(other.into()),
    }
}
