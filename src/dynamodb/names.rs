//! The item's bookkeeping attributes — ordering keys and the latest event's time, which readers
//! never need (docs/contract.md, "One item per contact") — and the names earlier versions gave
//! them. Two-character names: the keys ride on every item, and every byte of an item counts
//! towards the 1 KB a write unit pays for (docs/performance.md).
//!
//! Upgrading in place: an item written before the rename still carries its keys under the old
//! names. Every write compares against both, removes the old one, and the stored item is read
//! from either, so events of contacts in progress during a deploy keep their order.

use contact_state_core::facts::{PLACES, TAGS_KEY};

/// `state`'s ordering key.
pub const STATE_KEY: &str = "_s";
/// The routing snapshot's ordering key.
pub const ROUTING_KEY: &str = "_r";
/// Epoch seconds of the latest event's envelope `time`.
pub const LAST_EVENT_AT: &str = "_e";

/// Each bookkeeping attribute with its name before the rename.
const RENAMED: [(&str, &str); 6] = [
    (STATE_KEY, "stateKey"),
    (ROUTING_KEY, "routingKey"),
    (LAST_EVENT_AT, "lastEventAt"),
    (PLACES.queue.key, "queueKey"),
    (PLACES.agent.key, "agentKey"),
    (TAGS_KEY, "tagsKey"),
];

/// The name `name` had before the rename, if it had another.
pub fn former(name: &str) -> Option<&'static str> {
    RENAMED
        .iter()
        .find(|(now, _)| *now == name)
        .map(|(_, before)| *before)
}

/// Attributes earlier versions wrote and this one no longer does: the write that would have
/// set one removes it. `routingActivationTimestamp` is derivable from `routingSteps`
/// (docs/contract.md, "The facts real events carry").
pub const RETIRED_WITH_ROUTING: &str = "routingActivationTimestamp";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bookkeeping_name_is_short_and_had_one_former_name() {
        for (now, before) in RENAMED {
            assert!(now.len() <= 2, "{now}");
            assert_eq!(former(now), Some(before));
            assert_eq!(former(before), None);
        }
        assert_eq!(former("state"), None);
    }
}
