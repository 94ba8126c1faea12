//! The DynamoDB client and its retry policy, and a counter of the HTTP attempts it makes.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::StalledStreamProtectionConfig;
use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;

/// Attempts per write, the first included. Throttling and 5xx from DynamoDB clear within
/// milliseconds to a second; beyond that the invocation fails and Lambda delivers the event again
/// (twice, then the on-failure queue), which is cheaper than holding the function.
pub const MAX_ATTEMPTS: u32 = 4;
/// Backoff before the second attempt (exponential with full jitter after that, capped at
/// [`MAX_BACKOFF`]): the SDK default of 1 s would spend a tenth of the function's timeout on one wait.
pub const INITIAL_BACKOFF: Duration = Duration::from_millis(50);
pub const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// A DynamoDB write answers in milliseconds; an attempt still open after this is lost, and is
/// retried on a new connection.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// A client of the table's DynamoDB with the retry policy of [`config`]; `regional` drops an
/// endpoint URL the environment set empty (the SDK would panic on it) for the region's own.
pub fn client(sdk: &SdkConfig, regional: bool) -> Client {
    let mut config = config(sdk);
    if regional {
        config.set_endpoint_url(None);
    }
    Client::from_conf(config.build())
}

/// [`client`]'s configuration, open for additions (the tests add a request counter): the SDK's
/// standard retry mode (retries throttling, 5xx, timeouts and broken connections; client-side
/// retry quota so an outage does not multiply the load) with the attempts, backoff and timeouts
/// above. The whole write is bounded by the invocation's deadline in the handler, not here.
/// <https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html>
pub fn config(sdk: &SdkConfig) -> aws_sdk_dynamodb::config::Builder {
    aws_sdk_dynamodb::config::Builder::from(sdk)
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(MAX_ATTEMPTS)
                .with_initial_backoff(INITIAL_BACKOFF)
                .with_max_backoff(MAX_BACKOFF),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .build(),
        )
        // Bodies are a few hundred bytes, and the attempt timeout already ends a stalled one;
        // the throughput monitor cost 2% of the function's instructions (docs/performance.md).
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
}

/// Counts HTTP attempts (the SDK retries inside `send`): of one request when added to it, of
/// every request when added to the client (the tests do).
#[derive(Debug, Default, Clone)]
pub struct RequestCounter(Arc<AtomicU32>);

impl RequestCounter {
    pub fn count(&self) -> u32 {
        self.0.load(Ordering::Relaxed)
    }

    /// The count so far, starting again from zero.
    pub fn take(&self) -> usize {
        self.0.swap(0, Ordering::Relaxed) as usize
    }
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "RequestCounter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _config: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}
