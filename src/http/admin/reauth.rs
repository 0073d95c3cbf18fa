//! Re-authentication before a sensitive action (ASVS V4.3.1): a refund, enabling or disabling a
//! SIM, or a catalogue change needs the admin's second factor checked within the last 15 minutes.

use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::AdminUser;
use crate::domain::redirect::safe_next;
use crate::domain::user::User;
use crate::http::auth::CurrentLogin;
use crate::http::state::AppState;

/// An admin whose second factor was checked within the last 15 minutes; others are sent to
/// give it again and come back (to the page itself for a GET, to the page the form was on for
/// a POST).
pub struct ReauthedAdmin(pub User);

impl FromRequestParts<AppState> for ReauthedAdmin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let AdminUser(user) = AdminUser::from_request_parts(parts, state).await?;
        let CurrentLogin(login) =
            CurrentLogin::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?;
        if login.is_some_and(|l| l.recently_authenticated()) {
            return Ok(ReauthedAdmin(user));
        }
        let back = if parts.method == Method::GET {
            parts.extensions.get::<OriginalUri>().map(|u| u.0.to_string())
        } else {
            let referer = parts.headers.get(header::REFERER).and_then(|v| v.to_str().ok());
            referer.and_then(|r| url::Url::parse(r).ok()).map(|u| u[url::Position::BeforePath..].to_string())
        };
        let back = safe_next(back.as_deref(), "/admin");
        tracing::info!(user.id = %user.id, "re-authentication required");
        let next: String = form_urlencoded::byte_serialize(back.as_bytes()).collect();
        Err(Redirect::to(&format!("/account/mfa?next={next}")).into_response())
    }
}
