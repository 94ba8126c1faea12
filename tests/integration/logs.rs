//! The logs of the real binary, as CloudWatch receives them: one flat JSON line per event with
//! `timestamp` and `level` (what Lambda's log-level filter reads), the documented fields and
//! nothing else, no second line for a failure, no customer data at INFO or above; a mean of at
//! most 350 bytes per event; and metrics that survive a log level that drops the lines.

use std::collections::BTreeSet;
use std::time::Duration;

use fault_proxy::{FaultProxy, Faults};
use local_lambda::RuntimeApi;
use serde_json::{Value, json};

use crate::support::corpus::{dated_now, lifecycle, stream, uuid};
use crate::support::{
    BINARY, RETENTION_DAYS, endpoint, event, fresh_table, sample, sample_files, spawn_logged,
};

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

/// Runs `events` through one process of the binary logging at `level`, writing to `table`
/// through `dynamodb_endpoint`, stopped with SIGTERM as Lambda stops an environment; returns
/// every line it printed.
async fn lines_of(
    level: &str,
    table: &str,
    dynamodb_endpoint: &str,
    events: Vec<Vec<u8>>,
) -> Vec<String> {
    let api = RuntimeApi::start(Duration::from_secs(10))
        .await
        .expect("runtime API");
    let retention = RETENTION_DAYS.to_string();
    let function = spawn_logged(
        std::path::Path::new(BINARY),
        &api,
        &[
            ("TABLE_NAME", table),
            ("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_endpoint),
            ("AWS_LAMBDA_LOG_LEVEL", level),
            ("RETENTION_DAYS", &retention),
        ],
    );
    for event in events {
        let _ = api.invoke(event).await;
    }
    function.stop().await
}

async fn logs_of(level: &str, events: Vec<Vec<u8>>) -> Vec<String> {
    let table = fresh_table().await;
    lines_of(level, &table.name, &endpoint(), events).await
}

fn events_with_customer_data() -> Vec<Vec<u8>> {
    let mut events: Vec<Vec<u8>> = sample_files().iter().map(|name| sample(name)).collect();
    events.push(customer_event("customer-1", "INITIATED", 1_717_200_000));
    events.push(customer_event("customer-1", "QUEUED", 1_717_200_005));
    events.push(customer_event("customer-1", "QUEUED", 1_717_200_005));
    // A damaged optional field whose value is customer data: named, never quoted.
    let mut damaged = serde_json::from_slice::<Value>(&customer_event("c-2", "QUEUED", 1)).unwrap();
    damaged["detail"]["queueInfo"] = json!(["+15555550199"]);
    events.push(damaged.to_string().into_bytes());
    // Refused events whose wrong-typed fields are customer data.
    let mut wrong = damaged.clone();
    wrong["detail"]["contactId"] = json!({"name": "Jane Q. Customer"});
    events.push(wrong.to_string().into_bytes());
    wrong["detail"]["contactId"] = json!(15_555_550_199_u64);
    events.push(wrong.to_string().into_bytes());
    events
}

fn json(line: &str) -> Value {
    serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"))
}

/// The per-event lines (the ones with an `outcome`).
fn event_lines(lines: &[String]) -> Vec<Value> {
    lines
        .iter()
        .map(|line| json(line))
        .filter(|record| record.get("outcome").is_some())
        .collect()
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

/// The field names of docs/operations.md's log contract table.
fn documented_fields() -> BTreeSet<String> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/operations.md"))
            .expect("docs/operations.md");
    let table = readme.split("<!-- log-fields -->").nth(1).expect("table");
    table
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split_once('`'))
        .map(|(name, _)| name.to_owned())
        .collect()
}

/// `2024-05-06T10:00:00.123Z`: RFC 3339, UTC, milliseconds.
fn is_timestamp(value: &Value) -> bool {
    value.as_str().is_some_and(|text| {
        text.len() == 24
            && text.ends_with('Z')
            && chrono::DateTime::parse_from_rfc3339(text).is_ok()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_gets_exactly_one_flat_line_with_timestamp_level_and_documented_fields() {
    let events = events_with_customer_data();
    let count = events.len();
    let lines = logs_of("INFO", events).await;
    // One line per event, and nothing else: no second ERROR line from the runtime for a
    // refused event, no span, no metrics line at INFO (metric filters read these lines).
    assert_eq!(lines.len(), count, "{lines:#?}");
    let documented = documented_fields();
    for record in lines.iter().map(|line| json(line)) {
        let object = record.as_object().expect("an object");
        assert!(is_timestamp(&record["timestamp"]), "{record}");
        for (name, value) in object {
            assert!(
                documented.contains(name),
                "{name} is not in docs/operations.md: {record}"
            );
            assert!(
                !value.is_object() && !value.is_array(),
                "not flat: {record}"
            );
        }
        match record["outcome"].as_str().expect("outcome") {
            "applied" | "stale" | "duplicate" | "ignored" => {
                assert_eq!(record["level"], "INFO", "{record}");
                for name in [
                    "requestId",
                    "contactId",
                    "eventType",
                    "eventId",
                    "eventTime",
                ] {
                    assert!(record[name].is_string(), "{name} missing: {record}");
                }
            }
            "refused" => {
                assert_eq!(record["level"], "WARN", "{record}");
                assert!(record["reason"].is_string(), "{record}");
                // So that its three deliveries count as one refused event.
                assert!(record["eventId"].is_string(), "{record}");
            }
            other => panic!("unexpected outcome {other}: {record}"),
        }
    }
    let damaged: Vec<Value> = event_lines(&lines)
        .into_iter()
        .filter(|record| record.get("damaged").is_some())
        .collect();
    assert_eq!(damaged.len(), 1, "{lines:#?}");
    assert_eq!(damaged[0]["damaged"], "queueInfo");
    assert_eq!(damaged[0]["outcome"], "applied");
}

/// Every field of the contract is printed by the real binary in some case (so the saved queries
/// and metric filters, which may only read documented fields, read fields that exist): applied,
/// partly stale (2 requests, a rejection), damaged, refused, retried through throttling, and
/// failed (a table that does not exist).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_field_is_printed_by_the_binary() {
    let table = fresh_table().await;
    let t = 1_717_200_000;
    let mut events = events_with_customer_data();
    events.push(event("late", "COMPLETED", t + 60, json!({})));
    let mut lines = lines_of("INFO", &table.name, &endpoint(), events).await;
    // A partly stale event, in another environment: rejected, then its facts written.
    let late = vec![event(
        "late",
        "QUEUED",
        t,
        json!({"queueInfo": {"queueArn": "arn:q"}}),
    )];
    lines.extend(lines_of("INFO", &table.name, &endpoint(), late).await);
    let proxy = FaultProxy::start(
        &endpoint(),
        Faults {
            throttle: 60,
            ..Faults::default()
        },
        7,
    )
    .await
    .expect("proxy");
    let throttled = (0..6)
        .map(|n| event(&format!("throttled-{n}"), "QUEUED", t, json!({})))
        .collect();
    lines.extend(lines_of("INFO", &table.name, &proxy.endpoint(), throttled).await);
    let missing = vec![event("no-table", "QUEUED", t, json!({}))];
    lines.extend(lines_of("INFO", "no-such-table", &endpoint(), missing).await);
    let printed: BTreeSet<String> = lines
        .iter()
        .flat_map(|line| {
            json(line)
                .as_object()
                .expect("object")
                .keys()
                .cloned()
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(printed, documented_fields(), "{lines:#?}");
    let failed = event_lines(&lines)
        .into_iter()
        .find(|record| record["outcome"] == "failed" && record["contactId"] == "no-table")
        .expect("the event for a missing table failed");
    assert_eq!(failed["level"], "WARN");
}

/// The check above can see customer data: at DEBUG, the whole event is logged, which is why the
/// docs/operations.md keeps DEBUG for troubleshooting only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_debug_the_whole_event_is_logged() {
    let lines = logs_of(
        "DEBUG",
        vec![customer_event("customer-3", "QUEUED", 1_717_200_000)],
    )
    .await;
    assert!(lines.iter().any(|line| line.contains("Jane Q. Customer")));
}

/// At WARN, Lambda keeps refusals and failures and drops the INFO lines; the events those lines
/// stood for are counted in EMF lines at WARN instead, so the metrics do not stop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_warn_refusals_stay_and_metrics_survive_the_dropped_lines() {
    let lifecycles: Vec<_> = (0..20)
        .map(|n| lifecycle(&uuid(&format!("warn-{n}")), n * 31 + 7))
        .collect();
    // Dated now: the EMF lines carry each event's lag, whose length is a live stream's.
    let mut events = dated_now(stream(&lifecycles, 11));
    let handled = events.len();
    events.push(sample("refused-missing-contact-id.json"));
    events.push(sample("refused-missing-contact-id.json"));
    let lines = logs_of("WARN", events).await;
    let records: Vec<Value> = lines.iter().map(|line| json(line)).collect();
    for record in &records {
        assert!(is_timestamp(&record["timestamp"]), "{record}");
        assert_eq!(record["level"], "WARN", "{record}");
    }
    let per_event = event_lines(&lines);
    assert_eq!(per_event.len(), 2, "only the refusals: {lines:#?}");
    let metrics: Vec<&Value> = records.iter().filter(|r| r.get("_aws").is_some()).collect();
    let by = |dimension: &str| -> u64 {
        metrics
            .iter()
            .filter(|r| r["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == json!([[dimension]]))
            .map(|r| r["Events"].as_u64().expect("a count"))
            .sum()
    };
    assert_eq!(by("Outcome"), handled as u64, "{metrics:#?}");
    assert_eq!(by("EventType"), handled as u64, "{metrics:#?}");
    // Counts once a minute (here: once, at SIGTERM), latencies every 100 events: not a line per
    // event. (At a steady rate the per-event share falls further: the counts are per minute.)
    let bytes: usize = lines
        .iter()
        .filter(|line| line.contains("\"_aws\""))
        .map(|line| line.len() + 1)
        .sum();
    let per_event = bytes as f64 / handled as f64;
    println!(
        "metrics at WARN: {} lines, {per_event:.1} bytes per event",
        metrics.len()
    );
    assert!(per_event < 40.0, "{per_event:.1} bytes per event");
    let latencies: usize = metrics
        .iter()
        .filter_map(|r| r["DynamoDbLatency"].as_array())
        .map(Vec::len)
        .sum();
    // One latency per event that sent a request: each contact's first event did, and an event
    // its environment knew to be a redelivery did not.
    assert!(
        (lifecycles.len()..=handled).contains(&latencies),
        "{latencies}"
    );
    // Every event taken has its lag counted, as its dropped line would have said it.
    let lags: usize = metrics
        .iter()
        .filter_map(|r| r["Lag"].as_array())
        .map(Vec::len)
        .sum();
    assert_eq!(lags, handled, "{lags}");
}

/// What CloudWatch Logs bills: the bytes of the per-event line, over a realistic stream (UUID
/// ids, dated now, shuffled, a third duplicated). Goal: a mean of at most 350 bytes at INFO.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mean_of_at_most_350_log_bytes_per_event_at_info() {
    let lifecycles: Vec<_> = (0..60)
        .map(|n| lifecycle(&uuid(&format!("bytes-{n}")), n * 7919 + 3))
        .collect();
    let events = dated_now(stream(&lifecycles, 5));
    let count = events.len();
    let lines = logs_of("INFO", events).await;
    assert_eq!(lines.len(), count);
    let mut sizes: Vec<usize> = lines.iter().map(|line| line.len() + 1).collect();
    sizes.sort_unstable();
    let mean = sizes.iter().sum::<usize>() as f64 / count as f64;
    let p50 = sizes[count / 2];
    let p99 = sizes[(count * 99 / 100).min(count - 1)];
    println!("log bytes per event over {count} deliveries: p50 {p50}, p99 {p99}, mean {mean:.1}");
    assert!(mean <= 350.0, "mean {mean:.1} bytes per event");
}
