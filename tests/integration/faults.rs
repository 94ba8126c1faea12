//! Nothing is lost or corrupted whatever the table and the network do: the real binary, several
//! processes at once, writing through a proxy that throttles, fails, drops requests and loses
//! answers of writes it applied; every failed invocation delivered again as Lambda's async
//! retries do.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::corpus::{lifecycle, stream};
use crate::support::{
    RETENTION_DAYS, by_contact, concurrently, endpoint, fresh_table, functions, spawn_function_for,
    stored, true_order_items,
};
use connect_contact_state::event;
use connect_contact_state::plan::Plan;
use fault_proxy::{FaultProxy, Faults};
use local_lambda::RuntimeApi;

/// Lambda runs an asynchronously invoked function once, then twice more on error, then hands
/// the event to the on-failure destination.
const DELIVERIES: usize = 3;

struct Delivery {
    event: Vec<u8>,
    contact_id: String,
    succeeded: bool,
    /// The error documents of every failed delivery.
    errors: Vec<String>,
}

async fn deliver(api: &RuntimeApi, event: Vec<u8>) -> Delivery {
    let contact_id = event::parse(&event).expect("valid").contact_id;
    let mut errors = Vec::new();
    for _ in 0..DELIVERIES {
        match api.invoke(event.clone()).await {
            Ok(_) => {
                return Delivery {
                    event,
                    contact_id,
                    succeeded: true,
                    errors,
                };
            }
            Err(error) => errors.push(error),
        }
    }
    Delivery {
        event,
        contact_id,
        succeeded: false,
        errors,
    }
}

/// The "done when" for faults: a shuffled, duplicated corpus through four processes and
/// a faulty table. Every event that succeeded is in its item; every event that failed all its
/// deliveries is reported (it would reach the on-failure queue); applying the reported ones
/// again afterwards leaves every item exactly as applying each event once in true order.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn under_throttling_errors_and_lost_answers_nothing_is_lost_or_corrupted() {
    const CONTACTS: u64 = 80;
    let mut ids: Vec<String> = (0..CONTACTS).map(|n| format!("contact-{n:04}")).collect();
    // Every write for these contacts fails, so their events exhaust their deliveries.
    ids.extend((0..2).map(|n| format!("doomed-{n:04}")));
    let lifecycles: Vec<Vec<Vec<u8>>> = ids
        .iter()
        .enumerate()
        .map(|(n, id)| lifecycle(id, n as u64 * 104_729 + 3))
        .collect();

    let truth = true_order_items(&lifecycles).await;

    let table = fresh_table().await;
    let proxy = FaultProxy::start(
        &endpoint(),
        Faults {
            throttle: 5,
            server_error: 5,
            drop_request: 5,
            lose_response: 5,
            stall: None,
            doomed: Some("doomed-".into()),
        },
        7,
    )
    .await
    .expect("fault proxy");
    let (api, _children) = functions(&table, 4, &proxy.endpoint()).await;

    let deliveries = concurrently(stream(&lifecycles, 11), 12, |event| {
        let api = api.clone();
        async move { deliver(&api, event).await }
    })
    .await;

    let injected = proxy.injected();
    println!("faults injected: {injected:?}");
    assert!(injected.throttled > 10, "{injected:?}");
    assert!(injected.server_errors > 10, "{injected:?}");
    assert!(injected.dropped_requests > 10, "{injected:?}");
    assert!(injected.lost_responses > 10, "{injected:?}");

    // No invocation answered success for an event its item does not reflect.
    let items = by_contact(table.items().await);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64;
    for delivery in deliveries.iter().filter(|d| d.succeeded) {
        let item = items.get(&delivery.contact_id).expect("item of a success");
        let plan = Plan::from_event(
            &event::parse(&delivery.event).unwrap(),
            now,
            RETENTION_DAYS,
            true,
        )
        .expect("known event type");
        assert_eq!(
            plan.write_against(&stored(item)),
            None,
            "{} succeeded but its item lacks it",
            delivery.contact_id
        );
    }

    // Every event that failed all its deliveries is reported, as a retryable failure; the
    // doomed contacts' events are all among them.
    let reported: Vec<&Delivery> = deliveries.iter().filter(|d| !d.succeeded).collect();
    println!(
        "{} deliveries, {} reported after {DELIVERIES} failures",
        deliveries.len(),
        reported.len()
    );
    for delivery in &reported {
        assert_eq!(delivery.errors.len(), DELIVERIES);
        for error in &delivery.errors {
            assert!(
                error.contains("\"errorType\":\"StoreFailed\"")
                    || error.contains("\"errorType\":\"OutOfTime\""),
                "{error}"
            );
        }
    }
    let doomed = deliveries
        .iter()
        .filter(|d| d.contact_id.starts_with("doomed-"))
        .count();
    assert!(doomed > 0);
    assert_eq!(
        reported
            .iter()
            .filter(|d| d.contact_id.starts_with("doomed-"))
            .count(),
        doomed
    );
    // Contacts with nothing reported are already exactly right.
    for (contact_id, expected) in &truth {
        if !reported.iter().any(|d| &d.contact_id == contact_id) {
            assert_eq!(items.get(contact_id), Some(expected), "{contact_id}");
        }
    }

    // After the fault is fixed, the reported events are applied again (the redrive): now every
    // item is the truth.
    proxy.set_faults(Faults::default());
    for delivery in &reported {
        api.invoke(delivery.event.clone())
            .await
            .expect("redriven event accepted");
    }
    let items = by_contact(table.items().await);
    assert_eq!(items.len(), truth.len());
    for (contact_id, expected) in &truth {
        assert_eq!(items.get(contact_id), Some(expected), "{contact_id}");
    }
}

/// A table that stops answering turns into a reported, retryable error before the invocation's
/// deadline, not into Lambda stopping the process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_that_does_not_answer_fails_the_invocation_before_its_deadline() {
    let table = fresh_table().await;
    let proxy = FaultProxy::start(
        &endpoint(),
        Faults {
            stall: Some(Duration::from_secs(30)),
            ..Faults::default()
        },
        1,
    )
    .await
    .expect("fault proxy");
    let api = RuntimeApi::start(Duration::from_secs(3))
        .await
        .expect("runtime API");
    let _function = spawn_function_for(&table, &api, &proxy.endpoint(), "WARN", Stdio::null());
    // Init (which gives up warming the connection after a second) is not the invocation's time.
    api.ready().await;
    let started = Instant::now();
    let answer = api
        .invoke(crate::support::event(
            "slow-table",
            "QUEUED",
            1_717_200_000,
            serde_json::json!({}),
        ))
        .await;
    let took = started.elapsed();
    let error = answer.expect_err("no answer from the table is a failure");
    assert!(error.contains("\"errorType\":\"OutOfTime\""), "{error}");
    assert!(took < Duration::from_secs(3), "answered after {took:?}");
    assert!(
        took >= Duration::from_secs(2),
        "gave up early, after {took:?}"
    );
}
