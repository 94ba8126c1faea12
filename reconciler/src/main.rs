use std::time::{Duration, Instant, SystemTime};

use aws_config::BehaviorVersion;
use aws_lambda_events::eventbridge::EventBridgeEvent;
use connect_contact_state::dynamodb::{self, DynamoDbStore};
use connect_contact_state::logging;
use contact_state_reconciler::config::Settings;
use contact_state_reconciler::connect::Connect;
use contact_state_reconciler::run::{Table, run};
use lambda_runtime::{Error, LambdaEvent, service_fn, tracing};
use serde_json::Value;

/// When Lambda gives no deadline (`cargo lambda invoke`, some emulators): the template's timeout.
const NO_DEADLINE: Duration = Duration::from_secs(60);

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let config = logging::init_from_env()?;
    let settings =
        Settings::from_env().inspect_err(|error| tracing::error!("init failed: {error}"))?;
    let aws = aws_config::load_defaults(BehaviorVersion::latest()).await;
    let client = dynamodb::client(&aws, config.regional_endpoint);
    let store = DynamoDbStore::new(client.clone(), config.table_name.clone());
    let connect = Connect::new(&aws);
    let table = Table {
        client: &client,
        name: &config.table_name,
        store: &store,
        retention_days: config.retention_days,
    };
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let (table, connect, settings) = (&table, &connect, &settings);
        async move {
            // A scheduled event (EventBridge's envelope): its time tells runs apart. Any other
            // payload (a manual invoke) runs as of now.
            let scheduled = serde_json::from_value::<EventBridgeEvent>(event.payload)
                .ok()
                .and_then(|scheduled| scheduled.time)
                .map(|time| time.timestamp());
            let now = SystemTime::now();
            let turn = scheduled.unwrap_or_else(|| {
                now.duration_since(SystemTime::UNIX_EPOCH)
                    .map_or(0, |since| since.as_secs() as i64)
            }) / 60;
            let remaining = event
                .context
                .deadline()
                .duration_since(now)
                .ok()
                .filter(|left| !left.is_zero() && event.context.deadline > 0)
                .unwrap_or(NO_DEADLINE);
            let summary = run(
                table,
                connect,
                settings,
                Instant::now() + remaining,
                turn.max(0) as u64,
            )
            .await?;
            // A contact that failed stays listed and is asked again next run; the run's error
            // makes it show in the function's Errors metric and alarm.
            if summary.failed > 0 {
                return Err(Error::from(format!(
                    "{} of {} contacts looked at failed (their lines say why)",
                    summary.failed, summary.connect_calls
                )));
            }
            Ok::<Value, Error>(serde_json::json!({
                "healed": summary.healed, "live": summary.live, "current": summary.current,
                "unknown": summary.unknown, "left": summary.left,
            }))
        }
    }))
    .await
}
