//! The admin dashboard's figures: revenue and orders per day, the checkout funnel, the best
//! sellers and the orders needing attention, read in one snapshot.

use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

use super::admin_reports::midnight;
use crate::db::{self, Pool};
use crate::domain::{Catalogue, Money, OrderStatus, PlanKind};
use crate::error::Result;

pub use crate::db::admin_reports::AttentionRow;

/// Money has been taken and kept: refunded orders are left out of revenue.
const REVENUE_STATES: [OrderStatus; 4] =
    [OrderStatus::Paid, OrderStatus::Provisioning, OrderStatus::Ready, OrderStatus::ProvisioningFailed];
/// Paid, but no eSIM yet: fine for a few seconds, worrying after [`STUCK_AFTER`].
const WAITING_STATES: [OrderStatus; 2] = [OrderStatus::Paid, OrderStatus::Provisioning];
const STUCK_AFTER: Duration = Duration::minutes(10);
const DASHBOARD_DAYS: i64 = 30;
const ATTENTION_LIMIT: usize = 50;
const TOP: usize = 5;

fn names(states: &[OrderStatus]) -> Vec<&'static str> {
    states.iter().map(|s| s.as_str()).collect()
}

/// One day of the dashboard, with revenue per currency in [`Dashboard::currencies`] order.
pub struct DayFigures {
    pub day: Date,
    pub orders: i64,
    pub paid: i64,
    pub revenue: Vec<Money>,
}

/// A destination or plan with its number of paid orders.
pub struct Ranked {
    pub label: String,
    pub orders: i64,
}

/// Orders that reached the checkout, and how many of them were paid.
pub struct Conversion {
    pub started: i64,
    pub paid: i64,
}

impl Conversion {
    /// `62.5%`, rounded half up to a tenth; `—` when no checkout was started.
    pub fn percent(&self) -> String {
        if self.started == 0 {
            return "—".to_string();
        }
        let tenths = (self.paid * 2000 + self.started) / (self.started * 2);
        format!("{}.{}%", tenths / 10, tenths % 10)
    }
}

/// An order to look at, and why.
pub struct AttentionItem {
    pub order: AttentionRow,
    pub reasons: Vec<&'static str>,
}

pub struct Dashboard {
    /// The last 30 UTC days, oldest first, today included.
    pub days: Vec<DayFigures>,
    pub currencies: Vec<String>,
    pub orders_total: i64,
    pub paid_total: i64,
    /// Per currency, in `currencies` order.
    pub revenue_total: Vec<Money>,
    pub top_destinations: Vec<Ranked>,
    pub top_plans: Vec<Ranked>,
    pub conversion: Conversion,
    pub attention: Vec<AttentionItem>,
    /// More orders need attention than are listed.
    pub attention_more: bool,
    /// What the latest integrity report found, per kind (kinds with none left out).
    pub integrity: Vec<(super::integrity::FindingKind, i64)>,
}

/// The dashboard's figures, read in one snapshot so that they agree with each other.
pub async fn dashboard(pool: &Pool, catalogue: &Catalogue) -> Result<Dashboard> {
    let today = OffsetDateTime::now_utc().date();
    let first = today - Duration::days(DASHBOARD_DAYS - 1);
    let since = midnight(first);
    let revenue_states = names(&REVENUE_STATES);
    let paid_states: Vec<OrderStatus> = OrderStatus::ALL.iter().copied().filter(|s| s.is_paid()).collect();

    let mut tx = pool.begin().await?;
    db::read_only_snapshot(&mut tx).await?;
    let totals = db::admin_reports::daily_totals(&mut *tx, since, &revenue_states).await?;
    let per_plan = db::admin_reports::orders_per_plan(&mut *tx, since, &revenue_states).await?;
    let (started, paid) = db::admin_reports::funnel(&mut *tx, since, "checkout_started", &names(&paid_states)).await?;
    let (failed, waiting) = (names(&[OrderStatus::ProvisioningFailed]), names(&WAITING_STATES));
    let (stuck_after, limit) = (STUCK_AFTER.as_seconds_f64(), ATTENTION_LIMIT as i64 + 1);
    let mut attention = db::admin_reports::needing_attention(&mut *tx, &failed, &waiting, stuck_after, limit).await?;
    let integrity = super::integrity::counts_in(&mut tx).await?;
    tx.commit().await?;

    let mut currencies: Vec<String> = totals.iter().map(|t| t.currency.clone()).collect();
    currencies.sort();
    currencies.dedup();
    let money = |minor_of: &dyn Fn(&str) -> i64| -> Vec<Money> {
        currencies.iter().map(|c| Money::new(minor_of(c), c.clone())).collect()
    };
    let days = (0..DASHBOARD_DAYS)
        .map(|i| first + Duration::days(i))
        .map(|day| {
            let of_day = || totals.iter().filter(move |t| t.day == day);
            DayFigures {
                day,
                orders: of_day().map(|t| t.orders).sum(),
                paid: of_day().map(|t| t.paid).sum(),
                revenue: money(&|c| of_day().filter(|t| t.currency == c).map(|t| t.revenue_minor).sum()),
            }
        })
        .collect();
    let revenue_total = money(&|c| totals.iter().filter(|t| t.currency == c).map(|t| t.revenue_minor).sum());

    let attention_more = attention.len() > ATTENTION_LIMIT;
    attention.truncate(ATTENTION_LIMIT);
    let attention = attention
        .into_iter()
        .map(|order| {
            let reasons = [
                (order.status == OrderStatus::ProvisioningFailed, "eSIM could not be prepared"),
                (order.stuck, "paid more than 10 minutes ago and still no eSIM"),
                (order.needs_review, "payment flagged for review"),
                (order.email_undeliverable, "email refused: correct the address and resend"),
            ];
            AttentionItem { reasons: reasons.into_iter().filter_map(|(yes, why)| yes.then_some(why)).collect(), order }
        })
        .collect();

    Ok(Dashboard {
        days,
        orders_total: totals.iter().map(|t| t.orders).sum(),
        paid_total: totals.iter().map(|t| t.paid).sum(),
        revenue_total,
        currencies,
        top_destinations: top_destinations(catalogue, &per_plan),
        top_plans: top(per_plan.iter().map(|(_, name, n)| (name.clone(), *n))),
        conversion: Conversion { started, paid },
        attention,
        attention_more,
        integrity,
    })
}

/// The [`TOP`] largest counts, ties by label.
fn top(counts: impl Iterator<Item = (String, i64)>) -> Vec<Ranked> {
    let mut ranked: Vec<Ranked> = counts.map(|(label, orders)| Ranked { label, orders }).collect();
    ranked.sort_by(|a, b| b.orders.cmp(&a.orders).then_with(|| a.label.cmp(&b.label)));
    ranked.truncate(TOP);
    ranked
}

/// Where paid orders were bought for: a local plan counts for its country; a regional plan
/// for its region and a global plan as worldwide, so that one order never counts for dozens
/// of countries.
fn top_destinations(catalogue: &Catalogue, per_plan: &[(Uuid, String, i64)]) -> Vec<Ranked> {
    let mut counts: std::collections::BTreeMap<String, i64> = Default::default();
    for (plan_id, _, n) in per_plan {
        let label = catalogue.plan(*plan_id).and_then(|plan| match plan.kind {
            PlanKind::Local => {
                plan.destination_iso.as_deref().and_then(|iso| catalogue.destination(iso)).map(|d| d.name.clone())
            }
            PlanKind::Regional => plan
                .region_id
                .as_deref()
                .and_then(|r| catalogue.region(r))
                .map(|r| format!("{} (regional plans)", r.name)),
            PlanKind::Global => Some("Worldwide (global plans)".to_string()),
        });
        *counts.entry(label.unwrap_or_else(|| "Unknown plan".to_string())).or_default() += n;
    }
    top(counts.into_iter())
}

/// A webhook endpoint that was disabled (a `410 Gone`, five days of failures, or by request),
/// for the dashboard's attention list.
pub struct DisabledWebhook {
    pub id: Uuid,
    pub url: String,
    pub reason: String,
    pub since: Option<OffsetDateTime>,
}

/// The disabled webhook endpoints, most recently disabled first.
pub async fn disabled_webhooks(pool: &Pool) -> Result<Vec<DisabledWebhook>> {
    let endpoints = super::webhooks::endpoints::disabled(pool).await?;
    Ok(endpoints
        .into_iter()
        .map(|e| DisabledWebhook {
            id: e.id,
            url: e.url,
            reason: e.disabled_reason.unwrap_or_else(|| "disabled".into()),
            since: e.disabled_at,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversion_is_a_rounded_percentage() {
        assert_eq!(Conversion { started: 8, paid: 5 }.percent(), "62.5%");
        assert_eq!(Conversion { started: 3, paid: 2 }.percent(), "66.7%");
        assert_eq!(Conversion { started: 0, paid: 0 }.percent(), "—");
        assert_eq!(Conversion { started: 4, paid: 4 }.percent(), "100.0%");
    }
}
