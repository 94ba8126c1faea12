//! The facts: write-once attributes of the item (docs/contract.md, "Ordering rules": facts are
//! never lost and never overwritten), and the places: where the contact is (its queue, its agent), which move. These
//! tables are the one place each is declared: attributes, where events carry them, how they are
//! read. The reader, the planner, the DynamoDB adapter and the tests all go through them.

use crate::bookkeeping::{AGENT_KEY, QUEUE_KEY};

/// How a value is read from its source field: the one description the reader, the tests and
/// the hostile-input fields share. Every kind first passes the same checks (a string, not empty,
/// at most [`crate::event::VALUE_MAX_CHARS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// A string, stored as received.
    Text,
    /// A string, upper-cased (`"Voice"` → `VOICE`).
    UpperCase,
    /// An ISO-8601 instant; placeholders (`1970-01-01T…`) are unknown, unreadable values damaged.
    Timestamp,
    /// An ARN, stored as its last segment (the id): the item already has the instance ARN, and
    /// a full ARN costs ~110 bytes of a 1 KB write unit.
    Id,
    /// `{level1: {arn}, …, level5: {arn}}`, stored as the id of the deepest level: the agent's
    /// own group. Its parents are that group's path (one `DescribeUserHierarchyGroup` away), and
    /// five ARNs (~550 bytes) would take an item past one write unit.
    DeepestLevelId,
    /// Whole seconds: a JSON number (or a string of digits) from 0 to [`SECONDS_MAX`], stored
    /// as a number (N).
    Seconds,
}

/// The largest duration in seconds a fact may hold: ten years, far beyond any contact's.
pub const SECONDS_MAX: u64 = 315_360_000;

/// One fact of the table contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fact {
    /// The item attribute.
    pub attribute: &'static str,
    /// Its place in the event's `detail`, camelCase; keys are matched ignoring ASCII case, which
    /// covers PascalCase and the published spellings (`instanceARN`, `InstanceARN`).
    pub source: &'static [&'static str],
    pub read: Read,
    /// Read only from COMPLETED events: the after-contact-work facts, which other events carry
    /// as placeholders or not at all (docs/contract.md).
    pub completed_only: bool,
}

const fn fact(attribute: &'static str, source: &'static [&'static str], read: Read) -> Fact {
    Fact {
        attribute,
        source,
        read,
        completed_only: false,
    }
}

/// An after-contact-work fact of `agentInfo`, read from COMPLETED only.
const fn after_contact_work(
    attribute: &'static str,
    source: &'static [&'static str],
    read: Read,
) -> Fact {
    Fact {
        attribute,
        source,
        read,
        completed_only: true,
    }
}

/// After-contact work's start, end and length: what a COMPLETED event (or `DescribeContact`)
/// says of it.
pub const AFTER_CONTACT_WORK_START: &str = "afterContactWorkStartTimestamp";
pub const AFTER_CONTACT_WORK_END: &str = "afterContactWorkEndTimestamp";
pub const AFTER_CONTACT_WORK_DURATION: &str = "afterContactWorkDuration";

/// Every fact, in the order docs/contract.md lists the item's attributes.
pub const FACTS: [Fact; 19] = [
    fact("channel", &["channel"], Read::UpperCase),
    fact("initiationMethod", &["initiationMethod"], Read::Text),
    fact("instanceArn", &["instanceArn"], Read::Text),
    fact("initialContactId", &["initialContactId"], Read::Text),
    fact("previousContactId", &["previousContactId"], Read::Text),
    fact("relatedContactId", &["relatedContactId"], Read::Text),
    fact(
        "initiationTimestamp",
        &["initiationTimestamp"],
        Read::Timestamp,
    ),
    fact(
        "connectedToSystemTimestamp",
        &["connectedToSystemTimestamp"],
        Read::Timestamp,
    ),
    fact(
        "disconnectTimestamp",
        &["disconnectTimestamp"],
        Read::Timestamp,
    ),
    fact("disconnectReason", &["disconnectReason"], Read::Text),
    // Outbound voice: when the called party's greeting began and ended.
    fact(
        "greetingStartTimestamp",
        &["customerVoiceActivity", "greetingStartTimestamp"],
        Read::Timestamp,
    ),
    fact(
        "greetingEndTimestamp",
        &["customerVoiceActivity", "greetingEndTimestamp"],
        Read::Timestamp,
    ),
    // Outbound campaigns: how the call was answered, the campaign, why media failed.
    fact(
        "answeringMachineDetectionStatus",
        &["answeringMachineDetectionStatus"],
        Read::Text,
    ),
    fact("campaignId", &["campaign", "campaignId"], Read::Text),
    fact(
        "potentialDisconnectIssue",
        &["disconnectDetails", "potentialDisconnectIssue"],
        Read::Text,
    ),
    // The channel's subtype (`connect:SMS`, `connect:Guide`, …).
    fact(
        "channelSubtype",
        &["segmentAttributes", "connect:Subtype", "valueString"],
        Read::Text,
    ),
    after_contact_work(
        AFTER_CONTACT_WORK_START,
        &["agentInfo", "afterContactWorkStartTimestamp"],
        Read::Timestamp,
    ),
    after_contact_work(
        AFTER_CONTACT_WORK_END,
        &["agentInfo", "afterContactWorkEndTimestamp"],
        Read::Timestamp,
    ),
    after_contact_work(
        AFTER_CONTACT_WORK_DURATION,
        &["agentInfo", "afterContactWorkDuration"],
        Read::Seconds,
    ),
];

/// How the fact stored as `attribute` is read (its stored type follows: [`Read::Seconds`] is a
/// number); `None` for an attribute that is no fact.
pub fn read_of(attribute: &str) -> Option<Read> {
    FACTS
        .iter()
        .find(|fact| fact.attribute == attribute)
        .map(|fact| fact.read)
}

/// Where the contact is: an ARN and since when (docs/contract.md, "where the contact is"). Not write-once: a
/// flow can move a queued contact to another queue under the same `contactId`, so the pair with
/// the latest real timestamp wins, and an ARN seen without one is kept only until such a pair
/// arrives. Ordered by [`crate::ordering::place_key`], stored in `key`. Its details belong to
/// the queue or agent, not to the contact: they move with the pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub name: PlaceName,
    /// The ARN's attribute (and its source, under `parent`).
    pub arn: &'static str,
    /// The timestamp's attribute (and its source, under `parent`).
    pub since: &'static str,
    /// The object of `detail` that carries both.
    pub parent: &'static str,
    /// The bookkeeping attribute holding the pair's ordering key ([`crate::bookkeeping`]).
    pub key: &'static str,
    /// What the same object says about the queue or agent, stored beside the pair.
    pub details: &'static [Detail],
}

/// A value about a queue or agent, read from the place's `parent` object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detail {
    pub attribute: &'static str,
    /// Its key in the place's `parent` object.
    pub source: &'static str,
    pub read: Read,
}

/// Which place: the queue or the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaceName {
    Queue,
    Agent,
}

/// Something of each place, by name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Places<T> {
    pub queue: T,
    pub agent: T,
}

impl<T> Places<T> {
    pub fn get(&self, name: PlaceName) -> &T {
        match name {
            PlaceName::Queue => &self.queue,
            PlaceName::Agent => &self.agent,
        }
    }

    pub fn get_mut(&mut self, name: PlaceName) -> &mut T {
        match name {
            PlaceName::Queue => &mut self.queue,
            PlaceName::Agent => &mut self.agent,
        }
    }

    pub fn map<U>(self, mut f: impl FnMut(T) -> U) -> Places<U> {
        Places {
            queue: f(self.queue),
            agent: f(self.agent),
        }
    }

    pub fn as_ref(&self) -> Places<&T> {
        Places {
            queue: &self.queue,
            agent: &self.agent,
        }
    }

    pub fn zip<U>(self, other: Places<U>) -> Places<(T, U)> {
        Places {
            queue: (self.queue, other.queue),
            agent: (self.agent, other.agent),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> {
        [&self.queue, &self.agent].into_iter()
    }
}

/// The queue's, then the agent's.
impl<T> IntoIterator for Places<T> {
    type Item = T;
    type IntoIter = std::array::IntoIter<T, 2>;

    fn into_iter(self) -> Self::IntoIter {
        [self.queue, self.agent].into_iter()
    }
}

/// The queue and the agent.
pub const PLACES: Places<Place> = Places {
    queue: Place {
        name: PlaceName::Queue,
        arn: "queueArn",
        since: "enqueueTimestamp",
        parent: "queueInfo",
        key: QUEUE_KEY,
        details: &[Detail {
            attribute: "queueType",
            source: "queueType",
            read: Read::Text,
        }],
    },
    agent: Place {
        name: PlaceName::Agent,
        arn: "agentArn",
        since: "connectedToAgentTimestamp",
        parent: "agentInfo",
        key: AGENT_KEY,
        details: &[
            Detail {
                attribute: "agentRoutingProfileId",
                source: "routingProfileArn",
                read: Read::Id,
            },
            Detail {
                attribute: "agentHierarchyGroupId",
                source: "hierarchyGroups",
                read: Read::DeepestLevelId,
            },
        ],
    },
};

/// Agent hierarchies have at most five levels.
pub const HIERARCHY_LEVELS: usize = 5;

/// The contact's user tags (`tags` without the `aws:` system tags), a snapshot that changes
/// during the contact (`CONTACT_DATA_UPDATED` with `Tags`): the latest event's wins, ordered by
/// [`crate::ordering::tags_key`] in [`crate::bookkeeping::TAGS_KEY`].
pub const TAGS: &str = "tags";
/// Beyond this many bytes of keys and values, `tags` is damaged: an item must stay under 1 KB.
pub const TAGS_MAX_BYTES: usize = 256;

/// One place as an event gives it: the ARN, and its timestamp when real.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceSeen {
    pub arn: String,
    pub since: Option<String>,
    /// One per entry of the place's `details`, where known.
    pub details: Vec<Option<String>>,
}

/// The facts one event carries: a value per entry of [`FACTS`], where known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts([Option<String>; FACTS.len()]);

impl Facts {
    /// `(attribute, value)` of each fact that is known, in [`FACTS`] order.
    pub fn known(&self) -> impl Iterator<Item = (&'static str, &str)> {
        FACTS
            .iter()
            .zip(&self.0)
            .filter_map(|(fact, value)| value.as_deref().map(|value| (fact.attribute, value)))
    }

    pub fn get(&self, attribute: &str) -> Option<&str> {
        self.known()
            .find(|(name, _)| *name == attribute)
            .map(|(_, value)| value)
    }

    /// Sets the fact stored as `attribute`; an attribute not in [`FACTS`] is no fact and is
    /// left out.
    pub fn set(&mut self, attribute: &str, value: impl Into<String>) {
        if let Some(slot) = FACTS
            .iter()
            .position(|fact| fact.attribute == attribute)
            .and_then(|index| self.0.get_mut(index))
        {
            *slot = Some(value.into());
        }
    }

    /// `attribute = value` for each pair, for tests and tools.
    pub fn of<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Facts {
        let mut facts = Facts::default();
        for (attribute, value) in pairs {
            facts.set(attribute, value);
        }
        facts
    }
}

/// Attribute names of every fact, in [`FACTS`] order.
pub fn attributes() -> impl Iterator<Item = &'static str> {
    FACTS.iter().map(|fact| fact.attribute)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_not_facts() {
        for place in PLACES.iter() {
            for fact in &FACTS {
                assert_ne!(fact.attribute, place.arn);
                assert_ne!(fact.attribute, place.since);
            }
        }
    }

    #[test]
    fn every_fact_has_its_own_attribute_and_source() {
        for (i, a) in FACTS.iter().enumerate() {
            for b in FACTS.iter().skip(i + 1) {
                assert_ne!(a.attribute, b.attribute);
                assert_ne!(a.source, b.source);
            }
        }
    }

    #[test]
    fn every_fact_is_in_the_table_contract() {
        let contract = include_str!("../../docs/contract.md");
        let table = contract
            .split("<!-- table-contract -->")
            .nth(1)
            .expect("the table between the table-contract markers");
        let attributes = FACTS
            .iter()
            .map(|fact| fact.attribute)
            .chain(PLACES.iter().flat_map(|place| [place.arn, place.since]))
            .chain(
                PLACES
                    .iter()
                    .flat_map(|place| place.details.iter().map(|d| d.attribute)),
            )
            .chain([TAGS]);
        for attribute in attributes {
            assert!(
                table.contains(attribute),
                "{attribute} is not in docs/contract.md's table"
            );
        }
    }

    #[test]
    fn a_fact_is_set_and_read_by_its_attribute_and_unknown_attributes_are_no_facts() {
        let facts = Facts::of([("channel", "VOICE"), ("queueArn", "x")]);
        assert_eq!(facts.get("channel"), Some("VOICE"));
        assert_eq!(facts.known().count(), 1);
    }
}
