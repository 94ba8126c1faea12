//! The board (docs/wallboard.md, "The board's JSON"): the two live views as read, with the names
//! Connect gives their queues and agents. Pure: no AWS type, no clock; what the page shows is
//! decided here and in `assets/index.html`, nowhere else.

use std::collections::BTreeMap;

use connect_contact_state::view_reader::{Entry, Listing};
use serde::Serialize;

use crate::metrics::Health;
use crate::names::Names;

/// The colours' thresholds the page starts with (a supervisor may change them on the page).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Thresholds {
    /// A contact waiting this long is amber, then red.
    pub wait_amber_seconds: u64,
    pub wait_red_seconds: u64,
    /// An agent with one contact this long (talking, paused or in after-contact work).
    pub contact_amber_seconds: u64,
    pub contact_red_seconds: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Board {
    /// The moment the board was read (RFC 3339): the page counts waits on from it.
    pub generated_at: String,
    pub thresholds: Thresholds,
    /// Every queue Connect names and every queue someone waits in, by name.
    pub queues: Vec<Queue>,
    /// Every agent with a contact, by name.
    pub agents: Vec<Agent>,
    pub freshness: Freshness,
    pub reads: Reads,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Queue {
    pub arn: String,
    /// Connect's name, or the ARN when Connect did not name it.
    pub name: String,
    pub waiting: usize,
    pub oldest_wait_seconds: Option<u64>,
    /// In arrival order.
    pub contacts: Vec<Waiting>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Waiting {
    pub position: usize,
    pub contact_id: String,
    pub channel: Option<String>,
    /// `enqueueTimestamp`.
    pub since: String,
    pub wait_seconds: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Agent {
    pub arn: String,
    pub name: String,
    /// In the order the agent was connected to them.
    pub contacts: Vec<Handling>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Handling {
    pub contact_id: String,
    pub channel: Option<String>,
    /// `with agent`, `paused` or `after-contact work`.
    pub phase: Option<&'static str>,
    /// `connectedToAgentTimestamp`: the index keeps no other moment of the contact.
    pub since: String,
    pub with_agent_seconds: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Freshness {
    /// The newest moment on the board (an enqueue or a connection to an agent), and its age:
    /// on a busy center, how far behind Connect the board is at most.
    pub newest_entry_at: Option<String>,
    pub newest_entry_age_seconds: Option<u64>,
    /// Entries older than the horizon, left out: most likely contacts whose last event was
    /// lost and not yet healed.
    pub left_out: usize,
    pub horizon_hours: u64,
    /// The latest events' lag and the lost events healed today, from the stack's metrics.
    #[serde(flatten)]
    pub health: Health,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reads {
    /// DynamoDB requests and read units this board took.
    pub requests: usize,
    pub read_units: f64,
    /// A view held more than the read budget: the board lists only part of it.
    pub truncated: bool,
    /// Connect named the queues and agents (false: some are shown by ARN).
    pub names_from_connect: bool,
}

/// What the board is built from.
pub struct Read<'a> {
    pub queued: &'a Listing,
    pub with_agent: &'a Listing,
    pub names: &'a Names,
    pub generated_at: String,
    pub thresholds: Thresholds,
    pub horizon_hours: u64,
    pub health: Health,
}

pub fn build(read: Read<'_>) -> Board {
    let names = read.names;
    let mut queues: BTreeMap<String, Queue> = BTreeMap::new();
    for (arn, name) in names.standard_queues() {
        queues.insert(arn.clone(), queue(arn.clone(), name.clone(), Vec::new()));
    }
    for group in &read.queued.groups {
        let contacts: Vec<Waiting> = group.entries.iter().map(waiting).collect();
        let name = names.queue(&group.arn);
        queues.insert(group.arn.clone(), queue(group.arn.clone(), name, contacts));
    }
    let mut queues: Vec<Queue> = queues.into_values().collect();
    queues.sort_by(|a, b| (&a.name, &a.arn).cmp(&(&b.name, &b.arn)));

    let mut agents: Vec<Agent> = read
        .with_agent
        .groups
        .iter()
        .map(|group| Agent {
            arn: group.arn.clone(),
            name: names.agent(&group.arn),
            contacts: group.entries.iter().map(handling).collect(),
        })
        .collect();
    agents.sort_by(|a, b| (&a.name, &a.arn).cmp(&(&b.name, &b.arn)));

    let newest = [read.queued, read.with_agent]
        .into_iter()
        .flat_map(|listing| &listing.groups)
        .flat_map(|group| &group.entries)
        .min_by_key(|entry| entry.age_seconds);
    Board {
        generated_at: read.generated_at,
        thresholds: read.thresholds,
        queues,
        agents,
        freshness: Freshness {
            newest_entry_at: newest.map(|entry| entry.since.clone()),
            newest_entry_age_seconds: newest.map(|entry| entry.age_seconds),
            left_out: read.queued.left_out + read.with_agent.left_out,
            horizon_hours: read.horizon_hours,
            health: read.health,
        },
        reads: Reads {
            requests: read.queued.requests + read.with_agent.requests,
            read_units: read.queued.read_units + read.with_agent.read_units,
            truncated: read.queued.truncated || read.with_agent.truncated,
            names_from_connect: names.from_connect(),
        },
    }
}

fn queue(arn: String, name: String, contacts: Vec<Waiting>) -> Queue {
    Queue {
        arn,
        name,
        waiting: contacts.len(),
        oldest_wait_seconds: contacts.iter().map(|c| c.wait_seconds).max(),
        contacts,
    }
}

fn waiting(entry: &Entry) -> Waiting {
    Waiting {
        position: entry.position,
        contact_id: entry.contact_id.clone(),
        channel: entry.channel.clone(),
        since: entry.since.clone(),
        wait_seconds: entry.age_seconds,
    }
}

fn handling(entry: &Entry) -> Handling {
    Handling {
        contact_id: entry.contact_id.clone(),
        channel: entry.channel.clone(),
        phase: entry.phase,
        since: entry.since.clone(),
        with_agent_seconds: entry.age_seconds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use connect_contact_state::view_reader::Group;

    const INSTANCE: &str = "arn:aws:connect:us-east-1:111122223333:instance/i";

    fn entry(position: usize, id: &str, state: &str, age: u64) -> Entry {
        Entry {
            position,
            contact_id: id.to_owned(),
            state: Some(state.to_owned()),
            phase: contact_state_core::views::phase(state),
            channel: Some("VOICE".to_owned()),
            since: format!("2026-12-04T10:00:{:02}.000Z", 59 - age.min(59)),
            age_seconds: age,
        }
    }

    fn listing(view: &'static str, groups: Vec<Group>, left_out: usize) -> Listing {
        Listing {
            view,
            groups,
            left_out,
            requests: 1,
            truncated: false,
            read_units: 0.5,
        }
    }

    fn board(queued: &Listing, with_agent: &Listing, names: &Names) -> Board {
        build(Read {
            queued,
            with_agent,
            names,
            generated_at: "2026-12-04T10:01:00Z".to_owned(),
            thresholds: Thresholds {
                wait_amber_seconds: 60,
                wait_red_seconds: 180,
                contact_amber_seconds: 600,
                contact_red_seconds: 1200,
            },
            horizon_hours: 24,
            health: Health {
                metrics: "off",
                lag_max_ms: None,
                lag_minute: None,
                healed: None,
                healed_since: "2026-12-04T00:00:00Z".to_owned(),
                reconcile_every_minutes: 0,
            },
        })
    }

    #[test]
    fn each_queue_shows_its_waiting_contacts_in_arrival_order_under_connects_name() {
        let sales = format!("{INSTANCE}/queue/sales");
        let queued = listing(
            "queued",
            vec![Group {
                arn: sales.clone(),
                entries: vec![
                    entry(1, "first", "QUEUED", 40),
                    entry(2, "second", "QUEUED", 5),
                ],
            }],
            0,
        );
        let names = Names::from_lists(vec![(sales.clone(), "Sales".to_owned())], Vec::new(), true);
        let board = board(&queued, &listing("withAgent", vec![], 0), &names);
        let [queue] = board.queues.as_slice() else {
            panic!("one queue: {:?}", board.queues)
        };
        assert_eq!(queue.name, "Sales");
        assert_eq!(queue.waiting, 2);
        assert_eq!(queue.oldest_wait_seconds, Some(40));
        let order: Vec<_> = queue
            .contacts
            .iter()
            .map(|c| c.contact_id.as_str())
            .collect();
        assert_eq!(order, ["first", "second"]);
    }

    #[test]
    fn a_named_queue_nobody_waits_in_shows_with_none_waiting() {
        let names = Names::from_lists(
            vec![(format!("{INSTANCE}/queue/support"), "Support".to_owned())],
            Vec::new(),
            true,
        );
        let empty = listing("queued", vec![], 0);
        let board = board(&empty, &listing("withAgent", vec![], 0), &names);
        assert_eq!(board.queues.len(), 1);
        assert_eq!(board.queues[0].waiting, 0);
        assert_eq!(board.queues[0].oldest_wait_seconds, None);
    }

    #[test]
    fn without_names_from_connect_queues_and_agents_show_by_arn() {
        let agent = format!("{INSTANCE}/agent/a1");
        let with_agent = listing(
            "withAgent",
            vec![Group {
                arn: agent.clone(),
                entries: vec![entry(1, "c1", "DISCONNECTED", 700)],
            }],
            0,
        );
        let names = Names::from_lists(Vec::new(), Vec::new(), false);
        let board = board(&listing("queued", vec![], 0), &with_agent, &names);
        assert_eq!(board.agents[0].name, agent);
        assert_eq!(
            board.agents[0].contacts[0].phase,
            Some("after-contact work")
        );
        assert!(!board.reads.names_from_connect);
    }

    #[test]
    fn freshness_is_the_newest_entry_and_left_out_counts_both_views() {
        let queued = listing(
            "queued",
            vec![Group {
                arn: format!("{INSTANCE}/queue/q"),
                entries: vec![entry(1, "old", "QUEUED", 50), entry(2, "new", "QUEUED", 3)],
            }],
            2,
        );
        let with_agent = listing("withAgent", vec![], 1);
        let names = Names::from_lists(Vec::new(), Vec::new(), true);
        let board = board(&queued, &with_agent, &names);
        assert_eq!(board.freshness.newest_entry_age_seconds, Some(3));
        assert_eq!(board.freshness.left_out, 3);
        assert_eq!(board.reads.requests, 2);
        assert!((board.reads.read_units - 1.0).abs() < 1e-9);
    }
}
