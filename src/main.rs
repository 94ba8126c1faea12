use aws_config::BehaviorVersion;
use connect_contact_state::config::Config;
use connect_contact_state::dynamodb::{self, DynamoDbStore};
use connect_contact_state::handler::Handler;
use connect_contact_state::logging;
use connect_contact_state::metrics::DroppedLineMetrics;
use lambda_runtime::{Error, LambdaEvent, run, service_fn, tracing};
use serde_json::value::RawValue;
use tokio::signal::unix::{SignalKind, signal};

/// The SDK's request pipeline allocates a great deal per request; mimalloc does it for less CPU
/// than glibc's malloc, which is the bill at 128 MB.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let log_level = logging::init_from_env();
    let config = Config::from_env().inspect_err(|error| tracing::error!("init failed: {error}"))?;
    let aws = aws_config::load_defaults(BehaviorVersion::latest()).await;
    let store = DynamoDbStore::new(
        dynamodb::client(&aws, config.regional_endpoint),
        config.table_name,
    );
    if let Err(error) = store.warm_up().await {
        tracing::warn!("{error}");
    }
    let handler = Handler::new(store, config.retention_days)
        .with_views(config.live_views)
        .with_summary(DroppedLineMetrics::new(
            &config.metrics_namespace,
            log_level,
        ));
    let serve = run(service_fn(|event: LambdaEvent<Box<RawValue>>| {
        handler.invoke(event)
    }));
    // Lambda ends an environment with SIGTERM when it has one to give: print what is counted.
    let mut terminate = signal(SignalKind::terminate())?;
    tokio::select! {
        served = serve => served,
        _ = terminate.recv() => {
            handler.flush_metrics();
            Ok(())
        }
    }
}
