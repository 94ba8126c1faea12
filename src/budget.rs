//! How long an invocation may work: up to Lambda's deadline less a reserve kept for reporting,
//! or the function's own timeout less that reserve when no deadline is known (absent, zero or
//! already past, as local emulators such as `cargo lambda watch` hand it). One rule for both
//! functions, with each one's reserve and timeout.

use std::time::{Duration, SystemTime};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Kept back from the deadline, so that slow work ends in a reported error rather than in
    /// Lambda stopping the process mid-write.
    pub reserve: Duration,
    /// The template's timeout of the function: what a run may take when no deadline is known.
    pub timeout: Duration,
}

impl Budget {
    /// The time left to work at `now` for an invocation due to end at `deadline`.
    pub fn left(&self, deadline: SystemTime, now: SystemTime) -> Duration {
        match deadline.duration_since(now) {
            Ok(left) if !left.is_zero() => left.saturating_sub(self.reserve),
            _ => self.unknown_deadline(),
        }
    }

    /// [`Budget::left`] when no deadline is known.
    pub fn unknown_deadline(&self) -> Duration {
        self.timeout.saturating_sub(self.reserve)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    const BUDGET: Budget = Budget {
        reserve: Duration::from_millis(500),
        timeout: Duration::from_secs(10),
    };

    #[test]
    fn the_budget_is_the_time_to_the_deadline_less_the_reserve() {
        let now = SystemTime::now();
        let deadline = now + Duration::from_secs(10);
        assert_eq!(BUDGET.left(deadline, now), Duration::from_millis(9_500));
        // A deadline nearer than the reserve leaves no time: the work fails as out of time.
        let near = now + Duration::from_millis(100);
        assert_eq!(BUDGET.left(near, now), Duration::ZERO);
    }

    #[test]
    fn an_absent_zero_or_past_deadline_is_the_timeout_less_the_reserve() {
        let now = SystemTime::now();
        for deadline in [UNIX_EPOCH, now, now - Duration::from_secs(1)] {
            assert_eq!(BUDGET.left(deadline, now), Duration::from_millis(9_500));
        }
    }
}
