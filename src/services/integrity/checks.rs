//! The report's checks: Tern's own tables, then Stripe (sessions of orders awaiting payment,
//! `charge.refunded` events) and Telnyx (every SIM card and its tags), each provider's calls
//! bounded per run; a check cut short or failed says so in the run's notes.

use std::collections::{HashMap, HashSet};

use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Finding, FindingKind, Fix};
use crate::clients::telnyx::SimCard;
use crate::db::integrity::OrderFacts;
use crate::db::{self, Pool};
use crate::domain::OrderStatus;
use crate::error::Result;
use crate::services::checkout::Payments;
use crate::services::order_admin::STUCK_AFTER;
use crate::services::provisioning::{Provisioner, tag_for};

/// Findings listed per kind from Tern's tables at most.
const DB_LIMIT: i64 = 500;
/// Checkout Sessions re-read from Stripe per run at most.
const SESSION_CAP: i64 = 100;
/// Pages of `charge.refunded` events read per run at most.
const REFUND_EVENT_PAGES: usize = 10;
const EVENT_PAGE: i64 = 100;
/// Pages of SIM cards read from Telnyx per run at most, and their size (Telnyx's largest).
const SIM_PAGES: u32 = 20;
const SIM_PAGE_SIZE: u32 = 250;
/// How far back Stripe is asked about (its events list keeps 30 days).
const STRIPE_LOOKBACK: time::Duration = time::Duration::days(30);
/// An order's checkout is left to the webhook and the reconciliation sweep this long first.
const AWAITING_AFTER: time::Duration = time::Duration::minutes(10);
const TAG_PREFIX: &str = "tern-order-";

fn finding(kind: FindingKind, fix: Fix, order_id: Option<Uuid>, sim_id: Option<&str>, note: String) -> Finding {
    let subject = sim_id.filter(|_| kind == FindingKind::StraySim).map(str::to_string);
    let subject = subject.or_else(|| order_id.map(|id| id.to_string())).unwrap_or_default();
    Finding {
        key: format!("{}:{subject}", kind.as_str()),
        kind,
        fix,
        order_id,
        sim_id: sim_id.map(str::to_string),
        note,
        details: json!({}),
    }
}

fn utc(at: Option<OffsetDateTime>) -> String {
    at.map(crate::domain::order::utc_label).unwrap_or_else(|| "never".into())
}

/// Rows of one query, noting when it had more than [`DB_LIMIT`].
fn bounded(mut rows: Vec<OrderFacts>, what: &str, notes: &mut Vec<String>) -> Vec<OrderFacts> {
    if rows.len() as i64 > DB_LIMIT {
        rows.truncate(DB_LIMIT as usize);
        notes.push(format!("{what}: only the first {DB_LIMIT} are listed."));
    }
    rows
}

/// Every check; what they found (one finding per key) and the run's notes.
pub(super) async fn all(
    pool: &Pool,
    payments: &Payments,
    provisioner: &Provisioner,
    now: OffsetDateTime,
) -> Result<(Vec<Finding>, Vec<String>)> {
    let mut notes = Vec::new();
    let mut found = local(pool, now, &mut notes).await?;
    if let Err(e) = awaiting_paid_at_stripe(pool, payments, now, &mut found, &mut notes).await {
        notes.push(format!("Stripe's checkout sessions could not be read: {e}"));
    }
    if let Err(e) = refunded_at_stripe(pool, payments, now, &mut found, &mut notes).await {
        notes.push(format!("Stripe's refunds could not be read: {e}"));
    }
    if let Err(e) = telnyx_sims(pool, provisioner, now, &mut found, &mut notes).await {
        notes.push(format!("Telnyx's SIM cards could not be read: {e}"));
    }
    let mut seen = HashSet::new();
    found.retain(|f| seen.insert(f.key.clone()));
    Ok((found, notes))
}

/// The checks of Tern's own tables.
async fn local(pool: &Pool, now: OffsetDateTime, notes: &mut Vec<String>) -> Result<Vec<Finding>> {
    let mut found = Vec::new();
    let stuck = db::integrity::stuck(pool, now - STUCK_AFTER, DB_LIMIT + 1).await?;
    for o in bounded(stuck, "Paid but not ready", notes) {
        let note = format!("paid {}, still {}", utc(o.paid_at), o.status.as_str());
        found.push(finding(FindingKind::StuckPaid, Fix::RetryProvisioning, Some(o.id), None, note));
    }
    let failed = db::integrity::in_status(pool, OrderStatus::ProvisioningFailed, DB_LIMIT + 1).await?;
    for o in bounded(failed, "Provisioning failed", notes) {
        let note = o.last_error.clone().unwrap_or_else(|| "no error recorded".into());
        found.push(finding(FindingKind::ProvisioningFailed, Fix::RetryProvisioning, Some(o.id), None, note));
    }
    for o in bounded(db::integrity::ready_unpaid(pool, DB_LIMIT + 1).await?, "Ready but never paid", notes) {
        let note = format!("ready with SIM {}, no payment confirmed", o.sim_id.as_deref().unwrap_or("?"));
        found.push(finding(FindingKind::ReadyUnpaid, Fix::DisableSim, Some(o.id), o.sim_id.as_deref(), note));
    }
    let refunded = db::integrity::refunded_with_live_sim(pool, DB_LIMIT + 1).await?;
    for o in bounded(refunded, "Refunded with the SIM enabled", notes) {
        let note = format!("SIM {} is {}", o.sim_id.as_deref().unwrap_or("?"), o.sim_status.as_deref().unwrap_or("?"));
        found.push(finding(FindingKind::RefundedSimEnabled, Fix::DisableSim, Some(o.id), o.sim_id.as_deref(), note));
    }
    Ok(found)
}

/// Orders awaiting payment whose Checkout Session Stripe reports paid.
async fn awaiting_paid_at_stripe(
    pool: &Pool,
    payments: &Payments,
    now: OffsetDateTime,
    found: &mut Vec<Finding>,
    notes: &mut Vec<String>,
) -> Result<()> {
    let mut awaiting =
        db::integrity::awaiting(pool, now - STRIPE_LOOKBACK, now - AWAITING_AFTER, SESSION_CAP + 1).await?;
    if awaiting.len() as i64 > SESSION_CAP {
        awaiting.truncate(SESSION_CAP as usize);
        notes.push(format!("Stripe: only the {SESSION_CAP} newest orders awaiting payment were checked."));
    }
    let mut failures = 0;
    for o in awaiting {
        let Some(session_id) = o.stripe_session_id.as_deref() else { continue };
        match payments.stripe.retrieve_session(session_id).await {
            Ok(session) if session.is_paid() => {
                let note = format!("session {session_id} is paid at Stripe; placed {}", utc(Some(o.created_at)));
                found.push(finding(FindingKind::PaidAtStripe, Fix::ConfirmPayment, Some(o.id), None, note));
            }
            Ok(_) => {}
            Err(e) => {
                failures += 1;
                tracing::warn!(stripe.session = %session_id, error = %e, "integrity: reading a session failed");
            }
        }
    }
    if failures > 0 {
        notes.push(format!("Stripe: {failures} checkout sessions could not be read."));
    }
    Ok(())
}

/// Refunds Stripe reports (`charge.refunded`, newest per payment) that Tern has not applied.
async fn refunded_at_stripe(
    pool: &Pool,
    payments: &Payments,
    now: OffsetDateTime,
    found: &mut Vec<Finding>,
    notes: &mut Vec<String>,
) -> Result<()> {
    let since = (now - STRIPE_LOOKBACK).unix_timestamp();
    // Newest first: the first event of a payment has its latest (cumulative) figures.
    let mut refunds: Vec<(String, Value)> = Vec::new();
    let mut cursor: Option<String> = None;
    for page_number in 0.. {
        if page_number == REFUND_EVENT_PAGES {
            notes.push(format!(
                "Stripe: only the newest {} refund events were read.",
                REFUND_EVENT_PAGES as i64 * EVENT_PAGE
            ));
            break;
        }
        let page =
            payments.stripe.list_events_of(Some("charge.refunded"), since, cursor.as_deref(), EVENT_PAGE).await?;
        for event in &page.events {
            let charge = &event.body["data"]["object"];
            if let Some(pi) = charge["payment_intent"].as_str()
                && !refunds.iter().any(|(p, _)| p == pi)
            {
                refunds.push((pi.to_string(), charge.clone()));
            }
        }
        let last = page.events.last().map(|e| e.id.clone());
        if !page.has_more || last.is_none() {
            break;
        }
        cursor = last;
    }
    let hint = |charge: &Value| {
        charge.pointer("/metadata/order_id").and_then(Value::as_str).and_then(|id| Uuid::parse_str(id).ok())
    };
    let hints: Vec<Uuid> = refunds.iter().filter_map(|(_, c)| hint(c)).collect();
    let intents: Vec<String> = refunds.iter().map(|(pi, _)| pi.clone()).collect();
    let orders = db::integrity::orders_among(pool, &hints, &intents).await?;
    for (pi, charge) in refunds {
        let order = orders
            .iter()
            .find(|o| o.stripe_payment_intent_id.as_deref() == Some(pi.as_str()))
            .or_else(|| hint(&charge).and_then(|id| orders.iter().find(|o| o.id == id)));
        // Not ours, or not paid yet here: a refund before its payment is kept and applied then.
        let Some(order) = order.filter(|o| o.status != OrderStatus::AwaitingPayment) else { continue };
        let amount = charge["amount_refunded"].as_i64().unwrap_or(0);
        let full = charge["refunded"].as_bool().unwrap_or(false);
        if (full && order.status != OrderStatus::Refunded) || amount > order.refunded_minor {
            let note = format!(
                "Stripe: {amount} of {} refunded{}; Tern: {} refunded, {}",
                order.amount_minor,
                if full { " (in full)" } else { "" },
                order.refunded_minor,
                order.status.as_str()
            );
            let mut f = finding(FindingKind::RefundedAtStripe, Fix::ApplyRefund, Some(order.id), None, note);
            f.details = json!({ "payment_intent": pi, "amount_refunded": amount, "full": full });
            found.push(f);
        }
    }
    Ok(())
}

/// Every SIM card at Telnyx (bounded), by the order its tag names.
async fn tagged_sims(provisioner: &Provisioner, notes: &mut Vec<String>) -> Result<HashMap<Uuid, Vec<SimCard>>> {
    let mut by_order: HashMap<Uuid, Vec<SimCard>> = HashMap::new();
    let mut number = 1;
    loop {
        let (sims, pages) = provisioner.telnyx.list_sims_page(number, SIM_PAGE_SIZE).await?;
        let empty = sims.is_empty();
        for sim in sims {
            let orders: Vec<Uuid> = sim
                .tags
                .iter()
                .filter_map(|t| t.strip_prefix(TAG_PREFIX).and_then(|id| Uuid::parse_str(id).ok()))
                .collect();
            for order in orders {
                by_order.entry(order).or_default().push(sim.clone());
            }
        }
        if empty || number >= pages {
            return Ok(by_order);
        }
        if number == SIM_PAGES {
            notes.push(format!("Telnyx: only the first {} SIM cards were read.", SIM_PAGES * SIM_PAGE_SIZE));
            return Ok(by_order);
        }
        number += 1;
    }
}

/// SIMs tagged for an order that has none, another, or does not exist; orders with two live
/// SIMs; refunded orders whose SIM Telnyx reports live.
async fn telnyx_sims(
    pool: &Pool,
    provisioner: &Provisioner,
    now: OffsetDateTime,
    found: &mut Vec<Finding>,
    notes: &mut Vec<String>,
) -> Result<()> {
    let by_order = tagged_sims(provisioner, notes).await?;
    let ids: Vec<Uuid> = by_order.keys().copied().collect();
    let orders = db::integrity::orders_among(pool, &ids, &[]).await?;
    for (order_id, sims) in by_order {
        let order = orders.iter().find(|o| o.id == order_id);
        let recorded = order.and_then(|o| o.sim_id.as_deref());
        let live: Vec<&SimCard> = sims.iter().filter(|s| s.status != "disabled").collect();
        if let Some(o) = order.filter(|o| o.status == OrderStatus::Refunded)
            && let Some(sim) = live.iter().find(|s| Some(s.id.as_str()) == recorded)
        {
            let note = format!("SIM {} is {} at Telnyx", sim.id, sim.status);
            found.push(finding(FindingKind::RefundedSimEnabled, Fix::DisableSim, Some(o.id), Some(&sim.id), note));
        }
        if live.len() >= 2 {
            let ids: Vec<&str> = live.iter().map(|s| s.id.as_str()).collect();
            let note = format!("{} live SIMs carry the tag {}: {}", ids.len(), tag_for(order_id), ids.join(", "));
            let mut f = finding(FindingKind::TwoSims, Fix::DisableSim, Some(order_id), None, note);
            f.details = json!({ "sims": ids });
            found.push(f);
            continue;
        }
        let Some(sim) = live.first().filter(|s| Some(s.id.as_str()) != recorded) else { continue };
        let in_flight = order.is_some_and(|o| {
            matches!(o.status, OrderStatus::Paid | OrderStatus::Provisioning)
                && o.paid_at.is_some_and(|at| now - at < STUCK_AFTER)
        });
        if in_flight {
            continue; // being provisioned: the purchase is not stored yet
        }
        let wants = order.is_some_and(|o| {
            recorded.is_none()
                && matches!(o.status, OrderStatus::Paid | OrderStatus::Provisioning | OrderStatus::ProvisioningFailed)
        });
        let note = match (order, recorded) {
            (None, _) => format!("tagged for order {order_id}, which does not exist"),
            (Some(_), Some(other)) => format!("the order's eSIM is another SIM ({other})"),
            (Some(o), None) => format!("the order ({}) has no eSIM recorded", o.status.as_str()),
        };
        let fix = if wants { Fix::AdoptSim } else { Fix::DisableSim };
        let mut f = finding(FindingKind::StraySim, fix, order.map(|o| o.id), Some(&sim.id), note);
        f.details = json!({ "tagged_order": order_id });
        found.push(f);
    }
    Ok(())
}
