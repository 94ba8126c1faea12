//! The contract's sentences (docs/contract.md), checked through the real handler against DynamoDB Local.

use crate::support::{
    RETENTION_DAYS, accept, event, fresh_table, n, s, sample, sample_files, step_statuses,
};
use connect_contact_state::outcome::Outcome;
use serde_json::json;

const T: i64 = 1_714_989_600; // 2024-05-06T10:00:00Z

fn steps(statuses: &[&str]) -> serde_json::Value {
    json!({"index": 0, "steps": statuses.iter().map(|s| json!({"status": s})).collect::<Vec<_>>()})
}

#[tokio::test]
async fn an_event_newer_than_the_item_is_applied_with_one_request() {
    let table = fresh_table().await;
    let handler = table.handler();
    for (event_type, time) in [
        ("INITIATED", T),
        ("QUEUED", T + 5),
        ("CONNECTED_TO_AGENT", T + 30),
    ] {
        let report = accept(
            &handler,
            event("c-1", event_type, time, json!({"channel": "VOICE"})),
        )
        .await;
        assert_eq!(report.outcome.name(), "applied", "{event_type}");
        assert_eq!(table.requests.take(), 1, "{event_type}: DynamoDB requests");
    }
    let item = table.item("c-1").await.expect("item");
    assert_eq!(s(&item, "state"), Some("CONNECTED_TO_AGENT"));
    assert_eq!(s(&item, "channel"), Some("VOICE"));
}

#[tokio::test]
async fn the_applied_outcome_reports_the_state_now_stored() {
    let table = fresh_table().await;
    let handler = table.handler();
    accept(&handler, event("c-1", "QUEUED", T, json!({}))).await;
    let report = accept(
        &handler,
        event("c-1", "CONTACT_DATA_UPDATED", T + 1, json!({})),
    )
    .await;
    assert_eq!(
        report.outcome,
        Outcome::Applied {
            state_before: Some("QUEUED".into()),
            state: Some("QUEUED".into()),
            facts_filled: 0,
        }
    );
}

#[tokio::test]
async fn a_stale_event_is_a_success_and_does_not_change_state() {
    let table = fresh_table().await;
    let handler = table.handler();
    accept(&handler, event("c-1", "DISCONNECTED", T + 60, json!({}))).await;
    table.requests.take();
    // Another environment, which has not seen the contact.
    let report = table
        .handler()
        .handle(&event("c-1", "QUEUED", T, json!({})))
        .await
        .expect("a success");
    assert_eq!(
        report.outcome,
        Outcome::Stale {
            state: Some("DISCONNECTED".into()),
            facts_filled: 0
        }
    );
    assert_eq!(
        table.requests.take(),
        1,
        "a rejected conditional write, nothing more"
    );
    let item = table.item("c-1").await.expect("item");
    assert_eq!(s(&item, "state"), Some("DISCONNECTED"));
}

#[tokio::test]
async fn a_duplicate_event_is_a_success_and_changes_nothing() {
    let table = fresh_table().await;
    let handler = table.handler();
    let queued = event(
        "c-1",
        "QUEUED",
        T,
        json!({"queueInfo": {"queueArn": "arn:q"}}),
    );
    handler.handle(&queued).await.expect("accepted");
    let before = table.item("c-1").await;
    table.requests.take();
    // Delivered again to another environment: one rejected conditional write.
    let report = table.handler().handle(&queued).await.expect("a success");
    assert_eq!(
        report.outcome,
        Outcome::Duplicate {
            state: Some("QUEUED".into())
        }
    );
    assert_eq!(table.requests.take(), 1);
    assert_eq!(table.item("c-1").await, before);
    // Delivered again to the environment that wrote it: it knows, and sends nothing.
    let report = handler.handle(&queued).await.expect("a success");
    assert_eq!(report.outcome.name(), "duplicate");
    assert_eq!(table.requests.take(), 0);
    assert_eq!(table.item("c-1").await, before);
}

#[tokio::test]
async fn an_environment_that_saw_the_item_move_on_writes_a_late_event_in_one_request() {
    let table = fresh_table().await;
    let handler = table.handler();
    let routing = |status: &str| json!({"index": 0, "steps": [{"status": status}]});
    accept(
        &handler,
        event(
            "c-1",
            "QUEUED",
            T,
            json!({"routingCriteria": routing("ACTIVE")}),
        ),
    )
    .await;
    accept(&handler, event("c-1", "DISCONNECTED", T + 60, json!({}))).await;
    table.requests.take();
    // Late: its state is stale, its routing snapshot is not.
    let late = event(
        "c-1",
        "CONNECTED_TO_AGENT",
        T + 30,
        json!({"routingCriteria": routing("JOINED")}),
    );
    let report = handler.handle(&late).await.expect("a success");
    assert_eq!(report.tally.requests, 1, "{report:?}");
    assert_eq!(report.tally.rejections, 0);
    let item = table.item("c-1").await.expect("item");
    assert_eq!(s(&item, "state"), Some("DISCONNECTED"));
    assert_eq!(step_statuses(&item), ["JOINED"]);
    // Another environment needs two: one rejected, then the routing.
    let table = fresh_table().await;
    let first = table.handler();
    accept(
        &first,
        event(
            "c-1",
            "QUEUED",
            T,
            json!({"routingCriteria": routing("ACTIVE")}),
        ),
    )
    .await;
    accept(&first, event("c-1", "DISCONNECTED", T + 60, json!({}))).await;
    let report = table.handler().handle(&late).await.expect("a success");
    assert_eq!(report.tally.requests, 2, "{report:?}");
}

#[tokio::test]
async fn what_an_environment_knows_is_corrected_by_the_table_when_others_moved_the_item() {
    let table = fresh_table().await;
    let this = table.handler();
    let other = table.handler();
    accept(&this, event("c-1", "QUEUED", T, json!({}))).await;
    accept(&other, event("c-1", "COMPLETED", T + 90, json!({}))).await;
    // `this` still believes QUEUED: its DISCONNECTED write is rejected, and it learns.
    let report = accept(&this, event("c-1", "DISCONNECTED", T + 60, json!({}))).await;
    assert_eq!(
        report.outcome,
        Outcome::Stale {
            state: Some("COMPLETED".into()),
            facts_filled: 0
        }
    );
    let item = table.item("c-1").await.expect("item");
    assert_eq!(s(&item, "state"), Some("COMPLETED"));
}

#[tokio::test]
async fn a_refused_event_writes_nothing() {
    let table = fresh_table().await;
    let handler = table.handler();
    let error = handler
        .handle(&sample("refused-missing-contact-id.json"))
        .await
        .expect_err("refused");
    assert_eq!(error.to_string(), "refused: detail.contactId is missing");
    assert!(!error.is_retryable());
    assert_eq!(table.requests.take(), 0);
    assert!(table.items().await.is_empty());
}

#[tokio::test]
async fn an_event_too_old_to_change_state_still_fills_in_facts_the_item_lacks() {
    let table = fresh_table().await;
    let handler = table.handler();
    accept(
        &handler,
        event("c-1", "COMPLETED", T + 90, json!({"channel": "VOICE"})),
    )
    .await;
    table.requests.take();
    let queued = event(
        "c-1",
        "QUEUED",
        T,
        json!({
            "channel": "CHAT",
            "initiationMethod": "INBOUND",
            "queueInfo": {"queueArn": "arn:q", "enqueueTimestamp": "2024-05-06T10:00:05.500Z"}
        }),
    );
    let report = table.handler().handle(&queued).await.expect("a success");
    // It moved nothing ordered but where the contact is: the queue the item lacked.
    assert_eq!(
        report.outcome,
        Outcome::Applied {
            state_before: Some("COMPLETED".into()),
            state: Some("COMPLETED".into()),
            facts_filled: 1
        }
    );
    assert_eq!(
        table.requests.take(),
        2,
        "one rejected write, one filling in the queue and the fact"
    );
    assert_eq!(
        s(&table.item("c-1").await.expect("item"), "initiationMethod"),
        Some("INBOUND")
    );
    let item = table.item("c-1").await.expect("item");
    assert_eq!(s(&item, "state"), Some("COMPLETED"));
    assert_eq!(s(&item, "queueArn"), Some("arn:q"));
    assert_eq!(
        s(&item, "enqueueTimestamp"),
        Some("2024-05-06T10:00:05.500Z")
    );
    assert_eq!(
        s(&item, "channel"),
        Some("VOICE"),
        "a fact is never overwritten"
    );
}

#[tokio::test]
async fn a_contact_moved_to_another_queue_is_in_the_latest_one_whatever_the_order() {
    let first = event(
        "c-1",
        "QUEUED",
        T,
        json!({"queueInfo": {"queueArn": "arn:q/a", "enqueueTimestamp": "2024-05-06T10:00:01.000Z"}}),
    );
    let moved = event(
        "c-1",
        "QUEUED",
        T + 60,
        json!({"queueInfo": {"queueArn": "arn:q/b", "enqueueTimestamp": "2024-05-06T10:01:00.000Z"}}),
    );
    // Seen without a real timestamp: kept only until a pair with one arrives.
    let placeholder = event(
        "c-1",
        "CONTACT_DATA_UPDATED",
        T + 61,
        json!({"queueInfo": {"queueArn": "arn:q/c", "enqueueTimestamp": "1970-01-01T00:00:00.001Z"}}),
    );
    for order in [
        [&first, &moved, &placeholder],
        [&moved, &first, &placeholder],
        [&placeholder, &moved, &first],
        [&placeholder, &first, &moved],
    ] {
        let table = fresh_table().await;
        for payload in order {
            // A new environment each time: nothing remembered between them.
            accept(&table.handler(), payload.clone()).await;
        }
        let item = table.item("c-1").await.expect("item");
        assert_eq!(s(&item, "queueArn"), Some("arn:q/b"));
        assert_eq!(
            s(&item, "enqueueTimestamp"),
            Some("2024-05-06T10:01:00.000Z")
        );
    }
}

#[tokio::test]
async fn an_event_repeating_where_the_contact_is_still_takes_one_request() {
    let table = fresh_table().await;
    let queue = json!({"queueArn": "arn:q", "enqueueTimestamp": "2024-05-06T10:00:01.000Z"});
    accept(
        &table.handler(),
        event("c-1", "QUEUED", T, json!({"queueInfo": queue})),
    )
    .await;
    table.requests.take();
    // Another environment: it knows nothing, and the repeated pair does not fail its write.
    let report = accept(
        &table.handler(),
        event(
            "c-1",
            "CONNECTED_TO_AGENT",
            T + 9,
            json!({"queueInfo": queue}),
        ),
    )
    .await;
    assert_eq!(report.tally.requests, 1);
    assert_eq!(report.tally.rejections, 0);
}

/// The contacts a view lists for `key`, by one Query of its index.
async fn listed(
    table: &crate::support::Table,
    index: &str,
    attribute: &str,
    key: &str,
) -> Vec<String> {
    let page = table
        .client
        .query()
        .table_name(&table.name)
        .index_name(index)
        .key_condition_expression("#k = :k")
        .expression_attribute_names("#k", attribute)
        .expression_attribute_values(":k", aws_sdk_dynamodb::types::AttributeValue::S(key.into()))
        .send()
        .await
        .expect("Query");
    page.items
        .unwrap_or_default()
        .iter()
        .filter_map(|item| s(item, "contactId").map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn a_contact_is_listed_in_its_queue_while_queued_then_with_its_agent_then_in_neither() {
    let table = fresh_table().await;
    let handler = table.handler();
    let queue = json!({"queueArn": "arn:q", "enqueueTimestamp": "2024-05-06T10:00:05.000Z"});
    let agent =
        json!({"agentArn": "arn:a", "connectedToAgentTimestamp": "2024-05-06T10:00:30.000Z"});
    accept(&handler, event("c-1", "INITIATED", T, json!({}))).await;
    accept(&handler, event("c-2", "QUEUED", T + 1, json!({"queueInfo": {"queueArn": "arn:q", "enqueueTimestamp": "2024-05-06T10:00:01.000Z"}}))).await;
    table.requests.take();
    accept(
        &handler,
        event("c-1", "QUEUED", T + 5, json!({"queueInfo": queue})),
    )
    .await;
    assert_eq!(
        table.requests.take(),
        1,
        "the view is set in the same write"
    );
    // In arrival order: c-2 was queued first.
    assert_eq!(
        listed(&table, "queued", "queuedIn", "arn:q").await,
        ["c-2", "c-1"]
    );
    table.requests.take();
    accept(
        &handler,
        event(
            "c-1",
            "CONNECTED_TO_AGENT",
            T + 30,
            json!({"queueInfo": queue, "agentInfo": agent}),
        ),
    )
    .await;
    assert_eq!(table.requests.take(), 1);
    assert_eq!(listed(&table, "queued", "queuedIn", "arn:q").await, ["c-2"]);
    assert_eq!(
        listed(&table, "withAgent", "withAgent", "arn:a").await,
        ["c-1"]
    );
    accept(
        &handler,
        event(
            "c-1",
            "PAUSED",
            T + 40,
            json!({"queueInfo": queue, "agentInfo": agent}),
        ),
    )
    .await;
    assert_eq!(
        listed(&table, "withAgent", "withAgent", "arn:a").await,
        ["c-1"]
    );
    // Disconnected, the agent is in after-contact work: still with the agent, until COMPLETED.
    accept(
        &handler,
        event(
            "c-1",
            "DISCONNECTED",
            T + 90,
            json!({"queueInfo": queue, "agentInfo": agent}),
        ),
    )
    .await;
    assert_eq!(
        listed(&table, "withAgent", "withAgent", "arn:a").await,
        ["c-1"]
    );
    let item = table.item("c-1").await.expect("item");
    assert_eq!(s(&item, "state"), Some("DISCONNECTED"));
    assert_eq!(s(&item, "queuedIn"), None);
    let mut acw = agent.clone();
    acw["afterContactWorkStartTimestamp"] = json!("2024-05-06T10:01:30.000Z");
    acw["afterContactWorkEndTimestamp"] = json!("2024-05-06T10:02:00.000Z");
    acw["afterContactWorkDuration"] = json!(30);
    accept(
        &handler,
        event(
            "c-1",
            "COMPLETED",
            T + 120,
            json!({"queueInfo": queue, "agentInfo": acw}),
        ),
    )
    .await;
    assert!(
        listed(&table, "withAgent", "withAgent", "arn:a")
            .await
            .is_empty()
    );
    let item = table.item("c-1").await.expect("item");
    assert_eq!(s(&item, "queuedIn"), None);
    assert_eq!(s(&item, "withAgent"), None);
    assert_eq!(
        s(&item, "afterContactWorkEndTimestamp"),
        Some("2024-05-06T10:02:00.000Z")
    );
    assert_eq!(
        item["afterContactWorkDuration"].as_n().map(String::as_str),
        Ok("30")
    );
}

/// Upgrading in place: an item written before the bookkeeping rename (core/src/bookkeeping.rs)
/// keeps its order against a late event, and loses its former names at the first write.
#[tokio::test]
async fn an_item_written_before_the_rename_keeps_its_order_and_sheds_the_former_names() {
    let table = fresh_table().await;
    let n = |v: &str| aws_sdk_dynamodb::types::AttributeValue::N(v.into());
    let text = |v: &str| aws_sdk_dynamodb::types::AttributeValue::S(v.into());
    table
        .client
        .put_item()
        .table_name(&table.name)
        .item("contactId", text("c-1"))
        .item("state", text("DISCONNECTED"))
        .item("stateKey", n("600000000000"))
        .item("lastEventAt", n(&(T + 90).to_string()))
        .item(
            "routingActivationTimestamp",
            text("2024-05-06T10:00:20.000Z"),
        )
        .item("routingKey", n("1"))
        .send()
        .await
        .expect("put");
    let handler = table.handler();
    // A late QUEUED: older than the stored state under its former name.
    accept(&handler, event("c-1", "QUEUED", T + 10, json!({}))).await;
    let item = table.item("c-1").await.expect("item");
    assert_eq!(s(&item, "state"), Some("DISCONNECTED"));
    accept(
        &handler,
        event(
            "c-1",
            "COMPLETED",
            T + 120,
            json!({"routingCriteria": {"index": 0, "steps": [{"status": "JOINED"}]}}),
        ),
    )
    .await;
    let item = table.item("c-1").await.expect("item");
    assert_eq!(s(&item, "state"), Some("COMPLETED"));
    for former in [
        "stateKey",
        "lastEventAt",
        "routingKey",
        "routingActivationTimestamp",
    ] {
        assert!(!item.contains_key(former), "{former}: {item:?}");
    }
    for now in ["_s", "_e", "_r"] {
        assert!(item.contains_key(now), "{now}: {item:?}");
    }
}

#[tokio::test]
async fn a_late_queue_event_after_the_agent_does_not_list_the_contact_in_the_queue() {
    let table = fresh_table().await;
    let agent =
        json!({"agentArn": "arn:a", "connectedToAgentTimestamp": "2024-05-06T10:00:30.000Z"});
    accept(
        &table.handler(),
        event(
            "c-1",
            "CONNECTED_TO_AGENT",
            T + 30,
            json!({"agentInfo": agent}),
        ),
    )
    .await;
    // Late, in another environment: it brings the queue the item lacked, not the view.
    let report = accept(
        &table.handler(),
        event("c-1", "QUEUED", T, json!({"queueInfo": {"queueArn": "arn:q", "enqueueTimestamp": "2024-05-06T10:00:05.000Z"}})),
    )
    .await;
    assert_eq!(report.outcome.name(), "applied");
    let item = table.item("c-1").await.expect("item");
    assert_eq!(s(&item, "queueArn"), Some("arn:q"));
    assert_eq!(s(&item, "queuedIn"), None);
    assert_eq!(s(&item, "withAgent"), Some("arn:a"));
}

#[tokio::test]
async fn a_queue_move_reported_without_a_state_moves_the_contact_in_the_view() {
    let table = fresh_table().await;
    let handler = table.handler();
    accept(&handler, event("c-1", "QUEUED", T, json!({"queueInfo": {"queueArn": "arn:q/a", "enqueueTimestamp": "2024-05-06T10:00:00.000Z"}}))).await;
    // Another environment sees only the data update: the view follows, by a pinned fix.
    let report = accept(
        &table.handler(),
        event("c-1", "CONTACT_DATA_UPDATED", T + 60, json!({"queueInfo": {"queueArn": "arn:q/b", "enqueueTimestamp": "2024-05-06T10:01:00.000Z"}})),
    )
    .await;
    assert_eq!(report.tally.requests, 2, "{report:?}");
    assert!(
        listed(&table, "queued", "queuedIn", "arn:q/a")
            .await
            .is_empty()
    );
    assert_eq!(
        listed(&table, "queued", "queuedIn", "arn:q/b").await,
        ["c-1"]
    );
}

#[tokio::test]
async fn values_an_index_key_cannot_hold_never_fail_a_write_the_contact_is_just_not_listed() {
    let table = fresh_table().await;
    // 2,048 characters, but over 2,048 bytes: DynamoDB's partition key limit for an index.
    let wide = "é".repeat(2_048);
    let long_time = format!("2024-05-06T10:00:05.{}Z", "0".repeat(1_100));
    for (n, queue) in [
        json!({"queueArn": wide, "enqueueTimestamp": "2024-05-06T10:00:05.000Z"}),
        json!({"queueArn": "arn:q", "enqueueTimestamp": long_time}),
        json!({"queueArn": "", "enqueueTimestamp": "2024-05-06T10:00:05.000Z"}),
        json!({"queueArn": 7, "enqueueTimestamp": "2024-05-06T10:00:05.000Z"}),
    ]
    .into_iter()
    .enumerate()
    {
        let contact = format!("hostile-{n}");
        accept(
            &table.handler(),
            event(&contact, "QUEUED", T, json!({"queueInfo": queue})),
        )
        .await;
        let item = table.item(&contact).await.expect("stored");
        assert_eq!(s(&item, "state"), Some("QUEUED"));
        assert_eq!(s(&item, "queuedIn"), None, "{contact}");
    }
}

#[tokio::test]
async fn placeholder_timestamps_are_never_stored() {
    let table = fresh_table().await;
    let handler = table.handler();
    accept(&handler, event("c-1", "CONTACT_DATA_UPDATED", T, json!({
        "connectedToSystemTimestamp": "1970-01-01T00:00:00.001Z",
        "agentInfo": {"agentArn": "arn:a", "connectedToAgentTimestamp": "1970-01-01T00:00:00.001Z"}
    }))).await;
    accept(&handler, event("c-1", "CONNECTED_TO_AGENT", T + 9, json!({
        "connectedToSystemTimestamp": "2024-05-06T10:00:01.000Z",
        "agentInfo": {"agentArn": "arn:a", "connectedToAgentTimestamp": "2024-05-06T10:00:09.000Z"}
    }))).await;
    let item = table.item("c-1").await.expect("item");
    assert_eq!(
        s(&item, "connectedToSystemTimestamp"),
        Some("2024-05-06T10:00:01.000Z")
    );
    assert_eq!(
        s(&item, "connectedToAgentTimestamp"),
        Some("2024-05-06T10:00:09.000Z")
    );
}

#[tokio::test]
async fn the_item_expires_retention_days_after_its_latest_event() {
    let table = fresh_table().await;
    let handler = table.handler();
    accept(&handler, event("c-1", "COMPLETED", T + 100, json!({}))).await;
    accept(&handler, event("c-1", "INITIATED", T, json!({}))).await;
    let item = table.item("c-1").await.expect("item");
    assert_eq!(
        n(&item, "expiresAt"),
        Some(T + 100 + i64::from(RETENTION_DAYS) * 86_400)
    );
}

#[tokio::test]
async fn routing_is_the_latest_snapshot_even_when_it_arrives_after_a_later_state() {
    let table = fresh_table().await;
    let handler = table.handler();
    accept(&handler, event("c-1", "DISCONNECTED", T + 300, json!({}))).await;
    accept(
        &handler,
        event(
            "c-1",
            "QUEUED",
            T,
            json!({"routingCriteria": steps(&["ACTIVE", "INACTIVE"])}),
        ),
    )
    .await;
    accept(
        &handler,
        event(
            "c-1",
            "CONNECTED_TO_AGENT",
            T + 60,
            json!({"routingCriteria": steps(&["EXPIRED", "JOINED"])}),
        ),
    )
    .await;
    accept(
        &handler,
        event(
            "c-1",
            "CONTACT_DATA_UPDATED",
            T + 30,
            json!({"routingCriteria": steps(&["EXPIRED", "ACTIVE"])}),
        ),
    )
    .await;
    let item = table.item("c-1").await.expect("item");
    assert_eq!(s(&item, "state"), Some("DISCONNECTED"));
    assert_eq!(n(&item, "routingCriteriaIndex"), Some(0));
    assert_eq!(step_statuses(&item), ["EXPIRED", "JOINED"]);
}

#[tokio::test]
async fn an_unknown_event_type_is_accepted_and_writes_nothing() {
    let table = fresh_table().await;
    let report = table
        .handler()
        .handle(&event(
            "c-1",
            "SOMETHING_NEW",
            T,
            json!({"channel": "VOICE"}),
        ))
        .await
        .expect("accepted");
    assert_eq!(report.outcome, Outcome::Ignored);
    assert_eq!(table.requests.take(), 0);
    assert!(table.items().await.is_empty());
}

#[tokio::test]
async fn many_concurrent_tasks_writing_one_contact_converge() {
    let table = fresh_table().await;
    let handler = std::sync::Arc::new(table.handler());
    let events = [
        event(
            "c-1",
            "INITIATED",
            T,
            json!({"channel": "CHAT", "initiationTimestamp": "2024-05-06T10:00:00.000Z"}),
        ),
        event(
            "c-1",
            "QUEUED",
            T + 5,
            json!({"queueInfo": {"queueArn": "arn:q"}, "routingCriteria": steps(&["ACTIVE", "INACTIVE"])}),
        ),
        event(
            "c-1",
            "CONTACT_DATA_UPDATED",
            T + 35,
            json!({"routingCriteria": steps(&["EXPIRED", "ACTIVE"])}),
        ),
        event(
            "c-1",
            "CONNECTED_TO_AGENT",
            T + 50,
            json!({"agentInfo": {"agentArn": "arn:a"}, "routingCriteria": steps(&["EXPIRED", "JOINED"])}),
        ),
        event(
            "c-1",
            "DISCONNECTED",
            T + 400,
            json!({"disconnectTimestamp": "2024-05-06T10:06:40.000Z"}),
        ),
    ];
    let mut tasks = Vec::new();
    for round in 0..8 {
        for (i, payload) in events.iter().enumerate() {
            if (round + i) % 2 == 0 || round < 4 {
                let handler = handler.clone();
                let payload = payload.clone();
                tasks.push(tokio::spawn(async move {
                    handler.handle(&payload).await.map(|r| r.tally.requests)
                }));
            }
        }
    }
    for task in tasks {
        let requests = task.await.expect("joined").expect("a success");
        assert!(requests <= 4, "{requests} requests");
    }
    let item = table.item("c-1").await.expect("item");
    assert_eq!(s(&item, "state"), Some("DISCONNECTED"));
    assert_eq!(step_statuses(&item), ["EXPIRED", "JOINED"]);
    for fact in [
        "channel",
        "initiationTimestamp",
        "queueArn",
        "agentArn",
        "disconnectTimestamp",
    ] {
        assert!(s(&item, fact).is_some(), "{fact}");
    }
    assert_eq!(
        n(&item, "expiresAt"),
        Some(T + 400 + i64::from(RETENTION_DAYS) * 86_400)
    );
}

#[tokio::test]
async fn the_sample_events_end_in_the_documented_items() {
    let table = fresh_table().await;
    let handler = table.handler();
    for name in &sample_files() {
        let result = handler.handle(&sample(name)).await;
        assert_eq!(
            result.is_err(),
            name.starts_with("refused-"),
            "{name}: {result:?}"
        );
    }
    assert_eq!(table.items().await.len(), 3);

    let voice = table
        .item("11111111-1111-4111-8111-111111111111")
        .await
        .expect("voice");
    assert_eq!(s(&voice, "state"), Some("COMPLETED"));
    assert_eq!(s(&voice, "channel"), Some("VOICE"));
    assert_eq!(step_statuses(&voice), ["EXPIRED", "JOINED"]);
    assert_eq!(
        s(&voice, "connectedToSystemTimestamp"),
        Some("2024-05-06T10:00:01.050Z")
    );
    assert_eq!(
        s(&voice, "connectedToAgentTimestamp"),
        Some("2024-05-06T10:00:52.250Z")
    );
    assert_eq!(
        s(&voice, "disconnectTimestamp"),
        Some("2024-05-06T10:07:41.800Z")
    );

    let outbound = table
        .item("22222222-2222-4222-8222-222222222222")
        .await
        .expect("outbound");
    assert_eq!(s(&outbound, "state"), Some("DISCONNECTED"));
    assert_eq!(
        s(&outbound, "channel"),
        Some("VOICE"),
        "\"Voice\" is upper-cased"
    );
    assert_eq!(
        s(&outbound, "disconnectReason"),
        Some("OUTBOUND_ATTEMPT_FAILED")
    );
    assert_eq!(s(&outbound, "queueArn"), None);

    let task = table
        .item("33333333-3333-4333-8333-333333333333")
        .await
        .expect("task");
    assert_eq!(s(&task, "state"), Some("RESUMED"));
    assert_eq!(s(&task, "channel"), Some("TASK"));
}

#[tokio::test]
async fn a_dynamodb_failure_after_the_sdk_retries_is_an_error_to_retry() {
    let table = fresh_table().await;
    let store =
        connect_contact_state::dynamodb::DynamoDbStore::new(table.client.clone(), "no-such-table");
    let handler = connect_contact_state::handler::Handler::new(store, RETENTION_DAYS);
    let error = handler
        .handle(&event("c-1", "QUEUED", T, json!({})))
        .await
        .expect_err("failed");
    assert!(error.is_retryable());
    assert!(
        error.to_string().starts_with("failed: UpdateItem failed"),
        "{error}"
    );
    assert!(error.to_string().contains("ResourceNotFound"), "{error}");
}

/// Issue 12, part 4: what real events say of the queue, the agent, the routing criteria, the
/// tags and outbound calls is stored; what belongs to a queue or agent moves with it.
#[tokio::test]
async fn the_facts_real_events_carry_are_stored_and_move_with_their_queue_or_agent() {
    let table = fresh_table().await;
    let handler = table.handler();
    let group = |id: &str| json!({"arn": format!("arn:aws:connect:us-east-1:111122223333:instance/i-1/agent-group/{id}")});
    accept(
        &handler,
        event(
            "c-1",
            "CONNECTED_TO_AGENT",
            T + 30,
            json!({
                "queueInfo": {"queueArn": "arn:q/personal", "enqueueTimestamp": "2024-05-06T10:00:20.000Z", "queueType": "AGENT"},
                "agentInfo": {"agentArn": "arn:a/1", "connectedToAgentTimestamp": "2024-05-06T10:00:30.000Z",
                              "routingProfileArn": "arn:aws:connect:us-east-1:111122223333:instance/i-1/routing-profile/rp-1",
                              "hierarchyGroups": {"level1": group("site"), "level2": group("team")}},
                "routingCriteria": {"index": 0, "activationTimestamp": "2024-05-06T10:00:20.000Z", "steps": [{"status": "JOINED"}]},
                "tags": {"aws:connect:instanceId": "i-1", "Dept": "Sales", "Priority": "high"},
                "segmentAttributes": {"connect:Subtype": {"valueString": "connect:Telephony"}}
            }),
        ),
    )
    .await;
    // A late event of an earlier queue, with other tags: nothing of it replaces the later ones.
    accept(
        &handler,
        event(
            "c-1",
            "QUEUED",
            T + 5,
            json!({
                "queueInfo": {"queueArn": "arn:q/standard", "enqueueTimestamp": "2024-05-06T10:00:05.000Z", "queueType": "STANDARD"},
                "tags": {"Dept": "Sales"}
            }),
        ),
    )
    .await;
    let item = table.item("c-1").await.expect("item");
    assert_eq!(s(&item, "queueArn"), Some("arn:q/personal"));
    assert_eq!(s(&item, "queueType"), Some("AGENT"));
    assert_eq!(s(&item, "agentRoutingProfileId"), Some("rp-1"));
    assert_eq!(s(&item, "agentHierarchyGroupId"), Some("team"));
    // The activation time orders the snapshot but is not stored: `routingSteps` says it
    // (docs/contract.md, "The facts real events carry").
    assert_eq!(s(&item, "routingActivationTimestamp"), None);
    assert_eq!(s(&item, "channelSubtype"), Some("connect:Telephony"));
    let tags = item["tags"].as_m().expect("a map");
    assert_eq!(tags.len(), 2, "{tags:?}");
    assert_eq!(tags["Priority"].as_s().map(String::as_str), Ok("high"));

    // The contact moves to a queue whose events say nothing of its type: the old type goes.
    accept(
        &handler,
        event(
            "c-1",
            "CONTACT_DATA_UPDATED",
            T + 40,
            json!({"queueInfo": {"queueArn": "arn:q/other", "enqueueTimestamp": "2024-05-06T10:00:40.000Z"},
                   "tags": {"Dept": "Support"}}),
        ),
    )
    .await;
    let item = table.item("c-1").await.expect("item");
    assert_eq!(s(&item, "queueArn"), Some("arn:q/other"));
    assert_eq!(s(&item, "queueType"), None);
    assert_eq!(s(&item, "agentHierarchyGroupId"), Some("team"));
    let tags = item["tags"].as_m().expect("a map");
    assert_eq!(tags["Dept"].as_s().map(String::as_str), Ok("Support"));
    assert_eq!(tags.len(), 1);
}
