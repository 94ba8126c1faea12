//! "Whatever the order, duplication and concurrency, the item must end exactly as if every event
//! had been applied once, in true order." Checked as a property over generated lifecycles.

use crate::support::corpus::{delivered, lifecycle};
use crate::support::memory::{MemoryItem, MemoryStore};
use connect_contact_state::handler::Handler;
use proptest::prelude::*;

/// The events through one environment (which remembers what the store told it).
fn run(events: &[Vec<u8>]) -> MemoryItem {
    let handler = Handler::new(MemoryStore::default(), 90);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    for event in events {
        runtime.block_on(handler.handle(event)).expect("accepted");
    }
    let items = handler.store().items.lock().expect("not poisoned");
    assert_eq!(items.len(), 1);
    items.values().next().cloned().expect("one item")
}

/// Each event through a new environment that knows nothing of the item.
fn run_in_fresh_environments(events: &[Vec<u8>]) -> MemoryItem {
    let store = MemoryStore::default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    for event in events {
        let handler = Handler::new(&store, 90);
        runtime.block_on(handler.handle(event)).expect("accepted");
    }
    let items = store.items.lock().expect("not poisoned");
    items.values().next().cloned().expect("one item")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn any_permutation_and_duplication_of_a_contacts_events_ends_in_the_true_order_item(
        lifecycle_seed in any::<u64>(),
        delivery_seed in any::<u64>(),
    ) {
        let events = lifecycle("c-1", lifecycle_seed);
        let truth = run(&events);
        let shuffled = run(&delivered(&events, delivery_seed));
        prop_assert_eq!(shuffled, truth.clone());
        let shuffled = run_in_fresh_environments(&delivered(&events, delivery_seed));
        prop_assert_eq!(shuffled, truth);
    }

    /// "An item carries `queuedIn` / `withAgent` exactly when the rule holds": the view
    /// attributes are a function of the final state and places, whatever the delivery.
    #[test]
    fn the_view_attributes_are_exactly_what_the_final_state_and_places_call_for(
        lifecycle_seed in any::<u64>(),
        delivery_seed in any::<u64>(),
    ) {
        let events = delivered(&lifecycle("c-1", lifecycle_seed), delivery_seed);
        for item in [run(&events), run_in_fresh_environments(&events)] {
            let stored = item.stored();
            prop_assert_eq!(&item.views, &stored.required_views(), "{:?}", item);
            let queued = item.state.as_deref() == Some("QUEUED") && item.places.queue.is_some();
            prop_assert_eq!(item.views.queued.is_some(), queued, "{:?}", item);
        }
    }

    #[test]
    fn the_true_order_item_has_the_last_lifecycle_state_and_every_fact(lifecycle_seed in any::<u64>()) {
        let events = lifecycle("c-1", lifecycle_seed);
        let item = run(&events);
        let last_state = events.iter().rev().find_map(|event| {
            let event: serde_json::Value = serde_json::from_slice(event).ok()?;
            let detail = &event["detail"];
            let event_type = detail.get("eventType").or_else(|| detail.get("EventType"))?.as_str()?;
            (!matches!(event_type, "CONTACT_DATA_UPDATED" | "AMD_DISABLED")).then(|| event_type.to_owned())
        });
        prop_assert_eq!(item.state, last_state);
        prop_assert!(item.facts.iter().any(|(name, _)| *name == "initiationTimestamp"));
        prop_assert!(item.facts.iter().all(|(_, value)| !value.starts_with("1970-01-01T")));
    }
}
