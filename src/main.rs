use aws_config::BehaviorVersion;
use connect_contact_state::config::Config;
use connect_contact_state::dynamodb::{self, DynamoDbStore};
use connect_contact_state::handler::Handler;
use lambda_runtime::{Error, LambdaEvent, run, service_fn, tracing};
use serde_json::value::RawValue;

/// The SDK's request pipeline allocates a great deal per request; mimalloc does it for less CPU
/// than glibc's malloc, which is the bill at 128 MB.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let config = Config::from_env().inspect_err(|error| tracing::error!("init failed: {error}"))?;
    let aws = aws_config::load_defaults(BehaviorVersion::latest()).await;
    let store = DynamoDbStore::new(dynamodb::client(&aws), config.table_name);
    if let Err(error) = store.warm_up().await {
        tracing::warn!("{error}");
    }
    let mut handler = Handler::new(store, config.retention_days);
    if let Some(metrics) = config.metrics {
        handler = handler.with_metrics(metrics);
    }
    run(service_fn(|event: LambdaEvent<Box<RawValue>>| {
        handler.invoke(event)
    }))
    .await
}
