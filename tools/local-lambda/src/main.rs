//! `local-lambda`: runs the real `contact-state` binary behind a local Runtime API, sends it event
//! files one by one, prints what each invocation answered, then the table's items.
//!
//!     local-lambda --function PATH --table NAME [--expect-refused PREFIX] EVENT.json...
//!     local-lambda --serve --function PATH --table NAME
//!     local-lambda --bench-cold-start RUNS --function PATH --table NAME EVENT.json
//!
//! `--serve` keeps the function running behind the Runtime API, whose address also answers the
//! Lambda `Invoke` API: it prints `AWS_ENDPOINT_URL_LAMBDA=http://…` and runs until stopped.
//!
//! `--bench-cold-start` starts the function RUNS times and measures, as medians: process start →
//! first Runtime API poll (init), → first invocation answered, the first invocation itself, and a
//! warm one (each invocation a new contact, so every one writes).
//!
//! DynamoDB endpoint, region and credentials come from the standard AWS variables (set by
//! infra/with-dynamodb-local.sh). Exits 1 if an invocation failed that was not expected to: files
//! whose name starts with the `--expect-refused` prefix (default `refused-`) must be refused.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use clap::Parser;
use local_lambda::{RuntimeApi, spawn_function};

/// Runs the real `contact-state` binary behind a local Lambda Runtime API.
#[derive(Parser)]
#[command(name = "local-lambda")]
struct Args {
    /// Keep the function running; the Runtime API's address also answers Lambda's Invoke API.
    #[arg(long)]
    serve: bool,
    /// Start the function this many times and print init and invocation medians.
    #[arg(long = "bench-cold-start", value_name = "RUNS")]
    bench_runs: Option<usize>,
    /// The function's binary.
    #[arg(long, value_name = "PATH")]
    function: PathBuf,
    /// The table it writes (TABLE_NAME).
    #[arg(long, value_name = "NAME")]
    table: String,
    /// Event files whose name starts with this must be refused.
    #[arg(
        long = "expect-refused",
        value_name = "PREFIX",
        default_value = "refused-"
    )]
    refused_prefix: String,
    /// Event files, sent in turn.
    events: Vec<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("local-lambda: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> Result<bool, String> {
    if let Some(runs) = args.bench_runs {
        return bench_cold_start(args, runs).await.map(|()| true);
    }
    let api = RuntimeApi::start(Duration::from_secs(10))
        .await
        .map_err(|e| format!("starting the Runtime API: {e}"))?;
    let mut function = spawn_function(
        &args.function,
        &api.address(),
        &[("TABLE_NAME", args.table.as_str())],
        None,
    )
    .map_err(|e| format!("starting {}: {e}", args.function.display()))?;
    if args.serve {
        println!("AWS_ENDPOINT_URL_LAMBDA=http://{}", api.address());
        let stopped = tokio::signal::ctrl_c();
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .map_err(|e| format!("signals: {e}"))?;
        tokio::select! {
            _ = stopped => {}
            _ = terminate.recv() => {}
            status = function.wait() => return Err(format!("the function exited: {status:?}")),
        }
        let _ = function.start_kill();
        return Ok(true);
    }

    println!("\n== Invocations ({} events)", args.events.len());
    let mut all_as_expected = true;
    for path in &args.events {
        let payload = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let expect_refused = file_name(path).starts_with(&args.refused_prefix);
        let answer = tokio::time::timeout(Duration::from_secs(30), api.invoke(payload))
            .await
            .map_err(|_| format!("{}: no answer in 30 s", path.display()))?;
        let (verdict, detail) = match (&answer, expect_refused) {
            (Ok(_), false) => ("ok", String::new()),
            (Err(error), true) => ("refused, as expected", error_message(error)),
            (Ok(_), true) => ("UNEXPECTEDLY ACCEPTED", String::new()),
            (Err(error), false) => ("FAILED", error_message(error)),
        };
        all_as_expected &= answer.is_ok() != expect_refused;
        println!("{:<48} {verdict} {detail}", file_name(path));
    }
    let init_errors = api.init_errors().await;
    for error in &init_errors {
        println!("init error: {error}");
    }
    let _ = function.start_kill();

    let items = scan(&args.table).await?;
    println!("\n== Items in {} ({})", args.table, items.len());
    print_items(&items);
    Ok(all_as_expected && init_errors.is_empty())
}

/// Medians of the cold start figures over `runs` fresh processes.
async fn bench_cold_start(args: &Args, runs: usize) -> Result<(), String> {
    const WARM: usize = 20;
    let path = args
        .events
        .first()
        .ok_or("--bench-cold-start needs an EVENT.json")?;
    let template: serde_json::Value = serde_json::from_slice(
        &std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?,
    )
    .map_err(|e| format!("{}: {e}", path.display()))?;
    let event = |run: usize, n: usize| {
        let mut event = template.clone();
        event["detail"]["contactId"] = format!("bench-{}-{run}-{n}", std::process::id()).into();
        event.to_string()
    };
    let (mut init, mut first_answered, mut first, mut warm) = (vec![], vec![], vec![], vec![]);
    for run in 0..runs {
        let api = RuntimeApi::start(Duration::from_secs(10))
            .await
            .map_err(|e| format!("starting the Runtime API: {e}"))?;
        let started = Instant::now();
        let mut function = spawn_function(
            &args.function,
            &api.address(),
            &[("TABLE_NAME", args.table.as_str())],
            Some(std::process::Stdio::null()),
        )
        .map_err(|e| format!("starting {}: {e}", args.function.display()))?;
        let polled = api.ready().await;
        init.push(polled - started);
        let sent = Instant::now();
        api.invoke(event(run, 0)).await?;
        first.push(sent.elapsed());
        first_answered.push(started.elapsed());
        let mut latencies = Vec::with_capacity(WARM);
        for n in 1..=WARM {
            let sent = Instant::now();
            api.invoke(event(run, n)).await?;
            latencies.push(sent.elapsed());
        }
        warm.push(median(&mut latencies));
        let _ = function.start_kill();
        let _ = function.wait().await;
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let (init, first_answered) = (median(&mut init), median(&mut first_answered));
    let (first, warm) = (median(&mut first), median(&mut warm));
    println!(
        "cold start of {} ({runs} runs, medians)",
        args.function.display()
    );
    println!(
        "  process start -> first Runtime API poll (init): {:8.2} ms",
        ms(init)
    );
    println!(
        "  process start -> first invocation answered:     {:8.2} ms",
        ms(first_answered)
    );
    println!(
        "  first invocation:                                {:8.2} ms",
        ms(first)
    );
    println!(
        "  warm invocation (median of {WARM} per run):         {:8.2} ms",
        ms(warm)
    );
    println!(
        "  first / warm:                                    {:8.2}",
        ms(first) / ms(warm).max(f64::EPSILON)
    );
    Ok(())
}

fn median(values: &mut [Duration]) -> Duration {
    values.sort();
    values.get(values.len() / 2).copied().unwrap_or_default()
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The `errorMessage` of a Lambda error document, or the document itself.
fn error_message(document: &str) -> String {
    serde_json::from_str::<serde_json::Value>(document)
        .ok()
        .and_then(|doc| doc["errorMessage"].as_str().map(str::to_owned))
        .unwrap_or_else(|| document.to_owned())
}

type Item = HashMap<String, AttributeValue>;

async fn scan(table: &str) -> Result<Vec<Item>, String> {
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "Scan {table}: {}",
                    aws_sdk_dynamodb::error::DisplayErrorContext(e)
                )
            })?;
        items.extend(page.items.unwrap_or_default());
        start = page.last_evaluated_key;
        if start.is_none() {
            break;
        }
    }
    items.sort_by_key(|item| text(item, "contactId"));
    Ok(items)
}

fn text(item: &Item, name: &str) -> String {
    match item.get(name) {
        Some(AttributeValue::S(s)) => s.clone(),
        Some(AttributeValue::N(n)) => n.clone(),
        _ => "-".into(),
    }
}

/// `0: EXPIRED → JOINED` (criteria index, then each step's status).
fn routing(item: &Item) -> String {
    let Some(AttributeValue::L(steps)) = item.get("routingSteps") else {
        return "-".into();
    };
    let statuses: Vec<String> = steps
        .iter()
        .filter_map(|step| step.as_m().ok())
        .map(|step| text(step, "status"))
        .collect();
    format!(
        "{}: {}",
        text(item, "routingCriteriaIndex"),
        statuses.join(" → ")
    )
}

/// The last path segment of an ARN, which is what a person recognises.
fn short(arn: String) -> String {
    arn.rsplit('/').next().unwrap_or("-").to_owned()
}

fn print_items(items: &[Item]) {
    let rows: Vec<[String; 7]> = items
        .iter()
        .map(|item| {
            [
                text(item, "contactId"),
                text(item, "state"),
                text(item, "channel"),
                routing(item),
                short(text(item, "queueArn")),
                short(text(item, "agentArn")),
                text(item, "disconnectTimestamp"),
            ]
        })
        .collect();
    let header = [
        "contactId",
        "state",
        "channel",
        "routing",
        "queue",
        "agent",
        "disconnected",
    ]
    .map(String::from);
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .chain([&header])
                .map(|row| row[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in [&header].into_iter().chain(&rows) {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        println!("{}", line.join("  ").trim_end());
    }
}
