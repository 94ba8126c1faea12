//! The one place that knows DynamoDB's expression language: a [`Write`] as the `SET` /
//! `REMOVE` clauses, the condition and the placeholders of one `UpdateItem`.
//! <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.UpdateExpressions.html>

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_dynamo::aws_sdk_dynamodb_1::to_attribute_value;

use contact_state_core::bookkeeping::{
    LAST_EVENT_AT, RETIRED_WITH_ROUTING, ROUTING_KEY, STATE_KEY, TAGS_KEY, former,
};
use contact_state_core::facts::{self, PLACES, Read, TAGS};
use contact_state_core::store::{Guard, StoreError, Write};

use super::item::Item;

/// `SET` clause, condition and placeholders of one write. Placeholders are named after their
/// attribute (`#state`, `:state`) so the expressions read like the item.
pub(super) struct UpdateExpression {
    set: String,
    remove: String,
    pub(super) condition: Option<String>,
    pub(super) names: HashMap<String, String>,
    pub(super) values: Item,
}

impl UpdateExpression {
    pub(super) fn of(write: &Write<'_>) -> Result<Self, StoreError> {
        let mut update = UpdateExpression {
            set: String::with_capacity(512),
            remove: String::new(),
            condition: None,
            names: HashMap::new(),
            values: HashMap::new(),
        };
        if let Some(change) = write.state {
            update.set("state", AttributeValue::S(change.state.to_owned()));
            update.set_key(STATE_KEY, change.key, "<");
        }
        if let Some(change) = write.routing {
            update.set("routingCriteriaIndex", number(change.index));
            let steps = to_attribute_value(&change.steps).map_err(|error| StoreError {
                operation: "encoding routingSteps",
                message: error.to_string(),
            })?;
            update.set("routingSteps", steps);
            update.remove(RETIRED_WITH_ROUTING);
            update.set_key(ROUTING_KEY, change.key, "<");
        }
        if let Some((freshness, guard)) = write.freshness {
            update.set("expiresAt", number(freshness.expires_at));
            let comparison = match guard {
                Guard::Newer => "<",
                Guard::NotOlder => "<=",
            };
            update.set_key(LAST_EVENT_AT, freshness.event_time, comparison);
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
        if let Some(basis) = &write.view_basis {
            update.pin(STATE_KEY, basis.state_key);
            for (place, key) in PLACES.zip(basis.place_keys).into_iter() {
                update.pin(place.key, key);
            }
        }
        for (name, value) in &write.facts {
            update.name(name);
            let value = match facts::read_of(name) {
                Some(Read::Seconds) => AttributeValue::N((*value).to_owned()),
                _ => AttributeValue::S((*value).to_owned()),
            };
            update.values.insert(format!(":{name}"), value);
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

    /// Conditions the write on the key `name` still holding `key` (absent for `None`), under
    /// its name or, on an item not written since the rename, its former one.
    fn pin(&mut self, name: &str, key: Option<u64>) {
        self.name(name);
        let former = former(name);
        if let Some(former) = former {
            self.name(former);
        }
        let guard = match (key, former) {
            (Some(key), former) => {
                self.values
                    .insert(format!(":{name}Pin"), AttributeValue::N(key.to_string()));
                match former {
                    Some(former) => format!(
                        "(#{name} = :{name}Pin OR (attribute_not_exists(#{name}) AND #{former} = :{name}Pin))"
                    ),
                    None => format!("#{name} = :{name}Pin"),
                }
            }
            (None, Some(former)) => {
                format!("attribute_not_exists(#{name}) AND attribute_not_exists(#{former})")
            }
            (None, None) => format!("attribute_not_exists(#{name})"),
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
    pub(super) fn expression(&self) -> String {
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

    /// Sets an ordering key, on condition that the stored key is absent or `comparison` ours;
    /// the same for the key under its former name, which the write removes.
    fn set_key(&mut self, name: &str, key: impl ToString, comparison: &str) {
        self.set(name, AttributeValue::N(key.to_string()));
        self.and(format!(
            "(attribute_not_exists(#{name}) OR #{name} {comparison} :{name})"
        ));
        if let Some(former) = former(name) {
            self.remove(former);
            self.and(format!(
                "(attribute_not_exists(#{former}) OR #{former} {comparison} :{name})"
            ));
        }
    }
}

fn number(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}
