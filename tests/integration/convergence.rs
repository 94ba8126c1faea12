//! "Whatever the order, duplication and concurrency, the item must end exactly as if every event
//! had been applied once, in true order." Checked as a property over generated lifecycles.

use crate::support::corpus::{Rng, delivered, lifecycle};
use crate::support::memory::{MemoryItem, MemoryStore};
use connect_contact_state::apply::{Target, apply};
use connect_contact_state::event::{self, ContactEvent};
use connect_contact_state::facts::FACTS;
use connect_contact_state::handler::Handler;
use connect_contact_state::outcome::Tally;
use connect_contact_state::recent::RecentItems;
use connect_contact_state::reconcile::{self, AgentSays, ConnectSays};
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

/// What Connect's `DescribeContact` would say of the contact whose true item is `item`.
fn connect_says(item: &MemoryItem) -> ConnectSays {
    let fact = |name: &str| {
        item.facts
            .iter()
            .find(|(fact, _)| *fact == name)
            .map(|(_, value)| value.clone())
    };
    let millis = |iso: Option<String>| {
        iso.and_then(|at| chrono::DateTime::parse_from_rfc3339(&at).ok())
            .map(|at| at.timestamp_millis())
    };
    let id = |arn: &str| arn.rsplit('/').next().unwrap_or(arn).to_owned();
    let instance_arn = fact("instanceArn").unwrap_or_default();
    // Connect's answer carries the facts where an event's `detail` does (the fact table's
    // sources): `event::parse` reads both alike.
    let mut detail = serde_json::Map::new();
    for (name, value) in &item.facts {
        let Some(fact) = FACTS.iter().find(|fact| fact.attribute == *name) else {
            continue;
        };
        if fact.completed_only || *name == "disconnectTimestamp" {
            continue;
        }
        let mut at = &mut detail;
        let (last, parents) = fact.source.split_last().expect("a source");
        for parent in parents {
            at = at
                .entry(*parent)
                .or_insert_with(|| serde_json::json!({}))
                .as_object_mut()
                .expect("an object");
        }
        at.insert((*last).to_owned(), serde_json::json!(value));
    }
    ConnectSays {
        contact_id: "c-1".into(),
        detail,
        disconnect_timestamp: millis(fact("disconnectTimestamp")),
        queue: item
            .places
            .queue
            .as_ref()
            .map(|(arn, since, _)| (id(arn), millis(since.clone()))),
        agent: item.places.agent.as_ref().map(|(arn, since, _)| AgentSays {
            id: id(arn),
            connected_to_agent_timestamp: millis(since.clone()),
            // Connect starts after-contact work at the disconnect.
            after_contact_work_start_timestamp: millis(fact("disconnectTimestamp")),
            after_contact_work_end_timestamp: millis(fact("afterContactWorkEndTimestamp")),
            after_contact_work_duration: fact("afterContactWorkDuration")
                .and_then(|seconds| seconds.parse().ok()),
        }),
        instance_arn,
        listed_arns: Vec::new(),
    }
}

/// Events and Connect's answers, in the given order, through one environment.
fn run_with_answers(order: &[Delivery]) -> MemoryItem {
    let store = MemoryStore::default();
    let recent = RecentItems::default();
    let target = Target {
        store: &store,
        recent: &recent,
        retention_days: 90,
        views: true,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    for delivery in order {
        let event = match delivery {
            Delivery::Stream(payload) => event::parse(payload).expect("accepted"),
            Delivery::Connect(event) => (**event).clone(),
        };
        let mut tally = Tally::default();
        let outcome = runtime.block_on(apply(&target, &event, 1_900_000_000, &mut tally));
        assert!(!outcome.is_error(), "{outcome:?}");
    }
    let items = store.items.lock().expect("not poisoned");
    items.values().next().cloned().expect("one item")
}

#[derive(Debug, Clone)]
enum Delivery {
    Stream(Vec<u8>),
    Connect(Box<ContactEvent>),
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// docs/contract.md, "Reconciling with Connect": Connect's answers — one taken at any
    /// moment of the contact's life (in progress too: a CONNECTED_TO_AGENT), and the final one —
    /// applied at any point of a shuffled, duplicated stream (before the events they stand for,
    /// after them, between, twice) end in the same item as the events alone.
    #[test]
    fn any_interleaving_of_the_events_and_connects_answers_ends_in_the_true_order_item(
        lifecycle_seed in any::<u64>(),
        delivery_seed in any::<u64>(),
    ) {
        let events = lifecycle("c-1", lifecycle_seed);
        let truth = run(&events);
        let mut rng = Rng::new(delivery_seed ^ lifecycle_seed);
        let moment = 1 + rng.below(events.len() as u64) as usize;
        let mut answers = reconcile::events(&connect_says(&run(&events[..moment])));
        answers.extend(reconcile::events(&connect_says(&truth)));
        let mut order: Vec<Delivery> = delivered(&events, delivery_seed)
            .into_iter()
            .map(Delivery::Stream)
            .collect();
        for answer in answers.iter().chain(answers.iter().take(rng.below(3) as usize)) {
            let at = rng.below(order.len() as u64 + 1) as usize;
            order.insert(at, Delivery::Connect(Box::new(answer.clone())));
        }
        let item = run_with_answers(&order);
        prop_assert_eq!(item, truth);
    }

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
