//! The staff second factor (ASVS V2.7): enrolment with a QR code at first sign-in, the code
//! asked at every sign-in, and re-authentication before sensitive actions (the same page, when
//! `admin::ReauthedAdmin` sends an admin back here).

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::account::safe_next;
use crate::error::Error;
use crate::http::auth::{ClientIp, CurrentLogin};
use crate::http::errors::HtmlError;
use crate::http::forms::FieldErrors;
use crate::http::page::PageContext;
use crate::http::qr;
use crate::http::state::AppState;
use crate::services::sessions::SignedIn;
use crate::services::{mfa, sessions};

#[derive(Template, WebTemplate)]
#[template(path = "account/mfa.html")]
pub struct MfaPage {
    pub ctx: PageContext,
    /// `enrol`, `verify` or `recovery-codes`.
    pub mode: &'static str,
    /// The QR code (`otpauth://`) as a data URL, and the secret for typing in, while enrolling.
    pub qr_data_url: String,
    pub secret: String,
    /// Shown once, right after enrolment.
    pub recovery_codes: Vec<String>,
    pub errors: FieldErrors,
    pub next: String,
}

#[derive(Deserialize)]
pub struct NextParam {
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
    next: Option<String>,
}

/// Who may be here: a signed-in member of staff (second factor given or not); others are sent
/// where they belong.
fn staff(login: Option<SignedIn>) -> Result<SignedIn, &'static str> {
    match login {
        Some(login) if login.user.role.is_staff() => Ok(login),
        Some(_) => Err("/account"),
        None => Err("/account/sign-in"),
    }
}

async fn page(state: &AppState, ctx: PageContext, login: &SignedIn, next: String) -> Result<MfaPage, HtmlError> {
    let enrolment = mfa::enrolment(&state.pool, &state.provisioner.cipher, &login.user).await?;
    let (mode, qr_data_url, secret) = match enrolment {
        Some(e) => ("enrol", qr::data_url(&e.otpauth_url).map_err(Error::Internal)?, e.secret),
        None => ("verify", String::new(), String::new()),
    };
    let title = if mode == "enrol" { "Set up two-step sign-in" } else { "Enter your sign-in code" };
    Ok(MfaPage {
        ctx: ctx.titled(title),
        mode,
        qr_data_url,
        secret,
        recovery_codes: Vec::new(),
        errors: FieldErrors::default(),
        next,
    })
}

pub async fn show_mfa(
    State(state): State<AppState>,
    CurrentLogin(login): CurrentLogin,
    ctx: PageContext,
    Query(q): Query<NextParam>,
) -> Result<Response, HtmlError> {
    let login = match staff(login) {
        Ok(login) => login,
        Err(elsewhere) => return Ok(Redirect::to(elsewhere).into_response()),
    };
    let page = page(&state, ctx, &login, safe_next(q.next)).await?;
    Ok(([("cache-control", "no-store")], page).into_response())
}

pub async fn submit_mfa(
    State(state): State<AppState>,
    session: Session,
    CurrentLogin(login): CurrentLogin,
    ClientIp(ip): ClientIp,
    ctx: PageContext,
    Form(form): Form<CodeForm>,
) -> Result<Response, HtmlError> {
    let login = match staff(login) {
        Ok(login) => login,
        Err(elsewhere) => return Ok(Redirect::to(elsewhere).into_response()),
    };
    let next = safe_next(form.next);
    let (pool, cipher) = (&state.pool, &state.provisioner.cipher);
    let outcome = if mfa::is_enrolled(pool, &login.user).await? {
        mfa::verify(pool, cipher, &login.user, ip.as_deref(), &form.code).await.map(|()| None)
    } else {
        mfa::confirm_enrolment(pool, cipher, &login.user, ip.as_deref(), &form.code).await.map(Some)
    };
    match outcome {
        Ok(codes) => {
            // A higher privilege: a new session id as well.
            session.cycle_id().await.map_err(|e| Error::Internal(anyhow::anyhow!("session: {e}")))?;
            sessions::second_factor_checked(pool, login.id).await?;
            match codes {
                None => Ok(Redirect::to(&next).into_response()),
                Some(recovery_codes) => {
                    let page = MfaPage {
                        ctx: ctx.titled("Save your recovery codes"),
                        mode: "recovery-codes",
                        qr_data_url: String::new(),
                        secret: String::new(),
                        recovery_codes,
                        errors: FieldErrors::default(),
                        next,
                    };
                    Ok(([("cache-control", "no-store")], page).into_response())
                }
            }
        }
        Err(error) => {
            let (status, errors) = FieldErrors::refusal(error)?;
            let page = MfaPage { errors, ..page(&state, ctx, &login, next).await? };
            Ok((status, [("cache-control", "no-store")], page).into_response())
        }
    }
}
