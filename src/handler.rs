//! One invocation: read the event, apply it within the invocation's deadline, record the outcome.
//! The outcome is decided in `contact-state-core` (`apply`); the log line, the metrics and the
//! answer to Lambda are all derived from that one value.

use std::time::{Duration, SystemTime};

use lambda_runtime::tracing::debug;
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::value::RawValue;

use contact_state_core::apply::{Target, apply};
use contact_state_core::outcome::{Failure, Outcome, Report, Tally};
use contact_state_core::recent::RecentItems;
use contact_state_core::store::ContactStore;
use contact_state_core::{clock, event};

use crate::budget::Budget;
use crate::log_line;
use crate::metrics::DroppedLineMetrics;

/// A refused or failed event: the invocation fails, so that Lambda retries it and then hands it,
/// with this error, to the on-failure destination.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.outcome)]
pub struct InvocationError(pub Report);

impl InvocationError {
    /// A refusal will be refused again; a failure may succeed on Lambda's retry.
    pub fn is_retryable(&self) -> bool {
        !matches!(self.0.outcome, Outcome::Refused(_))
    }
}

impl From<InvocationError> for Diagnostic {
    fn from(InvocationError(report): InvocationError) -> Diagnostic {
        Diagnostic {
            error_type: report.outcome.error_type().unwrap_or("Failed").into(),
            error_message: report.outcome.to_string(),
        }
    }
}

/// The event function's budget: 500 ms kept back from the deadline, so that a slow table ends in
/// a reported error (and Lambda's retry) rather than in Lambda stopping the process mid-write;
/// the template's 10 s timeout when no deadline is known, so that a table that does not answer
/// still ends in `OutOfTime` instead of holding the event forever.
pub const BUDGET: Budget = Budget {
    reserve: Duration::from_millis(500),
    timeout: Duration::from_secs(10),
};

pub struct Handler<S> {
    store: S,
    retention_days: u32,
    /// What the table last said about recently seen contacts, in this environment.
    recent: RecentItems,
    /// Keep the live views' attributes.
    views: bool,
    summary: Option<DroppedLineMetrics>,
}

impl<S: ContactStore> Handler<S> {
    pub fn new(store: S, retention_days: u32) -> Self {
        Handler {
            store,
            retention_days,
            recent: RecentItems::default(),
            views: true,
            summary: None,
        }
    }

    /// Keeps (`true`, the default) or leaves alone the live views' attributes.
    pub fn with_views(mut self, views: bool) -> Self {
        self.views = views;
        self
    }

    /// Counts the events whose log line the log level drops into `summary`'s metrics lines.
    pub fn with_summary(mut self, summary: Option<DroppedLineMetrics>) -> Self {
        self.summary = summary;
        self
    }

    /// Prints the metrics counted so far (at shutdown).
    pub fn flush_metrics(&self) {
        if let Some(summary) = &self.summary {
            summary.flush();
        }
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// The Lambda entry point: handles the event within the time the invocation has left.
    pub async fn invoke(&self, event: LambdaEvent<Box<RawValue>>) -> Result<(), InvocationError> {
        let budget = BUDGET.left(event.context.deadline(), SystemTime::now());
        let report = self
            .process(
                event.payload.get().as_bytes(),
                Some(budget),
                &event.context.request_id,
            )
            .await;
        into_result(report).map(drop)
    }

    /// Handles one event payload, with no time limit, and logs its outcome.
    pub async fn handle(&self, payload: &[u8]) -> Result<Report, InvocationError> {
        into_result(self.process(payload, None, "").await)
    }

    /// Handles one event payload, failing with `OutOfTime` after `budget`.
    pub async fn handle_within(
        &self,
        payload: &[u8],
        budget: Duration,
    ) -> Result<Report, InvocationError> {
        into_result(self.process(payload, Some(budget), "").await)
    }

    /// Read → apply within the deadline → record.
    async fn process(&self, payload: &[u8], budget: Option<Duration>, request_id: &str) -> Report {
        debug!(event = %String::from_utf8_lossy(payload), "received");
        let event = event::parse(payload);
        let mut tally = Tally::default();
        let outcome = match &event {
            Err(refusal) => Outcome::Refused(refusal.clone()),
            Ok(event) => {
                let target = Target {
                    store: &self.store,
                    recent: &self.recent,
                    retention_days: self.retention_days,
                    views: self.views,
                };
                let applying = apply(&target, event, clock::now_seconds(), &mut tally);
                match budget {
                    None => applying.await,
                    Some(budget) => tokio::time::timeout(budget, applying)
                        .await
                        .unwrap_or(Outcome::Failed(Failure::OutOfTime(budget))),
                }
            }
        };
        let report = Report { outcome, tally };
        let refused_id = event
            .is_err()
            .then(|| event::envelope_id(payload))
            .flatten();
        let event = event.as_ref().ok();
        let lag_ms = log_line::lag_of(event, &report.outcome, SystemTime::now());
        log_line::log(
            request_id,
            event.ok_or(refused_id.as_deref()),
            &report,
            lag_ms,
        );
        if let Some(summary) = &self.summary {
            summary.observe(
                event.map(|event| event.event_type.as_str()),
                &report,
                lag_ms,
            );
        }
        report
    }
}

fn into_result(report: Report) -> Result<Report, InvocationError> {
    if report.outcome.is_error() {
        Err(InvocationError(report))
    } else {
        Ok(report)
    }
}
