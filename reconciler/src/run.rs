//! One run of the reconciler: list the views' entries, choose those listed longer than their
//! view's threshold, ask Connect about each (paced under its quota), apply what it says through
//! the core's rules and the table's conditional writes, and log one line per contact looked at
//! plus one for the run. Bounded by `max_contacts` and by the invocation's deadline; whatever a
//! run leaves, the next one lists again.

use std::collections::HashSet;
use std::time::{Duration, Instant, SystemTime};

use aws_lambda_events::eventbridge::EventBridgeEvent;
use serde::Serialize;
use serde_json::Value;

use lambda_runtime::tracing::{self, Level};

use connect_contact_state::budget::Budget;
use connect_contact_state::dynamodb::DynamoDbStore;
use connect_contact_state::view_reader;
use contact_state_core::apply::{Target, apply};
use contact_state_core::clock;
use contact_state_core::outcome::{Outcome, Tally};
use contact_state_core::recent::RecentItems;
use contact_state_core::reconcile::{self, Verdict};
use contact_state_core::views::VIEWS;

use crate::config::Settings;
use crate::connect::{Answer, Connect};

/// A run's budget: 1 s kept back at the end for the summary line and the answer to Lambda; the
/// template's 60 s timeout when Lambda gives no deadline (`cargo lambda invoke`, some emulators).
pub const BUDGET: Budget = Budget {
    reserve: Duration::from_secs(1),
    timeout: Duration::from_secs(60),
};

/// What tells runs apart: the minute of a scheduled event's time (EventBridge's envelope); any
/// other payload (a manual invoke) runs as of `now`.
pub fn turn_of(payload: Value, now: SystemTime) -> u64 {
    let scheduled = serde_json::from_value::<EventBridgeEvent>(payload)
        .ok()
        .and_then(|scheduled| scheduled.time)
        .map(|time| time.timestamp());
    let seconds = scheduled.unwrap_or_else(|| clock::epoch_seconds(now));
    u64::try_from(seconds / 60).unwrap_or(0)
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
    /// Entries of both views.
    pub listed: usize,
    /// Listed longer than their view's threshold.
    pub due: usize,
    pub connect_calls: usize,
    pub healed: usize,
    pub live: usize,
    pub current: usize,
    pub unknown: usize,
    pub failed: usize,
    /// Due contacts left to the next run (the per-run bound, or the deadline).
    pub left: usize,
}

/// A view entry listed longer than its threshold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub contact_id: String,
    pub view: &'static str,
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

/// The entries of both views listed longer than their thresholds, oldest first, each once.
pub async fn due(
    table: &Table<'_>,
    settings: &Settings,
    now: SystemTime,
) -> Result<(usize, Vec<Due>), view_reader::ReadError> {
    let mut listed = 0;
    let mut due = Vec::new();
    let mut seen = HashSet::new();
    for view in VIEWS {
        let threshold = if view.index == VIEWS.queued.index {
            settings.queued_after()
        } else {
            settings.with_agent_after()
        };
        let listing = view_reader::read(table.client, table.name, &view, None, now, None).await?;
        for group in listing.groups {
            listed += group.entries.len();
            let Some(instance_arn) = instance_of(&group.arn) else {
                continue;
            };
            for entry in group.entries {
                let listed_for = Duration::from_secs(entry.age_seconds);
                if listed_for >= threshold && seen.insert(entry.contact_id.clone()) {
                    due.push(Due {
                        contact_id: entry.contact_id,
                        view: view.index,
                        instance_arn: instance_arn.to_owned(),
                        listed_for,
                    });
                }
            }
        }
    }
    due.sort_by_key(|due| std::cmp::Reverse(due.listed_for));
    Ok((listed, due))
}

/// Which `max` of `due` this run looks at: a window that moves on by `max` every `turn`, so
/// that when more are due than one run can ask about, the next runs ask about the others (those
/// Connect says are live stay listed, and would otherwise fill every run).
pub fn window(due: usize, max: usize, turn: u64) -> impl Iterator<Item = usize> {
    let start = if due > max {
        (turn as usize).wrapping_mul(max) % due
    } else {
        0
    };
    (0..due.min(max)).map(move |i| (start + i) % due.max(1))
}

/// One run, until `deadline` (the budget's end: the reserve is already kept back). `turn` tells
/// runs apart ([`turn_of`]).
pub async fn run(
    table: &Table<'_>,
    connect: &Connect,
    settings: &Settings,
    deadline: Instant,
    turn: u64,
) -> Result<Summary, view_reader::ReadError> {
    let now = SystemTime::now();
    let (listed, due) = due(table, settings, now).await?;
    let mut summary = Summary {
        listed,
        due: due.len(),
        ..Summary::default()
    };
    let recent = RecentItems::default();
    let target = Target {
        store: table.store,
        recent: &recent,
        retention_days: table.retention_days,
        views: true,
    };
    let mut pace = tokio::time::interval(Duration::from_secs_f64(1.0 / settings.calls_per_second));
    pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let chosen: Vec<usize> = window(due.len(), settings.max_contacts, turn).collect();
    summary.left = due.len() - chosen.len();
    for (done, index) in chosen.iter().enumerate() {
        let Some(contact) = due.get(*index) else {
            continue;
        };
        if let Some(arn) = settings.instance_arn()
            && arn != contact.instance_arn
        {
            summary.unknown += 1;
            log(contact, &Verdict::Unknown, Some("another instance"));
            continue;
        }
        // Stop while a whole look (the call, two writes) still fits before the deadline.
        if Instant::now() + Connect::longest_call() > deadline {
            summary.left += chosen.len() - done;
            break;
        }
        pace.tick().await;
        summary.connect_calls += 1;
        let says = match connect
            .describe(&contact.instance_arn, &contact.contact_id)
            .await
        {
            Ok(Answer::Known(says)) => says,
            Ok(Answer::Unknown) => {
                summary.unknown += 1;
                log(contact, &Verdict::Unknown, Some("not found"));
                continue;
            }
            Err(error) => {
                summary.failed += 1;
                failed(contact, &error.to_string());
                continue;
            }
        };
        let received_at = clock::now_seconds();
        let mut outcomes = Vec::new();
        for event in reconcile::events(&says) {
            let mut tally = Tally::default();
            outcomes.push(apply(&target, &event, received_at, &mut tally).await);
        }
        if let Some(Outcome::Failed(failure)) = outcomes.iter().find(|o| o.is_error()) {
            summary.failed += 1;
            failed(contact, &failure.to_string());
            continue;
        }
        let verdict = Verdict::of(&says, &outcomes);
        match verdict {
            Verdict::Healed { .. } => summary.healed += 1,
            Verdict::Live => summary.live += 1,
            Verdict::Current => summary.current += 1,
            Verdict::Unknown => summary.unknown += 1,
        }
        log(contact, &verdict, None);
    }
    tracing::event!(
        Level::INFO,
        reconcile = "run",
        listed = summary.listed,
        due = summary.due,
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

/// One line per contact looked at (docs/operations.md, the reconciler's log lines).
fn log(contact: &Due, verdict: &Verdict, reason: Option<&str>) {
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
            listedSeconds = listed,
            stateBefore = state_before.as_deref().unwrap_or(""),
            state = state.as_deref().unwrap_or(""),
        ),
        (_, Some(reason)) => tracing::event!(
            Level::INFO,
            contactId = contact.contact_id,
            outcome = verdict.name(),
            view = contact.view,
            listedSeconds = listed,
            reason = reason,
        ),
        (_, None) => tracing::event!(
            Level::INFO,
            contactId = contact.contact_id,
            outcome = verdict.name(),
            view = contact.view,
            listedSeconds = listed,
        ),
    }
}

fn failed(contact: &Due, error: &str) {
    tracing::event!(
        Level::WARN,
        contactId = contact.contact_id,
        outcome = "failed",
        view = contact.view,
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
    fn a_scheduled_run_turns_on_its_events_minute_and_any_other_on_now() {
        let scheduled = serde_json::json!({
            "version": "0", "id": "1", "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "111122223333", "time": "2024-05-06T10:05:00Z", "region": "us-east-1",
            "resources": [], "detail": {}
        });
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000 * 60 + 59);
        assert_eq!(turn_of(scheduled, now), 1_714_989_900 / 60);
        assert_eq!(turn_of(serde_json::json!({}), now), 1_000_000);
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

    #[test]
    fn a_window_covers_everything_due_over_successive_runs() {
        assert_eq!(window(3, 10, 7).collect::<Vec<_>>(), [0, 1, 2]);
        let mut seen = HashSet::new();
        for turn in 0..4 {
            let chosen: Vec<_> = window(10, 3, turn).collect();
            assert_eq!(chosen.len(), 3);
            seen.extend(chosen);
        }
        assert_eq!(seen.len(), 10);
        assert_eq!(window(0, 3, 1).count(), 0);
    }
}
