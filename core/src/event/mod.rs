//! An EventBridge "Amazon Connect Contact Event" as the function reads it: the model
//! ([`ContactEvent`]), what refuses an event ([`Refusal`]), and [`parse`], tolerant of the
//! stream's quirks (docs/contract.md, "Input"): keys in any ASCII case (camelCase, PascalCase,
//! `instanceARN`), `routingCriteria` as one object or an array, upper-cased channel, unknown
//! fields and event types accepted, placeholder timestamps dropped. A damaged optional field
//! (wrong type, unreadable timestamp, oversize value) is treated as absent and named in
//! [`ContactEvent::damaged`]; only what the contract refuses comes back as a [`Refusal`].
//!
//! - `parse`: the steps, in the contract's order (envelope, required fields, facts, places,
//!   routing, tags);
//! - `lenient`: reading JSON lazily and leniently, with the one copy of the value rules
//!   (length, timestamps, placeholders);
//! - `scrub`: error messages without the payload's values (they may be customer data).
//!
//! The envelope and `detail` are read as raw JSON values (`RawValue`), so a value is looked at
//! only where a field is read: a wrong type there costs that field, never the event, and a
//! deeply nested unknown field is skipped without recursion. (`aws_lambda_events`'
//! `EventBridgeEvent` would refuse a whole event for one unreadable `time`.)

use serde::{Deserialize, Serialize};

use crate::facts::{Facts, PlaceSeen, Places};
use crate::ordering::Lifecycle;

mod lenient;
mod parse;
mod scrub;
#[cfg(test)]
mod tests;

pub use parse::{envelope_id, parse};

pub const SOURCE: &str = "aws.connect";
pub const DETAIL_TYPE: &str = "Amazon Connect Contact Event";
/// `contactId` length limits of the Connect data model.
pub const CONTACT_ID_MAX_CHARS: usize = 256;
/// Longest value stored from an event field (ARNs are at most 2,048 characters). Longer values are
/// no Connect value: they are treated as absent, like placeholders, so that no event can grow an
/// item towards DynamoDB's 400 KB limit (a write over it would fail on every retry).
pub const VALUE_MAX_CHARS: usize = 2_048;
/// Most routing steps stored: Connect's routing criteria have a handful. A criteria with more is
/// treated as absent, for the same reason.
pub const ROUTING_STEPS_MAX: usize = 64;
/// Longest timestamp read: an ISO-8601 instant is about 30 bytes. A longer one (digits without
/// end) is no timestamp Connect sends, and could not be an index sort key.
pub const TIMESTAMP_MAX_BYTES: usize = 64;

/// Why an event is refused. Each message is one line that names the offending field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("{path}: {message}")]
    Malformed { path: String, message: String },
    #[error(
        "not an Amazon Connect contact event: source is {event_source:?}, detail-type is {detail_type:?}"
    )]
    NotContactEvent {
        event_source: String,
        detail_type: String,
    },
    #[error("detail.contactId is missing")]
    MissingContactId,
    #[error("detail.contactId must be 1-{CONTACT_ID_MAX_CHARS} characters, got {0}")]
    ContactIdLength(usize),
    #[error("detail.eventType is missing")]
    MissingEventType,
}

/// What an event says, once read. Strings are owned: events are small and read once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactEvent {
    /// The EventBridge event `id`, for logs.
    pub id: Option<String>,
    pub contact_id: String,
    pub event_type: EventType,
    /// Envelope `time` in epoch seconds (one-second resolution), if the event had one.
    pub time: Option<i64>,
    pub facts: Facts,
    /// Where the contact is (its queue, its agent), as this event says.
    pub places: Places<Option<PlaceSeen>>,
    /// The routing criteria with the highest index, if the event carried any.
    pub routing: Option<RoutingSnapshot>,
    /// The user tags (`tags` without `aws:` keys), sorted by key; `None` when there are none.
    pub tags: Option<Vec<(String, String)>>,
    /// Fields that were there but damaged (wrong JSON type, unreadable timestamp, oversize value),
    /// read as absent: their paths (`queueInfo.queueArn`), never their values.
    pub damaged: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventType {
    Lifecycle(Lifecycle),
    ContactDataUpdated,
    AmdDisabled,
    /// A type this version does not know: accepted, changes nothing, logged.
    Unknown(String),
}

impl EventType {
    /// Every type this version knows.
    pub const KNOWN: [&'static str; 10] = [
        "INITIATED",
        "CONNECTED_TO_SYSTEM",
        "QUEUED",
        "CONNECTED_TO_AGENT",
        "PAUSED",
        "RESUMED",
        "DISCONNECTED",
        "COMPLETED",
        "CONTACT_DATA_UPDATED",
        "AMD_DISABLED",
    ];

    pub fn parse(event_type: &str) -> EventType {
        match event_type {
            "CONTACT_DATA_UPDATED" => EventType::ContactDataUpdated,
            "AMD_DISABLED" => EventType::AmdDisabled,
            other => Lifecycle::from_event_type(other)
                .map(EventType::Lifecycle)
                .unwrap_or_else(|| EventType::Unknown(other.to_owned())),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            EventType::Lifecycle(stage) => stage.as_str(),
            EventType::ContactDataUpdated => "CONTACT_DATA_UPDATED",
            EventType::AmdDisabled => "AMD_DISABLED",
            EventType::Unknown(other) => other,
        }
    }
}

/// One routing criteria: the `routingCriteriaIndex` and `routingSteps` attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutingSnapshot {
    pub index: u32,
    pub steps: Vec<RoutingStep>,
    /// `activationTimestamp`: when the criteria became active, where real.
    pub activated_at: Option<String>,
}

/// One element of `routingSteps`. Field names (camelCase) are the stored map keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoutingStep {
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub expiry_duration_seconds: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub expiry_timestamp: Option<String>,
}
