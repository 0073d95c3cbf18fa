//! Reconciling with Stripe, so that no payment depends on one webhook delivery: a periodic
//! sweep (one at a time across every process, under a PostgreSQL advisory lock) re-reads the
//! Checkout Session of every order still awaiting payment and catches up on Stripe's events
//! list; and reading an order still awaiting payment confirms it, at most once per
//! [`READ_CHECK_INTERVAL`] per order, from the second read that far after the first (a webhook
//! normally lands within seconds of the payment: a buyer's app that polls right after paying
//! does not cost a Stripe read per order). Everything goes through the webhook's own paths
//! (`payments::fulfil_checkout`, `payments::close_unpaid`, `stripe_events::handle`).

use std::time::Duration;

use time::OffsetDateTime;

use super::checkout::{CHECKOUT_TTL, Payments};
use super::payments::{self, Fulfilment};
use super::stripe_events::{self, StripeEvent};
use crate::db::{self, Pool};
use crate::domain::OrderStatus;
use crate::domain::order::Order;
use crate::error::Result;

/// How often the application runs the sweep.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(30);
/// An order's checkout is left to the webhook and the success page for this long first.
pub const SETTLE_TIME: Duration = Duration::from_secs(60);
/// How long after checkout the sweep keeps re-reading a session: past its expiry
/// (`CHECKOUT_TTL` and the minute `checkout` adds), with room for downtime.
pub const SWEEP_HORIZON: Duration = Duration::from_secs(CHECKOUT_TTL.as_secs() + 6 * 3600);
/// Orders re-read per sweep at most (the rest wait for the next one).
const SWEEP_BATCH: i64 = 500;
/// With no cursor yet, how far back the events list is read (Stripe retries a delivery for
/// about three days).
const EVENTS_LOOKBACK: Duration = Duration::from_secs(3 * 24 * 3600);
const EVENT_PAGE: i64 = 100;
/// Reading an order confirms its payment at most this often, and first this long after the
/// first read that found it awaiting payment.
pub const READ_CHECK_INTERVAL: Duration = Duration::from_secs(10);

/// What one sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// False when another process held the sweep's lock: nothing was done.
    pub ran: bool,
    pub sessions_checked: usize,
    pub paid: usize,
    pub closed: usize,
    pub events_handled: usize,
}

/// What re-reading one session did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionOutcome {
    Paid,
    Closed,
    Unchanged,
}

/// One sweep now.
pub async fn sweep(pool: &Pool, payments: &Payments) -> Result<SweepReport> {
    sweep_at(pool, payments, OffsetDateTime::now_utc()).await
}

/// One sweep as if the time were `now` (tests move it forward): sessions of orders created
/// between `now - SWEEP_HORIZON` and `now - SETTLE_TIME`, then the events list since the cursor.
pub async fn sweep_at(pool: &Pool, payments: &Payments, now: OffsetDateTime) -> Result<SweepReport> {
    // The lock lives as long as this transaction; the work itself uses other connections.
    let mut lock = pool.begin().await?;
    if !db::reconcile::try_lock_sweep(&mut *lock).await? {
        return Ok(SweepReport::default());
    }
    let mut report = SweepReport { ran: true, ..SweepReport::default() };
    let sessions = db::reconcile::awaiting_sessions(pool, now - SWEEP_HORIZON, now - SETTLE_TIME, SWEEP_BATCH).await?;
    for session_id in sessions {
        report.sessions_checked += 1;
        match reconcile_session(pool, payments, &session_id).await {
            Ok(SessionOutcome::Paid) => report.paid += 1,
            Ok(SessionOutcome::Closed) => report.closed += 1,
            Ok(SessionOutcome::Unchanged) => {}
            Err(e) => {
                tracing::warn!(stripe.session = %session_id, error = %e, "reconcile: re-reading a session failed")
            }
        }
    }
    report.events_handled = catch_up_events(pool, payments, now).await?;
    lock.rollback().await?;
    if report.paid + report.closed + report.events_handled > 0 {
        tracing::info!(?report, "reconciled with Stripe");
    }
    Ok(report)
}

/// Re-reads a session and confirms (complete) or closes (expired) its order through the
/// webhook's paths; an open session changes nothing.
pub async fn reconcile_session(pool: &Pool, payments: &Payments, session_id: &str) -> Result<SessionOutcome> {
    let session = payments.stripe.retrieve_session(session_id).await?;
    Ok(match session.status.as_str() {
        "expired" => {
            let mut tx = pool.begin().await?;
            let closed = payments::close_unpaid(&mut tx, session_id, OrderStatus::Expired).await?;
            tx.commit().await?;
            if closed { SessionOutcome::Closed } else { SessionOutcome::Unchanged }
        }
        "complete" => match payments::fulfil_checkout(pool, payments, session_id).await? {
            Fulfilment::Paid => SessionOutcome::Paid,
            _ => SessionOutcome::Unchanged,
        },
        _ => SessionOutcome::Unchanged,
    })
}

/// Feeds every event since the cursor, oldest first, through the webhook's handler (handled
/// ids are skipped there), moving the cursor after each. Returns how many were new.
async fn catch_up_events(pool: &Pool, payments: &Payments, now: OffsetDateTime) -> Result<usize> {
    // From the cursor's second again: events of that second not yet read are not skipped.
    let after = match db::reconcile::event_cursor(pool).await? {
        Some((created, _)) => created - 1,
        None => now.unix_timestamp() - EVENTS_LOOKBACK.as_secs() as i64,
    };
    let mut newest_first = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = payments.stripe.list_events(after, cursor.as_deref(), EVENT_PAGE).await?;
        let last = page.events.last().map(|e| e.id.clone());
        newest_first.extend(page.events);
        if !page.has_more || last.is_none() || last == cursor {
            break;
        }
        cursor = last;
    }
    let mut handled = 0;
    for listed in newest_first.into_iter().rev() {
        match StripeEvent::from_json(&listed.body) {
            Some(event) => {
                if stripe_events::handle(pool, payments, &event).await? != stripe_events::Handled::Duplicate {
                    handled += 1;
                }
            }
            None => tracing::warn!(stripe.event = %listed.id, "reconcile: an event without id, type or object"),
        }
        db::reconcile::advance_event_cursor(pool, listed.created, &listed.id).await?;
    }
    Ok(handled)
}

/// Confirms (or closes) an order still awaiting payment from Stripe's record of its session,
/// at most once per `READ_CHECK_INTERVAL` per order across processes, the first time that long
/// after the first read found it waiting (that read only starts the clock: the webhook is
/// usually seconds behind the payment). True when the order moved, so the caller reads it
/// again. Failures are logged: a read never fails for them.
pub async fn confirm_on_read(pool: &Pool, payments: &Payments, order: &Order) -> bool {
    if order.status != OrderStatus::AwaitingPayment || order.needs_review {
        return false;
    }
    let Some(session_id) = order.stripe_session_id.as_deref() else { return false };
    match db::reconcile::claim_read_check(pool, order.id, READ_CHECK_INTERVAL.as_secs_f64()).await {
        Ok(true) => {}
        Ok(false) => return false,
        Err(e) => {
            tracing::warn!(order.id = %order.id, error = %e, "confirm on read: the rate limit could not be checked");
            return false;
        }
    }
    match reconcile_session(pool, payments, session_id).await {
        Ok(outcome) => outcome != SessionOutcome::Unchanged,
        Err(e) => {
            tracing::warn!(order.id = %order.id, error = %e, "confirm on read: re-reading the session failed");
            false
        }
    }
}

/// Runs the sweep every `every` until `stop` completes.
pub async fn run_until(pool: Pool, payments: Payments, every: Duration, stop: impl std::future::Future<Output = ()>) {
    super::repeat_until(every, "reconcile: the sweep", stop, || sweep(&pool, &payments)).await
}
