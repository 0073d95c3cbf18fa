//! What every server-rendered page carries: its layout, the session's CSRF token for its forms
//! and the signed-in user. Handlers take a `PageContext` as an extractor and name the page once.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use tower_sessions::Session;

use super::auth::{MaybeUser, csrf_token};
use super::errors::HtmlError;
use super::web::Layout;
use crate::domain::user::User;
use crate::http::state::AppState;

#[derive(Clone)]
pub struct PageContext {
    pub layout: Layout,
    /// Empty on pages served without a session (they have no forms that change anything).
    pub csrf_token: String,
    pub user: Option<User>,
}

impl PageContext {
    /// A page served without a session: the cached catalogue pages and error pages.
    pub fn public(layout: Layout) -> Self {
        Self { layout, csrf_token: String::new(), user: None }
    }

    /// The same context with the page's title.
    pub fn titled(mut self, title: &str) -> Self {
        self.layout = Layout::new(title);
        self
    }

    /// Whether the signed-in user is an admin (the admin area shows admin-only actions).
    pub fn is_admin(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.role.is_admin())
    }

    pub fn user_email(&self) -> &str {
        self.user.as_ref().map_or("", |u| u.email.as_str())
    }

    pub fn user_role(&self) -> &'static str {
        self.user.as_ref().map_or("", |u| u.role.as_str())
    }
}

impl FromRequestParts<AppState> for PageContext {
    type Rejection = HtmlError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let MaybeUser(user) = MaybeUser::from_request_parts(parts, state).await?;
        let csrf_token = match Session::from_request_parts(parts, state).await {
            Ok(session) => csrf_token(&session).await?,
            Err(_) => String::new(),
        };
        Ok(Self { layout: Layout::new("Tern"), csrf_token, user })
    }
}
