//! Who the views list, as the run sees them: each contact once, with the ARNs it is listed
//! under, its instance, and how long it has been listed; and which of them are due for a look.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use lambda_runtime::tracing::{self, Level};

use connect_contact_state::view_reader;
use contact_state_core::views::VIEWS;

use crate::config::Settings;

/// A contact the views list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub contact_id: String,
    /// The view it was first seen in (`queued`, `withAgent`).
    pub view: &'static str,
    /// The queue and agent ARNs it is listed under.
    pub arns: Vec<String>,
    /// From the entry's queue or agent ARN (`…:instance/<id>/queue/<id>`).
    pub instance_arn: String,
    pub listed_for: Duration,
}

/// The instance ARN a queue or agent ARN belongs to.
pub fn instance_of(place_arn: &str) -> Option<&str> {
    let end = place_arn
        .find("/queue/")
        .or_else(|| place_arn.find("/agent/"))?;
    place_arn.get(..end)
}

/// Every contact of both views, each once (listed the longest of its entries), and the
/// number of entries.
pub async fn listed(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    now: SystemTime,
) -> Result<(usize, Vec<Listed>), view_reader::ReadError> {
    let mut entries = 0;
    let mut by_id: HashMap<String, Listed> = HashMap::new();
    for view in VIEWS {
        let listing = view_reader::read(client, table, &view, None, now, None).await?;
        if listing.truncated {
            // Still a run: the next ones list again, and heal what this one reaches.
            tracing::event!(
                Level::WARN,
                reconcile = "list",
                view = view.index,
                truncated = true
            );
        }
        for group in listing.groups {
            entries += group.entries.len();
            let Some(instance_arn) = instance_of(&group.arn) else {
                continue;
            };
            for entry in group.entries {
                let listed_for = Duration::from_secs(entry.age_seconds);
                let contact = by_id
                    .entry(entry.contact_id.clone())
                    .or_insert_with(|| Listed {
                        contact_id: entry.contact_id,
                        view: view.index,
                        arns: Vec::new(),
                        instance_arn: instance_arn.to_owned(),
                        listed_for,
                    });
                contact.arns.push(group.arn.clone());
                contact.listed_for = contact.listed_for.max(listed_for);
            }
        }
    }
    let mut listed: Vec<Listed> = by_id.into_values().collect();
    listed.sort_by(|a, b| a.contact_id.cmp(&b.contact_id));
    Ok((entries, listed))
}

/// Whether `contact` is listed longer than its view's threshold.
pub fn is_due(contact: &Listed, settings: &Settings) -> bool {
    let threshold = if contact.view == VIEWS.queued.index {
        settings.queued_after()
    } else {
        settings.with_agent_after()
    };
    contact.listed_for >= threshold
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_instance_is_the_arn_before_the_queue_or_agent() {
        let instance = "arn:aws:connect:us-east-1:111122223333:instance/i-1";
        assert_eq!(
            instance_of(&format!("{instance}/queue/q-1")),
            Some(instance)
        );
        assert_eq!(
            instance_of(&format!("{instance}/agent/a-1")),
            Some(instance)
        );
        assert_eq!(instance_of("arn:q"), None);
    }
}
