//! The ordering rules of docs/contract.md ("Ordering rules"),
//! as pure functions over plain values: no I/O, no AWS types.
//!
//! Every rule is reduced to an *ordering key*, a number that only grows along a contact's true
//! history. The store keeps the key of what it holds and accepts a value only with a larger key,
//! so the item converges to the true-order result whatever order the events arrive in.

/// A lifecycle stage, in the order docs/contract.md ranks them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lifecycle {
    Initiated,
    ConnectedToSystem,
    Queued,
    ConnectedToAgent,
    Paused,
    Resumed,
    Disconnected,
    Completed,
}

impl Lifecycle {
    pub const ALL: [Lifecycle; 8] = [
        Lifecycle::Initiated,
        Lifecycle::ConnectedToSystem,
        Lifecycle::Queued,
        Lifecycle::ConnectedToAgent,
        Lifecycle::Paused,
        Lifecycle::Resumed,
        Lifecycle::Disconnected,
        Lifecycle::Completed,
    ];

    /// The `eventType` (and stored `state`) spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Lifecycle::Initiated => "INITIATED",
            Lifecycle::ConnectedToSystem => "CONNECTED_TO_SYSTEM",
            Lifecycle::Queued => "QUEUED",
            Lifecycle::ConnectedToAgent => "CONNECTED_TO_AGENT",
            Lifecycle::Paused => "PAUSED",
            Lifecycle::Resumed => "RESUMED",
            Lifecycle::Disconnected => "DISCONNECTED",
            Lifecycle::Completed => "COMPLETED",
        }
    }

    pub fn from_event_type(event_type: &str) -> Option<Lifecycle> {
        Lifecycle::ALL
            .into_iter()
            .find(|stage| stage.as_str() == event_type)
    }

    /// `PAUSED` and `RESUMED` share one rank: between them the event time decides.
    fn rank(self) -> u64 {
        match self {
            Lifecycle::Initiated => 1,
            Lifecycle::ConnectedToSystem => 2,
            Lifecycle::Queued => 3,
            Lifecycle::ConnectedToAgent => 4,
            Lifecycle::Paused | Lifecycle::Resumed => 5,
            Lifecycle::Disconnected => 6,
            Lifecycle::Completed => 7,
        }
    }
}

/// Room for the time part of a state key: epoch seconds × 2 stays below it until year 3000.
const STATE_RANK_UNIT: u64 = 100_000_000_000;

/// Ordering key of `state`: the furthest lifecycle stage wins; between `PAUSED` and `RESUMED` the
/// later event time wins. The envelope `time` has one-second resolution, so a pause and a resume
/// in the same second tie on time; the tie goes to `RESUMED` (a task paused and resumed within a
/// second is running), which keeps the result independent of arrival order.
///
/// Other stages carry no time in their key: a second `QUEUED` is a duplicate, not news.
pub fn state_key(stage: Lifecycle, event_time: i64) -> u64 {
    let rank = stage.rank() * STATE_RANK_UNIT;
    match stage {
        Lifecycle::Paused | Lifecycle::Resumed => {
            let seconds = u64::try_from(event_time).unwrap_or(0);
            let time_part = (seconds.saturating_mul(2) + u64::from(stage == Lifecycle::Resumed))
                .min(STATE_RANK_UNIT - 1);
            rank + time_part
        }
        _ => rank,
    }
}

/// How far one routing step has progressed: it only ever moves
/// `INACTIVE` → `ACTIVE` → `JOINED` | `EXPIRED` | `DEACTIVATED` | `INTERRUPTED`.
/// Unknown statuses (the stream adds values over time) count as final, as every status added
/// so far has been.
pub fn step_progress(status: &str) -> u64 {
    match status {
        "INACTIVE" => 0,
        "ACTIVE" => 1,
        _ => 2,
    }
}

/// Room for each part of a routing key.
const ROUTING_INDEX_UNIT: u64 = 1_000_000;
const ROUTING_PROGRESS_UNIT: u64 = 1_000;

/// Ordering key of the routing snapshot: a higher criteria index wins; within one index, the
/// snapshot whose steps have progressed further wins. Progress is the sum of the steps' progress
/// (each step only moves forward, so a later snapshot never sums lower); a snapshot that learnt a
/// step's expiry timestamp, or the criteria's activation time, ranks above one that did not, so
/// equal keys mean equal snapshots.
pub fn routing_key<'a>(
    index: u32,
    activated: bool,
    steps: impl IntoIterator<Item = (&'a str, bool)>,
) -> u64 {
    let (progress, known) = steps.into_iter().fold(
        (0u64, u64::from(activated)),
        |(progress, known), (status, has_expiry)| {
            (
                progress + step_progress(status),
                known + u64::from(has_expiry),
            )
        },
    );
    let within_index = progress.min(ROUTING_INDEX_UNIT / ROUTING_PROGRESS_UNIT - 1)
        * ROUTING_PROGRESS_UNIT
        + known.min(ROUTING_PROGRESS_UNIT - 1);
    u64::from(index) * ROUTING_INDEX_UNIT + within_index
}

/// Room for the time part of a snapshot key, and within it for how much the snapshot knows.
const SNAPSHOT_TIME_UNIT: u64 = 1_000_000;
const SNAPSHOT_KNOWN_UNIT: u64 = 100_000;

/// FNV-1a over `parts`, each followed by a separator: stable across builds and platforms (the
/// keys it goes into are stored).
fn fnv<'a>(parts: impl IntoIterator<Item = &'a str>) -> u64 {
    parts
        .into_iter()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, part| {
            part.bytes().chain([0xff]).fold(hash, |hash, byte| {
                (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
            })
        })
}

/// A snapshot's key: the later `time` wins; at one time, the snapshot that knows more values
/// (`known`), then the content's hash, so that equal keys mean equal snapshots (the store may
/// accept an equal key: writing the same snapshot again changes nothing) and the result does
/// not depend on arrival order.
fn snapshot_key<'a>(time: u64, known: usize, content: impl IntoIterator<Item = &'a str>) -> u64 {
    let known = (known as u64).min(SNAPSHOT_TIME_UNIT / SNAPSHOT_KNOWN_UNIT - 1);
    time.min(u64::MAX / SNAPSHOT_TIME_UNIT - 1)
        .saturating_mul(SNAPSHOT_TIME_UNIT)
        .saturating_add(known * SNAPSHOT_KNOWN_UNIT)
        .saturating_add(fnv(content) % SNAPSHOT_KNOWN_UNIT)
}

/// Ordering key of a place (queue or agent) with its details: the pair with the latest real
/// timestamp wins (`since_millis`, epoch milliseconds); an ARN without one ranks below every pair
/// that has one. Events of one pair that differ in what they say of the queue or agent rank by
/// how many details they carry, then by content: the result never depends on arrival order.
pub fn place_key<'a>(
    arn: &'a str,
    details: impl IntoIterator<Item = &'a str>,
    known_details: usize,
    since_millis: Option<i64>,
) -> u64 {
    let since = since_millis.map_or(0, |ms| u64::try_from(ms).unwrap_or(0));
    snapshot_key(since, known_details, std::iter::once(arn).chain(details))
}

/// Ordering key of the user tags an event carries: the latest event's wins (`event_time`, epoch
/// seconds); events of one second rank by how many tags they carry, then by content.
pub fn tags_key(event_time: i64, tags: &[(String, String)]) -> u64 {
    let content = tags
        .iter()
        .flat_map(|(key, value)| [key.as_str(), value.as_str()]);
    snapshot_key(u64::try_from(event_time).unwrap_or(0), tags.len(), content)
}

/// Connect sends `1970-01-01T00:00:00.001Z` for timestamps that are not set; they are never stored.
pub fn is_placeholder_timestamp(timestamp: &str) -> bool {
    timestamp.starts_with("1970-01-01T")
}

/// `expiresAt` (the table's TTL attribute): retention counted from the contact's latest event.
pub fn expires_at(latest_event_time: i64, retention_days: u32) -> i64 {
    latest_event_time.saturating_add(i64::from(retention_days) * 86_400)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_700_000_000;

    #[test]
    fn a_place_with_a_later_real_timestamp_wins_and_an_arn_alone_ranks_below_any() {
        let earlier = place_key("arn:queue/a", [], 0, Some(1_700_000_000_000));
        let later = place_key("arn:queue/b", [], 0, Some(1_700_000_000_001));
        assert!(earlier < later);
        assert!(place_key("arn:queue/z", [], 0, None) < place_key("arn:queue/a", [], 0, Some(1)));
        assert_eq!(
            place_key("arn:queue/a", [], 0, None),
            place_key("arn:queue/a", [], 0, None)
        );
        assert_ne!(
            place_key("arn:queue/a", [], 0, Some(5)),
            place_key("arn:queue/b", [], 0, Some(5))
        );
    }

    #[test]
    fn a_pair_that_says_more_of_its_queue_or_agent_wins_over_the_same_pair_saying_less() {
        let bare = place_key("arn:agent/a", [], 0, Some(5));
        let with_group = place_key("arn:agent/a", ["g-1"], 1, Some(5));
        assert!(bare < with_group);
        assert!(with_group < place_key("arn:agent/b", [], 0, Some(6)));
        assert_ne!(with_group, place_key("arn:agent/a", ["g-2"], 1, Some(5)));
    }

    #[test]
    fn the_latest_events_tags_win_and_at_one_time_the_fuller_snapshot() {
        let tags = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let one = tags(&[("Dept", "Sales")]);
        let two = tags(&[("Dept", "Sales"), ("Priority", "high")]);
        assert!(tags_key(T, &two) < tags_key(T + 1, &one));
        assert!(tags_key(T, &one) < tags_key(T, &two));
        assert_eq!(tags_key(T, &one), tags_key(T, &one));
    }

    #[test]
    fn state_is_the_furthest_lifecycle_stage_reached() {
        let order = [
            Lifecycle::Initiated,
            Lifecycle::ConnectedToSystem,
            Lifecycle::Queued,
            Lifecycle::ConnectedToAgent,
            Lifecycle::Paused,
            Lifecycle::Disconnected,
            Lifecycle::Completed,
        ];
        for pair in order.windows(2) {
            // An earlier stage loses even when its event time is later.
            assert!(
                state_key(pair[0], T + 1_000) < state_key(pair[1], T),
                "{pair:?}"
            );
        }
        assert!(state_key(Lifecycle::Resumed, T + 1_000) < state_key(Lifecycle::Disconnected, T));
        assert!(state_key(Lifecycle::ConnectedToAgent, T) < state_key(Lifecycle::Resumed, 0));
    }

    #[test]
    fn between_paused_and_resumed_the_later_event_time_wins() {
        assert!(state_key(Lifecycle::Paused, T) < state_key(Lifecycle::Resumed, T + 1));
        assert!(state_key(Lifecycle::Resumed, T) < state_key(Lifecycle::Paused, T + 1));
        assert!(state_key(Lifecycle::Paused, T) < state_key(Lifecycle::Paused, T + 1));
    }

    #[test]
    fn a_pause_and_a_resume_in_the_same_second_end_resumed() {
        assert!(state_key(Lifecycle::Paused, T) < state_key(Lifecycle::Resumed, T));
    }

    #[test]
    fn a_repeated_stage_is_not_news() {
        assert_eq!(
            state_key(Lifecycle::Queued, T),
            state_key(Lifecycle::Queued, T + 60)
        );
        assert_eq!(
            state_key(Lifecycle::Paused, T),
            state_key(Lifecycle::Paused, T)
        );
    }

    #[test]
    fn state_keys_survive_absurd_times() {
        assert!(state_key(Lifecycle::Resumed, i64::MAX) < state_key(Lifecycle::Disconnected, 0));
        assert!(state_key(Lifecycle::Paused, i64::MIN) > state_key(Lifecycle::ConnectedToAgent, 0));
    }

    #[test]
    fn every_event_type_spelling_maps_to_its_stage() {
        for stage in Lifecycle::ALL {
            assert_eq!(Lifecycle::from_event_type(stage.as_str()), Some(stage));
        }
        assert_eq!(Lifecycle::from_event_type("CONTACT_DATA_UPDATED"), None);
        assert_eq!(Lifecycle::from_event_type("queued"), None);
    }

    #[test]
    fn a_higher_routing_criteria_index_wins() {
        let done = [("JOINED", true), ("EXPIRED", true), ("EXPIRED", true)];
        let fresh = [("INACTIVE", false)];
        assert!(routing_key(0, false, done) < routing_key(1, false, fresh));
    }

    #[test]
    fn within_one_index_the_snapshot_whose_steps_progressed_further_wins() {
        let first = routing_key(1, false, [("ACTIVE", false), ("INACTIVE", false)]);
        let expired = routing_key(1, false, [("EXPIRED", true), ("ACTIVE", false)]);
        let joined = routing_key(1, false, [("EXPIRED", true), ("JOINED", false)]);
        assert!(first < expired);
        assert!(expired < joined);
    }

    #[test]
    fn step_statuses_rank_inactive_then_active_then_final() {
        assert!(step_progress("INACTIVE") < step_progress("ACTIVE"));
        for done in [
            "JOINED",
            "EXPIRED",
            "DEACTIVATED",
            "INTERRUPTED",
            "SOMETHING_NEW",
        ] {
            assert!(step_progress("ACTIVE") < step_progress(done), "{done}");
        }
    }

    #[test]
    fn a_snapshot_that_learnt_an_expiry_timestamp_ranks_above_one_that_did_not() {
        assert!(
            routing_key(0, false, [("ACTIVE", false)]) < routing_key(0, false, [("ACTIVE", true)])
        );
        assert!(
            routing_key(0, false, [("ACTIVE", true)]) < routing_key(0, false, [("EXPIRED", false)])
        );
    }

    #[test]
    fn placeholder_timestamps_are_recognised() {
        assert!(is_placeholder_timestamp("1970-01-01T00:00:00.001Z"));
        assert!(!is_placeholder_timestamp("2023-11-01T18:33:01.736Z"));
    }

    #[test]
    fn items_expire_retention_days_after_their_latest_event() {
        assert_eq!(expires_at(T, 90), T + 90 * 86_400);
        assert_eq!(expires_at(i64::MAX, 90), i64::MAX);
    }
}
