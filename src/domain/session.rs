//! How long a sign-in lasts (ASVS V3.3) and how fast failed attempts may repeat (V2.2.1): pure
//! rules, judged by `services::sessions` and `services::accounts`.

use time::{Duration, OffsetDateTime};

use super::user::Role;

/// Idle and absolute lifetimes of a signed-in session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetime {
    pub idle: Duration,
    pub absolute: Duration,
}

impl Lifetime {
    /// Staff: 30 minutes idle, 12 hours absolute. Travellers: 7 days idle, 30 days absolute.
    pub fn for_role(role: Role) -> Self {
        if role.is_staff() {
            Self { idle: Duration::minutes(30), absolute: Duration::hours(12) }
        } else {
            Self { idle: Duration::days(7), absolute: Duration::days(30) }
        }
    }

    /// Whether a session started at `created` and last used at `last_seen` is still alive.
    pub fn alive(&self, created: OffsetDateTime, last_seen: OffsetDateTime, now: OffsetDateTime) -> bool {
        now - last_seen < self.idle && now - created < self.absolute
    }
}

/// A second-factor check this recent allows a sensitive action (refund, SIM, catalogue).
pub const REAUTH_WITHIN: Duration = Duration::minutes(15);

/// Failures one source may make on one account before each next try has to wait.
pub const FREE_FAILURES: i64 = 5;
/// The longest wait between tries.
pub const MAX_DELAY: Duration = Duration::minutes(15);

/// How long after its latest failure a source must wait before trying again, with `failures`
/// recent failures: nothing for the first few, then 30 s, doubling each time, up to 15 minutes.
pub fn delay_after(failures: i64) -> Duration {
    if failures < FREE_FAILURES {
        return Duration::ZERO;
    }
    let doublings = (failures - FREE_FAILURES).min(10) as u32;
    (Duration::seconds(30) * 2i32.pow(doublings)).min(MAX_DELAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_sessions_are_short_and_travellers_long() {
        let now = OffsetDateTime::now_utc();
        let staff = Lifetime::for_role(Role::Support);
        assert!(staff.alive(now - Duration::hours(11), now - Duration::minutes(29), now));
        assert!(!staff.alive(now - Duration::hours(1), now - Duration::minutes(31), now), "idle");
        assert!(!staff.alive(now - Duration::hours(13), now, now), "absolute");
        let traveller = Lifetime::for_role(Role::Customer);
        assert!(traveller.alive(now - Duration::days(29), now - Duration::days(6), now));
        assert!(!traveller.alive(now - Duration::days(10), now - Duration::days(8), now));
        assert!(!traveller.alive(now - Duration::days(31), now, now));
    }

    #[test]
    fn failures_slow_down_progressively() {
        assert_eq!(delay_after(0), Duration::ZERO);
        assert_eq!(delay_after(FREE_FAILURES - 1), Duration::ZERO);
        assert_eq!(delay_after(FREE_FAILURES), Duration::seconds(30));
        assert_eq!(delay_after(FREE_FAILURES + 1), Duration::seconds(60));
        assert_eq!(delay_after(FREE_FAILURES + 100), MAX_DELAY);
    }
}
