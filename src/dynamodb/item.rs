//! Reading what DynamoDB hands back: the stored item as the planner sees it, and what a write
//! against it is billed.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use contact_state_core::bookkeeping::{LAST_EVENT_AT, ROUTING_KEY, STATE_KEY, TAGS_KEY, former};
use contact_state_core::facts::{self, PLACES};
use contact_state_core::store::{StoreError, StoredItem};
use contact_state_core::views::{VIEWS, listable};

/// An item as the SDK carries it.
pub type Item = HashMap<String, AttributeValue>;

/// The planner's view of a stored item (ordering keys, which facts it has); empty for none.
pub fn stored(item: Option<Item>) -> Result<StoredItem, StoreError> {
    let Some(item) = item else {
        return Ok(StoredItem::default());
    };
    let facts = facts::attributes()
        .filter(|name| item.contains_key(*name))
        .collect();
    let text = |name: &str| item.get(name).and_then(|value| value.as_s().ok()).cloned();
    // A bookkeeping number, under its name or (an item not written since) its former one.
    fn number<T: std::str::FromStr>(item: &Item, name: &str) -> Option<T> {
        item.get(name)
            .or_else(|| former(name).and_then(|former| item.get(former)))
            .and_then(|key| key.as_n().ok())
            .and_then(|key| key.parse().ok())
    }
    let key = |name: &str| number::<u64>(&item, name);
    let place_keys = PLACES.map(|place| key(place.key));
    let listable_arns = PLACES
        .map(|place| text(place.arn).and_then(|arn| listable(&arn, text(place.since).as_deref())));
    let views = VIEWS.map(|view| text(view.attribute));
    let state = match item.get("state") {
        None => None,
        Some(state) => Some(state.as_s().cloned().map_err(|_| StoreError {
            operation: "reading the stored item",
            message: "state is not a string".into(),
        })?),
    };
    Ok(StoredItem {
        state,
        state_key: key(STATE_KEY),
        routing_key: key(ROUTING_KEY),
        last_event_at: number(&item, LAST_EVENT_AT),
        tags_key: key(TAGS_KEY),
        place_keys,
        listable_arns,
        views,
        facts,
    })
}

/// Whole write units from what DynamoDB reported.
pub(super) fn billed(units: f64) -> u32 {
    units.ceil().max(1.0) as u32
}

/// Write units a write against `item` is billed at least: one per started KB, at least one.
pub(super) fn write_units(item: Option<&Item>) -> u32 {
    let size = item.map_or(0, item_size);
    size.div_ceil(1024).max(1) as u32
}

/// An item's size as DynamoDB counts it for capacity: attribute names and values in bytes.
/// <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html>
pub fn item_size(item: &Item) -> usize {
    item.iter()
        .map(|(name, value)| attribute_size(name, value))
        .sum()
}

/// One attribute's share of [`item_size`]: its name and its value.
pub fn attribute_size(name: &str, value: &AttributeValue) -> usize {
    name.len() + value_size(value)
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
