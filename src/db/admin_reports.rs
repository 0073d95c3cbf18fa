//! Read-only reports for the admin area: the order list and its CSV export, the dashboard's
//! figures and the audit log.

use std::str::FromStr;

use sqlx::{PgExecutor, Postgres, QueryBuilder};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::domain::{Money, OrderStatus};

/// How the order list is ordered. Ties are broken by creation time, then id, so every order
/// has one place in every order; each order is an index scan (orders_created_idx,
/// orders_amount_idx) forwards or backwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrderSort {
    #[default]
    Newest,
    Oldest,
    AmountDesc,
    AmountAsc,
}

impl OrderSort {
    pub const ALL: &'static [OrderSort] = &[Self::Newest, Self::Oldest, Self::AmountDesc, Self::AmountAsc];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Newest => "newest",
            Self::Oldest => "oldest",
            Self::AmountDesc => "amount_desc",
            Self::AmountAsc => "amount_asc",
        }
    }

    /// Whether the list pages by a (created_at, id) cursor rather than by page number.
    pub fn is_by_time(self) -> bool {
        matches!(self, Self::Newest | Self::Oldest)
    }

    fn order_by(self) -> &'static str {
        match self {
            Self::Newest => " order by o.created_at desc, o.id desc",
            Self::Oldest => " order by o.created_at asc, o.id asc",
            Self::AmountDesc => " order by o.amount_minor desc, o.created_at desc, o.id desc",
            Self::AmountAsc => " order by o.amount_minor asc, o.created_at asc, o.id asc",
        }
    }
}

impl FromStr for OrderSort {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL.iter().copied().find(|o| o.as_str() == s).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|o| o.as_str()).collect();
            format!("must be one of: {}", names.join(", "))
        })
    }
}

/// What the free-text search box was understood as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Search {
    OrderId(Uuid),
    /// Any part of an email address (or all of it), in any case.
    Email(String),
    Iccid(String),
}

/// Which orders, in which order. Every `Some` narrows the selection.
#[derive(Debug, Clone, Default)]
pub struct OrderQuery {
    pub status: Option<OrderStatus>,
    /// Orders of these plans only.
    pub plan_ids: Option<Vec<Uuid>>,
    pub created_from: Option<OffsetDateTime>,
    pub created_before: Option<OffsetDateTime>,
    pub search: Option<Search>,
    pub sort: OrderSort,
}

/// Where a page starts: after a (created_at, id) cursor for the time sorts, or at an offset.
#[derive(Debug, Clone, Copy)]
pub enum Window {
    After(Option<(OffsetDateTime, Uuid)>),
    Offset(i64),
}

/// One line of the order list.
#[derive(Debug, Clone)]
pub struct OrderSummary {
    pub id: Uuid,
    pub created_at: OffsetDateTime,
    pub email: String,
    pub plan_id: Uuid,
    pub plan_name: String,
    pub amount: Money,
    pub status: OrderStatus,
    pub needs_review: bool,
    pub iccid: Option<String>,
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: Uuid,
    created_at: OffsetDateTime,
    email: String,
    plan_id: Uuid,
    plan_name: String,
    amount_minor: i64,
    currency: String,
    status: String,
    needs_review: bool,
    iccid: Option<String>,
}

fn status(column: &str, text: &str) -> sqlx::Result<OrderStatus> {
    text.parse().map_err(|e: String| sqlx::Error::ColumnDecode { index: column.into(), source: e.into() })
}

/// A LIKE pattern matching values that start with `prefix` taken literally.
fn contains_pattern(part: &str) -> String {
    let mut pattern = String::with_capacity(part.len() + 2);
    pattern.push('%');
    for c in part.to_lowercase().chars() {
        if matches!(c, '\\' | '%' | '_') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The plans an order list may be narrowed to: those covering `destination` (local, regional
/// or global) and of `kind`. Read from the tables rather than the in-memory catalogue, whose
/// look-ups only list plans on sale: orders of a plan taken off sale must still be found.
pub async fn plan_ids(
    executor: impl PgExecutor<'_>,
    destination: Option<&str>,
    kind: Option<&str>,
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "select p.id from plans p
          where ($1::text is null
                 or exists (select 1 from plan_coverage c where c.plan_id = p.id and c.destination_iso = $1))
            and ($2::text is null or p.kind = $2::plan_kind)",
    )
    .bind(destination)
    .bind(kind)
    .fetch_all(executor)
    .await
}

/// One page of orders (or, with a large `limit`, the whole export). Only the conditions in
/// use are written, so each combination gets a plan that fits it.
pub async fn orders(
    executor: impl PgExecutor<'_>,
    q: &OrderQuery,
    window: Window,
    limit: i64,
) -> sqlx::Result<Vec<OrderSummary>> {
    let mut sql = QueryBuilder::<Postgres>::new(
        "select o.id, o.created_at, o.email, o.plan_id, o.plan_name, o.amount_minor, o.currency::text as currency,
                o.status::text as status, o.needs_review, e.iccid
           from orders o left join esims e on e.order_id = o.id
          where true",
    );
    if let Some(status) = q.status {
        sql.push(" and o.status = ").push_bind(status.as_str()).push("::order_status");
    }
    if let Some(ids) = &q.plan_ids {
        sql.push(" and o.plan_id = any(").push_bind(ids.clone()).push(")");
    }
    if let Some(from) = q.created_from {
        sql.push(" and o.created_at >= ").push_bind(from);
    }
    if let Some(before) = q.created_before {
        sql.push(" and o.created_at < ").push_bind(before);
    }
    match &q.search {
        Some(Search::OrderId(id)) => sql.push(" and o.id = ").push_bind(*id),
        // orders_email_trgm_idx (pg_trgm) serves this match on any part of the address.
        Some(Search::Email(text)) => sql.push(" and lower(o.email) like ").push_bind(contains_pattern(text)),
        Some(Search::Iccid(iccid)) => sql.push(" and e.iccid = ").push_bind(iccid.clone()),
        None => &mut sql,
    };
    match window {
        Window::After(Some((at, id))) => {
            let cmp = if q.sort == OrderSort::Oldest { ">" } else { "<" };
            sql.push(format_args!(" and (o.created_at, o.id) {cmp} ("))
                .push_bind(at)
                .push(", ")
                .push_bind(id)
                .push(")");
            sql.push(q.sort.order_by()).push(" limit ").push_bind(limit);
        }
        Window::After(None) => {
            sql.push(q.sort.order_by()).push(" limit ").push_bind(limit);
        }
        Window::Offset(offset) => {
            sql.push(q.sort.order_by()).push(" limit ").push_bind(limit).push(" offset ").push_bind(offset);
        }
    }
    let rows: Vec<SummaryRow> = sql.build_query_as().fetch_all(executor).await?;
    rows.into_iter()
        .map(|r| {
            Ok(OrderSummary {
                status: status("status", &r.status)?,
                id: r.id,
                created_at: r.created_at,
                email: r.email,
                plan_id: r.plan_id,
                plan_name: r.plan_name,
                amount: Money::new(r.amount_minor, r.currency),
                needs_review: r.needs_review,
                iccid: r.iccid,
            })
        })
        .collect()
}

/// Orders placed on one UTC day in one currency.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DayTotals {
    pub day: Date,
    pub currency: String,
    pub orders: i64,
    /// Of those, how many are in one of the revenue states.
    pub paid: i64,
    pub revenue_minor: i64,
}

/// Per UTC day and currency since `since`: orders placed, and those of them in `revenue_states`
/// with their amount.
pub async fn daily_totals(
    executor: impl PgExecutor<'_>,
    since: OffsetDateTime,
    revenue_states: &[&str],
) -> sqlx::Result<Vec<DayTotals>> {
    sqlx::query_as(
        "select (o.created_at at time zone 'UTC')::date as day, o.currency::text as currency,
                count(*) as orders,
                count(*) filter (where o.status = any($2::text[]::order_status[])) as paid,
                coalesce(sum(o.amount_minor) filter (where o.status = any($2::text[]::order_status[])), 0)::bigint as revenue_minor
           from orders o
          where o.created_at >= $1
          group by 1, 2
          order by 1, 2",
    )
    .bind(since)
    .bind(revenue_states)
    .fetch_all(executor)
    .await
}

/// Orders in `states` placed since `since`, counted per plan, most first.
pub async fn orders_per_plan(
    executor: impl PgExecutor<'_>,
    since: OffsetDateTime,
    states: &[&str],
) -> sqlx::Result<Vec<(Uuid, String, i64)>> {
    sqlx::query_as(
        "select o.plan_id, min(o.plan_name) as plan_name, count(*) as orders
           from orders o
          where o.created_at >= $1 and o.status = any($2::text[]::order_status[])
          group by o.plan_id
          order by orders desc, plan_name",
    )
    .bind(since)
    .bind(states)
    .fetch_all(executor)
    .await
}

/// Of the orders placed since `since` that have an event of type `reached`: how many, and how
/// many of them are now in `paid_states`.
pub async fn funnel(
    executor: impl PgExecutor<'_>,
    since: OffsetDateTime,
    reached: &str,
    paid_states: &[&str],
) -> sqlx::Result<(i64, i64)> {
    sqlx::query_as(
        "select count(*), count(*) filter (where o.status = any($3::text[]::order_status[]))
           from orders o
          where o.created_at >= $1
            and exists (select 1 from order_events e where e.order_id = o.id and e.type = $2)",
    )
    .bind(since)
    .bind(reached)
    .bind(paid_states)
    .fetch_one(executor)
    .await
}

/// An order an operator should look at, with what makes it so.
#[derive(Debug, Clone)]
pub struct AttentionRow {
    pub id: Uuid,
    pub email: String,
    pub plan_name: String,
    pub status: OrderStatus,
    pub needs_review: bool,
    /// In one of the waiting states for longer than allowed.
    pub stuck: bool,
    /// The SMTP server refused the order's address for good.
    pub email_undeliverable: bool,
    pub created_at: OffsetDateTime,
}

/// Orders in a `failed` state, in a `waiting` state since payment (or creation) for more than
/// `stuck_after_secs`, or flagged for review: newest first, at most `limit`.
pub async fn needing_attention(
    executor: impl PgExecutor<'_>,
    failed: &[&str],
    waiting: &[&str],
    stuck_after_secs: f64,
    limit: i64,
) -> sqlx::Result<Vec<AttentionRow>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: Uuid,
        email: String,
        plan_name: String,
        status: String,
        needs_review: bool,
        stuck: bool,
        email_undeliverable: bool,
        created_at: OffsetDateTime,
    }
    // The status conditions compare the enum itself, so orders_status_idx can serve them.
    let rows: Vec<Row> = sqlx::query_as(
        "select o.id, o.email, o.plan_name, o.status::text as status, o.needs_review, o.email_undeliverable, o.created_at,
                (o.status = any($2::text[]::order_status[])
                 and coalesce(o.paid_at, o.created_at) < now() - make_interval(secs => $3)) as stuck
           from orders o
          where o.status = any($1::text[]::order_status[])
             or (o.status = any($2::text[]::order_status[])
                 and coalesce(o.paid_at, o.created_at) < now() - make_interval(secs => $3))
             or o.needs_review
             or o.email_undeliverable
          order by o.created_at desc, o.id desc
          limit $4",
    )
    .bind(failed)
    .bind(waiting)
    .bind(stuck_after_secs)
    .bind(limit)
    .fetch_all(executor)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(AttentionRow {
                status: status("status", &r.status)?,
                id: r.id,
                email: r.email,
                plan_name: r.plan_name,
                needs_review: r.needs_review,
                stuck: r.stuck,
                email_undeliverable: r.email_undeliverable,
                created_at: r.created_at,
            })
        })
        .collect()
}

/// One audit log entry, its details as JSON text.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub created_at: OffsetDateTime,
    pub user_email: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub details: String,
    pub ip: Option<String>,
}

/// Audit entries older than `before` (all when `None`), newest first.
pub async fn audit_entries(
    executor: impl PgExecutor<'_>,
    before: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<AuditRow>> {
    const COLUMNS: &str =
        "select id, created_at, user_email, action, target, details::text as details, ip from audit_log";
    match before {
        Some(before) => {
            sqlx::query_as(&format!("{COLUMNS} where id < $1 order by id desc limit $2"))
                .bind(before)
                .bind(limit)
                .fetch_all(executor)
                .await
        }
        None => sqlx::query_as(&format!("{COLUMNS} order by id desc limit $1")).bind(limit).fetch_all(executor).await,
    }
}

#[cfg(test)]
mod tests;
