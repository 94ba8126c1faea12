//! `contact-views`, the real binary, reading the live views of a table in DynamoDB Local: who
//! waits where in arrival order, who is with which agent, one contact, the horizon, `--json`.

use std::process::Command;

use serde_json::{Value, json};

use crate::support::{Table, accept, endpoint, event, fresh_table};

const READER: &str = env!("CARGO_BIN_EXE_contact-views");
const T: i64 = 1_714_989_600; // 2024-05-06T10:00:00Z

fn views(table: &Table, args: &[&str]) -> (bool, String) {
    let output = Command::new(READER)
        .args(["--table", &table.name, "--endpoint-url", &endpoint()])
        .args(args)
        .output()
        .expect("run contact-views");
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
}

fn json_of(table: &Table, args: &[&str]) -> Value {
    let (ok, text) = views(table, &[&["--json"], args].concat());
    assert!(ok, "{text}");
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
}

async fn a_contact_center(table: &Table) {
    let handler = table.handler();
    let queued = |n: i64, queue: &str| {
        json!({"channel": "VOICE", "queueInfo": {"queueArn": queue,
            "enqueueTimestamp": format!("2024-05-06T10:00:{:02}.000Z", n)}})
    };
    accept(
        &handler,
        event("c-3", "QUEUED", T + 3, queued(3, "arn:q/sales")),
    )
    .await;
    accept(
        &handler,
        event("c-1", "QUEUED", T + 1, queued(1, "arn:q/sales")),
    )
    .await;
    accept(
        &handler,
        event("c-2", "QUEUED", T + 2, queued(2, "arn:q/support")),
    )
    .await;
    let mut with_agent = queued(1, "arn:q/sales");
    with_agent["agentInfo"] = json!({"agentArn": "arn:agent/ana", "connectedToAgentTimestamp": "2024-05-06T10:00:30.000Z"});
    accept(
        &handler,
        event("c-4", "CONNECTED_TO_AGENT", T + 30, with_agent),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queues_list_who_waits_where_in_arrival_order_with_positions() {
    let table = fresh_table().await;
    a_contact_center(&table).await;
    let listing = json_of(&table, &["--horizon-hours", "0", "queues"]);
    assert_eq!(listing["leftOut"], 0);
    assert_eq!(listing["requests"], 1, "one Scan of the sparse index");
    let groups = listing["groups"].as_array().expect("groups");
    let sales = groups
        .iter()
        .find(|g| g["arn"] == "arn:q/sales")
        .expect("sales");
    let ids: Vec<&str> = sales["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["contactId"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, ["c-1", "c-3"], "c-4 is with an agent, not waiting");
    assert_eq!(sales["entries"][1]["position"], 2);
    assert_eq!(sales["entries"][0]["channel"], "VOICE");
    assert_eq!(sales["entries"][0]["phase"], "waiting");
    let one = json_of(
        &table,
        &["--horizon-hours", "0", "queues", "--queue", "arn:q/support"],
    );
    assert_eq!(one["groups"][0]["entries"][0]["contactId"], "c-2");
    assert_eq!(one["requests"], 1, "one Query");
    let (ok, text) = views(&table, &["--horizon-hours", "0", "queues"]);
    assert!(ok, "{text}");
    assert!(
        text.contains("queue arn:q/sales: 2 contacts, oldest"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_list_the_contacts_they_hold() {
    let table = fresh_table().await;
    a_contact_center(&table).await;
    let listing = json_of(&table, &["--horizon-hours", "0", "agents"]);
    assert_eq!(listing["groups"][0]["arn"], "arn:agent/ana");
    let entry = &listing["groups"][0]["entries"][0];
    assert_eq!(entry["contactId"], "c-4");
    assert_eq!(entry["state"], "CONNECTED_TO_AGENT");
    assert_eq!(
        entry["phase"], "with agent",
        "readers tell the phases apart"
    );
    assert_eq!(entry["since"], "2024-05-06T10:00:30.000Z");
    let (ok, text) = views(&table, &["--horizon-hours", "0", "agents"]);
    assert!(ok, "{text}");
    assert!(
        text.contains("c-4") && text.contains("with agent"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_older_than_the_horizon_are_left_out_and_counted() {
    let table = fresh_table().await;
    a_contact_center(&table).await;
    // The sample day is long past: a 24-hour horizon leaves everything out, and says so.
    let listing = json_of(&table, &["queues"]);
    assert_eq!(listing["groups"], json!([]));
    assert_eq!(listing["leftOut"], 3);
    let (_, text) = views(&table, &["queues"]);
    assert!(
        text.contains("left out: 3 entries older than the horizon"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_contact_is_shown_attribute_by_attribute() {
    let table = fresh_table().await;
    a_contact_center(&table).await;
    let item = json_of(&table, &["contact", "c-4"]);
    assert_eq!(item["state"], "CONNECTED_TO_AGENT");
    assert_eq!(item["withAgent"], "arn:agent/ana");
    let (ok, text) = views(&table, &["contact", "nobody"]);
    assert!(!ok);
    assert!(text.contains("no contact nobody"), "{text}");
}
