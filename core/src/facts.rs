//! The facts: write-once attributes of the item (spec: "facts … are never lost … never
//! overwrite one"), and the places: where the contact is (its queue, its agent), which move. These
//! tables are the one place each is declared: attributes, where events carry them, how they are
//! read. The reader, the planner, the DynamoDB adapter and the tests all go through them.

/// How a fact's value is read from its source field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string, stored as received.
    Text,
    /// A string, upper-cased (`"Voice"` → `VOICE`).
    UpperCase,
    /// An ISO-8601 instant; placeholders (`1970-01-01T…`) and unreadable values are unknown.
    Timestamp,
}

/// One fact of the table contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fact {
    /// The item attribute.
    pub attribute: &'static str,
    /// Its place in the event's `detail`, camelCase; keys are matched ignoring ASCII case, which
    /// covers PascalCase and the published spellings (`instanceARN`, `InstanceARN`).
    pub source: &'static [&'static str],
    pub kind: Kind,
}

const fn fact(attribute: &'static str, source: &'static [&'static str], kind: Kind) -> Fact {
    Fact {
        attribute,
        source,
        kind,
    }
}

/// Every fact, in the order the item's attributes are listed in the spec.
pub const FACTS: [Fact; 16] = [
    fact("channel", &["channel"], Kind::UpperCase),
    fact("initiationMethod", &["initiationMethod"], Kind::Text),
    fact("instanceArn", &["instanceArn"], Kind::Text),
    fact("initialContactId", &["initialContactId"], Kind::Text),
    fact("previousContactId", &["previousContactId"], Kind::Text),
    fact("relatedContactId", &["relatedContactId"], Kind::Text),
    fact(
        "initiationTimestamp",
        &["initiationTimestamp"],
        Kind::Timestamp,
    ),
    fact(
        "connectedToSystemTimestamp",
        &["connectedToSystemTimestamp"],
        Kind::Timestamp,
    ),
    fact(
        "disconnectTimestamp",
        &["disconnectTimestamp"],
        Kind::Timestamp,
    ),
    fact("disconnectReason", &["disconnectReason"], Kind::Text),
    // Outbound voice: when the called party's greeting began and ended.
    fact(
        "greetingStartTimestamp",
        &["customerVoiceActivity", "greetingStartTimestamp"],
        Kind::Timestamp,
    ),
    fact(
        "greetingEndTimestamp",
        &["customerVoiceActivity", "greetingEndTimestamp"],
        Kind::Timestamp,
    ),
    // Outbound campaigns: how the call was answered, the campaign, why media failed.
    fact(
        "answeringMachineDetectionStatus",
        &["answeringMachineDetectionStatus"],
        Kind::Text,
    ),
    fact("campaignId", &["campaign", "campaignId"], Kind::Text),
    fact(
        "potentialDisconnectIssue",
        &["disconnectDetails", "potentialDisconnectIssue"],
        Kind::Text,
    ),
    // The channel's subtype (`connect:SMS`, `connect:Guide`, …).
    fact(
        "channelSubtype",
        &["segmentAttributes", "connect:Subtype", "valueString"],
        Kind::Text,
    ),
];

/// Where the contact is: an ARN and since when (spec, "where the contact is"). Not write-once: a
/// flow can move a queued contact to another queue under the same `contactId`, so the pair with
/// the latest real timestamp wins, and an ARN seen without one is kept only until such a pair
/// arrives. Ordered by [`crate::ordering::place_key`], stored in `key`. Its details belong to
/// the queue or agent, not to the contact: they move with the pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    /// The ARN's attribute (and its source, under `parent`).
    pub arn: &'static str,
    /// The timestamp's attribute (and its source, under `parent`).
    pub since: &'static str,
    /// The object of `detail` that carries both.
    pub parent: &'static str,
    /// The bookkeeping attribute holding the pair's ordering key.
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
    pub shape: DetailShape,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetailShape {
    /// A string, stored as received.
    Text,
    /// An ARN, stored as its last segment (the id): the item already has the instance ARN, and
    /// a full ARN costs ~110 bytes of a 1 KB write unit.
    Id,
    /// `{level1: {arn}, …, level5: {arn}}`, stored as the id of the deepest level: the agent's
    /// own group. Its parents are that group's path (one `DescribeUserHierarchyGroup` away), and
    /// five ARNs (~550 bytes) would take an item past one write unit.
    DeepestLevelId,
}

/// The queue and the agent.
pub const PLACES: [Place; 2] = [
    Place {
        arn: "queueArn",
        since: "enqueueTimestamp",
        parent: "queueInfo",
        key: "queueKey",
        details: &[Detail {
            attribute: "queueType",
            source: "queueType",
            shape: DetailShape::Text,
        }],
    },
    Place {
        arn: "agentArn",
        since: "connectedToAgentTimestamp",
        parent: "agentInfo",
        key: "agentKey",
        details: &[
            Detail {
                attribute: "agentRoutingProfileId",
                source: "routingProfileArn",
                shape: DetailShape::Id,
            },
            Detail {
                attribute: "agentHierarchyGroupId",
                source: "hierarchyGroups",
                shape: DetailShape::DeepestLevelId,
            },
        ],
    },
];

/// Agent hierarchies have at most five levels.
pub const HIERARCHY_LEVELS: usize = 5;

/// The contact's user tags (`tags` without the `aws:` system tags), a snapshot that changes
/// during the contact (`CONTACT_DATA_UPDATED` with `Tags`): the latest event's wins, ordered by
/// [`crate::ordering::tags_key`] in this bookkeeping attribute.
pub const TAGS: &str = "tags";
pub const TAGS_KEY: &str = "tagsKey";
/// Beyond this many bytes of keys and values, `tags` is damaged: an item must stay under 1 KB.
pub const TAGS_MAX_BYTES: usize = 256;

/// The routing criteria's activation time, stored with the routing snapshot it belongs to.
pub const ROUTING_ACTIVATION: &str = "routingActivationTimestamp";

/// A live view (spec, "Live views"): a sparse index whose partition key attribute holds a
/// place's ARN while the contact is in one of `states` and the place's pair is known; its sort
/// key is the place's timestamp attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct View {
    /// The index, and its partition key attribute.
    pub index: &'static str,
    pub attribute: &'static str,
    /// Position in [`PLACES`] of the place it lists.
    pub place: usize,
    pub states: &'static [&'static str],
}

/// `queued`: who waits in which queue; `withAgent`: what each agent is handling.
pub const VIEWS: [View; 2] = [
    View {
        index: "queued",
        attribute: "queuedIn",
        place: 0,
        states: &["QUEUED"],
    },
    View {
        index: "withAgent",
        attribute: "withAgent",
        place: 1,
        states: &["CONNECTED_TO_AGENT", "PAUSED", "RESUMED"],
    },
];

/// DynamoDB's limits on index key values, in bytes: a value over them would fail every write of
/// the item, so such a contact is stored but not listed.
pub const INDEX_PARTITION_KEY_MAX_BYTES: usize = 2_048;
pub const INDEX_SORT_KEY_MAX_BYTES: usize = 1_024;

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
        for place in &PLACES {
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
    fn every_fact_is_in_the_readmes_table_contract() {
        let readme = include_str!("../../README.md");
        let table = readme
            .split("## The table contract")
            .nth(1)
            .and_then(|rest| rest.split("\n\n").nth(2))
            .expect("the table");
        let attributes = FACTS
            .iter()
            .map(|fact| fact.attribute)
            .chain(PLACES.iter().flat_map(|place| [place.arn, place.since]))
            .chain(
                PLACES
                    .iter()
                    .flat_map(|place| place.details.iter().map(|d| d.attribute)),
            )
            .chain([TAGS, ROUTING_ACTIVATION]);
        for attribute in attributes {
            assert!(
                table.contains(attribute),
                "{attribute} is not in the README's table contract"
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
