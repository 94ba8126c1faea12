//! The wallboard (README, "The wallboard"; docs/wallboard.md): the live views as a page a
//! supervisor opens in a browser, and the JSON it reads.
//!
//! - [`board`]: the board from the two views and the names (pure);
//! - [`names`]: queue and agent names from Connect, kept a few minutes;
//! - [`metrics`]: the latest lag and today's healed events, from the stack's metrics;
//! - [`app`]: the answers (the page, the board), whoever carries the request;
//! - [`page`]: the page and its headers; [`settings`]: settings.

pub mod app;
pub mod board;
pub mod metrics;
pub mod names;
pub mod page;
pub mod settings;

use std::time::Duration;

use aws_config::SdkConfig;
use aws_config::timeout::TimeoutConfig;

/// The SDK's configuration with one limit on each call (its retries included): a board waits
/// for Connect's names and CloudWatch's figures this long at most, then shows what it has.
pub fn with_operation_timeout(sdk: &SdkConfig, limit: Duration) -> SdkConfig {
    sdk.to_builder()
        .timeout_config(TimeoutConfig::builder().operation_timeout(limit).build())
        .build()
}
