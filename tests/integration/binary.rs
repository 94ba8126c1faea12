//! The real `contact-state` binary, run as Lambda runs it (Runtime API, environment), several
//! processes at once, against DynamoDB Local.

use crate::support::corpus::{lifecycle, stream};
use crate::support::{
    BINARY, by_contact, concurrently, endpoint, fresh_table, functions, s, sample, sample_files,
    true_order_items,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_sample_events_through_the_binary_answer_as_documented() {
    let table = fresh_table().await;
    let (api, _children) = functions(&table, 1, &endpoint()).await;
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

    let truth = true_order_items(&lifecycles).await;

    // The stream: each contact's events shuffled and duplicated, contacts interleaved, delivered
    // 12 at a time to 4 processes.
    let table = fresh_table().await;
    let stream = stream(&lifecycles, 42);
    let delivered_count = stream.len();
    let (api, _children) = functions(&table, 4, &endpoint()).await;
    let answers = concurrently(stream, 12, |event| {
        let api = api.clone();
        async move { api.invoke(event).await }
    })
    .await;
    for answer in answers {
        answer.expect("every event accepted");
    }

    let items = by_contact(table.items().await);
    assert_eq!(items.len(), CONTACTS as usize);
    assert!(delivered_count > lifecycles.iter().map(Vec::len).sum::<usize>());
    assert_eq!(items, truth);
}
