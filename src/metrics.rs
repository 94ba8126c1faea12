//! Metrics when the log level hides the per-event line.
//!
//! At the default level, metrics cost no bytes of their own: the template's CloudWatch metric
//! filters read the per-event line (`outcome`, `eventType`, `dynamodbMs`, `lagMs`,
//! `rejections`, `retries`). A line Lambda's log-level filter drops (INFO lines at
//! `ApplicationLogLevel` WARN, say) cannot be read by a filter, so those events are counted here
//! instead and printed as Embedded Metric Format lines — the same metric names and dimensions —
//! at most once a minute (latencies and lags every 100 events, EMF's limit), carrying the
//! configured level so the filter keeps them.
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>

use std::io::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use serde_json::{Value, json};

use contact_state_core::event::EventType;
use contact_state_core::outcome::{Outcome, Report};

use crate::log_line::{level_of, milliseconds};
use crate::logging::{LogLevel, timestamp};

/// Longest a count waits to be printed.
pub const FLUSH_INTERVAL: Duration = Duration::from_secs(60);
/// Most values one EMF metric may carry.
const MAX_VALUES: usize = 100;

/// Counts of the events whose line the log level drops.
pub struct DroppedLineMetrics {
    namespace: String,
    level: LogLevel,
    interval: Duration,
    counts: Mutex<Counts>,
}

struct Counts {
    since: Instant,
    by_outcome: [u64; Outcome::NAMES.len()],
    by_event_type: [u64; EventType::KNOWN.len()],
    latencies: Vec<f64>,
    lags: Vec<u64>,
    rejections: u64,
    retries: u64,
}

impl Counts {
    fn new() -> Counts {
        Counts {
            since: Instant::now(),
            by_outcome: [0; Outcome::NAMES.len()],
            by_event_type: [0; EventType::KNOWN.len()],
            latencies: Vec::new(),
            lags: Vec::new(),
            rejections: 0,
            retries: 0,
        }
    }
}

impl DroppedLineMetrics {
    /// `None` when every per-event line is kept (the metric filters see them all).
    pub fn new(namespace: &str, level: LogLevel) -> Option<DroppedLineMetrics> {
        DroppedLineMetrics::every(namespace, level, FLUSH_INTERVAL)
    }

    /// As [`DroppedLineMetrics::new`], printing at most every `interval`.
    pub fn every(
        namespace: &str,
        level: LogLevel,
        interval: Duration,
    ) -> Option<DroppedLineMetrics> {
        let drops_lines = !level.keeps(LogLevel::Info);
        (drops_lines && !namespace.is_empty()).then(|| DroppedLineMetrics {
            namespace: namespace.to_owned(),
            level,
            interval,
            counts: Mutex::new(Counts::new()),
        })
    }

    /// Counts one event if its line is dropped (with its `lag_ms`, as its line would say), and
    /// prints the counts when they are due.
    pub fn observe(&self, event_type: Option<&str>, report: &Report, lag_ms: Option<u64>) {
        if self.level.keeps(level_of(&report.outcome)) {
            return;
        }
        let Ok(mut counts) = self.counts.lock() else {
            return;
        };
        if let Some(slot) = position(&Outcome::NAMES, report.outcome.name())
            .and_then(|i| counts.by_outcome.get_mut(i))
        {
            *slot += 1;
        }
        if let Some(slot) = event_type
            .and_then(|event_type| position(&EventType::KNOWN, event_type))
            .and_then(|i| counts.by_event_type.get_mut(i))
        {
            *slot += 1;
        }
        let tally = &report.tally;
        if tally.requests > 0 {
            counts.latencies.push(milliseconds(tally.store_time));
        }
        if let Some(lag) = lag_ms {
            counts.lags.push(lag);
        }
        counts.rejections += tally.rejections as u64;
        counts.retries += u64::from(tally.retries);
        if counts.since.elapsed() >= self.interval {
            let full = std::mem::replace(&mut *counts, Counts::new());
            drop(counts);
            self.print(&full);
        } else if counts.latencies.len() >= MAX_VALUES || counts.lags.len() >= MAX_VALUES {
            // EMF takes at most 100 values per metric: those go now, the counts wait.
            let values = Counts {
                latencies: std::mem::take(&mut counts.latencies),
                lags: std::mem::take(&mut counts.lags),
                ..Counts::new()
            };
            drop(counts);
            self.print(&values);
        }
    }

    /// Prints what is counted now (at shutdown, or in tests).
    pub fn flush(&self) {
        let Ok(mut counts) = self.counts.lock() else {
            return;
        };
        let full = std::mem::replace(&mut *counts, Counts::new());
        drop(counts);
        self.print(&full);
    }

    fn print(&self, counts: &Counts) {
        let now = SystemTime::now();
        let by_outcome = Outcome::NAMES.iter().zip(counts.by_outcome);
        let by_event_type = EventType::KNOWN.iter().zip(counts.by_event_type);
        let mut lines: Vec<Value> = by_outcome
            .map(|(name, count)| ("Outcome", name, count))
            .chain(by_event_type.map(|(name, count)| ("EventType", name, count)))
            .filter(|(_, _, count)| *count > 0)
            .map(|(dimension, name, count)| {
                self.document(now, dimension, name, &[("Events", "Count", json!(count))])
            })
            .collect();
        let mut totals = Vec::new();
        if !counts.latencies.is_empty() {
            totals.push(("DynamoDbLatency", "Milliseconds", json!(counts.latencies)));
        }
        if !counts.lags.is_empty() {
            totals.push(("Lag", "Milliseconds", json!(counts.lags)));
        }
        if counts.rejections > 0 {
            totals.push(("ConditionalRejections", "Count", json!(counts.rejections)));
        }
        if counts.retries > 0 {
            totals.push(("Retries", "Count", json!(counts.retries)));
        }
        if !totals.is_empty() {
            lines.push(self.document(now, "", "", &totals));
        }
        emit(&lines);
    }

    /// One EMF document: `metrics` split by `dimension` = `value` (none when `dimension` is empty).
    fn document(
        &self,
        now: SystemTime,
        dimension: &str,
        value: &str,
        metrics: &[(&str, &str, Value)],
    ) -> Value {
        let millis = contact_state_core::clock::epoch_millis(now);
        let timestamp = timestamp(now);
        let dimensions: Vec<&str> = if dimension.is_empty() {
            vec![]
        } else {
            vec![dimension]
        };
        let mut document = json!({
            "timestamp": timestamp,
            "level": self.level.as_str(),
            "_aws": {
                "Timestamp": millis,
                "CloudWatchMetrics": [{
                    "Namespace": self.namespace,
                    "Dimensions": [dimensions],
                    "Metrics": metrics.iter()
                        .map(|(name, unit, _)| json!({"Name": name, "Unit": unit}))
                        .collect::<Vec<_>>(),
                }],
            },
        });
        if let Some(object) = document.as_object_mut() {
            if !dimension.is_empty() {
                object.insert(dimension.to_owned(), json!(value));
            }
            for (name, _, metric) in metrics {
                object.insert((*name).to_owned(), metric.clone());
            }
        }
        document
    }
}

/// Prints EMF documents, one line each. Metrics are best effort: a closed stdout must not fail
/// the event. One write per line, so lines never interleave with the log subscriber's.
fn emit(documents: &[Value]) {
    let mut out = std::io::stdout().lock();
    for document in documents {
        let _ = out.write_all(format!("{document}\n").as_bytes());
    }
}

fn position(names: &[&str], name: &str) -> Option<usize> {
    names.iter().position(|known| *known == name)
}
