//! Traveller accounts: sign up, sign in, sign out, and "My eSIMs".

use crate::services::Pool;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::Layout;
use crate::domain::order::Order;
use crate::error::{Error, FieldError};
use crate::http::auth::{self, ClientIp, MaybeUser};
use crate::http::errors::HtmlError;
use crate::services::accounts::{self, Credentials};
use crate::services::orders;

#[derive(Template, WebTemplate)]
#[template(path = "account/sign_in.html")]
pub struct SignInPage {
    pub layout: Layout,
    pub csrf_token: String,
    /// `sign-in` or `sign-up`.
    pub mode: &'static str,
    pub email: String,
    pub email_error: Option<String>,
    pub password_error: Option<String>,
    pub form_error: Option<String>,
    pub next: String,
}

impl SignInPage {
    async fn new(session: &Session, mode: &'static str, next: String) -> Result<Self, HtmlError> {
        let title = if mode == "sign-up" { "Create an account" } else { "Sign in" };
        Ok(Self {
            layout: Layout::new(title),
            csrf_token: auth::csrf_token(session).await?,
            mode,
            email: String::new(),
            email_error: None,
            password_error: None,
            form_error: None,
            next,
        })
    }

    fn with_errors(mut self, error: Error) -> Result<Response, HtmlError> {
        let status = error.status();
        match error {
            Error::Invalid(fields) => {
                for FieldError { field, message } in fields {
                    match field {
                        "email" => self.email_error = Some(message),
                        "password" => self.password_error = Some(message),
                        _ => self.form_error = Some(message),
                    }
                }
            }
            Error::RateLimited(message) => self.form_error = Some(message.to_string()),
            other => return Err(other.into()),
        }
        Ok((status, self).into_response())
    }
}

#[derive(Deserialize)]
pub struct NextParam {
    next: Option<String>,
}

/// Only local paths: an open redirect is not offered.
fn safe_next(next: Option<String>) -> String {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'))
        .unwrap_or_else(|| "/account".into())
}

pub async fn show_sign_in(
    session: Session,
    axum::extract::Query(q): axum::extract::Query<NextParam>,
) -> Result<Response, HtmlError> {
    Ok(SignInPage::new(&session, "sign-in", safe_next(q.next)).await?.into_response())
}

pub async fn show_sign_up(session: Session) -> Result<Response, HtmlError> {
    Ok(SignInPage::new(&session, "sign-up", "/account".into()).await?.into_response())
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
    ClientIp(ip): ClientIp,
    Form(form): Form<CredentialsForm>,
) -> Result<Response, HtmlError> {
    let next = safe_next(form.next);
    let credentials = Credentials { email: form.email.clone(), password: form.password };
    match accounts::sign_in(&pool, ip.as_deref(), &credentials).await {
        Ok(user) => {
            auth::sign_in(&session, &user).await?;
            Ok(Redirect::to(&next).into_response())
        }
        Err(e) => {
            let mut page = SignInPage::new(&session, "sign-in", next).await?;
            page.email = form.email;
            page.with_errors(e)
        }
    }
}

pub async fn submit_sign_up(
    State(pool): State<Pool>,
    session: Session,
    ClientIp(ip): ClientIp,
    Form(form): Form<CredentialsForm>,
) -> Result<Response, HtmlError> {
    let credentials = Credentials { email: form.email.clone(), password: form.password };
    match accounts::sign_up(&pool, ip.as_deref(), &credentials).await {
        Ok(user) => {
            auth::sign_in(&session, &user).await?;
            Ok(Redirect::to("/account").into_response())
        }
        Err(e) => {
            let mut page = SignInPage::new(&session, "sign-up", "/account".into()).await?;
            page.email = form.email;
            page.with_errors(e)
        }
    }
}

pub async fn sign_out(session: Session) -> Result<Response, HtmlError> {
    auth::sign_out(&session).await?;
    Ok(Redirect::to("/").into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "account/orders.html")]
pub struct MyEsimsPage {
    pub layout: Layout,
    pub csrf_token: String,
    pub email: String,
    pub is_staff: bool,
    pub orders: Vec<Order>,
}

pub async fn my_esims(
    State(pool): State<Pool>,
    session: Session,
    MaybeUser(user): MaybeUser,
) -> Result<Response, HtmlError> {
    let Some(user) = user else { return Ok(Redirect::to("/account/sign-in?next=/account").into_response()) };
    let orders = orders::for_account(&pool, user.id).await?;
    Ok((
        StatusCode::OK,
        MyEsimsPage {
            layout: Layout::new("My eSIMs"),
            csrf_token: auth::csrf_token(&session).await?,
            email: user.email,
            is_staff: user.role.is_staff(),
            orders,
        },
    )
        .into_response())
}
