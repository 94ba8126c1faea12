//! The port between the handler and the table: one conditional write.

use std::future::Future;

use crate::plan::{Stored, Write};

/// What the store answered to a [`Write`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOutcome {
    /// The write was applied; `before` is the item as it was (empty for a new contact).
    Written { before: Stored },
    /// A dimension of the write was not newer than the stored one: nothing was written.
    /// `current` is the item as the store holds it, to plan again without reading.
    Rejected { current: Stored },
}

/// What the store answered, and how many times it had to retry to get that answer (throttling,
/// 5xx, lost connections), for logs and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub outcome: WriteOutcome,
    pub retries: u32,
}

impl From<WriteOutcome> for Answer {
    /// An answer that took no retries.
    fn from(outcome: WriteOutcome) -> Answer {
        Answer {
            outcome,
            retries: 0,
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
