//! The facts: write-once attributes of the item (spec: "facts … are never lost … never
//! overwrite one"). This table is the one place a fact is declared: its attribute, where events
//! carry it, and how it is read. The reader, the planner, the DynamoDB adapter and the tests all
//! go through it.

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
pub const FACTS: [Fact; 14] = [
    fact("channel", &["channel"], Kind::UpperCase),
    fact("initiationMethod", &["initiationMethod"], Kind::Text),
    fact("instanceArn", &["instanceArn"], Kind::Text),
    fact("initialContactId", &["initialContactId"], Kind::Text),
    fact("previousContactId", &["previousContactId"], Kind::Text),
    fact("relatedContactId", &["relatedContactId"], Kind::Text),
    fact("queueArn", &["queueInfo", "queueArn"], Kind::Text),
    fact(
        "enqueueTimestamp",
        &["queueInfo", "enqueueTimestamp"],
        Kind::Timestamp,
    ),
    fact("agentArn", &["agentInfo", "agentArn"], Kind::Text),
    fact(
        "connectedToAgentTimestamp",
        &["agentInfo", "connectedToAgentTimestamp"],
        Kind::Timestamp,
    ),
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
];

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
        for fact in &FACTS {
            assert!(
                table.contains(fact.attribute),
                "{} is not in the README's table contract",
                fact.attribute
            );
        }
    }

    #[test]
    fn a_fact_is_set_and_read_by_its_attribute_and_unknown_attributes_are_no_facts() {
        let facts = Facts::of([("queueArn", "arn:q"), ("notAFact", "x")]);
        assert_eq!(facts.get("queueArn"), Some("arn:q"));
        assert_eq!(facts.known().count(), 1);
    }
}
