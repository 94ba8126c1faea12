//! One event against the table: plan against what is [`Known`] of the item (nothing, at first),
//! write conditionally, and on rejection plan again against the item the store handed back
//! (never a read), until the item reflects the event. Bounded by [`MAX_WRITES`]; the caller
//! bounds it in time (the tally survives a timeout).

use std::time::Instant;

use crate::event::ContactEvent;
use crate::known::{Known, MAX_AGE};
use crate::ordering::expires_at;
use crate::outcome::{Failure, Outcome, Tally};
use crate::plan::{MAX_WRITES, Plan, Stored};
use crate::store::{ContactStore, WriteOutcome};

/// Applies `event` (received at `received_at`, epoch seconds) to its item in `store`, counting
/// requests, rejections, retries and time spent in `tally`, and keeping `known` up to date.
pub async fn apply<S: ContactStore>(
    store: &S,
    known: &Known,
    event: &ContactEvent,
    received_at: i64,
    retention_days: u32,
    tally: &mut Tally,
) -> Outcome {
    let Some(plan) = Plan::from_event(event, received_at, retention_days) else {
        return Outcome::Ignored;
    };
    // Optimistic: assume the item holds nothing newer than what we last heard of it; a
    // rejection tells us what it holds.
    let contact_id = event.contact_id.as_str();
    let mut stored = known.get(contact_id).unwrap_or_default();
    let remember = |stored: &Stored| {
        // Only while TTL cannot delete the item behind our back.
        let far_from_expiry = stored.last_event_at.is_some_and(|latest| {
            expires_at(latest, retention_days) > received_at + MAX_AGE.as_secs() as i64 * 2
        });
        if far_from_expiry {
            known.remember(contact_id, stored.clone());
        }
    };
    for _ in 0..MAX_WRITES {
        let Some(write) = plan.write_against(&stored) else {
            return nothing_to_write(&plan, stored);
        };
        tally.requests += 1;
        let started = Instant::now();
        let answer = store.write(&write).await;
        tally.store_time += started.elapsed();
        let answer = match answer {
            Ok(answer) => answer,
            Err(error) => {
                known.forget(contact_id);
                return Outcome::Failed(Failure::Store(error));
            }
        };
        tally.retries += answer.retries;
        tally.write_units += answer.write_units;
        match answer.outcome {
            WriteOutcome::Written { before } => {
                remember(&write.applied_to(before.clone()));
                let facts_filled = write
                    .facts
                    .iter()
                    .filter(|(name, _)| !before.facts.contains(name))
                    .count();
                return if write.advances() {
                    Outcome::Applied {
                        state: write
                            .state
                            .map(|change| change.state.to_owned())
                            .or_else(|| before.state.clone()),
                        state_before: before.state,
                        facts_filled,
                    }
                } else {
                    Outcome::Stale {
                        state: before.state,
                        facts_filled,
                    }
                };
            }
            WriteOutcome::Rejected { current } => {
                tally.rejections += 1;
                remember(&current);
                stored = current;
            }
        }
    }
    match plan.write_against(&stored) {
        None => nothing_to_write(&plan, stored),
        Some(_) => Outcome::Failed(Failure::Contended),
    }
}

/// The item already has everything the event says (as the store answered, or as last heard): a
/// redelivery when it holds an event of the same time, a late event otherwise.
fn nothing_to_write(plan: &Plan, stored: Stored) -> Outcome {
    if stored.last_event_at == Some(plan.freshness.event_time) {
        Outcome::Duplicate {
            state: stored.state,
        }
    } else {
        Outcome::Stale {
            state: stored.state,
            facts_filled: 0,
        }
    }
}
