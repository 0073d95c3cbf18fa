//! The audit log at `/admin/audit`: every sign-in and admin action, newest first, 100 a page.

use crate::services::Pool;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::routing::get;

use super::StaffUser;
use crate::domain::order::utc_label as utc;
use crate::http::errors::HtmlError;
use crate::http::extract::QueryParams;
use crate::http::page::PageContext;
use crate::http::state::AppState;
use crate::services::admin_reports::{self, AuditRow};

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/audit", get(list_audit))
}

pub struct AuditLine {
    pub when: String,
    pub who: String,
    pub action: String,
    pub target: String,
    pub ip: String,
    pub details: String,
}

impl From<AuditRow> for AuditLine {
    fn from(row: AuditRow) -> Self {
        Self {
            when: utc(row.created_at),
            who: row.user_email.unwrap_or_else(|| "—".into()),
            action: row.action,
            target: row.target.unwrap_or_default(),
            ip: row.ip.unwrap_or_default(),
            // An empty object says nothing; leave the cell empty.
            details: if row.details == "{}" { String::new() } else { row.details },
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/audit.html")]
pub struct AuditPage {
    pub ctx: PageContext,
    pub entries: Vec<AuditLine>,
    pub is_first: bool,
    pub next_href: Option<String>,
}

async fn list_audit(
    StaffUser(_): StaffUser,
    ctx: PageContext,
    State(pool): State<Pool>,
    QueryParams(params): QueryParams,
) -> Result<AuditPage, HtmlError> {
    let page = admin_reports::audit_log(&pool, &params).await?;
    Ok(AuditPage {
        ctx: ctx.titled("Audit log"),
        entries: page.entries.into_iter().map(AuditLine::from).collect(),
        is_first: page.is_first,
        next_href: page.next.map(|id| format!("/admin/audit?cursor={id}")),
    })
}
