//! The real `contact-state` binary, run as Lambda runs it (Runtime API, environment), several
//! processes at once, against DynamoDB Local.

mod support;

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use local_lambda::{RuntimeApi, spawn_function};
use support::corpus::{Rng, delivered, lifecycle};
use support::{RETENTION_DAYS, Table, endpoint, fresh_table, s, sample, sample_files};
use tokio::process::Child;

const BINARY: &str = env!("CARGO_BIN_EXE_contact-state");

async fn functions(table: &Table, instances: usize) -> (Arc<RuntimeApi>, Vec<Child>) {
    let api = Arc::new(
        RuntimeApi::start(Duration::from_secs(10))
            .await
            .expect("runtime API"),
    );
    let endpoint = endpoint();
    let retention = RETENTION_DAYS.to_string();
    let children = (0..instances)
        .map(|_| {
            spawn_function(
                Path::new(BINARY),
                &api.address(),
                &[
                    ("TABLE_NAME", table.name.as_str()),
                    ("AWS_ENDPOINT_URL_DYNAMODB", endpoint.as_str()),
                    ("AWS_LAMBDA_LOG_LEVEL", "WARN"),
                    ("RETENTION_DAYS", &retention),
                ],
                Some(Stdio::null()),
            )
            .expect("spawn contact-state")
        })
        .collect();
    (api, children)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_sample_events_through_the_binary_answer_as_documented() {
    let table = fresh_table().await;
    let (api, _children) = functions(&table, 1).await;
    for name in &sample_files() {
        let answer = api.invoke(sample(name)).await;
        if name.starts_with("refused-") {
            let error = answer.expect_err("refused");
            assert!(error.contains("\"errorType\":\"Refused\""), "{error}");
            assert!(error.contains("detail.contactId is missing"), "{error}");
        } else {
            answer.unwrap_or_else(|error| panic!("{name}: {error}"));
        }
    }
    let voice = table
        .item("11111111-1111-4111-8111-111111111111")
        .await
        .expect("voice");
    assert_eq!(s(&voice, "state"), Some("COMPLETED"));
    assert!(api.init_errors().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_table_name_init_fails_with_one_clear_line() {
    let output = tokio::process::Command::new(BINARY)
        .env_remove("TABLE_NAME")
        .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
        .env("AWS_LAMBDA_FUNCTION_NAME", "contact-state")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
        .output()
        .await
        .expect("run contact-state");
    assert!(!output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("TABLE_NAME is not set"), "stdout: {stdout}");
}

/// The "done when": a realistic corpus of contact lifecycles, delivered shuffled and
/// duplicated to several instances of the real binary at once, ends with every item exactly as
/// when each event is applied once in true order.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_shuffled_duplicated_corpus_through_four_binaries_ends_in_the_true_order_items() {
    const CONTACTS: u64 = 150;
    let lifecycles: Vec<Vec<Vec<u8>>> = (0..CONTACTS)
        .map(|n| lifecycle(&format!("contact-{n:04}"), n * 7919 + 1))
        .collect();

    // The truth: every event once, in true order, one at a time.
    let truth = fresh_table().await;
    let handler = truth.handler();
    for event in lifecycles.iter().flatten() {
        handler.handle(event).await.expect("accepted");
    }

    // The stream: each contact's events shuffled and duplicated, contacts interleaved, delivered
    // 12 at a time to 4 processes.
    let table = fresh_table().await;
    let mut stream: Vec<Vec<u8>> = lifecycles
        .iter()
        .enumerate()
        .flat_map(|(n, events)| delivered(events, n as u64))
        .collect();
    Rng::new(42).shuffle(&mut stream);
    let delivered_count = stream.len();
    let (api, _children) = functions(&table, 4).await;
    let limit = Arc::new(tokio::sync::Semaphore::new(12));
    let mut tasks = Vec::new();
    for event in stream {
        let permit = limit.clone().acquire_owned().await.expect("semaphore");
        let api = api.clone();
        tasks.push(tokio::spawn(async move {
            let answer = api.invoke(event).await;
            drop(permit);
            answer
        }));
    }
    for task in tasks {
        task.await.expect("joined").expect("every event accepted");
    }

    let mut expected = truth.items().await;
    let mut actual = table.items().await;
    let key = |item: &support::Item| s(item, "contactId").map(str::to_owned);
    expected.sort_by_key(key);
    actual.sort_by_key(key);
    let ids = |items: &[support::Item]| items.iter().filter_map(key).collect::<Vec<_>>();
    assert_eq!(ids(&expected), ids(&actual));
    assert_eq!(actual.len(), CONTACTS as usize);
    assert!(delivered_count > lifecycles.iter().map(Vec::len).sum::<usize>());
    for (actual, expected) in actual.iter().zip(&expected) {
        assert_eq!(actual, expected);
    }
}
