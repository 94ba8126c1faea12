//! What the stack's own metrics say of the table (docs/operations.md, "Metrics"): how late the
//! latest events were applied (`Lag`: the slowest event of the latest minute with events) and
//! how many lost events the reconciler healed since the supervisor's midnight (`Healed`). The
//! views cannot say either: a healed contact leaves them, and no item keeps its apply time.
//!
//! One `GetMetricData` for both, kept two minutes: CloudWatch bills each metric asked, and the
//! metrics themselves come from the log lines a minute or so behind.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_config::SdkConfig;
use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::error::DisplayErrorContext;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Metric, MetricDataQuery, MetricStat, ScanBy};
use contact_state_core::clock::epoch_seconds;
use lambda_http::tracing;
use serde::Serialize;
use tokio::sync::Mutex;

/// How long one answer stands: the metric filters publish a minute or so behind, and each ask
/// is billed per metric (docs/wallboard.md, "Cost").
const KEEP_FOR: Duration = Duration::from_secs(120);
/// A board waits this long for the metrics at most; then it shows them as unavailable.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(3);
/// How far back the latest lag is looked for: an older one is no longer "latest".
const LAG_LOOKBACK: Duration = Duration::from_secs(15 * 60);
/// A day's count starts at most this long ago (a supervisor's midnight is within 24 h, plus
/// the widest time-zone offset).
pub const SINCE_AT_MOST: Duration = Duration::from_secs(26 * 3_600);

const LAG: &str = "lag";
const HEALED: &str = "healed";

/// What the metrics said, as the board carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    /// `on`: read from CloudWatch; `off`: the stack publishes no metrics (`MetricsNamespace`
    /// empty, or a local run); `unavailable`: CloudWatch did not answer.
    pub metrics: &'static str,
    /// The slowest event of the latest minute with events: applied this long after its time.
    pub lag_max_ms: Option<u64>,
    /// That minute's start (RFC 3339).
    pub lag_minute: Option<String>,
    /// Lost events the reconciler healed since `healedSince`; null when not counted (metrics
    /// off or unavailable, or no reconciler).
    pub healed: Option<u64>,
    pub healed_since: String,
    /// The reconciler's schedule; 0 when the stack has none (nothing heals).
    pub reconcile_every_minutes: u64,
}

/// What to ask CloudWatch for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The stack's metrics namespace; `None`: no metrics.
    pub namespace: Option<String>,
    pub reconcile_every_minutes: u64,
}

struct Cached {
    at: Instant,
    since: SystemTime,
    health: Health,
}

pub struct Metrics {
    cloudwatch: Client,
    source: Source,
    cached: Mutex<Option<Cached>>,
}

impl Metrics {
    pub fn new(sdk: &SdkConfig, source: Source) -> Metrics {
        let sdk = crate::with_operation_timeout(sdk, OPERATION_TIMEOUT);
        Metrics::from_client(Client::new(&sdk), source)
    }

    pub fn from_client(cloudwatch: Client, source: Source) -> Metrics {
        Metrics {
            cloudwatch,
            source,
            cached: Mutex::new(None),
        }
    }

    /// The latest lag, and the events healed since `since` (a whole minute, within
    /// [`SINCE_AT_MOST`] of `now`).
    pub async fn health(&self, since: SystemTime, now: SystemTime) -> Health {
        let mut health = Health {
            metrics: "off",
            lag_max_ms: None,
            lag_minute: None,
            healed: None,
            healed_since: rfc3339(epoch_seconds(since)),
            reconcile_every_minutes: self.source.reconcile_every_minutes,
        };
        let Some(namespace) = &self.source.namespace else {
            return health;
        };
        let mut cached = self.cached.lock().await;
        if let Some(cached) = cached.as_ref()
            && cached.since == since
            && cached.at.elapsed() < KEEP_FOR
        {
            return cached.health.clone();
        }
        match self.read(namespace, since, now).await {
            Ok(read) => {
                health.metrics = "on";
                if let Some((minute, lag)) = read.lag {
                    health.lag_minute = Some(rfc3339(minute));
                    health.lag_max_ms = Some(lag);
                }
                if self.source.reconcile_every_minutes > 0 {
                    health.healed = Some(read.healed);
                }
                *cached = Some(Cached {
                    at: Instant::now(),
                    since,
                    health: health.clone(),
                });
            }
            Err(error) => {
                tracing::warn!(wallboard = "metrics", error, "CloudWatch gave no metrics");
                health.metrics = "unavailable";
            }
        }
        health
    }

    async fn read(
        &self,
        namespace: &str,
        since: SystemTime,
        now: SystemTime,
    ) -> Result<Read, String> {
        // Whole minutes for both: the day's count is exact to the minute, and a minute is the
        // finest the metric filters publish.
        let query = |id: &str, name: &str, stat: &str| {
            MetricDataQuery::builder()
                .id(id)
                .metric_stat(
                    MetricStat::builder()
                        .metric(
                            Metric::builder()
                                .namespace(namespace)
                                .metric_name(name)
                                .build(),
                        )
                        .period(60)
                        .stat(stat)
                        .build(),
                )
                .return_data(true)
                .build()
        };
        let mut request = self
            .cloudwatch
            .get_metric_data()
            .metric_data_queries(query(LAG, "Lag", "Maximum"))
            .start_time(DateTime::from(whole_minute(since.min(now - LAG_LOOKBACK))))
            .end_time(DateTime::from(now))
            .scan_by(ScanBy::TimestampDescending);
        if self.source.reconcile_every_minutes > 0 {
            request = request.metric_data_queries(query(HEALED, "Healed", "Sum"));
        }
        let lag_from = epoch_seconds(now - LAG_LOOKBACK);
        let healed_from = epoch_seconds(since);
        let mut read = Read::default();
        let mut pages = request.into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| DisplayErrorContext(&e).to_string())?;
            for result in page.metric_data_results.unwrap_or_default() {
                let points = result
                    .timestamps
                    .unwrap_or_default()
                    .into_iter()
                    .map(|at| at.secs())
                    .zip(result.values.unwrap_or_default());
                match result.id.as_deref() {
                    Some(LAG) => {
                        for (at, ms) in points.filter(|(at, _)| *at >= lag_from) {
                            if read.lag.is_none_or(|(newest, _)| at > newest) {
                                read.lag = Some((at, ms.max(0.0).round() as u64));
                            }
                        }
                    }
                    Some(HEALED) => {
                        read.healed += points
                            .filter(|(at, _)| *at >= healed_from)
                            .map(|(_, count)| count.max(0.0).round() as u64)
                            .sum::<u64>();
                    }
                    _ => {}
                }
            }
        }
        Ok(read)
    }
}

/// What one GetMetricData said: the newest lag point (its minute, epoch seconds) and the sum
/// of the healed points.
#[derive(Debug, Default)]
struct Read {
    lag: Option<(i64, u64)>,
    healed: u64,
}

/// `at` rounded down to its minute, as CloudWatch rounds a start time itself: the minutes it
/// answers for start on the minute.
pub fn whole_minute(at: SystemTime) -> SystemTime {
    let secs = epoch_seconds(at);
    UNIX_EPOCH + Duration::from_secs(u64::try_from(secs - secs % 60).unwrap_or_default())
}

/// Epoch seconds as RFC 3339, to the second.
fn rfc3339(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudwatch::operation::get_metric_data::{GetMetricDataError, GetMetricDataOutput};
    use aws_sdk_cloudwatch::types::MetricDataResult;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    /// 2026-12-05T10:00:00Z
    const NOW: u64 = 1_796_464_800;
    const MIDNIGHT: u64 = NOW - 10 * 3_600;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn result(id: &str, points: &[(u64, f64)]) -> MetricDataResult {
        MetricDataResult::builder()
            .id(id)
            .set_timestamps(Some(
                points
                    .iter()
                    .map(|(secs, _)| DateTime::from_secs(*secs as i64))
                    .collect(),
            ))
            .set_values(Some(points.iter().map(|(_, value)| *value).collect()))
            .build()
    }

    fn metrics(rules: &[&aws_smithy_mocks::Rule], every_minutes: u64) -> Metrics {
        let client = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, rules);
        Metrics::from_client(
            client,
            Source {
                namespace: Some("ConnectContactState".to_owned()),
                reconcile_every_minutes: every_minutes,
            },
        )
    }

    #[tokio::test]
    async fn the_latest_minutes_slowest_event_and_the_events_healed_since_midnight() {
        let asked = mock!(Client::get_metric_data)
            .match_requests(|r| {
                let queries = r.metric_data_queries();
                let asked: Vec<_> = queries
                    .iter()
                    .filter_map(|q| q.metric_stat())
                    .map(|s| {
                        let metric = s.metric().expect("metric");
                        (
                            metric.namespace(),
                            metric.metric_name(),
                            s.stat(),
                            s.period(),
                        )
                    })
                    .collect();
                asked
                    == [
                        (
                            Some("ConnectContactState"),
                            Some("Lag"),
                            Some("Maximum"),
                            Some(60),
                        ),
                        (
                            Some("ConnectContactState"),
                            Some("Healed"),
                            Some("Sum"),
                            Some(60),
                        ),
                    ]
                    && r.start_time().map(|t| t.secs()) == Some(MIDNIGHT as i64)
                    && r.end_time().map(|t| t.secs()) == Some(NOW as i64)
            })
            .then_output(|| {
                GetMetricDataOutput::builder()
                    .metric_data_results(result(
                        "lag",
                        &[(NOW - 60, 1_250.0), (NOW - 120, 9_000.0)],
                    ))
                    .metric_data_results(result(
                        "healed",
                        &[(NOW - 300, 2.0), (MIDNIGHT + 60, 1.0)],
                    ))
                    .build()
            });
        let metrics = metrics(&[&asked], 5);
        let health = metrics.health(at(MIDNIGHT), at(NOW)).await;
        assert_eq!(health.metrics, "on");
        assert_eq!(
            health.lag_max_ms,
            Some(1_250),
            "the newest minute's, not the largest"
        );
        assert_eq!(health.lag_minute.as_deref(), Some("2026-12-05T09:59:00Z"));
        assert_eq!(health.healed, Some(3));
        assert_eq!(health.healed_since, "2026-12-05T00:00:00Z");
        metrics.health(at(MIDNIGHT), at(NOW)).await;
        assert_eq!(asked.num_calls(), 1, "kept for the next boards");
    }

    #[tokio::test]
    async fn a_lag_older_than_a_quarter_hour_is_not_the_latest() {
        let asked = mock!(Client::get_metric_data).then_output(|| {
            GetMetricDataOutput::builder()
                .metric_data_results(result("lag", &[(NOW - 20 * 60, 800.0)]))
                .build()
        });
        let health = metrics(&[&asked], 5)
            .health(at(NOW - 5 * 60), at(NOW))
            .await;
        assert_eq!((health.lag_max_ms, health.lag_minute), (None, None));
        assert_eq!(health.healed, Some(0));
    }

    #[tokio::test]
    async fn just_after_midnight_the_lag_is_looked_for_from_a_whole_minute_a_quarter_hour_back() {
        let now = MIDNIGHT + 9 * 60 + 29;
        let asked = mock!(Client::get_metric_data)
            .match_requests(move |r| {
                r.start_time().map(|t| t.secs()) == Some((now - 15 * 60 - 29) as i64)
            })
            .then_output(|| GetMetricDataOutput::builder().build());
        let health = metrics(&[&asked], 5).health(at(MIDNIGHT), at(now)).await;
        assert_eq!((health.metrics, health.healed), ("on", Some(0)));
        assert_eq!(asked.num_calls(), 1);
    }

    #[tokio::test]
    async fn without_a_reconciler_nothing_heals_and_healed_is_not_counted() {
        let asked = mock!(Client::get_metric_data)
            .match_requests(|r| r.metric_data_queries().len() == 1)
            .then_output(|| GetMetricDataOutput::builder().build());
        let health = metrics(&[&asked], 0).health(at(MIDNIGHT), at(NOW)).await;
        assert_eq!(health.metrics, "on");
        assert_eq!(health.healed, None);
        assert_eq!(asked.num_calls(), 1);
    }

    #[tokio::test]
    async fn when_cloudwatch_does_not_answer_the_board_says_so_and_asks_again_next_time() {
        let refused = mock!(Client::get_metric_data).then_error(|| {
            GetMetricDataError::generic(
                aws_sdk_cloudwatch::error::ErrorMetadata::builder()
                    .code("AccessDenied")
                    .message("not authorized to perform: cloudwatch:GetMetricData")
                    .build(),
            )
        });
        let metrics = metrics(&[&refused], 5);
        let health = metrics.health(at(MIDNIGHT), at(NOW)).await;
        assert_eq!((health.metrics, health.healed), ("unavailable", None));
        metrics.health(at(MIDNIGHT), at(NOW)).await;
        assert_eq!(refused.num_calls(), 2);
    }

    #[tokio::test]
    async fn without_a_namespace_nothing_is_asked() {
        let never =
            mock!(Client::get_metric_data).then_output(|| GetMetricDataOutput::builder().build());
        let client = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&never]);
        let metrics = Metrics::from_client(
            client,
            Source {
                namespace: None,
                reconcile_every_minutes: 5,
            },
        );
        let health = metrics.health(at(MIDNIGHT), at(NOW)).await;
        assert_eq!((health.metrics, health.healed), ("off", None));
        assert_eq!(never.num_calls(), 0);
    }
}
