//! The exact `UpdateItem` the DynamoDB adapter sends for a write, checked offline with the SDK's
//! own mocks (`aws-smithy-mocks`): a changed expression, placeholder or condition fails here
//! without a server. What DynamoDB does with it is checked against DynamoDB Local elsewhere.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::update_item::{UpdateItemInput, UpdateItemOutput};
use aws_sdk_dynamodb::types::error::ConditionalCheckFailedException;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use connect_contact_state::dynamodb::DynamoDbStore;
use connect_contact_state::event::RoutingStep;
use connect_contact_state::facts::{PLACES, Places};
use connect_contact_state::store::{
    ContactStore, Freshness, Guard, PlaceChange, RoutingChange, StateChange, StoredItem,
    TagsChange, ViewBasis, Write, WriteOutcome,
};

type Sent = Arc<Mutex<Vec<UpdateItemInput>>>;

/// A store whose client answers every UpdateItem with `answer`, keeping each request sent.
fn store_answering(rejected: bool, old: HashMap<String, AttributeValue>) -> (DynamoDbStore, Sent) {
    let sent: Sent = Arc::default();
    let keep = sent.clone();
    let rule = mock!(Client::update_item).match_requests(move |input| {
        keep.lock().unwrap().push(input.clone());
        true
    });
    let rule = if rejected {
        rule.then_error(move || {
            aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(
                ConditionalCheckFailedException::builder()
                    .set_item(Some(old.clone()))
                    .build(),
            )
        })
    } else {
        rule.then_output(move || {
            UpdateItemOutput::builder()
                .set_attributes(Some(old.clone()))
                .build()
        })
    };
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&rule]);
    (DynamoDbStore::new(client, "contacts"), sent)
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: &str) -> AttributeValue {
    AttributeValue::N(value.into())
}

#[tokio::test]
async fn a_write_is_one_conditional_update_item_guarding_every_dimension_it_moves() {
    let state = StateChange {
        state: "QUEUED",
        key: 300_000_000_000,
    };
    let routing = RoutingChange {
        index: 1,
        steps: vec![RoutingStep {
            status: "ACTIVE".into(),
            expiry_duration_seconds: Some(30),
            expiry_timestamp: None,
        }],
        activated_at: Some("2024-05-06T10:00:05.000Z".into()),
        key: 1_000_002,
    };
    let queue = PlaceChange {
        place: PLACES.queue,
        arn: "arn:q".into(),
        since: Some("2024-05-06T10:00:05.500Z".into()),
        details: vec![Some("STANDARD".into())],
        key: 1_714_989_605_500_100_123,
    };
    let tags = TagsChange {
        tags: vec![("Dept".into(), "Finance".into())],
        key: 1_714_989_600_100_042,
    };
    let write = Write {
        contact_id: "c-1",
        state: Some(&state),
        routing: Some(&routing),
        freshness: Some((
            Freshness {
                event_time: 1_714_989_600,
                expires_at: 1_722_765_600,
            },
            Guard::NotOlder,
        )),
        places: vec![&queue],
        tags: Some(&tags),
        facts: vec![("channel", "VOICE")],
        views: vec![("queuedIn", Some("arn:q".into())), ("withAgent", None)],
        view_basis: None,
    };
    let (store, sent) = store_answering(false, HashMap::new());
    let answer = store.write(&write).await.expect("written");
    assert_eq!(
        answer.outcome,
        WriteOutcome::Written {
            before: StoredItem::default()
        }
    );
    let sent = sent.lock().unwrap();
    let [input] = sent.as_slice() else {
        panic!("one request: {sent:?}")
    };
    assert_eq!(input.table_name(), Some("contacts"));
    assert_eq!(
        input.key(),
        Some(&HashMap::from([("contactId".to_owned(), s("c-1"))]))
    );
    assert_eq!(
        input.update_expression(),
        Some(
            "SET #state = :state, #_s = :_s, \
             #routingCriteriaIndex = :routingCriteriaIndex, #routingSteps = :routingSteps, \
             #_r = :_r, #expiresAt = :expiresAt, #_e = :_e, \
             #queueArn = :queueArn, #enqueueTimestamp = :enqueueTimestamp, #_q = :_q, \
             #queueType = :queueType, #tags = :tags, #_t = :_t, \
             #queuedIn = :queuedIn, #channel = if_not_exists(#channel, :channel) \
             REMOVE #stateKey, #routingActivationTimestamp, #routingKey, #lastEventAt, \
             #queueKey, #tagsKey, #withAgent"
        )
    );
    assert_eq!(
        input.condition_expression(),
        Some(
            "(attribute_not_exists(#_s) OR #_s < :_s) \
             AND (attribute_not_exists(#stateKey) OR #stateKey < :_s) \
             AND (attribute_not_exists(#_r) OR #_r < :_r) \
             AND (attribute_not_exists(#routingKey) OR #routingKey < :_r) \
             AND (attribute_not_exists(#_e) OR #_e <= :_e) \
             AND (attribute_not_exists(#lastEventAt) OR #lastEventAt <= :_e) \
             AND (attribute_not_exists(#_q) OR #_q <= :_q) \
             AND (attribute_not_exists(#queueKey) OR #queueKey <= :_q) \
             AND (attribute_not_exists(#_t) OR #_t <= :_t) \
             AND (attribute_not_exists(#tagsKey) OR #tagsKey <= :_t)"
        )
    );
    let names = input.expression_attribute_names().expect("names");
    for name in [
        "state",
        "_s",
        "stateKey",
        "routingCriteriaIndex",
        "routingSteps",
        "routingActivationTimestamp",
        "_r",
        "routingKey",
        "expiresAt",
        "_e",
        "lastEventAt",
        "queueArn",
        "enqueueTimestamp",
        "_q",
        "queueKey",
        "queueType",
        "tags",
        "_t",
        "tagsKey",
        "queuedIn",
        "withAgent",
        "channel",
    ] {
        assert_eq!(
            names.get(&format!("#{name}")).map(String::as_str),
            Some(name)
        );
    }
    assert_eq!(names.len(), 22);
    let values = input.expression_attribute_values().expect("values");
    assert_eq!(values[":state"], s("QUEUED"));
    assert_eq!(values[":_s"], n("300000000000"));
    assert_eq!(values[":routingCriteriaIndex"], n("1"));
    assert_eq!(
        values[":routingSteps"],
        AttributeValue::L(vec![AttributeValue::M(HashMap::from([
            ("status".to_owned(), s("ACTIVE")),
            ("expiryDurationSeconds".to_owned(), n("30")),
        ]))])
    );
    assert_eq!(values[":_r"], n("1000002"));
    assert_eq!(values[":expiresAt"], n("1722765600"));
    assert_eq!(values[":_e"], n("1714989600"));
    assert_eq!(values[":queueArn"], s("arn:q"));
    assert_eq!(values[":enqueueTimestamp"], s("2024-05-06T10:00:05.500Z"));
    assert_eq!(values[":_q"], n("1714989605500100123"));
    assert_eq!(values[":queueType"], s("STANDARD"));
    assert_eq!(
        values[":tags"],
        AttributeValue::M(HashMap::from([("Dept".to_owned(), s("Finance"))]))
    );
    assert_eq!(values[":_t"], n("1714989600100042"));
    assert_eq!(values[":queuedIn"], s("arn:q"));
    assert_eq!(values[":channel"], s("VOICE"));
    assert_eq!(values.len(), 15);
    assert_eq!(input.return_values(), Some(&ReturnValue::AllOld));
    assert_eq!(
        input.return_values_on_condition_check_failure(),
        Some(&ReturnValuesOnConditionCheckFailure::AllOld)
    );
}

#[tokio::test]
async fn a_facts_only_write_has_no_condition_and_an_event_that_is_the_latest_is_guarded_strictly() {
    let facts_only = Write {
        facts: vec![("initiationMethod", "INBOUND"), ("instanceArn", "arn:i")],
        ..Write::nothing("c-1")
    };
    let (store, sent) = store_answering(false, HashMap::new());
    store.write(&facts_only).await.expect("written");
    let latest = Write {
        freshness: Some((
            Freshness {
                event_time: 10,
                expires_at: 20,
            },
            Guard::Newer,
        )),
        facts: Vec::new(),
        ..facts_only.clone()
    };
    store.write(&latest).await.expect("written");
    let sent = sent.lock().unwrap();
    assert_eq!(
        sent[0].update_expression(),
        Some(
            "SET #initiationMethod = if_not_exists(#initiationMethod, :initiationMethod), \
             #instanceArn = if_not_exists(#instanceArn, :instanceArn)"
        )
    );
    assert_eq!(sent[0].condition_expression(), None);
    assert_eq!(
        sent[1].condition_expression(),
        Some(
            "(attribute_not_exists(#_e) OR #_e < :_e) \
             AND (attribute_not_exists(#lastEventAt) OR #lastEventAt < :_e)"
        )
    );
}

#[tokio::test]
async fn a_view_fix_sets_and_removes_view_attributes_pinned_to_state_and_places() {
    let fix = Write {
        views: vec![("queuedIn", None), ("withAgent", Some("arn:a".into()))],
        view_basis: Some(ViewBasis {
            state_key: Some(400_000_000_000),
            place_keys: Places {
                queue: Some(7),
                agent: None,
            },
        }),
        ..Write::nothing("c-1")
    };
    let (store, sent) = store_answering(false, HashMap::new());
    store.write(&fix).await.expect("written");
    let sent = sent.lock().unwrap();
    assert_eq!(
        sent[0].update_expression(),
        Some("SET #withAgent = :withAgent REMOVE #queuedIn")
    );
    assert_eq!(
        sent[0].condition_expression(),
        Some(
            "(#_s = :_sPin OR (attribute_not_exists(#_s) AND #stateKey = :_sPin)) \
             AND (#_q = :_qPin OR (attribute_not_exists(#_q) AND #queueKey = :_qPin)) \
             AND attribute_not_exists(#_a) AND attribute_not_exists(#agentKey)"
        )
    );
    let values = sent[0].expression_attribute_values().expect("values");
    assert_eq!(values[":_sPin"], n("400000000000"));
    assert_eq!(values[":_qPin"], n("7"));
}

/// Items written before the bookkeeping attributes were renamed (core/src/bookkeeping.rs) are
/// read by their former names, so contacts in progress during an upgrade keep their order.
#[tokio::test]
async fn a_rejected_write_hands_back_the_item_as_stored_under_current_or_former_names() {
    for (state_key, last_event_at, queue_key) in
        [("_s", "_e", "_q"), ("stateKey", "lastEventAt", "queueKey")]
    {
        let old = HashMap::from([
            ("contactId".to_owned(), s("c-1")),
            ("state".to_owned(), s("COMPLETED")),
            (state_key.to_owned(), n("700000000000")),
            (last_event_at.to_owned(), n("1714989700")),
            (queue_key.to_owned(), n("7")),
            ("channel".to_owned(), s("VOICE")),
        ]);
        let (store, _) = store_answering(true, old);
        let write = Write {
            facts: vec![("channel", "VOICE")],
            ..Write::nothing("c-1")
        };
        let answer = store.write(&write).await.expect("an answer");
        assert_eq!(
            answer.outcome,
            WriteOutcome::Rejected {
                current: StoredItem {
                    state: Some("COMPLETED".into()),
                    state_key: Some(700_000_000_000),
                    last_event_at: Some(1_714_989_700),
                    place_keys: Places {
                        queue: Some(7),
                        agent: None
                    },
                    facts: vec!["channel"],
                    ..StoredItem::default()
                }
            },
            "{state_key}"
        );
    }
}
