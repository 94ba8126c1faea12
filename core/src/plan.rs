//! What to write for one event, given what the store holds: the bridge between the ordering
//! rules and a conditional write. Pure: no I/O, no AWS types. What a write is made of, and the
//! item it is planned against, are the port's ([`crate::store`]).
//!
//! The live views follow from the item's state and places ([`crate::views`]); a write carries
//! what they settle.
//!
//! The first write assumes the event is newer than anything stored (the common case: one
//! request). If the store rejects it, it hands back the item as it was, and
//! [`Plan::write_against`] keeps only the parts still newer, so the second write succeeds unless
//! another writer changed the item in between.

use chrono::DateTime;

use crate::event::{ContactEvent, EventType};
use crate::facts::{PLACES, Places};
use crate::ordering::{expires_at, place_key, routing_key, state_key, tags_key};
use crate::store::{
    Freshness, Guard, PlaceChange, RoutingChange, StateChange, StoredItem, TagsChange, ViewBasis,
    Write,
};
use crate::views::{self, ViewChange};

/// Writes one event may send before it fails as contended: the optimistic one, the one planned
/// against the item a rejection returned, and two more for writers that changed the item in
/// between (each rejection hands back the newer item). Contention beyond that is rare enough to
/// leave to Lambda's retry.
pub const MAX_WRITES: usize = 4;

/// Everything one event could contribute to its item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub contact_id: String,
    pub state: Option<StateChange>,
    pub routing: Option<RoutingChange>,
    pub freshness: Freshness,
    /// Where the event says the contact is.
    pub places: Vec<PlaceChange>,
    pub tags: Option<TagsChange>,
    /// `(attribute, value)` of every fact the event carries.
    pub facts: Vec<(&'static str, String)>,
    /// Whether writes keep the live views (`queuedIn`, `withAgent`): the deployment's choice.
    pub views: bool,
}

impl Plan {
    /// The plan of `event`, received at `received_at` (epoch seconds), for a table that keeps
    /// items `retention_days` after their latest event and keeps the live views when `views`.
    /// `None` for event types that change nothing (unknown types).
    pub fn from_event(
        event: &ContactEvent,
        received_at: i64,
        retention_days: u32,
        views: bool,
    ) -> Option<Plan> {
        let state = match &event.event_type {
            EventType::Lifecycle(stage) => Some(*stage),
            EventType::ContactDataUpdated | EventType::AmdDisabled => None,
            EventType::Unknown(_) => return None,
        };
        // Events without an envelope time (not seen from EventBridge) count as of their receipt.
        let event_time = event.time.unwrap_or(received_at);
        Some(Plan {
            contact_id: event.contact_id.clone(),
            state: state.map(|stage| StateChange {
                state: stage.as_str(),
                key: state_key(stage, event_time),
            }),
            routing: event.routing.as_ref().map(|routing| RoutingChange {
                index: routing.index,
                activated_at: routing.activated_at.clone(),
                key: routing_key(
                    routing.index,
                    routing.activated_at.is_some(),
                    routing
                        .steps
                        .iter()
                        .map(|step| (step.status.as_str(), step.expiry_timestamp.is_some())),
                ),
                steps: routing.steps.clone(),
            }),
            freshness: Freshness {
                event_time,
                expires_at: expires_at(event_time, retention_days),
            },
            places: PLACES
                .zip(event.places.as_ref())
                .into_iter()
                .filter_map(|(place, seen)| {
                    let seen = seen.as_ref()?;
                    let since_millis = seen
                        .since
                        .as_deref()
                        .and_then(|since| DateTime::parse_from_rfc3339(since).ok())
                        .map(|since| since.timestamp_millis());
                    let details = seen.details.iter().flatten();
                    Some(PlaceChange {
                        place,
                        arn: seen.arn.clone(),
                        since: seen.since.clone(),
                        key: place_key(
                            &seen.arn,
                            details.map(String::as_str),
                            seen.details.iter().flatten().count(),
                            since_millis,
                        ),
                        details: seen.details.clone(),
                    })
                })
                .collect(),
            tags: event.tags.as_ref().map(|tags| TagsChange {
                key: tags_key(event_time, tags),
                tags: tags.clone(),
            }),
            facts: event
                .facts
                .known()
                .map(|(name, value)| (name, value.to_owned()))
                .collect(),
            views,
        })
    }

    /// The write that makes the item's view attributes what its state and places call for, when
    /// they are not; pinned to that state and those places.
    pub fn view_fix<'a>(&'a self, stored: &StoredItem) -> Option<Write<'a>> {
        if !self.views {
            return None;
        }
        let views = views::fix(&stored.views, stored.required_views());
        (!views.is_empty()).then(|| Write {
            views,
            view_basis: Some(ViewBasis {
                state_key: stored.state_key,
                place_keys: stored.place_keys,
            }),
            ..Write::nothing(&self.contact_id)
        })
    }

    /// The write that brings `stored` up to date with this event, or `None` when the event has
    /// nothing newer than `stored` (a duplicate or stale event).
    /// Against [`StoredItem::default()`] (nothing known) this is the optimistic first write.
    pub fn write_against(&self, stored: &StoredItem) -> Option<Write<'_>> {
        let state = self
            .state
            .as_ref()
            .filter(|change| stored.state_key.is_none_or(|key| key < change.key));
        let routing = self
            .routing
            .as_ref()
            .filter(|change| stored.routing_key.is_none_or(|key| key < change.key));
        let moves_state_or_routing = state.is_some() || routing.is_some();
        let time = self.freshness.event_time;
        let freshness = match stored.last_event_at {
            None => Some(guarded(self.freshness, moves_state_or_routing)),
            Some(latest) if latest < time => Some(guarded(self.freshness, moves_state_or_routing)),
            Some(latest) if latest == time && moves_state_or_routing => {
                Some((self.freshness, Guard::NotOlder))
            }
            Some(_) => None,
        };
        let places = self
            .places
            .iter()
            .filter(|change| {
                stored
                    .place_keys
                    .get(change.place.name)
                    .is_none_or(|key| key < change.key)
            })
            .collect();
        // An equal key is the same snapshot: nothing to write.
        let tags = self
            .tags
            .as_ref()
            .filter(|change| stored.tags_key.is_none_or(|key| key < change.key));
        let facts: Vec<_> = self
            .facts
            .iter()
            .filter(|(name, _)| !stored.facts.contains(name))
            .map(|(name, value)| (*name, value.as_str()))
            .collect();
        let mut write = Write {
            contact_id: &self.contact_id,
            state,
            routing,
            freshness,
            places,
            tags,
            facts,
            views: Vec::new(),
            view_basis: None,
        };
        if !write.advances() && write.facts.is_empty() {
            return None;
        }
        if self.views {
            write.views = determined_views(&write);
        }
        Some(write)
    }
}

/// The view attributes a write settles by itself ([`views::settled_by`]); others are left to
/// [`Plan::view_fix`], from the item the store returns.
fn determined_views(write: &Write<'_>) -> Vec<ViewChange> {
    let Some(state) = write.state else {
        return Vec::new();
    };
    let mut places = Places::default();
    for change in &write.places {
        *places.get_mut(change.place.name) = Some((change.arn.as_str(), change.since.as_deref()));
    }
    views::settled_by(state.state, &places)
}

fn guarded(freshness: Freshness, moves_state_or_routing: bool) -> (Freshness, Guard) {
    let guard = if moves_state_or_routing {
        Guard::NotOlder
    } else {
        Guard::Newer
    };
    (freshness, guard)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{RoutingSnapshot, RoutingStep};
    use crate::facts::Facts;
    use crate::ordering::Lifecycle;

    const T: i64 = 1_700_000_000;

    fn event(event_type: EventType, time: i64) -> ContactEvent {
        ContactEvent {
            id: None,
            contact_id: "c-1".into(),
            event_type,
            time: Some(time),
            facts: Facts::of([("channel", "VOICE")]),
            places: Places::default(),
            routing: None,
            tags: None,
            damaged: Vec::new(),
        }
    }

    fn plan(event_type: EventType, time: i64) -> Plan {
        Plan::from_event(&event(event_type, time), T, 90, true).expect("known type")
    }

    fn stored_after(plan: &Plan) -> StoredItem {
        StoredItem {
            state: plan.state.as_ref().map(|s| s.state.to_owned()),
            state_key: plan.state.as_ref().map(|s| s.key),
            routing_key: plan.routing.as_ref().map(|r| r.key),
            last_event_at: Some(plan.freshness.event_time),
            tags_key: plan.tags.as_ref().map(|t| t.key),
            facts: plan.facts.iter().map(|(name, _)| *name).collect(),
            ..StoredItem::default()
        }
    }

    #[test]
    fn an_event_for_a_new_contact_writes_everything_in_one_request() {
        let queued = plan(EventType::Lifecycle(Lifecycle::Queued), T);
        let write = queued
            .write_against(&StoredItem::default())
            .expect("a write");
        assert_eq!(write.state.map(|s| s.state), Some("QUEUED"));
        assert_eq!(write.freshness.map(|f| f.1), Some(Guard::NotOlder));
        assert_eq!(write.facts, vec![("channel", "VOICE")]);
    }

    #[test]
    fn a_duplicate_event_has_nothing_to_write() {
        let queued = plan(EventType::Lifecycle(Lifecycle::Queued), T);
        assert_eq!(queued.write_against(&stored_after(&queued)), None);
    }

    #[test]
    fn a_stale_event_has_nothing_to_write_when_the_item_has_its_facts() {
        let completed = plan(EventType::Lifecycle(Lifecycle::Completed), T + 100);
        let queued = plan(EventType::Lifecycle(Lifecycle::Queued), T);
        assert_eq!(queued.write_against(&stored_after(&completed)), None);
    }

    #[test]
    fn an_event_too_old_to_change_state_still_fills_in_missing_facts() {
        let completed = plan(EventType::Lifecycle(Lifecycle::Completed), T + 100);
        let mut queued_event = event(EventType::Lifecycle(Lifecycle::Queued), T);
        queued_event
            .facts
            .set("disconnectReason", "CUSTOMER_DISCONNECT");
        let queued = Plan::from_event(&queued_event, T, 90, true).expect("known type");
        let write = queued
            .write_against(&stored_after(&completed))
            .expect("a write");
        assert!(!write.advances());
        assert_eq!(
            write.facts,
            vec![("disconnectReason", "CUSTOMER_DISCONNECT")]
        );
    }

    #[test]
    fn an_event_newer_in_state_but_not_in_time_changes_state_only() {
        let update = plan(EventType::ContactDataUpdated, T + 10);
        let connected = plan(EventType::Lifecycle(Lifecycle::ConnectedToAgent), T);
        let write = connected
            .write_against(&stored_after(&update))
            .expect("a write");
        assert!(write.state.is_some());
        assert_eq!(write.freshness, None);
    }

    #[test]
    fn an_event_in_the_same_second_still_moves_state() {
        let initiated = plan(EventType::Lifecycle(Lifecycle::Initiated), T);
        let connected = plan(EventType::Lifecycle(Lifecycle::ConnectedToSystem), T);
        let write = connected
            .write_against(&stored_after(&initiated))
            .expect("a write");
        assert!(write.state.is_some());
        assert_eq!(write.freshness.map(|f| f.1), Some(Guard::NotOlder));
    }

    #[test]
    fn an_event_that_carries_no_state_is_applied_only_if_it_is_the_latest() {
        let update = plan(EventType::ContactDataUpdated, T + 10);
        let write = update
            .write_against(&StoredItem::default())
            .expect("a write");
        assert_eq!(write.freshness.map(|f| f.1), Some(Guard::Newer));
        assert_eq!(update.write_against(&stored_after(&update)), None);
    }

    #[test]
    fn contact_data_updated_and_amd_disabled_never_change_state() {
        for event_type in [EventType::ContactDataUpdated, EventType::AmdDisabled] {
            assert_eq!(plan(event_type, T).state, None);
        }
    }

    #[test]
    fn unknown_event_types_change_nothing() {
        let unknown = event(EventType::Unknown("SOMETHING_NEW".into()), T);
        assert_eq!(Plan::from_event(&unknown, T, 90, true), None);
    }

    #[test]
    fn a_newer_routing_snapshot_is_written_even_when_state_is_stale() {
        let completed = plan(EventType::Lifecycle(Lifecycle::Completed), T + 100);
        let mut connected = event(EventType::Lifecycle(Lifecycle::ConnectedToAgent), T);
        connected.routing = Some(RoutingSnapshot {
            index: 0,
            activated_at: None,
            steps: vec![RoutingStep {
                status: "JOINED".into(),
                expiry_duration_seconds: Some(60),
                expiry_timestamp: None,
            }],
        });
        let connected = Plan::from_event(&connected, T, 90, true).expect("known type");
        let write = connected
            .write_against(&stored_after(&completed))
            .expect("a write");
        assert!(write.state.is_none());
        assert!(write.routing.is_some());
    }

    #[test]
    fn a_contact_moved_to_another_queue_is_where_the_latest_real_timestamp_says() {
        let at = |queue: &str, since: Option<&str>| {
            let mut queued = event(EventType::Lifecycle(Lifecycle::Queued), T);
            queued.places.queue = Some(crate::facts::PlaceSeen {
                arn: queue.into(),
                since: since.map(str::to_owned),
                details: vec![None],
            });
            Plan::from_event(&queued, T, 90, true).expect("known type")
        };
        let first = at("arn:queue/a", Some("2024-05-06T10:00:01.000Z"));
        let moved = at("arn:queue/b", Some("2024-05-06T10:02:00.000Z"));
        let arn_only = at("arn:queue/c", None);
        let mut stored = stored_after(&moved);
        stored.place_keys.queue = moved.places.first().map(|p| p.key);
        // The earlier queue, arriving late, is not where the contact is.
        assert!(
            first
                .write_against(&stored)
                .is_none_or(|w| w.places.is_empty())
        );
        // Nor is an ARN without a real timestamp.
        assert!(
            arn_only
                .write_against(&stored)
                .is_none_or(|w| w.places.is_empty())
        );
        // The later queue replaces the earlier one.
        let mut stored = stored_after(&first);
        stored.place_keys.queue = first.places.first().map(|p| p.key);
        let write = moved.write_against(&stored).expect("a write");
        assert_eq!(
            write.places.first().map(|p| p.arn.as_str()),
            Some("arn:queue/b")
        );
        assert!(write.advances());
    }

    #[test]
    fn an_event_without_envelope_time_counts_as_of_its_receipt() {
        let mut untimed = event(EventType::Lifecycle(Lifecycle::Queued), T);
        untimed.time = None;
        let plan = Plan::from_event(&untimed, T + 5, 1, true).expect("known type");
        assert_eq!(plan.freshness.event_time, T + 5);
        assert_eq!(plan.freshness.expires_at, T + 5 + 86_400);
    }
}
