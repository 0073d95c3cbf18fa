//! The operators' area at `/admin`, for the `support` and `admin` roles. Every form carries a
//! CSRF token (checked for the whole area by `auth::verify_csrf`); every action is audited.

use axum::Router;
use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};

use super::auth::MaybeUser;
use super::errors::HtmlError;
use crate::domain::user::User;
use crate::error::Error;
use crate::http::state::AppState;

mod activation_code;
mod api_keys;
mod audit;
mod catalogue;
mod dashboard;
mod integrity;
mod order;
mod order_email;
mod orders_list;
mod reauth;

pub use reauth::ReauthedAdmin;
mod webhooks;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(order::routes())
        .merge(order_email::routes())
        .merge(activation_code::routes())
        .merge(orders_list::routes())
        .merge(dashboard::routes())
        .merge(audit::routes())
        .merge(catalogue::routes())
        .merge(integrity::routes())
        .merge(webhooks::routes())
        .merge(api_keys::routes())
}

/// A signed-in `support` or `admin` user; others are sent to sign in, or refused.
pub struct StaffUser(pub User);

/// A signed-in `admin` user.
pub struct AdminUser(pub User);

async fn signed_in(parts: &mut Parts, state: &AppState) -> Result<User, Response> {
    let MaybeUser(user) = MaybeUser::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?;
    user.ok_or_else(|| {
        let path =
            parts.extensions.get::<OriginalUri>().map(|u| u.0.path().to_string()).unwrap_or_else(|| "/admin".into());
        Redirect::to(&format!("/account/sign-in?next={path}")).into_response()
    })
}

impl FromRequestParts<AppState> for StaffUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let user = signed_in(parts, state).await?;
        if !user.role.is_staff() {
            return Err(HtmlError(Error::Forbidden("The admin area is for the shop's staff.")).into_response());
        }
        Ok(StaffUser(user))
    }
}

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let user = signed_in(parts, state).await?;
        if !user.role.is_admin() {
            return Err(HtmlError(Error::Forbidden("Only an admin may do this.")).into_response());
        }
        Ok(AdminUser(user))
    }
}
