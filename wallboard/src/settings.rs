//! The wallboard's settings, read once at init from its environment through clap's `env` (the
//! template sets them from its parameters; README, "The wallboard"). An empty variable is the
//! default, as the template's may be.

use std::time::Duration;

use clap::Parser;
use connect_contact_state::config::ConfigError;
pub use connect_contact_state::config::{FromEnv, SettingError};

use crate::board::Thresholds;
use crate::metrics::Source;

#[derive(Debug, Clone, PartialEq, Eq, Parser)]
#[command(name = "contact-state-wallboard", no_binary_name = true)]
pub struct Settings {
    /// The table the event function writes; only its two views are read.
    #[arg(long, env = "TABLE_NAME", value_name = "TABLE_NAME", value_parser = table_name)]
    pub table_name: String,
    /// Queues of this instance show even while nobody waits in them; when unset, those of the
    /// instances the views list.
    #[arg(
        long,
        env = "CONNECT_INSTANCE_ARN",
        value_name = "CONNECT_INSTANCE_ARN"
    )]
    instance_arn: Option<String>,
    #[arg(long, env = "WALLBOARD_WAIT_AMBER_SECONDS", value_name = "WALLBOARD_WAIT_AMBER_SECONDS",
        default_value_t = 60, value_parser = |v: &str| whole(v, 60))]
    wait_amber_seconds: u64,
    #[arg(long, env = "WALLBOARD_WAIT_RED_SECONDS", value_name = "WALLBOARD_WAIT_RED_SECONDS",
        default_value_t = 180, value_parser = |v: &str| whole(v, 180))]
    wait_red_seconds: u64,
    #[arg(long, env = "WALLBOARD_CONTACT_AMBER_SECONDS", value_name = "WALLBOARD_CONTACT_AMBER_SECONDS",
        default_value_t = 600, value_parser = |v: &str| whole(v, 600))]
    contact_amber_seconds: u64,
    #[arg(long, env = "WALLBOARD_CONTACT_RED_SECONDS", value_name = "WALLBOARD_CONTACT_RED_SECONDS",
        default_value_t = 1200, value_parser = |v: &str| whole(v, 1200))]
    contact_red_seconds: u64,
    /// Entries listed longer than this are left out and counted (0: none left out).
    #[arg(long, env = "WALLBOARD_HORIZON_HOURS", value_name = "WALLBOARD_HORIZON_HOURS",
        default_value_t = 24, value_parser = |v: &str| whole(v, 24))]
    pub horizon_hours: u64,
    /// How often the page asks for the board.
    #[arg(long, env = "WALLBOARD_REFRESH_SECONDS", value_name = "WALLBOARD_REFRESH_SECONDS",
        default_value_t = 5, value_parser = |v: &str| whole(v, 5))]
    pub refresh_seconds: u64,
    /// How long Connect's names are kept before they are asked again.
    #[arg(long, env = "WALLBOARD_NAMES_MINUTES", value_name = "WALLBOARD_NAMES_MINUTES",
        default_value_t = 10, value_parser = |v: &str| whole(v, 10))]
    names_minutes: u64,
    /// Where the page sends a supervisor to sign in (an OAuth 2.0 authorize URL without its
    /// `redirect_uri`, which the page adds); unset: the page asks without a token (local).
    #[arg(
        long,
        env = "WALLBOARD_SIGN_IN_URL",
        value_name = "WALLBOARD_SIGN_IN_URL"
    )]
    sign_in_url: Option<String>,
    /// The stack's metrics namespace (`MetricsNamespace`): the latest lag and the events healed
    /// today come from its `Lag` and `Healed`; unset: the board shows neither.
    #[arg(long, env = "METRICS_NAMESPACE", value_name = "METRICS_NAMESPACE")]
    metrics_namespace: Option<String>,
    /// The reconciler's schedule (0: the stack has none, and nothing heals lost events).
    #[arg(long, env = "RECONCILE_EVERY_MINUTES", value_name = "RECONCILE_EVERY_MINUTES",
        default_value_t = 0, value_parser = |v: &str| whole(v, 0))]
    reconcile_every_minutes: u64,
}

impl Settings {
    pub fn instance_arn(&self) -> Option<&str> {
        self.instance_arn
            .as_deref()
            .filter(|a| !a.trim().is_empty())
    }

    pub fn sign_in_url(&self) -> Option<&str> {
        self.sign_in_url.as_deref().filter(|u| !u.trim().is_empty())
    }

    pub fn thresholds(&self) -> Thresholds {
        Thresholds {
            wait_amber_seconds: self.wait_amber_seconds,
            wait_red_seconds: self.wait_red_seconds,
            contact_amber_seconds: self.contact_amber_seconds,
            contact_red_seconds: self.contact_red_seconds,
        }
    }

    pub fn horizon(&self) -> Option<Duration> {
        (self.horizon_hours > 0).then(|| Duration::from_secs(self.horizon_hours * 3_600))
    }

    pub fn names_kept_for(&self) -> Duration {
        Duration::from_secs(self.names_minutes * 60)
    }

    pub fn metrics_source(&self) -> Source {
        Source {
            namespace: self
                .metrics_namespace
                .clone()
                .filter(|n| !n.trim().is_empty()),
            reconcile_every_minutes: self.reconcile_every_minutes,
        }
    }
}

fn table_name(value: &str) -> Result<String, ConfigError> {
    connect_contact_state::config::table_name(Some(value.to_owned()))
}

fn whole(value: &str, default: u64) -> Result<u64, String> {
    if value.trim().is_empty() {
        return Ok(default);
    }
    value
        .trim()
        .parse()
        .map_err(|_| "must be a whole number from 0".to_owned())
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
    fn defaults_are_the_readmes() {
        let defaults = settings(&[]).expect("defaults");
        assert_eq!(
            defaults.thresholds(),
            Thresholds {
                wait_amber_seconds: 60,
                wait_red_seconds: 180,
                contact_amber_seconds: 600,
                contact_red_seconds: 1200,
            }
        );
        assert_eq!(defaults.horizon(), Some(Duration::from_secs(86_400)));
        assert_eq!(defaults.refresh_seconds, 5);
        assert_eq!(defaults.names_kept_for(), Duration::from_secs(600));
        assert_eq!(
            (defaults.sign_in_url(), defaults.instance_arn()),
            (None, None)
        );
        assert_eq!(
            defaults.metrics_source(),
            Source {
                namespace: None,
                reconcile_every_minutes: 0
            }
        );
    }

    #[test]
    fn an_empty_setting_is_its_default_and_a_wrong_one_is_refused() {
        let empty = settings(&["--wait-red-seconds=", "--sign-in-url="]).expect("empty");
        assert_eq!(empty.thresholds().wait_red_seconds, 180);
        assert_eq!(empty.sign_in_url(), None);
        let error = settings(&["--wait-amber-seconds", "1.5"]).expect_err("refused");
        assert!(error.to_string().contains("whole number"), "{error}");
        assert_eq!(
            settings(&["--horizon-hours", "0"]).expect("0").horizon(),
            None
        );
    }
}
