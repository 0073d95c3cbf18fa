//! Buying a plan: the checkout form, the review step, then off to Stripe Checkout with the
//! order's access cookie set.

use crate::http::errors::FORM_REFUSED;
use crate::services::Pool;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::domain::Plan;
use crate::error::Error;
use crate::http::errors::HtmlError;
use crate::http::forms::FieldErrors;
use crate::http::page::PageContext;
use crate::services::catalogue::{self as catalogue_service, CatalogueStore};
use crate::services::checkout::{self, CheckoutInput, Payments};

#[derive(Template, WebTemplate)]
#[template(path = "web/checkout.html")]
pub struct CheckoutPage<'a> {
    pub ctx: PageContext,
    pub plan: &'a Plan,
    pub action: String,
    pub email: String,
    pub device_confirmed: bool,
    pub errors: FieldErrors,
}

impl<'a> CheckoutPage<'a> {
    fn new(plan: &'a Plan, input: &CheckoutInput, ctx: PageContext) -> Self {
        Self {
            ctx: ctx.titled(&format!("Checkout: {}", plan.name)),
            plan,
            action: format!("/plans/{}/checkout", plan.id),
            email: input.email.clone(),
            device_confirmed: input.device_confirmed,
            errors: FieldErrors::default(),
        }
    }

    fn with_errors(mut self, errors: FieldErrors) -> Self {
        self.errors = errors;
        self
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "web/checkout_review.html")]
pub struct CheckoutReviewPage<'a> {
    pub ctx: PageContext,
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
    ctx: PageContext,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    let catalogue = store.snapshot();
    let plan = catalogue_service::plan(&catalogue, &id)?;
    if !plan.on_sale {
        return Err(not_on_sale().into());
    }
    let email = ctx.user.as_ref().map(|u| u.email.clone()).unwrap_or_default();
    let input = CheckoutInput { plan_id: id, email, ..Default::default() };
    Ok(CheckoutPage::new(plan, &input, ctx).into_response())
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
    State(mode): State<crate::http::state::SiteMode>,
    ctx: PageContext,
    Path(id): Path<String>,
    form: Result<Form<CheckoutForm>, FormRejection>,
) -> Result<Response, HtmlError> {
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
        user_id: ctx.user.as_ref().map(|u| u.id),
    };
    let step = form.step.as_deref().unwrap_or("review");
    if step == "edit" {
        return Ok(CheckoutPage::new(plan, &input, ctx).into_response());
    }
    let result = if step == "pay" {
        checkout::start(&pool, &payments, &catalogue, &input).await.map(|started| {
            // The browser keeps the access token in the order's cookie, for when Stripe sends
            // it back (the success URL carries no token).
            let cookie = super::order_cookie::set(started.order.id, &started.access_token, mode.secure_cookies);
            ([(header::SET_COOKIE, cookie)], Redirect::to(&started.checkout_url)).into_response()
        })
    } else {
        checkout::review(&catalogue, &input).map(|email| {
            CheckoutReviewPage {
                ctx: ctx.clone().titled("Check your order"),
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
        Err(Error::Invalid(errors)) => {
            Ok((FORM_REFUSED, CheckoutPage::new(plan, &input, ctx).with_errors(errors.into())).into_response())
        }
        Err(Error::Upstream { source, .. }) => {
            tracing::error!(error = %source, "checkout session could not be created");
            let page = CheckoutPage::new(plan, &input, ctx).with_errors(FieldErrors::form(
                "Our payment provider did not answer. Nothing was charged; please try again in a moment.",
            ));
            Ok((StatusCode::BAD_GATEWAY, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}
