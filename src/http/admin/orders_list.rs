//! The operators' order list at `/admin/orders` (filters, search, sorting, pages) and the same
//! selection as CSV at `/admin/orders.csv`.

use crate::services::Pool;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use uuid::Uuid;

use super::StaffUser;
use crate::domain::{OrderStatus, PlanKind};
use crate::http::auth::ClientIp;
use crate::http::errors::HtmlError;
use crate::http::extract::QueryParams;
use crate::http::forms::{Choice, FieldErrors};
use crate::http::page::PageContext;
use crate::http::state::AppState;
use crate::services::admin_reports::{self, NextPage, OrderFilter, OrderList, OrderSort, OrderSummary};
use crate::services::catalogue::CatalogueStore;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/orders", get(list_orders)).route("/orders.csv", get(export_orders))
}

/// The options of a filter's `<select>`.
fn choices<'a>(items: impl Iterator<Item = (&'a str, String)>) -> Vec<Choice> {
    items.map(|(value, label)| Choice::new(value, label)).collect()
}

pub struct OrderLine {
    pub id: Uuid,
    /// The short reference emails use; the full id is one click away (copy button, link).
    pub reference: String,
    pub created: String,
    pub email: String,
    pub plan: String,
    pub amount: String,
    pub status: &'static str,
    pub needs_review: bool,
    pub iccid: String,
}

impl From<OrderSummary> for OrderLine {
    fn from(o: OrderSummary) -> Self {
        Self {
            id: o.id,
            reference: crate::domain::order::short_reference(o.id),
            created: crate::domain::order::utc_label(o.created_at),
            email: o.email,
            plan: o.plan_name,
            amount: o.amount.to_string(),
            status: o.status.staff_label(),
            needs_review: o.needs_review,
            iccid: o.iccid.unwrap_or_default(),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/orders.html")]
pub struct OrdersPage {
    pub ctx: PageContext,
    pub q: String,
    pub from: String,
    pub to: String,
    /// The selects' current values ("" for any).
    pub status: String,
    pub destination: String,
    pub kind: String,
    pub sort: String,
    pub statuses: Vec<Choice>,
    pub destinations: Vec<Choice>,
    pub kinds: Vec<Choice>,
    pub sorts: Vec<Choice>,
    pub orders: Vec<OrderLine>,
    pub first_href: Option<String>,
    pub next_href: Option<String>,
    pub export_href: String,
    pub capped: bool,
    /// Always empty: filters that cannot be read are a 400 page.
    pub errors: FieldErrors,
}

/// `path?filters&extra`, encoded.
fn href(path: &str, filter: &OrderFilter, extra: Option<(&str, String)>) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in filter.to_pairs().into_iter().chain(extra) {
        query.append_pair(name, &value);
    }
    let query = query.finish();
    if query.is_empty() { path.to_string() } else { format!("{path}?{query}") }
}

impl OrdersPage {
    fn new(list: OrderList, catalogue: &crate::domain::Catalogue, ctx: PageContext) -> Self {
        let f = &list.filter;
        let next_href = list.next.as_ref().map(|next| {
            let extra = match next {
                NextPage::Cursor(c) => ("cursor", c.clone()),
                NextPage::Page(p) => ("page", p.to_string()),
            };
            href("/admin/orders", f, Some(extra))
        });
        let destinations = catalogue.destinations().iter().map(|d| (d.iso.as_str(), format!("{} ({})", d.name, d.iso)));
        Self {
            ctx: ctx.titled("Orders"),
            q: f.q.clone().unwrap_or_default(),
            from: f.from.map(|d| d.to_string()).unwrap_or_default(),
            to: f.to.map(|d| d.to_string()).unwrap_or_default(),
            status: f.status.map(OrderStatus::as_str).unwrap_or_default().to_string(),
            destination: f.destination.clone().unwrap_or_default(),
            kind: f.kind.map(PlanKind::as_str).unwrap_or_default().to_string(),
            sort: f.sort.as_str().to_string(),
            statuses: choices(OrderStatus::ALL.iter().map(|s| (s.as_str(), s.staff_label().to_string()))),
            destinations: choices(destinations),
            kinds: choices(PlanKind::ALL.iter().map(|k| (k.as_str(), k.label().to_string()))),
            sorts: choices(OrderSort::ALL.iter().map(|s| (s.as_str(), sort_label(*s).to_string()))),
            first_href: (!list.is_first).then(|| href("/admin/orders", f, None)),
            next_href,
            export_href: href("/admin/orders.csv", f, None),
            capped: list.capped,
            orders: list.orders.into_iter().map(OrderLine::from).collect(),
            errors: FieldErrors::default(),
        }
    }
}

async fn list_orders(
    StaffUser(_): StaffUser,
    ctx: PageContext,
    State(pool): State<Pool>,
    State(store): State<CatalogueStore>,
    QueryParams(params): QueryParams,
) -> Result<OrdersPage, HtmlError> {
    let catalogue = store.snapshot();
    let list = admin_reports::list_orders(&pool, &catalogue, &params).await?;
    Ok(OrdersPage::new(list, &catalogue, ctx))
}

async fn export_orders(
    StaffUser(user): StaffUser,
    State(pool): State<Pool>,
    State(store): State<CatalogueStore>,
    ClientIp(ip): ClientIp,
    QueryParams(params): QueryParams,
) -> Result<Response, HtmlError> {
    let orders = admin_reports::export_orders(&pool, &store.snapshot(), &params, &user, ip).await?;
    let headers = [
        (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
        (header::CONTENT_DISPOSITION, "attachment; filename=\"orders.csv\""),
        (header::CACHE_CONTROL, "no-store"),
    ];
    Ok((headers, orders_csv(&orders)).into_response())
}

const CSV_HEADER: [&str; 10] =
    ["created_at", "order_id", "email", "plan", "amount", "currency", "status", "needs_review", "iccid", "plan_id"];

fn orders_csv(orders: &[OrderSummary]) -> String {
    let mut out = String::with_capacity(160 * (orders.len() + 1));
    csv_row(&mut out, &CSV_HEADER);
    let rfc3339 = &time::format_description::well_known::Rfc3339;
    for o in orders {
        let created = o.created_at.to_offset(time::UtcOffset::UTC).format(rfc3339).unwrap_or_default();
        let review = if o.needs_review { "true" } else { "false" };
        csv_row(
            &mut out,
            &[
                &created,
                &o.id.to_string(),
                &o.email,
                &o.plan_name,
                &o.amount.decimal(),
                &o.amount.currency,
                o.status.as_str(),
                review,
                o.iccid.as_deref().unwrap_or(""),
                &o.plan_id.to_string(),
            ],
        );
    }
    out
}

/// One CSV record (RFC 4180: comma-separated, CRLF-terminated).
fn csv_row(out: &mut String, cells: &[&str]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        csv_cell(out, cell);
    }
    out.push_str("\r\n");
}

/// One CSV field. A spreadsheet would run a cell starting with `=`, `+`, `-` or `@` (or a tab
/// or carriage return) as a formula, so such a cell gets a leading `'`; a field containing a
/// comma, quote or line break is quoted, its quotes doubled.
fn csv_cell(out: &mut String, value: &str) {
    let formula = value.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quoted = value.contains([',', '"', '\n', '\r']);
    if quoted {
        out.push('"');
    }
    if formula {
        out.push('\'');
    }
    for c in value.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    if quoted {
        out.push('"');
    }
}

/// How the sort menu reads each order.
fn sort_label(sort: OrderSort) -> &'static str {
    match sort {
        OrderSort::Newest => "Newest first",
        OrderSort::Oldest => "Oldest first",
        OrderSort::AmountDesc => "Highest amount first",
        OrderSort::AmountAsc => "Lowest amount first",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: &[&str]) -> String {
        let mut out = String::new();
        csv_row(&mut out, cells);
        out
    }

    #[test]
    fn plain_cells_are_left_alone() {
        assert_eq!(row(&["a", "b c", "", "12.50"]), "a,b c,,12.50\r\n");
    }

    #[test]
    fn commas_quotes_and_line_breaks_are_quoted() {
        assert_eq!(
            row(&["a,b", "say \"hi\"", "two\nlines", "cr\rx"]),
            "\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\"cr\rx\"\r\n"
        );
    }

    #[test]
    fn formulas_are_defused() {
        assert_eq!(row(&["=1+1", "+31", "-2", "@SUM(A1)", "\tx", "a=b"]), "'=1+1,'+31,'-2,'@SUM(A1),'\tx,a=b\r\n");
        assert_eq!(row(&["=HYPERLINK(\"http://x\",\"y\")"]), "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"\r\n");
    }
}
