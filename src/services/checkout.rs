//! Buying a plan: the review step, the order, and the Stripe Checkout Session it is paid in.
//! Confirming the payment is `payments`; reading an order back is `orders`.

use std::time::Duration;

use serde_json::json;
use uuid::Uuid;

use super::lifecycle;
use crate::clients::stripe::{CheckoutRequest, StripeClient};
use crate::db::{self, Pool};
use crate::domain::order::{Order, OrderEvent};
use crate::domain::{Actor, Catalogue, Email, EventKind, token};
use crate::error::{Error, FieldError, Result};

/// How long a traveller has to pay before the Checkout Session expires.
pub const CHECKOUT_TTL: Duration = Duration::from_secs(30 * 60);
/// Stripe refuses an `expires_at` less than 30 minutes after it creates the session; the
/// request's own latency and clock skew must not push ours under that line.
const EXPIRY_MARGIN: Duration = Duration::from_secs(60);

/// Everything checkout needs besides the database.
#[derive(Clone)]
pub struct Payments {
    pub stripe: StripeClient,
    /// Where travellers come back to: `https://shop.example` (no trailing slash).
    pub public_url: String,
    /// The `whsec_…` secret Stripe signs webhook events with.
    pub webhook_secret: secrecy::SecretString,
    /// The origin of Stripe's hosted checkout pages (`https://checkout.stripe.com`, or the
    /// emulator's): where the checkout form may send the browser (CSP `form-action`).
    pub checkout_origin: String,
}

/// What a traveller (or an app) submits to buy a plan.
#[derive(Debug, Clone, Default)]
pub struct CheckoutInput {
    pub plan_id: String,
    pub email: String,
    /// The traveller confirmed their phone is eSIM-capable and unlocked (the web form asks;
    /// the API leaves it to the app).
    pub device_confirmed: bool,
    /// The signed-in account placing it, if any.
    pub user_id: Option<Uuid>,
}

/// Checks the input against the catalogue without changing anything: the review step.
pub fn review(catalogue: &Catalogue, input: &CheckoutInput) -> Result<Email> {
    let plan = crate::services::catalogue::plan(catalogue, &input.plan_id)?;
    if !plan.on_sale {
        return Err(not_on_sale());
    }
    let mut errors = Vec::new();
    let email = Email::parse(&input.email).map_err(|m| errors.push(FieldError::new("email", m))).ok();
    if !input.device_confirmed {
        errors.push(FieldError::new(
            "device_confirmed",
            "Confirm that your phone supports eSIM and is unlocked: an eSIM cannot be refunded once installed.",
        ));
    }
    match email {
        Some(email) if errors.is_empty() => Ok(email),
        _ => Err(Error::Invalid(errors)),
    }
}

fn not_on_sale() -> Error {
    Error::Conflict { code: "plan_not_on_sale", message: "This plan is no longer on sale.".into() }
}

/// Where Stripe sends the traveller after paying: the order and the session only, never the
/// access token (it would sit in Stripe, the browser's history and proxy logs). The session,
/// read back from Stripe, proves the visitor (`order_access::by_checkout_session`).
pub fn success_url(base: &str, order_id: Uuid) -> String {
    format!("{base}/orders/{order_id}?session_id={{CHECKOUT_SESSION_ID}}")
}

/// A started checkout: the order, its timeline as written (`created`, `checkout_started`),
/// the traveller's access token, and where to pay.
#[derive(Debug)]
pub struct StartedCheckout {
    pub order: Order,
    pub events: Vec<OrderEvent>,
    pub access_token: String,
    pub checkout_url: String,
}

/// Records the order (`awaiting_payment`, price copied from the catalogue in the database at
/// this moment), then opens a Checkout Session for it.
pub async fn start(
    pool: &Pool,
    payments: &Payments,
    catalogue: &Catalogue,
    input: &CheckoutInput,
) -> Result<StartedCheckout> {
    let email = review(catalogue, input)?;
    let plan = crate::services::catalogue::plan(catalogue, &input.plan_id)?;
    let (access_token, digest) = token::generate();
    let mut tx = pool.begin().await?;
    let order =
        db::orders::insert(&mut *tx, plan.id, email.as_str(), &digest, input.user_id).await?.ok_or_else(not_on_sale)?;
    let details = json!({ "plan_id": plan.id });
    let created = lifecycle::record(&mut tx, order.id, EventKind::Created, Actor::Traveller, details).await?;
    tx.commit().await?;
    tracing::info!(order.id = %order.id, email.domain = email.domain(), "order created");

    let base = &payments.public_url;
    let request = CheckoutRequest {
        order_id: order.id.to_string(),
        product_name: format!("{} eSIM", order.plan_name),
        description: format!("Data-only travel eSIM: {}, {}", plan.data_label(), plan.validity_label()),
        amount_minor: order.amount.minor,
        currency: order.amount.currency.clone(),
        customer_email: order.email.clone(),
        success_url: success_url(base, order.id),
        cancel_url: format!("{base}/plans/{}?checkout=cancelled", plan.id),
        expires_at: time::OffsetDateTime::now_utc().unix_timestamp() + (CHECKOUT_TTL + EXPIRY_MARGIN).as_secs() as i64,
    };
    let session = match payments.stripe.create_checkout_session(&request).await {
        Ok(session) => session,
        Err(e) => {
            let mut tx = pool.begin().await?;
            lifecycle::record(&mut tx, order.id, EventKind::CheckoutFailed, Actor::System, json!({})).await?;
            tx.commit().await?;
            return Err(e.into());
        }
    };
    let mut tx = pool.begin().await?;
    db::orders::set_session(&mut *tx, order.id, &session.id).await?;
    let details = json!({ "session_id": session.id });
    let started = lifecycle::record(&mut tx, order.id, EventKind::CheckoutStarted, Actor::Traveller, details).await?;
    tx.commit().await?;
    let order = Order { stripe_session_id: Some(session.id), user_id: input.user_id, ..order };
    Ok(StartedCheckout { order, events: vec![created, started], access_token, checkout_url: session.url })
}
