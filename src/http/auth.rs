//! Who is asking: sessions kept in PostgreSQL (tower-sessions), the signed-in user, CSRF
//! tokens on every state-changing form, and the client's address for rate limits and the audit log.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::Method;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;
use uuid::Uuid;

use super::errors::HtmlError;
use crate::domain::token;
use crate::domain::user::User;
use crate::error::Error;
use crate::http::state::AppState;
use crate::services::accounts;

const USER_KEY: &str = "user_id";
const CSRF_KEY: &str = "csrf_token";
/// The form field carrying the token.
pub const CSRF_FIELD: &str = "csrf_token";

/// The session's CSRF token, created on first use.
pub async fn csrf_token(session: &Session) -> Result<String, Error> {
    if let Some(existing) = session.get::<String>(CSRF_KEY).await.map_err(session_error)? {
        return Ok(existing);
    }
    let (fresh, _) = token::generate();
    session.insert(CSRF_KEY, &fresh).await.map_err(session_error)?;
    Ok(fresh)
}

fn session_error(e: tower_sessions::session::Error) -> Error {
    Error::Internal(anyhow::anyhow!("session: {e}"))
}

/// Refuses a POST whose form does not carry the session's CSRF token: a 403 page, nothing done.
pub async fn verify_csrf(session: Session, request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, super::MAX_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => return HtmlError(Error::PayloadTooLarge).into_response(),
    };
    let sent = form_urlencoded::parse(&bytes).find(|(k, _)| k == CSRF_FIELD).map(|(_, v)| v.into_owned());
    let expected = session.get::<String>(CSRF_KEY).await.ok().flatten();
    let valid = matches!((&sent, &expected), (Some(s), Some(e)) if token::digests_equal(s.as_bytes(), e.as_bytes()));
    if !valid {
        tracing::warn!(http.path = %parts.uri.path(), "rejected a form without a valid CSRF token");
        return HtmlError(Error::Forbidden(
            "This form expired or did not come from this site. Go back, reload the page and try again.",
        ))
        .into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

/// Signs `user` in: a new session id (no fixation), then the user id.
pub async fn sign_in(session: &Session, user: &User) -> Result<(), Error> {
    session.cycle_id().await.map_err(session_error)?;
    session.insert(USER_KEY, user.id).await.map_err(session_error)?;
    // A fresh CSRF token for the signed-in session.
    let (fresh, _) = token::generate();
    session.insert(CSRF_KEY, &fresh).await.map_err(session_error)?;
    Ok(())
}

pub async fn sign_out(session: &Session) -> Result<(), Error> {
    session.flush().await.map_err(session_error)
}

/// The signed-in user, if any. Looked up once per request: later extractors (a guard, then
/// `PageContext`) reuse it.
#[derive(Clone)]
pub struct MaybeUser(pub Option<User>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = HtmlError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(known) = parts.extensions.get::<MaybeUser>() {
            return Ok(known.clone());
        }
        let Ok(session) = Session::from_request_parts(parts, state).await else { return Ok(MaybeUser(None)) };
        let Some(id) = session.get::<Uuid>(USER_KEY).await.map_err(session_error)? else { return Ok(MaybeUser(None)) };
        let user = accounts::find_user(&state.pool, id).await?;
        if user.is_none() {
            sign_out(&session).await?;
        }
        parts.extensions.insert(MaybeUser(user.clone()));
        Ok(MaybeUser(user))
    }
}

/// The client's address, as the connection shows it.
pub struct ClientIp(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string())))
    }
}
