//! What one event leaves in the logs: one flat JSON line, derived from its report alone. The
//! docs/operations.md's log contract lists these fields; the template's metric filters and saved queries read
//! them (both are tested against this binary's real output).

use lambda_runtime::tracing::{self, Level};

use contact_state_core::event::ContactEvent;
use contact_state_core::outcome::{Outcome, Report};

use crate::logging::LogLevel;

/// Refusals and failures are WARN (they fail the invocation); everything else is INFO.
pub fn level_of(outcome: &Outcome) -> LogLevel {
    if outcome.is_error() {
        LogLevel::Warn
    } else {
        LogLevel::Info
    }
}

/// Milliseconds at the metric's resolution (0.1 ms): a short line, and no false precision.
pub fn milliseconds(duration: std::time::Duration) -> f64 {
    (duration.as_secs_f64() * 10_000.0).round() / 10.0
}

/// Freshness: how long after its event time a taken event (not a refused or failed one) was
/// handled; see [`lag_ms`].
pub fn lag_of(
    event: Option<&ContactEvent>,
    outcome: &Outcome,
    handled_at: std::time::SystemTime,
) -> Option<u64> {
    event
        .filter(|_| !outcome.is_error())
        .and_then(|event| lag_ms(event.time, handled_at))
}

/// How long after its event time an event was handled, in whole milliseconds: `handled_at`
/// minus the envelope's `time`. That time has one-second resolution (truncated), so the figure
/// reads up to 999 ms high, never low; a clock behind the envelope's gives 0, not a negative lag.
pub fn lag_ms(event_time: Option<i64>, handled_at: std::time::SystemTime) -> Option<u64> {
    let event_ms = u64::try_from(event_time?).ok()?.checked_mul(1_000)?;
    Some(contact_state_core::clock::epoch_millis(handled_at).saturating_sub(event_ms))
}

/// The event's envelope time as written in the event (`2024-05-06T10:00:30Z`).
fn iso(seconds: i64) -> Option<String> {
    chrono::DateTime::from_timestamp(seconds, 0)
        .map(|time| time.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// The line's fields in the contract's order; absent values are left out of the line.
macro_rules! contact_event_line {
    ($level:expr, $line:expr) => {
        tracing::event!(
            $level,
            requestId = $line.request_id,
            contactId = $line.contact_id,
            eventType = $line.event_type,
            eventId = $line.event_id,
            eventTime = $line.event_time.as_deref(),
            lagMs = $line.lag_ms,
            outcome = $line.outcome,
            state = $line.state,
            stateBefore = $line.state_before,
            requests = $line.requests,
            rejections = $line.rejections,
            retries = $line.retries,
            writeUnits = $line.write_units,
            dynamodbMs = $line.dynamodb_ms,
            damaged = $line.damaged.as_deref(),
            reason = $line.reason.as_deref(),
        )
    };
}

struct Line<'a> {
    request_id: Option<&'a str>,
    contact_id: Option<&'a str>,
    event_type: Option<&'a str>,
    event_id: Option<&'a str>,
    event_time: Option<String>,
    lag_ms: Option<u64>,
    outcome: &'static str,
    state: Option<&'a str>,
    state_before: Option<&'a str>,
    requests: Option<usize>,
    rejections: Option<usize>,
    retries: Option<u32>,
    write_units: Option<u32>,
    dynamodb_ms: Option<f64>,
    damaged: Option<String>,
    reason: Option<String>,
}

/// Logs the event's line: `request_id` of the invocation (empty outside Lambda), the event as
/// read (`Err` with the envelope's id, where readable, when it was refused), its report, and
/// its lag ([`lag_of`]).
pub fn log(
    request_id: &str,
    event: Result<&ContactEvent, Option<&str>>,
    report: &Report,
    lag_ms: Option<u64>,
) {
    let (event, refused_id) = match event {
        Ok(event) => (Some(event), None),
        Err(id) => (None, id),
    };
    let tally = &report.tally;
    let outcome = &report.outcome;
    let line = Line {
        request_id: (!request_id.is_empty()).then_some(request_id),
        contact_id: event.map(|event| event.contact_id.as_str()),
        event_type: event.map(|event| event.event_type.as_str()),
        event_id: event.and_then(|event| event.id.as_deref()).or(refused_id),
        event_time: event.and_then(|event| event.time).and_then(iso),
        lag_ms,
        outcome: outcome.name(),
        state: outcome.state(),
        state_before: outcome.state_before(),
        // Left out when they say nothing: 1 request (0 when no dynamodbMs), no rejection, no retry.
        requests: (tally.requests > 1).then_some(tally.requests),
        rejections: (tally.rejections > 0).then_some(tally.rejections),
        retries: (tally.retries > 0).then_some(tally.retries),
        // Left out when each request cost one unit, as it should (items under 1 KB).
        write_units: (tally.write_units as usize != tally.requests).then_some(tally.write_units),
        dynamodb_ms: (tally.requests > 0).then(|| milliseconds(tally.store_time)),
        damaged: event
            .filter(|event| !event.damaged.is_empty())
            .map(|event| event.damaged.join(",")),
        reason: match outcome {
            Outcome::Refused(refusal) => Some(refusal.to_string()),
            Outcome::Failed(failure) => Some(failure.to_string()),
            _ => None,
        },
    };
    match level_of(outcome) {
        LogLevel::Warn => contact_event_line!(Level::WARN, line),
        _ => contact_event_line!(Level::INFO, line),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn milliseconds_are_rounded_to_a_tenth() {
        assert_eq!(milliseconds(Duration::from_micros(3_949)), 3.9);
        assert_eq!(milliseconds(Duration::from_micros(3_951)), 4.0);
    }

    #[test]
    fn the_lag_is_the_handling_time_less_the_envelope_time_never_negative() {
        let at = |ms: u64| std::time::UNIX_EPOCH + Duration::from_millis(ms);
        assert_eq!(
            lag_ms(Some(1_714_989_630), at(1_714_989_631_250)),
            Some(1_250)
        );
        // A clock a little behind the envelope's: no negative lag.
        assert_eq!(lag_ms(Some(1_714_989_630), at(1_714_989_629_900)), Some(0));
        assert_eq!(lag_ms(None, at(1_714_989_631_250)), None);
        assert_eq!(lag_ms(Some(-1), at(1_000)), None);
    }

    #[test]
    fn event_time_is_written_as_the_event_writes_it() {
        assert_eq!(iso(1_714_989_630).as_deref(), Some("2024-05-06T10:00:30Z"));
    }
}
