//! The contract's "Input" sentences, on payloads.

use super::*;
use crate::facts::{PlaceSeen, TAGS_MAX_BYTES};
use crate::ordering::Lifecycle;
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
    let agent = event.places.agent.as_ref().expect("the agent");
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
        event.places.queue.as_ref().map(|q| q.details.clone()),
        Some(vec![Some("AGENT".into())])
    );
    assert_eq!(
        event.places.agent.as_ref().map(|a| a.details.clone()),
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
        event.places.queue,
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
        event.places.agent.as_ref().map(|p| p.arn.as_str()),
        Some("arn:agent")
    );
    assert_eq!(
        event.places.queue.as_ref().map(|p| p.arn.as_str()),
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
    let event = parsed(json!({"contactId": "c", "eventType": "DISCONNECTED", "channel": "Voice"}));
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
        event.places.agent,
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
        refused(json!({"contactId": 42, "eventType": "QUEUED"})).starts_with("detail.contactId:")
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
    assert!(refused(json!({"contactId": "c", "eventType": 1})).starts_with("detail.eventType:"));
}

#[test]
fn an_optional_field_of_the_wrong_type_is_named_and_the_rest_of_the_event_applied() {
    let event = parsed(
        json!({"contactId": "c", "eventType": "QUEUED", "channel": "CHAT",
        "queueInfo": {"queueArn": 7, "enqueueTimestamp": "2024-05-06T10:00:01Z"}}),
    );
    assert_eq!(event.damaged, vec!["queueInfo.queueArn"]);
    // A timestamp without its ARN says nowhere the contact is.
    assert_eq!(event.places.queue, None);
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
    let reason = refused(json!({"contactId": {"phone": "+15551234567"}, "eventType": "QUEUED"}));
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
        event.places.queue.as_ref().map(|p| p.arn.as_str()),
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

/// docs/contract.md, "After-contact work": COMPLETED says when the agent's after-contact work
/// began and ended, and for how long; other events' values are not read.
#[test]
fn after_contact_work_is_read_from_completed_only() {
    let agent = json!({"agentArn": "arn", "connectedToAgentTimestamp": "2024-05-06T10:00:52.250Z",
        "afterContactWorkStartTimestamp": "2024-05-06T10:07:41.800Z",
        "afterContactWorkEndTimestamp": "2024-05-06T10:08:29.900Z",
        "afterContactWorkDuration": 48});
    let completed =
        parsed(json!({"eventType": "COMPLETED", "contactId": "c-1", "agentInfo": agent}));
    assert_eq!(
        completed.facts.get("afterContactWorkStartTimestamp"),
        Some("2024-05-06T10:07:41.800Z")
    );
    assert_eq!(
        completed.facts.get("afterContactWorkEndTimestamp"),
        Some("2024-05-06T10:08:29.900Z")
    );
    assert_eq!(completed.facts.get("afterContactWorkDuration"), Some("48"));
    // PascalCase, and a duration sent as a string of digits.
    let pascal = parsed(json!({"EventType": "COMPLETED", "ContactId": "c-1",
        "AgentInfo": {"AfterContactWorkDuration": "7"}}));
    assert_eq!(pascal.facts.get("afterContactWorkDuration"), Some("7"));
    for other in ["DISCONNECTED", "CONTACT_DATA_UPDATED", "CONNECTED_TO_AGENT"] {
        let event = parsed(json!({"eventType": other, "contactId": "c-1", "agentInfo": agent}));
        assert_eq!(event.facts.get("afterContactWorkDuration"), None, "{other}");
        assert_eq!(
            event.facts.get("afterContactWorkEndTimestamp"),
            None,
            "{other}"
        );
        assert!(event.damaged.is_empty(), "{other}");
    }
}

#[test]
fn a_duration_that_is_no_whole_number_of_seconds_is_damaged_and_the_rest_applied() {
    for duration in [
        json!(-1),
        json!(1.5),
        json!("soon"),
        json!(true),
        json!(1e12),
    ] {
        let event = parsed(json!({"eventType": "COMPLETED", "contactId": "c-1",
            "agentInfo": {"afterContactWorkDuration": duration,
                          "afterContactWorkEndTimestamp": "2024-05-06T10:08:29.900Z"}}));
        assert_eq!(
            event.facts.get("afterContactWorkDuration"),
            None,
            "{duration}"
        );
        assert_eq!(
            event.damaged,
            vec!["agentInfo.afterContactWorkDuration".to_owned()],
            "{duration}"
        );
        assert!(event.facts.get("afterContactWorkEndTimestamp").is_some());
    }
    let absent = parsed(json!({"eventType": "COMPLETED", "contactId": "c-1",
        "agentInfo": {"afterContactWorkDuration": null}}));
    assert!(absent.damaged.is_empty());
}
