//! The integrity report at `/admin/integrity` for staff: the latest run's findings with their
//! counts, each with its one-click fix (CSRF-checked POST), and a button to run it now.

use crate::http::errors::FORM_REFUSED;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::StaffUser;
use crate::domain::order::utc_label as utc;
use crate::error::Error;
use crate::http::auth::ClientIp;
use crate::http::errors::HtmlError;
use crate::http::page::PageContext;
use crate::http::state::AppState;
use crate::services::Operator;
use crate::services::integrity::{self, Fix, Report};

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/integrity", get(show))
        .route("/integrity/run", post(run_now))
        .route("/integrity/fix", post(fix))
}

pub struct RunLine {
    pub trigger: String,
    pub started: String,
    pub finished: String,
    pub notes: Vec<String>,
}

pub struct CountLine {
    pub kind: &'static str,
    pub label: &'static str,
    pub count: usize,
}

pub struct FindingLine {
    pub key: String,
    pub order_id: Option<String>,
    pub sim_id: String,
    pub note: String,
    pub fix: &'static str,
    /// Only an admin may apply it.
    pub admin_only: bool,
}

pub struct Section {
    pub kind: &'static str,
    pub label: &'static str,
    pub findings: Vec<FindingLine>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/integrity.html")]
pub struct IntegrityPage {
    pub ctx: PageContext,
    pub run: Option<RunLine>,
    pub counts: Vec<CountLine>,
    pub sections: Vec<Section>,
    pub total: usize,
    pub notice: Option<&'static str>,
    pub error: Option<String>,
}

impl IntegrityPage {
    fn new(ctx: PageContext, report: Report) -> Self {
        let run = report.run.map(|r| RunLine {
            trigger: r.trigger,
            started: utc(r.started_at),
            finished: utc(r.finished_at),
            notes: r.notes,
        });
        let counts: Vec<CountLine> =
            report.counts.iter().map(|(k, n)| CountLine { kind: k.as_str(), label: k.label(), count: *n }).collect();
        let sections = report
            .counts
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(kind, _)| Section {
                kind: kind.as_str(),
                label: kind.label(),
                findings: report
                    .findings
                    .iter()
                    .filter(|f| f.kind == *kind)
                    .map(|f| FindingLine {
                        key: f.key.clone(),
                        order_id: f.order_id.map(|id| id.to_string()),
                        sim_id: f.sim_id.clone().unwrap_or_default(),
                        note: f.note.clone(),
                        fix: f.fix.label(),
                        admin_only: f.fix.needs_admin(),
                    })
                    .collect(),
            })
            .collect();
        Self {
            ctx: ctx.titled("Integrity report"),
            run,
            total: report.findings.len(),
            counts,
            sections,
            notice: None,
            error: None,
        }
    }
}

#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

/// What a redirect's `done` says: a fix's name or `run`, nothing else.
fn notice(done: Option<&str>) -> Option<&'static str> {
    match done? {
        "run" => Some("the report ran"),
        name => Fix::parse(name).map(Fix::label),
    }
}

async fn show(
    State(state): State<AppState>,
    StaffUser(_): StaffUser,
    ctx: PageContext,
    Query(q): Query<Done>,
) -> Result<IntegrityPage, HtmlError> {
    let mut page = IntegrityPage::new(ctx, integrity::report(&state.pool).await?);
    page.notice = notice(q.done.as_deref());
    Ok(page)
}

async fn run_now(State(state): State<AppState>, StaffUser(_): StaffUser) -> Result<Response, HtmlError> {
    integrity::run_now(&state.pool, &state.payments, &state.provisioner).await?;
    Ok(Redirect::to("/admin/integrity?done=run").into_response())
}

#[derive(Deserialize)]
pub struct FixForm {
    #[serde(default)]
    finding: String,
}

async fn fix(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ClientIp(ip): ClientIp,
    ctx: PageContext,
    Form(form): Form<FixForm>,
) -> Result<Response, HtmlError> {
    let op = Operator { user: &user, ip };
    let (status, message) = match integrity::fix(&state.pool, &state.payments, &state.provisioner, &op, &form.finding)
        .await
    {
        Ok((fixed, _)) => return Ok(Redirect::to(&format!("/admin/integrity?done={}", fixed.as_str())).into_response()),
        // The page again, saying why: the finding is gone (fixed or not found again) or unnamed.
        Err(Error::NotFound(_)) => {
            (StatusCode::NOT_FOUND, "That finding is not in the latest report: it was fixed, or the report ran again.")
        }
        Err(Error::Invalid(_)) => (FORM_REFUSED, "Name a finding of the integrity report."),
        Err(e) => return Err(e.into()),
    };
    let mut page = IntegrityPage::new(ctx, integrity::report(&state.pool).await?);
    page.error = Some(message.to_string());
    Ok((status, page).into_response())
}
