//! An in-memory [`ContactStore`] with the semantics of the DynamoDB adapter's conditional write
//! (every dimension of a write guarded, facts set only where absent, the old item returned), for
//! property tests that run thousands of cases. The same convergence is checked against DynamoDB
//! Local through the real binary (tests/binary.rs), which keeps this double honest.

use std::collections::HashMap;
use std::sync::Mutex;

use connect_contact_state::event::RoutingStep;
use connect_contact_state::facts::Places;
use connect_contact_state::store::{
    Answer, ContactStore, Guard, StoreError, StoredItem, Write, WriteOutcome,
};
use connect_contact_state::views::{Views, listable};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryItem {
    pub state: Option<String>,
    pub state_key: Option<u64>,
    pub routing_index: Option<u32>,
    pub routing_steps: Option<Vec<RoutingStep>>,
    pub routing_key: Option<u64>,
    pub routing_activated_at: Option<String>,
    pub last_event_at: Option<i64>,
    pub expires_at: Option<i64>,
    /// Per place: (ARN, timestamp, key).
    pub places: Places<Option<(String, Option<String>, u64)>>,
    /// Per place: its details, as the place's write left them.
    pub details: Places<Vec<Option<String>>>,
    /// User tags and their key.
    pub tags: Option<(Vec<(String, String)>, u64)>,
    /// The view attributes (`queuedIn`, `withAgent`).
    pub views: Views<Option<String>>,
    pub facts: Vec<(&'static str, String)>,
}

impl MemoryItem {
    pub fn stored(&self) -> StoredItem {
        StoredItem {
            state: self.state.clone(),
            state_key: self.state_key,
            routing_key: self.routing_key,
            last_event_at: self.last_event_at,
            tags_key: self.tags.as_ref().map(|(_, key)| *key),
            place_keys: self
                .places
                .as_ref()
                .map(|place| place.as_ref().map(|(_, _, key)| *key)),
            listable_arns: self.places.as_ref().map(|place| {
                place
                    .as_ref()
                    .and_then(|(arn, since, _)| listable(arn, since.as_deref()))
            }),
            views: self.views.clone(),
            facts: self.facts.iter().map(|(name, _)| *name).collect(),
        }
    }

    fn admits(&self, write: &Write<'_>) -> bool {
        let newer = |stored: Option<u64>, ours: u64| stored.is_none_or(|key| key < ours);
        write.state.is_none_or(|s| newer(self.state_key, s.key))
            && write.routing.is_none_or(|r| newer(self.routing_key, r.key))
            && write.places.iter().all(|change| {
                self.places
                    .get(change.place.name)
                    .as_ref()
                    .is_none_or(|(_, _, key)| *key <= change.key)
            })
            && write
                .tags
                .is_none_or(|change| self.tags.as_ref().is_none_or(|(_, key)| *key <= change.key))
            && write.view_basis.as_ref().is_none_or(|basis| {
                let stored = self.stored();
                stored.state_key == basis.state_key && stored.place_keys == basis.place_keys
            })
            && write.freshness.is_none_or(|(f, guard)| {
                self.last_event_at.is_none_or(|at| match guard {
                    Guard::Newer => at < f.event_time,
                    Guard::NotOlder => at <= f.event_time,
                })
            })
    }
}

#[derive(Default)]
pub struct MemoryStore {
    pub items: Mutex<HashMap<String, MemoryItem>>,
}

impl ContactStore for MemoryStore {
    async fn write(&self, write: &Write<'_>) -> Result<Answer, StoreError> {
        let mut items = self.items.lock().expect("not poisoned");
        let item = items.entry(write.contact_id.to_owned()).or_default();
        if !item.admits(write) {
            return Ok(WriteOutcome::Rejected {
                current: item.stored(),
            }
            .into());
        }
        let before = item.stored();
        if let Some(change) = write.state {
            item.state = Some(change.state.to_owned());
            item.state_key = Some(change.key);
        }
        if let Some(change) = write.routing {
            item.routing_index = Some(change.index);
            item.routing_steps = Some(change.steps.clone());
            item.routing_key = Some(change.key);
            item.routing_activated_at = change.activated_at.clone();
        }
        if let Some(change) = write.tags {
            item.tags = Some((change.tags.clone(), change.key));
        }
        if let Some((freshness, _)) = write.freshness {
            item.last_event_at = Some(freshness.event_time);
            item.expires_at = Some(freshness.expires_at);
        }
        for change in &write.places {
            let slot = item.places.get_mut(change.place.name);
            let since = change.since.clone().or_else(|| {
                // An ARN alone replaces only an ARN alone (its key is lower than any pair's).
                slot.as_ref().and_then(|(_, since, _)| since.clone())
            });
            *slot = Some((change.arn.clone(), since, change.key));
            *item.details.get_mut(change.place.name) = change.details.clone();
        }
        for (attribute, value) in &write.views {
            if let Some(slot) = item.views.by_attribute_mut(attribute) {
                *slot = value.clone();
            }
        }
        for (name, value) in &write.facts {
            if !item.facts.iter().any(|(known, _)| known == name) {
                item.facts.push((name, (*value).to_owned()));
            }
        }
        item.facts.sort();
        Ok(WriteOutcome::Written { before }.into())
    }
}

/// Many environments sharing one table: each handler borrows the store.
impl ContactStore for &MemoryStore {
    async fn write(&self, write: &Write<'_>) -> Result<Answer, StoreError> {
        (*self).write(write).await
    }
}
