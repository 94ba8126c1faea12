//! Reading an EventBridge "Amazon Connect Contact Event" into a [`ContactEvent`], tolerantly:
//! keys in any ASCII case (camelCase, PascalCase, `instanceARN`), `routingCriteria` as one object
//! or an array, upper-cased channel, unknown fields and event types accepted, placeholder
//! timestamps dropped. A damaged optional field (wrong type, unreadable timestamp, oversize
//! value) is treated as absent and named in [`ContactEvent::damaged`]; only what the spec says
//! to refuse comes back as a [`Refusal`] naming the field.
//!
//! The envelope and `detail` are read as raw JSON values (`RawValue`), so a value is looked at
//! only where a field is read: a wrong type there costs that field, never the event, and a
//! deeply nested unknown field is skipped without recursion. (`aws_lambda_events`'
//! `EventBridgeEvent` would refuse a whole event for one unreadable `time`.)

use std::borrow::Cow;
use std::fmt;

use chrono::DateTime;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::facts::{
    DetailShape, FACTS, Facts, HIERARCHY_LEVELS, Kind, PLACES, PlaceSeen, TAGS, TAGS_MAX_BYTES,
};
use crate::ordering::{Lifecycle, is_placeholder_timestamp};

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
/// How much of a foreign `source` / `detail-type` a refusal quotes.
const QUOTE_MAX_CHARS: usize = 64;

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
    /// Where the contact is, as this event says: one per entry of [`PLACES`].
    pub places: [Option<PlaceSeen>; PLACES.len()],
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

/// Reads one invocation payload. Checks come in the spec's order: envelope, `detail`, `contactId`,
/// `eventType`; everything after that can only be damaged, never refuse the event.
pub fn parse(payload: &[u8]) -> Result<ContactEvent, Refusal> {
    let mut json = serde_json::Deserializer::from_slice(payload);
    let Object(envelope): Object<Envelope> =
        serde_path_to_error::deserialize(&mut json).map_err(|error| {
            let path = error.path().to_string();
            Refusal::Malformed {
                // The path may hold a key of the payload's own (a syntax error inside an unknown
                // field): one line, and not much of it.
                path: if path == "." {
                    "event".into()
                } else {
                    quoted(path)
                },
                message: without_values(&error.into_inner()),
            }
        })?;
    let source = string(envelope.source);
    let detail_type = string(envelope.detail_type);
    let is_contact_event = source.as_ref().is_ok_and(|s| s.as_deref() == Some(SOURCE))
        && detail_type
            .as_ref()
            .is_ok_and(|t| t.as_deref() == Some(DETAIL_TYPE));
    if !is_contact_event {
        return Err(Refusal::NotContactEvent {
            event_source: described(source),
            detail_type: described(detail_type),
        });
    }
    let detail = match envelope.detail.filter(|raw| raw.get() != "null") {
        None => {
            return Err(Refusal::Malformed {
                path: "detail".into(),
                message: "missing".into(),
            });
        }
        Some(raw) => Fields::read(raw).map_err(|message| Refusal::Malformed {
            path: "detail".into(),
            message,
        })?,
    };
    let contact_id = required(&detail, "contactId")?.ok_or(Refusal::MissingContactId)?;
    let length = contact_id.chars().count();
    if !(1..=CONTACT_ID_MAX_CHARS).contains(&length) {
        return Err(Refusal::ContactIdLength(length));
    }
    let event_type = required(&detail, "eventType")?.ok_or(Refusal::MissingEventType)?;

    let mut damaged = Damaged::default();
    let id = string(envelope.id)
        .map_err(|_| damaged.add("id"))
        .ok()
        .flatten()
        .and_then(|id| damaged.bounded("id", id));
    let time = string(envelope.time)
        .map_err(|_| damaged.add("time"))
        .ok()
        .flatten()
        .and_then(|time| match DateTime::parse_from_rfc3339(&time) {
            Ok(time) => Some(time.timestamp()),
            Err(_) => {
                damaged.add("time");
                None
            }
        });
    let mut facts = Facts::default();
    let mut nested = Nested::default();
    for fact in &FACTS {
        if let Some(value) = read_fact(&detail, &mut nested, fact.source, fact.kind, &mut damaged) {
            facts.set(fact.attribute, value);
        }
    }
    let places = PLACES.map(|place| {
        let arn = read_fact(
            &detail,
            &mut nested,
            &[place.parent, place.arn],
            Kind::Text,
            &mut damaged,
        )?;
        let since = read_fact(
            &detail,
            &mut nested,
            &[place.parent, place.since],
            Kind::Timestamp,
            &mut damaged,
        );
        let details = place
            .details
            .iter()
            .map(|d| {
                let path = [place.parent, d.source];
                match d.shape {
                    DetailShape::Text => {
                        read_fact(&detail, &mut nested, &path, Kind::Text, &mut damaged)
                    }
                    DetailShape::Id => {
                        read_fact(&detail, &mut nested, &path, Kind::Text, &mut damaged)
                            .and_then(|arn| last_segment(&arn))
                    }
                    DetailShape::DeepestLevelId => {
                        deepest_level_id(&detail, &mut nested, &path, &mut damaged)
                    }
                }
            })
            .collect();
        Some(PlaceSeen {
            arn,
            since,
            details,
        })
    });
    let routing = read_routing(&detail, &mut damaged);
    let tags = read_tags(&detail, &mut damaged);
    Ok(ContactEvent {
        id,
        contact_id,
        event_type: EventType::parse(&event_type),
        time,
        facts,
        places,
        routing,
        tags,
        damaged: damaged.0,
    })
}

/// The id an ARN ends with (`…/agent-group/<id>`).
fn last_segment(arn: &str) -> Option<String> {
    arn.rsplit('/')
        .next()
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
}

/// `{level1: {arn}, level2: {arn}, …}` as the id of the deepest level given.
fn deepest_level_id<'a>(
    detail: &Fields<'a>,
    nested: &mut Nested<'a>,
    path: &[&'static str; 2],
    damaged: &mut Damaged,
) -> Option<String> {
    const LEVELS: [&str; HIERARCHY_LEVELS] = ["level5", "level4", "level3", "level2", "level1"];
    LEVELS.iter().find_map(|level| {
        read_fact(
            detail,
            nested,
            &[path[0], path[1], level, "arn"],
            Kind::Text,
            damaged,
        )
        .and_then(|arn| last_segment(&arn))
    })
}

/// The user tags: `aws:` keys are Connect's own (the instance id, the endpoint), not the
/// contact's. Keys are the user's, so matched exactly. A value that is no string, or more than
/// [`TAGS_MAX_BYTES`] in all, damages the whole map (a part of it would be a wrong snapshot).
fn read_tags(detail: &Fields<'_>, damaged: &mut Damaged) -> Option<Vec<(String, String)>> {
    let raw = detail.get(TAGS).filter(|raw| raw.get() != "null")?;
    let Ok(Fields(fields)) = Fields::read(raw) else {
        damaged.add(TAGS);
        return None;
    };
    let mut tags = Vec::new();
    let mut bytes = 0;
    // Connect's own keys are skipped unread: most events carry only those.
    for (key, value) in fields
        .into_iter()
        .filter(|(key, _)| !key.starts_with("aws:"))
    {
        let Ok(Some(value)) = string(Some(value)) else {
            damaged.add(TAGS);
            return None;
        };
        bytes += key.len() + value.len();
        tags.push((key.into_owned(), value));
    }
    if bytes > TAGS_MAX_BYTES {
        damaged.add(TAGS);
        return None;
    }
    // One key once (the last, as a JSON reader would keep), in key order: a stable snapshot.
    tags.reverse();
    tags.sort_by(|a, b| a.0.cmp(&b.0));
    tags.dedup_by(|a, b| a.0 == b.0);
    (!tags.is_empty()).then_some(tags)
}

/// The envelope's `id` of a payload [`parse`] refused, where it can be read: a refused event
/// is delivered three times (Lambda's retries), and its id lets them count once.
pub fn envelope_id(payload: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Id<'a> {
        #[serde(borrow, default)]
        id: Option<&'a RawValue>,
    }
    let Object(envelope): Object<Id<'_>> = serde_json::from_slice(payload).ok()?;
    string(envelope.id)
        .ok()
        .flatten()
        .filter(|id| id.chars().count() <= VALUE_MAX_CHARS)
}

/// The paths of damaged fields, each once.
#[derive(Default)]
struct Damaged(Vec<String>);

impl Damaged {
    fn add(&mut self, path: &str) {
        if !self.0.iter().any(|known| known == path) {
            self.0.push(path.to_owned());
        }
    }

    /// `value`, unless it is longer than any Connect value (then damaged).
    fn bounded(&mut self, path: &str, value: String) -> Option<String> {
        if value.chars().count() > VALUE_MAX_CHARS {
            self.add(path);
            None
        } else {
            Some(value)
        }
    }
}

/// `contactId` / `eventType`: absent is `None`; any other type refuses the event.
fn required(detail: &Fields<'_>, key: &str) -> Result<Option<String>, Refusal> {
    string(detail.get(key)).map_err(|message| Refusal::Malformed {
        path: format!("detail.{key}"),
        message,
    })
}

/// The objects under `detail` read so far, each by its parent's entry (`None`: `detail`) and key:
/// each is read once, however many facts it holds; `None` when it is absent or damaged.
#[derive(Default)]
struct Nested<'a>(Vec<(Option<usize>, &'static str, Option<Fields<'a>>)>);

/// A fact at `source` (keys of `detail`, then of the objects below it), read as `kind`.
/// Nothing is allocated but the value: the path is spelt out only for a damaged field.
fn read_fact<'a>(
    detail: &Fields<'a>,
    nested: &mut Nested<'a>,
    source: &[&'static str],
    kind: Kind,
    damaged: &mut Damaged,
) -> Option<String> {
    let (leaf, parents) = source.split_last()?;
    let path = |depth: usize| source.get(..depth).unwrap_or(source).join(".");
    let mut index: Option<usize> = None;
    for (depth, parent) in parents.iter().enumerate() {
        let known = nested
            .0
            .iter()
            .position(|(above, key, _)| *above == index && key == parent);
        index = Some(match known {
            Some(i) => i,
            None => {
                let outer = match index {
                    None => detail,
                    Some(i) => nested.0.get(i)?.2.as_ref()?,
                };
                let inner = outer.get(parent).and_then(|raw| match Fields::read(raw) {
                    Ok(inner) => Some(inner),
                    Err(_) if raw.get() == "null" => None,
                    Err(_) => {
                        damaged.add(&path(depth + 1));
                        None
                    }
                });
                nested.0.push((index, parent, inner));
                nested.0.len() - 1
            }
        });
    }
    let fields = match index {
        None => detail,
        Some(i) => nested.0.get(i)?.2.as_ref()?,
    };
    let value = match string(fields.get(leaf)) {
        Ok(value) => value.filter(|value| !value.is_empty())?,
        Err(_) => {
            damaged.add(&path(source.len()));
            return None;
        }
    };
    if value.chars().count() > VALUE_MAX_CHARS {
        damaged.add(&path(source.len()));
        return None;
    }
    match kind {
        Kind::Text => Some(value),
        Kind::UpperCase => Some(value.to_ascii_uppercase()),
        // Placeholders are how Connect says "not yet": unknown, but not damaged.
        Kind::Timestamp if is_placeholder_timestamp(&value) => None,
        Kind::Timestamp
            if value.len() <= TIMESTAMP_MAX_BYTES
                && DateTime::parse_from_rfc3339(&value).is_ok() =>
        {
            Some(value)
        }
        Kind::Timestamp => {
            damaged.add(&path(source.len()));
            None
        }
    }
}

/// The routing criteria with the highest index. Any damage inside it (a wrong type, too many
/// steps) makes the whole snapshot unknown: a partial snapshot could outrank the real one.
fn read_routing(detail: &Fields<'_>, damaged: &mut Damaged) -> Option<RoutingSnapshot> {
    let raw = detail.get("routingCriteria")?;
    let mut json = serde_json::Deserializer::from_str(raw.get());
    let criteria: OneOrMany<Object<RoutingCriteria>> =
        match serde_path_to_error::deserialize(&mut json) {
            Ok(criteria) => criteria,
            Err(error) => {
                let path = error.path().to_string();
                damaged.add(&if path == "." {
                    "routingCriteria".to_owned()
                } else {
                    quoted(format!("routingCriteria.{path}"))
                });
                return None;
            }
        };
    let OneOrMany(criteria) = criteria;
    let Object(criteria) = criteria.into_iter().max_by_key(|c| c.0.index)?;
    let steps = criteria.steps.unwrap_or_default();
    if steps.len() > ROUTING_STEPS_MAX {
        damaged.add("routingCriteria.steps");
        return None;
    }
    Some(RoutingSnapshot {
        index: criteria.index.unwrap_or(0),
        activated_at: timestamp(criteria.activation_timestamp),
        steps: steps
            .into_iter()
            .map(|Object(step)| RoutingStep {
                status: text(step.status).unwrap_or_else(|| "UNKNOWN".into()),
                expiry_duration_seconds: step.expiry.as_ref().and_then(|e| e.0.duration_in_seconds),
                expiry_timestamp: timestamp(step.expiry.and_then(|e| e.0.expiry_timestamp)),
            })
            .collect(),
    })
}

/// A string value: `Ok(None)` when absent or `null`; `Err` (the kind of value, never the value)
/// when it is another type.
fn string(raw: Option<&RawValue>) -> Result<Option<String>, String> {
    match raw {
        None => Ok(None),
        Some(raw) if raw.get() == "null" => Ok(None),
        Some(raw) => serde_json::from_str(raw.get())
            .map(Some)
            .map_err(|error| without_values(&error)),
    }
}

/// A `source` / `detail-type` for a refusal: quoted in part, or what it was instead of a string.
fn described(value: Result<Option<String>, String>) -> String {
    match value {
        Ok(Some(value)) => quoted(value),
        Ok(None) => "missing".into(),
        Err(kind) => kind,
    }
}

/// An empty string says nothing, and an oversize one is no Connect value: both are absent.
fn text(value: Option<String>) -> Option<String> {
    value.filter(|value| !value.is_empty() && value.chars().count() <= VALUE_MAX_CHARS)
}

/// A serde error's message without the values it quotes (`invalid type: string "+1 555…"`): the
/// payload may carry customer data, and refusals are logged. Keeps the kind of value and what
/// was expected, which is all a reader needs next to the field's path.
fn without_values(error: &serde_json::Error) -> String {
    let message = error.to_string();
    // serde_json appends the position; it is no help in a one-line event and not a value.
    let message = message
        .rsplit_once(" at line ")
        .map_or(message.as_str(), |(head, _)| head);
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(prefix)
            && let Some((unexpected, expected)) = rest.split_once(", expected ")
        {
            // `string "…"`, `integer `5``, `floating point `1.5``, `boolean `true``, `map`.
            let kind = unexpected
                .split(['"', '`'])
                .next()
                .unwrap_or_default()
                .trim();
            return format!("{prefix}{kind}, expected {expected}");
        }
    }
    if message.starts_with("unknown variant") || message.contains('"') || message.contains('`') {
        return "not a valid value".into();
    }
    message.to_owned()
}

/// At most [`QUOTE_MAX_CHARS`] of a string, control characters escaped, for one-line refusals.
fn quoted(value: String) -> String {
    let mut quoted: String = value
        .chars()
        .take(QUOTE_MAX_CHARS)
        .flat_map(|c| c.escape_debug())
        .collect();
    if value.chars().nth(QUOTE_MAX_CHARS).is_some() {
        quoted.push('…');
    }
    quoted
}

/// A timestamp is kept only when it is a real ISO-8601 instant: placeholders and unreadable
/// values are treated as unknown, so they can never block the real value later (facts are
/// write-once).
fn timestamp(value: Option<String>) -> Option<String> {
    text(value).filter(|value| {
        value.len() <= TIMESTAMP_MAX_BYTES
            && !is_placeholder_timestamp(value)
            && DateTime::parse_from_rfc3339(value).is_ok()
    })
}

// The wire shape of the envelope: only the fields read, each kept raw until it is read.

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    source: Option<&'a RawValue>,
    #[serde(rename = "detail-type", borrow, default)]
    detail_type: Option<&'a RawValue>,
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    time: Option<&'a RawValue>,
    #[serde(borrow, default)]
    detail: Option<&'a RawValue>,
}

/// The keys and raw values of one JSON object, in order. Keys are matched ignoring ASCII case
/// (`contactId`, `ContactId`; `instanceArn`, `instanceARN`, `InstanceARN`), an exact match first.
/// Keys are borrowed from the payload unless they hold escapes.
struct Fields<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'a> Fields<'a> {
    /// The object `raw` holds; `Err` (the kind of value it is instead) when it is no object.
    fn read(raw: &'a RawValue) -> Result<Fields<'a>, String> {
        serde_json::from_str(raw.get()).map_err(|error| without_values(&error))
    }

    fn get(&self, key: &str) -> Option<&'a RawValue> {
        // One pass: an exact match wins, else the first that differs only in ASCII case.
        let mut folded = None;
        for (name, raw) in &self.0 {
            if name.len() != key.len() {
                continue;
            }
            if name == key {
                return Some(*raw);
            }
            if folded.is_none() && name.eq_ignore_ascii_case(key) {
                folded = Some(*raw);
            }
        }
        folded
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Fields<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldsVisitor;

        impl<'de> Visitor<'de> for FieldsVisitor {
            type Value = Fields<'de>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(24));
                while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                    fields.push((key, map.next_value::<&'de RawValue>()?));
                }
                Ok(Fields(fields))
            }
        }

        deserializer.deserialize_map(FieldsVisitor)
    }
}

/// An object key, borrowed from the payload when it has no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;

        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }

            fn visit_borrowed_str<E: de::Error>(self, key: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(key)))
            }

            fn visit_str<E: de::Error>(self, key: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(key.to_owned())))
            }
        }

        deserializer.deserialize_str(KeyVisitor)
    }
}

// The routing criteria's shape: each key in camelCase (real events) or PascalCase (the
// documentation's routing samples).

#[derive(Debug, Deserialize)]
struct RoutingCriteria {
    #[serde(rename = "index", alias = "Index", default)]
    index: Option<u32>,
    #[serde(rename = "steps", alias = "Steps", default)]
    steps: Option<Vec<Object<Step>>>,
    #[serde(rename = "activationTimestamp", alias = "ActivationTimestamp", default)]
    activation_timestamp: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Step {
    #[serde(rename = "status", alias = "Status", default)]
    status: Option<String>,
    #[serde(rename = "expiry", alias = "Expiry", default)]
    expiry: Option<Object<Expiry>>,
}

#[derive(Debug, Deserialize)]
struct Expiry {
    #[serde(rename = "durationInSeconds", alias = "DurationInSeconds", default)]
    duration_in_seconds: Option<u64>,
    #[serde(rename = "expiryTimestamp", alias = "ExpiryTimestamp", default)]
    expiry_timestamp: Option<String>,
}

/// A JSON object read as `T`. Serde lets a struct be read from an array too (`[1, 2]` as
/// positional fields); the event model has objects only, so an array is a wrong type.
#[derive(Debug, Default)]
struct Object<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(std::marker::PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
            type Value = Object<T>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Object)
            }
        }

        deserializer.deserialize_map(ObjectVisitor(std::marker::PhantomData))
    }
}

/// `routingCriteria` is one object in real events and an array in the documentation samples.
#[derive(Debug)]
struct OneOrMany<T>(Vec<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OneOrManyVisitor<T>(std::marker::PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for OneOrManyVisitor<T> {
            type Value = OneOrMany<T>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object or an array of objects")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|one| OneOrMany(vec![one]))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut many = Vec::new();
                while let Some(one) = seq.next_element()? {
                    many.push(one);
                }
                Ok(OneOrMany(many))
            }
        }

        deserializer.deserialize_any(OneOrManyVisitor(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn envelope(detail: Value) -> Vec<u8> {
        json!({
            "version": "0",
            "id": "e-1",
            "detail-type": DETAIL_TYPE,
            "source": SOURCE,
            "account": "111122223333",
            "time": "2023-11-01T18:33:03Z",
            "region": "us-west-2",
            "resources": [],
            "detail": detail,
        })
        .to_string()
        .into_bytes()
    }

    fn parsed(detail: Value) -> ContactEvent {
        parse(&envelope(detail)).expect("accepted")
    }

    fn refused(detail: Value) -> String {
        parse(&envelope(detail)).expect_err("refused").to_string()
    }

    /// The documentation's DISCONNECTED sample (its trailing commas removed): what a reader
    /// needs of the agent, the greeting and the tags is read from it.
    #[test]
    fn the_facts_real_events_carry_are_read_from_the_documentations_sample() {
        let group = |level: &str| json!({"arn": format!("arn:aws:connect:your-region:012345678901:instance/12345678-1234-1234-1234-123456789012/agent-group/abcdefgh-1234-1234-1234-12345678901{level}")});
        let event = parsed(json!({
            "eventType": "DISCONNECTED", "contactId": "11111111-1111-1111-1111-111111111111",
            "channel": "Voice", "initiationMethod": "OUTBOUND",
            "agentInfo": {"agentArn": "arn", "connectedToAgentTimestamp": "2021-08-04T17:29:09.000Z",
                "hierarchyGroups": {"level1": group("a"), "level2": group("b"), "level3": group("c"),
                                    "level4": group("d"), "level5": group("e")}},
            "CustomerVoiceActivity": {"greetingStartTimestamp": "2021-08-04T17:29:20.000Z",
                                      "greetingEndTimestamp": "2021-08-04T17:29:22.000Z"},
            "tags": {"aws:connect:instanceId": "12345678-1234-1234-1234-123456789012",
                     "aws:connect:systemEndpoint": "+11234567890", "Dept": "Finance"}
        }));
        let agent = event.places[1].as_ref().expect("the agent");
        assert_eq!(
            agent.details,
            vec![None, Some("abcdefgh-1234-1234-1234-12345678901e".into())]
        );
        assert_eq!(
            event.facts.get("greetingStartTimestamp"),
            Some("2021-08-04T17:29:20.000Z")
        );
        assert_eq!(
            event.facts.get("greetingEndTimestamp"),
            Some("2021-08-04T17:29:22.000Z")
        );
        assert_eq!(event.tags, Some(vec![("Dept".into(), "Finance".into())]));
        assert_eq!(event.damaged, Vec::<String>::new());
    }

    #[test]
    fn queue_type_routing_profile_activation_and_campaign_facts_are_read() {
        let event = parsed(json!({
            "contactId": "c-1", "eventType": "CONNECTED_TO_AGENT",
            "QueueInfo": {"QueueType": "AGENT", "QueueArn": "arn:queue", "EnqueueTimestamp": "2021-08-04T17:29:04.000Z"},
            "agentInfo": {"agentArn": "arn:agent", "routingProfileArn": "arn:aws:connect:us-west-2:111122223333:instance/i-1/routing-profile/rp-1"},
            "RoutingCriteria": [{"ActivationTimestamp": "2021-08-04T17:29:04.000Z", "Index": 0, "Steps": []}],
            "answeringMachineDetectionStatus": "VOICEMAIL_BEEP",
            "campaign": {"campaignId": "cmp-1"},
            "disconnectDetails": {"potentialDisconnectIssue": "AGENT_CONNECTIVITY_ISSUE"},
            "segmentAttributes": {"connect:Subtype": {"ValueString": "connect:SMS"}}
        }));
        assert_eq!(
            event.places[0].as_ref().map(|q| q.details.clone()),
            Some(vec![Some("AGENT".into())])
        );
        assert_eq!(
            event.places[1].as_ref().map(|a| a.details.clone()),
            Some(vec![Some("rp-1".into()), None])
        );
        assert_eq!(
            event.routing.and_then(|r| r.activated_at).as_deref(),
            Some("2021-08-04T17:29:04.000Z")
        );
        for (attribute, value) in [
            ("answeringMachineDetectionStatus", "VOICEMAIL_BEEP"),
            ("campaignId", "cmp-1"),
            ("potentialDisconnectIssue", "AGENT_CONNECTIVITY_ISSUE"),
            ("channelSubtype", "connect:SMS"),
        ] {
            assert_eq!(event.facts.get(attribute), Some(value), "{attribute}");
        }
    }

    #[test]
    fn only_user_tags_are_read_and_damaged_or_oversize_tags_are_named() {
        let tags =
            |tags: Value| parsed(json!({"contactId": "c-1", "eventType": "QUEUED", "tags": tags}));
        assert_eq!(tags(json!({"aws:connect:instanceId": "i-1"})).tags, None);
        let event = tags(json!({"Dept": 5, "Team": "a"}));
        assert_eq!((event.tags, event.damaged), (None, vec!["tags".into()]));
        let event = tags(json!({"Note": "x".repeat(TAGS_MAX_BYTES)}));
        assert_eq!((event.tags, event.damaged), (None, vec!["tags".into()]));
        let event = tags(json!({"b": "2", "a": "1", "aws:x": "y"}));
        assert_eq!(
            event.tags,
            Some(vec![("a".into(), "1".into()), ("b".into(), "2".into())])
        );
    }

    #[test]
    fn a_camel_case_event_is_read() {
        let event = parsed(json!({
            "contactId": "c-1", "eventType": "QUEUED", "channel": "CHAT",
            "initiationMethod": "API", "instanceArn": "arn:instance",
            "queueInfo": {"queueArn": "arn:queue", "enqueueTimestamp": "2023-11-01T18:33:03.062Z"},
            "tags": {"ContactId": "not this one"}
        }));
        assert_eq!(event.contact_id, "c-1");
        assert_eq!(event.id.as_deref(), Some("e-1"));
        assert_eq!(event.event_type, EventType::Lifecycle(Lifecycle::Queued));
        assert_eq!(event.time, Some(1_698_863_583));
        assert_eq!(
            event.places[0],
            Some(PlaceSeen {
                arn: "arn:queue".into(),
                since: Some("2023-11-01T18:33:03.062Z".into()),
                details: vec![None],
            })
        );
        assert_eq!(event.damaged, Vec::<String>::new());
    }

    #[test]
    fn a_pascal_case_event_is_read_at_every_depth() {
        let event = parsed(json!({
            "ContactId": "c-1", "EventType": "CONNECTED_TO_AGENT", "Channel": "VOICE",
            "AgentInfo": {"AgentArn": "arn:agent", "ConnectedToAgentTimestamp": "2021-08-04T17:29:09.000Z"},
            "QueueInfo": {"QueueArn": "arn:queue"},
            "RoutingCriteria": [{"Index": 0, "Steps": [{"Status": "JOINED", "Expiry": {"DurationInSeconds": 60}}]}]
        }));
        assert_eq!(
            event.places[1].as_ref().map(|p| p.arn.as_str()),
            Some("arn:agent")
        );
        assert_eq!(
            event.places[0].as_ref().map(|p| p.arn.as_str()),
            Some("arn:queue")
        );
        let routing = event.routing.expect("routing");
        assert_eq!(routing.steps[0].status, "JOINED");
        assert_eq!(routing.steps[0].expiry_duration_seconds, Some(60));
    }

    #[test]
    fn routing_criteria_may_be_one_object_or_an_array_taking_the_highest_index() {
        let one = parsed(
            json!({"contactId": "c", "eventType": "CONTACT_DATA_UPDATED",
            "routingCriteria": {"index": 1, "steps": [{"status": "EXPIRED",
                "expiry": {"durationInSeconds": 50, "expiryTimestamp": "2023-11-01T18:34:54.275Z"}}]}}),
        );
        let routing = one.routing.expect("routing");
        assert_eq!(routing.index, 1);
        assert_eq!(
            routing.steps[0].expiry_timestamp.as_deref(),
            Some("2023-11-01T18:34:54.275Z")
        );
        let many = parsed(
            json!({"contactId": "c", "eventType": "CONTACT_DATA_UPDATED",
            "routingCriteria": [
                {"index": 2, "steps": [{"status": "ACTIVE"}]},
                {"index": 3, "steps": [{"status": "INACTIVE"}]},
                {"index": 1, "steps": [{"status": "JOINED"}]}]}),
        );
        let routing = many.routing.expect("routing");
        assert_eq!(routing.index, 3);
        assert_eq!(routing.steps[0].status, "INACTIVE");
    }

    #[test]
    fn channel_is_upper_cased() {
        let event =
            parsed(json!({"contactId": "c", "eventType": "DISCONNECTED", "channel": "Voice"}));
        assert_eq!(event.facts.get("channel"), Some("VOICE"));
    }

    #[test]
    fn placeholder_and_unreadable_timestamps_are_dropped_and_only_unreadable_ones_named() {
        let event = parsed(
            json!({"contactId": "c", "eventType": "CONTACT_DATA_UPDATED",
            "connectedToSystemTimestamp": "1970-01-01T00:00:00.001Z",
            "initiationTimestamp": "yesterday",
            "agentInfo": {"agentArn": "arn:agent", "connectedToAgentTimestamp": "1970-01-01T00:00:00.001Z"}}),
        );
        assert_eq!(event.facts.get("connectedToSystemTimestamp"), None);
        assert_eq!(event.facts.get("initiationTimestamp"), None);
        assert_eq!(
            event.places[1],
            Some(PlaceSeen {
                arn: "arn:agent".into(),
                since: None,
                details: vec![None, None],
            })
        );
        assert_eq!(event.damaged, vec!["initiationTimestamp"]);
    }

    #[test]
    fn published_spellings_of_a_key_are_the_same_field() {
        for key in ["instanceArn", "instanceARN", "InstanceARN", "InstanceArn"] {
            let event = parsed(json!({"contactId": "c", "eventType": "QUEUED", key: "arn:i"}));
            assert_eq!(event.facts.get("instanceArn"), Some("arn:i"), "{key}");
        }
    }

    #[test]
    fn an_unreadable_envelope_time_or_id_is_named_and_the_event_applied() {
        let mut event: Value =
            serde_json::from_slice(&envelope(json!({"contactId": "c", "eventType": "QUEUED"})))
                .expect("json");
        event["time"] = json!("soon");
        event["id"] = json!(7);
        let event = parse(event.to_string().as_bytes()).expect("accepted");
        assert_eq!(event.time, None);
        assert_eq!(event.id, None);
        assert_eq!(event.damaged, vec!["id", "time"]);
    }

    #[test]
    fn unknown_fields_and_event_types_are_accepted() {
        let event = parsed(json!({"contactId": "c", "eventType": "SOMETHING_NEW",
            "brandNewField": {"deep": [1, 2, 3]}}));
        assert_eq!(event.event_type, EventType::Unknown("SOMETHING_NEW".into()));
    }

    #[test]
    fn an_event_from_another_source_is_refused() {
        let mut event: Value =
            serde_json::from_slice(&envelope(json!({"contactId": "c", "eventType": "QUEUED"})))
                .expect("json");
        event["source"] = json!("aws.ec2");
        let error = parse(event.to_string().as_bytes()).expect_err("refused");
        assert!(error.to_string().contains("aws.ec2"), "{error}");
    }

    #[test]
    fn a_detail_that_is_not_an_object_is_refused() {
        assert!(refused(json!("QUEUED")).starts_with("detail:"));
        assert!(refused(json!([1])).starts_with("detail:"));
        assert_eq!(refused(Value::Null), "detail: missing");
    }

    #[test]
    fn a_missing_contact_id_is_refused() {
        assert_eq!(
            refused(json!({"eventType": "QUEUED"})),
            "detail.contactId is missing"
        );
    }

    #[test]
    fn a_contact_id_that_is_not_a_string_is_refused() {
        assert!(
            refused(json!({"contactId": 42, "eventType": "QUEUED"}))
                .starts_with("detail.contactId:")
        );
    }

    #[test]
    fn a_contact_id_outside_1_to_256_characters_is_refused() {
        assert!(refused(json!({"contactId": "", "eventType": "QUEUED"})).contains("got 0"));
        let long = "é".repeat(257);
        assert!(refused(json!({"contactId": long, "eventType": "QUEUED"})).contains("got 257"));
        let longest = "é".repeat(256);
        assert_eq!(
            parsed(json!({"contactId": longest, "eventType": "QUEUED"}))
                .contact_id
                .chars()
                .count(),
            256
        );
    }

    #[test]
    fn a_missing_or_non_string_event_type_is_refused() {
        assert_eq!(
            refused(json!({"contactId": "c"})),
            "detail.eventType is missing"
        );
        assert!(
            refused(json!({"contactId": "c", "eventType": 1})).starts_with("detail.eventType:")
        );
    }

    #[test]
    fn an_optional_field_of_the_wrong_type_is_named_and_the_rest_of_the_event_applied() {
        let event = parsed(
            json!({"contactId": "c", "eventType": "QUEUED", "channel": "CHAT",
            "queueInfo": {"queueArn": 7, "enqueueTimestamp": "2024-05-06T10:00:01Z"}}),
        );
        assert_eq!(event.damaged, vec!["queueInfo.queueArn"]);
        // A timestamp without its ARN says nowhere the contact is.
        assert_eq!(event.places[0], None);
        assert_eq!(event.facts.get("channel"), Some("CHAT"));
        // A public test suite's DISCONNECTED event carries `queueInfo` as a string.
        let event = parsed(json!({"contactId": "c", "eventType": "DISCONNECTED",
            "queueInfo": "arn:queue", "routingCriteria": {"index": -5}}));
        assert_eq!(event.damaged, vec!["queueInfo", "routingCriteria.index"]);
        assert_eq!(event.routing, None);
    }

    #[test]
    fn a_refusal_names_the_kind_of_a_wrong_value_but_never_quotes_it() {
        let reason = refused(json!({"contactId": 15551234567_u64, "eventType": "QUEUED"}));
        assert_eq!(
            reason,
            "detail.contactId: invalid type: integer, expected a string"
        );
        let reason = refused(json!({"contactId": "+15551234567", "eventType": ["secret"]}));
        assert!(!reason.contains("secret"), "{reason}");
        let reason =
            refused(json!({"contactId": {"phone": "+15551234567"}, "eventType": "QUEUED"}));
        assert!(!reason.contains("5551234567"), "{reason}");
    }

    #[test]
    fn a_refusal_quotes_a_foreign_source_only_in_part() {
        let mut event: Value =
            serde_json::from_slice(&envelope(json!({"contactId": "c", "eventType": "QUEUED"})))
                .expect("json");
        event["source"] = json!("x".repeat(10_000));
        let error = parse(event.to_string().as_bytes()).expect_err("refused");
        assert!(error.to_string().len() < 300, "{error}");
    }

    #[test]
    fn values_longer_than_any_connect_value_are_treated_as_absent() {
        let longest = "a".repeat(VALUE_MAX_CHARS);
        let event = parsed(json!({"contactId": "c", "eventType": "QUEUED",
            "queueInfo": {"queueArn": longest}, "disconnectReason": "b".repeat(VALUE_MAX_CHARS + 1)}));
        assert_eq!(
            event.places[0].as_ref().map(|p| p.arn.as_str()),
            Some(longest.as_str())
        );
        assert_eq!(event.facts.get("disconnectReason"), None);
        assert_eq!(event.damaged, vec!["disconnectReason"]);
    }

    #[test]
    fn routing_criteria_with_more_steps_than_connect_has_are_treated_as_absent() {
        let steps = |n: usize| vec![json!({"status": "ACTIVE"}); n];
        let most = parsed(json!({"contactId": "c", "eventType": "QUEUED",
            "routingCriteria": {"index": 0, "steps": steps(ROUTING_STEPS_MAX)}}));
        assert_eq!(most.routing.map(|r| r.steps.len()), Some(ROUTING_STEPS_MAX));
        let more = parsed(json!({"contactId": "c", "eventType": "QUEUED",
            "routingCriteria": {"index": 0, "steps": steps(ROUTING_STEPS_MAX + 1)}}));
        assert_eq!(more.routing, None);
        assert_eq!(more.damaged, vec!["routingCriteria.steps"]);
    }

    fn with_detail_field(field: &str, value: &str) -> Vec<u8> {
        format!(
            r#"{{"source":"aws.connect","detail-type":"Amazon Connect Contact Event","detail":{{"contactId":"c","eventType":"QUEUED","{field}":{value}}}}}"#
        )
        .into_bytes()
    }

    #[test]
    fn deep_nesting_in_an_unknown_field_is_skipped_without_recursion() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let event = parse(&with_detail_field("x", &deep)).expect("accepted");
        assert_eq!(event.contact_id, "c");
    }

    #[test]
    fn deep_nesting_where_we_read_an_object_is_named_damaged_without_recursion() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let event = parse(&with_detail_field("routingCriteria", &deep)).expect("accepted");
        assert!(event.damaged[0].starts_with("routingCriteria"), "{event:?}");
        // Inside an object we read, an unknown key's deep value is skipped like any other.
        let deep = format!("{}1{}", r#"{"a":"#.repeat(100_000), "}".repeat(100_000));
        assert!(parse(&with_detail_field("queueInfo", &deep)).is_ok());
    }

    #[test]
    fn a_refusal_is_one_line_even_when_a_key_holds_a_newline() {
        // Found by fuzzing: a syntax error inside an unknown key `"v\n"`.
        let error = parse(b"  {\n\"v\\n\":z\"5\xee,\n\"ets\na").expect_err("refused");
        assert!(!error.to_string().contains('\n'), "{error:?}");
    }

    #[test]
    fn the_id_of_a_refused_event_is_read_where_it_can_be() {
        let payload = envelope(json!({"eventType": "QUEUED"}));
        assert!(parse(&payload).is_err());
        assert_eq!(envelope_id(&payload).as_deref(), Some("e-1"));
        assert_eq!(envelope_id(b"{"), None);
        assert_eq!(envelope_id(br#"{"id": 7}"#), None);
    }

    #[test]
    fn invalid_json_is_refused() {
        let error = parse(b"{\"detail\": ").expect_err("refused");
        assert!(!error.to_string().contains('\n'));
    }
}
