use std::sync::Mutex;
use std::time::{Instant, SystemTime};

use aws_config::BehaviorVersion;
use connect_contact_state::dynamodb::{self, DynamoDbStore};
use connect_contact_state::logging;
use contact_state_reconciler::config::{FromEnv, Settings};
use contact_state_reconciler::connect::Connect;
use contact_state_reconciler::rotation::Rotation;
use contact_state_reconciler::run::{Table, run};
use contact_state_reconciler::window::{BUDGET, scheduled_at};
use lambda_runtime::{Error, LambdaEvent, service_fn, tracing};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    logging::init_from_env();
    let settings =
        Settings::from_env().inspect_err(|error| tracing::error!("init failed: {error}"))?;
    let aws = aws_config::load_defaults(BehaviorVersion::latest()).await;
    let regional =
        connect_contact_state::config::regional_endpoint(|name| std::env::var(name).ok());
    let client = dynamodb::client(&aws, regional);
    let store = DynamoDbStore::new(client.clone(), settings.table_name.clone());
    let connect = Connect::new(&aws);
    let table = Table {
        client: &client,
        name: &settings.table_name,
        store: &store,
        retention_days: settings.retention_days,
    };
    let rotation = Mutex::new(Rotation::default());
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let (table, connect, settings, rotation) = (&table, &connect, &settings, &rotation);
        async move {
            let now = SystemTime::now();
            let deadline = Instant::now() + BUDGET.left(event.context.deadline(), now);
            let scheduled = scheduled_at(event.payload, now);
            let summary = run(table, connect, settings, rotation, deadline, scheduled).await?;
            // A contact that failed stays listed and is asked again next run; the run's error
            // makes it show in the function's Errors metric and alarm.
            if summary.failed > 0 {
                return Err(Error::from(format!(
                    "{} Connect calls or looks failed (their lines say why)",
                    summary.failed
                )));
            }
            Ok::<_, Error>(summary)
        }
    }))
    .await
}
