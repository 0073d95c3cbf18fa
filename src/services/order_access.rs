//! Who may open a guest order's page without an account, besides the holder of its access
//! token (`orders::for_viewer`): the browser holding the order's access cookie, and the
//! visitor Stripe sends back from a recent Checkout Session of that very order. The token
//! itself never has to sit in a URL: the cookie carries it, or, when the visitor proved
//! themselves through Stripe instead, a grant (a MAC of the order id and its token's digest
//! under the application's key).

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

use super::checkout::Payments;
use crate::crypto::Cipher;
use crate::db::{self, Pool};
use crate::domain::order::Order;
use crate::domain::user::User;
use crate::error::{Error, Result};

/// How long after its creation a Checkout Session still proves its visitor: the 30 minutes a
/// traveller has to pay and time to spare for Stripe's redirect back. The first visit gives the
/// browser the cookie; later visits need the cookie or the emailed link.
pub const SESSION_PROOF_WINDOW: Duration = Duration::from_secs(2 * 60 * 60);
/// Seconds Stripe's clock may run ahead of ours.
const CLOCK_SKEW: i64 = 300;
const GRANT_PREFIX: &str = "g.";

fn grant_data(order: &Order) -> Vec<u8> {
    [b"order-access\0".as_slice(), order.id.as_bytes(), &order.access_token_sha256].concat()
}

/// The cookie value for a visitor who proved themselves without the token.
pub fn grant(cipher: &Cipher, order: &Order) -> String {
    format!("{GRANT_PREFIX}{}", URL_SAFE_NO_PAD.encode(cipher.mac(&grant_data(order))))
}

async fn find(pool: &Pool, id: &str) -> Result<Order> {
    let id = Uuid::parse_str(id).map_err(|_| Error::NotFound("order"))?;
    db::orders::find(pool, id).await?.ok_or(Error::NotFound("order"))
}

/// The order a cookie opens: one holding the token (signed-in viewers claim a guest order as
/// with the link), or a grant.
pub async fn by_cookie(pool: &Pool, cipher: &Cipher, id: &str, value: &str, viewer: Option<&User>) -> Result<Order> {
    let Some(tag) = value.strip_prefix(GRANT_PREFIX) else {
        return super::orders::for_viewer(pool, id, Some(value), viewer).await;
    };
    let order = find(pool, id).await?;
    let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| Error::NotFound("order"))?;
    if !cipher.verify_mac(&grant_data(&order), &tag) {
        return Err(Error::NotFound("order"));
    }
    Ok(order)
}

/// The order whose Checkout Session `session_id` is, when Stripe confirms that session belongs
/// to it and it is recent: Stripe sends the visitor back with the session id, not the token.
pub async fn by_checkout_session(pool: &Pool, payments: &Payments, id: &str, session_id: &str) -> Result<Order> {
    let order = find(pool, id).await?;
    if order.stripe_session_id.as_deref() != Some(session_id) {
        return Err(Error::NotFound("order"));
    }
    let session = payments.stripe.retrieve_session(session_id).await?;
    let age = time::OffsetDateTime::now_utc().unix_timestamp() - session.created;
    let belongs = session.client_reference_id.as_deref() == Some(order.id.to_string().as_str());
    if !belongs || !(-CLOCK_SKEW..=SESSION_PROOF_WINDOW.as_secs() as i64).contains(&age) {
        tracing::warn!(order.id = %order.id, belongs, age, "a checkout session did not prove its visitor");
        return Err(Error::NotFound("order"));
    }
    Ok(order)
}
