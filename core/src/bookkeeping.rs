//! The item's bookkeeping attributes, all in one table: the ordering keys and the latest event's
//! time, which the conditions compare and readers never need (docs/contract.md, "One item per
//! contact"), with the names earlier versions gave them. Two-character names: the keys ride on
//! every item, and every byte of an item counts towards the 1 KB a write unit pays for
//! (docs/performance.md).
//!
//! Upgrading in place: an item written before the rename still carries its keys under the
//! former names. Every write compares against both and removes the former one, and the stored
//! item is read from either, so events of contacts in progress during a deploy keep their order.

/// `state`'s ordering key ([`crate::ordering::state_key`]).
pub const STATE_KEY: &str = "_s";
/// The routing snapshot's ordering key ([`crate::ordering::routing_key`]).
pub const ROUTING_KEY: &str = "_r";
/// The queue pair's ordering key ([`crate::ordering::place_key`]).
pub const QUEUE_KEY: &str = "_q";
/// The agent pair's ordering key.
pub const AGENT_KEY: &str = "_a";
/// The user tags' ordering key ([`crate::ordering::tags_key`]).
pub const TAGS_KEY: &str = "_t";
/// Epoch seconds of the latest event's envelope `time`.
pub const LAST_EVENT_AT: &str = "_e";

/// Each bookkeeping attribute, with its name before the rename.
pub const BOOKKEEPING: [(&str, &str); 6] = [
    (STATE_KEY, "stateKey"),
    (ROUTING_KEY, "routingKey"),
    (QUEUE_KEY, "queueKey"),
    (AGENT_KEY, "agentKey"),
    (TAGS_KEY, "tagsKey"),
    (LAST_EVENT_AT, "lastEventAt"),
];

/// The name `name` had before the rename, if it had another.
pub fn former(name: &str) -> Option<&'static str> {
    BOOKKEEPING
        .iter()
        .find(|(now, _)| *now == name)
        .map(|(_, before)| *before)
}

/// An attribute earlier versions wrote and this one no longer does: the write that would have
/// set it removes it. `routingActivationTimestamp` is derivable from `routingSteps`
/// (docs/contract.md, "The facts real events carry").
pub const RETIRED_WITH_ROUTING: &str = "routingActivationTimestamp";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bookkeeping_name_is_short_and_had_one_former_name() {
        for (now, before) in BOOKKEEPING {
            assert!(now.len() <= 2, "{now}");
            assert!(now.starts_with('_'), "{now}");
            assert_eq!(former(now), Some(before));
            assert_eq!(former(before), None);
        }
        assert_eq!(former("state"), None);
    }
}
