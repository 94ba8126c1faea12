//! The DynamoDB adapter: turns a [`Write`] into one conditional `UpdateItem`. The only module that
//! knows expression strings and attribute values.
//!
//! Both answers carry the item as it was (`ReturnValues` and `ReturnValuesOnConditionCheckFailure`
//! = `ALL_OLD`), so a rejected write can be planned again without a read:
//! <https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateItem.html>.

use std::collections::HashMap;
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
use aws_sdk_dynamodb::error::{BoxError, DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ReturnConsumedCapacity, ReturnValue, ReturnValuesOnConditionCheckFailure,
};
use serde::Deserialize;
use serde_dynamo::aws_sdk_dynamodb_1::{from_item, to_attribute_value};

use contact_state_core::facts::{self, PLACES, ROUTING_ACTIVATION, TAGS, TAGS_KEY, VIEWS};
use contact_state_core::plan::{Guard, Stored, Write, listable};
use contact_state_core::store::{Answer, ContactStore, StoreError, WriteOutcome};

type Item = HashMap<String, AttributeValue>;

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
/// The most init spends warming the connection up.
pub const WARM_UP_TIMEOUT: Duration = Duration::from_secs(1);

/// The DynamoDB client with this function's retry policy: the SDK's standard mode (retries
/// throttling, 5xx, timeouts and broken connections; client-side retry quota so an outage does not
/// multiply the load) with the attempts, backoff and timeouts above. The whole write is bounded by
/// the invocation's deadline in the handler, not here.
/// <https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html>
/// A client of the table's DynamoDB; `regional` drops an endpoint URL the environment set empty
/// (the SDK would panic on it) for the region's own.
pub fn client(sdk: &SdkConfig, regional: bool) -> Client {
    let mut config = config(sdk);
    if regional {
        config.set_endpoint_url(None);
    }
    Client::from_conf(config.build())
}

/// [`client`]'s configuration, open for additions (the tests add a request counter).
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
        // the throughput monitor cost 2% of the function's instructions (README "Performance").
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
}

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

/// Whole write units from what DynamoDB reported.
fn billed(units: f64) -> u32 {
    units.ceil().max(1.0) as u32
}

/// Write units a write against `item` is billed at least: one per started KB, at least one.
fn write_units(item: Option<&Item>) -> u32 {
    let size = item.map_or(0, item_size);
    size.div_ceil(1024).max(1) as u32
}

/// An item's size as DynamoDB counts it for capacity: attribute names and values in bytes.
/// <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html>
pub fn item_size(item: &Item) -> usize {
    item.iter()
        .map(|(name, value)| name.len() + value_size(value))
        .sum()
}

fn value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(text) => text.len(),
        // About one byte per two significant digits, plus one.
        AttributeValue::N(number) => {
            let digits = number
                .trim_start_matches('-')
                .replace('.', "")
                .trim_start_matches('0')
                .trim_end_matches('0')
                .len();
            digits.div_ceil(2) + 1
        }
        AttributeValue::B(bytes) => bytes.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        // Lists and maps: 3 bytes, and 1 per element besides the elements themselves.
        AttributeValue::L(values) => 3 + values.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
        AttributeValue::M(map) => {
            3 + map
                .iter()
                .map(|(name, v)| 1 + name.len() + value_size(v))
                .sum::<usize>()
        }
        AttributeValue::Ss(items) => items.iter().map(String::len).sum(),
        AttributeValue::Ns(items) => items.iter().map(|n| n.len().div_ceil(2) + 1).sum(),
        AttributeValue::Bs(items) => items.iter().map(|b| b.as_ref().len()).sum(),
        _ => 0,
    }
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

/// The ordering part of a stored item (attribute names are the table contract).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredKeys {
    state: Option<String>,
    state_key: Option<u64>,
    routing_key: Option<u64>,
    last_event_at: Option<i64>,
    tags_key: Option<u64>,
}

/// The planner's view of a stored item (ordering keys, which facts it has); empty for none.
pub fn stored(item: Option<Item>) -> Result<Stored, StoreError> {
    let Some(item) = item else {
        return Ok(Stored::default());
    };
    let facts = facts::attributes()
        .filter(|name| item.contains_key(*name))
        .collect();
    let text = |name: &str| item.get(name).and_then(|value| value.as_s().ok()).cloned();
    let place_keys = PLACES.map(|place| {
        item.get(place.key)
            .and_then(|key| key.as_n().ok())
            .and_then(|key| key.parse().ok())
    });
    let place_arns = PLACES
        .map(|place| text(place.arn).and_then(|arn| listable(&arn, text(place.since).as_deref())));
    let views = VIEWS.map(|view| text(view.attribute));
    let keys: StoredKeys = from_item(item).map_err(|error| StoreError {
        operation: "reading the stored item",
        message: error.to_string(),
    })?;
    Ok(Stored {
        state: keys.state,
        state_key: keys.state_key,
        routing_key: keys.routing_key,
        last_event_at: keys.last_event_at,
        tags_key: keys.tags_key,
        place_keys,
        place_arns,
        views,
        facts,
    })
}

/// `SET` clause, condition and placeholders of one write. Placeholders are named after their
/// attribute (`#state`, `:state`) so the expressions read like the item.
struct UpdateExpression {
    set: String,
    remove: String,
    condition: Option<String>,
    names: HashMap<String, String>,
    values: Item,
}

impl UpdateExpression {
    fn of(write: &Write<'_>) -> Result<Self, StoreError> {
        let mut update = UpdateExpression {
            set: String::with_capacity(512),
            remove: String::new(),
            condition: None,
            names: HashMap::new(),
            values: HashMap::new(),
        };
        if let Some(change) = write.state {
            update.set("state", AttributeValue::S(change.state.to_owned()));
            update.set_key("stateKey", change.key, "<");
        }
        if let Some(change) = write.routing {
            update.set("routingCriteriaIndex", number(change.index));
            let steps = to_attribute_value(&change.steps).map_err(|error| StoreError {
                operation: "encoding routingSteps",
                message: error.to_string(),
            })?;
            update.set("routingSteps", steps);
            match &change.activated_at {
                Some(at) => update.set(ROUTING_ACTIVATION, AttributeValue::S(at.clone())),
                None => update.remove(ROUTING_ACTIVATION),
            }
            update.set_key("routingKey", change.key, "<");
        }
        if let Some((freshness, guard)) = write.freshness {
            update.set("expiresAt", number(freshness.expires_at));
            let comparison = match guard {
                Guard::Newer => "<",
                Guard::NotOlder => "<=",
            };
            update.set_key("lastEventAt", freshness.event_time, comparison);
        }
        for change in &write.places {
            update.set(change.place.arn, AttributeValue::S(change.arn.clone()));
            if let Some(since) = &change.since {
                update.set(change.place.since, AttributeValue::S(since.clone()));
            }
            // `<=`: an equal key is the same pair (the ARN's hash breaks ties), so an event that
            // repeats where the contact is does not make the write fail.
            update.set_key(change.place.key, change.key, "<=");
            // What the event says of this queue or agent replaces what was said of the last.
            for (detail, value) in change.place.details.iter().zip(&change.details) {
                match value {
                    Some(value) => update.set(detail.attribute, AttributeValue::S(value.clone())),
                    None => update.remove(detail.attribute),
                }
            }
        }
        if let Some(change) = write.tags {
            let tags = change
                .tags
                .iter()
                .map(|(key, value)| (key.clone(), AttributeValue::S(value.clone())))
                .collect();
            update.set(TAGS, AttributeValue::M(tags));
            update.set_key(TAGS_KEY, change.key, "<=");
        }
        for (attribute, value) in &write.views {
            match value {
                Some(arn) => update.set(attribute, AttributeValue::S(arn.clone())),
                None => update.remove(attribute),
            }
        }
        if let Some(pins) = &write.pins {
            update.pin("stateKey", pins.state_key);
            for (place, key) in PLACES.iter().zip(pins.place_keys) {
                update.pin(place.key, key);
            }
        }
        for (name, value) in &write.facts {
            update.name(name);
            update
                .values
                .insert(format!(":{name}"), AttributeValue::S((*value).to_owned()));
            update.clause(&format!("#{name} = if_not_exists(#{name}, :{name})"));
        }
        Ok(update)
    }

    fn name(&mut self, name: &str) {
        self.names.insert(format!("#{name}"), name.to_owned());
    }

    fn clause(&mut self, clause: &str) {
        self.set
            .push_str(if self.set.is_empty() { "SET " } else { ", " });
        self.set.push_str(clause);
    }

    fn remove(&mut self, name: &str) {
        self.name(name);
        self.remove.push_str(if self.remove.is_empty() {
            "REMOVE "
        } else {
            ", "
        });
        self.remove.push_str(&format!("#{name}"));
    }

    /// Conditions the write on `name` still holding `key` (absent for `None`).
    fn pin(&mut self, name: &str, key: Option<u64>) {
        self.name(name);
        let guard = match key {
            Some(key) => {
                self.values
                    .insert(format!(":{name}Pin"), AttributeValue::N(key.to_string()));
                format!("#{name} = :{name}Pin")
            }
            None => format!("attribute_not_exists(#{name})"),
        };
        self.and(guard);
    }

    fn and(&mut self, guard: String) {
        self.condition = Some(match self.condition.take() {
            None => guard,
            Some(conditions) => format!("{conditions} AND {guard}"),
        });
    }

    /// The whole update expression: `SET …` and `REMOVE …`.
    fn expression(&self) -> String {
        match (self.set.is_empty(), self.remove.is_empty()) {
            (_, true) => self.set.clone(),
            (true, false) => self.remove.clone(),
            (false, false) => format!("{} {}", self.set, self.remove),
        }
    }

    fn set(&mut self, name: &str, value: AttributeValue) {
        self.name(name);
        self.values.insert(format!(":{name}"), value);
        self.clause(&format!("#{name} = :{name}"));
    }

    /// Sets an ordering key, on condition that the stored key is absent or `comparison` ours.
    fn set_key(&mut self, name: &str, key: impl ToString, comparison: &str) {
        self.set(name, AttributeValue::N(key.to_string()));
        self.and(format!(
            "(attribute_not_exists(#{name}) OR #{name} {comparison} :{name})"
        ));
    }
}

fn number(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}
