//! One event against the table: plan against what [`RecentItems`] holds of the item (nothing,
//! at first), write conditionally, and on rejection plan again against the item the store
//! handed back (never a read), until the item reflects the event. Bounded by [`MAX_WRITES`]; the caller
//! bounds it in time (the tally survives a timeout).

use std::time::Instant;

use crate::event::ContactEvent;
use crate::ordering::expires_at;
use crate::outcome::{Failure, Outcome, Tally};
use crate::plan::{MAX_WRITES, Plan};
use crate::recent::{MAX_AGE, RecentItems};
use crate::store::{ContactStore, StoreError, StoredItem, Write, WriteOutcome};

/// What events are applied to: the table, what it last said in this environment, and how the
/// deployment keeps items.
pub struct Target<'a, S> {
    pub store: &'a S,
    pub recent: &'a RecentItems,
    /// Days an item is kept after its latest event (`expiresAt`).
    pub retention_days: u32,
    /// Keep the live views' attributes: the item's view attributes end as its state and places
    /// call for.
    pub views: bool,
}

/// Applies `event` (received at `received_at`, epoch seconds) to its item in `target`, counting
/// requests, rejections, retries and time spent in `tally`, and keeping `target.recent` up to
/// date.
pub async fn apply<S: ContactStore>(
    target: &Target<'_, S>,
    event: &ContactEvent,
    received_at: i64,
    tally: &mut Tally,
) -> Outcome {
    let (store, recent, retention_days) = (target.store, target.recent, target.retention_days);
    let Some(plan) = Plan::from_event(event, received_at, retention_days, target.views) else {
        return Outcome::Ignored;
    };
    // Optimistic: assume the item holds nothing newer than what we last heard of it; a
    // rejection tells us what it holds.
    let contact_id = event.contact_id.as_str();
    let mut stored = recent.get(contact_id).unwrap_or_default();
    let mut heard_from_store = false;
    let mut outcome = None;
    for _ in 0..MAX_WRITES {
        let Some(write) = plan.write_against(&stored) else {
            break;
        };
        match send(store, &write, tally).await {
            Err(error) => {
                recent.forget(contact_id);
                return Outcome::Failed(Failure::Store(error));
            }
            Ok(WriteOutcome::Written { before }) => {
                outcome = Some(written(&write, &before));
                stored = write.applied_to(before);
                heard_from_store = true;
                break;
            }
            Ok(WriteOutcome::Rejected { current }) => {
                tally.rejections += 1;
                stored = current;
                heard_from_store = true;
            }
        }
    }
    let outcome = match outcome {
        Some(outcome) => outcome,
        None if plan.write_against(&stored).is_none() => nothing_to_write(&plan, &stored),
        None => return Outcome::Failed(Failure::Contended),
    };
    // The item as the store has it may call for other view attributes than it carries (a write
    // that set a place but not the state, or the reverse): one more write, pinned to what they
    // were computed from. If the item moved meanwhile, its writer settles them.
    if heard_from_store && let Some(fix) = plan.view_fix(&stored) {
        match send(store, &fix, tally).await {
            Err(error) => {
                recent.forget(contact_id);
                return Outcome::Failed(Failure::Store(error));
            }
            Ok(WriteOutcome::Written { .. }) => stored = fix.applied_to(stored),
            Ok(WriteOutcome::Rejected { current }) => {
                tally.rejections += 1;
                stored = current;
            }
        }
    }
    // Only while TTL cannot delete the item behind our back.
    let far_from_expiry = stored.last_event_at.is_some_and(|latest| {
        expires_at(latest, retention_days) > received_at + MAX_AGE.as_secs() as i64 * 2
    });
    if far_from_expiry {
        recent.remember(contact_id, stored);
    }
    outcome
}

/// Sends one write, counting it.
async fn send<S: ContactStore>(
    store: &S,
    write: &Write<'_>,
    tally: &mut Tally,
) -> Result<WriteOutcome, StoreError> {
    tally.requests += 1;
    let started = Instant::now();
    let answer = store.write(write).await;
    tally.store_time += started.elapsed();
    let answer = answer?;
    tally.retries += answer.retries;
    tally.write_units += answer.write_units;
    Ok(answer.outcome)
}

/// The outcome of an event whose write went through, given the item before it.
fn written(write: &Write<'_>, before: &StoredItem) -> Outcome {
    let facts_filled = write
        .facts
        .iter()
        .filter(|(name, _)| !before.facts.contains(name))
        .count();
    if write.advances() {
        Outcome::Applied {
            state: write
                .state
                .map(|change| change.state.to_owned())
                .or_else(|| before.state.clone()),
            state_before: before.state.clone(),
            facts_filled,
        }
    } else {
        Outcome::Stale {
            state: before.state.clone(),
            facts_filled,
        }
    }
}

/// The item already has everything the event says (as the store answered, or as last heard): a
/// redelivery when it holds an event of the same time, a late event otherwise.
fn nothing_to_write(plan: &Plan, stored: &StoredItem) -> Outcome {
    if stored.last_event_at == Some(plan.freshness.event_time) {
        Outcome::Duplicate {
            state: stored.state.clone(),
        }
    } else {
        Outcome::Stale {
            state: stored.state.clone(),
            facts_filled: 0,
        }
    }
}
