//! Use-cases shared by the web pages, the API and background tasks.

pub mod account_email;
pub mod accounts;
pub mod admin_reports;
pub mod api_keys;
pub mod cancellation;
pub mod catalogue;
pub mod catalogue_admin;
pub mod checkout;
pub mod code_reveal;
pub mod dashboard;
pub mod esim;
pub mod find_order;
pub mod idempotency;
pub mod integrity;
pub mod jobs;
pub mod key_rotation;
pub mod lifecycle;
pub mod mail;
pub mod mfa;
pub mod order_access;
pub mod order_admin;
pub mod order_email;
pub mod orders;
pub mod payments;
pub mod provisioning;
pub mod rate_limit;
pub mod reconcile;
pub mod sessions;
pub mod settlements;
pub mod stripe_events;
pub mod telemetry;
pub mod webhooks;

pub use crate::db::Pool;
use crate::db::users::AuditEntry;
use crate::domain::Actor;
use crate::domain::user::User;
use crate::error::{Error, Result};

/// Whether the database answers (readiness).
pub async fn ping(pool: &Pool) -> Result<()> {
    Ok(crate::db::ping(pool).await?)
}

/// Runs `task` now and then every `every` (a tick missed while it ran is not made up) until
/// `stop` resolves. A run that fails is logged as `what` failing, and the next tick runs again.
pub async fn repeat_until<T, Fut>(
    every: std::time::Duration,
    what: &'static str,
    stop: impl std::future::Future<Output = ()>,
    mut task: impl FnMut() -> Fut,
) where
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = interval.tick() => {
                if let Err(e) = task().await {
                    tracing::warn!(error = %e, "{what} failed");
                }
            }
        }
    }
}

/// A member of staff acting, and where from (for the audit log).
pub struct Operator<'a> {
    pub user: &'a User,
    pub ip: Option<String>,
}

impl Operator<'_> {
    /// Refuses anyone but an admin, with `why`.
    pub fn require_admin(&self, why: &'static str) -> Result<()> {
        if self.user.role.is_admin() { Ok(()) } else { Err(Error::Forbidden(why)) }
    }

    /// How the order timeline names them.
    pub fn actor(&self) -> Actor {
        Actor::Operator(self.user.id)
    }

    /// Writes an audit-log entry for this operator.
    pub async fn audit(
        &self,
        conn: &mut crate::db::Conn,
        action: &str,
        target: String,
        details: serde_json::Value,
    ) -> Result<()> {
        let entry = AuditEntry { user: Some(self.user), action, target: Some(target), details, ip: self.ip.clone() };
        Ok(crate::db::users::audit(conn, entry).await?)
    }
}
