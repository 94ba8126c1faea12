//! Hostile input: whatever the payload, an event is accepted or refused with one clear line;
//! nothing is written when it is refused, no refusal quotes the payload's values, and nothing
//! crashes the process (a panic would abort every event in flight).

use std::process::Stdio;
use std::time::Duration;

use crate::support::memory::MemoryStore;
use crate::support::{RETENTION_DAYS, endpoint, fresh_table, spawn_function_for};
use connect_contact_state::event;
use connect_contact_state::facts::{FACTS, PLACES, Read};
use connect_contact_state::handler::Handler;
use connect_contact_state::outcome::Outcome;
use local_lambda::RuntimeApi;
use serde_json::{Value, json};

/// A value no refusal may echo: it stands for a customer's phone number.
const PHONE: &str = "+15555550123";

/// An event with every field the function reads: the envelope, `contactId`, `eventType`, the
/// routing criteria, and every fact of the facts table (a new fact is covered here by itself).
/// COMPLETED, the one type every fact is read from (after-contact work is read from it alone).
fn full_event() -> Value {
    let mut event = json!({
        "version": "0",
        "id": "hostile-0001",
        "detail-type": "Amazon Connect Contact Event",
        "source": "aws.connect",
        "account": "111122223333",
        "time": "2024-05-06T10:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "contactId": "hostile-contact",
            "eventType": "COMPLETED",
            "routingCriteria": {
                "index": 0,
                "activationTimestamp": "2024-05-06T10:00:00.500Z",
                "steps": [{"status": "ACTIVE", "expiry": {
                    "durationInSeconds": 30, "expiryTimestamp": "2024-05-06T10:00:31.000Z"}}]
            },
            "tags": {"aws:connect:systemEndpoint": PHONE, "Dept": "Finance"}
        }
    });
    for fact in &FACTS {
        let value = match fact.read {
            Read::Timestamp => json!("2024-05-06T10:00:01.000Z"),
            Read::Seconds => json!(48),
            Read::Text | Read::UpperCase | Read::Id | Read::DeepestLevelId => {
                json!(format!("{}-value", fact.attribute))
            }
        };
        let (leaf, parents) = fact.source.split_last().expect("a path");
        let mut at = &mut event["detail"];
        for parent in parents {
            if at.get(*parent).is_none() {
                at[*parent] = json!({});
            }
            at = &mut at[*parent];
        }
        at[*leaf] = value;
    }
    for place in PLACES.iter() {
        // Beside the facts already under the same object (after-contact work under `agentInfo`).
        if event["detail"].get(place.parent).is_none() {
            event["detail"][place.parent] = json!({});
        }
        event["detail"][place.parent][place.arn] = json!(format!("arn:{}", place.arn));
        event["detail"][place.parent][place.since] = json!("2024-05-06T10:00:02.000Z");
        for detail in place.details {
            event["detail"][place.parent][detail.source] = match detail.read {
                Read::Text | Read::UpperCase | Read::Timestamp | Read::Seconds => json!("STANDARD"),
                Read::Id => json!(format!("arn:{}/id", detail.source)),
                Read::DeepestLevelId => json!({"level1": {"arn": "arn:agent-group/g1"}}),
            };
        }
    }
    event
}

/// JSON pointers of every field the function reads: the fixed ones, and each fact's path with
/// the objects above it.
fn fields() -> Vec<String> {
    let mut fields: Vec<String> = [
        "/source",
        "/detail-type",
        "/time",
        "/id",
        "/detail",
        "/detail/contactId",
        "/detail/eventType",
        "/detail/routingCriteria",
        "/detail/routingCriteria/index",
        "/detail/routingCriteria/steps",
        "/detail/routingCriteria/steps/0",
        "/detail/routingCriteria/steps/0/status",
        "/detail/routingCriteria/steps/0/expiry",
        "/detail/routingCriteria/steps/0/expiry/durationInSeconds",
        "/detail/routingCriteria/steps/0/expiry/expiryTimestamp",
        "/detail/routingCriteria/activationTimestamp",
        "/detail/tags",
        "/detail/tags/Dept",
        "/detail/agentInfo/hierarchyGroups/level1",
        "/detail/agentInfo/hierarchyGroups/level1/arn",
    ]
    .map(String::from)
    .to_vec();
    let sources = FACTS
        .iter()
        .map(|fact| fact.source.to_vec())
        .chain(PLACES.iter().flat_map(|place| {
            [
                vec![place.parent, place.arn],
                vec![place.parent, place.since],
            ]
            .into_iter()
            .chain(
                place
                    .details
                    .iter()
                    .map(|detail| vec![place.parent, detail.source]),
            )
        }));
    for source in sources {
        for depth in 1..=source.len() {
            let pointer = format!("/detail/{}", source[..depth].join("/"));
            if !fields.contains(&pointer) {
                fields.push(pointer);
            }
        }
    }
    fields
}

/// Every JSON type, carrying the phone number where a value can.
fn wrong_values() -> Vec<Value> {
    vec![
        json!(15_555_550_123_u64),
        json!(-15_555_550_123_i64),
        json!(1.5),
        json!(true),
        json!(null),
        json!(PHONE),
        json!(""),
        json!([]),
        json!([PHONE]),
        json!({}),
        json!({"phone": PHONE}),
    ]
}

fn handler() -> Handler<MemoryStore> {
    Handler::new(MemoryStore::default(), RETENTION_DAYS)
}

/// The fields whose damage refuses an event (docs/contract.md, "Input"); any other damaged field is read as
/// absent and named, and the rest of the event is applied.
const MAY_REFUSE: &[&str] = &[
    "/source",
    "/detail-type",
    "/detail",
    "/detail/contactId",
    "/detail/eventType",
];

/// Accepted, or refused with one line that names a field and echoes no value; nothing written
/// when refused.
async fn accepted_or_cleanly_refused(payload: &[u8], what: &str) {
    let handler = handler();
    match handler.handle(payload).await {
        Ok(_) => {
            // Damaged fields are named by path, never by value.
            let event = event::parse(payload).expect("accepted");
            for path in &event.damaged {
                assert!(!path.contains("5555550123"), "{what}: {path}");
                assert!(!path.contains('\n'), "{what}: {path}");
            }
        }
        Err(error) => {
            let Outcome::Refused(refusal) = &error.0.outcome else {
                panic!("{what}: neither accepted nor refused: {error}");
            };
            let line = refusal.to_string();
            assert!(!line.contains('\n'), "{what}: {line}");
            // The envelope's source and detail-type are quoted (in part) on purpose: they say
            // which rule misrouted an event, and are no customer's data.
            let envelope_id = what.starts_with("/source") || what.starts_with("/detail-type");
            assert!(
                envelope_id || !line.contains("5555550123"),
                "{what} echoes a value: {line}"
            );
            assert!(line.len() < 300, "{what}: {line}");
            assert!(
                handler.store().items.lock().unwrap().is_empty(),
                "{what}: refused but written"
            );
        }
    }
}

#[tokio::test]
async fn every_field_of_every_wrong_json_type_is_accepted_or_refused_in_one_clean_line() {
    let mut cases = 0;
    let fields = fields();
    assert_eq!(fields.len(), 53, "{fields:?}");
    for field in &fields {
        for value in wrong_values() {
            let mut event = full_event();
            *event.pointer_mut(field).expect(field) = value.clone();
            let payload = event.to_string().into_bytes();
            let what = format!("{field} = {value}");
            accepted_or_cleanly_refused(&payload, &what).await;
            if !MAY_REFUSE.contains(&field.as_str()) {
                // Only the contract's reasons refuse: the contact is stored all the same.
                let handler = handler();
                handler.handle(&payload).await.expect(&what);
                assert!(
                    handler
                        .store()
                        .items
                        .lock()
                        .unwrap()
                        .contains_key("hostile-contact"),
                    "{what}: not stored"
                );
            }
            cases += 1;
        }
    }
    assert_eq!(cases, fields.len() * wrong_values().len());
}

#[tokio::test]
async fn a_damaged_optional_field_is_named_and_the_rest_of_the_event_applied() {
    for (field, path) in [
        ("/detail/channel", "channel"),
        ("/detail/queueInfo", "queueInfo"),
        ("/detail/initiationTimestamp", "initiationTimestamp"),
        (
            "/detail/routingCriteria/steps/0/expiry/durationInSeconds",
            "routingCriteria.steps[0].expiry.durationInSeconds",
        ),
    ] {
        let mut event = full_event();
        *event.pointer_mut(field).unwrap() = json!([PHONE]);
        let payload = event.to_string().into_bytes();
        assert_eq!(event::parse(&payload).expect("accepted").damaged, [path]);
        let handler = handler();
        handler.handle(&payload).await.expect("accepted");
        let items = handler.store().items.lock().unwrap();
        let item = items.get("hostile-contact").expect("stored");
        assert_eq!(item.state.as_deref(), Some("COMPLETED"), "{field}");
        let facts: Vec<&str> = item.facts.iter().map(|(name, _)| *name).collect();
        assert!(facts.contains(&"instanceArn"), "{field}: {facts:?}");
        assert!(facts.len() >= FACTS.len() - 2, "{field}: {facts:?}");
    }
}

#[tokio::test]
async fn a_non_object_detail_and_non_connect_events_are_refused() {
    for detail in [json!("QUEUED"), json!([1, 2]), json!(7), json!(null)] {
        let mut event = full_event();
        event["detail"] = detail;
        let error = handler()
            .handle(event.to_string().as_bytes())
            .await
            .expect_err("refused");
        assert!(error.to_string().contains("detail"), "{error}");
    }
    for (source, detail_type) in [
        ("aws.ec2", "EC2 Instance State-change Notification"),
        ("aws.connect", "Amazon Connect Agent Event"),
        ("custom.connect", "Amazon Connect Contact Event"),
    ] {
        let mut event = full_event();
        event["source"] = json!(source);
        event["detail-type"] = json!(detail_type);
        let error = handler()
            .handle(event.to_string().as_bytes())
            .await
            .expect_err("refused");
        assert!(
            error
                .to_string()
                .contains("not an Amazon Connect contact event"),
            "{error}"
        );
    }
}

#[tokio::test]
async fn contact_ids_at_and_over_the_limit_and_oversize_values() {
    let mut event = full_event();
    event["detail"]["contactId"] = json!("c".repeat(256));
    assert!(handler().handle(event.to_string().as_bytes()).await.is_ok());
    event["detail"]["contactId"] = json!("c".repeat(257));
    let error = handler()
        .handle(event.to_string().as_bytes())
        .await
        .expect_err("refused");
    assert!(error.to_string().contains("detail.contactId"), "{error}");
    // A value no Connect field has is dropped, not stored: the event is still accepted.
    let mut event = full_event();
    event["detail"]["disconnectReason"] = json!("x".repeat(100_000));
    let handler = handler();
    handler
        .handle(event.to_string().as_bytes())
        .await
        .expect("accepted");
    let items = handler.store().items.lock().unwrap();
    let item = items.get("hostile-contact").expect("written");
    assert!(
        !item
            .facts
            .iter()
            .any(|(name, _)| *name == "disconnectReason")
    );
}

#[tokio::test]
async fn byte_garbage_is_refused() {
    for payload in [
        &b""[..],
        b"null",
        b"[]",
        b"\"event\"",
        b"{",
        b"\xff\xfe\x00garbage",
        b"{\"detail\": {\"contactId\": \"\xff\"}}",
    ] {
        accepted_or_cleanly_refused(payload, &String::from_utf8_lossy(payload)).await;
        assert!(handler().handle(payload).await.is_err());
    }
}

/// The 256 KB EventBridge maximum, deep nesting and garbage through the real binary: each
/// answered, the process alive for the next event, and nothing written for what was refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_answers_the_largest_deepest_and_broken_events_and_lives_on() {
    let table = fresh_table().await;
    let api = RuntimeApi::start(Duration::from_secs(10))
        .await
        .expect("runtime API");
    let _function = spawn_function_for(&table, &api, &endpoint(), "WARN", Stdio::null());

    // Exactly 256 KB: a contact with a great many tags.
    const LARGEST: usize = 256 * 1024;
    let mut largest = full_event();
    let mut tags: serde_json::Map<String, Value> = (0..2_000)
        .map(|n| (format!("tag-{n:05}"), json!("v".repeat(100))))
        .collect();
    tags.insert("padding".into(), json!(""));
    largest["detail"]["tags"] = Value::Object(tags.clone());
    let short = LARGEST - largest.to_string().len();
    tags.insert("padding".into(), json!("p".repeat(short)));
    largest["detail"]["tags"] = Value::Object(tags);
    let bytes = largest.to_string().into_bytes();
    assert_eq!(bytes.len(), LARGEST);
    api.invoke(bytes).await.expect("accepted");
    assert!(table.item("hostile-contact").await.is_some());

    let deep = |open: &str, close: &str| {
        let mut event = full_event();
        event["detail"]["contactId"] = json!("deep-contact");
        let text = event.to_string();
        let nested = format!("{}1{}", open.repeat(200_000), close.repeat(200_000));
        text.replacen("\"tags\":", &format!("\"x\":{nested},\"tags\":"), 1)
    };
    api.invoke(deep("[", "]"))
        .await
        .expect("deep unknown field");
    api.invoke(deep("{\"a\":", "}"))
        .await
        .expect("deep unknown field");

    let refused = [
        b"".to_vec(),
        b"{".to_vec(),
        b"\xff\xfe".to_vec(),
        {
            let mut event = full_event();
            event["detail"] = json!([PHONE]);
            event.to_string().into_bytes()
        },
        {
            let mut event = full_event();
            event["detail"]["contactId"] = json!(PHONE.len());
            event.to_string().into_bytes()
        },
    ];
    for payload in refused {
        let error = api.invoke(payload).await.expect_err("refused");
        assert!(!error.contains("5555550123"), "{error}");
    }
    // A damaged optional field costs that field only.
    let mut damaged = full_event();
    damaged["detail"]["contactId"] = json!("damaged-contact");
    damaged["detail"]["routingCriteria"] = json!(PHONE);
    api.invoke(damaged.to_string()).await.expect("accepted");
    assert!(table.item("damaged-contact").await.is_some());
    // Still alive: the next event is handled.
    let mut event = full_event();
    event["detail"]["contactId"] = json!("after-the-storm");
    api.invoke(event.to_string()).await.expect("accepted");
    assert!(table.item("after-the-storm").await.is_some());
    assert!(table.item("deep-contact").await.is_some());
}
