//! The account pages email links lead to: "check your email" after sign-up, confirming an
//! address (a button, so a mail scanner fetching the link uses nothing), and the password
//! reset (ask for a link, then choose a new password).

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use crate::error::Error;
use crate::http::auth::{self, ClientIp};
use crate::http::errors::HtmlError;
use crate::http::extract::QueryParams;
use crate::http::forms::FieldErrors;
use crate::http::page::PageContext;
use crate::services::Pool;
use crate::services::account_email;

/// Which step the page shows.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// After sign-up: a message only.
    CheckEmail,
    /// The verification link: a button that confirms.
    Verify,
    /// "Forgot your password?": an email field.
    Forgot,
    /// After asking: a message only.
    ResetSent,
    /// The reset link: a new password field.
    Reset,
    /// A link that no longer works.
    DeadLink,
}

#[derive(Template, WebTemplate)]
#[template(path = "account/email_step.html")]
pub struct EmailStepPage {
    pub ctx: PageContext,
    pub step: Step,
    pub token: String,
    pub email: String,
    pub errors: FieldErrors,
}

impl EmailStepPage {
    fn new(ctx: PageContext, step: Step) -> Self {
        let title = match step {
            Step::CheckEmail | Step::ResetSent => "Check your email",
            Step::Verify => "Confirm your email address",
            Step::Forgot | Step::Reset => "Reset your password",
            Step::DeadLink => "This link no longer works",
        };
        Self {
            ctx: ctx.titled(title),
            step,
            token: String::new(),
            email: String::new(),
            errors: FieldErrors::default(),
        }
    }

    pub fn is(&self, step: Step) -> bool {
        self.step == step
    }

    /// The page holds a token from an email: never stored, never sent on as a referrer.
    fn private(self, status: StatusCode) -> Response {
        let mut response = (status, self).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        response
    }

    fn refused(mut self, error: Error) -> Result<Response, HtmlError> {
        let (status, errors) = FieldErrors::refusal(error)?;
        if errors.get("token").is_some() {
            // A bad or used link: the page says so, with no form to correct.
            self.step = Step::DeadLink;
        } else {
            self.errors = errors;
        }
        Ok(self.private(status))
    }
}

pub async fn check_email(ctx: PageContext) -> Response {
    EmailStepPage::new(ctx, Step::CheckEmail).into_response()
}

pub async fn show_verify(ctx: PageContext, QueryParams(params): QueryParams) -> Response {
    let mut page = EmailStepPage::new(ctx, Step::Verify);
    page.token = params.text("token").ok().flatten().unwrap_or_default();
    page.private(StatusCode::OK)
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
}

pub async fn submit_verify(
    State(pool): State<Pool>,
    session: Session,
    ctx: PageContext,
    Form(form): Form<TokenForm>,
) -> Result<Response, HtmlError> {
    match account_email::verify(&pool, &form.token).await {
        Ok(user) => {
            auth::sign_in(&session, &pool, &user).await?;
            Ok(Redirect::to(&super::account::after_sign_in(&user, "/account")).into_response())
        }
        Err(e) => EmailStepPage::new(ctx, Step::Verify).refused(e),
    }
}

pub async fn show_reset(
    State(pool): State<Pool>,
    ctx: PageContext,
    QueryParams(params): QueryParams,
) -> Result<Response, HtmlError> {
    let token = params.text("token").ok().flatten().unwrap_or_default();
    if token.is_empty() {
        let mut page = EmailStepPage::new(ctx, Step::Forgot);
        page.email = ctx_email(&page.ctx);
        return Ok(page.into_response());
    }
    if !account_email::reset_link_works(&pool, &token).await? {
        return Ok(EmailStepPage::new(ctx, Step::DeadLink).private(StatusCode::GONE));
    }
    let mut page = EmailStepPage::new(ctx, Step::Reset);
    page.token = token;
    Ok(page.private(StatusCode::OK))
}

fn ctx_email(ctx: &PageContext) -> String {
    ctx.user_email().to_string()
}

#[derive(Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    email: String,
}

pub async fn submit_forgot(
    State(pool): State<Pool>,
    ctx: PageContext,
    ClientIp(ip): ClientIp,
    Form(form): Form<EmailForm>,
) -> Result<Response, HtmlError> {
    match account_email::request_reset(&pool, ip.as_deref(), &form.email).await {
        Ok(()) => Ok(EmailStepPage::new(ctx, Step::ResetSent).into_response()),
        Err(e) => {
            let mut page = EmailStepPage::new(ctx, Step::Forgot);
            page.email = form.email;
            page.refused(e)
        }
    }
}

pub async fn submit_reset(
    State(pool): State<Pool>,
    session: Session,
    ctx: PageContext,
    ClientIp(ip): ClientIp,
    Form(form): Form<TokenForm>,
) -> Result<Response, HtmlError> {
    match account_email::reset_password(&pool, ip.as_deref(), &form.token, &form.password).await {
        Ok(user) => {
            auth::sign_in(&session, &pool, &user).await?;
            Ok(Redirect::to(&super::account::after_sign_in(&user, "/account")).into_response())
        }
        Err(e) => {
            let mut page = EmailStepPage::new(ctx, Step::Reset);
            page.token = form.token;
            page.refused(e)
        }
    }
}
