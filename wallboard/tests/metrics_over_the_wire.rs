//! The board's figures from the stack's metrics, asked by the real SDK over CloudWatch's own
//! protocol (Smithy RPC v2 CBOR) of the stand-in (tools/cloudwatch-standin): what the unit tests
//! check against the SDK's mocks, through the wire.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_config::{BehaviorVersion, Region};
use aws_sdk_cloudwatch::config::Credentials;
use cloudwatch_standin::{CloudWatchStandIn, Datapoint};
use contact_state_wallboard::metrics::{Metrics, Source};

const NAMESPACE: &str = "ConnectContactState";

fn point(metric_name: &str, at: SystemTime, value: f64) -> Datapoint {
    Datapoint {
        namespace: NAMESPACE.to_owned(),
        metric_name: metric_name.to_owned(),
        timestamp: at.duration_since(UNIX_EPOCH).unwrap().as_secs_f64(),
        value,
    }
}

async fn metrics(standin: &CloudWatchStandIn, reconcile_every_minutes: u64) -> Metrics {
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::for_tests())
        .endpoint_url(standin.endpoint())
        .load()
        .await;
    Metrics::new(
        &sdk,
        Source {
            namespace: Some(NAMESPACE.to_owned()),
            reconcile_every_minutes,
        },
    )
}

#[tokio::test]
async fn the_latest_lag_and_the_events_healed_since_midnight_come_through_cloudwatchs_protocol() {
    let now = UNIX_EPOCH + Duration::from_secs(1_796_464_800); // 2026-12-05T10:00:00Z
    let midnight = now - Duration::from_secs(10 * 3_600);
    let standin = CloudWatchStandIn::start().await.unwrap();
    for held in [
        point("Healed", now - Duration::from_secs(90), 2.0),
        point("Healed", midnight + Duration::from_secs(90), 1.0),
        point("Healed", midnight - Duration::from_secs(600), 5.0),
        point("Lag", now - Duration::from_secs(300), 980.0),
        point("Lag", now - Duration::from_secs(90), 1_234.0),
        point("Lag", now - Duration::from_secs(85), 860.0),
    ] {
        standin.hold(held);
    }
    let health = metrics(&standin, 5).await.health(midnight, now).await;
    assert_eq!(health.metrics, "on");
    assert_eq!(health.healed, Some(3), "today's 2 + 1, not yesterday's 5");
    assert_eq!(
        health.lag_max_ms,
        Some(1_234),
        "the latest minute's slowest"
    );
    assert_eq!(health.lag_minute.as_deref(), Some("2026-12-05T09:58:00Z"));
    assert_eq!(standin.asked(), 1);
}

#[tokio::test]
async fn a_quiet_table_has_no_latest_lag_and_nothing_healed() {
    let standin = CloudWatchStandIn::start().await.unwrap();
    let now = SystemTime::now();
    let health = metrics(&standin, 5)
        .await
        .health(now - Duration::from_secs(3_600), now)
        .await;
    assert_eq!(
        (health.metrics, health.lag_max_ms, health.healed),
        ("on", None, Some(0))
    );
}
