//! Buying a plan: the checkout form, the review step, then off to Stripe Checkout.

use crate::services::Pool;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::Layout;
use crate::domain::Plan;
use crate::error::{Error, FieldError};
use crate::http::auth::{self, MaybeUser};
use crate::http::errors::HtmlError;
use crate::services::catalogue::{self as catalogue_service, CatalogueStore};
use crate::services::checkout::{self, CheckoutInput, Payments};
use tower_sessions::Session;

#[derive(Template, WebTemplate)]
#[template(path = "web/checkout.html")]
pub struct CheckoutPage<'a> {
    pub layout: Layout,
    pub csrf_token: String,
    pub plan: &'a Plan,
    pub action: String,
    pub email: String,
    pub device_confirmed: bool,
    pub email_error: Option<String>,
    pub device_error: Option<String>,
    pub form_error: Option<String>,
}

impl<'a> CheckoutPage<'a> {
    fn new(plan: &'a Plan, input: &CheckoutInput, csrf_token: String) -> Self {
        Self {
            layout: Layout::new(&format!("Checkout: {}", plan.name)),
            csrf_token,
            plan,
            action: format!("/plans/{}/checkout", plan.id),
            email: input.email.clone(),
            device_confirmed: input.device_confirmed,
            email_error: None,
            device_error: None,
            form_error: None,
        }
    }

    fn with_errors(mut self, errors: &[FieldError]) -> Self {
        for e in errors {
            match e.field {
                "email" => self.email_error = Some(e.message.clone()),
                "device_confirmed" => self.device_error = Some(e.message.clone()),
                _ => self.form_error = Some(e.message.clone()),
            }
        }
        self
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "web/checkout_review.html")]
pub struct CheckoutReviewPage<'a> {
    pub layout: Layout,
    pub csrf_token: String,
    pub plan: &'a Plan,
    pub action: String,
    pub email: String,
    pub suggestion: Option<String>,
}

/// The fields the form posts. Anything else (a price, say) is ignored.
#[derive(Debug, Deserialize)]
pub struct CheckoutForm {
    #[serde(default)]
    email: String,
    device_confirmed: Option<String>,
    step: Option<String>,
}

pub async fn show_checkout(
    State(store): State<CatalogueStore>,
    session: Session,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    let catalogue = store.snapshot();
    let plan = catalogue_service::plan(&catalogue, &id)?;
    if !plan.on_sale {
        return Err(not_on_sale().into());
    }
    let input = CheckoutInput { plan_id: id, email: user.map(|u| u.email).unwrap_or_default(), ..Default::default() };
    Ok(CheckoutPage::new(plan, &input, auth::csrf_token(&session).await?).into_response())
}

fn not_on_sale() -> Error {
    Error::Conflict {
        code: "plan_not_on_sale",
        message: "This plan is no longer on sale. Please pick another one.".into(),
    }
}

pub async fn submit_checkout(
    State(store): State<CatalogueStore>,
    State(pool): State<Pool>,
    State(payments): State<Payments>,
    session: Session,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
    form: Result<Form<CheckoutForm>, FormRejection>,
) -> Result<Response, HtmlError> {
    let csrf_token = auth::csrf_token(&session).await?;
    let Form(form) = form.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => Error::PayloadTooLarge,
        _ => Error::BadRequest { code: "malformed_form", message: "The form could not be read.".into() },
    })?;
    let catalogue = store.snapshot();
    let plan = catalogue_service::plan(&catalogue, &id)?;
    let input = CheckoutInput {
        plan_id: id,
        email: form.email.trim().to_string(),
        device_confirmed: form.device_confirmed.is_some_and(|v| v == "on" || v == "true"),
        user_id: user.map(|u| u.id),
    };
    let step = form.step.as_deref().unwrap_or("review");
    if step == "edit" {
        return Ok(CheckoutPage::new(plan, &input, csrf_token.clone()).into_response());
    }
    let result = if step == "pay" {
        checkout::start(&pool, &payments, &catalogue, &input)
            .await
            .map(|started| Redirect::to(&started.checkout_url).into_response())
    } else {
        checkout::review(&catalogue, &input).map(|email| {
            CheckoutReviewPage {
                layout: Layout::new("Check your order"),
                csrf_token: csrf_token.clone(),
                plan,
                action: format!("/plans/{}/checkout", plan.id),
                suggestion: email.suggestion(),
                email: email.as_str().to_string(),
            }
            .into_response()
        })
    };
    match result {
        Ok(response) => Ok(response),
        Err(Error::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            CheckoutPage::new(plan, &input, csrf_token.clone()).with_errors(&errors),
        )
            .into_response()),
        Err(Error::Upstream { source, .. }) => {
            tracing::error!(error = %source, "checkout session could not be created");
            let page = CheckoutPage::new(plan, &input, csrf_token.clone()).with_errors(&[FieldError::new(
                "form",
                "Our payment provider did not answer. Nothing was charged; please try again in a moment.",
            )]);
            Ok((StatusCode::BAD_GATEWAY, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}
