//! Email to travellers, through a durable outbox: what each order event sends is queued in the
//! event's transaction as a `send_email` job (one key per message, so one transition queues
//! one email), and the worker composes and sends it over SMTP with retries. Each send or final
//! failure is an order event; a refused address puts the order on "needs attention".
//! (Composing: `compose`; the SMTP client and MIME: `transport`; what a message says: `message`.)

mod compose;
pub mod mailbox;
pub mod message;
mod transport;

use serde_json::json;
use uuid::Uuid;

use super::jobs::{Backoff, ClaimedJob, Completion, JobError, RetryPolicy};
use super::lifecycle;
use crate::db::{self, Conn, Pool};
use crate::domain::{Actor, EventKind};
use crate::error::Result;

pub use self::compose::{RESET_TTL_SECONDS, VERIFY_TTL_SECONDS, current_message, kinds};
pub use self::message::{Content, Email, EsimReady, OrderSummary, Rendered, Renderer};
pub use self::transport::{MailSettings, Mailer, loopback_transport, smtp_transport};

/// The job that sends one email.
pub const SEND_EMAIL: &str = "send_email";

/// Retries of an email the SMTP server did not take.
pub const RETRY: RetryPolicy = RetryPolicy {
    max_attempts: 12,
    backoff: Backoff::Exponential {
        base: std::time::Duration::from_secs(15),
        max: std::time::Duration::from_secs(3600),
    },
};

/// Queues the emails `kind` causes for the order, in the caller's transaction.
pub async fn queue_for_event(conn: &mut Conn, order_id: Uuid, kind: EventKind) -> Result<()> {
    let (message, key) = match kind {
        EventKind::Paid => (kinds::PAYMENT_RECEIVED, format!("{order_id}:payment_received")),
        EventKind::Ready => (kinds::ESIM_READY, format!("{order_id}:esim_ready")),
        EventKind::ProvisioningFailed => (kinds::PROVISIONING_FAILED, format!("{order_id}:provisioning_failed")),
        EventKind::Refunded | EventKind::PartiallyRefunded => {
            let n = db::mail::count_events(&mut *conn, order_id, &["refunded", "partially_refunded"]).await?;
            (kinds::REFUNDED, format!("{order_id}:refunded:{n}"))
        }
        EventKind::EmailResent | EventKind::EmailCorrected => {
            let Some(order) = db::orders::find(&mut *conn, order_id).await? else { return Ok(()) };
            let Some(message) = current_message(order.status) else { return Ok(()) };
            let n = db::mail::count_events(&mut *conn, order_id, &[kind.as_str()]).await?;
            (message, format!("{order_id}:{kind}:{n}"))
        }
        _ => return Ok(()),
    };
    enqueue(conn, &key, Some(order_id), json!({ "message": message })).await
}

/// Queues an email that belongs to no order event (`/orders/find`, account emails), with a
/// key of its own.
pub async fn queue_message(conn: &mut Conn, payload: serde_json::Value) -> Result<()> {
    enqueue(conn, &format!("message:{}", Uuid::new_v4()), None, payload).await
}

async fn enqueue(conn: &mut Conn, key: &str, order_id: Option<Uuid>, payload: serde_json::Value) -> Result<()> {
    let job = db::jobs::NewJob { kind: SEND_EMAIL, key, order_id, payload: Some(&payload) };
    db::jobs::enqueue_keyed(&mut *conn, job).await?;
    Ok(())
}

/// The Message-ID of a job's email: the same on every attempt, so a retry after a lost answer
/// is recognised as the same message.
fn message_id(key: &str, domain: &str) -> String {
    let local: String = key.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '.' }).collect();
    format!("{local}@{domain}")
}

/// Sends the email of a claimed `send_email` job. An order's email is recorded as sent
/// (its event) in the transaction that marks the job done.
pub async fn send(pool: &Pool, mailer: &Mailer, job: &ClaimedJob) -> std::result::Result<Completion, JobError> {
    let Some(inner) = mailer.inner() else {
        return Err(JobError::Retry { reason: "no SMTP transport is configured".into(), after: None });
    };
    let Some(email) = compose::compose(pool, inner, job.order_id, &job.payload).await? else {
        return Ok(Completion::Pending);
    };
    match transport::deliver(inner, &email, &message_id(&job.key, &mailer.id_domain())).await {
        Ok(()) => {
            tracing::info!(job.id = job.id, "email sent");
            let Some(order_id) = job.order_id else { return Ok(Completion::Pending) };
            let mut tx = pool.begin().await.map_err(crate::error::Error::from)?;
            db::mail::set_undeliverable(&mut *tx, order_id, false).await?;
            let details = json!({ "message": job.payload["message"], "to": email.to });
            lifecycle::record(&mut tx, order_id, EventKind::EmailSent, Actor::System, details).await?;
            let held = db::jobs::complete(&mut *tx, job).await?;
            tx.commit().await.map_err(crate::error::Error::from)?;
            Ok(Completion::Recorded { held })
        }
        Err(transport::SendError::Rejected(reason)) => Err(JobError::Fail { reason: format!("refused: {reason}") }),
        Err(transport::SendError::Transient(reason)) => Err(JobError::Retry { reason, after: None }),
    }
}

/// Records a failed attempt that will be retried (operators see it; travellers do not).
pub async fn on_retry(conn: &mut Conn, job: &ClaimedJob, reason: &str) -> Result<()> {
    let Some(order_id) = job.order_id else { return Ok(()) };
    let details = json!({ "message": job.payload["message"], "reason": reason, "attempt": job.attempts });
    lifecycle::record(conn, order_id, EventKind::EmailDelayed, Actor::System, details).await?;
    Ok(())
}

/// Records an email given up for good, and puts its order on "needs attention".
pub async fn on_give_up(conn: &mut Conn, job: &ClaimedJob, reason: &str) -> Result<()> {
    let Some(order_id) = job.order_id else { return Ok(()) };
    if db::orders::find(&mut *conn, order_id).await?.is_none() {
        return Ok(());
    }
    db::mail::set_undeliverable(&mut *conn, order_id, true).await?;
    let details = json!({ "message": job.payload["message"], "reason": reason, "attempts": job.attempts });
    lifecycle::record(conn, order_id, EventKind::EmailFailed, Actor::System, details).await?;
    Ok(())
}
