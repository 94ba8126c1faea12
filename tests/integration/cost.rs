//! What a million events cost, measured: the real binary (4 instances, as Lambda scales out) on a
//! stream of whole contact lifecycles against DynamoDB Local with the template's own indexes, in
//! live order (event time, jitter, some late and redelivered: what users' bills come from) or
//! shuffled and redelivered (the worst case for ordering, not for cost). Requests,
//! write units (from `ReturnConsumedCapacity`, via the log line), log bytes (the binary's real
//! output), item sizes (the final table) and CPU per invocation (/proc), priced with the list
//! prices below. `make test` holds the goals on 300 shuffled contacts; `make bench` prints both
//! streams for 2,000 contacts with the release binary (`CONTACT_STATE_BINARY`, `COST_CONTACTS`,
//! `COST_LIVE_VIEWS`), and `bench:` lines for docs/performance.md.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use connect_contact_state::dynamodb::{Item, attribute_size, item_size};
use local_lambda::RuntimeApi;
use serde_json::Value;

use crate::support::corpus::{REALISTIC, dated_now, lifecycle_with, live_stream, stream, uuid};
use crate::support::{
    BINARY, RETENTION_DAYS, Table, concurrently, endpoint, fresh_table, spawn_logged,
};

/// List prices, us-east-1, as of 2026-11 (docs/performance.md, "Prices").
const LAMBDA_PER_MILLION_REQUESTS: f64 = 0.20;
/// arm64, per GB-second.
const LAMBDA_ARM64_PER_GB_SECOND: f64 = 0.000_013_333_4;
const MEMORY_GB: f64 = 0.125;
const DYNAMODB_ON_DEMAND_PER_MILLION_WRITE_UNITS: f64 = 0.625;
/// Provisioned: per write capacity unit-hour.
const DYNAMODB_PROVISIONED_PER_WCU_HOUR: f64 = 0.000_65;
const PROVISIONED_UTILISATION: f64 = 0.70;
const LOGS_PER_GB: f64 = 0.50;
/// At 128 MB a Lambda gets about 7% of a vCPU: CPU time stretches to this share of wall time.
const CPU_SHARE_AT_128_MB: f64 = 0.07;
/// The CPU goal per invocation (release build, after init). `make test` runs a debug build,
/// whose CPU is no guide: it prices duration at this; `make bench` at the release build's own.
const CPU_GOAL_MS: f64 = 0.5;
/// An in-region conditional UpdateItem's round trip, waited for without CPU (an assumption:
/// DynamoDB Local on this machine is no guide to it).
const DYNAMODB_ROUND_TRIP_MS: f64 = 3.0;

fn binary() -> PathBuf {
    std::env::var_os("CONTACT_STATE_BINARY")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(BINARY))
}

struct Figures {
    deliveries: usize,
    requests: u64,
    write_units: u64,
    log_bytes: Vec<usize>,
    item_sizes: Vec<usize>,
    /// Each item's bytes by kind, largest item last.
    item_parts: Vec<ItemParts>,
    cpu_per_invocation_ms: f64,
}

/// The attributes of the spec's table and its index keys (docs/contract.md): what every
/// reader gets, whatever else the item carries.
const SPEC_ATTRIBUTES: [&str; 24] = [
    "contactId",
    "state",
    "channel",
    "initiationMethod",
    "instanceArn",
    "initialContactId",
    "previousContactId",
    "relatedContactId",
    "queueArn",
    "enqueueTimestamp",
    "agentArn",
    "connectedToAgentTimestamp",
    "initiationTimestamp",
    "connectedToSystemTimestamp",
    "disconnectTimestamp",
    "disconnectReason",
    "routingCriteriaIndex",
    "routingSteps",
    "expiresAt",
    "afterContactWorkStartTimestamp",
    "afterContactWorkEndTimestamp",
    "afterContactWorkDuration",
    "queuedIn",
    "withAgent",
];

/// An item's bytes: the spec's attributes, the bookkeeping (ordering keys and the latest event's
/// time, `_…`), and the facts this project stores beyond the spec (`queueType`, `tags`, …).
#[derive(Clone, Copy, Default)]
struct ItemParts {
    spec: usize,
    bookkeeping: usize,
    extras: usize,
}

impl ItemParts {
    fn total(self) -> usize {
        self.spec + self.bookkeeping + self.extras
    }

    fn of(item: &Item) -> ItemParts {
        let mut parts = ItemParts::default();
        for (name, value) in item {
            let size = attribute_size(name, value);
            if SPEC_ATTRIBUTES.contains(&name.as_str()) {
                parts.spec += size;
            } else if name.starts_with('_') {
                parts.bookkeeping += size;
            } else {
                parts.extras += size;
            }
        }
        parts
    }
}

fn percentile<T: Copy>(sorted: &[T], percent: usize) -> T {
    sorted[(sorted.len() * percent / 100).min(sorted.len() - 1)]
}

fn cpu_ns(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/schedstat"))
        .ok()
        .and_then(|stat| stat.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// The order a stream is delivered in.
#[derive(Clone, Copy, Debug)]
enum Order {
    /// Event time, jitter, 3% late, 5% redelivered ([`live_stream`]).
    Live,
    /// Shuffled, a third redelivered ([`stream`]).
    Shuffled,
}

impl Order {
    fn name(self) -> &'static str {
        match self {
            Order::Live => "live order",
            Order::Shuffled => "shuffled",
        }
    }
}

/// Runs `contacts` lifecycles, delivered in `order`, through `instances` processes.
async fn measure(table: &Table, contacts: u64, instances: usize, order: Order) -> Figures {
    let lifecycles: Vec<_> = (0..contacts)
        .map(|n| lifecycle_with(&uuid(&format!("cost-{n}")), n * 104_729 + 17, &REALISTIC))
        .collect();
    // Dated now, each contact ending as the run starts: `lagMs` as long as in production.
    let events = dated_now(match order {
        Order::Live => live_stream(&lifecycles, 23),
        Order::Shuffled => stream(&lifecycles, 23),
    });
    let deliveries = events.len();
    let api = Arc::new(
        RuntimeApi::start(Duration::from_secs(10))
            .await
            .expect("runtime API"),
    );
    let retention = RETENTION_DAYS.to_string();
    // COST_LIVE_VIEWS=off: the figures of a deployment with LiveViews=off.
    let views = std::env::var("COST_LIVE_VIEWS").unwrap_or_else(|_| "on".into());
    let env = [
        ("TABLE_NAME", table.name.as_str()),
        ("AWS_ENDPOINT_URL_DYNAMODB", &endpoint()),
        ("AWS_LAMBDA_LOG_LEVEL", "INFO"),
        ("RETENTION_DAYS", &retention),
        ("LIVE_VIEWS", &views),
    ];
    let functions: Vec<_> = (0..instances)
        .map(|_| spawn_logged(&binary(), &api, &env))
        .collect();
    // CPU from here on is the invocations': init (about 15 ms each) is over well before.
    api.ready().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pids: Vec<u32> = functions.iter().filter_map(|f| f.child.id()).collect();
    let at_ready: u64 = pids.iter().map(|&pid| cpu_ns(pid)).sum();
    let answers = concurrently(events, instances, {
        let api = api.clone();
        move |event| {
            let api = api.clone();
            async move { api.invoke(event).await }
        }
    })
    .await;
    for answer in answers {
        answer.expect("accepted");
    }
    let cpu: u64 = pids.iter().map(|&pid| cpu_ns(pid)).sum::<u64>() - at_ready;
    let mut lines = Vec::new();
    for function in functions {
        lines.extend(function.stop().await);
    }
    let items = table.items().await;
    let mut figures = Figures {
        deliveries,
        requests: 0,
        write_units: 0,
        log_bytes: Vec::new(),
        item_sizes: items.iter().map(item_size).collect(),
        item_parts: items.iter().map(ItemParts::of).collect(),
        cpu_per_invocation_ms: cpu as f64 / 1e6 / deliveries as f64,
    };
    for line in &lines {
        figures.log_bytes.push(line.len() + 1);
        let record: Value = serde_json::from_str(line).expect("JSON");
        // Absent `requests` is 1 when the event wrote (`dynamodbMs`), and `writeUnits` is
        // absent when each request cost one unit.
        let requests = record["requests"]
            .as_u64()
            .unwrap_or(u64::from(record.get("dynamodbMs").is_some()));
        figures.requests += requests;
        figures.write_units += record["writeUnits"].as_u64().unwrap_or(requests);
    }
    assert_eq!(figures.log_bytes.len(), deliveries, "one line per delivery");
    figures.log_bytes.sort_unstable();
    figures.item_sizes.sort_unstable();
    figures.item_parts.sort_by_key(|parts| parts.total());
    println!(
        "items over 1 KB (2 write units)  {}",
        items_over_a_kilobyte(&figures)
    );
    println!(
        "p99 item: spec attributes + bookkeeping + extras = {}",
        p99_item_parts(&figures)
    );
    assert_eq!(figures.item_sizes.len(), contacts as usize);
    figures
}

/// How many items cost two write units a write: "23 of 2000 (1.1%)".
fn items_over_a_kilobyte(figures: &Figures) -> String {
    let over = figures
        .item_sizes
        .iter()
        .filter(|&&size| size > 1024)
        .count();
    let all = figures.item_sizes.len();
    format!("{over} of {all} ({:.1}%)", over as f64 * 100.0 / all as f64)
}

/// What the p99 item is made of, and the p99 of the spec's attributes alone (what is left of
/// 1 KB for everything else): "993 + 43 + 17 = 1053 (spec alone: p99 993)".
fn p99_item_parts(figures: &Figures) -> String {
    let p99 = percentile(&figures.item_parts, 99);
    let mut spec: Vec<usize> = figures.item_parts.iter().map(|parts| parts.spec).collect();
    spec.sort_unstable();
    format!(
        "{} + {} + {} = {} (spec alone: p99 {})",
        p99.spec,
        p99.bookkeeping,
        p99.extras,
        p99.total(),
        percentile(&spec, 99)
    )
}

struct Cost {
    requests: f64,
    duration: f64,
    dynamodb_on_demand: f64,
    dynamodb_provisioned: f64,
    logs: f64,
}

impl Cost {
    /// Dollars per million events, at `cpu_ms` of CPU per invocation.
    fn of(figures: &Figures, cpu_ms: f64) -> Cost {
        let per = |total: f64| total / figures.deliveries as f64 * 1e6;
        let billed_ms = cpu_ms / CPU_SHARE_AT_128_MB + DYNAMODB_ROUND_TRIP_MS;
        let write_units = per(figures.write_units as f64) / 1e6;
        let writes_per_wcu_hour = 3_600.0 * PROVISIONED_UTILISATION;
        let mean_log_bytes = figures.log_bytes.iter().sum::<usize>() as f64;
        Cost {
            requests: LAMBDA_PER_MILLION_REQUESTS,
            duration: 1e6 * billed_ms / 1000.0 * MEMORY_GB * LAMBDA_ARM64_PER_GB_SECOND,
            dynamodb_on_demand: write_units * DYNAMODB_ON_DEMAND_PER_MILLION_WRITE_UNITS,
            dynamodb_provisioned: write_units * 1e6 / writes_per_wcu_hour
                * DYNAMODB_PROVISIONED_PER_WCU_HOUR,
            logs: per(mean_log_bytes) / 1e9 * LOGS_PER_GB,
        }
    }

    fn on_demand(&self) -> f64 {
        self.requests + self.duration + self.dynamodb_on_demand + self.logs
    }

    fn provisioned(&self) -> f64 {
        self.requests + self.duration + self.dynamodb_provisioned + self.logs
    }
}

fn report(figures: &Figures, cpu_ms: f64) -> Cost {
    let n = figures.deliveries as f64;
    let logs = &figures.log_bytes;
    let mean_log = logs.iter().sum::<usize>() as f64 / n;
    let cost = Cost::of(figures, cpu_ms);
    println!("deliveries                       {}", figures.deliveries);
    println!(
        "DynamoDB requests per delivery   {:.3}",
        figures.requests as f64 / n
    );
    println!(
        "write units per delivery         {:.3}",
        figures.write_units as f64 / n
    );
    println!(
        "log bytes per delivery           p50 {}  p99 {}  mean {mean_log:.1}",
        percentile(logs, 50),
        percentile(logs, 99)
    );
    println!(
        "item size (bytes)                p50 {}  p99 {}  max {}",
        percentile(&figures.item_sizes, 50),
        percentile(&figures.item_sizes, 99),
        figures.item_sizes.last().copied().unwrap_or(0)
    );
    println!(
        "CPU per invocation               {:.3} ms",
        figures.cpu_per_invocation_ms
    );
    println!(
        "$ per million events (duration at {cpu_ms:.3} ms CPU) on-demand   provisioned at 70%"
    );
    println!(
        "  Lambda requests                {:>9.3}   {:>9.3}",
        cost.requests, cost.requests
    );
    println!(
        "  Lambda duration (arm64 128 MB) {:>9.3}   {:>9.3}",
        cost.duration, cost.duration
    );
    println!(
        "  DynamoDB writes                {:>9.3}   {:>9.3}",
        cost.dynamodb_on_demand, cost.dynamodb_provisioned
    );
    println!(
        "  CloudWatch Logs                {:>9.3}   {:>9.3}",
        cost.logs, cost.logs
    );
    println!(
        "  total                          {:>9.3}   {:>9.3}",
        cost.on_demand(),
        cost.provisioned()
    );
    cost
}

/// The goals of the cost issue, on 300 contacts (about 2,000 deliveries).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_million_events_cost_at_most_a_dollar_and_five_cents_on_demand() {
    let table = fresh_table().await;
    let figures = measure(&table, 300, 4, Order::Shuffled).await;
    let cost = report(&figures, CPU_GOAL_MS);
    let n = figures.deliveries as f64;
    assert!(
        figures.write_units as f64 / n <= 1.02,
        "write units per delivery"
    );
    let mean_log = figures.log_bytes.iter().sum::<usize>() as f64 / n;
    assert!(mean_log <= 350.0, "log bytes per delivery");
    assert!(
        percentile(&figures.item_sizes, 99) < 1024,
        "items over 1 KB"
    );
    assert!(
        cost.on_demand() <= 1.05,
        "{:.3} $ per million",
        cost.on_demand()
    );
}

/// `make bench`: both streams on `COST_CONTACTS` contacts (default 2,000: about 14,000
/// deliveries), each on a fresh table, with `bench:` lines for docs/performance.md.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: run with `make bench`"]
async fn cost_per_million_events() {
    let contacts = std::env::var("COST_CONTACTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000);
    let views = std::env::var("COST_LIVE_VIEWS").unwrap_or_else(|_| "on".into());
    for order in [Order::Live, Order::Shuffled] {
        println!(
            "\n-- {} ({contacts} contacts, live views {views})",
            order.name()
        );
        let table = fresh_table().await;
        let figures = measure(&table, contacts, 4, order).await;
        let cost = report(&figures, figures.cpu_per_invocation_ms);
        let n = figures.deliveries as f64;
        let key = format!("{}, views {views}", order.name());
        let mean_log = figures.log_bytes.iter().sum::<usize>() as f64 / n;
        for (what, value) in [
            ("deliveries", format!("{}", figures.deliveries)),
            (
                "requests per delivery",
                format!("{:.3}", figures.requests as f64 / n),
            ),
            (
                "write units per delivery",
                format!("{:.3}", figures.write_units as f64 / n),
            ),
            (
                "write units per contact",
                format!("{:.2}", figures.write_units as f64 / contacts as f64),
            ),
            (
                "log bytes per delivery (p50 / p99 / mean)",
                format!(
                    "{} / {} / {mean_log:.0}",
                    percentile(&figures.log_bytes, 50),
                    percentile(&figures.log_bytes, 99)
                ),
            ),
            (
                "item size, bytes (p50 / p99 / max)",
                format!(
                    "{} / {} / {}",
                    percentile(&figures.item_sizes, 50),
                    percentile(&figures.item_sizes, 99),
                    figures.item_sizes.last().copied().unwrap_or(0)
                ),
            ),
            ("items over 1 KB", items_over_a_kilobyte(&figures)),
            (
                "p99 item, bytes: spec attributes + bookkeeping + extras",
                p99_item_parts(&figures),
            ),
            (
                "CPU per invocation, ms",
                format!("{:.3}", figures.cpu_per_invocation_ms),
            ),
            (
                "$ per million events, on-demand",
                format!("{:.3}", cost.on_demand()),
            ),
            (
                "$ per million events, provisioned at 70%",
                format!("{:.3}", cost.provisioned()),
            ),
            (
                "of which DynamoDB writes, on-demand",
                format!("{:.3}", cost.dynamodb_on_demand),
            ),
            ("of which logs", format!("{:.3}", cost.logs)),
        ] {
            println!("bench: cost | {key} | {what} | {value}");
        }
    }
}
