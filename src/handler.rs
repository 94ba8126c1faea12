//! One invocation: read the event, plan, write conditionally until the item reflects it, and log
//! one line saying what happened.

use std::io::Write as _;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::value::RawValue;
use tracing::{debug, info, warn};

use contact_state_core::event::{self, ContactEvent, EventType, Refusal};
use contact_state_core::plan::{MAX_WRITES, Plan, Stored};
use contact_state_core::store::{ContactStore, StoreError, WriteOutcome};

use crate::metrics::{Metrics, Sample};

/// What an accepted event did to its item (the `outcome` of the log line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The event moved the item's state, routing or latest-event time.
    Applied {
        state_before: Option<String>,
        state: Option<String>,
    },
    /// Nothing newer than the item: a duplicate or a late event. Missing facts were filled in.
    Stale,
    /// An event type this version does not know: nothing written.
    Ignored,
}

impl Outcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Applied { .. } => "applied",
            Outcome::Stale => "stale",
            Outcome::Ignored => "ignored",
        }
    }
}

/// What the handler did for one event, for logs and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub outcome: Outcome,
    /// DynamoDB requests made for this event.
    pub requests: usize,
    /// Facts this event filled in.
    pub facts_filled: usize,
    pub tally: Tally,
}

/// What the conversation with the table took, kept on failure too.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Conditional writes sent (each may have been retried by the SDK).
    pub requests: usize,
    /// Writes rejected because the item had moved on.
    pub rejections: usize,
    /// SDK retries across the writes.
    pub retries: u32,
    /// Time spent waiting for DynamoDB.
    pub dynamodb_time: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The input breaks the contract: retrying cannot help.
    #[error("refused: {0}")]
    Refused(#[from] Refusal),
    /// The table did not take the write: retrying may help, and Lambda will retry.
    #[error("failed: {0}")]
    Store(#[from] StoreError),
    /// Other writers kept changing the item between our conditional writes.
    #[error("failed: the item kept changing during {MAX_WRITES} conditional writes")]
    Contended,
    /// The table did not answer in the time the invocation had left. The write may or may not
    /// have been applied; applying the event again is harmless.
    #[error("failed: no answer from the table within the {} ms the invocation had left", .0.as_millis())]
    OutOfTime(Duration),
}

impl HandlerError {
    pub fn is_retryable(&self) -> bool {
        !matches!(self, HandlerError::Refused(_))
    }
}

impl From<HandlerError> for Diagnostic {
    fn from(error: HandlerError) -> Diagnostic {
        let error_type = match error {
            HandlerError::Refused(_) => "Refused",
            HandlerError::Store(_) => "StoreFailed",
            HandlerError::Contended => "Contended",
            HandlerError::OutOfTime(_) => "OutOfTime",
        };
        Diagnostic {
            error_type: error_type.into(),
            error_message: error.to_string(),
        }
    }
}

/// Kept back from the invocation's deadline, so that a slow table ends in a reported error (and
/// Lambda's retry) rather than in Lambda stopping the process mid-write.
pub const DEADLINE_RESERVE: Duration = Duration::from_millis(500);

pub struct Handler<S> {
    store: S,
    retention_days: u32,
    metrics: Option<Metrics>,
}

impl<S: ContactStore> Handler<S> {
    pub fn new(store: S, retention_days: u32) -> Self {
        Handler {
            store,
            retention_days,
            metrics: None,
        }
    }

    /// Also prints one EMF metrics line per event.
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// The Lambda entry point: handles the event within the time the invocation has left.
    pub async fn invoke(&self, event: LambdaEvent<Box<RawValue>>) -> Result<(), HandlerError> {
        let left = event
            .context
            .deadline()
            .duration_since(SystemTime::now())
            .unwrap_or_default();
        let budget = left.saturating_sub(DEADLINE_RESERVE);
        self.handle_within(event.payload.get().as_bytes(), budget)
            .await
            .map(drop)
    }

    /// Handles one event payload, with no time limit, and logs its outcome.
    pub async fn handle(&self, payload: &[u8]) -> Result<Report, HandlerError> {
        self.process(payload, None).await
    }

    /// Handles one event payload, giving up with [`HandlerError::OutOfTime`] after `budget`.
    pub async fn handle_within(
        &self,
        payload: &[u8],
        budget: Duration,
    ) -> Result<Report, HandlerError> {
        self.process(payload, Some(budget)).await
    }

    async fn process(
        &self,
        payload: &[u8],
        budget: Option<Duration>,
    ) -> Result<Report, HandlerError> {
        debug!(event = %String::from_utf8_lossy(payload), "received");
        let event = match event::parse(payload) {
            Ok(event) => event,
            Err(refusal) => {
                warn!(outcome = "refused", reason = %refusal, "contact event");
                self.measure("refused", "UNREADABLE", &Tally::default());
                return Err(refusal.into());
            }
        };
        let mut tally = Tally::default();
        let result = match budget {
            None => self.apply(&event, &mut tally).await,
            Some(budget) => tokio::time::timeout(budget, self.apply(&event, &mut tally))
                .await
                .unwrap_or(Err(HandlerError::OutOfTime(budget))),
        };
        let contact_id = event.contact_id.as_str();
        let event_type = event.event_type.as_str();
        let event_id = event.id.as_deref().unwrap_or_default();
        let dynamodb_ms = tally.dynamodb_time.as_secs_f64() * 1000.0;
        let outcome = match &result {
            Ok(report) => {
                let (state_before, state) = match &report.outcome {
                    Outcome::Applied {
                        state_before,
                        state,
                    } => (state_before.as_deref(), state.as_deref()),
                    _ => (None, None),
                };
                info!(
                    contactId = contact_id,
                    eventType = event_type,
                    eventId = event_id,
                    outcome = report.outcome.as_str(),
                    state,
                    stateBefore = state_before,
                    requests = tally.requests,
                    rejections = tally.rejections,
                    retries = tally.retries,
                    dynamodbMs = dynamodb_ms,
                    factsFilled = report.facts_filled,
                    "contact event"
                );
                report.outcome.as_str()
            }
            Err(error) => {
                warn!(
                    contactId = contact_id,
                    eventType = event_type,
                    eventId = event_id,
                    outcome = "failed",
                    reason = %error,
                    requests = tally.requests,
                    rejections = tally.rejections,
                    retries = tally.retries,
                    dynamodbMs = dynamodb_ms,
                    "contact event"
                );
                "failed"
            }
        };
        let metric_type = match event.event_type {
            EventType::Unknown(_) => "OTHER",
            ref known => known.as_str(),
        };
        self.measure(outcome, metric_type, &tally);
        result.map(|report| Report { tally, ..report })
    }

    /// Prints the event's EMF line, if metrics are on. One `write` per line, so lines from
    /// the log subscriber and from here never interleave.
    fn measure(&self, outcome: &'static str, event_type: &str, tally: &Tally) {
        let Some(metrics) = &self.metrics else {
            return;
        };
        let sample = Sample {
            outcome,
            event_type,
            requests: tally.requests,
            rejections: tally.rejections,
            retries: tally.retries,
            dynamodb_ms: tally.dynamodb_time.as_secs_f64() * 1000.0,
        };
        let mut line = metrics.line(&sample, now_ms());
        line.push('\n');
        // Metrics are best effort: a closed stdout must not fail the event.
        let _ = std::io::stdout().lock().write_all(line.as_bytes());
    }

    async fn apply(&self, event: &ContactEvent, tally: &mut Tally) -> Result<Report, HandlerError> {
        let report = |outcome, requests, facts_filled| Report {
            outcome,
            requests,
            facts_filled,
            tally: Tally::default(),
        };
        let Some(plan) = Plan::from_event(event, now(), self.retention_days) else {
            return Ok(report(Outcome::Ignored, 0, 0));
        };
        // Optimistic: assume the item holds nothing newer; a rejection tells us what it holds.
        let mut stored = Stored::default();
        for requests in 1..=MAX_WRITES {
            let Some(write) = plan.write_against(&stored) else {
                return Ok(report(Outcome::Stale, requests - 1, 0));
            };
            let started = Instant::now();
            tally.requests = requests;
            let answer = self.store.write(&write).await;
            tally.dynamodb_time += started.elapsed();
            let answer = answer?;
            tally.retries += answer.retries;
            match answer.outcome {
                WriteOutcome::Written { before } => {
                    let facts_filled = write
                        .facts
                        .iter()
                        .filter(|(name, _)| !before.facts.contains(name))
                        .count();
                    let outcome = if write.advances() {
                        Outcome::Applied {
                            state: write
                                .state
                                .map(|change| change.state.to_owned())
                                .or_else(|| before.state.clone()),
                            state_before: before.state,
                        }
                    } else {
                        Outcome::Stale
                    };
                    return Ok(report(outcome, requests, facts_filled));
                }
                WriteOutcome::Rejected { current } => {
                    tally.rejections += 1;
                    stored = current;
                }
            }
        }
        Err(HandlerError::Contended)
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as u64)
}
