//! Who is asking: sessions kept in PostgreSQL (tower-sessions) pointing at a signed-in session
//! row (`services::sessions`: lifetimes, second factor, revocation), the signed-in user, CSRF
//! tokens on every state-changing form, and the client's real address (behind trusted proxies)
//! for rate limits and the audit log.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRef, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;
use uuid::Uuid;

use super::errors::HtmlError;
use crate::domain::client_addr::{TrustedProxies, rate_limit_group};
use crate::domain::token;
use crate::domain::user::User;
use crate::error::Error;
use crate::http::state::AppState;
use crate::services::Pool;
use crate::services::sessions::{self, SignedIn};

/// The session's signed-in session row (`user_sessions.id`).
const LOGIN_KEY: &str = "login_id";
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

/// Signs `user` in: a new session id (no fixation), then a new signed-in session row. Staff
/// still owe their second factor (`sessions::SignedIn::awaits_mfa`).
pub async fn sign_in(session: &Session, pool: &Pool, user: &User) -> Result<(), Error> {
    session.cycle_id().await.map_err(session_error)?;
    let login = sessions::start(pool, user).await?;
    session.insert(LOGIN_KEY, login).await.map_err(session_error)?;
    // A fresh CSRF token for the signed-in session.
    let (fresh, _) = token::generate();
    session.insert(CSRF_KEY, &fresh).await.map_err(session_error)?;
    Ok(())
}

/// Ends this session: its row is revoked and the browser session emptied.
pub async fn sign_out(session: &Session, pool: &Pool) -> Result<(), Error> {
    if let Some(login) = session.get::<Uuid>(LOGIN_KEY).await.map_err(session_error)? {
        sessions::end(pool, login).await?;
    }
    session.flush().await.map_err(session_error)
}

/// The live signed-in session of this request, if any, whether or not its second factor was
/// given. Looked up once per request; an expired or revoked one empties the browser session.
#[derive(Clone)]
pub struct CurrentLogin(pub Option<SignedIn>);

impl FromRequestParts<AppState> for CurrentLogin {
    type Rejection = HtmlError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(known) = parts.extensions.get::<CurrentLogin>() {
            return Ok(known.clone());
        }
        let Ok(session) = Session::from_request_parts(parts, state).await else { return Ok(CurrentLogin(None)) };
        let Some(id) = session.get::<Uuid>(LOGIN_KEY).await.map_err(session_error)? else {
            return Ok(CurrentLogin(None));
        };
        let login = sessions::current(&state.pool, id).await?;
        if login.is_none() {
            session.flush().await.map_err(session_error)?;
        }
        parts.extensions.insert(CurrentLogin(login.clone()));
        Ok(CurrentLogin(login))
    }
}

/// The signed-in user, if any: staff count as signed in only once their second factor was
/// checked. Later extractors (a guard, then `PageContext`) reuse the lookup.
#[derive(Clone)]
pub struct MaybeUser(pub Option<User>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = HtmlError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let CurrentLogin(login) = CurrentLogin::from_request_parts(parts, state).await?;
        Ok(MaybeUser(login.filter(|l| !l.awaits_mfa()).map(|l| l.user)))
    }
}

/// The client's address: the connection's peer, or, when the peer is one of
/// `TERN_TRUSTED_PROXIES`, the client those proxies name in `Forwarded` / `X-Forwarded-For`.
pub struct ClientIp(pub Option<String>);

impl ClientIp {
    /// The key this client counts under for rate limits (an IPv6 client by its /64).
    pub fn rate_group(&self) -> Option<String> {
        self.0.as_deref().map(rate_limit_group)
    }
}

/// The real client of a request (see [`ClientIp`]).
pub fn client_addr(headers: &HeaderMap, peer: Option<IpAddr>, proxies: &TrustedProxies) -> Option<IpAddr> {
    let joined = |name: &str| {
        let values: Vec<&str> = headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).collect();
        (!values.is_empty()).then(|| values.join(","))
    };
    peer.map(|peer| proxies.client(peer, joined("forwarded").as_deref(), joined("x-forwarded-for").as_deref()))
}

impl<S> FromRequestParts<S> for ClientIp
where
    S: Send + Sync,
    Arc<TrustedProxies>: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        let proxies = Arc::<TrustedProxies>::from_ref(state);
        Ok(ClientIp(client_addr(&parts.headers, peer, &proxies).map(|ip| ip.to_string())))
    }
}
