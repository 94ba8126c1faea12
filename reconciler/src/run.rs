//! One run of the reconciler: list the views' entries, choose those listed longer than their
//! view's threshold, ask Connect about each (paced under its quota), apply what it says through
//! the core's rules and the table's conditional writes, and log one line per contact looked at
//! plus one for the run. Bounded by `max_contacts` and by the invocation's deadline; whatever a
//! run leaves, the next one lists again.

use std::collections::HashSet;
use std::time::{Duration, Instant, SystemTime};

use lambda_runtime::tracing::{self, Level};

use connect_contact_state::dynamodb::DynamoDbStore;
use connect_contact_state::view_reader;
use contact_state_core::apply::{Target, apply};
use contact_state_core::outcome::{Outcome, Tally};
use contact_state_core::recent::RecentItems;
use contact_state_core::reconcile::{self, Verdict};
use contact_state_core::views::VIEWS;

use crate::config::Settings;
use crate::connect::{Answer, Connect};

/// Time kept back at the end of a run: the summary line, and the answer to Lambda.
pub const RESERVE: Duration = Duration::from_secs(1);

/// The table, as the run reads and writes it.
pub struct Table<'a> {
    pub client: &'a aws_sdk_dynamodb::Client,
    pub name: &'a str,
    pub store: &'a DynamoDbStore,
    pub retention_days: u32,
}

/// What one run did: the counts of its summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
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
            settings.queued_after
        } else {
            settings.with_agent_after
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

/// One run, until `deadline`. `turn` tells runs apart (the schedule's minute).
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
        if let Some(arn) = settings.instance_arn.as_deref()
            && arn != contact.instance_arn
        {
            summary.unknown += 1;
            log(contact, &Verdict::Unknown, Some("another instance"));
            continue;
        }
        // Stop while a whole look (the call, two writes) still fits before the deadline.
        if Instant::now() + Connect::longest_call() + RESERVE > deadline {
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
        let received_at = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |since| since.as_secs() as i64);
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
