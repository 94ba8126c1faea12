//! Reconciling with Connect (docs/contract.md, "Reconciling with Connect"): what Connect's
//! `DescribeContact` (or `SearchContacts`) says of a contact, turned into the events it stands
//! for, so that the same ordering rules and conditional writes apply it as if those events had
//! come from the stream. Whatever the order of a healing and a late real event, the rules decide.
//!
//! Each event is written as the stream writes one (envelope and `detail`) and read by the same
//! [`event::parse`]: which fields are facts, the value rules, placeholders and length limits
//! have one home, whichever way an event comes.
//!
//! Pure: the Connect client is the reconciler's (`reconciler/`); this module sees plain values.

use chrono::DateTime;
use serde_json::{Map, Value, json};

use crate::event::{self, ContactEvent, DETAIL_TYPE, SOURCE};
use crate::facts::{
    AFTER_CONTACT_WORK_DURATION, AFTER_CONTACT_WORK_END, AFTER_CONTACT_WORK_START, PLACES,
};
use crate::ordering::Lifecycle;
use crate::outcome::Outcome;

/// What Connect says of one contact (the API reference's `Contact` object), as far as the table
/// cares. Timestamps are epoch milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectSays {
    pub contact_id: String,
    /// The instance the contact belongs to, `arn:aws:connect:…:instance/<id>`.
    pub instance_arn: String,
    /// The `Contact` object's other fields, as the API reference names them (`Channel`,
    /// `InitiationTimestamp`, `Campaign.CampaignId`, …; timestamps as [`iso`] writes them): an
    /// event's `detail` to [`event::parse`], which matches keys ignoring case and reads the facts
    /// among them as it reads the stream's. The places, the disconnect and after-contact work are
    /// the fields below: they decide which events the answer stands for.
    pub detail: Map<String, Value>,
    pub disconnect_timestamp: Option<i64>,
    /// `QueueInfo`: the queue's id and when the contact entered it.
    pub queue: Option<(String, Option<i64>)>,
    pub agent: Option<AgentSays>,
    /// The place ARNs the table already lists the contact under (its views' entries). Connect
    /// gives a queue or agent by id only; a listed ARN ending in that id is kept as it is, so an
    /// agent's own queue (`…/queue/agent/<id>`) keeps its true ARN.
    pub listed_arns: Vec<String>,
}

/// `AgentInfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentSays {
    pub id: String,
    pub connected_to_agent_timestamp: Option<i64>,
    pub after_contact_work_start_timestamp: Option<i64>,
    pub after_contact_work_end_timestamp: Option<i64>,
    /// Whole seconds.
    pub after_contact_work_duration: Option<u64>,
}

/// The events Connect's answer stands for, oldest first: a DISCONNECTED of the
/// `DisconnectTimestamp`, and a COMPLETED of the `AfterContactWorkEndTimestamp` (with the
/// after-contact-work facts). While the contact is in progress, a CONNECTED_TO_AGENT of the
/// `ConnectedToAgentTimestamp` if an agent has it (a lost one leaves the caller listed as
/// waiting), else nothing. (Once disconnected, the DISCONNECTED carries the agent as its place:
/// a CONNECTED_TO_AGENT as well would only cost a rejected write.)
pub fn events(says: &ConnectSays) -> Vec<ContactEvent> {
    let disconnected = says.disconnect_timestamp.filter(|at| *at > 0);
    let connected_to_agent = says
        .agent
        .as_ref()
        .and_then(|agent| agent.connected_to_agent_timestamp)
        .filter(|at| *at > 0);
    let Some(disconnected) = disconnected else {
        return connected_to_agent
            .and_then(|at| event(says, Lifecycle::ConnectedToAgent, at))
            .into_iter()
            .collect();
    };
    let completed = says
        .agent
        .as_ref()
        .and_then(|agent| agent.after_contact_work_end_timestamp)
        .filter(|at| *at > 0);
    [
        event(says, Lifecycle::Disconnected, disconnected),
        completed.and_then(|end| event(says, Lifecycle::Completed, end)),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The fields an event of Connect's answer gets from the answer's structured part, which win
/// over a field of `detail` of the same name (in any case).
const SET_HERE: [&str; 6] = [
    "contactId",
    "eventType",
    "instanceArn",
    "disconnectTimestamp",
    PLACES.queue.parent,
    PLACES.agent.parent,
];

/// The event of `stage` at `at` (epoch milliseconds) Connect's answer stands for, as the
/// stream would send it, read by [`event::parse`].
fn event(says: &ConnectSays, stage: Lifecycle, at: i64) -> Option<ContactEvent> {
    let mut detail = says.detail.clone();
    detail.retain(|key, _| !SET_HERE.iter().any(|set| set.eq_ignore_ascii_case(key)));
    detail.insert("contactId".into(), json!(says.contact_id));
    detail.insert("eventType".into(), json!(stage.as_str()));
    detail.insert("instanceArn".into(), json!(says.instance_arn));
    if let Some(at) = iso(says.disconnect_timestamp) {
        detail.insert("disconnectTimestamp".into(), json!(at));
    }
    // Where the stream's events say where the contact is (the places' table).
    let (queue, agent_place) = (&PLACES.queue, &PLACES.agent);
    if let Some((id, since)) = &says.queue {
        let mut info = Map::new();
        info.insert(queue.arn.into(), json!(place_arn(says, "queue", id)));
        info.insert(queue.since.into(), json!(iso(*since)));
        detail.insert(queue.parent.into(), Value::Object(info));
    }
    if let Some(agent) = &says.agent {
        let mut info = Map::new();
        info.insert(
            agent_place.arn.into(),
            json!(place_arn(says, "agent", &agent.id)),
        );
        info.insert(
            agent_place.since.into(),
            json!(iso(agent.connected_to_agent_timestamp)),
        );
        // After-contact work is what a COMPLETED says (the reader takes it from no other).
        if stage == Lifecycle::Completed {
            for (name, value) in [
                (
                    AFTER_CONTACT_WORK_START,
                    json!(iso(agent.after_contact_work_start_timestamp)),
                ),
                (
                    AFTER_CONTACT_WORK_END,
                    json!(iso(agent.after_contact_work_end_timestamp)),
                ),
                (
                    AFTER_CONTACT_WORK_DURATION,
                    json!(agent.after_contact_work_duration),
                ),
            ] {
                info.insert(name.into(), value);
            }
        }
        detail.insert(agent_place.parent.into(), Value::Object(info));
    }
    let time = DateTime::from_timestamp(at.div_euclid(1_000), 0)?;
    let envelope = json!({
        "source": SOURCE,
        "detail-type": DETAIL_TYPE,
        "time": time.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "detail": detail,
    });
    event::parse(envelope.to_string().as_bytes()).ok()
}

/// The ARN of the contact's `kind` (`queue`, `agent`) of id `id`: the listed one that ends in
/// it, else the instance's ARN of that id.
fn place_arn(says: &ConnectSays, kind: &str, id: &str) -> String {
    let suffix = format!("/{id}");
    // An agent's own queue (`…/queue/agent/<id>`) is a queue, not the agent.
    let of_kind = |arn: &str| match kind {
        "agent" => arn.contains("/agent/") && !arn.contains("/queue/"),
        _ => arn.contains(&format!("/{kind}/")),
    };
    says.listed_arns
        .iter()
        .find(|arn| arn.ends_with(&suffix) && of_kind(arn))
        .cloned()
        .unwrap_or_else(|| format!("{}/{kind}/{id}", says.instance_arn))
}

/// What a look at one contact came to: the reconciler's log line says it, its metrics count it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Connect's answer moved the item's state: an event the stream lost, supplied.
    Healed {
        state_before: Option<String>,
        state: Option<String>,
    },
    /// Connect says the contact is still in progress (or its agent still in after-contact
    /// work): nothing to heal.
    Live,
    /// Connect says it ended, and the table already says so (a late event came meanwhile).
    Current,
    /// Connect does not know the contact (not found, or another instance): left as it is.
    Unknown,
}

impl Verdict {
    /// The `outcome` word of the reconciler's log line.
    pub fn name(&self) -> &'static str {
        match self {
            Verdict::Healed { .. } => "healed",
            Verdict::Live => "live",
            Verdict::Current => "current",
            Verdict::Unknown => "unknown",
        }
    }

    /// The verdict on a contact Connect described as `says`, whose events were applied with
    /// `outcomes`.
    pub fn of(says: &ConnectSays, outcomes: &[Outcome]) -> Verdict {
        let moved: Vec<_> = outcomes
            .iter()
            .filter_map(|outcome| match outcome {
                Outcome::Applied {
                    state_before,
                    state,
                    ..
                } if state != state_before => Some((state_before, state)),
                _ => None,
            })
            .collect();
        match (moved.first(), moved.last()) {
            (Some((before, _)), Some((_, after))) => Verdict::Healed {
                state_before: (*before).clone(),
                state: (*after).clone(),
            },
            _ if in_progress(says) => Verdict::Live,
            _ => Verdict::Current,
        }
    }
}

/// Connect says the contact, or its agent's after-contact work, has not ended.
pub fn in_progress(says: &ConnectSays) -> bool {
    let disconnected = says.disconnect_timestamp.is_some_and(|at| at > 0);
    let in_after_contact_work = says.agent.as_ref().is_some_and(|agent| {
        agent.connected_to_agent_timestamp.is_some_and(|at| at > 0)
            && agent
                .after_contact_work_end_timestamp
                .is_none_or(|at| at <= 0)
    });
    !disconnected || in_after_contact_work
}

/// Epoch milliseconds as the events write timestamps (`2024-05-06T10:00:05.500Z`); nothing for
/// an absent or placeholder (non-positive) time.
pub fn iso(millis: Option<i64>) -> Option<String> {
    let millis = millis.filter(|at| *at > 0)?;
    DateTime::from_timestamp_millis(millis)
        .map(|at| at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventType;

    const INSTANCE: &str = "arn:aws:connect:us-east-1:111122223333:instance/i-1";
    /// 2024-05-06T10:00:00Z.
    const T: i64 = 1_714_989_600_000;

    fn queued_then_dropped() -> ConnectSays {
        ConnectSays {
            contact_id: "c-1".into(),
            instance_arn: INSTANCE.into(),
            detail: json!({
                "Channel": "Voice",
                "InitiationMethod": "INBOUND",
                "InitiationTimestamp": "2024-05-06T10:00:00.000Z",
                "NotAFact": "x",
                "DisconnectReason": "x".repeat(3_000),
                "EventType": "QUEUED",
            })
            .as_object()
            .cloned()
            .unwrap_or_default(),
            queue: Some(("q-1".into(), Some(T + 5_500))),
            ..ConnectSays::default()
        }
    }

    /// Disconnected a minute in, its agent connected at 20 s and in after-contact work since
    /// the disconnect, until `acw_end` (milliseconds after `T`) if it ended.
    fn disconnected_with_agent(acw_end: Option<i64>) -> ConnectSays {
        ConnectSays {
            disconnect_timestamp: Some(T + 60_000),
            agent: Some(AgentSays {
                id: "a-1".into(),
                connected_to_agent_timestamp: Some(T + 20_000),
                after_contact_work_start_timestamp: Some(T + 60_000),
                after_contact_work_end_timestamp: acw_end.map(|end| T + end),
                after_contact_work_duration: acw_end.map(|end| ((end - 60_000) / 1_000) as u64),
            }),
            ..queued_then_dropped()
        }
    }

    #[test]
    fn a_contact_connect_says_is_in_progress_stands_for_no_event() {
        assert!(events(&queued_then_dropped()).is_empty());
    }

    #[test]
    fn the_disconnect_timestamp_is_a_disconnected_of_that_time_with_the_queue_as_its_place() {
        let says = ConnectSays {
            disconnect_timestamp: Some(T + 60_250),
            ..queued_then_dropped()
        };
        let [event] = events(&says).try_into().expect("one event");
        assert_eq!(
            event.event_type,
            EventType::Lifecycle(Lifecycle::Disconnected)
        );
        assert_eq!(event.time, Some(1_714_989_660));
        assert_eq!(
            event.facts.get("disconnectTimestamp"),
            Some("2024-05-06T10:01:00.250Z")
        );
        assert_eq!(event.facts.get("instanceArn"), Some(INSTANCE));
        // Read as the stream's events are: upper-cased, and an oversize value damaged, not
        // stored; the answer's own time and type win over the same fields of its detail.
        assert_eq!(event.facts.get("channel"), Some("VOICE"));
        assert_eq!(event.facts.known().count(), 5);
        assert_eq!(event.damaged, ["disconnectReason"]);
        let queue = event.places.queue.expect("the queue");
        assert_eq!(queue.arn, format!("{INSTANCE}/queue/q-1"));
        assert_eq!(queue.since.as_deref(), Some("2024-05-06T10:00:05.500Z"));
        assert_eq!(event.places.agent, None);
    }

    #[test]
    fn the_end_of_after_contact_work_is_a_completed_of_that_time_with_its_facts() {
        let says = disconnected_with_agent(Some(90_000));
        let [disconnected, completed] = events(&says).try_into().expect("two events");
        assert_eq!(
            disconnected.event_type,
            EventType::Lifecycle(Lifecycle::Disconnected)
        );
        assert_eq!(disconnected.facts.get(AFTER_CONTACT_WORK_END), None);
        assert_eq!(
            completed.event_type,
            EventType::Lifecycle(Lifecycle::Completed)
        );
        assert_eq!(completed.time, Some(1_714_989_690));
        assert_eq!(
            completed.facts.get(AFTER_CONTACT_WORK_END),
            Some("2024-05-06T10:01:30.000Z")
        );
        assert_eq!(completed.facts.get(AFTER_CONTACT_WORK_DURATION), Some("30"));
        let agent = completed.places.agent.expect("the agent");
        assert_eq!(agent.arn, format!("{INSTANCE}/agent/a-1"));
    }

    #[test]
    fn an_agent_connected_to_a_contact_in_progress_is_a_connected_to_agent_of_that_time() {
        let says = ConnectSays {
            disconnect_timestamp: None,
            ..disconnected_with_agent(None)
        };
        let [event] = events(&says).try_into().expect("one event");
        assert_eq!(
            event.event_type,
            EventType::Lifecycle(Lifecycle::ConnectedToAgent)
        );
        assert_eq!(event.time, Some(1_714_989_620));
        assert_eq!(event.facts.get("disconnectTimestamp"), None);
        let agent = event.places.agent.expect("the agent");
        assert_eq!(agent.since.as_deref(), Some("2024-05-06T10:00:20.000Z"));
    }

    #[test]
    fn a_listed_arn_ending_in_connects_id_is_kept_so_an_agent_queue_keeps_its_true_arn() {
        let agent_queue = format!("{INSTANCE}/queue/agent/a-1");
        let says = ConnectSays {
            queue: Some(("a-1".into(), Some(T))),
            listed_arns: vec![agent_queue.clone(), format!("{INSTANCE}/agent/a-1")],
            ..disconnected_with_agent(None)
        };
        let [event] = events(&says).try_into().expect("one event");
        assert_eq!(event.places.queue.expect("queue").arn, agent_queue);
        assert_eq!(
            event.places.agent.expect("agent").arn,
            format!("{INSTANCE}/agent/a-1")
        );
        let unlisted = ConnectSays {
            listed_arns: Vec::new(),
            ..says
        };
        let [event] = events(&unlisted).try_into().expect("one event");
        assert_eq!(
            event.places.queue.expect("queue").arn,
            format!("{INSTANCE}/queue/a-1")
        );
    }

    #[test]
    fn an_agent_still_in_after_contact_work_stands_for_a_disconnected_only() {
        assert_eq!(events(&disconnected_with_agent(None)).len(), 1);
    }

    #[test]
    fn the_verdict_is_healed_only_when_the_state_moved() {
        let applied = |before: &str, after: &str| Outcome::Applied {
            state_before: Some(before.into()),
            state: Some(after.into()),
            facts_filled: 0,
        };
        let live = queued_then_dropped();
        let ended = ConnectSays {
            disconnect_timestamp: Some(T + 60_000),
            ..queued_then_dropped()
        };
        assert_eq!(Verdict::of(&live, &[]), Verdict::Live);
        assert_eq!(
            Verdict::of(
                &ended,
                &[
                    applied("QUEUED", "DISCONNECTED"),
                    applied("DISCONNECTED", "COMPLETED")
                ]
            ),
            Verdict::Healed {
                state_before: Some("QUEUED".into()),
                state: Some("COMPLETED".into())
            }
        );
        let stale = Outcome::Stale {
            state: Some("COMPLETED".into()),
            facts_filled: 1,
        };
        assert_eq!(
            Verdict::of(&ended, std::slice::from_ref(&stale)),
            Verdict::Current
        );
        // Disconnected, the agent still in after-contact work: live, though nothing moved.
        assert_eq!(
            Verdict::of(&disconnected_with_agent(None), &[stale]),
            Verdict::Live
        );
    }
}
