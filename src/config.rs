//! The function's settings, read once at init from its environment.

use std::env;

/// Days an item lives after its latest event when `RETENTION_DAYS` is not set.
pub const DEFAULT_RETENTION_DAYS: u32 = 90;
/// A century: anything longer is a typo.
const MAX_RETENTION_DAYS: u32 = 36_500;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub table_name: String,
    pub retention_days: u32,
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
        Ok(Config {
            table_name,
            retention_days,
        })
    }
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
}
