//! The reconciler's settings, read once at init from its environment through clap's `env`
//! (the template sets them from its parameters; README, "Reconciling with Connect"). The
//! table's two settings are read by the event function's rules.

use std::time::Duration;

use clap::Parser;
use connect_contact_state::config::{ConfigError, DEFAULT_RETENTION_DAYS, retention_days};
pub use connect_contact_state::config::{FromEnv, SettingError};

/// Connect's default quota for `DescribeContact` is 2 requests a second (burst 5), per account
/// and Region, shared with every other caller of that part of the API: one a second leaves
/// half of it to them. <https://docs.aws.amazon.com/connect/latest/adminguide/amazon-connect-service-limits.html>
pub const DEFAULT_CALLS_PER_SECOND: f64 = 1.0;
/// Contacts described in one run, at most: what fits in the template's 60 s timeout at one call
/// a second (`run::calls_per_run`), so the default is reachable.
pub const DEFAULT_MAX_CONTACTS: usize = 50;
/// Minutes between runs (the template's schedule): how far back each run's search looks.
pub const DEFAULT_EVERY_MINUTES: f64 = 5.0;
/// Listed this long before Connect is asked (README explains the defaults).
pub const DEFAULT_QUEUED_MINUTES: f64 = 60.0;
pub const DEFAULT_WITH_AGENT_MINUTES: f64 = 60.0;

// Each setting is read from its variable (`env`), named by it in errors (`value_name`); the
// `--flags` are for tests. An empty variable is the default, as the template's may be.
#[derive(Debug, Clone, PartialEq, Parser)]
#[command(name = "contact-state-reconciler", no_binary_name = true)]
pub struct Settings {
    /// The table the event function writes.
    #[arg(long, env = "TABLE_NAME", value_name = "TABLE_NAME", value_parser = table_name)]
    pub table_name: String,
    /// Days an item lives after its latest event, as the event function counts them.
    #[arg(long, env = "RETENTION_DAYS", value_name = "RETENTION_DAYS",
        default_value_t = DEFAULT_RETENTION_DAYS, value_parser = days)]
    pub retention_days: u32,
    /// Only contacts of this instance are asked about; any, if unset or empty.
    #[arg(
        long,
        env = "CONNECT_INSTANCE_ARN",
        value_name = "CONNECT_INSTANCE_ARN"
    )]
    instance_arn: Option<String>,
    /// How long an entry of `queued`, and of `withAgent`, is listed before Connect is asked.
    #[arg(long, env = "RECONCILE_QUEUED_MINUTES", value_name = "RECONCILE_QUEUED_MINUTES",
        default_value_t = DEFAULT_QUEUED_MINUTES,
        value_parser = |v: &str| minutes(v, DEFAULT_QUEUED_MINUTES))]
    queued_minutes: f64,
    #[arg(long, env = "RECONCILE_WITH_AGENT_MINUTES", value_name = "RECONCILE_WITH_AGENT_MINUTES",
        default_value_t = DEFAULT_WITH_AGENT_MINUTES,
        value_parser = |v: &str| minutes(v, DEFAULT_WITH_AGENT_MINUTES))]
    with_agent_minutes: f64,
    #[arg(long, env = "RECONCILE_EVERY_MINUTES", value_name = "RECONCILE_EVERY_MINUTES",
        default_value_t = DEFAULT_EVERY_MINUTES,
        value_parser = |v: &str| minutes(v, DEFAULT_EVERY_MINUTES))]
    every_minutes: f64,
    #[arg(long, env = "CONNECT_CALLS_PER_SECOND", value_name = "CONNECT_CALLS_PER_SECOND",
        default_value_t = DEFAULT_CALLS_PER_SECOND, value_parser = calls_per_second)]
    pub calls_per_second: f64,
    #[arg(long, env = "RECONCILE_MAX_CONTACTS", value_name = "RECONCILE_MAX_CONTACTS",
        default_value_t = DEFAULT_MAX_CONTACTS, value_parser = whole_from_one)]
    pub max_contacts: usize,
}

impl Settings {
    pub fn instance_arn(&self) -> Option<&str> {
        self.instance_arn
            .as_deref()
            .filter(|arn| !arn.trim().is_empty())
    }

    pub fn queued_after(&self) -> Duration {
        Duration::from_secs_f64(self.queued_minutes * 60.0)
    }

    pub fn with_agent_after(&self) -> Duration {
        Duration::from_secs_f64(self.with_agent_minutes * 60.0)
    }

    /// Time between scheduled runs.
    pub fn every(&self) -> Duration {
        Duration::from_secs_f64(self.every_minutes * 60.0)
    }
}

fn table_name(value: &str) -> Result<String, ConfigError> {
    connect_contact_state::config::table_name(Some(value.to_owned()))
}

fn days(value: &str) -> Result<u32, ConfigError> {
    retention_days(value)
}

fn minutes(value: &str, default: f64) -> Result<f64, String> {
    if value.trim().is_empty() {
        return Ok(default);
    }
    number(value, 0.0).ok_or_else(|| "must be a number of minutes from 0".into())
}

fn calls_per_second(value: &str) -> Result<f64, String> {
    if value.trim().is_empty() {
        return Ok(DEFAULT_CALLS_PER_SECOND);
    }
    number(value, 0.01).ok_or_else(|| "must be a number of calls a second from 0.01".into())
}

fn whole_from_one(value: &str) -> Result<usize, String> {
    if value.trim().is_empty() {
        return Ok(DEFAULT_MAX_CONTACTS);
    }
    value
        .trim()
        .parse()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| "must be a whole number from 1".into())
}

fn number(value: &str, min: f64) -> Option<f64> {
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite() && *n >= min)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(args: &[&str]) -> Result<Settings, SettingError> {
        Settings::from_args(
            ["--table-name", "contacts"]
                .into_iter()
                .chain(args.iter().copied()),
        )
    }

    #[test]
    fn defaults_and_overrides() {
        let defaults = settings(&[]).expect("defaults");
        assert_eq!(defaults.queued_after(), Duration::from_secs(3_600));
        assert_eq!(defaults.with_agent_after(), Duration::from_secs(3_600));
        assert_eq!(defaults.calls_per_second, 1.0);
        assert_eq!(defaults.max_contacts, 50);
        assert_eq!(defaults.every(), Duration::from_secs(300));
        assert_eq!(defaults.retention_days, 90);
        assert_eq!(defaults.instance_arn(), None);
        let set = settings(&[
            "--queued-minutes",
            "0.5",
            "--max-contacts",
            "7",
            "--instance-arn",
            "arn:i",
            "--retention-days",
            "7",
        ])
        .expect("set");
        assert_eq!(set.queued_after(), Duration::from_secs(30));
        assert_eq!(set.max_contacts, 7);
        assert_eq!(set.retention_days, 7);
        assert_eq!(set.instance_arn(), Some("arn:i"));
        let empty = settings(&["--instance-arn=", "--max-contacts="]).expect("empty");
        assert_eq!((empty.instance_arn(), empty.max_contacts), (None, 50));
    }

    #[test]
    fn a_wrong_setting_is_refused_with_what_it_must_be() {
        for (flag, bad) in [
            ("--calls-per-second", "0"),
            ("--max-contacts", "2.5"),
            ("--max-contacts", "0"),
            ("--queued-minutes", "-1"),
            ("--retention-days", "1.5"),
        ] {
            let error = settings(&[&format!("{flag}={bad}")])
                .expect_err(bad)
                .to_string();
            assert!(error.contains(bad), "{error}");
            assert!(error.contains("must be"), "{error}");
            assert!(!error.contains('\n'), "one line: {error}");
        }
    }

    #[test]
    fn the_table_is_required() {
        assert!(Settings::from_args([]).is_err());
        assert!(Settings::from_args(["--table-name", " "]).is_err());
    }
}
