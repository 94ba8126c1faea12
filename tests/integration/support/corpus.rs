//! Realistic contact lifecycles, generated from a seed: the events of one contact in true order,
//! with the stream's habits (same-second events, placeholder timestamps, PascalCase routing
//! samples, routing steps expiring, task pauses).

use serde_json::{Value, json};

/// A small deterministic generator (xorshift64*), so a seed names a lifecycle.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// Fisher-Yates.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

const INSTANCE: &str =
    "arn:aws:connect:us-east-1:111122223333:instance/aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";

/// A resource of the instance, as Connect names it (`…/queue/<uuid>`): real lengths matter to
/// the item-size figures.
fn arn(kind: &str, n: u64) -> String {
    format!("{INSTANCE}/{kind}/{}", uuid(&format!("{kind}-{n}")))
}

fn iso(seconds: i64, millis: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, (millis * 1_000_000) as u32)
        .expect("valid time")
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

struct Builder {
    contact_id: String,
    channel: &'static str,
    method: &'static str,
    start: i64,
    facts: Value,
    events: Vec<Vec<u8>>,
    pascal: bool,
    /// The contact's tags, Connect's own among them.
    tags: serde_json::Map<String, Value>,
}

impl Builder {
    fn emit(&mut self, event_type: &str, time: i64, extra: Value) {
        let mut detail = json!({
            "contactId": self.contact_id, "eventType": event_type, "channel": self.channel,
            "instanceArn": INSTANCE, "initiationMethod": self.method,
            "initiationTimestamp": iso(self.start, 120),
            "tags": self.tags,
        });
        let object = detail.as_object_mut().expect("object");
        if let Some(facts) = self.facts.as_object() {
            object.extend(facts.clone());
        }
        if let Some(extra) = extra.as_object() {
            object.extend(extra.clone());
        }
        if self.pascal && event_type == "CONNECTED_TO_AGENT" {
            detail = pascal_case(detail);
        }
        // EventBridge ids are UUIDs: the log-size figures need their real length.
        let id = uuid(&format!("{}-{}", self.contact_id, self.events.len()));
        let event = json!({
            "version": "0", "id": id, "detail-type": "Amazon Connect Contact Event",
            "source": "aws.connect", "account": "111122223333",
            "time": chrono::DateTime::from_timestamp(time, 0).expect("valid").format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "region": "us-east-1", "resources": [], "detail": detail,
        });
        self.events.push(event.to_string().into_bytes());
    }
}

/// The documentation's routing-criteria sample shape: PascalCase keys (but `tags`), criteria array.
fn pascal_case(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| {
                    if key == "tags" {
                        return (key, value);
                    }
                    let mut chars = key.chars();
                    let pascal = chars
                        .next()
                        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                        .unwrap_or_default();
                    let value = if pascal == "RoutingCriteria" && value.is_object() {
                        Value::Array(vec![pascal_case(value)])
                    } else {
                        pascal_case(value)
                    };
                    (pascal, value)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(pascal_case).collect()),
        other => other,
    }
}

fn routing(index: u64, statuses: &[&str], start: i64) -> Value {
    let steps: Vec<Value> = statuses
        .iter()
        .enumerate()
        .map(|(i, status)| {
            let mut step = json!({"status": status,
                   "expression": {"attributeCondition": {"name": "Language", "value": "English",
                                  "proficiencyLevel": (5 - i) as f64, "comparisonOperator": "NumberGreaterOrEqualTo"}}});
            // The last step is the fallback and never expires (as in the documentation's sample).
            if i + 1 < statuses.len() {
                let mut expiry = json!({"durationInSeconds": 30});
                if *status != "INACTIVE" {
                    expiry["expiryTimestamp"] = json!(iso(start + 30 * (i as i64 + 1), 500));
                }
                step["expiry"] = expiry;
            }
            step
        })
        .collect();
    json!({"index": index, "activationTimestamp": iso(start, 0), "steps": steps})
}

/// A UUID-shaped id derived from `name` (contact and event ids are UUIDs in real streams).
pub fn uuid(name: &str) -> String {
    let mut rng = Rng::new(name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    }));
    let (a, b) = (rng.next(), rng.next());
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        b >> 52,
        b & 0xffff_ffff_ffff
    )
}

/// How often a corpus's contacts take each path, in percent.
pub struct Mix {
    /// Contacts whose DISCONNECTED is never seen (lost, or still in progress), and contacts
    /// with an agent whose COMPLETED is never seen (lost, or still in after-contact work).
    pub unfinished: u64,
    /// Queued contacts routed by routing criteria (proficiency routing).
    pub routed: u64,
    /// Agent connections that carry the agent's hierarchy groups.
    pub hierarchy: u64,
}

/// Every path often: what property tests need to meet the rare cases.
pub const STRESS: Mix = Mix {
    unfinished: 15,
    routed: 50,
    hierarchy: 15,
};

/// A contact center's day, for the cost and size figures: Connect loses few DISCONNECTED
/// events and a contact is in progress for minutes of its 90 days in the table; routing criteria
/// and agent hierarchies as often as the 25 public events carry them (2 and 3 of 25).
pub const REALISTIC: Mix = Mix {
    unfinished: 1,
    routed: 8,
    hierarchy: 12,
};

/// The events of one contact, in true order, with every path often ([`STRESS`]).
pub fn lifecycle(contact_id: &str, seed: u64) -> Vec<Vec<u8>> {
    lifecycle_with(contact_id, seed, &STRESS)
}

/// The events of one contact, in true order, taking paths as often as `mix` says.
pub fn lifecycle_with(contact_id: &str, seed: u64, mix: &Mix) -> Vec<Vec<u8>> {
    let mut rng = Rng::new(seed);
    let start = 1_714_989_600 + rng.below(86_400) as i64;
    let kind = rng.below(4);
    let (channel, method) = match kind {
        0 => ("VOICE", "INBOUND"),
        1 => ("VOICE", "OUTBOUND"),
        2 => ("TASK", "API"),
        _ => ("CHAT", "API"),
    };
    let mut b = Builder {
        contact_id: contact_id.to_owned(),
        channel,
        method,
        start,
        facts: json!({}),
        events: Vec::new(),
        pascal: rng.chance(30),
        tags: serde_json::Map::from_iter([(
            "aws:connect:instanceId".to_owned(),
            json!("aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"),
        )]),
    };
    // User tags (5 of the 25 public events carry some).
    if rng.chance(20) {
        b.tags.insert(
            "Dept".into(),
            json!(["Finance", "Sales", "Support"][rng.below(3) as usize]),
        );
    }
    match kind {
        // Chats arrive on a subtype now and then (SMS).
        3 if rng.chance(30) => {
            b.facts["segmentAttributes"] =
                json!({"connect:Subtype": {"valueString": "connect:SMS"}});
        }
        // Outbound campaigns say which campaign.
        1 if rng.chance(30) => {
            b.facts["campaign"] = json!({"campaignId": uuid(&format!("{contact_id}-campaign"))})
        }
        _ => {}
    }
    let mut t = start;
    // Same-second neighbours are common: step 0 seconds a quarter of the time.
    let step = |rng: &mut Rng, t: &mut i64| {
        *t += if rng.chance(25) {
            0
        } else {
            1 + rng.below(40) as i64
        };
        *t
    };
    b.emit("INITIATED", t, json!({}));
    if kind == 1 {
        let at = step(&mut rng, &mut t);
        b.facts["connectedToSystemTimestamp"] = json!(iso(at, 300));
        b.emit("CONNECTED_TO_SYSTEM", at, json!({}));
        if rng.chance(50) {
            b.emit("AMD_DISABLED", at, json!({}));
        }
        let at = step(&mut rng, &mut t);
        b.facts["disconnectTimestamp"] = json!(iso(at, 900));
        let mut outcome = if rng.chance(50) {
            json!({"disconnectReason": "OUTBOUND_ATTEMPT_FAILED"})
        } else {
            // Answered: the greeting's start and end, and how answering-machine detection
            // classified the call.
            json!({"customerVoiceActivity": {"greetingStartTimestamp": iso(at - 3, 100), "greetingEndTimestamp": iso(at - 1, 600)},
                   "answeringMachineDetectionStatus": "HUMAN_ANSWERED"})
        };
        if rng.chance(10) {
            outcome["disconnectDetails"] =
                json!({"potentialDisconnectIssue": "AGENT_CONNECTIVITY_ISSUE"});
        }
        b.emit("DISCONNECTED", at, outcome);
        if rng.chance(50) {
            let at = step(&mut rng, &mut t);
            b.emit("COMPLETED", at, json!({}));
        }
        return b.events;
    }
    let at = step(&mut rng, &mut t);
    b.facts["queueInfo"] = json!({"queueArn": arn("queue", rng.below(3)), "enqueueTimestamp": iso(at, 500), "queueType": "STANDARD"});
    // Routing criteria (proficiency routing) are set by some flows only.
    let routed = rng.chance(mix.routed);
    let steps = 1 + rng.below(3) as usize;
    let mut statuses = vec!["INACTIVE"; steps];
    statuses[0] = "ACTIVE";
    let mut index = 0;
    let criteria = |index, statuses: &[&str], at| {
        if routed {
            json!({"routingCriteria": routing(index, statuses, at)})
        } else {
            json!({})
        }
    };
    b.emit("QUEUED", at, criteria(index, &statuses, at));
    // Steps expire one after another; sometimes the flow sets new routing criteria.
    let mut active = 0;
    while routed && active + 1 < steps && rng.chance(60) {
        let at = step(&mut rng, &mut t);
        statuses[active] = "EXPIRED";
        active += 1;
        statuses[active] = "ACTIVE";
        b.emit(
            "CONTACT_DATA_UPDATED",
            at,
            json!({"routingCriteria": routing(index, &statuses, at),
            "connectedToSystemTimestamp": "1970-01-01T00:00:00.001Z"}),
        );
    }
    if rng.chance(25) {
        // A flow moves the contact to another queue: queued again, same contact id.
        let at = step(&mut rng, &mut t);
        // An agent's personal queue (`AGENT`) now and then.
        let queue_type = if rng.chance(20) { "AGENT" } else { "STANDARD" };
        b.facts["queueInfo"] = json!({"queueArn": arn("queue", 3 + rng.below(3)), "enqueueTimestamp": iso(at, 700), "queueType": queue_type});
        b.emit("QUEUED", at, json!({}));
    }
    if routed && rng.chance(20) {
        let at = step(&mut rng, &mut t);
        index += 1;
        statuses = vec!["ACTIVE"];
        active = 0;
        b.emit(
            "CONTACT_DATA_UPDATED",
            at,
            json!({"routingCriteria": routing(index, &statuses, at)}),
        );
    }
    if rng.chance(80) {
        let at = step(&mut rng, &mut t);
        statuses[active] = "JOINED";
        for later in statuses.iter_mut().skip(active + 1) {
            *later = "DEACTIVATED";
        }
        let agent = rng.below(5);
        b.facts["agentInfo"] =
            json!({"agentArn": arn("agent", agent), "connectedToAgentTimestamp": iso(at, 250)});
        // Instances with agent hierarchies send the agent's groups, level 1 down (3 of the 25
        // public events); the routing profile is rarer (1 of 25).
        if rng.chance(mix.hierarchy) {
            let levels: serde_json::Map<String, Value> = (1..=1 + rng.below(5))
                .map(|level| {
                    (
                        format!("level{level}"),
                        json!({"arn": arn("agent-group", agent * 10 + level)}),
                    )
                })
                .collect();
            b.facts["agentInfo"]["hierarchyGroups"] = Value::Object(levels);
        }
        if rng.chance(5) {
            b.facts["agentInfo"]["routingProfileArn"] = json!(arn("routing-profile", agent % 2));
        }
        b.emit("CONNECTED_TO_AGENT", at, criteria(index, &statuses, at));
        if kind == 2 {
            for pause in 0..rng.below(4) {
                // At least a second apart, so the true order is what the envelope time says.
                t += 1 + rng.below(600) as i64;
                b.emit(
                    if pause % 2 == 0 { "PAUSED" } else { "RESUMED" },
                    t,
                    json!({}),
                );
            }
        }
        if rng.chance(30) {
            // The flow or an agent tags the contact: later events carry the new tags.
            let at = step(&mut rng, &mut t);
            b.tags.insert(
                "Priority".into(),
                json!(["high", "low"][rng.below(2) as usize]),
            );
            b.emit(
                "CONTACT_DATA_UPDATED",
                at,
                json!({"updatedProperties": ["Tags"]}),
            );
        }
    }
    if rng.chance(100 - mix.unfinished) {
        let at = step(&mut rng, &mut t);
        b.facts["disconnectTimestamp"] = json!(iso(at, 800));
        b.emit("DISCONNECTED", at, json!({}));
        // Connect sends COMPLETED when the agent's after-contact work ends (at once without
        // it): a contact that had an agent misses it only when Connect loses it. Contacts
        // that had none end either way.
        let completes = rng.chance(70);
        let had_agent = b.facts["agentInfo"].is_object();
        if completes || (had_agent && !rng.chance(mix.unfinished)) {
            let disconnected = at;
            let at = step(&mut rng, &mut t);
            // An agent's after-contact work: from the disconnect to COMPLETED, which says so.
            if b.facts["agentInfo"].is_object() {
                let agent = b.facts["agentInfo"].clone();
                let mut agent = agent.as_object().cloned().unwrap_or_default();
                agent.extend([
                    (
                        "afterContactWorkStartTimestamp".into(),
                        json!(iso(disconnected, 800)),
                    ),
                    ("afterContactWorkEndTimestamp".into(), json!(iso(at, 950))),
                    ("afterContactWorkDuration".into(), json!(at - disconnected)),
                ]);
                b.emit("COMPLETED", at, json!({"agentInfo": agent}));
            } else {
                b.emit("COMPLETED", at, json!({}));
            }
        }
    }
    b.events
}

/// A stream dated now: each contact's events moved in time so that its last happened just now,
/// as a live stream's have. Only the envelope `time` moves, by one offset per contact (the order
/// rules compare a contact's own events; the detail's timestamps keep their order), and the
/// delivery order stays as it is, so outcomes are unchanged and `lagMs` on the log line has the
/// length it has in production (seconds to minutes, not years) for the byte figures.
pub fn dated_now(events: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    let time = |event: &Value| {
        chrono::DateTime::parse_from_rfc3339(event["time"].as_str().expect("time"))
            .expect("a time")
            .timestamp()
    };
    let contact = |event: &Value| {
        let detail = &event["detail"];
        detail
            .get("contactId")
            .or_else(|| detail.get("ContactId"))
            .and_then(Value::as_str)
            .expect("a contact id")
            .to_owned()
    };
    let events: Vec<Value> = events
        .iter()
        .map(|event| serde_json::from_slice(event).expect("an event"))
        .collect();
    let mut latest = std::collections::HashMap::new();
    for event in &events {
        let at = latest.entry(contact(event)).or_insert(i64::MIN);
        *at = (*at).max(time(event));
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64;
    events
        .into_iter()
        .map(|mut event| {
            let shift = now - latest[&contact(&event)];
            let moved = chrono::DateTime::from_timestamp(time(&event) + shift, 0).expect("valid");
            event["time"] = json!(moved.format("%Y-%m-%dT%H:%M:%SZ").to_string());
            event.to_string().into_bytes()
        })
        .collect()
}

/// `events` shuffled, with some delivered twice or three times.
pub fn delivered(events: &[Vec<u8>], seed: u64) -> Vec<Vec<u8>> {
    let mut rng = Rng::new(seed ^ 0x5EED);
    let mut out = Vec::new();
    for event in events {
        out.push(event.clone());
        for _ in 0..rng.below(3) {
            if rng.chance(40) {
                out.push(event.clone());
            }
        }
    }
    rng.shuffle(&mut out);
    out
}

/// The stream of many contacts: each contact's events [`delivered`], contacts interleaved.
pub fn stream(lifecycles: &[Vec<Vec<u8>>], seed: u64) -> Vec<Vec<u8>> {
    let mut stream: Vec<Vec<u8>> = lifecycles
        .iter()
        .enumerate()
        .flat_map(|(n, events)| delivered(events, n as u64))
        .collect();
    Rng::new(seed).shuffle(&mut stream);
    stream
}

/// The stream as Connect delivers it live, which is what users' bills come from: every event in
/// order of its event time with a small delivery jitter (up to 2 s, so events of one second and
/// of neighbouring seconds swap), 3% of events late by 5 s to 5 min, and 5% delivered again
/// 1–30 s after the first copy.
pub fn live_stream(lifecycles: &[Vec<Vec<u8>>], seed: u64) -> Vec<Vec<u8>> {
    let mut rng = Rng::new(seed ^ 0x11FE);
    let mut timed: Vec<(u64, Vec<u8>)> = Vec::new();
    for event in lifecycles.iter().flatten() {
        let envelope: Value = serde_json::from_slice(event).expect("an event");
        let time = chrono::DateTime::parse_from_rfc3339(envelope["time"].as_str().expect("time"))
            .expect("a time")
            .timestamp_millis() as u64;
        let delay = if rng.chance(3) {
            5_000 + rng.below(295_000)
        } else {
            rng.below(2_000)
        };
        timed.push((time + delay, event.clone()));
        if rng.chance(5) {
            timed.push((time + delay + 1_000 + rng.below(29_000), event.clone()));
        }
    }
    timed.sort_by_key(|(at, _)| *at);
    timed.into_iter().map(|(_, event)| event).collect()
}
