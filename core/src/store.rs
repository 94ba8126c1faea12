//! The port between the handler and the table: one conditional write.

use std::future::Future;

use crate::plan::{StoredItem, Write};

/// What the store answered to a [`Write`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOutcome {
    /// The write was applied; `before` is the item as it was (empty for a new contact).
    Written { before: StoredItem },
    /// A dimension of the write was not newer than the stored one: nothing was written.
    /// `current` is the item as the store holds it, to plan again without reading.
    Rejected { current: StoredItem },
}

/// What the store answered, how many times it had to retry to get that answer (throttling,
/// 5xx, lost connections), and what the write was billed, for logs, metrics and cost figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub outcome: WriteOutcome,
    pub retries: u32,
    /// Write capacity units the store charged for the request (a rejected conditional write is
    /// charged too); 1 when the store does not say.
    pub write_units: u32,
}

impl From<WriteOutcome> for Answer {
    /// An answer that took no retries and one write unit.
    fn from(outcome: WriteOutcome) -> Answer {
        Answer {
            outcome,
            retries: 0,
            write_units: 1,
        }
    }
}

/// A failure after the store's own retries: the event was not (or not surely) persisted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{operation} failed: {message}")]
pub struct StoreError {
    pub operation: &'static str,
    pub message: String,
}

pub trait ContactStore {
    fn write(&self, write: &Write<'_>) -> impl Future<Output = Result<Answer, StoreError>> + Send;
}
