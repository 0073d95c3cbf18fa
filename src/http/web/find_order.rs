//! `/orders/find`: a traveller who lost their order link asks for it by email. The page says
//! the same whether or not the address has orders.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::http::auth::ClientIp;
use crate::http::errors::HtmlError;
use crate::http::forms::FieldErrors;
use crate::http::page::PageContext;
use crate::services::Pool;
use crate::services::find_order;

#[derive(Template, WebTemplate)]
#[template(path = "web/find_order.html")]
pub struct FindOrderPage {
    pub ctx: PageContext,
    pub email: String,
    pub errors: FieldErrors,
    /// The request was taken: the page says what happens now.
    pub sent: bool,
}

pub async fn show_find(ctx: PageContext) -> Response {
    let email = ctx.user_email().to_string();
    FindOrderPage { ctx: ctx.titled("Find your order"), email, errors: FieldErrors::default(), sent: false }
        .into_response()
}

#[derive(Deserialize)]
pub struct FindForm {
    #[serde(default)]
    email: String,
}

pub async fn submit_find(
    State(pool): State<Pool>,
    ctx: PageContext,
    ClientIp(ip): ClientIp,
    Form(form): Form<FindForm>,
) -> Result<Response, HtmlError> {
    let mut page = FindOrderPage {
        ctx: ctx.titled("Find your order"),
        email: form.email,
        errors: FieldErrors::default(),
        sent: false,
    };
    match find_order::request(&pool, ip.as_deref(), &page.email).await {
        Ok(email) => {
            page.email = email.as_str().to_string();
            page.sent = true;
            Ok(page.into_response())
        }
        Err(e) => {
            let (status, errors) = FieldErrors::refusal(e)?;
            page.errors = errors;
            Ok((status, page).into_response())
        }
    }
}
