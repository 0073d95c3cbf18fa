//! Composing a queued email from what the database says now: the order, its eSIM (decrypted
//! only here, for the message), the plan's facts, and a fresh link token for each link.

use serde_json::Value;
use uuid::Uuid;

use super::message::{Content, Email, EsimReady, OrderSummary};
use super::transport::Inner;
use crate::db::{self, Pool};
use crate::domain::order::Order;
use crate::domain::{Money, OrderStatus, token};
use crate::error::{Error, Result};
use crate::services::esim;

/// Which message a job sends (`payload.message`).
pub mod kinds {
    pub const PAYMENT_RECEIVED: &str = "payment_received";
    pub const ESIM_READY: &str = "esim_ready";
    pub const PROVISIONING_FAILED: &str = "provisioning_failed";
    pub const REFUNDED: &str = "refunded";
    pub const FIND_ORDERS: &str = "find_orders";
    pub const VERIFY_EMAIL: &str = "verify_email";
    pub const RESET_PASSWORD: &str = "reset_password";
    pub const ACCOUNT_EXISTS: &str = "account_exists";
}

/// How long an address-verification link works.
pub const VERIFY_TTL_SECONDS: f64 = 24.0 * 3600.0;
/// How long a password-reset link works.
pub const RESET_TTL_SECONDS: f64 = 3600.0;

/// The email a job sends, or `None` when there is nothing to send any more (the order moved
/// on, the account is gone).
pub(super) async fn compose(
    pool: &Pool,
    inner: &Inner,
    order_id: Option<Uuid>,
    payload: &Value,
) -> Result<Option<Email>> {
    let message = payload["message"].as_str().unwrap_or_default();
    let base = &inner.settings.public_url;
    let email = |to: String, content: Content| Email {
        to,
        content,
        support_email: inner.settings.support_email.clone(),
        shop_url: base.clone(),
    };
    let text = |field: &str| payload[field].as_str().unwrap_or_default().to_string();
    let user_id = || payload["user_id"].as_str().and_then(|s| Uuid::parse_str(s).ok());
    let content = match (message, order_id) {
        (kinds::FIND_ORDERS, _) => {
            let mut orders = Vec::new();
            for id in db::mail::order_ids_for_email(pool, &text("to")).await? {
                if let Some(order) = db::orders::find(pool, id).await? {
                    orders.push(summary(pool, base, &order).await?);
                }
            }
            if orders.is_empty() {
                return Ok(None);
            }
            return Ok(Some(email(text("to"), Content::FindOrders(orders))));
        }
        (kinds::ACCOUNT_EXISTS, _) => {
            let content = Content::AccountExists {
                sign_in_link: format!("{base}/account/sign-in"),
                reset_link: format!("{base}/account/reset-password"),
            };
            return Ok(Some(email(text("to"), content)));
        }
        (kinds::VERIFY_EMAIL | kinds::RESET_PASSWORD, _) => {
            let Some(user) = (match user_id() {
                Some(id) => db::users::find(pool, id).await?,
                None => None,
            }) else {
                return Ok(None);
            };
            let (token, digest) = token::generate();
            let (ttl, path) = if message == kinds::VERIFY_EMAIL {
                (VERIFY_TTL_SECONDS, "/account/verify")
            } else {
                (RESET_TTL_SECONDS, "/account/reset-password")
            };
            db::account_tokens::insert(pool, user.id, message, &digest, ttl).await?;
            let link = format!("{base}{path}?token={token}");
            let content = if message == kinds::VERIFY_EMAIL {
                Content::VerifyEmail { link }
            } else {
                Content::ResetPassword { link }
            };
            return Ok(Some(email(user.email, content)));
        }
        (_, None) => return Err(Error::invalid("message", "an order email without an order")),
        (order_message, Some(order_id)) => {
            let Some(order) = db::orders::find(pool, order_id).await? else { return Ok(None) };
            let Some(content) = order_content(pool, inner, order_message, &order).await? else { return Ok(None) };
            (order.email, content)
        }
    };
    Ok(Some(email(content.0, content.1)))
}

async fn order_content(pool: &Pool, inner: &Inner, message: &str, order: &Order) -> Result<Option<Content>> {
    let base = &inner.settings.public_url;
    // Read only for the two messages that state it.
    let refunded = || async {
        let minor = db::orders::refunded(pool, order.id).await?;
        Ok::<_, Error>(Money::new(minor, order.amount.currency.clone()))
    };
    Ok(Some(match message {
        kinds::PAYMENT_RECEIVED => Content::PaymentReceived(summary(pool, base, order).await?),
        kinds::ESIM_READY => {
            let Some(details) = esim::details(pool, &inner.cipher, order).await? else { return Ok(None) };
            let snapshot = inner.catalogue.snapshot();
            let plan = snapshot.plan(order.plan_id);
            let code = details.code;
            Content::EsimReady(Box::new(EsimReady {
                order: summary(pool, base, order).await?,
                qr_cid: format!("qr.{}@tern", order.id.simple()),
                qr_png: crate::qr::png(&code.raw)?,
                ios_install_url: code.ios_install_url(),
                android_install_url: code.android_install_url(),
                activation_code: code.raw,
                sm_dp_address: code.sm_dp_address,
                matching_id: code.matching_id,
                confirmation_code_required: code.confirmation_code_required,
                iccid: details.iccid,
                data: plan.map(|p| p.data_label()).unwrap_or_default(),
                validity: plan.map(|p| p.validity_label()).unwrap_or_default(),
                validity_start: plan.map(|p| p.validity_start.label().to_string()).unwrap_or_default(),
            }))
        }
        kinds::PROVISIONING_FAILED => {
            let refunded = refunded().await?;
            Content::ProvisioningFailed {
                order: summary(pool, base, order).await?,
                refunded: (refunded.minor > 0).then(|| refunded.to_string()),
            }
        }
        kinds::REFUNDED => {
            let refunded = refunded().await?;
            if refunded.minor == 0 {
                return Ok(None);
            }
            Content::Refunded {
                order: summary(pool, base, order).await?,
                amount: refunded.to_string(),
                full: order.status == OrderStatus::Refunded,
            }
        }
        _ => return Ok(None),
    }))
}

/// The order as an email names it, with a link token of its own.
async fn summary(pool: &Pool, base: &str, order: &Order) -> Result<OrderSummary> {
    let (token, digest) = token::generate();
    db::mail::insert_link_token(pool, order.id, &digest).await?;
    let day = time::macros::format_description!("[day] [month repr:short] [year]");
    Ok(OrderSummary {
        reference: crate::domain::order::short_reference(order.id),
        plan_name: order.plan_name.clone(),
        amount: order.amount.to_string(),
        status: order.status.label().to_string(),
        placed_on: order.created_at.format(&day).unwrap_or_default(),
        link: format!("{base}/orders/{}?token={token}", order.id),
    })
}

/// The message that tells the traveller where their order stands now (what a resend sends).
pub fn current_message(status: OrderStatus) -> Option<&'static str> {
    match status {
        OrderStatus::Ready => Some(kinds::ESIM_READY),
        OrderStatus::Paid | OrderStatus::Provisioning => Some(kinds::PAYMENT_RECEIVED),
        OrderStatus::ProvisioningFailed => Some(kinds::PROVISIONING_FAILED),
        OrderStatus::Refunded => Some(kinds::REFUNDED),
        _ => None,
    }
}
