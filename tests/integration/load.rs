//! Load and soak: many events through one process of the real binary against DynamoDB Local,
//! one invocation at a time as Lambda gives them. Memory must stay flat; the figures (peak RSS,
//! throughput, CPU time per event) are printed.
//!
//! `make test` runs 3,000 events; `make soak` runs 100,000 through the release binary
//! (`CONTACT_STATE_BINARY`, `SOAK_EVENTS`).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::corpus::{lifecycle, stream};
use crate::support::{
    BINARY, Table, by_contact, concurrently, endpoint, fresh_table, spawn_binary_for, terminate,
    true_order_items,
};
use local_lambda::RuntimeApi;

/// What /proc says about a process.
#[derive(Debug, Clone, Copy)]
struct Usage {
    peak_rss_kib: u64,
    rss_kib: u64,
    cpu: Duration,
}

fn usage(pid: u32) -> Usage {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .expect(name)
    };
    // Time on CPU in nanoseconds (user and system): the first field of schedstat.
    let schedstat = std::fs::read_to_string(format!("/proc/{pid}/schedstat")).expect("schedstat");
    let cpu_ns: u64 = schedstat
        .split_whitespace()
        .next()
        .and_then(|ns| ns.parse().ok())
        .expect("schedstat");
    Usage {
        peak_rss_kib: field("VmHWM:"),
        rss_kib: field("VmRSS:"),
        cpu: Duration::from_nanos(cpu_ns),
    }
}

fn binary() -> PathBuf {
    std::env::var_os("CONTACT_STATE_BINARY")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(BINARY))
}

/// Whole contacts' lifecycles, shuffled with duplicates: about `events` deliveries.
fn corpus(events: usize) -> (Vec<Vec<Vec<u8>>>, Vec<Vec<u8>>) {
    let mut lifecycles = Vec::new();
    let mut delivered = 0;
    while delivered < events {
        let n = lifecycles.len() as u64;
        let events = lifecycle(&format!("load-{n:06}"), n * 6_700_417 + 5);
        // `delivered` duplicates about a third of the events.
        delivered += events.len() * 4 / 3;
        lifecycles.push(events);
    }
    (lifecycles.clone(), stream(&lifecycles, 99))
}

struct Run {
    checkpoints: Vec<(usize, Usage, Duration)>,
    lifecycles: Vec<Vec<Vec<u8>>>,
}

/// Delivers `events` to one process, recording its usage after each checkpoint.
async fn run(table: &Table, events: usize, checkpoints: &[usize]) -> Run {
    let (lifecycles, stream) = corpus(events);
    let api = RuntimeApi::start(Duration::from_secs(10))
        .await
        .expect("runtime API");
    let function = spawn_binary_for(&binary(), table, &api, &endpoint(), "WARN", Stdio::null());
    let pid = function.id().expect("pid");
    let api = std::sync::Arc::new(api);
    let started = Instant::now();
    let mut recorded = Vec::new();
    let mut done = 0;
    let total = stream.len();
    let mut stream = stream.into_iter();
    // The last checkpoint takes the rest of the stream, so every contact is complete.
    let last = checkpoints.len().saturating_sub(1);
    for (n, &checkpoint) in checkpoints.iter().enumerate() {
        let take = if n == last { total } else { checkpoint } - done;
        let batch: Vec<Vec<u8>> = stream.by_ref().take(take).collect();
        done += batch.len();
        // A few queued at the Runtime API, so the process never waits for the harness.
        let answers = concurrently(batch, 4, |event| {
            let api = api.clone();
            async move { api.invoke(event).await }
        })
        .await;
        for answer in answers {
            answer.expect("accepted");
        }
        recorded.push((done, usage(pid), started.elapsed()));
    }
    // Stopped as Lambda stops an environment (SIGTERM), so a profiler wrapped around the
    // binary (CONTACT_STATE_BINARY) can write its report.
    let mut function = function;
    terminate(&mut function, Duration::from_secs(30)).await;
    Run {
        checkpoints: recorded,
        lifecycles,
    }
}

fn report(run: &Run) {
    let (_, first, _) = run.checkpoints[0];
    for (events, usage, elapsed) in &run.checkpoints {
        println!(
            "after {events:>7} events: peak RSS {:>6} KiB, RSS {:>6} KiB, CPU {:>5} ms ({:.3} ms/event after the first checkpoint), {:>6.0} events/s",
            usage.peak_rss_kib,
            usage.rss_kib,
            usage.cpu.as_millis(),
            (usage.cpu.saturating_sub(first.cpu)).as_secs_f64() * 1000.0
                / (*events as f64 - run.checkpoints[0].0 as f64).max(1.0),
            *events as f64 / elapsed.as_secs_f64(),
        );
    }
}

/// Memory does not grow with the number of events: the peak after all of them is within
/// `slack_kib` of the peak after the first checkpoint. Items are checked against the truth for
/// the first `checked` contacts.
async fn memory_stays_flat(events: usize, checkpoints: &[usize], slack_kib: u64, checked: usize) {
    let table = fresh_table().await;
    let run = run(&table, events, checkpoints).await;
    report(&run);
    let (_, first, _) = run.checkpoints[0];
    let (_, last, _) = *run.checkpoints.last().unwrap();
    assert!(
        last.peak_rss_kib <= first.peak_rss_kib + slack_kib,
        "peak RSS grew from {} KiB to {} KiB",
        first.peak_rss_kib,
        last.peak_rss_kib
    );
    // Correct under load too: every contact has its item, and the first `checked` equal the
    // truth.
    let items = by_contact(table.items().await);
    assert_eq!(items.len(), run.lifecycles.len());
    let truth = true_order_items(&run.lifecycles[..checked.min(run.lifecycles.len())]).await;
    for (contact_id, expected) in &truth {
        assert_eq!(items.get(contact_id), Some(expected), "{contact_id}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_thousand_events_keep_memory_flat() {
    memory_stays_flat(3_000, &[1_000, 3_000], 1_024, 100).await;
}

/// `make soak`: 100,000 events (or `SOAK_EVENTS`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the soak: run with `make soak`"]
async fn soak() {
    let events: usize = std::env::var("SOAK_EVENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let checkpoints: Vec<usize> = [1_000, 10_000, 50_000, 100_000]
        .into_iter()
        .filter(|&n| n < events)
        .chain([events])
        .collect();
    memory_stays_flat(events, &checkpoints, 2_048, 500).await;
}
