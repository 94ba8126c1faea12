//! The DynamoDB adapter: the table behind the [`ContactStore`] port. One conditional
//! `UpdateItem` per [`Write`]; both answers carry the item as it was (`ReturnValues` and
//! `ReturnValuesOnConditionCheckFailure` = `ALL_OLD`), so a rejected write can be planned again
//! without a read:
//! <https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateItem.html>.
//!
//! - `client`: the SDK client, its retries and timeouts, and the attempt counter;
//! - `expression`: the update and condition expressions (the only module that knows them);
//! - `item`: decoding the returned item, and what a write is billed.
//!
//! The bookkeeping attributes' names are the core's (`contact_state_core::bookkeeping`).

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ReturnConsumedCapacity, ReturnValue, ReturnValuesOnConditionCheckFailure,
};

use contact_state_core::store::{Answer, ContactStore, StoreError, Write, WriteOutcome};

mod client;
mod expression;
mod item;

pub use client::{
    ATTEMPT_TIMEOUT, CONNECT_TIMEOUT, INITIAL_BACKOFF, MAX_ATTEMPTS, MAX_BACKOFF, RequestCounter,
    client, config,
};
pub use item::{Item, attribute_size, item_size, stored};

use expression::UpdateExpression;
use item::{billed, write_units};

/// The most init spends warming the connection up.
pub const WARM_UP_TIMEOUT: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct DynamoDbStore {
    client: Client,
    table_name: String,
}

impl DynamoDbStore {
    pub fn new(client: Client, table_name: impl Into<String>) -> Self {
        DynamoDbStore {
            client,
            table_name: table_name.into(),
        }
    }

    /// Pays at init what the first event would otherwise pay: credentials, endpoint resolution,
    /// DNS, the TCP and TLS handshake, request signing. The request is an `UpdateItem` (the only
    /// action the role has) that DynamoDB refuses as invalid — it names a value placeholder it
    /// does not define — after authenticating it and before touching the table: nothing is
    /// written or billed, and the answer comes back without a storage round trip.
    pub async fn warm_up(&self) -> Result<(), StoreError> {
        let request = self
            .client
            .update_item()
            .table_name(&self.table_name)
            .key("contactId", AttributeValue::S("warm-up".to_owned()))
            .update_expression("SET #warmUp = :undefined")
            .expression_attribute_names("#warmUp", "warmUp")
            .customize()
            // One attempt: a refused request is the expected answer, not one to retry.
            .config_override(
                aws_sdk_dynamodb::config::Builder::default()
                    .retry_config(RetryConfig::standard().with_max_attempts(1)),
            )
            .send();
        // A slow table would hold init (and the first event) hostage: give up early.
        let result = tokio::time::timeout(WARM_UP_TIMEOUT, request)
            .await
            .map_err(|_| StoreError {
                operation: "warming up",
                message: format!("no answer within {} ms", WARM_UP_TIMEOUT.as_millis()),
            })?;
        match result {
            Ok(_) => Ok(()),
            // DynamoDB answered (`ValidationException`): connection, credentials and signing work.
            Err(error) if error.code() == Some("ValidationException") => Ok(()),
            Err(error) => Err(StoreError {
                operation: "warming up",
                message: DisplayErrorContext(&error).to_string(),
            }),
        }
    }
}

impl ContactStore for DynamoDbStore {
    async fn write(&self, write: &Write<'_>) -> Result<Answer, StoreError> {
        let update = UpdateExpression::of(write)?;
        let attempts = RequestCounter::default();
        let request = self
            .client
            .update_item()
            .table_name(&self.table_name)
            .key("contactId", AttributeValue::S(write.contact_id.to_owned()))
            .update_expression(update.expression())
            .set_condition_expression(update.condition)
            .set_expression_attribute_names(Some(update.names))
            .set_expression_attribute_values(Some(update.values))
            .return_values(ReturnValue::AllOld)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            // Free, and what the cost figures (and the `writeUnits` log field) are made of.
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .customize()
            .interceptor(attempts.clone());
        let (outcome, write_units) = match request.send().await {
            Ok(output) => {
                let units = output
                    .consumed_capacity
                    .as_ref()
                    .and_then(|consumed| consumed.capacity_units);
                let before = output.attributes;
                // DynamoDB bills a write by the larger of the item before and after, at least 1.
                let units = units.map_or_else(|| write_units(before.as_ref()), billed);
                (
                    WriteOutcome::Written {
                        before: stored(before)?,
                    },
                    units,
                )
            }
            Err(error) => match error.into_service_error() {
                UpdateItemError::ConditionalCheckFailedException(rejected) => {
                    // A rejected conditional write is billed by the stored item's size (min 1);
                    // the rejection does not say, the returned item does.
                    let units = write_units(rejected.item.as_ref());
                    (
                        WriteOutcome::Rejected {
                            current: stored(rejected.item)?,
                        },
                        units,
                    )
                }
                other => {
                    return Err(StoreError {
                        operation: "UpdateItem",
                        message: format!(
                            "{} (after {} attempts)",
                            DisplayErrorContext(&other),
                            attempts.count()
                        ),
                    });
                }
            },
        };
        Ok(Answer {
            outcome,
            retries: attempts.count().saturating_sub(1),
            write_units,
        })
    }
}
