//! Operators and an order's email: "Resend eSIM email", and "Correct the email address and
//! resend", which asks for confirmation first (a typo fixed into another typo sends a
//! traveller's eSIM to a stranger).

use crate::http::errors::FORM_REFUSED;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use serde::Deserialize;
use uuid::Uuid;

use super::StaffUser;
use super::order::ConfirmPage;
use super::order::parse_id;
use crate::error::Error;
use crate::http::auth::ClientIp;
use crate::http::errors::HtmlError;
use crate::http::forms::FieldErrors;
use crate::http::page::PageContext;
use crate::http::state::AppState;
use crate::services::order_admin::Operator;
use crate::services::order_email;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/orders/{id}/resend-email", post(resend)).route("/orders/{id}/email", post(correct))
}

async fn resend(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    let id = parse_id(&id)?;
    order_email::resend(&state.pool, &Operator { user: &user, ip }, id).await?;
    Ok(Redirect::to(&format!("/admin/orders/{id}?done=email+resent")).into_response())
}

#[derive(Deserialize)]
pub struct CorrectForm {
    #[serde(default)]
    email: String,
    confirmed: Option<String>,
}

/// The correction form again, with the address's error beside it.
#[derive(Template, WebTemplate)]
#[template(path = "admin/order_email_form.html")]
pub struct CorrectEmailPage {
    pub ctx: PageContext,
    pub order_id: Uuid,
    pub email: String,
    pub errors: FieldErrors,
}

async fn correct(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ctx: PageContext,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Form(form): Form<CorrectForm>,
) -> Result<Response, HtmlError> {
    let id = parse_id(&id)?;
    let refused = |ctx: PageContext, email: String, error: Error| -> Result<Response, HtmlError> {
        match error {
            Error::Invalid(fields) => {
                let page = CorrectEmailPage {
                    ctx: ctx.titled("Correct the email address"),
                    order_id: id,
                    email,
                    errors: fields.into(),
                };
                Ok((FORM_REFUSED, page).into_response())
            }
            other => Err(other.into()),
        }
    };
    if form.confirmed.as_deref() != Some("yes") {
        let email = match order_email::check_address(&form.email) {
            Ok(email) => email,
            Err(e) => return refused(ctx, form.email, e),
        };
        return Ok(ConfirmPage {
            ctx: ctx.titled("Please confirm"),
            question: format!(
                "Change the email address of order {id} to {} and send the order's email there? Check the spelling letter by letter.",
                email.as_str()
            ),
            action_url: format!("/admin/orders/{id}/email"),
            fields: vec![("email", email.as_str().to_string())],
            back: format!("/admin/orders/{id}"),
        }
        .into_response());
    }
    match order_email::correct_and_resend(&state.pool, &Operator { user: &user, ip }, id, &form.email).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/orders/{id}?done=email+corrected+and+resent")).into_response()),
        Err(e) => refused(ctx, form.email, e),
    }
}
