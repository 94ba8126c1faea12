//! [`parse`]: one invocation payload to a [`ContactEvent`] or a [`Refusal`], as short steps in
//! the contract's order. Everything after the required fields can only be damaged, never refuse
//! the event.

use chrono::DateTime;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::lenient::{Damaged, Detail, Fields, Object, OneOrMany, check, string};
use super::scrub::{described, quoted, without_values};
use super::{
    CONTACT_ID_MAX_CHARS, ContactEvent, DETAIL_TYPE, EventType, ROUTING_STEPS_MAX, Refusal,
    RoutingSnapshot, RoutingStep, SOURCE, VALUE_MAX_CHARS,
};
use crate::facts::{
    FACTS, Facts, HIERARCHY_LEVELS, PLACES, Place, PlaceSeen, Places, Read, TAGS, TAGS_MAX_BYTES,
};
use crate::ordering::Lifecycle;

/// Reads one invocation payload. Checks come in the contract's order: envelope, `detail`,
/// `contactId`, `eventType`; then the optional parts.
pub fn parse(payload: &[u8]) -> Result<ContactEvent, Refusal> {
    let envelope = envelope(payload)?;
    let fields = contact_event_detail(&envelope)?;
    let (contact_id, event_type) = required_fields(&fields)?;
    let mut damaged = Damaged::default();
    let id = envelope_value(envelope.id, "id", &mut damaged);
    let time = envelope_time(envelope.time, &mut damaged);
    let event_type = EventType::parse(&event_type);
    let mut detail = Detail::new(fields, damaged);
    let facts = facts(&mut detail, &event_type);
    let places = places(&mut detail);
    let routing = routing(&mut detail);
    let tags = tags(&mut detail);
    Ok(ContactEvent {
        id,
        contact_id,
        event_type,
        time,
        facts,
        places,
        routing,
        tags,
        damaged: detail.damaged.0,
    })
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

/// The envelope, or a refusal naming where the payload is no JSON object.
fn envelope(payload: &[u8]) -> Result<Envelope<'_>, Refusal> {
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
    Ok(envelope)
}

/// `detail`'s fields, if the envelope is an Amazon Connect contact event whose `detail` is an
/// object.
fn contact_event_detail<'a>(envelope: &Envelope<'a>) -> Result<Fields<'a>, Refusal> {
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
    let malformed = |message: String| Refusal::Malformed {
        path: "detail".into(),
        message,
    };
    match envelope.detail.filter(|raw| raw.get() != "null") {
        None => Err(malformed("missing".into())),
        Some(raw) => Fields::read(raw).map_err(malformed),
    }
}

/// `contactId` (1–[`CONTACT_ID_MAX_CHARS`] characters) and `eventType`, or the refusal.
fn required_fields(detail: &Fields<'_>) -> Result<(String, String), Refusal> {
    let required = |key: &str| {
        string(detail.get(key)).map_err(|message| Refusal::Malformed {
            path: format!("detail.{key}"),
            message,
        })
    };
    let contact_id = required("contactId")?.ok_or(Refusal::MissingContactId)?;
    let length = contact_id.chars().count();
    if !(1..=CONTACT_ID_MAX_CHARS).contains(&length) {
        return Err(Refusal::ContactIdLength(length));
    }
    let event_type = required("eventType")?.ok_or(Refusal::MissingEventType)?;
    Ok((contact_id, event_type))
}

/// A string of the envelope (`id`): damaged when it is no string or longer than any Connect value.
fn envelope_value(raw: Option<&RawValue>, name: &str, damaged: &mut Damaged) -> Option<String> {
    match string(raw) {
        Ok(Some(value)) if value.chars().count() <= VALUE_MAX_CHARS => Some(value),
        Ok(None) => None,
        Ok(Some(_)) | Err(_) => {
            damaged.add(name);
            None
        }
    }
}

/// The envelope's `time` in epoch seconds.
fn envelope_time(raw: Option<&RawValue>, damaged: &mut Damaged) -> Option<i64> {
    let time = match string(raw) {
        Ok(time) => time?,
        Err(_) => {
            damaged.add("time");
            return None;
        }
    };
    match DateTime::parse_from_rfc3339(&time) {
        Ok(time) => Some(time.timestamp()),
        Err(_) => {
            damaged.add("time");
            None
        }
    }
}

/// Every write-once fact of [`FACTS`] the event carries (the after-contact-work ones only if
/// it is COMPLETED).
fn facts(detail: &mut Detail<'_>, event_type: &EventType) -> Facts {
    let completed = *event_type == EventType::Lifecycle(Lifecycle::Completed);
    let mut facts = Facts::default();
    for fact in FACTS
        .iter()
        .filter(|fact| completed || !fact.completed_only)
    {
        if let Some(value) = detail.value(fact.source, fact.read) {
            facts.set(fact.attribute, value);
        }
    }
    facts
}

/// Where the event says the contact is: a place needs its ARN; its timestamp and details are
/// read where known.
fn places(detail: &mut Detail<'_>) -> Places<Option<PlaceSeen>> {
    PLACES.map(|place| place_seen(detail, &place))
}

fn place_seen(detail: &mut Detail<'_>, place: &Place) -> Option<PlaceSeen> {
    let arn = detail.value(&[place.parent, place.arn], Read::Text)?;
    let since = detail.value(&[place.parent, place.since], Read::Timestamp);
    let details = place
        .details
        .iter()
        .map(|d| match d.read {
            Read::DeepestLevelId => deepest_level_id(detail, [place.parent, d.source]),
            read => detail.value(&[place.parent, d.source], read),
        })
        .collect();
    Some(PlaceSeen {
        arn,
        since,
        details,
    })
}

/// `{level1: {arn}, level2: {arn}, …}` at `path` as the id of the deepest level given.
fn deepest_level_id(detail: &mut Detail<'_>, path: [&'static str; 2]) -> Option<String> {
    const LEVELS: [&str; HIERARCHY_LEVELS] = ["level5", "level4", "level3", "level2", "level1"];
    LEVELS
        .iter()
        .find_map(|level| detail.value(&[path[0], path[1], level, "arn"], Read::DeepestLevelId))
}

/// A value inside a snapshot (routing): damage costs the value, not the snapshot, and is not
/// named.
fn snapshot_value(value: Option<String>, read: Read) -> Option<String> {
    check(value?, read).ok()
}

/// The routing criteria with the highest index. Any damage inside it (a wrong type, too many
/// steps) makes the whole snapshot unknown: a partial snapshot could outrank the real one.
fn routing(detail: &mut Detail<'_>) -> Option<RoutingSnapshot> {
    let raw = detail.raw("routingCriteria")?;
    let damaged = &mut detail.damaged;
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
        activated_at: snapshot_value(criteria.activation_timestamp, Read::Timestamp),
        steps: steps
            .into_iter()
            .map(|Object(step)| RoutingStep {
                status: snapshot_value(step.status, Read::Text).unwrap_or_else(|| "UNKNOWN".into()),
                expiry_duration_seconds: step.expiry.as_ref().and_then(|e| e.0.duration_in_seconds),
                expiry_timestamp: snapshot_value(
                    step.expiry.and_then(|e| e.0.expiry_timestamp),
                    Read::Timestamp,
                ),
            })
            .collect(),
    })
}

/// The user tags: `aws:` keys are Connect's own (the instance id, the endpoint), not the
/// contact's. Keys are the user's, so matched exactly. A value that is no string, or more than
/// [`TAGS_MAX_BYTES`] in all, damages the whole map (a part of it would be a wrong snapshot).
fn tags(detail: &mut Detail<'_>) -> Option<Vec<(String, String)>> {
    let raw = detail.raw(TAGS).filter(|raw| raw.get() != "null")?;
    let damaged = &mut detail.damaged;
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
