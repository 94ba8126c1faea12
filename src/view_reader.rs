//! Reading the live views (docs/contract.md, "Live views") and one contact, for `contact-views`
//! and the wallboard: who waits in which queue, in arrival order; what each agent is handling;
//! one item, readable. Only the indexes are read (a view lists a few hundred contacts at most), never the table by Scan.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};
use serde::Serialize;
use serde_dynamo::aws_sdk_dynamodb_1::from_item;

use contact_state_core::views::{self, View};

type Item = std::collections::HashMap<String, AttributeValue>;

/// One contact listed in a view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// 1 for the first to arrive in its queue (or to be connected to its agent).
    pub position: usize,
    pub contact_id: String,
    pub state: Option<String>,
    /// What the contact is doing: `waiting`, `with agent`, `paused`, `after-contact work`.
    pub phase: Option<&'static str>,
    pub channel: Option<String>,
    /// When it entered: `enqueueTimestamp` or `connectedToAgentTimestamp`.
    pub since: String,
    /// How long ago that was, in seconds.
    pub age_seconds: u64,
}

/// The contacts of one queue or agent, in arrival order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    /// The queue's or agent's ARN.
    pub arn: String,
    pub entries: Vec<Entry>,
}

/// A view as read: its groups, and how many entries were older than the horizon.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Listing {
    pub view: &'static str,
    pub groups: Vec<Group>,
    /// Entries left out as older than the horizon: most likely contacts whose last event was
    /// lost (Connect's events are best effort).
    pub left_out: usize,
    /// DynamoDB requests the read took (pages of one Query or Scan of the index).
    pub requests: usize,
    /// The read stopped at [`MAX_PAGES`]: more entries exist than are listed.
    pub truncated: bool,
    /// Read capacity units the read consumed, as DynamoDB reports them (what it is billed).
    pub read_units: f64,
}

/// Pages one read takes at most: a page of a sparse index holds up to 1 MB, thousands of
/// entries, so this lists tens of thousands of live contacts and bounds a read's time.
pub const MAX_PAGES: usize = 20;

#[derive(Debug, thiserror::Error)]
#[error("reading {what} failed: {message}")]
pub struct ReadError {
    what: String,
    message: String,
}

fn text(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|value| value.as_s().ok()).cloned()
}

/// Reads `view` from `table`: every queue (or agent) with a Scan of its sparse index, or one with
/// a Query when `arn` is given. Entries whose `since` is older than `horizon` are left out and
/// counted.
pub async fn read(
    client: &Client,
    table: &str,
    view: &View,
    arn: Option<&str>,
    now: SystemTime,
    horizon: Option<Duration>,
) -> Result<Listing, ReadError> {
    let since_attribute = view.sort_key();
    let failed = |error: String| ReadError {
        what: format!("the {} view of {table}", view.index),
        message: error,
    };
    // The SDK's paginators follow `LastEvaluatedKey`; each page is one request.
    let mut items: Vec<Item> = Vec::new();
    let mut requests = 0;
    let mut truncated = false;
    let mut read_units = 0.0;
    macro_rules! every_page {
        ($request:expr) => {
            let mut pages = $request.into_paginator().send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| failed(DisplayErrorContext(&e).to_string()))?;
                requests += 1;
                read_units += page
                    .consumed_capacity
                    .as_ref()
                    .and_then(|consumed| consumed.capacity_units)
                    .unwrap_or_default();
                let more = page.last_evaluated_key.is_some();
                items.extend(page.items.unwrap_or_default());
                if requests == MAX_PAGES && more {
                    truncated = true;
                    break;
                }
            }
        };
    }
    match arn {
        Some(arn) => {
            every_page!(
                client
                    .query()
                    .table_name(table)
                    .index_name(view.index)
                    .key_condition_expression("#place = :place")
                    .expression_attribute_names("#place", view.attribute)
                    .expression_attribute_values(":place", AttributeValue::S(arn.to_owned()))
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
            );
        }
        None => {
            every_page!(
                client
                    .scan()
                    .table_name(table)
                    .index_name(view.index)
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
            );
        }
    }
    let mut groups: BTreeMap<String, Vec<Entry>> = BTreeMap::new();
    let mut left_out = 0;
    for item in &items {
        let (Some(place), Some(since), Some(contact_id)) = (
            text(item, view.attribute),
            text(item, since_attribute),
            text(item, "contactId"),
        ) else {
            continue;
        };
        let age = chrono::DateTime::parse_from_rfc3339(&since)
            .ok()
            .and_then(|at| now.duration_since(SystemTime::from(at)).ok())
            .unwrap_or_default();
        if horizon.is_some_and(|horizon| age > horizon) {
            left_out += 1;
            continue;
        }
        groups.entry(place).or_default().push(Entry {
            position: 0,
            contact_id,
            phase: text(item, "state").as_deref().and_then(views::phase),
            state: text(item, "state"),
            channel: text(item, "channel"),
            since,
            age_seconds: age.as_secs(),
        });
    }
    let groups = groups
        .into_iter()
        .map(|(arn, mut entries)| {
            // Arrival order; timestamps of one format sort as text, the id breaks ties.
            entries.sort_by(|a, b| (&a.since, &a.contact_id).cmp(&(&b.since, &b.contact_id)));
            for (i, entry) in entries.iter_mut().enumerate() {
                entry.position = i + 1;
            }
            Group { arn, entries }
        })
        .collect();
    Ok(Listing {
        view: view.index,
        groups,
        left_out,
        requests,
        truncated,
        read_units,
    })
}

/// One contact's item, attribute by attribute (numbers and strings as text, lists and maps as
/// JSON), or `None` when the table has no such contact.
pub async fn contact(
    client: &Client,
    table: &str,
    contact_id: &str,
) -> Result<Option<BTreeMap<String, serde_json::Value>>, ReadError> {
    let output = client
        .get_item()
        .table_name(table)
        .key("contactId", AttributeValue::S(contact_id.to_owned()))
        .send()
        .await
        .map_err(|e| ReadError {
            what: format!("contact {contact_id} in {table}"),
            message: DisplayErrorContext(&e).to_string(),
        })?;
    // Numbers and strings as JSON numbers and strings, lists and maps as JSON.
    output
        .item
        .map(from_item)
        .transpose()
        .map_err(|e| ReadError {
            what: format!("contact {contact_id} in {table}"),
            message: e.to_string(),
        })
}

/// `1h 05m`, `4m 20s`, `12s`: how long, for people.
pub fn age(seconds: u64) -> String {
    match seconds {
        s if s >= 86_400 => format!("{}d {:02}h", s / 86_400, s % 86_400 / 3_600),
        s if s >= 3_600 => format!("{}h {:02}m", s / 3_600, s % 3_600 / 60),
        s if s >= 60 => format!("{}m {:02}s", s / 60, s % 60),
        s => format!("{s}s"),
    }
}

/// A listing as a table for people.
pub fn render(listing: &Listing, place: &str) -> String {
    let mut out = String::new();
    if listing.groups.is_empty() {
        out.push_str(&format!(
            "no {place} has contacts in the {} view\n",
            listing.view
        ));
    }
    for group in &listing.groups {
        let oldest = group
            .entries
            .iter()
            .map(|e| e.age_seconds)
            .max()
            .unwrap_or(0);
        out.push_str(&format!(
            "{place} {}: {} contact{}, oldest {}\n",
            group.arn,
            group.entries.len(),
            if group.entries.len() == 1 { "" } else { "s" },
            age(oldest)
        ));
        for entry in &group.entries {
            out.push_str(&format!(
                "  {:>3}  {:<36}  {:<18}  {:<20}  {:<6}  since {}  ({})\n",
                entry.position,
                entry.contact_id,
                entry.phase.unwrap_or("-"),
                entry.state.as_deref().unwrap_or("-"),
                entry.channel.as_deref().unwrap_or("-"),
                entry.since,
                age(entry.age_seconds)
            ));
        }
    }
    if listing.left_out > 0 {
        out.push_str(&format!(
            "left out: {} entr{} older than the horizon (a lost last event leaves a contact listed)\n",
            listing.left_out,
            if listing.left_out == 1 { "y" } else { "ies" }
        ));
    }
    if listing.truncated {
        out.push_str(&format!(
            "truncated: the view holds more than {MAX_PAGES} pages; query one queue or agent\n"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_as_people_say_them() {
        assert_eq!(age(12), "12s");
        assert_eq!(age(260), "4m 20s");
        assert_eq!(age(3_900), "1h 05m");
        assert_eq!(age(90_000), "1d 01h");
    }
}
