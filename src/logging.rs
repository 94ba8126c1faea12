//! The subscriber behind every log line: lambda_runtime's tracing re-exports, set up for what
//! CloudWatch bills and Lambda's log-level filter reads. Each line is one flat JSON object with
//! `timestamp` (RFC 3339, milliseconds) and `level` first, so Lambda filters it by its own level
//! (a line without a valid timestamp would be taken as INFO and dropped at WARN); no span is
//! printed (the runtime's span would repeat the request and trace ids on every line), and the
//! runtime's own ERROR line for an error we already logged is left out.
//! <https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html>

use std::fmt;
use std::time::SystemTime;

use lambda_runtime::tracing::subscriber::filter::{LevelFilter, filter_fn};
use lambda_runtime::tracing::subscriber::fmt::format::Writer;
use lambda_runtime::tracing::subscriber::fmt::time::FormatTime;
use lambda_runtime::tracing::subscriber::prelude::*;
use lambda_runtime::tracing::subscriber::{fmt as format, registry};
use lambda_runtime::tracing::{Level, Metadata};

/// Lambda's application log levels (`AWS_LAMBDA_LOG_LEVEL`), least severe first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Trace,
    Debug,
    #[default]
    Info,
    Warn,
    Error,
    Fatal,
}

impl LogLevel {
    /// `AWS_LAMBDA_LOG_LEVEL` (set by Lambda from `ApplicationLogLevel`), else `RUST_LOG`, else
    /// INFO; an unknown word is INFO, as in lambda_runtime.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> LogLevel {
        let word = var("AWS_LAMBDA_LOG_LEVEL").or_else(|| var("RUST_LOG"));
        match word
            .as_deref()
            .map(str::trim)
            .map(str::to_ascii_uppercase)
            .as_deref()
        {
            Some("TRACE") => LogLevel::Trace,
            Some("DEBUG") => LogLevel::Debug,
            Some("WARN") => LogLevel::Warn,
            Some("ERROR") => LogLevel::Error,
            Some("FATAL") => LogLevel::Fatal,
            _ => LogLevel::Info,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Trace => "TRACE",
            LogLevel::Debug => "DEBUG",
            LogLevel::Info => "INFO",
            LogLevel::Warn => "WARN",
            LogLevel::Error => "ERROR",
            LogLevel::Fatal => "FATAL",
        }
    }

    /// Whether Lambda keeps a line of `level` at this setting.
    pub fn keeps(self, level: LogLevel) -> bool {
        level >= self
    }

    /// tracing has no FATAL: at FATAL we print from ERROR up, and Lambda keeps what it keeps.
    fn filter(self) -> LevelFilter {
        match self {
            LogLevel::Trace => LevelFilter::TRACE,
            LogLevel::Debug => LevelFilter::DEBUG,
            LogLevel::Info => LevelFilter::INFO,
            LogLevel::Warn => LevelFilter::WARN,
            LogLevel::Error | LogLevel::Fatal => LevelFilter::ERROR,
        }
    }
}

/// Starts logging as Lambda's settings say: what each binary's `main` does first, before reading
/// its own settings, so that a wrong setting is itself logged. Returns the level.
pub fn init_from_env() -> LogLevel {
    let var = |name: &str| std::env::var(name).ok();
    let level = LogLevel::from_vars(var);
    init(level, json_from_vars(var));
    level
}

/// `AWS_LAMBDA_LOG_FORMAT` is JSON (set by Lambda from `LogFormat`, as the template sets it).
pub fn json_from_vars(var: impl Fn(&str) -> Option<String>) -> bool {
    var("AWS_LAMBDA_LOG_FORMAT").is_some_and(|format| format.eq_ignore_ascii_case("json"))
}

/// Installs the subscriber: JSON lines when `json`, lambda_runtime's plain text otherwise.
pub fn init(level: LogLevel, json: bool) {
    let max = level.filter();
    let keep = filter_fn(move |metadata| max >= *metadata.level() && !runtime_repeat(metadata));
    if json {
        let layer = format::layer()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_target(false)
            .with_timer(Milliseconds);
        registry().with(layer.with_filter(keep)).init();
    } else {
        let layer = format::layer().with_target(false).without_time();
        registry().with(layer.with_filter(keep)).init();
    }
}

/// lambda_runtime logs every error a handler returns (`error!("{error:?}")`, a message and no
/// other field). Ours are logged already, on the event's own line; its panic reports (which have
/// an `error` field) stay.
fn runtime_repeat(metadata: &Metadata<'_>) -> bool {
    metadata.target() == "lambda_runtime::layers::panic"
        && *metadata.level() == Level::ERROR
        && metadata.fields().field("error").is_none()
}

/// `2024-05-06T10:00:00.123Z`: what Lambda's filter reads, at the resolution CloudWatch keeps.
/// Every line's `timestamp`, the subscriber's and the metrics lines'.
pub fn timestamp(at: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(at)
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

struct Milliseconds;

impl FormatTime for Milliseconds {
    fn format_time(&self, w: &mut Writer<'_>) -> fmt::Result {
        w.write_str(&timestamp(SystemTime::now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(value: Option<&str>) -> LogLevel {
        LogLevel::from_vars(|name| {
            (name == "AWS_LAMBDA_LOG_LEVEL")
                .then(|| value.map(str::to_owned))
                .flatten()
        })
    }

    #[test]
    fn lambda_log_levels_are_read_and_unknown_ones_are_info() {
        assert_eq!(level(Some("WARN")), LogLevel::Warn);
        assert_eq!(level(Some("fatal")), LogLevel::Fatal);
        assert_eq!(level(Some("LOUD")), LogLevel::Info);
        assert_eq!(level(None), LogLevel::Info);
    }

    #[test]
    fn lines_are_json_when_lambda_says_so() {
        let format = |value: &'static str| {
            json_from_vars(move |name| (name == "AWS_LAMBDA_LOG_FORMAT").then(|| value.into()))
        };
        assert!(format("JSON"));
        assert!(format("json"));
        assert!(!format("Text"));
        assert!(!json_from_vars(|_| None));
    }

    #[test]
    fn a_setting_keeps_its_level_and_the_more_severe_ones() {
        assert!(LogLevel::Warn.keeps(LogLevel::Warn));
        assert!(LogLevel::Warn.keeps(LogLevel::Fatal));
        assert!(!LogLevel::Warn.keeps(LogLevel::Info));
        assert!(LogLevel::Info.keeps(LogLevel::Info));
    }
}
