//! What each dimension does to a write is written down three times: the planner's
//! `Write::applied_to` (what an environment remembers), the adapter's expressions (what DynamoDB
//! does) and the in-memory store the property tests use. This holds the three to one answer:
//! every write of shuffled, redelivered lifecycles goes to DynamoDB Local and to the in-memory
//! store, and both must answer alike and end with the item `applied_to` predicts.

use std::sync::Mutex;

use connect_contact_state::dynamodb::DynamoDbStore;
use connect_contact_state::handler::Handler;
use connect_contact_state::store::{
    Answer, ContactStore, StoreError, StoredItem, Write, WriteOutcome,
};

use crate::support::corpus::{delivered, lifecycle};
use crate::support::memory::MemoryStore;
use crate::support::{RETENTION_DAYS, Table, fresh_table, stored};

/// Sends every write to both stores and checks them against each other and the planner.
struct BothStores<'a> {
    table: &'a Table,
    dynamodb: DynamoDbStore,
    memory: MemoryStore,
    writes: Mutex<usize>,
}

/// Facts in one order: the three keep them in different orders, which means nothing.
fn normalised(mut item: StoredItem) -> StoredItem {
    item.facts.sort_unstable();
    item
}

impl ContactStore for BothStores<'_> {
    async fn write(&self, write: &Write<'_>) -> Result<Answer, StoreError> {
        let answer = self.dynamodb.write(write).await?;
        let memory = self.memory.write(write).await?;
        let normalise = |outcome: &WriteOutcome| match outcome.clone() {
            WriteOutcome::Written { before } => WriteOutcome::Written {
                before: normalised(before),
            },
            WriteOutcome::Rejected { current } => WriteOutcome::Rejected {
                current: normalised(current),
            },
        };
        assert_eq!(
            normalise(&answer.outcome),
            normalise(&memory.outcome),
            "DynamoDB and the in-memory store answered {write:?} differently"
        );
        let item = self.table.item(write.contact_id).await.expect("the item");
        let after = normalised(stored(&item));
        let in_memory = self
            .memory
            .items
            .lock()
            .expect("not poisoned")
            .get(write.contact_id)
            .expect("the item")
            .stored();
        assert_eq!(after, normalised(in_memory), "after {write:?}");
        if let WriteOutcome::Written { before } = &answer.outcome {
            assert_eq!(
                after,
                normalised(write.applied_to(before.clone())),
                "applied_to disagrees with DynamoDB on {write:?}"
            );
        }
        *self.writes.lock().expect("not poisoned") += 1;
        Ok(answer)
    }
}

#[tokio::test]
async fn the_planner_the_expressions_and_the_in_memory_store_agree_on_every_write() {
    let table = fresh_table().await;
    let both = BothStores {
        table: &table,
        dynamodb: DynamoDbStore::new(table.client.clone(), &table.name),
        memory: MemoryStore::default(),
        writes: Mutex::new(0),
    };
    // A fresh environment per event: every write is planned from what the store answered.
    for n in 0..30_u64 {
        let events = delivered(&lifecycle(&format!("agree-{n}"), n * 7_919 + 3), n);
        for event in &events {
            Handler::new(&both, RETENTION_DAYS)
                .handle(event)
                .await
                .expect("accepted");
        }
    }
    let writes = *both.writes.lock().expect("not poisoned");
    assert!(writes > 200, "{writes} writes");
}

/// Each handler borrows the pair.
impl ContactStore for &BothStores<'_> {
    async fn write(&self, write: &Write<'_>) -> Result<Answer, StoreError> {
        (*self).write(write).await
    }
}
