//! Rate limits shared by every Tern process: a policy (so many requests per window) counted
//! per subject (a client address, an order) with GCRA in PostgreSQL (`db::rate_limits`), and
//! the decision the API turns into `RateLimit` / `Retry-After` headers.

use crate::db::{self, Pool};
use crate::error::Result;

/// So many requests per window, per subject; a full quota may be spent in one burst.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// The name clients see in `RateLimit-Policy`.
    pub name: &'static str,
    pub limit: u32,
    pub window_seconds: u32,
}

impl Policy {
    /// One request's share of the window (GCRA's emission interval).
    fn interval(&self) -> f64 {
        f64::from(self.window_seconds) / f64::from(self.limit.max(1))
    }
}

/// `TERN_API_WRITES_PER_MINUTE` when unset: writes one client may send to the API a minute.
pub const DEFAULT_API_WRITES_PER_MINUTE: u32 = 20;

/// Every write under `/api/v1`, per client address.
pub const fn api_writes(per_minute: u32) -> Policy {
    Policy { name: "api-writes", limit: per_minute, window_seconds: 60 }
}

/// Reading an eSIM's status again from Telnyx, per order.
pub const ESIM_REFRESH: Policy = Policy { name: "esim-refresh", limit: 3, window_seconds: 60 };

/// The limits this process applies (the configurable ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub api_writes: Policy,
}

impl Default for Limits {
    fn default() -> Self {
        Self { api_writes: api_writes(DEFAULT_API_WRITES_PER_MINUTE) }
    }
}

/// What a policy says about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub policy: Policy,
    pub allowed: bool,
    /// Requests still allowed right now.
    pub remaining: u32,
    /// Seconds until the whole quota is back.
    pub reset_seconds: u64,
    /// For a refused request: seconds until one more would be allowed.
    pub retry_after_seconds: u64,
}

impl Decision {
    /// The decision for a request that left the key `ahead` seconds in the future (GCRA).
    pub fn new(policy: Policy, allowed: bool, ahead: f64) -> Self {
        let (window, interval) = (f64::from(policy.window_seconds), policy.interval());
        let ahead = ahead.max(0.0);
        // A tiny slack absorbs the float arithmetic of the database's timestamps.
        let remaining = if allowed { ((window - ahead) / interval + 1e-6).floor().max(0.0) as u32 } else { 0 };
        let retry_after = if allowed { 0.0 } else { (ahead + interval - window).ceil().max(1.0) };
        Self {
            policy,
            allowed,
            remaining: remaining.min(policy.limit),
            reset_seconds: ahead.ceil() as u64,
            retry_after_seconds: retry_after as u64,
        }
    }
}

/// Counts a request of `subject` against `policy`. Now and then it also clears keys whose
/// quota is whole again, so the table holds only clients seen lately.
pub async fn check(pool: &Pool, policy: Policy, subject: &str) -> Result<Decision> {
    let key = format!("{}:{subject}", policy.name);
    let hit = db::rate_limits::hit(pool, &key, policy.interval(), f64::from(policy.window_seconds)).await?;
    if rand::random::<u8>() == 0 {
        let swept = db::rate_limits::sweep(pool).await?;
        tracing::debug!(rate_limit.swept = swept, "rate-limit keys swept");
    }
    Ok(Decision::new(policy, hit.allowed, hit.ahead_seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIVE_A_MINUTE: Policy = Policy { name: "t", limit: 5, window_seconds: 60 };

    #[test]
    fn a_fresh_key_has_the_quota_less_this_request() {
        let first = Decision::new(FIVE_A_MINUTE, true, 12.0);
        assert_eq!((first.remaining, first.reset_seconds, first.retry_after_seconds), (4, 12, 0));
    }

    #[test]
    fn the_last_request_of_a_burst_leaves_nothing() {
        let fifth = Decision::new(FIVE_A_MINUTE, true, 60.0);
        assert_eq!((fifth.remaining, fifth.reset_seconds), (0, 60));
    }

    #[test]
    fn a_refused_request_says_when_one_more_fits() {
        // 60 s ahead: the next request fits once one interval (12 s) has passed.
        let refused = Decision::new(FIVE_A_MINUTE, false, 60.0);
        assert_eq!((refused.allowed, refused.remaining, refused.retry_after_seconds), (false, 0, 12));
        let almost = Decision::new(FIVE_A_MINUTE, false, 48.2);
        assert_eq!(almost.retry_after_seconds, 1, "never less than a second");
    }

    #[test]
    fn the_default_write_limit_is_a_minute_window() {
        assert_eq!(Limits::default().api_writes, Policy { name: "api-writes", limit: 20, window_seconds: 60 });
    }
}
