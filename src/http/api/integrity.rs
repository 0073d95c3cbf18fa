//! The integrity report for admin API tokens: `GET /admin/integrity` (the latest run's
//! findings and counts), `POST /admin/integrity/runs` (run it now) and
//! `POST /admin/integrity/fixes` (apply a finding's fix). Who may call them: [`ReportReader`]
//! and [`IntegrityCaller`].

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::api_key_auth::AdminKey;
use super::auth::Account;
use crate::domain::user::User;
use crate::error::Error;
use crate::http::auth::ClientIp;
use crate::http::errors::ApiError;
use crate::http::extract::ApiJson;
use crate::http::state::AppState;
use crate::services::integrity::{self, Report};
use crate::services::{Operator, api_keys};

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/admin/integrity", get(show))
        .route("/admin/integrity/runs", post(run_now))
        .route("/admin/integrity/fixes", post(fix))
}

/// Whether `user` may read the report and apply its fixes: admins only.
fn authorize(user: User) -> Result<User, Error> {
    if user.role.is_admin() {
        Ok(user)
    } else {
        Err(Error::Forbidden("The integrity report is for admin tokens only."))
    }
}

/// Who may read the report and run it: an admin's bearer token (`POST /auth/token`), or an
/// API key with the admin role (`tern api-key create --role admin`), as a monitoring system
/// would hold.
pub struct ReportReader;

impl FromRequestParts<AppState> for ReportReader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if super::auth::bearer(&parts.headers).is_some_and(api_keys::looks_like_key) {
            AdminKey::from_request_parts(parts, state).await?;
        } else {
            IntegrityCaller::from_request_parts(parts, state).await?;
        }
        Ok(ReportReader)
    }
}

/// Who may apply a fix: an admin in person, by their bearer token, since a fix moves money or
/// a SIM and the order's timeline and the audit log name who did it. An API key is refused.
pub struct IntegrityCaller(pub User);

impl FromRequestParts<AppState> for IntegrityCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if super::auth::bearer(&parts.headers).is_some_and(api_keys::looks_like_key) {
            return Err(Error::Forbidden(
                "Fixes are applied by an admin in person: use an admin's sign-in token, not an API key.",
            )
            .into());
        }
        let Account(user) = Account::from_request_parts(parts, state).await?;
        Ok(IntegrityCaller(authorize(user)?))
    }
}

#[derive(Debug, Serialize)]
pub struct RunDto {
    pub trigger: String,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub finished_at: time::OffsetDateTime,
    /// Checks cut short by their bound per run, or that could not run.
    pub notes: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct CountDto {
    pub kind: &'static str,
    pub label: &'static str,
    pub count: usize,
}

#[derive(Debug, Serialize)]
pub struct FindingDto {
    /// Send it to `POST /admin/integrity/fixes` to apply the fix.
    pub key: String,
    pub kind: &'static str,
    pub fix: &'static str,
    pub order_id: Option<Uuid>,
    pub sim_id: Option<String>,
    pub note: String,
}

#[derive(Debug, Serialize)]
pub struct ReportDto {
    /// `null` before the first run.
    pub run: Option<RunDto>,
    pub counts: Vec<CountDto>,
    pub findings: Vec<FindingDto>,
}

impl From<Report> for ReportDto {
    fn from(r: Report) -> Self {
        Self {
            run: r.run.map(|run| RunDto {
                trigger: run.trigger,
                started_at: run.started_at,
                finished_at: run.finished_at,
                notes: run.notes,
            }),
            counts: r.counts.iter().map(|(k, n)| CountDto { kind: k.as_str(), label: k.label(), count: *n }).collect(),
            findings: r
                .findings
                .into_iter()
                .map(|f| FindingDto {
                    key: f.key,
                    kind: f.kind.as_str(),
                    fix: f.fix.as_str(),
                    order_id: f.order_id,
                    sim_id: f.sim_id,
                    note: f.note,
                })
                .collect(),
        }
    }
}

/// The latest run's findings, with a count per check.
async fn show(State(state): State<AppState>, _caller: ReportReader) -> Result<Json<ReportDto>, ApiError> {
    Ok(Json(integrity::report(&state.pool).await?.into()))
}

/// Runs the report now; 409 `integrity_running` when a run is under way.
async fn run_now(State(state): State<AppState>, _caller: ReportReader) -> Result<Json<ReportDto>, ApiError> {
    Ok(Json(integrity::run_now(&state.pool, &state.payments, &state.provisioner).await?.into()))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixRequest {
    #[serde(default)]
    pub finding: String,
}

#[derive(Debug, Serialize)]
pub struct FixResponse {
    pub finding: String,
    pub fix: &'static str,
    pub result: &'static str,
}

/// Applies the fix of the latest report's `finding` (its key); 404 when it is not there.
async fn fix(
    State(state): State<AppState>,
    IntegrityCaller(user): IntegrityCaller,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<FixRequest>,
) -> Result<Json<FixResponse>, ApiError> {
    let op = Operator { user: &user, ip };
    let (fix, result) = integrity::fix(&state.pool, &state.payments, &state.provisioner, &op, &body.finding).await?;
    Ok(Json(FixResponse { finding: body.finding.trim().to_string(), fix: fix.as_str(), result }))
}
