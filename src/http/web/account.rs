//! Accounts: sign up, sign in (staff then give their second factor, `web::mfa`), sign out,
//! sign out everywhere, and "My eSIMs".

use crate::services::Pool;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use crate::domain::order::Order;
use crate::error::Error;
use crate::http::auth::{self, ClientIp, CurrentLogin, MaybeUser};
use crate::http::errors::HtmlError;
use crate::http::forms::FieldErrors;
use crate::http::page::PageContext;
use crate::services::accounts::{self, Credentials};
use crate::services::{orders, sessions};

#[derive(Template, WebTemplate)]
#[template(path = "account/sign_in.html")]
pub struct SignInPage {
    pub ctx: PageContext,
    /// `sign-in` or `sign-up`.
    pub mode: &'static str,
    pub email: String,
    pub errors: FieldErrors,
    pub next: String,
}

impl SignInPage {
    fn new(ctx: PageContext, mode: &'static str, next: String) -> Self {
        let title = if mode == "sign-up" { "Create an account" } else { "Sign in" };
        Self { ctx: ctx.titled(title), mode, email: String::new(), errors: FieldErrors::default(), next }
    }

    pub fn password_hint(&self) -> &'static str {
        if self.mode == "sign-up" { "At least 10 characters." } else { "" }
    }

    pub fn password_autocomplete(&self) -> &'static str {
        if self.mode == "sign-up" { "new-password" } else { "current-password" }
    }

    fn with_errors(mut self, error: Error) -> Result<Response, HtmlError> {
        let (status, errors) = FieldErrors::refusal(error)?;
        self.errors = errors;
        Ok((status, self).into_response())
    }
}

#[derive(Deserialize)]
pub struct NextParam {
    next: Option<String>,
}

/// Only paths on this site, as a URL parser reads them: an open redirect is not offered.
pub(super) fn safe_next(next: Option<String>) -> String {
    crate::domain::redirect::safe_next(next.as_deref(), "/account")
}

/// Where a signed-in user goes: staff to their second factor first.
pub(super) fn after_sign_in(user: &crate::domain::user::User, next: &str) -> String {
    if user.role.is_staff() {
        let next: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
        format!("/account/mfa?next={next}")
    } else {
        next.to_string()
    }
}

pub async fn show_sign_in(
    ctx: PageContext,
    axum::extract::Query(q): axum::extract::Query<NextParam>,
) -> Result<Response, HtmlError> {
    Ok(SignInPage::new(ctx, "sign-in", safe_next(q.next)).into_response())
}

pub async fn show_sign_up(ctx: PageContext) -> Result<Response, HtmlError> {
    Ok(SignInPage::new(ctx, "sign-up", "/account".into()).into_response())
}

#[derive(Deserialize)]
pub struct CredentialsForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

pub async fn submit_sign_in(
    State(pool): State<Pool>,
    session: Session,
    ctx: PageContext,
    ClientIp(ip): ClientIp,
    Form(form): Form<CredentialsForm>,
) -> Result<Response, HtmlError> {
    let next = safe_next(form.next);
    let credentials = Credentials { email: form.email.clone(), password: form.password };
    match accounts::sign_in(&pool, ip.as_deref(), &credentials).await {
        Ok(user) => {
            auth::sign_in(&session, &pool, &user).await?;
            Ok(Redirect::to(&after_sign_in(&user, &next)).into_response())
        }
        Err(e) => {
            let mut page = SignInPage::new(ctx, "sign-in", next);
            page.email = form.email;
            page.with_errors(e)
        }
    }
}

pub async fn submit_sign_up(
    State(pool): State<Pool>,
    ctx: PageContext,
    ClientIp(ip): ClientIp,
    Form(form): Form<CredentialsForm>,
) -> Result<Response, HtmlError> {
    let credentials = Credentials { email: form.email.clone(), password: form.password };
    // The same answer whether or not the address had an account (an email says which).
    match accounts::sign_up(&pool, ip.as_deref(), &credentials).await {
        Ok(_) => Ok(Redirect::to("/account/check-email").into_response()),
        Err(e) => {
            let mut page = SignInPage::new(ctx, "sign-up", "/account".into());
            page.email = form.email;
            page.with_errors(e)
        }
    }
}

pub async fn sign_out(State(pool): State<Pool>, session: Session) -> Result<Response, HtmlError> {
    auth::sign_out(&session, &pool).await?;
    Ok(Redirect::to("/").into_response())
}

/// Ends every session of the account, on every device, and revokes its API tokens (ASVS V3.3).
pub async fn sign_out_everywhere(
    State(pool): State<Pool>,
    session: Session,
    ClientIp(ip): ClientIp,
    CurrentLogin(login): CurrentLogin,
) -> Result<Response, HtmlError> {
    if let Some(login) = login {
        sessions::end_everywhere(&pool, &login.user, ip.as_deref()).await?;
    }
    auth::sign_out(&session, &pool).await?;
    Ok(Redirect::to("/account/sign-in").into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "account/orders.html")]
pub struct MyEsimsPage {
    pub ctx: PageContext,
    pub email: String,
    pub is_staff: bool,
    pub orders: Vec<Order>,
}

pub async fn my_esims(
    State(pool): State<Pool>,
    MaybeUser(user): MaybeUser,
    ctx: PageContext,
) -> Result<Response, HtmlError> {
    let Some(user) = user else { return Ok(Redirect::to("/account/sign-in?next=/account").into_response()) };
    crate::services::account_email::claim_verified_orders(&pool, &user).await?;
    let orders = orders::for_account(&pool, user.id).await?;
    Ok((
        StatusCode::OK,
        MyEsimsPage { ctx: ctx.titled("My eSIMs"), email: user.email, is_staff: user.role.is_staff(), orders },
    )
        .into_response())
}
