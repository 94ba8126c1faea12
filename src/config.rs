//! The function's settings, read once at init from its environment.

use std::env;

/// Days an item lives after its latest event when `RETENTION_DAYS` is not set.
pub const DEFAULT_RETENTION_DAYS: u32 = 90;
/// A century: anything longer is a typo.
pub const MAX_RETENTION_DAYS: u32 = 36_500;
/// CloudWatch namespace of the metrics when `METRICS_NAMESPACE` is not set.
pub const DEFAULT_METRICS_NAMESPACE: &str = "ConnectContactState";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub table_name: String,
    pub retention_days: u32,
    /// Namespace of the metrics lines printed when the log level drops per-event lines; empty
    /// when `METRICS_NAMESPACE` is set empty (metrics off).
    pub metrics_namespace: String,
    /// Keep the live views' attributes (`LIVE_VIEWS`, `on` unless `off`).
    pub live_views: bool,
    /// `AWS_ENDPOINT_URL_DYNAMODB` is set but empty, as the template sets it when deployed (its
    /// `LocalDynamoDbEndpoint` is for `sam local`): the regional endpoint is meant, and the SDK
    /// would panic on an empty URL.
    pub regional_endpoint: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("TABLE_NAME is not set: it must name the DynamoDB table to write")]
    MissingTableName,
    #[error(
        "RETENTION_DAYS must be a whole number of days from 1 to {MAX_RETENTION_DAYS}, got {0:?}"
    )]
    BadRetention(String),
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_vars(|name| env::var(name).ok())
    }

    /// Reads settings through `var`, so tests need not touch the process environment.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let table_name = table_name(var("TABLE_NAME"))?;
        let retention_days = match var("RETENTION_DAYS") {
            None => DEFAULT_RETENTION_DAYS,
            Some(days) => retention_days(&days)?,
        };
        let metrics_namespace = var("METRICS_NAMESPACE")
            .unwrap_or_else(|| DEFAULT_METRICS_NAMESPACE.into())
            .trim()
            .to_owned();
        Ok(Config {
            table_name,
            retention_days,
            metrics_namespace,
            live_views: !var("LIVE_VIEWS").is_some_and(|v| v.trim().eq_ignore_ascii_case("off")),
            regional_endpoint: regional_endpoint(&var),
        })
    }
}

/// A setting the reconciler or the wallboard cannot run with: clap's one-line message (the
/// variable, the value, what it must be).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SettingError(String);

impl From<clap::Error> for SettingError {
    fn from(error: clap::Error) -> SettingError {
        let message = error.to_string();
        let first = message.lines().next().unwrap_or_default();
        SettingError(first.trim_start_matches("error: ").to_owned())
    }
}

/// Settings that clap reads from the environment (`env`), as the reconciler's and the
/// wallboard's are; `--flag value` arguments follow the same rules, for tests.
pub trait FromEnv: clap::Parser {
    fn from_env() -> Result<Self, SettingError> {
        Ok(Self::try_parse_from(std::iter::empty::<String>())?)
    }

    fn from_args<'a>(args: impl IntoIterator<Item = &'a str>) -> Result<Self, SettingError> {
        Ok(Self::try_parse_from(args)?)
    }
}

impl<T: clap::Parser> FromEnv for T {}

/// `TABLE_NAME`: required, and not blank. The reconciler and the wallboard read it by the same
/// rule.
pub fn table_name(value: Option<String>) -> Result<String, ConfigError> {
    value
        .filter(|name| !name.trim().is_empty())
        .ok_or(ConfigError::MissingTableName)
}

/// `RETENTION_DAYS`: a whole number of days from 1 to [`MAX_RETENTION_DAYS`] ("1.5" is refused,
/// not rounded). The reconciler reads it by the same rule.
pub fn retention_days(value: &str) -> Result<u32, ConfigError> {
    value
        .trim()
        .parse()
        .ok()
        .filter(|days| (1..=MAX_RETENTION_DAYS).contains(days))
        .ok_or_else(|| ConfigError::BadRetention(value.to_owned()))
}

/// `AWS_ENDPOINT_URL_DYNAMODB` set but empty: the regional endpoint is meant (see
/// [`Config::regional_endpoint`]).
pub fn regional_endpoint(var: impl Fn(&str) -> Option<String>) -> bool {
    var("AWS_ENDPOINT_URL_DYNAMODB").is_some_and(|url| url.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_vars(|name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        })
    }

    #[test]
    fn table_name_is_required() {
        assert_eq!(config(&[]), Err(ConfigError::MissingTableName));
        assert_eq!(
            config(&[("TABLE_NAME", " ")]),
            Err(ConfigError::MissingTableName)
        );
    }

    #[test]
    fn retention_defaults_to_ninety_days() {
        let config = config(&[("TABLE_NAME", "contacts")]).expect("valid");
        assert_eq!(config.retention_days, 90);
    }

    #[test]
    fn retention_must_be_a_positive_number_of_days() {
        for bad in ["0", "-1", "ninety", "1.5", "36501"] {
            assert_eq!(
                config(&[("TABLE_NAME", "contacts"), ("RETENTION_DAYS", bad)]),
                Err(ConfigError::BadRetention(bad.into())),
                "{bad}"
            );
        }
        let config = config(&[("TABLE_NAME", "contacts"), ("RETENTION_DAYS", "7")]);
        assert_eq!(config.map(|c| c.retention_days), Ok(7));
    }

    #[test]
    fn metrics_are_on_by_default_and_an_empty_namespace_turns_them_off() {
        let on = config(&[("TABLE_NAME", "t")]).expect("valid");
        assert_eq!(on.metrics_namespace, "ConnectContactState");
        let off = config(&[("TABLE_NAME", "t"), ("METRICS_NAMESPACE", "")]).expect("valid");
        assert_eq!(off.metrics_namespace, "");
    }

    #[test]
    fn live_views_are_on_unless_off() {
        let config = config(&[("TABLE_NAME", "t")]).expect("valid");
        assert!(config.live_views);
        let off = self::config(&[("TABLE_NAME", "t"), ("LIVE_VIEWS", "off")]).expect("valid");
        assert!(!off.live_views);
    }

    #[test]
    fn an_empty_dynamodb_endpoint_url_means_the_regional_endpoint() {
        let deployed =
            config(&[("TABLE_NAME", "t"), ("AWS_ENDPOINT_URL_DYNAMODB", "")]).expect("valid");
        assert!(deployed.regional_endpoint);
        let local = config(&[
            ("TABLE_NAME", "t"),
            ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000"),
        ])
        .expect("valid");
        assert!(!local.regional_endpoint);
        assert!(
            !config(&[("TABLE_NAME", "t")])
                .expect("valid")
                .regional_endpoint
        );
    }
}
