//! The reconciler's settings, read once at init from its environment (the template sets them
//! from its parameters; README, "Reconciling with Connect").

use std::env;
use std::time::Duration;

/// Connect's default quota for `DescribeContact` is 2 requests a second (burst 5), per account
/// and Region, shared with every other caller of that part of the API: one a second leaves
/// half of it to them. <https://docs.aws.amazon.com/connect/latest/adminguide/amazon-connect-service-limits.html>
pub const DEFAULT_CALLS_PER_SECOND: f64 = 1.0;
/// Contacts looked at in one run, at most.
pub const DEFAULT_MAX_CONTACTS: usize = 100;
/// Listed this long before Connect is asked (README explains the defaults).
pub const DEFAULT_QUEUED_MINUTES: u64 = 60;
pub const DEFAULT_WITH_AGENT_MINUTES: u64 = 60;

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Only contacts of this instance are asked about (`CONNECT_INSTANCE_ARN`); any, if unset.
    pub instance_arn: Option<String>,
    /// How long an entry of `queued`, and of `withAgent`, is listed before Connect is asked.
    pub queued_after: Duration,
    pub with_agent_after: Duration,
    pub calls_per_second: f64,
    pub max_contacts: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name} must be {what}, got {value:?}")]
pub struct SettingError {
    name: &'static str,
    what: &'static str,
    value: String,
}

impl Settings {
    pub fn from_env() -> Result<Settings, SettingError> {
        Settings::from_vars(|name| env::var(name).ok())
    }

    /// Reads settings through `var`, so tests need not touch the process environment.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Settings, SettingError> {
        let number =
            |name: &'static str, what: &'static str, default: f64, min: f64| match var(name)
                .filter(|value| !value.trim().is_empty())
            {
                None => Ok(default),
                Some(value) => value
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|n| n.is_finite() && *n >= min)
                    .ok_or(SettingError { name, what, value }),
            };
        let minutes = |name, default: u64| {
            number(name, "a number of minutes", default as f64, 0.0)
                .map(|minutes| Duration::from_secs_f64(minutes * 60.0))
        };
        Ok(Settings {
            instance_arn: var("CONNECT_INSTANCE_ARN").filter(|arn| !arn.trim().is_empty()),
            queued_after: minutes("RECONCILE_QUEUED_MINUTES", DEFAULT_QUEUED_MINUTES)?,
            with_agent_after: minutes("RECONCILE_WITH_AGENT_MINUTES", DEFAULT_WITH_AGENT_MINUTES)?,
            calls_per_second: number(
                "CONNECT_CALLS_PER_SECOND",
                "a positive number",
                DEFAULT_CALLS_PER_SECOND,
                0.01,
            )?,
            max_contacts: number(
                "RECONCILE_MAX_CONTACTS",
                "a whole number from 1",
                DEFAULT_MAX_CONTACTS as f64,
                1.0,
            )? as usize,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let defaults = Settings::from_vars(|_| None).expect("defaults");
        assert_eq!(defaults.queued_after, Duration::from_secs(3_600));
        assert_eq!(defaults.calls_per_second, 1.0);
        assert_eq!(defaults.instance_arn, None);
        let set = Settings::from_vars(|name| match name {
            "RECONCILE_QUEUED_MINUTES" => Some("0.5".into()),
            "RECONCILE_MAX_CONTACTS" => Some("7".into()),
            "CONNECT_INSTANCE_ARN" => Some("arn:i".into()),
            _ => None,
        })
        .expect("set");
        assert_eq!(set.queued_after, Duration::from_secs(30));
        assert_eq!(set.max_contacts, 7);
        assert_eq!(set.instance_arn.as_deref(), Some("arn:i"));
        let bad =
            Settings::from_vars(|name| (name == "CONNECT_CALLS_PER_SECOND").then(|| "0".into()));
        assert!(bad.is_err());
    }
}
