//! Shared by the integration tests: a fresh table in DynamoDB Local per test, a client that counts
//! the HTTP requests it sends, and readers for the resulting items.
//!
//! DynamoDB Local is started by `make test` (infra/with-dynamodb-local.sh), which exports the
//! standard `AWS_ENDPOINT_URL_DYNAMODB`; the tests never fall back to a real AWS endpoint.

pub mod corpus;
pub mod memory;

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use connect_contact_state::dynamodb::DynamoDbStore;
use connect_contact_state::handler::Handler;
use connect_contact_state::outcome::Report;
use connect_contact_state::store::{ContactStore, StoredItem};
use local_lambda::{RuntimeApi, spawn_function};
use tokio::process::Child;

pub type Item = HashMap<String, AttributeValue>;

pub fn endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL_DYNAMODB").unwrap_or_else(|_| {
        panic!("integration tests need DynamoDB Local: run them with `make test`")
    })
}

/// Counts HTTP requests (every attempt, retries included) sent to DynamoDB.
pub use connect_contact_state::dynamodb::RequestCounter;

pub struct Table {
    pub name: String,
    pub client: Client,
    pub requests: RequestCounter,
}

static TABLES: AtomicUsize = AtomicUsize::new(0);

/// A new, empty table created from template.yaml's definition (infra/create_table.py).
pub async fn fresh_table() -> Table {
    let name = format!(
        "contact-state-test-{}-{}",
        std::process::id(),
        TABLES.fetch_add(1, Ordering::SeqCst)
    );
    let python = std::env::var("CONTACT_STATE_PYTHON").unwrap_or_else(|_| "python3".into());
    let status = Command::new(python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/infra/create_table.py"
        ))
        .args(["--table", &name, "--endpoint", &endpoint()])
        .status()
        .expect("run infra/create_table.py");
    assert!(status.success(), "creating table {name} failed");
    let requests = RequestCounter::default();
    let shared = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint())
        .load()
        .await;
    let config = connect_contact_state::dynamodb::config(&shared)
        .interceptor(requests.clone())
        .build();
    Table {
        name,
        client: Client::from_conf(config),
        requests,
    }
}

/// Test events are dated 2024, and DynamoDB Local really deletes expired items: a century of
/// retention keeps them while a test looks.
pub const RETENTION_DAYS: u32 = 36_500;

impl Table {
    pub fn handler(&self) -> Handler<DynamoDbStore> {
        Handler::new(
            DynamoDbStore::new(self.client.clone(), &self.name),
            RETENTION_DAYS,
        )
    }

    pub async fn item(&self, contact_id: &str) -> Option<Item> {
        let item = self
            .client
            .get_item()
            .table_name(&self.name)
            .key("contactId", AttributeValue::S(contact_id.into()))
            .consistent_read(true)
            .send()
            .await
            .expect("GetItem")
            .item;
        self.requests.take();
        item
    }

    pub async fn items(&self) -> Vec<Item> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.name)
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("Scan");
            items.extend(page.items.unwrap_or_default());
            start = page.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        self.requests.take();
        items
    }
}

pub fn s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|value| value.as_s().ok())
        .map(String::as_str)
}

pub fn n(item: &Item, name: &str) -> Option<i64> {
    item.get(name)
        .and_then(|value| value.as_n().ok())
        .and_then(|n| n.parse().ok())
}

/// `routingSteps` statuses, in order.
pub fn step_statuses(item: &Item) -> Vec<String> {
    item.get("routingSteps")
        .and_then(|steps| steps.as_l().ok())
        .map(|steps| {
            steps
                .iter()
                .filter_map(|step| step.as_m().ok())
                .filter_map(|step| s(step, "status").map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Handles `payload` through `handler`; the event must be accepted.
pub async fn accept<S: ContactStore>(handler: &Handler<S>, payload: Vec<u8>) -> Report {
    handler.handle(&payload).await.expect("accepted")
}

/// The names of the sample event files in events/, sorted.
pub fn sample_files() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/events"))
        .expect("events/")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .into_string()
                .expect("utf-8")
        })
        .filter(|name| name.ends_with(".json"))
        .collect();
    files.sort();
    files
}

/// The sample events shipped in events/, by file name.
pub fn sample(name: &str) -> Vec<u8> {
    let path = format!("{}/events/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// An EventBridge contact event for `contact_id`, at `time` (epoch seconds), with `detail`
/// fields added to the contact id and event type.
pub fn event(contact_id: &str, event_type: &str, time: i64, detail: serde_json::Value) -> Vec<u8> {
    let mut full = serde_json::json!({"contactId": contact_id, "eventType": event_type});
    if let (Some(full), Some(extra)) = (full.as_object_mut(), detail.as_object()) {
        full.extend(extra.clone());
    }
    let time = chrono::DateTime::from_timestamp(time, 0)
        .expect("valid time")
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    serde_json::json!({
        "version": "0",
        "id": format!("{contact_id}-{event_type}-{time}"),
        "detail-type": "Amazon Connect Contact Event",
        "source": "aws.connect",
        "account": "111122223333",
        "time": time,
        "region": "us-east-1",
        "resources": [],
        "detail": full,
    })
    .to_string()
    .into_bytes()
}

/// The item's ordering keys and facts, as the planner sees them (read by the adapter's own
/// reader): an event whose plan has nothing to write against them is reflected in the item.
pub fn stored(item: &Item) -> StoredItem {
    connect_contact_state::dynamodb::stored(Some(item.clone())).expect("a readable item")
}

pub const BINARY: &str = env!("CARGO_BIN_EXE_contact-state");

/// `instances` processes of the real binary polling one local Runtime API (10 s per
/// invocation, as in template.yaml), writing to `table` through `dynamodb_endpoint`.
pub async fn functions(
    table: &Table,
    instances: usize,
    dynamodb_endpoint: &str,
) -> (Arc<RuntimeApi>, Vec<Child>) {
    let api = Arc::new(
        RuntimeApi::start(Duration::from_secs(10))
            .await
            .expect("runtime API"),
    );
    let children = (0..instances)
        .map(|_| spawn_function_for(table, &api, dynamodb_endpoint, "WARN", Stdio::null()))
        .collect();
    (api, children)
}

/// One process of the real binary, logging at `level` to `logs`.
pub fn spawn_function_for(
    table: &Table,
    api: &RuntimeApi,
    dynamodb_endpoint: &str,
    level: &str,
    logs: Stdio,
) -> Child {
    spawn_binary_for(
        Path::new(BINARY),
        table,
        api,
        dynamodb_endpoint,
        level,
        logs,
    )
}

/// One process of `binary` (a release build, or a profiler wrapped around one), as
/// [`spawn_function_for`].
pub fn spawn_binary_for(
    binary: &Path,
    table: &Table,
    api: &RuntimeApi,
    dynamodb_endpoint: &str,
    level: &str,
    logs: Stdio,
) -> Child {
    let retention = RETENTION_DAYS.to_string();
    spawn_function(
        binary,
        &api.address(),
        &[
            ("TABLE_NAME", table.name.as_str()),
            ("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_endpoint),
            ("AWS_LAMBDA_LOG_LEVEL", level),
            ("RETENTION_DAYS", &retention),
        ],
        Some(logs),
    )
    .expect("spawn contact-state")
}

/// A process of the real binary whose stdout is kept: its log lines, gathered until it ends.
pub struct Logged {
    pub child: Child,
    lines: tokio::task::JoinHandle<Vec<String>>,
}

/// One process of `binary` polling `api`, with `env`, its log lines kept.
pub fn spawn_logged(binary: &Path, api: &RuntimeApi, env: &[(&str, &str)]) -> Logged {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let mut child = spawn_function(binary, &api.address(), env, Some(Stdio::piped()))
        .expect("spawn contact-state");
    let stdout = child.stdout.take().expect("stdout");
    let lines = tokio::spawn(async move {
        let mut lines = BufReader::new(stdout).lines();
        let mut all = Vec::new();
        while let Ok(Some(line)) = lines.next_line().await {
            all.push(line);
        }
        all
    });
    Logged { child, lines }
}

impl Logged {
    /// Stops the process as Lambda ends an environment, and returns every line it printed.
    pub async fn stop(mut self) -> Vec<String> {
        terminate(&mut self.child, Duration::from_secs(10)).await;
        let _ = self.child.kill().await;
        self.lines.await.expect("log lines")
    }
}

/// Sends SIGTERM, as Lambda does to end an environment, and waits up to `patience` for the
/// process to exit (it flushes what it counted; a profiler around it writes its report).
pub async fn terminate(child: &mut Child, patience: Duration) {
    if let Some(pid) = child.id() {
        let _ = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
    }
    let _ = tokio::time::timeout(patience, child.wait()).await;
}

/// Items keyed by contact id.
pub fn by_contact(items: Vec<Item>) -> HashMap<String, Item> {
    items
        .into_iter()
        .map(|item| (s(&item, "contactId").expect("key").to_owned(), item))
        .collect()
}

/// The truth: every event once, in true order, one at a time, into a fresh table.
pub async fn true_order_items(lifecycles: &[Vec<Vec<u8>>]) -> HashMap<String, Item> {
    let table = fresh_table().await;
    let handler = table.handler();
    for event in lifecycles.iter().flatten() {
        handler.handle(event).await.expect("accepted");
    }
    by_contact(table.items().await)
}

/// Runs `task` on every input, at most `limit` at a time, and returns the results in input order.
pub async fn concurrently<I, T, F, Fut>(inputs: Vec<I>, limit: usize, task: F) -> Vec<T>
where
    I: Send + 'static,
    T: Send + 'static,
    F: Fn(I) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let limit = Arc::new(tokio::sync::Semaphore::new(limit));
    let mut tasks = Vec::new();
    for input in inputs {
        let permit = limit.clone().acquire_owned().await.expect("semaphore");
        let running = task(input);
        tasks.push(tokio::spawn(async move {
            let result = running.await;
            drop(permit);
            result
        }));
    }
    let mut results = Vec::with_capacity(tasks.len());
    for task in tasks {
        results.push(task.await.expect("joined"));
    }
    results
}
