//! The wall clock as the table and the logs count it: whole seconds and milliseconds since the
//! Unix epoch. A clock set before 1970 reads 0 rather than failing an event.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the epoch at `at`.
pub fn epoch_millis(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |since| {
        u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
    })
}

/// Whole seconds since the epoch at `at` (truncated, as event times are).
pub fn epoch_seconds(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |since| {
        i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
    })
}

/// [`epoch_seconds`] of now: when an event is received.
pub fn now_seconds() -> i64 {
    epoch_seconds(SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_epoch_counts_in_whole_seconds_and_milliseconds() {
        let at = UNIX_EPOCH + Duration::from_millis(1_717_200_000_999);
        assert_eq!(epoch_seconds(at), 1_717_200_000);
        assert_eq!(epoch_millis(at), 1_717_200_000_999);
    }

    #[test]
    fn a_clock_before_the_epoch_reads_zero() {
        let before = UNIX_EPOCH - Duration::from_secs(1);
        assert_eq!((epoch_seconds(before), epoch_millis(before)), (0, 0));
    }
}
