//! The live views (docs/contract.md, "Live views"): two sparse indexes that list a contact while
//! it waits in a queue (`queued`) or is with an agent (`withAgent`). Everything about them lives
//! here: which index lists an item, the index key limits, what a write settles by itself, and
//! the fix-up write for what it cannot. The planner asks; the DynamoDB adapter only maps the
//! attribute names and values this module hands it.
//!
//! Not here: the index definitions (`template.yaml`) and the reader (`src/view_reader.rs`).

use crate::facts::{PLACES, PlaceName, Places};

/// One view: a sparse index whose partition key attribute holds a place's ARN while the contact
/// is in one of `states` and the place's pair is known; its sort key is the place's timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct View {
    /// The index, and its partition key attribute.
    pub index: &'static str,
    pub attribute: &'static str,
    /// The place it lists.
    pub place: PlaceName,
    pub states: &'static [&'static str],
}

impl View {
    /// The index's sort key attribute: the place's timestamp.
    pub fn sort_key(&self) -> &'static str {
        PLACES.get(self.place).since
    }
}

/// Something of each view, by name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Views<T> {
    pub queued: T,
    pub with_agent: T,
}

impl<T> Views<T> {
    pub fn map<U>(self, mut f: impl FnMut(T) -> U) -> Views<U> {
        Views {
            queued: f(self.queued),
            with_agent: f(self.with_agent),
        }
    }

    pub fn zip<U>(self, other: Views<U>) -> Views<(T, U)> {
        Views {
            queued: (self.queued, other.queued),
            with_agent: (self.with_agent, other.with_agent),
        }
    }

    pub fn as_ref(&self) -> Views<&T> {
        Views {
            queued: &self.queued,
            with_agent: &self.with_agent,
        }
    }

    /// The entry of the view whose attribute is `attribute`.
    pub fn by_attribute_mut(&mut self, attribute: &str) -> Option<&mut T> {
        if attribute == VIEWS.queued.attribute {
            Some(&mut self.queued)
        } else if attribute == VIEWS.with_agent.attribute {
            Some(&mut self.with_agent)
        } else {
            None
        }
    }
}

/// `queued`'s, then `withAgent`'s.
impl<T> IntoIterator for Views<T> {
    type Item = T;
    type IntoIter = std::array::IntoIter<T, 2>;

    fn into_iter(self) -> Self::IntoIter {
        [self.queued, self.with_agent].into_iter()
    }
}

/// `queued`: who waits in which queue; `withAgent`: what each agent is handling.
pub const VIEWS: Views<View> = Views {
    queued: View {
        index: "queued",
        attribute: "queuedIn",
        place: PlaceName::Queue,
        states: &["QUEUED"],
    },
    with_agent: View {
        index: "withAgent",
        attribute: "withAgent",
        place: PlaceName::Agent,
        // DISCONNECTED: the agent is still busy with the contact, in after-contact work, until
        // COMPLETED (which alone, or Connect's `DescribeContact`, says when it ended).
        states: &["CONNECTED_TO_AGENT", "PAUSED", "RESUMED", "DISCONNECTED"],
    },
};

/// What a listed contact is doing, as a supervisor says it: `waiting` (in `queued`), `with
/// agent`, `paused`, and `after-contact work` (a `withAgent` entry whose contact has
/// disconnected; docs/contract.md, "Live views"). `None` for a state no view lists.
pub fn phase(state: &str) -> Option<&'static str> {
    match state {
        "QUEUED" => Some("waiting"),
        "CONNECTED_TO_AGENT" | "RESUMED" => Some("with agent"),
        "PAUSED" => Some("paused"),
        "DISCONNECTED" => Some("after-contact work"),
        _ => None,
    }
}

/// DynamoDB's limits on index key values, in bytes: a value over them would fail every write of
/// the item, so such a contact is stored but not listed.
pub const INDEX_PARTITION_KEY_MAX_BYTES: usize = 2_048;
pub const INDEX_SORT_KEY_MAX_BYTES: usize = 1_024;

/// A view attribute to set (`Some(arn)`) or remove (`None`).
pub type ViewChange = (&'static str, Option<String>);

/// The ARN of a place pair that a view can list: its timestamp is real, and both fit DynamoDB's
/// index key limits (a longer value would fail the write; the contact is just not listed).
pub fn listable(arn: &str, since: Option<&str>) -> Option<String> {
    let since = since?;
    (arn.len() <= INDEX_PARTITION_KEY_MAX_BYTES && since.len() <= INDEX_SORT_KEY_MAX_BYTES)
        .then(|| arn.to_owned())
}

/// What each view attribute must hold for an item in `state` whose places can be listed as
/// `listed` (each place's [`listable`] ARN): the place's ARN while the state is the view's.
pub fn required(state: Option<&str>, listed: &Places<Option<String>>) -> Views<Option<String>> {
    VIEWS.map(|view| {
        state
            .is_some_and(|state| view.states.contains(&state))
            .then(|| listed.get(view.place).clone())
            .flatten()
    })
}

/// The view attributes a write that sets `state` settles by itself: a view whose state it is
/// not is removed; a view whose state it is, when the write also sets the view's place
/// (`places`: the ARN and timestamp the write sets, if any). The others depend on what the
/// item holds, which only the store's answer tells: see [`fix`].
pub fn settled_by(state: &str, places: &Places<Option<(&str, Option<&str>)>>) -> Vec<ViewChange> {
    VIEWS
        .into_iter()
        .filter_map(|view| {
            if !view.states.contains(&state) {
                return Some((view.attribute, None));
            }
            let (arn, since) = (*places.get(view.place))?;
            Some((view.attribute, listable(arn, since)))
        })
        .collect()
}

/// The changes that bring `current` view attributes to `required` ones; empty when they agree.
pub fn fix(current: &Views<Option<String>>, required: Views<Option<String>>) -> Vec<ViewChange> {
    VIEWS
        .zip(current.as_ref().zip(required))
        .into_iter()
        .filter(|(_, (now, required))| *now != required)
        .map(|(view, (_, required))| (view.attribute, required))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(queue: Option<&str>, agent: Option<&str>) -> Places<Option<String>> {
        Places {
            queue: queue.map(str::to_owned),
            agent: agent.map(str::to_owned),
        }
    }

    #[test]
    fn an_item_is_in_queued_exactly_while_queued_with_a_known_queue_pair() {
        let places = listed(Some("arn:q"), Some("arn:a"));
        assert_eq!(
            required(Some("QUEUED"), &places),
            Views {
                queued: Some("arn:q".into()),
                with_agent: None
            }
        );
        assert_eq!(
            required(Some("QUEUED"), &listed(None, None)),
            Views::default()
        );
        assert_eq!(required(Some("COMPLETED"), &places), Views::default());
    }

    #[test]
    fn an_item_is_in_with_agent_while_connected_paused_or_resumed() {
        let places = listed(Some("arn:q"), Some("arn:a"));
        for state in ["CONNECTED_TO_AGENT", "PAUSED", "RESUMED"] {
            assert_eq!(
                required(Some(state), &places).with_agent.as_deref(),
                Some("arn:a")
            );
        }
    }

    #[test]
    fn an_agent_in_after_contact_work_keeps_the_contact_in_with_agent_until_completed() {
        let places = listed(Some("arn:q"), Some("arn:a"));
        assert_eq!(
            required(Some("DISCONNECTED"), &places)
                .with_agent
                .as_deref(),
            Some("arn:a")
        );
        assert_eq!(required(Some("COMPLETED"), &places).with_agent, None);
        // A contact that never reached an agent leaves every view when it disconnects.
        assert_eq!(
            required(Some("DISCONNECTED"), &listed(Some("arn:q"), None)),
            Views::default()
        );
    }

    #[test]
    fn readers_tell_waiting_with_agent_and_paused_apart() {
        assert_eq!(phase("QUEUED"), Some("waiting"));
        assert_eq!(phase("CONNECTED_TO_AGENT"), Some("with agent"));
        assert_eq!(phase("RESUMED"), Some("with agent"));
        assert_eq!(phase("PAUSED"), Some("paused"));
        assert_eq!(phase("DISCONNECTED"), Some("after-contact work"));
        assert_eq!(phase("COMPLETED"), None);
        // Every state a view lists has a phase.
        for view in VIEWS {
            for state in view.states {
                assert!(phase(state).is_some(), "{state}");
            }
        }
    }

    #[test]
    fn a_value_an_index_key_cannot_hold_is_not_listed() {
        assert_eq!(
            listable(&"a".repeat(INDEX_PARTITION_KEY_MAX_BYTES + 1), Some("t")),
            None
        );
        assert_eq!(
            listable("arn", Some(&"t".repeat(INDEX_SORT_KEY_MAX_BYTES + 1))),
            None
        );
        assert_eq!(listable("arn", None), None);
        assert_eq!(listable("arn", Some("t")).as_deref(), Some("arn"));
    }

    #[test]
    fn a_write_settles_a_view_it_leaves_or_whose_place_it_sets() {
        let none = Places::default();
        assert_eq!(
            settled_by("COMPLETED", &none),
            vec![("queuedIn", None), ("withAgent", None)]
        );
        // Queued without the queue: `queued` depends on the stored queue, left to the fix.
        assert_eq!(settled_by("QUEUED", &none), vec![("withAgent", None)]);
        let queue = Places {
            queue: Some(("arn:q", Some("2024-05-06T10:00:01Z"))),
            agent: None,
        };
        assert_eq!(
            settled_by("QUEUED", &queue),
            vec![("queuedIn", Some("arn:q".into())), ("withAgent", None)]
        );
    }

    #[test]
    fn the_fix_changes_only_the_views_that_disagree() {
        let current = Views {
            queued: Some("arn:q".into()),
            with_agent: None,
        };
        assert_eq!(fix(&current, current.clone()), vec![]);
        assert_eq!(fix(&current, Views::default()), vec![("queuedIn", None)]);
    }
}
