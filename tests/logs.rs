//! The logs of the real binary, as CloudWatch receives them: one JSON line per event at INFO,
//! with the documented fields, and no customer data (tags, phone numbers, attributes) at INFO or
//! above, whatever the events carry.

// Tests report by panicking (the lints that forbid it apply to the product, not here).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::process::Stdio;
use std::time::Duration;

use local_lambda::RuntimeApi;
use serde_json::{Value, json};
use support::{endpoint, event, fresh_table, sample, sample_files, spawn_function_for};
use tokio::io::{AsyncBufReadExt, BufReader};

/// What a contact center's events carry about its customers.
const CUSTOMER_DATA: &[&str] = &[
    "+15555550100",
    "+15555550199",
    "Jane Q. Customer",
    "4111111111111111",
    "jane@example.com",
    "ACCOUNT-7731",
];

fn customer_event(contact_id: &str, event_type: &str, time: i64) -> Vec<u8> {
    event(
        contact_id,
        event_type,
        time,
        json!({
            "channel": "VOICE",
            "customerEndpoint": {"type": "TELEPHONE_NUMBER", "address": "+15555550199"},
            "systemEndpoint": {"type": "TELEPHONE_NUMBER", "address": "+15555550100"},
            "attributes": {"customerName": "Jane Q. Customer", "card": "4111111111111111"},
            "segmentAttributes": {"connect:Email": {"ValueString": "jane@example.com"}},
            "tags": {"account": "ACCOUNT-7731"},
        }),
    )
}

/// Runs `events` through one process logging at `level`; returns its log lines.
async fn logs_of(level: &str, events: Vec<Vec<u8>>) -> Vec<String> {
    let table = fresh_table().await;
    let api = RuntimeApi::start(Duration::from_secs(10))
        .await
        .expect("runtime API");
    let mut function = spawn_function_for(&table, &api, &endpoint(), level, Stdio::piped());
    let stdout = function.stdout.take().expect("stdout");
    let reader = tokio::spawn(async move {
        let mut lines = BufReader::new(stdout).lines();
        let mut all = Vec::new();
        while let Ok(Some(line)) = lines.next_line().await {
            all.push(line);
        }
        all
    });
    for event in events {
        let _ = api.invoke(event).await;
    }
    function.kill().await.expect("stopped");
    reader.await.expect("log lines")
}

fn events_with_customer_data() -> Vec<Vec<u8>> {
    let mut events: Vec<Vec<u8>> = sample_files().iter().map(|name| sample(name)).collect();
    events.push(customer_event("customer-1", "INITIATED", 1_717_200_000));
    events.push(customer_event("customer-1", "QUEUED", 1_717_200_005));
    events.push(customer_event("customer-1", "QUEUED", 1_717_200_005));
    // Refused events whose wrong-typed fields are customer data.
    let mut wrong = serde_json::from_slice::<Value>(&customer_event("c-2", "QUEUED", 1)).unwrap();
    wrong["detail"]["queueInfo"] = json!("+15555550199");
    events.push(wrong.to_string().into_bytes());
    wrong["detail"]["contactId"] = json!({"name": "Jane Q. Customer"});
    events.push(wrong.to_string().into_bytes());
    events
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_customer_data_reaches_the_logs_at_info() {
    let lines = logs_of("INFO", events_with_customer_data()).await;
    assert!(lines.len() > 10, "{lines:?}");
    for line in &lines {
        for data in CUSTOMER_DATA {
            assert!(!line.contains(data), "customer data {data:?} in: {line}");
        }
    }
}

/// The field names of README.md's log contract table.
fn documented_fields() -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let table = readme.split("<!-- log-fields -->").nth(1).expect("table");
    table
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split_once('`'))
        .map(|(name, _)| name.to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_gets_one_json_line_with_the_documented_fields() {
    let events = events_with_customer_data();
    let count = events.len();
    let lines = logs_of("INFO", events).await;
    let records: Vec<Value> = lines
        .iter()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let per_event: Vec<&Value> = records
        .iter()
        .filter(|record| record["fields"]["message"] == "contact event")
        .collect();
    assert_eq!(per_event.len(), count, "{lines:#?}");
    let documented = documented_fields();
    for record in per_event {
        let fields = &record["fields"];
        for name in fields.as_object().expect("fields").keys() {
            assert!(
                documented.contains(name),
                "{name} is not in the README: {record}"
            );
        }
        let outcome = fields["outcome"].as_str().expect("outcome");
        match outcome {
            "applied" | "stale" | "ignored" => {
                assert_eq!(record["level"], "INFO", "{record}");
                for name in ["contactId", "eventType", "eventId", "requests"] {
                    assert!(!fields[name].is_null(), "{name} missing: {record}");
                }
            }
            "refused" => {
                assert_eq!(record["level"], "WARN", "{record}");
                assert!(fields["reason"].is_string(), "{record}");
            }
            other => panic!("unexpected outcome {other}: {record}"),
        }
    }
}

/// The check above can see customer data: at DEBUG, the whole event is logged, which is why the
/// README keeps DEBUG for troubleshooting only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_debug_the_whole_event_is_logged() {
    let lines = logs_of(
        "DEBUG",
        vec![customer_event("customer-3", "QUEUED", 1_717_200_000)],
    )
    .await;
    assert!(lines.iter().any(|line| line.contains("Jane Q. Customer")));
}

/// Metrics ride on the logs: one EMF line per event, split by outcome and event type, with no
/// customer data either (checked above, on the same lines).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_gets_one_emf_metrics_line() {
    let events = events_with_customer_data();
    let count = events.len();
    let lines = logs_of("INFO", events).await;
    let emf: Vec<Value> = lines
        .iter()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|record| record.get("_aws").is_some())
        .collect();
    assert_eq!(emf.len(), count);
    for record in &emf {
        let directive = &record["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "ConnectContactState");
        assert_eq!(directive["Dimensions"], json!([["Outcome"], ["EventType"]]));
        assert_eq!(record["Events"], 1);
        assert!(record["DynamoDbLatency"].is_number());
    }
    let outcomes = |outcome: &str| emf.iter().filter(|r| r["Outcome"] == outcome).count();
    assert_eq!(outcomes("refused"), 3);
    assert!(outcomes("applied") >= 10);
    assert!(outcomes("stale") >= 1);
}
