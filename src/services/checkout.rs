//! Buying a plan: the order, the Stripe Checkout Session, and confirming payment exactly once.

use std::time::Duration;

use sqlx::PgPool;
use uuid::Uuid;

use crate::clients::stripe::{CheckoutRequest, SessionFacts, StripeClient};
use crate::db;
use crate::domain::order::Order;
use crate::domain::user::User;
use crate::domain::{Actor, Catalogue, Email, OrderStatus, token};
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

/// A started checkout: the order, the traveller's access token, and where to pay.
#[derive(Debug)]
pub struct StartedCheckout {
    pub order: Order,
    pub access_token: String,
    pub checkout_url: String,
}

/// Records the order (`awaiting_payment`, price copied from the catalogue in the database at
/// this moment), then opens a Checkout Session for it.
pub async fn start(
    pool: &PgPool,
    payments: &Payments,
    catalogue: &Catalogue,
    input: &CheckoutInput,
) -> Result<StartedCheckout> {
    let email = review(catalogue, input)?;
    let plan = crate::services::catalogue::plan(catalogue, &input.plan_id)?;
    let (access_token, digest) = token::generate();
    let mut tx = pool.begin().await?;
    let order = db::orders::insert(&mut tx, plan.id, email.as_str(), &digest).await?.ok_or_else(not_on_sale)?;
    db::orders::add_event(&mut tx, order.id, "created", Actor::Traveller, serde_json::json!({ "plan_id": plan.id }))
        .await?;
    if let Some(user_id) = input.user_id {
        db::orders::set_user(&mut tx, order.id, user_id).await?;
    }
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
        success_url: format!("{base}/orders/{}?token={access_token}&session_id={{CHECKOUT_SESSION_ID}}", order.id),
        cancel_url: format!("{base}/plans/{}?checkout=cancelled", plan.id),
        expires_at: time::OffsetDateTime::now_utc().unix_timestamp() + (CHECKOUT_TTL + EXPIRY_MARGIN).as_secs() as i64,
    };
    let session = match payments.stripe.create_checkout_session(&request).await {
        Ok(session) => session,
        Err(e) => {
            let mut conn = pool.acquire().await?;
            db::orders::add_event(&mut conn, order.id, "checkout_failed", Actor::System, serde_json::json!({})).await?;
            return Err(Error::Upstream(e.to_string()));
        }
    };
    let mut tx = pool.begin().await?;
    db::orders::set_session(&mut tx, order.id, &session.id).await?;
    db::orders::add_event(
        &mut tx,
        order.id,
        "checkout_started",
        Actor::Traveller,
        serde_json::json!({ "session_id": session.id }),
    )
    .await?;
    tx.commit().await?;
    let order = Order { stripe_session_id: Some(session.id), user_id: input.user_id, ..order };
    Ok(StartedCheckout { order, access_token, checkout_url: session.url })
}

/// An order by id, for whoever holds its access token. A wrong token is the same as no order.
pub async fn order_for_token(pool: &PgPool, id: &str, access_token: &str) -> Result<Order> {
    let id = Uuid::parse_str(id).map_err(|_| Error::NotFound("order"))?;
    let mut conn = pool.acquire().await?;
    let order = db::orders::find(&mut conn, id).await?.ok_or(Error::NotFound("order"))?;
    if !token::digests_equal(&token::digest(access_token), &order.access_token_sha256) {
        return Err(Error::NotFound("order"));
    }
    Ok(order)
}

/// An order for whoever may see it: the holder of its access token, or its account. Opening
/// a guest order's link while signed in with the same email claims it for that account.
pub async fn order_for_viewer(
    pool: &PgPool,
    id: &str,
    access_token: Option<&str>,
    viewer: Option<&User>,
) -> Result<Order> {
    let order = match access_token.filter(|t| !t.is_empty()) {
        Some(token) => order_for_token(pool, id, token).await?,
        None => {
            let id = Uuid::parse_str(id).map_err(|_| Error::NotFound("order"))?;
            let order = db::orders::find(&mut *pool.acquire().await?, id).await?.ok_or(Error::NotFound("order"))?;
            if viewer.is_none_or(|v| order.user_id != Some(v.id)) {
                return Err(Error::NotFound("order"));
            }
            return Ok(order);
        }
    };
    if let Some(viewer) = viewer
        && order.user_id.is_none()
        && order.email.eq_ignore_ascii_case(&viewer.email)
    {
        let mut tx = pool.begin().await?;
        if db::orders::set_user(&mut tx, order.id, viewer.id).await? {
            db::orders::add_event(
                &mut tx,
                order.id,
                "claimed",
                Actor::Traveller,
                serde_json::json!({ "user_id": viewer.id }),
            )
            .await?;
        }
        tx.commit().await?;
        return Ok(Order { user_id: Some(viewer.id), ..order });
    }
    Ok(order)
}

/// What `fulfil_checkout` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fulfilment {
    /// The order moved to `paid` now (exactly one call ever sees this).
    Paid,
    /// Already paid or past it: nothing to do.
    AlreadyDone,
    /// Not paid (yet): a delayed method, or an open session.
    NotPaid,
    /// Amount or currency did not match: flagged for review, not paid.
    Flagged,
    /// No order has this session.
    UnknownSession,
}

/// Confirms a payment from Stripe's own record of the session, never from the caller's word:
/// safe to call any number of times, from the webhook and the success page at once.
pub async fn fulfil_checkout(pool: &PgPool, payments: &Payments, session_id: &str) -> Result<Fulfilment> {
    let session = payments.stripe.retrieve_session(session_id).await.map_err(|e| Error::Upstream(e.to_string()))?;
    let mut tx = pool.begin().await?;
    let Some(found) = db::orders::find_by_session(&mut tx, &session.id).await? else {
        tracing::warn!(stripe.session = %session.id, "no order for this checkout session");
        return Ok(Fulfilment::UnknownSession);
    };
    // The row lock serialises concurrent confirmations of the same order.
    let order = db::orders::lock(&mut tx, found.id).await?.ok_or(Error::NotFound("order"))?;
    if order.status != OrderStatus::AwaitingPayment || order.needs_review {
        return Ok(Fulfilment::AlreadyDone);
    }
    if !session.is_paid() {
        if session.status == "complete" && !db::orders::has_event(&mut tx, order.id, "payment_pending").await? {
            db::orders::add_event(&mut tx, order.id, "payment_pending", Actor::Stripe, serde_json::json!({})).await?;
            tx.commit().await?;
        }
        return Ok(Fulfilment::NotPaid);
    }
    if !amount_matches(&order, &session) {
        db::orders::flag_for_review(&mut tx, order.id).await?;
        db::orders::add_event(
            &mut tx,
            order.id,
            "flagged_for_review",
            Actor::System,
            serde_json::json!({
                "reason": "amount or currency mismatch",
                "expected": { "amount": order.amount.minor, "currency": order.amount.currency },
                "stripe": { "amount": session.amount_total, "currency": session.currency },
            }),
        )
        .await?;
        tx.commit().await?;
        tracing::error!(order.id = %order.id, "payment does not match the order; flagged for review");
        return Ok(Fulfilment::Flagged);
    }
    db::orders::mark_paid(&mut tx, order.id, session.payment_intent.as_deref()).await?;
    db::orders::add_event(
        &mut tx,
        order.id,
        "paid",
        Actor::Stripe,
        serde_json::json!({ "session_id": session.id, "payment_intent": session.payment_intent, "amount": session.amount_total }),
    )
    .await?;
    db::jobs::enqueue(&mut tx, db::jobs::PROVISION_ESIM, order.id).await?;
    tx.commit().await?;
    tracing::info!(order.id = %order.id, "order paid; provisioning queued");
    Ok(Fulfilment::Paid)
}

fn amount_matches(order: &Order, session: &SessionFacts) -> bool {
    session.amount_total == Some(order.amount.minor)
        && session.currency.as_deref().is_some_and(|c| c.eq_ignore_ascii_case(&order.amount.currency))
}

/// Moves an unpaid order to `expired` or `payment_failed`; a paid order is never touched.
pub async fn close_unpaid(pool: &PgPool, session_id: &str, to: OrderStatus) -> Result<bool> {
    let mut tx = pool.begin().await?;
    let Some(found) = db::orders::find_by_session(&mut tx, session_id).await? else { return Ok(false) };
    let order = db::orders::lock(&mut tx, found.id).await?.ok_or(Error::NotFound("order"))?;
    if !order.status.can_become(to) {
        return Ok(false);
    }
    db::orders::set_status(&mut tx, order.id, to).await?;
    db::orders::add_event(
        &mut tx,
        order.id,
        to.as_str(),
        Actor::Stripe,
        serde_json::json!({ "session_id": session_id }),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Records a refund Stripe reports for a payment: the whole amount moves the order to
/// `refunded`, a part is noted on the timeline.
pub async fn record_refund(
    pool: &PgPool,
    payment_intent: &str,
    amount_refunded: i64,
    fully_refunded: bool,
) -> Result<bool> {
    let mut tx = pool.begin().await?;
    let Some(found) = db::orders::find_by_payment_intent(&mut tx, payment_intent).await? else { return Ok(false) };
    let order = db::orders::lock(&mut tx, found.id).await?.ok_or(Error::NotFound("order"))?;
    let details = serde_json::json!({ "payment_intent": payment_intent, "amount_refunded": amount_refunded });
    db::orders::set_refunded_at_least(&mut tx, order.id, amount_refunded).await?;
    if fully_refunded {
        if !order.status.can_become(OrderStatus::Refunded) {
            return Ok(false);
        }
        db::orders::set_status(&mut tx, order.id, OrderStatus::Refunded).await?;
        db::orders::add_event(&mut tx, order.id, "refunded", Actor::Stripe, details).await?;
    } else {
        db::orders::add_event(&mut tx, order.id, "partially_refunded", Actor::Stripe, details).await?;
    }
    tx.commit().await?;
    Ok(true)
}
