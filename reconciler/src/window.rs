//! How much a run may do, and over which time: its budget, the longest look, the window of
//! disconnects its search covers, and how many looks fit before its deadline. Pure rules of
//! time, next to the tests that hold them (docs/contract.md, "Reconciling with Connect").

use std::time::{Duration, SystemTime};

use aws_lambda_events::eventbridge::EventBridgeEvent;
use serde_json::Value;

use connect_contact_state::budget::Budget;

/// A run's budget: 1 s kept back at the end for the summary line and the answer to Lambda; the
/// template's 60 s timeout when Lambda gives no deadline (`cargo lambda invoke`, some emulators).
pub const BUDGET: Budget = Budget {
    reserve: Duration::from_secs(1),
    timeout: Duration::from_secs(60),
};

/// The most one look may take: Connect's call (its retries included) and the writes of what it
/// says (milliseconds each, seconds with DynamoDB's retries). A look that would end past the
/// deadline is not started; one that overruns this is abandoned and counted failed (its
/// conditional writes are safe to repeat next run).
pub const LOOK_TIMEOUT: Duration = Duration::from_secs(6);

/// How far before the previous run the search looks again: Connect's API is eventually
/// consistent ("typically less than a few seconds … in some cases … several minutes",
/// <https://docs.aws.amazon.com/connect/latest/APIReference/eventual-consistency.html>), so a
/// contact that disconnected just before the previous run may only show now.
pub const SEARCH_OVERLAP: Duration = Duration::from_secs(10 * 60);
/// How recent a disconnect the search leaves to the stream: its DISCONNECTED is normally
/// seconds behind, and healing it first would count as a loss what only was in flight.
pub const SEARCH_GRACE: Duration = Duration::from_secs(60);
/// `SearchContacts` pages one run reads per instance at most (100 contacts a page): far more
/// than a 20-minute window holds in a center of 10,000 contacts a day (~140).
pub const SEARCH_PAGES_MAX: usize = 20;

/// The scheduled time of the run (EventBridge's envelope `time`); any other payload (a manual
/// invoke) runs as of `now`. The search's window starts from it.
pub fn scheduled_at(payload: Value, now: SystemTime) -> SystemTime {
    serde_json::from_value::<EventBridgeEvent>(payload)
        .ok()
        .and_then(|scheduled| scheduled.time)
        .map(SystemTime::from)
        .filter(|at| *at <= now)
        .unwrap_or(now)
}

/// The disconnects a run searches: from a little before the previous run (`every` before this
/// one's schedule, less the overlap) to a little before now (the grace).
pub fn search_window(
    scheduled: SystemTime,
    every: Duration,
    now: SystemTime,
) -> (SystemTime, SystemTime) {
    let to = now - SEARCH_GRACE;
    let from = scheduled - every - SEARCH_OVERLAP;
    (from.min(to), to)
}

/// Looks that fit in `left` at `calls_per_second`: the first starts at once, each next one a
/// pacing interval later, and the last must end (at worst [`LOOK_TIMEOUT`] after it starts)
/// before the deadline.
pub fn calls_per_run(left: Duration, calls_per_second: f64) -> usize {
    let Some(room) = left.checked_sub(LOOK_TIMEOUT) else {
        return 0;
    };
    (room.as_secs_f64() * calls_per_second).floor() as usize + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scheduled_run_is_of_its_events_time_and_any_other_of_now() {
        let scheduled = serde_json::json!({
            "version": "0", "id": "1", "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "111122223333", "time": "2024-05-06T10:05:00Z", "region": "us-east-1",
            "resources": [], "detail": {}
        });
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_714_989_900);
        let now = at + Duration::from_secs(40);
        assert_eq!(scheduled_at(scheduled.clone(), now), at);
        assert_eq!(scheduled_at(serde_json::json!({}), now), now);
        // A clock behind the schedule's: now.
        assert_eq!(
            scheduled_at(scheduled, at - Duration::from_secs(1)),
            at - Duration::from_secs(1)
        );
    }

    #[test]
    fn the_search_reaches_back_past_the_previous_run_and_leaves_the_last_minute_to_the_stream() {
        let scheduled = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let now = scheduled + Duration::from_secs(2);
        let (from, to) = search_window(scheduled, Duration::from_secs(300), now);
        assert_eq!(
            scheduled.duration_since(from).ok(),
            Some(Duration::from_secs(300 + 600))
        );
        assert_eq!(now.duration_since(to).ok(), Some(SEARCH_GRACE));
    }

    #[test]
    fn a_run_at_the_defaults_fits_fifty_four_looks_and_none_without_room_for_one() {
        let left = BUDGET.timeout - BUDGET.reserve;
        assert_eq!(calls_per_run(left, 1.0), 54);
        assert_eq!(calls_per_run(left, 2.0), 107);
        assert_eq!(calls_per_run(LOOK_TIMEOUT, 1.0), 1);
        assert_eq!(
            calls_per_run(LOOK_TIMEOUT - Duration::from_millis(1), 1.0),
            0
        );
    }

    #[test]
    fn a_run_without_a_deadline_has_the_templates_timeout_less_the_reserve() {
        let now = SystemTime::now();
        assert_eq!(
            BUDGET.left(SystemTime::UNIX_EPOCH, now),
            Duration::from_secs(59)
        );
        assert_eq!(
            BUDGET.left(now + Duration::from_secs(30), now),
            Duration::from_secs(29)
        );
    }

    /// Ghost lifetimes under the search's window: runs every 5 minutes, each invoked up to 40 s
    /// late, and Connect's search showing a disconnect 0 to 5 minutes late (its eventual
    /// consistency). Every disconnect of a day is inside some run's window once the search shows
    /// it (the windows leave no gap, whatever the delays), and heals at the first such run — the
    /// first or, for a disconnect within the last minute before it (the grace), the second run
    /// after the search shows it: the lifetime in runs and minutes, p50 and max.
    #[test]
    fn every_lost_disconnect_heals_within_one_period_of_the_search_showing_it() {
        let every = Duration::from_secs(300);
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_714_953_600);
        let runs: Vec<(SystemTime, (SystemTime, SystemTime))> = (0..300u64)
            .map(|k| {
                let scheduled = start + every * k as u32;
                let now = scheduled + Duration::from_secs(k * 7_919 % 41);
                (now, search_window(scheduled, every, now))
            })
            .collect();
        for delay in [
            Duration::ZERO,
            Duration::from_secs(120),
            Duration::from_secs(300),
        ] {
            let mut lifetimes: Vec<(usize, Duration)> = (0..2_000u64)
                .map(|n| {
                    // Disconnects spread over the day, past the first window.
                    let at = start + Duration::from_secs(900 + n * 40_009 % 86_000);
                    let (run, (now, _)) = runs
                        .iter()
                        .enumerate()
                        .find(|(_, (now, (from, to)))| {
                            *from <= at && at <= *to && at + delay <= *now
                        })
                        .expect("a run heals it");
                    let lost_for = now.duration_since(at).unwrap_or_default();
                    let first_after = runs
                        .iter()
                        .position(|(now, _)| *now >= at + delay)
                        .unwrap_or(run);
                    (run - first_after + 1, lost_for)
                })
                .collect();
            lifetimes.sort_by_key(|(_, lost_for)| *lost_for);
            let p50 = lifetimes[lifetimes.len() / 2].1;
            let max = lifetimes
                .iter()
                .map(|(_, lost_for)| *lost_for)
                .max()
                .unwrap_or_default();
            let most_runs = lifetimes
                .iter()
                .map(|(runs, _)| *runs)
                .max()
                .unwrap_or_default();
            // Within one period of the search showing it, plus the grace and the invocation's delay.
            assert!(
                max <= delay + every + SEARCH_GRACE + Duration::from_secs(41),
                "{max:?}"
            );
            assert!(most_runs <= 2, "{most_runs}");
            println!(
                "search delay {:>3} s: ghost lifetime p50 {:.1} min, max {:.1} min; at most {most_runs} runs after the search shows it",
                delay.as_secs(),
                p50.as_secs_f64() / 60.0,
                max.as_secs_f64() / 60.0,
            );
        }
    }
}
