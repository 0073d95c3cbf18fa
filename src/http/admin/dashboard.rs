//! The operators' dashboard at `/admin`: the last 30 days' orders and revenue as server-drawn
//! SVG bar charts with a data table, the top destinations and plans, checkout conversion, and
//! the orders that need someone to look at them.

use crate::services::Pool;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::routing::get;
use uuid::Uuid;

use super::StaffUser;
use crate::domain::Money;
use crate::domain::order::utc_label as utc;
use crate::http::errors::HtmlError;
use crate::http::page::PageContext;
use crate::http::state::AppState;
use crate::services::admin_reports::{self, Dashboard, Ranked};
use crate::services::catalogue::CatalogueStore;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/", get(show_dashboard))
}

/// The drawing area of a chart, in SVG user units: the bars only, stretched to their box by
/// CSS. The labels are HTML around it, so that they never shrink with the drawing.
const CHART_WIDTH: i64 = 600;
const CHART_HEIGHT: i64 = BASELINE;
/// Where the bars stand: the bottom of the drawing.
const BASELINE: i64 = 150;
const PLOT_TOP: i64 = 4;

/// One bar: its box and what it says when hovered or read out.
pub struct Bar {
    pub x: i64,
    pub y: i64,
    pub width: i64,
    pub height: i64,
    pub title: String,
}

/// A bar chart, one bar per day; `inner` bars (paid orders) are drawn over `bars` (all orders).
pub struct Chart {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub bars: Vec<Bar>,
    pub inner: Vec<Bar>,
    pub max_label: String,
    pub first_day: String,
    pub last_day: String,
}

/// Bars for `values` scaled so that the largest reaches the top; a non-zero value is at least
/// one unit tall so that it stays visible.
fn bars(values: &[i64], titles: impl Iterator<Item = String>, max: i64, inset: i64) -> Vec<Bar> {
    let slot = CHART_WIDTH / values.len().max(1) as i64;
    values
        .iter()
        .zip(titles)
        .enumerate()
        .map(|(i, (&v, title))| {
            let height = if v <= 0 || max <= 0 { 0 } else { (v * (BASELINE - PLOT_TOP) / max).max(1) };
            Bar { x: i as i64 * slot + 2 + inset, y: BASELINE - height, width: slot - 4 - 2 * inset, height, title }
        })
        .collect()
}

fn day_labels(d: &Dashboard) -> Vec<String> {
    d.days.iter().map(|day| day.day.to_string()).collect()
}

fn orders_chart(d: &Dashboard) -> Chart {
    let orders: Vec<i64> = d.days.iter().map(|x| x.orders).collect();
    let paid: Vec<i64> = d.days.iter().map(|x| x.paid).collect();
    let max = orders.iter().copied().max().unwrap_or(0);
    let labels = day_labels(d);
    let titles = d.days.iter().zip(&labels).map(|(x, l)| format!("{l}: {} orders, {} paid", x.orders, x.paid));
    let paid_titles = d.days.iter().zip(&labels).map(|(x, l)| format!("{l}: {} paid", x.paid));
    Chart {
        id: "chart-orders".to_string(),
        title: "Orders per day, last 30 days".to_string(),
        summary: format!(
            "{} orders placed, {} of them paid; the busiest day had {max}. Light bars: placed; dark bars: paid.",
            d.orders_total, d.paid_total
        ),
        bars: bars(&orders, titles, max, 0),
        inner: bars(&paid, paid_titles, max, 2),
        max_label: max.to_string(),
        first_day: labels.first().cloned().unwrap_or_default(),
        last_day: labels.last().cloned().unwrap_or_default(),
    }
}

fn revenue_chart(d: &Dashboard, index: usize, total: &Money) -> Chart {
    let values: Vec<i64> = d.days.iter().map(|x| x.revenue[index].minor).collect();
    let max = values.iter().copied().max().unwrap_or(0);
    let labels = day_labels(d);
    let titles = d.days.iter().zip(&labels).map(|(x, l)| format!("{l}: {}", x.revenue[index]));
    let currency = &total.currency;
    Chart {
        id: format!("chart-revenue-{}", currency.to_ascii_lowercase()),
        title: format!("Revenue per day in {currency}, last 30 days"),
        summary: format!("{total} in total; the best day brought {}.", Money::new(max, currency.clone())),
        bars: bars(&values, titles, max, 0),
        inner: Vec::new(),
        max_label: Money::new(max, currency.clone()).to_string(),
        first_day: labels.first().cloned().unwrap_or_default(),
        last_day: labels.last().cloned().unwrap_or_default(),
    }
}

pub struct DayLine {
    pub day: String,
    pub orders: i64,
    pub paid: i64,
    /// (currency, that day's revenue in it), in the order of the table's columns.
    pub revenue: Vec<(String, String)>,
}

pub struct AttentionLine {
    pub id: Uuid,
    pub email: String,
    pub plan: String,
    pub status: &'static str,
    pub created: String,
    pub reasons: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/dashboard.html")]
pub struct DashboardPage {
    pub ctx: PageContext,
    pub charts: Vec<Chart>,
    pub chart_width: i64,
    pub chart_height: i64,
    pub currencies: Vec<String>,
    pub days: Vec<DayLine>,
    pub orders_total: i64,
    pub paid_total: i64,
    pub revenue_total: Vec<Money>,
    pub top_destinations: Vec<Ranked>,
    pub top_plans: Vec<Ranked>,
    pub conversion_started: i64,
    pub conversion_paid: i64,
    pub conversion: String,
    pub attention: Vec<AttentionLine>,
    pub attention_more: bool,
    /// The latest integrity report's findings: (what, how many).
    pub integrity: Vec<(&'static str, i64)>,
    /// Webhook endpoints that were disabled: (id, URL, why, since when).
    pub disabled_webhooks: Vec<(Uuid, String, String, String)>,
}

impl DashboardPage {
    fn new(d: Dashboard, ctx: PageContext) -> Self {
        let mut charts = vec![orders_chart(&d)];
        charts.extend(d.revenue_total.iter().enumerate().map(|(i, total)| revenue_chart(&d, i, total)));
        let days = d
            .days
            .iter()
            .rev()
            .map(|x| DayLine {
                day: x.day.to_string(),
                orders: x.orders,
                paid: x.paid,
                revenue: d.currencies.iter().cloned().zip(x.revenue.iter().map(Money::to_string)).collect(),
            })
            .collect();
        let attention = d
            .attention
            .into_iter()
            .map(|a| AttentionLine {
                id: a.order.id,
                email: a.order.email,
                plan: a.order.plan_name,
                status: a.order.status.as_str(),
                created: utc(a.order.created_at),
                reasons: a.reasons.join("; "),
            })
            .collect();
        Self {
            ctx: ctx.titled("Dashboard"),
            charts,
            chart_width: CHART_WIDTH,
            chart_height: CHART_HEIGHT,
            currencies: d.currencies,
            days,
            orders_total: d.orders_total,
            paid_total: d.paid_total,
            revenue_total: d.revenue_total,
            top_destinations: d.top_destinations,
            top_plans: d.top_plans,
            conversion_started: d.conversion.started,
            conversion_paid: d.conversion.paid,
            conversion: d.conversion.percent(),
            attention,
            attention_more: d.attention_more,
            integrity: d.integrity.iter().map(|(kind, n)| (kind.label(), *n)).collect(),
            disabled_webhooks: Vec::new(),
        }
    }
}

async fn show_dashboard(
    StaffUser(_): StaffUser,
    ctx: PageContext,
    State(pool): State<Pool>,
    State(store): State<CatalogueStore>,
) -> Result<DashboardPage, HtmlError> {
    let dashboard = admin_reports::dashboard(&pool, &store.snapshot()).await?;
    let mut page = DashboardPage::new(dashboard, ctx);
    page.disabled_webhooks = crate::services::dashboard::disabled_webhooks(&pool)
        .await?
        .into_iter()
        .map(|w| (w.id, w.url, w.reason, w.since.map(utc).unwrap_or_default()))
        .collect();
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_value_and_stay_visible() {
        let titles = (0..3).map(|i| format!("day {i}"));
        let b = bars(&[0, 1, 1000], titles, 1000, 0);
        assert_eq!(b[0].height, 0);
        assert_eq!(b[1].height, 1, "a small non-zero value is still drawn");
        assert_eq!(b[2].height, BASELINE - PLOT_TOP);
        assert_eq!(b[2].y, PLOT_TOP);
        assert_eq!(b[1].x, CHART_WIDTH / 3 + 2);
        assert!(b.iter().all(|bar| bar.y + bar.height == BASELINE));
    }
}
