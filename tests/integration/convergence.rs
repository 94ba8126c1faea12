//! "Whatever the order, duplication and concurrency, the item must end exactly as if every event
//! had been applied once, in true order." Checked as a property over generated lifecycles.

use crate::support::corpus::{delivered, lifecycle};
use crate::support::memory::{MemoryItem, MemoryStore};
use connect_contact_state::handler::Handler;
use proptest::prelude::*;

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
        prop_assert_eq!(shuffled, truth);
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
