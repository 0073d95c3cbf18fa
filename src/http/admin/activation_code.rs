//! Revealing an order's activation code to an operator: a POST with a reason (the admin order
//! page shows the code masked, with this form), audited by `services::code_reveal`. The page
//! showing it is never cached (`http::headers`: `/admin/orders/…` is `no-store`).

use crate::http::errors::FORM_REFUSED;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use uuid::Uuid;

use super::StaffUser;
use crate::error::Error;
use crate::http::auth::ClientIp;
use crate::http::errors::HtmlError;
use crate::http::forms::FieldErrors;
use crate::http::page::PageContext;
use crate::http::state::AppState;
use crate::services::code_reveal;
use crate::services::order_admin::Operator;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/orders/{id}/activation-code", post(reveal))
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/activation_code.html")]
pub struct ActivationCodePage {
    pub ctx: PageContext,
    pub order_id: Uuid,
    pub reason: String,
    /// Shown once revealed.
    pub code: Option<String>,
    pub errors: FieldErrors,
}

#[derive(Deserialize)]
pub struct RevealForm {
    #[serde(default)]
    reason: String,
}

async fn reveal(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ClientIp(ip): ClientIp,
    ctx: PageContext,
    Path(id): Path<String>,
    Form(form): Form<RevealForm>,
) -> Result<Response, HtmlError> {
    let id = Uuid::parse_str(&id).map_err(|_| Error::NotFound("order"))?;
    let op = Operator { user: &user, ip };
    let page = |code: Option<String>, errors: FieldErrors| ActivationCodePage {
        ctx: ctx.clone().titled("Activation code"),
        order_id: id,
        reason: form.reason.clone(),
        code,
        errors,
    };
    match code_reveal::reveal(&state.pool, &state.provisioner.cipher, &op, id, &form.reason).await {
        Ok(code) => Ok(page(Some(code.raw), FieldErrors::default()).into_response()),
        Err(Error::Invalid(errors)) => Ok((FORM_REFUSED, page(None, errors.into())).into_response()),
        Err(other) => Err(other.into()),
    }
}
