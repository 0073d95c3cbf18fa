//! The integrity report: whether Tern, Stripe and Telnyx agree about every order. It runs on a
//! schedule (one run at a time across every process, under a PostgreSQL advisory lock) and on
//! demand, keeps its latest findings in PostgreSQL (the dashboard shows their counts), and each
//! finding has its one-click fix ([`fix`]), applied through the usual services and audited.

mod checks;
mod fixes;

use std::time::Duration;

use time::OffsetDateTime;
use uuid::Uuid;

pub use self::fixes::fix;
use super::checkout::Payments;
use super::provisioning::Provisioner;
use crate::db::{self, Conn, Pool};
use crate::error::{Error, Result};

/// How often the application runs the report.
pub const RUN_INTERVAL: Duration = Duration::from_secs(300);

/// What the report looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FindingKind {
    /// Paid more than ten minutes ago, still no eSIM.
    StuckPaid,
    /// Awaiting payment here, paid at Stripe.
    PaidAtStripe,
    /// Refunded at Stripe, not (or not as much) here.
    RefundedAtStripe,
    /// Refunded, but its SIM is not disabled.
    RefundedSimEnabled,
    /// Ready, but its payment was never confirmed.
    ReadyUnpaid,
    /// A Telnyx SIM tagged for an order that has no eSIM, another one, or does not exist.
    StraySim,
    /// Two or more live Telnyx SIMs tagged for one order.
    TwoSims,
    ProvisioningFailed,
}

impl FindingKind {
    pub const ALL: [FindingKind; 8] = [
        Self::StuckPaid,
        Self::PaidAtStripe,
        Self::RefundedAtStripe,
        Self::RefundedSimEnabled,
        Self::ReadyUnpaid,
        Self::StraySim,
        Self::TwoSims,
        Self::ProvisioningFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::StuckPaid => "stuck_paid",
            Self::PaidAtStripe => "paid_at_stripe",
            Self::RefundedAtStripe => "refunded_at_stripe",
            Self::RefundedSimEnabled => "refunded_sim_enabled",
            Self::ReadyUnpaid => "ready_unpaid",
            Self::StraySim => "stray_sim",
            Self::TwoSims => "two_sims",
            Self::ProvisioningFailed => "provisioning_failed",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// How operators read it.
    pub fn label(self) -> &'static str {
        match self {
            Self::StuckPaid => "Paid but not ready after 10 minutes",
            Self::PaidAtStripe => "Awaiting payment, but paid at Stripe",
            Self::RefundedAtStripe => "Refunded at Stripe, not in Tern",
            Self::RefundedSimEnabled => "Refunded, but the SIM is still enabled",
            Self::ReadyUnpaid => "Ready, but never paid",
            Self::StraySim => "Telnyx SIM tagged for an order that has none or another",
            Self::TwoSims => "Order with two SIMs",
            Self::ProvisioningFailed => "Provisioning failed",
        }
    }
}

/// The one-click fix of a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fix {
    ConfirmPayment,
    RetryProvisioning,
    DisableSim,
    ApplyRefund,
    AdoptSim,
}

impl Fix {
    const ALL: [Fix; 5] =
        [Self::ConfirmPayment, Self::RetryProvisioning, Self::DisableSim, Self::ApplyRefund, Self::AdoptSim];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ConfirmPayment => "confirm_payment",
            Self::RetryProvisioning => "retry_provisioning",
            Self::DisableSim => "disable_sim",
            Self::ApplyRefund => "apply_refund",
            Self::AdoptSim => "adopt_sim",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == name)
    }

    /// The button's text.
    pub fn label(self) -> &'static str {
        match self {
            Self::ConfirmPayment => "Confirm payment",
            Self::RetryProvisioning => "Retry provisioning",
            Self::DisableSim => "Disable the SIM",
            Self::ApplyRefund => "Apply the refund",
            Self::AdoptSim => "Adopt the SIM",
        }
    }

    /// Money and service moves are for admins (as on the order page).
    pub fn needs_admin(self) -> bool {
        matches!(self, Self::DisableSim | Self::ApplyRefund)
    }
}

/// Something the report found, and how to fix it.
#[derive(Debug, Clone)]
pub struct Finding {
    /// Stable across runs: `<kind>:<order id or SIM id>`.
    pub key: String,
    pub kind: FindingKind,
    pub fix: Fix,
    pub order_id: Option<Uuid>,
    pub sim_id: Option<String>,
    /// What was seen, for people.
    pub note: String,
    /// What the fix needs (Stripe's refund figures, the SIMs of an order).
    pub details: serde_json::Value,
}

/// Who started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Schedule,
    Operator,
}

impl Trigger {
    fn as_str(self) -> &'static str {
        match self {
            Self::Schedule => "schedule",
            Self::Operator => "operator",
        }
    }
}

/// A stored run.
#[derive(Debug, Clone)]
pub struct Run {
    pub trigger: String,
    pub started_at: OffsetDateTime,
    pub finished_at: OffsetDateTime,
    /// Checks cut short by their bound, or that could not run.
    pub notes: Vec<String>,
}

/// The latest run and what it found (less what was fixed since).
#[derive(Debug, Clone)]
pub struct Report {
    pub run: Option<Run>,
    /// Every kind, in [`FindingKind::ALL`] order, with its count.
    pub counts: Vec<(FindingKind, usize)>,
    pub findings: Vec<Finding>,
}

/// Runs every check now and stores the findings; `None` when another run holds the lock.
pub async fn run(
    pool: &Pool,
    payments: &Payments,
    provisioner: &Provisioner,
    trigger: Trigger,
) -> Result<Option<Report>> {
    let started_at = OffsetDateTime::now_utc();
    // The lock lives as long as this transaction, which saves the run at the end.
    let mut lock = pool.begin().await?;
    if !db::integrity::try_lock_run(&mut *lock).await? {
        return Ok(None);
    }
    let (findings, notes) = checks::all(pool, payments, provisioner, started_at).await?;
    let rows: Vec<db::integrity::FindingRow> = findings
        .into_iter()
        .map(|f| db::integrity::FindingRow {
            key: f.key,
            kind: f.kind.as_str().to_string(),
            fix: f.fix.as_str().to_string(),
            order_id: f.order_id,
            sim_id: f.sim_id,
            note: f.note,
            details: f.details,
        })
        .collect();
    db::integrity::save_run(&mut lock, trigger.as_str(), started_at, &serde_json::json!(notes), &rows).await?;
    lock.commit().await?;
    if !rows.is_empty() {
        tracing::warn!(findings = rows.len(), "the integrity report found problems");
    }
    report(pool).await.map(Some)
}

/// Runs the report now for an operator; a run already under way is a conflict.
pub async fn run_now(pool: &Pool, payments: &Payments, provisioner: &Provisioner) -> Result<Report> {
    run(pool, payments, provisioner, Trigger::Operator).await?.ok_or_else(|| Error::Conflict {
        code: "integrity_running",
        message: "The integrity report is running already; look again in a moment.".into(),
    })
}

pub(super) fn finding_of(row: db::integrity::FindingRow) -> Option<Finding> {
    Some(Finding {
        kind: FindingKind::parse(&row.kind)?,
        fix: Fix::parse(&row.fix)?,
        key: row.key,
        order_id: row.order_id,
        sim_id: row.sim_id,
        note: row.note,
        details: row.details,
    })
}

/// The latest stored report.
pub async fn report(pool: &Pool) -> Result<Report> {
    let Some(run) = db::integrity::latest_run(pool).await? else {
        return Ok(Report { run: None, counts: FindingKind::ALL.map(|k| (k, 0)).to_vec(), findings: Vec::new() });
    };
    let findings: Vec<Finding> =
        db::integrity::findings_of(pool, run.id).await?.into_iter().filter_map(finding_of).collect();
    let counts = FindingKind::ALL.map(|k| (k, findings.iter().filter(|f| f.kind == k).count())).to_vec();
    let notes = run.notes.as_array().map(|a| a.iter().filter_map(|n| n.as_str().map(str::to_string)).collect());
    let run = Run {
        trigger: run.trigger,
        started_at: run.started_at,
        finished_at: run.finished_at,
        notes: notes.unwrap_or_default(),
    };
    Ok(Report { run: Some(run), counts, findings })
}

/// The kinds the latest run found, with their counts, in the caller's transaction (the
/// dashboard's snapshot).
pub async fn counts_in(conn: &mut Conn) -> Result<Vec<(FindingKind, i64)>> {
    let counts = db::integrity::latest_counts(conn).await?;
    Ok(counts.into_iter().filter_map(|(kind, n)| FindingKind::parse(&kind).map(|k| (k, n))).collect())
}

/// Runs the report every `every` until `stop` completes.
pub async fn run_until(
    pool: Pool,
    payments: Payments,
    provisioner: Provisioner,
    every: Duration,
    stop: impl std::future::Future<Output = ()>,
) {
    let task = || run(&pool, &payments, &provisioner, Trigger::Schedule);
    super::repeat_until(every, "the integrity report", stop, task).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_fixes_are_stored_by_names_that_read_back() {
        for kind in FindingKind::ALL {
            assert_eq!(FindingKind::parse(kind.as_str()), Some(kind));
        }
        for fix in Fix::ALL {
            assert_eq!(Fix::parse(fix.as_str()), Some(fix));
        }
        assert_eq!(FindingKind::parse("nope"), None);
        assert!(Fix::ApplyRefund.needs_admin() && !Fix::RetryProvisioning.needs_admin());
    }
}
