//! Archive and replay: EventBridge can replay an archived stream into the function
//! (docs/operations.md, "Archive and replay"). Safe by construction — every write is conditional and
//! idempotent — and shown here with the real binary: a recorded stream pushed twice onto the
//! same table changes nothing the second time, and once onto an empty table gives the same items.

use crate::support::corpus::{lifecycle, stream};
use crate::support::{Table, by_contact, concurrently, endpoint, fresh_table, functions};

/// The stream through 4 fresh processes of the binary (a replay starts new environments).
async fn push(table: &Table, events: &[Vec<u8>]) {
    let (api, _children) = functions(table, 4, &endpoint()).await;
    let answers = concurrently(events.to_vec(), 8, |event| {
        let api = api.clone();
        async move { api.invoke(event).await }
    })
    .await;
    for answer in answers {
        answer.expect("every event accepted");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_replay_onto_the_same_table_changes_nothing_and_onto_an_empty_one_gives_the_same_items() {
    let lifecycles: Vec<_> = (0..60)
        .map(|n| lifecycle(&format!("replayed-{n:03}"), n * 6_151 + 9))
        .collect();
    let recorded = stream(&lifecycles, 77);

    let table = fresh_table().await;
    push(&table, &recorded).await;
    let first = by_contact(table.items().await);
    assert_eq!(first.len(), lifecycles.len());
    // The replay arrives in an order of its own.
    let mut replay = recorded.clone();
    replay.reverse();
    push(&table, &replay).await;
    assert_eq!(
        by_contact(table.items().await),
        first,
        "a replay changed items"
    );

    let rebuilt = fresh_table().await;
    push(&rebuilt, &replay).await;
    assert_eq!(
        by_contact(rebuilt.items().await),
        first,
        "a rebuilt table differs"
    );
}
