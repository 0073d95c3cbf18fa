//! The order access cookie: what a guest's browser holds instead of a `?token=` URL. HttpOnly,
//! SameSite=Lax (Stripe's redirect back is a top-level navigation), Secure over HTTPS, and
//! scoped to the one order's path (its page, QR code and status).

use axum::http::{HeaderMap, HeaderValue, header};
use uuid::Uuid;

pub const NAME: &str = "tern_order";
/// A week: long enough to install the eSIM; the emailed link sets it again.
const MAX_AGE_SECONDS: u32 = 7 * 24 * 60 * 60;

/// The `Set-Cookie` value giving this browser `value` for order `id`.
pub fn set(id: Uuid, value: &str, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{NAME}={value}; Path=/orders/{id}; Max-Age={MAX_AGE_SECONDS}; HttpOnly; SameSite=Lax{secure}"
    ))
    .expect("tokens and grants are base64url")
}

/// The cookie's value, when the request carries it (the browser sends only this order's).
pub fn read(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == NAME && !value.is_empty())
        .map(|(_, value)| value.to_string())
}
