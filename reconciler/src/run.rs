//! One run of the reconciler: list the views' entries; first search Connect for the contacts
//! that disconnected since a little before the previous run, and for those connected to an agent
//! (`SearchContacts`), and heal at once every listed one the search shows disconnected (or, listed
//! as waiting, with an agent), whatever its age; then ask Connect (`DescribeContact`) about the
//! entries listed longer than their view's threshold, least recently asked first
//! ([`Rotation`]); apply what Connect says through the core's rules and the table's conditional
//! writes, and log one line per contact looked at plus one for the run. Every call is paced
//! under Connect's quota, and a look (the call and its writes) starts only while it fits before
//! the deadline; whatever a run leaves, the next one lists again.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;
use tokio::time::Interval;

use lambda_runtime::tracing::{self, Level};

use connect_contact_state::dynamodb::DynamoDbStore;
use connect_contact_state::view_reader;
use contact_state_core::apply::{Target, apply};
use contact_state_core::clock;
use contact_state_core::outcome::{Outcome, Tally};
use contact_state_core::recent::RecentItems;
use contact_state_core::reconcile::{self, ConnectSays, Verdict};
use contact_state_core::views::VIEWS;

use crate::config::Settings;
use crate::connect::{Answer, Connect, Moment, OPERATION_TIMEOUT};
use crate::listed::{Listed, is_due, listed};
use crate::rotation::Rotation;
use crate::window::{LOOK_TIMEOUT, SEARCH_PAGES_MAX, search_window};

/// The table, as the run reads and writes it.
pub struct Table<'a> {
    pub client: &'a aws_sdk_dynamodb::Client,
    pub name: &'a str,
    pub store: &'a DynamoDbStore,
    pub retention_days: u32,
}

/// What one run did: the counts of its summary line, and its answer to Lambda.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Contacts listed in the views.
    pub listed: usize,
    /// Listed contacts Connect's search shows disconnected (or, listed as waiting, connected to
    /// an agent): healed at once, whatever their age.
    pub disconnected: usize,
    /// Listed longer than their view's threshold (and not among the disconnected).
    pub due: usize,
    /// `SearchContacts` pages read.
    pub searches: usize,
    /// `DescribeContact` calls.
    pub connect_calls: usize,
    pub healed: usize,
    pub live: usize,
    pub current: usize,
    pub unknown: usize,
    pub failed: usize,
    /// Due contacts left to the next run (the per-run bound, or the deadline).
    pub left: usize,
}

/// One run's calls and writes, until its deadline.
struct Run<'a> {
    table: &'a Table<'a>,
    connect: &'a Connect,
    settings: &'a Settings,
    recent: RecentItems,
    pace: Interval,
    deadline: Instant,
    summary: Summary,
}

/// How Connect's answer about a contact is had.
enum Ask {
    /// `DescribeContact`.
    Describe,
    /// What the search said (a contact without agent: nothing more to ask).
    Said(Box<ConnectSays>),
}

impl Run<'_> {
    /// Waits for the next call's turn (Connect's quota), and says whether a whole look still
    /// fits before the deadline after it.
    async fn turn(&mut self) -> bool {
        self.pace.tick().await;
        Instant::now() + LOOK_TIMEOUT <= self.deadline
    }

    /// The listed contacts Connect's search shows disconnected, and the contacts listed as
    /// waiting that it shows connected to an agent (a lost CONNECTED_TO_AGENT), of every
    /// instance listed: each once, with what the search said.
    async fn search(
        &mut self,
        listed: &[Listed],
        window: (SystemTime, SystemTime),
    ) -> Vec<(usize, Moment, ConnectSays)> {
        let by_id: HashMap<&str, usize> = listed
            .iter()
            .enumerate()
            .map(|(i, contact)| (contact.contact_id.as_str(), i))
            .collect();
        let instances: BTreeSet<&str> = listed
            .iter()
            .map(|contact| contact.instance_arn.as_str())
            .filter(|arn| self.settings.instance_arn().is_none_or(|only| only == *arn))
            .collect();
        let mut found: Vec<(usize, Moment, ConnectSays)> = Vec::new();
        let mut seen = HashSet::new();
        let searches = instances.into_iter().flat_map(|instance| {
            [
                (instance, Moment::Disconnected),
                (instance, Moment::ConnectedToAgent),
            ]
        });
        for (instance, moment) in searches {
            let mut token = None;
            for _ in 0..SEARCH_PAGES_MAX {
                if !self.turn().await {
                    return found;
                }
                self.summary.searches += 1;
                let page = tokio::time::timeout(
                    OPERATION_TIMEOUT,
                    self.connect.search(instance, moment, window, token.take()),
                )
                .await;
                let (contacts, next) = match page {
                    Ok(Ok(page)) => page,
                    Ok(Err(error)) => {
                        self.search_failed(instance, &error.to_string());
                        break;
                    }
                    Err(_) => {
                        self.search_failed(instance, "SearchContacts: timed out");
                        break;
                    }
                };
                for says in contacts {
                    let Some(&index) = by_id.get(says.contact_id.as_str()) else {
                        continue;
                    };
                    let Some(contact) = listed.get(index) else {
                        continue;
                    };
                    // Connected to an agent matters only to a contact still listed as waiting;
                    // one that also disconnected is the other search's.
                    let wanted = contact.instance_arn == instance
                        && match moment {
                            Moment::Disconnected => true,
                            Moment::ConnectedToAgent => {
                                contact.view == VIEWS.queued.index
                                    && says.disconnect_timestamp.is_none()
                            }
                        };
                    if wanted && seen.insert(index) {
                        found.push((index, moment, says));
                    }
                }
                match next {
                    Some(next) => token = Some(next),
                    None => break,
                }
            }
        }
        found
    }

    fn search_failed(&mut self, instance: &str, error: &str) {
        self.summary.failed += 1;
        tracing::event!(
            Level::WARN,
            reconcile = "search",
            instanceArn = instance,
            outcome = "failed",
            error = error,
        );
    }

    /// One look at `contact`: Connect's answer (asked, or as the search said), applied.
    async fn look(&mut self, contact: &Listed, ask: Ask, via: &'static str) {
        let looked = tokio::time::timeout(LOOK_TIMEOUT, self.answer_and_apply(contact, ask)).await;
        let verdict = match looked {
            Ok(Ok(Some(verdict))) => verdict,
            Ok(Ok(None)) => {
                self.summary.unknown += 1;
                log(contact, &Verdict::Unknown, via, Some("not found"));
                return;
            }
            Ok(Err(error)) => {
                self.summary.failed += 1;
                failed(contact, via, &error);
                return;
            }
            Err(_) => {
                self.summary.failed += 1;
                failed(contact, via, "the look timed out");
                return;
            }
        };
        match verdict {
            Verdict::Healed { .. } => self.summary.healed += 1,
            Verdict::Live => self.summary.live += 1,
            Verdict::Current => self.summary.current += 1,
            Verdict::Unknown => self.summary.unknown += 1,
        }
        log(contact, &verdict, via, None);
    }

    /// Connect's answer about `contact`, applied: its verdict, or `None` when Connect does not
    /// know the contact.
    async fn answer_and_apply(
        &mut self,
        contact: &Listed,
        ask: Ask,
    ) -> Result<Option<Verdict>, String> {
        let mut says = match ask {
            Ask::Said(says) => says,
            Ask::Describe => {
                self.summary.connect_calls += 1;
                match self
                    .connect
                    .describe(&contact.instance_arn, &contact.contact_id)
                    .await
                    .map_err(|error| error.to_string())?
                {
                    Answer::Known(says) => says,
                    Answer::Unknown => return Ok(None),
                }
            }
        };
        says.listed_arns.clone_from(&contact.arns);
        let target = Target {
            store: self.table.store,
            recent: &self.recent,
            retention_days: self.table.retention_days,
            views: true,
        };
        let received_at = clock::now_seconds();
        let mut outcomes = Vec::new();
        for event in reconcile::events(&says) {
            let mut tally = Tally::default();
            outcomes.push(apply(&target, &event, received_at, &mut tally).await);
        }
        if let Some(Outcome::Failed(failure)) = outcomes.iter().find(|o| o.is_error()) {
            return Err(failure.to_string());
        }
        Ok(Some(Verdict::of(&says, &outcomes)))
    }
}

/// One run, until `deadline` (the budget's end: the reserve is already kept back), scheduled
/// at `scheduled` ([`crate::window::scheduled_at`]). `rotation` is the environment's memory of
/// whom it asked.
pub async fn run(
    table: &Table<'_>,
    connect: &Connect,
    settings: &Settings,
    rotation: &Mutex<Rotation>,
    deadline: Instant,
    scheduled: SystemTime,
) -> Result<Summary, view_reader::ReadError> {
    let now = SystemTime::now();
    let (entries, listed) = listed(table.client, table.name, now)
        .await
        .inspect_err(|error| {
            // The run's own line says why it failed, not only the Errors metric.
            tracing::event!(Level::ERROR, reconcile = "run", outcome = "failed", error = %error);
        })?;
    let mut pace = tokio::time::interval(Duration::from_secs_f64(1.0 / settings.calls_per_second));
    pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut run = Run {
        table,
        connect,
        settings,
        recent: RecentItems::default(),
        pace,
        deadline,
        summary: Summary {
            listed: entries,
            ..Summary::default()
        },
    };

    // 1. What Connect's search shows: lost events, whatever their age.
    let window = search_window(scheduled, settings.every(), now);
    let disconnected = if listed.is_empty() {
        Vec::new()
    } else {
        run.search(&listed, window).await
    };
    run.summary.disconnected = disconnected.len();
    let mut done: HashSet<usize> = HashSet::new();
    for (index, moment, says) in disconnected {
        let Some(contact) = listed.get(index) else {
            continue;
        };
        done.insert(index);
        // The search gives no after-contact work: a disconnected contact that had an agent is
        // described.
        let ask = if moment == Moment::Disconnected && says.agent.is_some() {
            Ask::Describe
        } else {
            Ask::Said(Box::new(says))
        };
        if matches!(ask, Ask::Describe) && !run.turn().await {
            break;
        }
        run.look(contact, ask, "search").await;
    }

    // 2. The contacts listed for long, least recently asked first.
    let due: Vec<&Listed> = listed
        .iter()
        .enumerate()
        .filter(|(index, contact)| !done.contains(index) && is_due(contact, settings))
        .map(|(_, contact)| contact)
        .collect();
    run.summary.due = due.len();
    let order = {
        let keys: Vec<(&str, Duration)> = due
            .iter()
            .map(|contact| (contact.contact_id.as_str(), contact.listed_for))
            .collect();
        rotation
            .lock()
            .map(|mut rotation| rotation.order(&keys))
            .unwrap_or_else(|_| (0..due.len()).collect())
    };
    let (mut asked, mut elsewhere) = (0, 0);
    for index in order {
        let Some(contact) = due.get(index).copied() else {
            continue;
        };
        if settings
            .instance_arn()
            .is_some_and(|only| only != contact.instance_arn)
        {
            run.summary.unknown += 1;
            elsewhere += 1;
            log(
                contact,
                &Verdict::Unknown,
                "describe",
                Some("another instance"),
            );
            continue;
        }
        if asked == settings.max_contacts || !run.turn().await {
            break;
        }
        asked += 1;
        run.look(contact, Ask::Describe, "describe").await;
        if let Ok(mut rotation) = rotation.lock() {
            rotation.asked(&contact.contact_id);
        }
    }
    let summary = Summary {
        left: run.summary.due - asked - elsewhere,
        ..run.summary
    };
    tracing::event!(
        Level::INFO,
        reconcile = "run",
        listed = summary.listed,
        disconnected = summary.disconnected,
        due = summary.due,
        searches = summary.searches,
        connectCalls = summary.connect_calls,
        healed = summary.healed,
        live = summary.live,
        current = summary.current,
        unknown = summary.unknown,
        failed = summary.failed,
        left = summary.left,
    );
    Ok(summary)
}

/// One line per contact looked at (docs/operations.md, the reconciler's log lines): `via` says
/// whether the search showed it disconnected or it was described for being listed long.
fn log(contact: &Listed, verdict: &Verdict, via: &'static str, reason: Option<&str>) {
    let listed = contact.listed_for.as_secs();
    match (verdict, reason) {
        (
            Verdict::Healed {
                state_before,
                state,
            },
            _,
        ) => tracing::event!(
            Level::INFO,
            contactId = contact.contact_id,
            outcome = verdict.name(),
            view = contact.view,
            via = via,
            listedSeconds = listed,
            stateBefore = state_before.as_deref().unwrap_or(""),
            state = state.as_deref().unwrap_or(""),
        ),
        (_, Some(reason)) => tracing::event!(
            Level::INFO,
            contactId = contact.contact_id,
            outcome = verdict.name(),
            view = contact.view,
            via = via,
            listedSeconds = listed,
            reason = reason,
        ),
        (_, None) => tracing::event!(
            Level::INFO,
            contactId = contact.contact_id,
            outcome = verdict.name(),
            view = contact.view,
            via = via,
            listedSeconds = listed,
        ),
    }
}

fn failed(contact: &Listed, via: &'static str, error: &str) {
    tracing::event!(
        Level::WARN,
        contactId = contact.contact_id,
        outcome = "failed",
        view = contact.view,
        via = via,
        listedSeconds = contact.listed_for.as_secs(),
        error = error,
    );
}
