//! The function's settings, read once at init from its environment.

use std::env;

use crate::metrics::Metrics;

/// Days an item lives after its latest event when `RETENTION_DAYS` is not set.
pub const DEFAULT_RETENTION_DAYS: u32 = 90;
/// A century: anything longer is a typo.
const MAX_RETENTION_DAYS: u32 = 36_500;
/// CloudWatch namespace of the EMF metrics when `METRICS_NAMESPACE` is not set.
pub const DEFAULT_METRICS_NAMESPACE: &str = "ConnectContactState";
/// Metric splits when `METRICS_DIMENSIONS` is not set: by outcome, and by event type.
pub const DEFAULT_METRICS_DIMENSIONS: &str = "Outcome,EventType";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub table_name: String,
    pub retention_days: u32,
    /// `None` when `METRICS_NAMESPACE` is set empty: no EMF lines.
    pub metrics: Option<Metrics>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("TABLE_NAME is not set: it must name the DynamoDB table to write")]
    MissingTableName,
    #[error(
        "RETENTION_DAYS must be a whole number of days from 1 to {MAX_RETENTION_DAYS}, got {0:?}"
    )]
    BadRetention(String),
    #[error("METRICS_DIMENSIONS: {0}")]
    BadDimensions(String),
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_vars(|name| env::var(name).ok())
    }

    /// Reads settings through `var`, so tests need not touch the process environment.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let table_name = var("TABLE_NAME")
            .filter(|name| !name.trim().is_empty())
            .ok_or(ConfigError::MissingTableName)?;
        let retention_days = match var("RETENTION_DAYS") {
            None => DEFAULT_RETENTION_DAYS,
            Some(days) => days
                .trim()
                .parse()
                .ok()
                .filter(|days| (1..=MAX_RETENTION_DAYS).contains(days))
                .ok_or(ConfigError::BadRetention(days))?,
        };
        let namespace =
            var("METRICS_NAMESPACE").unwrap_or_else(|| DEFAULT_METRICS_NAMESPACE.into());
        let metrics = if namespace.trim().is_empty() {
            None
        } else {
            let dimensions =
                var("METRICS_DIMENSIONS").unwrap_or_else(|| DEFAULT_METRICS_DIMENSIONS.into());
            Some(Metrics {
                namespace: namespace.trim().to_owned(),
                dimension_sets: Metrics::parse_dimension_sets(&dimensions)
                    .map_err(ConfigError::BadDimensions)?,
                function_name: var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_default(),
            })
        };
        Ok(Config {
            table_name,
            retention_days,
            metrics,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Dimension;

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
    fn metrics_are_on_by_default_split_by_outcome_and_event_type() {
        let config = config(&[("TABLE_NAME", "t"), ("AWS_LAMBDA_FUNCTION_NAME", "f")]);
        let metrics = config.expect("valid").metrics.expect("on");
        assert_eq!(metrics.namespace, "ConnectContactState");
        assert_eq!(
            metrics.dimension_sets,
            vec![vec![Dimension::Outcome], vec![Dimension::EventType]]
        );
        assert_eq!(metrics.function_name, "f");
    }

    #[test]
    fn an_empty_namespace_turns_metrics_off_and_unknown_dimensions_fail_init() {
        let off = config(&[("TABLE_NAME", "t"), ("METRICS_NAMESPACE", "")]);
        assert_eq!(off.expect("valid").metrics, None);
        let bad = config(&[("TABLE_NAME", "t"), ("METRICS_DIMENSIONS", "ContactId")]);
        assert!(matches!(bad, Err(ConfigError::BadDimensions(_))));
    }
}
