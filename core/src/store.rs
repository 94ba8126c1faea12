//! The port between the core and the table: what a conditional [`Write`] carries, what the
//! store answers, and the [`StoredItem`] the planner plans against. The planner
//! ([`crate::plan`]) makes writes; the DynamoDB adapter and the tests' in-memory store carry
//! them out; [`Write::applied_to`] says what every store must end with.
//!
//! An item has independently ordered dimensions and write-once facts:
//! - `state`, ordered by [`crate::ordering::state_key`];
//! - routing (`routingCriteriaIndex`, `routingSteps`), ordered by
//!   [`crate::ordering::routing_key`];
//! - freshness (the latest event's time, `expiresAt`), ordered by the event time;
//! - each place (queue, agent) with what events say of it, ordered by
//!   [`crate::ordering::place_key`];
//! - user tags, ordered by [`crate::ordering::tags_key`];
//! - facts, each written only if the item does not have it yet.

use std::future::Future;

use crate::event::RoutingStep;
use crate::facts::{Place, Places};
use crate::views::{self, ViewChange, Views, listable};

/// A queue or agent pair to store, if it is the latest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceChange {
    pub place: Place,
    pub arn: String,
    pub since: Option<String>,
    /// One per entry of the place's `details`: set where known, removed where not.
    pub details: Vec<Option<String>>,
    pub key: u64,
}

/// The user tags to store, if the latest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagsChange {
    pub tags: Vec<(String, String)>,
    pub key: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateChange {
    pub state: &'static str,
    pub key: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutingChange {
    pub index: u32,
    pub steps: Vec<RoutingStep>,
    /// Set where known, removed where not.
    pub activated_at: Option<String>,
    pub key: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Freshness {
    /// Event time, epoch seconds: stored as `lastEventAt`.
    pub event_time: i64,
    pub expires_at: i64,
}

/// The ordering keys and facts of the stored item, as far as the planner needs them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredItem {
    pub state: Option<String>,
    pub state_key: Option<u64>,
    pub routing_key: Option<u64>,
    pub last_event_at: Option<i64>,
    pub tags_key: Option<u64>,
    /// The ordering key of each place the item has.
    pub place_keys: Places<Option<u64>>,
    /// Each place's ARN when its pair can be listed in a view ([`listable`]).
    pub listable_arns: Places<Option<String>>,
    /// The view attributes the item has.
    pub views: Views<Option<String>>,
    /// Attribute names of the facts the item has.
    pub facts: Vec<&'static str>,
}

impl StoredItem {
    /// What each view attribute must hold for this item ([`views::required`]).
    pub fn required_views(&self) -> Views<Option<String>> {
        views::required(self.state.as_deref(), &self.listable_arns)
    }
}

/// What a write that only fixes view attributes was computed from: it is valid only while the
/// item's state and places still have these keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewBasis {
    pub state_key: Option<u64>,
    pub place_keys: Places<Option<u64>>,
}

/// One conditional write: every part present is set, under the condition that each dimension
/// present is still newer than what is stored (facts are set only where absent, atomically).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write<'a> {
    pub contact_id: &'a str,
    pub state: Option<&'a StateChange>,
    pub routing: Option<&'a RoutingChange>,
    pub freshness: Option<(Freshness, Guard)>,
    pub places: Vec<&'a PlaceChange>,
    pub tags: Option<&'a TagsChange>,
    pub facts: Vec<(&'static str, &'a str)>,
    /// View attributes to set (`Some`) or remove (`None`).
    pub views: Vec<ViewChange>,
    /// Set on a write that fixes views: its condition.
    pub view_basis: Option<ViewBasis>,
}

/// How the freshness dimension guards a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// `lastEventAt < time`: the write is about this event being the latest.
    Newer,
    /// `lastEventAt <= time`: the write is about state or routing; the event must just not be
    /// older than the latest one (events of one second share a time).
    NotOlder,
}

impl<'a> Write<'a> {
    /// A write of nothing to `contact_id`, to build others from (`..Write::nothing(id)`).
    pub fn nothing(contact_id: &'a str) -> Write<'a> {
        Write {
            contact_id,
            state: None,
            routing: None,
            freshness: None,
            places: Vec::new(),
            tags: None,
            facts: Vec::new(),
            views: Vec::new(),
            view_basis: None,
        }
    }

    /// True when the write moves at least one ordered dimension (not just facts).
    pub fn advances(&self) -> bool {
        self.state.is_some()
            || self.routing.is_some()
            || self.freshness.is_some()
            || !self.places.is_empty()
            || self.tags.is_some()
    }

    /// The item after this write was applied to `before`.
    pub fn applied_to(&self, mut before: StoredItem) -> StoredItem {
        if let Some(change) = self.state {
            before.state = Some(change.state.to_owned());
            before.state_key = Some(change.key);
        }
        if let Some(change) = self.routing {
            before.routing_key = Some(change.key);
        }
        if let Some((freshness, _)) = self.freshness {
            before.last_event_at = Some(freshness.event_time);
        }
        if let Some(change) = self.tags {
            before.tags_key = Some(change.key);
        }
        for change in &self.places {
            *before.place_keys.get_mut(change.place.name) = Some(change.key);
            *before.listable_arns.get_mut(change.place.name) =
                listable(&change.arn, change.since.as_deref());
        }
        for (attribute, value) in &self.views {
            if let Some(slot) = before.views.by_attribute_mut(attribute) {
                *slot = value.clone();
            }
        }
        for (name, _) in &self.facts {
            if !before.facts.contains(name) {
                before.facts.push(name);
            }
        }
        before
    }
}

/// What the store answered to a [`Write`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOutcome {
    /// The write was applied; `before` is the item as it was (empty for a new contact).
    Written { before: StoredItem },
    /// A dimension of the write was not newer than the stored one: nothing was written.
    /// `current` is the item as the store holds it, to plan again without reading.
    Rejected { current: StoredItem },
}

/// What the store answered, how many times it had to retry to get that answer (throttling,
/// 5xx, lost connections), and what the write was billed, for logs, metrics and cost figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub outcome: WriteOutcome,
    pub retries: u32,
    /// Write capacity units the store charged for the request (a rejected conditional write is
    /// charged too); 1 when the store does not say.
    pub write_units: u32,
}

impl From<WriteOutcome> for Answer {
    /// An answer that took no retries and one write unit.
    fn from(outcome: WriteOutcome) -> Answer {
        Answer {
            outcome,
            retries: 0,
            write_units: 1,
        }
    }
}

/// A failure after the store's own retries: the event was not (or not surely) persisted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{operation} failed: {message}")]
pub struct StoreError {
    pub operation: &'static str,
    pub message: String,
}

pub trait ContactStore {
    fn write(&self, write: &Write<'_>) -> impl Future<Output = Result<Answer, StoreError>> + Send;
}
