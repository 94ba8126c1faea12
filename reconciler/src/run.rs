//! One run of the reconciler: list the views' entries; first search Connect for the contacts
//! that disconnected since a little before the previous run (`SearchContacts`), and heal at once
//! every listed one it shows, whatever its age; then ask Connect (`DescribeContact`) about the
//! entries listed longer than their view's threshold, least recently asked first
//! ([`Rotation`]); apply what Connect says through the core's rules and the table's conditional
//! writes, and log one line per contact looked at plus one for the run. Every call is paced
//! under Connect's quota, and a look (the call and its writes) starts only while it fits before
//! the deadline; whatever a run leaves, the next one lists again.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use aws_lambda_events::eventbridge::EventBridgeEvent;
use serde::Serialize;
use serde_json::Value;
use tokio::time::Interval;

use lambda_runtime::tracing::{self, Level};

use connect_contact_state::budget::Budget;
use connect_contact_state::dynamodb::DynamoDbStore;
use connect_contact_state::view_reader;
use contact_state_core::apply::{Target, apply};
use contact_state_core::clock;
use contact_state_core::outcome::{Outcome, Tally};
use contact_state_core::recent::RecentItems;
use contact_state_core::reconcile::{self, ConnectSays, Verdict};
use contact_state_core::views::VIEWS;

use crate::config::Settings;
use crate::connect::{Answer, Connect, Moment, OPERATION_TIMEOUT};
use crate::rotation::Rotation;

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

/// The table, as the run reads and writes it.
pub struct Table<'a> {
    pub client: &'a aws_sdk_dynamodb::Client,
    pub name: &'a str,
    pub store: &'a DynamoDbStore,
    pub retention_days: u32,
}

/// What one run did: the counts of its summary line, and its answer to Lambda.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Contacts listed in the views.
    pub listed: usize,
    /// Listed contacts Connect's search shows disconnected (or, listed as waiting, connected to
    /// an agent): healed at once, whatever their age.
    pub disconnected: usize,
    /// Listed longer than their view's threshold (and not among the disconnected).
    pub due: usize,
    /// `SearchContacts` pages read.
    pub searches: usize,
    /// `DescribeContact` calls.
    pub connect_calls: usize,
    pub healed: usize,
    pub live: usize,
    pub current: usize,
    pub unknown: usize,
    pub failed: usize,
    /// Due contacts left to the next run (the per-run bound, or the deadline).
    pub left: usize,
}

/// A contact the views list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub contact_id: String,
    /// The view it was first seen in (`queued`, `withAgent`).
    pub view: &'static str,
    /// The queue and agent ARNs it is listed under.
    pub arns: Vec<String>,
    /// From the entry's queue or agent ARN (`…:instance/<id>/queue/<id>`).
    pub instance_arn: String,
    pub listed_for: Duration,
}

/// The instance ARN a queue or agent ARN belongs to.
pub fn instance_of(place_arn: &str) -> Option<&str> {
    let end = place_arn
        .find("/queue/")
        .or_else(|| place_arn.find("/agent/"))?;
    place_arn.get(..end)
}

/// Every contact of both views, each once (listed the longest of its entries), and the
/// number of entries.
pub async fn listed(
    table: &Table<'_>,
    now: SystemTime,
) -> Result<(usize, Vec<Listed>), view_reader::ReadError> {
    let mut entries = 0;
    let mut by_id: HashMap<String, Listed> = HashMap::new();
    for view in VIEWS {
        let listing = view_reader::read(table.client, table.name, &view, None, now, None).await?;
        if listing.truncated {
            // Still a run: the next ones list again, and heal what this one reaches.
            tracing::event!(
                Level::WARN,
                reconcile = "list",
                view = view.index,
                truncated = true
            );
        }
        for group in listing.groups {
            entries += group.entries.len();
            let Some(instance_arn) = instance_of(&group.arn) else {
                continue;
            };
            for entry in group.entries {
                let listed_for = Duration::from_secs(entry.age_seconds);
                let contact = by_id
                    .entry(entry.contact_id.clone())
                    .or_insert_with(|| Listed {
                        contact_id: entry.contact_id,
                        view: view.index,
                        arns: Vec::new(),
                        instance_arn: instance_arn.to_owned(),
                        listed_for,
                    });
                contact.arns.push(group.arn.clone());
                contact.listed_for = contact.listed_for.max(listed_for);
            }
        }
    }
    let mut listed: Vec<Listed> = by_id.into_values().collect();
    listed.sort_by(|a, b| a.contact_id.cmp(&b.contact_id));
    Ok((entries, listed))
}

/// Whether `contact` is listed longer than its view's threshold.
fn is_due(contact: &Listed, settings: &Settings) -> bool {
    let threshold = if contact.view == VIEWS.queued.index {
        settings.queued_after()
    } else {
        settings.with_agent_after()
    };
    contact.listed_for >= threshold
}

/// One run's calls and writes, until its deadline.
struct Run<'a> {
    table: &'a Table<'a>,
    connect: &'a Connect,
    settings: &'a Settings,
    recent: RecentItems,
    pace: Interval,
    deadline: Instant,
    summary: Summary,
}

/// How Connect's answer about a contact is had.
enum Ask {
    /// `DescribeContact`.
    Describe,
    /// What the search said (a contact without agent: nothing more to ask).
    Said(Box<ConnectSays>),
}

impl Run<'_> {
    /// Waits for the next call's turn (Connect's quota), and says whether a whole look still
    /// fits before the deadline after it.
    async fn turn(&mut self) -> bool {
        self.pace.tick().await;
        Instant::now() + LOOK_TIMEOUT <= self.deadline
    }

    /// The listed contacts Connect's search shows disconnected, and the contacts listed as
    /// waiting that it shows connected to an agent (a lost CONNECTED_TO_AGENT), of every
    /// instance listed: each once, with what the search said.
    async fn search(
        &mut self,
        listed: &[Listed],
        window: (SystemTime, SystemTime),
    ) -> Vec<(usize, Moment, ConnectSays)> {
        let by_id: HashMap<&str, usize> = listed
            .iter()
            .enumerate()
            .map(|(i, contact)| (contact.contact_id.as_str(), i))
            .collect();
        let instances: BTreeSet<&str> = listed
            .iter()
            .map(|contact| contact.instance_arn.as_str())
            .filter(|arn| self.settings.instance_arn().is_none_or(|only| only == *arn))
            .collect();
        let mut found: Vec<(usize, Moment, ConnectSays)> = Vec::new();
        let mut seen = HashSet::new();
        let searches = instances.into_iter().flat_map(|instance| {
            [
                (instance, Moment::Disconnected),
                (instance, Moment::ConnectedToAgent),
            ]
        });
        for (instance, moment) in searches {
            let mut token = None;
            for _ in 0..SEARCH_PAGES_MAX {
                if !self.turn().await {
                    return found;
                }
                self.summary.searches += 1;
                let page = tokio::time::timeout(
                    OPERATION_TIMEOUT,
                    self.connect.search(instance, moment, window, token.take()),
                )
                .await;
                let (contacts, next) = match page {
                    Ok(Ok(page)) => page,
                    Ok(Err(error)) => {
                        self.search_failed(instance, &error.to_string());
                        break;
                    }
                    Err(_) => {
                        self.search_failed(instance, "SearchContacts: timed out");
                        break;
                    }
                };
                for says in contacts {
                    let Some(&index) = by_id.get(says.contact_id.as_str()) else {
                        continue;
                    };
                    let Some(contact) = listed.get(index) else {
                        continue;
                    };
                    // Connected to an agent matters only to a contact still listed as waiting;
                    // one that also disconnected is the other search's.
                    let wanted = contact.instance_arn == instance
                        && match moment {
                            Moment::Disconnected => true,
                            Moment::ConnectedToAgent => {
                                contact.view == VIEWS.queued.index
                                    && says.disconnect_timestamp.is_none()
                            }
                        };
                    if wanted && seen.insert(index) {
                        found.push((index, moment, says));
                    }
                }
                match next {
                    Some(next) => token = Some(next),
                    None => break,
                }
            }
        }
        found
    }

    fn search_failed(&mut self, instance: &str, error: &str) {
        self.summary.failed += 1;
        tracing::event!(
            Level::WARN,
            reconcile = "search",
            instanceArn = instance,
            outcome = "failed",
            error = error,
        );
    }

    /// One look at `contact`: Connect's answer (asked, or as the search said), applied.
    async fn look(&mut self, contact: &Listed, ask: Ask, via: &'static str) {
        let looked = tokio::time::timeout(LOOK_TIMEOUT, self.answer_and_apply(contact, ask)).await;
        let verdict = match looked {
            Ok(Ok(Some(verdict))) => verdict,
            Ok(Ok(None)) => {
                self.summary.unknown += 1;
                log(contact, &Verdict::Unknown, via, Some("not found"));
                return;
            }
            Ok(Err(error)) => {
                self.summary.failed += 1;
                failed(contact, via, &error);
                return;
            }
            Err(_) => {
                self.summary.failed += 1;
                failed(contact, via, "the look timed out");
                return;
            }
        };
        match verdict {
            Verdict::Healed { .. } => self.summary.healed += 1,
            Verdict::Live => self.summary.live += 1,
            Verdict::Current => self.summary.current += 1,
            Verdict::Unknown => self.summary.unknown += 1,
        }
        log(contact, &verdict, via, None);
    }

    /// Connect's answer about `contact`, applied: its verdict, or `None` when Connect does not
    /// know the contact.
    async fn answer_and_apply(
        &mut self,
        contact: &Listed,
        ask: Ask,
    ) -> Result<Option<Verdict>, String> {
        let mut says = match ask {
            Ask::Said(says) => says,
            Ask::Describe => {
                self.summary.connect_calls += 1;
                match self
                    .connect
                    .describe(&contact.instance_arn, &contact.contact_id)
                    .await
                    .map_err(|error| error.to_string())?
                {
                    Answer::Known(says) => says,
                    Answer::Unknown => return Ok(None),
                }
            }
        };
        says.listed_arns.clone_from(&contact.arns);
        let target = Target {
            store: self.table.store,
            recent: &self.recent,
            retention_days: self.table.retention_days,
            views: true,
        };
        let received_at = clock::now_seconds();
        let mut outcomes = Vec::new();
        for event in reconcile::events(&says) {
            let mut tally = Tally::default();
            outcomes.push(apply(&target, &event, received_at, &mut tally).await);
        }
        if let Some(Outcome::Failed(failure)) = outcomes.iter().find(|o| o.is_error()) {
            return Err(failure.to_string());
        }
        Ok(Some(Verdict::of(&says, &outcomes)))
    }
}

/// One run, until `deadline` (the budget's end: the reserve is already kept back), scheduled
/// at `scheduled` ([`scheduled_at`]). `rotation` is the environment's memory of whom it asked.
pub async fn run(
    table: &Table<'_>,
    connect: &Connect,
    settings: &Settings,
    rotation: &Mutex<Rotation>,
    deadline: Instant,
    scheduled: SystemTime,
) -> Result<Summary, view_reader::ReadError> {
    let now = SystemTime::now();
    let (entries, listed) = listed(table, now).await.inspect_err(|error| {
        // The run's own line says why it failed, not only the Errors metric.
        tracing::event!(Level::ERROR, reconcile = "run", outcome = "failed", error = %error);
    })?;
    let mut pace = tokio::time::interval(Duration::from_secs_f64(1.0 / settings.calls_per_second));
    pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut run = Run {
        table,
        connect,
        settings,
        recent: RecentItems::default(),
        pace,
        deadline,
        summary: Summary {
            listed: entries,
            ..Summary::default()
        },
    };

    // 1. What Connect's search shows: lost events, whatever their age.
    let window = search_window(scheduled, settings.every(), now);
    let disconnected = if listed.is_empty() {
        Vec::new()
    } else {
        run.search(&listed, window).await
    };
    run.summary.disconnected = disconnected.len();
    let mut done: HashSet<usize> = HashSet::new();
    for (index, moment, says) in disconnected {
        let Some(contact) = listed.get(index) else {
            continue;
        };
        done.insert(index);
        // The search gives no after-contact work: a disconnected contact that had an agent is
        // described.
        let ask = if moment == Moment::Disconnected && says.agent.is_some() {
            Ask::Describe
        } else {
            Ask::Said(Box::new(says))
        };
        if matches!(ask, Ask::Describe) && !run.turn().await {
            break;
        }
        run.look(contact, ask, "search").await;
    }

    // 2. The contacts listed for long, least recently asked first.
    let due: Vec<&Listed> = listed
        .iter()
        .enumerate()
        .filter(|(index, contact)| !done.contains(index) && is_due(contact, settings))
        .map(|(_, contact)| contact)
        .collect();
    run.summary.due = due.len();
    let order = {
        let keys: Vec<(&str, Duration)> = due
            .iter()
            .map(|contact| (contact.contact_id.as_str(), contact.listed_for))
            .collect();
        rotation
            .lock()
            .map(|mut rotation| rotation.order(&keys))
            .unwrap_or_else(|_| (0..due.len()).collect())
    };
    let (mut asked, mut elsewhere) = (0, 0);
    for index in order {
        let Some(contact) = due.get(index).copied() else {
            continue;
        };
        if settings
            .instance_arn()
            .is_some_and(|only| only != contact.instance_arn)
        {
            run.summary.unknown += 1;
            elsewhere += 1;
            log(
                contact,
                &Verdict::Unknown,
                "describe",
                Some("another instance"),
            );
            continue;
        }
        if asked == settings.max_contacts || !run.turn().await {
            break;
        }
        asked += 1;
        run.look(contact, Ask::Describe, "describe").await;
        if let Ok(mut rotation) = rotation.lock() {
            rotation.asked(&contact.contact_id);
        }
    }
    let summary = Summary {
        left: run.summary.due - asked - elsewhere,
        ..run.summary
    };
    tracing::event!(
        Level::INFO,
        reconcile = "run",
        listed = summary.listed,
        disconnected = summary.disconnected,
        due = summary.due,
        searches = summary.searches,
        connectCalls = summary.connect_calls,
        healed = summary.healed,
        live = summary.live,
        current = summary.current,
        unknown = summary.unknown,
        failed = summary.failed,
        left = summary.left,
    );
    Ok(summary)
}

/// One line per contact looked at (docs/operations.md, the reconciler's log lines): `via` says
/// whether the search showed it disconnected or it was described for being listed long.
fn log(contact: &Listed, verdict: &Verdict, via: &'static str, reason: Option<&str>) {
    let listed = contact.listed_for.as_secs();
    match (verdict, reason) {
        (
            Verdict::Healed {
                state_before,
                state,
            },
            _,
        ) => tracing::event!(
            Level::INFO,
            contactId = contact.contact_id,
            outcome = verdict.name(),
            view = contact.view,
            via = via,
            listedSeconds = listed,
            stateBefore = state_before.as_deref().unwrap_or(""),
            state = state.as_deref().unwrap_or(""),
        ),
        (_, Some(reason)) => tracing::event!(
            Level::INFO,
            contactId = contact.contact_id,
            outcome = verdict.name(),
            view = contact.view,
            via = via,
            listedSeconds = listed,
            reason = reason,
        ),
        (_, None) => tracing::event!(
            Level::INFO,
            contactId = contact.contact_id,
            outcome = verdict.name(),
            view = contact.view,
            via = via,
            listedSeconds = listed,
        ),
    }
}

fn failed(contact: &Listed, via: &'static str, error: &str) {
    tracing::event!(
        Level::WARN,
        contactId = contact.contact_id,
        outcome = "failed",
        view = contact.view,
        via = via,
        listedSeconds = contact.listed_for.as_secs(),
        error = error,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_instance_is_the_arn_before_the_queue_or_agent() {
        let instance = "arn:aws:connect:us-east-1:111122223333:instance/i-1";
        assert_eq!(
            instance_of(&format!("{instance}/queue/q-1")),
            Some(instance)
        );
        assert_eq!(
            instance_of(&format!("{instance}/agent/a-1")),
            Some(instance)
        );
        assert_eq!(instance_of("arn:q"), None);
    }

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
