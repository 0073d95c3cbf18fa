//! Operators and an order's email: "Resend eSIM email" (the message for where the order
//! stands) and "Correct the email address and resend". Each is an order event naming the
//! operator and an audit entry, in one transaction that also queues the message.

use serde_json::json;
use uuid::Uuid;

use super::{Operator, lifecycle, mail};
use crate::db::{self, Pool};
use crate::domain::{Email, EventKind};
use crate::error::{Error, Result};

fn nothing_to_send() -> Error {
    Error::Conflict { code: "nothing_to_send", message: "This order has no email to send yet: it is not paid.".into() }
}

/// Queues the order's current message again, to the address on the order.
pub async fn resend(pool: &Pool, op: &Operator<'_>, id: Uuid) -> Result<()> {
    let order = db::orders::find(pool, id).await?.ok_or(Error::NotFound("order"))?;
    let message = mail::current_message(order.status).ok_or_else(nothing_to_send)?;
    let details = json!({ "message": message, "to": order.email });
    let mut tx = pool.begin().await?;
    lifecycle::record(&mut tx, id, EventKind::EmailResent, op.actor(), details.clone()).await?;
    op.audit(&mut tx, "email_resent", format!("order:{id}"), details).await?;
    tx.commit().await?;
    Ok(())
}

/// Checks a corrected address without changing anything (the confirmation step shows it).
pub fn check_address(raw: &str) -> Result<Email> {
    Email::parse(raw).map_err(|m| Error::invalid("email", m))
}

/// Replaces the order's address with `raw` and queues its current message to it.
pub async fn correct_and_resend(pool: &Pool, op: &Operator<'_>, id: Uuid, raw: &str) -> Result<Email> {
    let email = check_address(raw)?;
    let order = db::orders::find(pool, id).await?.ok_or(Error::NotFound("order"))?;
    let message = mail::current_message(order.status).ok_or_else(nothing_to_send)?;
    let details = json!({ "message": message, "from": order.email, "to": email.as_str() });
    let mut tx = pool.begin().await?;
    db::mail::set_order_email(&mut *tx, id, email.as_str()).await?;
    lifecycle::record(&mut tx, id, EventKind::EmailCorrected, op.actor(), details.clone()).await?;
    op.audit(&mut tx, "email_corrected", format!("order:{id}"), details).await?;
    tx.commit().await?;
    Ok(email)
}
