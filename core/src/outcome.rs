//! How one event ended. One value per event, decided in [`crate::apply`] (or by the reader, for a
//! refusal): the log line, the metrics and the answer to Lambda are all derived from it.

use std::fmt;
use std::time::Duration;

use crate::event::Refusal;
use crate::plan::MAX_WRITES;
use crate::store::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The event moved the item's state, routing or latest-event time (and may have filled facts).
    Applied {
        state_before: Option<String>,
        state: Option<String>,
        facts_filled: usize,
    },
    /// Older than the item: nothing to move. Facts the item lacked were filled in, if any.
    Stale {
        state: Option<String>,
        facts_filled: usize,
    },
    /// The item already reflects an event of this very time and has everything this one says:
    /// a redelivery, as the stream sends them.
    Duplicate { state: Option<String> },
    /// An event type this version does not know: nothing written.
    Ignored,
    /// The input breaks the contract: nothing written, and retrying cannot help.
    Refused(Refusal),
    /// The table did not take the write: retrying may help (applying an event twice is harmless).
    Failed(Failure),
}

/// Why a write did not go through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// DynamoDB failed after the store's own retries.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// Other writers kept changing the item between our conditional writes.
    #[error("the item kept changing during {MAX_WRITES} conditional writes")]
    Contended,
    /// The table did not answer in the time the invocation had left. The write may or may not
    /// have been applied.
    #[error("no answer from the table within the {} ms the invocation had left", .0.as_millis())]
    OutOfTime(Duration),
}

impl Outcome {
    /// The `outcome` word of the log line and the `Outcome` metric dimension.
    pub const NAMES: [&'static str; 6] = [
        "applied",
        "stale",
        "duplicate",
        "ignored",
        "refused",
        "failed",
    ];

    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Applied { .. } => "applied",
            Outcome::Stale { .. } => "stale",
            Outcome::Duplicate { .. } => "duplicate",
            Outcome::Ignored => "ignored",
            Outcome::Refused(_) => "refused",
            Outcome::Failed(_) => "failed",
        }
    }

    /// Refused and failed events fail the invocation, so that Lambda retries them and then hands
    /// them to the on-failure destination: nothing is lost silently.
    pub fn is_error(&self) -> bool {
        matches!(self, Outcome::Refused(_) | Outcome::Failed(_))
    }

    /// The `errorType` Lambda records for a failed invocation.
    pub fn error_type(&self) -> Option<&'static str> {
        match self {
            Outcome::Refused(_) => Some("Refused"),
            Outcome::Failed(Failure::Store(_)) => Some("StoreFailed"),
            Outcome::Failed(Failure::Contended) => Some("Contended"),
            Outcome::Failed(Failure::OutOfTime(_)) => Some("OutOfTime"),
            _ => None,
        }
    }

    /// The state stored after this event, where known.
    pub fn state(&self) -> Option<&str> {
        match self {
            Outcome::Applied { state, .. }
            | Outcome::Stale { state, .. }
            | Outcome::Duplicate { state } => state.as_deref(),
            _ => None,
        }
    }

    /// The state stored before this event, when this event moved it.
    pub fn state_before(&self) -> Option<&str> {
        match self {
            Outcome::Applied {
                state_before,
                state,
                ..
            } if state_before != state => state_before.as_deref(),
            _ => None,
        }
    }

    /// Facts this event added to the item.
    pub fn facts_filled(&self) -> usize {
        match self {
            Outcome::Applied { facts_filled, .. } | Outcome::Stale { facts_filled, .. } => {
                *facts_filled
            }
            _ => 0,
        }
    }
}

impl fmt::Display for Outcome {
    /// The outcome word, and for refusals and failures the reason: one line, no payload value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Refused(refusal) => write!(f, "refused: {refusal}"),
            Outcome::Failed(failure) => write!(f, "failed: {failure}"),
            other => f.write_str(other.name()),
        }
    }
}

/// What the conversation with the table took, kept on failure too.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Conditional writes sent (each may have been retried by the store).
    pub requests: usize,
    /// Writes rejected because the item had moved on (duplicates, late events, races).
    pub rejections: usize,
    /// Store-level retries across the writes (throttling, 5xx, lost connections).
    pub retries: u32,
    /// Write capacity units the writes were billed (rejected ones included).
    pub write_units: u32,
    /// Time spent waiting for the table, retries and backoff included.
    pub store_time: Duration,
}

/// One event's outcome and what it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub outcome: Outcome,
    pub tally: Tally,
}
