//! What operators read: the order list and its export, and the audit log (the dashboard's
//! figures are `dashboard`). Every parameter is read strictly; a bad one is an error naming it.

use crate::db::Pool;
use time::{Date, Month, OffsetDateTime, Time};
use uuid::Uuid;

use crate::db;
use crate::db::admin_reports::{OrderQuery, Search, Window};
use crate::domain::query::{ParamError, Params};
use crate::domain::user::User;
use crate::domain::{Catalogue, OrderStatus, PlanKind};
use crate::error::Result;

pub use super::dashboard::{AttentionItem, Conversion, Dashboard, DayFigures, Ranked, dashboard};
pub use crate::db::admin_reports::{AttentionRow, AuditRow, OrderSort, OrderSummary};

/// Orders per page of the list.
pub const PAGE_SIZE: i64 = 50;
/// The amount sorts page by offset, up to this many pages.
pub const MAX_AMOUNT_PAGES: u32 = 100;
/// The most rows one CSV export holds.
pub const EXPORT_LIMIT: i64 = 100_000;
/// Audit log entries per page.
pub const AUDIT_PAGE_SIZE: i64 = 100;

/// The order list's filters, as read from the query string.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub status: Option<OrderStatus>,
    /// ISO code, upper case.
    pub destination: Option<String>,
    pub kind: Option<PlanKind>,
    pub from: Option<Date>,
    pub to: Option<Date>,
    pub q: Option<String>,
    pub sort: OrderSort,
}

impl OrderFilter {
    pub fn from_params(catalogue: &Catalogue, params: &Params) -> Result<Self> {
        let destination = match params.text("destination")? {
            None => None,
            Some(iso) => Some(
                catalogue
                    .destination(&iso)
                    .ok_or_else(|| ParamError::new("destination", "unknown destination; use an ISO code such as JP"))?
                    .iso
                    .clone(),
            ),
        };
        let from = date(params, "from")?;
        let to = date(params, "to")?;
        if let (Some(from), Some(to)) = (from, to)
            && to < from
        {
            return Err(ParamError::new("to", "must not be before from").into());
        }
        Ok(Self {
            status: params.one_of("status")?,
            destination,
            kind: params.one_of("type")?,
            from,
            to,
            q: params.text("q")?,
            sort: params.one_of("sort")?.unwrap_or_default(),
        })
    }

    /// The filter as query-string pairs, for links that keep it (defaults left out).
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        let mut add = |name, value: Option<String>| pairs.extend(value.map(|v| (name, v)));
        add("q", self.q.clone());
        add("status", self.status.map(|s| s.as_str().to_string()));
        add("destination", self.destination.clone());
        add("type", self.kind.map(|k| k.as_str().to_string()));
        add("from", self.from.map(|d| d.to_string()));
        add("to", self.to.map(|d| d.to_string()));
        add("sort", (self.sort != OrderSort::Newest).then(|| self.sort.as_str().to_string()));
        pairs
    }
}

/// `YYYY-MM-DD`.
fn date(params: &Params, name: &str) -> Result<Option<Date>, ParamError> {
    let Some(text) = params.text(name)? else { return Ok(None) };
    let bad = || ParamError::new(name, "must be a date as YYYY-MM-DD");
    let parts: Vec<&str> = text.split('-').collect();
    let [y, m, d] = parts.as_slice() else { return Err(bad()) };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return Err(bad());
    }
    let (y, m, d) = (y.parse::<i32>(), m.parse::<u8>(), d.parse::<u8>());
    let (Ok(y), Ok(m), Ok(d)) = (y, m, d) else { return Err(bad()) };
    let month = Month::try_from(m).map_err(|_| bad())?;
    let date = Date::from_calendar_date(y, month, d).map_err(|_| bad())?;
    if y < 2000 {
        return Err(ParamError::new(name, "must be in the year 2000 or later"));
    }
    Ok(Some(date))
}

/// How the search text is read: an order id, digits (an ICCID), or any part of an email.
fn search(q: &str) -> Search {
    if let Ok(id) = Uuid::parse_str(q) {
        Search::OrderId(id)
    } else if q.bytes().all(|b| b.is_ascii_digit()) {
        Search::Iccid(q.to_string())
    } else {
        Search::Email(q.to_string())
    }
}

pub(super) fn midnight(date: Date) -> OffsetDateTime {
    date.with_time(Time::MIDNIGHT).assume_utc()
}

/// The filter as a query: destination and plan type become the ids of the plans they select.
async fn order_query(pool: &Pool, filter: &OrderFilter) -> Result<OrderQuery> {
    let plan_ids = if filter.destination.is_some() || filter.kind.is_some() {
        let kind = filter.kind.map(PlanKind::as_str);
        Some(db::admin_reports::plan_ids(pool, filter.destination.as_deref(), kind).await?)
    } else {
        None
    };
    Ok(OrderQuery {
        status: filter.status,
        plan_ids,
        created_from: filter.from.map(midnight),
        // `to` is inclusive: up to the start of the next day.
        created_before: filter.to.and_then(Date::next_day).map(midnight),
        search: filter.q.as_deref().map(search),
        sort: filter.sort,
    })
}

/// Where the next page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextPage {
    Cursor(String),
    Page(u32),
}

/// One page of the order list.
pub struct OrderList {
    pub filter: OrderFilter,
    pub orders: Vec<OrderSummary>,
    /// Set when this page is not the first.
    pub is_first: bool,
    pub next: Option<NextPage>,
    /// More orders match than the amount sorts can page through.
    pub capped: bool,
}

/// A cursor: the creation time in microseconds (PostgreSQL's precision) and the id of the
/// last order shown.
fn encode_cursor(order: &OrderSummary) -> String {
    format!("{}_{}", order.created_at.unix_timestamp_nanos() / 1000, order.id)
}

fn decode_cursor(text: &str) -> Result<(OffsetDateTime, Uuid), ParamError> {
    let bad = || ParamError::new("cursor", "is not a position in this list; start again from the first page");
    let (micros, id) = text.split_once('_').ok_or_else(bad)?;
    let micros: i64 = micros.parse().map_err(|_| bad())?;
    let at = OffsetDateTime::from_unix_timestamp_nanos(micros as i128 * 1000).map_err(|_| bad())?;
    Ok((at, Uuid::parse_str(id).map_err(|_| bad())?))
}

// Paging. The time sorts page by keyset on (created_at, id): orders_created_idx holds exactly
// that order, so any page, however deep, is an index range scan of 51 rows, and orders placed
// meanwhile never shift or repeat rows. The amount sorts page by offset over orders_amount_idx,
// capped at MAX_AMOUNT_PAGES so that no page reads more than 5,000 index entries; an operator
// wanting more narrows the filters or exports CSV. Keyset paging for amounts would need a
// three-part cursor for a list rarely read past its first pages.
fn window(params: &Params, sort: OrderSort) -> Result<Window, ParamError> {
    if sort.is_by_time() {
        if params.text("page")?.is_some() {
            return Err(ParamError::new("page", "is only for the amount sorts; follow the Next link"));
        }
        Ok(Window::After(params.text("cursor")?.as_deref().map(decode_cursor).transpose()?))
    } else {
        if params.text("cursor")?.is_some() {
            return Err(ParamError::new("cursor", "is only for the newest and oldest sorts"));
        }
        let page = params.int("page", 1, MAX_AMOUNT_PAGES)?.unwrap_or(1);
        Ok(Window::Offset((page as i64 - 1) * PAGE_SIZE))
    }
}

pub async fn list_orders(pool: &Pool, catalogue: &Catalogue, params: &Params) -> Result<OrderList> {
    let filter = OrderFilter::from_params(catalogue, params)?;
    let window = window(params, filter.sort)?;
    let query = order_query(pool, &filter).await?;
    let mut orders = db::admin_reports::orders(pool, &query, window, PAGE_SIZE + 1).await?;
    let more = orders.len() as i64 > PAGE_SIZE;
    orders.truncate(PAGE_SIZE as usize);
    let (is_first, next) = match window {
        Window::After(after) => {
            (after.is_none(), orders.last().filter(|_| more).map(|o| NextPage::Cursor(encode_cursor(o))))
        }
        Window::Offset(offset) => {
            let page = (offset / PAGE_SIZE) as u32 + 1;
            (page == 1, (more && page < MAX_AMOUNT_PAGES).then_some(NextPage::Page(page + 1)))
        }
    };
    Ok(OrderList { filter, orders, is_first, capped: more && next.is_none(), next })
}

/// Every order the filters select (at most [`EXPORT_LIMIT`]), in the chosen order. The export
/// is audited: it hands customers' emails to whoever downloads it.
pub async fn export_orders(
    pool: &Pool,
    catalogue: &Catalogue,
    params: &Params,
    operator: &User,
    ip: Option<String>,
) -> Result<Vec<OrderSummary>> {
    let filter = OrderFilter::from_params(catalogue, params)?;
    let query = order_query(pool, &filter).await?;
    let orders = db::admin_reports::orders(pool, &query, Window::Offset(0), EXPORT_LIMIT).await?;
    let details: serde_json::Map<String, serde_json::Value> =
        filter.to_pairs().into_iter().map(|(k, v)| (k.to_string(), v.into())).collect();
    let entry = db::users::AuditEntry {
        user: Some(operator),
        action: "orders_exported",
        target: None,
        details: serde_json::json!({ "filters": details, "rows": orders.len() }),
        ip,
    };
    db::users::audit(pool, entry).await?;
    Ok(orders)
}

/// One page of the audit log.
pub struct AuditPage {
    pub entries: Vec<AuditRow>,
    pub is_first: bool,
    /// The `cursor` of the next (older) page.
    pub next: Option<i64>,
}

pub async fn audit_log(pool: &Pool, params: &Params) -> Result<AuditPage> {
    let before = params.int("cursor", 1, i64::MAX)?;
    let mut entries = db::admin_reports::audit_entries(pool, before, AUDIT_PAGE_SIZE + 1).await?;
    let more = entries.len() as i64 > AUDIT_PAGE_SIZE;
    entries.truncate(AUDIT_PAGE_SIZE as usize);
    let next = entries.last().filter(|_| more).map(|e| e.id);
    Ok(AuditPage { entries, is_first: before.is_none(), next })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Money;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::from(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>())
    }

    #[test]
    fn dates_are_strict() {
        let ok = date(&params(&[("from", "2026-02-28")]), "from").unwrap().unwrap();
        assert_eq!(ok.to_string(), "2026-02-28");
        for bad in ["2026-02-30", "2026-2-1", "26-02-01", "2026-13-01", "yesterday", "2026-02-01T00:00"] {
            assert_eq!(date(&params(&[("from", bad)]), "from").unwrap_err().param, "from", "{bad}");
        }
    }

    #[test]
    fn search_text_is_an_id_an_iccid_or_an_email() {
        let id = Uuid::new_v4();
        assert_eq!(search(&id.to_string()), Search::OrderId(id));
        assert_eq!(search("8988307000000000001"), Search::Iccid("8988307000000000001".into()));
        assert_eq!(search("Ann@"), Search::Email("Ann@".into()));
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let at = OffsetDateTime::from_unix_timestamp_nanos(1_790_000_000_123_456_000).unwrap();
        let order = OrderSummary {
            id: Uuid::new_v4(),
            created_at: at,
            email: String::new(),
            plan_id: Uuid::nil(),
            plan_name: String::new(),
            amount: Money::new(1, "USD"),
            status: OrderStatus::Ready,
            needs_review: false,
            iccid: None,
        };
        assert_eq!(decode_cursor(&encode_cursor(&order)).unwrap(), (at, order.id));
        for bad in ["", "x_y", "123", "123_not-a-uuid", "99999999999999999999_00000000-0000-0000-0000-000000000000"] {
            assert_eq!(decode_cursor(bad).unwrap_err().param, "cursor", "{bad}");
        }
    }
}
