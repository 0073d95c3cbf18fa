//! The plan form: create (`/admin/plans/new`) and edit (`/admin/plans/{id}/edit`).

use crate::services::Pool;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;
use uuid::Uuid;

use super::{Choice, FormErrors, read_form, saved};
use crate::domain::user::User;
use crate::domain::{Catalogue, Plan, PlanKind, ValidityStart};
use crate::error::{Error, FieldError};
use crate::http::admin::{AdminUser, StaffNav};
use crate::http::auth::{self, ClientIp};
use crate::http::errors::HtmlError;
use crate::http::web::Layout;
use crate::services::catalogue::{self as catalogue_service, CatalogueStore};
use crate::services::catalogue_admin::{self, Operator, PlanInput};

#[derive(Template, WebTemplate)]
#[template(path = "admin/plan_form.html")]
pub struct PlanFormPage {
    pub layout: Layout,
    pub staff: StaffNav,
    pub csrf_token: String,
    /// The plan being edited; `None` for a new one.
    pub editing: Option<Uuid>,
    pub heading: String,
    pub action: String,
    pub form: PlanInput,
    pub errors: FormErrors,
    pub kinds: Vec<Choice>,
    pub destinations: Vec<Choice>,
    pub regions: Vec<Choice>,
    pub validity_starts: Vec<Choice>,
    pub generations: Vec<Choice>,
}

impl PlanFormPage {
    async fn new(
        catalogue: &Catalogue,
        user: &User,
        session: &Session,
        editing: Option<&Plan>,
        form: PlanInput,
    ) -> Result<Self, HtmlError> {
        let (heading, action) = match editing {
            Some(plan) => (format!("Edit {}", plan.name), format!("/admin/plans/{}/edit", plan.id)),
            None => ("New plan".to_string(), "/admin/plans/new".to_string()),
        };
        Ok(Self {
            layout: Layout::new(&heading),
            staff: StaffNav::of(user),
            csrf_token: auth::csrf_token(session).await?,
            editing: editing.map(|p| p.id),
            heading,
            action,
            form,
            errors: FormErrors::default(),
            kinds: PlanKind::ALL.iter().map(|k| Choice::new(k.as_str(), k.label())).collect(),
            destinations: catalogue
                .destinations()
                .iter()
                .map(|d| Choice::new(&d.iso, format!("{} {} ({})", d.flag(), d.name, d.iso)))
                .collect(),
            regions: Choice::regions(catalogue),
            validity_starts: ValidityStart::ALL.iter().map(|v| Choice::new(v.as_str(), v.label())).collect(),
            generations: ["3G", "4G", "5G"].into_iter().map(|g| Choice::new(g, g)).collect(),
        })
    }

    /// The form again, as typed, with a message beside each field that was not accepted.
    fn refused(mut self, errors: Vec<FieldError>) -> Response {
        self.errors = FormErrors(errors);
        (StatusCode::UNPROCESSABLE_ENTITY, self).into_response()
    }
}

pub async fn new_plan(
    State(store): State<CatalogueStore>,
    session: Session,
    AdminUser(user): AdminUser,
) -> Result<PlanFormPage, HtmlError> {
    PlanFormPage::new(&store.snapshot(), &user, &session, None, PlanInput::new_plan()).await
}

pub async fn create_plan(
    State(pool): State<Pool>,
    State(store): State<CatalogueStore>,
    session: Session,
    AdminUser(user): AdminUser,
    ClientIp(ip): ClientIp,
    form: Result<Form<PlanInput>, FormRejection>,
) -> Result<Response, HtmlError> {
    let input = read_form(form)?;
    let editor = Operator { user: &user, ip };
    match catalogue_admin::create_plan(&pool, &store, &editor, &input).await {
        Ok(plan) => Ok(saved(&format!("plan:{}", plan.id))),
        Err(Error::Invalid(errors)) => {
            Ok(PlanFormPage::new(&store.snapshot(), &user, &session, None, input).await?.refused(errors))
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn edit_plan(
    State(store): State<CatalogueStore>,
    session: Session,
    AdminUser(user): AdminUser,
    Path(id): Path<String>,
) -> Result<PlanFormPage, HtmlError> {
    let snapshot = store.snapshot();
    let plan = catalogue_service::plan(&snapshot, &id)?;
    PlanFormPage::new(&snapshot, &user, &session, Some(plan), PlanInput::of(plan)).await
}

pub async fn update_plan(
    State(pool): State<Pool>,
    State(store): State<CatalogueStore>,
    session: Session,
    AdminUser(user): AdminUser,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    form: Result<Form<PlanInput>, FormRejection>,
) -> Result<Response, HtmlError> {
    let input = read_form(form)?;
    let editor = Operator { user: &user, ip };
    match catalogue_admin::update_plan(&pool, &store, &editor, &id, &input).await {
        Ok(plan) => Ok(saved(&format!("plan:{}", plan.id))),
        Err(Error::Invalid(errors)) => {
            let snapshot = store.snapshot();
            let plan = catalogue_service::plan(&snapshot, &id)?;
            Ok(PlanFormPage::new(&snapshot, &user, &session, Some(plan), input).await?.refused(errors))
        }
        Err(other) => Err(other.into()),
    }
}
