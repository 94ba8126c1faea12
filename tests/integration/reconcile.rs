//! docs/contract.md, "Reconciling with Connect": the real reconciler binary behind a local
//! Runtime API, DynamoDB Local, and a stand-in for Connect's `DescribeContact`
//! (`tools/connect-standin`, reached by the SDK through `AWS_ENDPOINT_URL_CONNECT`) that serves
//! each generated contact's truth, and `SearchContacts` over it. What the stand-in does not
//! model: Connect's own quota accounting (it throttles every n-th call instead), IAM, the
//! search's own delay, and contacts that change while asked.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use connect_standin::ConnectStandIn;
use local_lambda::RuntimeApi;
use serde_json::{Value, json};

use crate::support::corpus::{REALISTIC, Rng, STRESS, lifecycle_with, live_stream, stream, uuid};
use crate::support::{
    Item, Table, by_contact, endpoint, fresh_table, s, spawn_logged, true_order_items,
};

/// Built by `cargo build -p contact-state-reconciler` (infra/test.sh does, before the tests).
fn reconciler() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir");
    let binary = dir.join("contact-state-reconciler");
    assert!(
        binary.exists(),
        "{} is missing: run `cargo build -p contact-state-reconciler` (infra/test.sh does)",
        binary.display()
    );
    binary
}

const INSTANCE_ID: &str = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";

/// Epoch seconds with milliseconds, as Connect's REST-JSON answers write timestamps, moved by
/// `shift` milliseconds.
fn epoch(iso: &str, shift: i64) -> Value {
    let at = chrono::DateTime::parse_from_rfc3339(iso).expect("a timestamp");
    json!((at.timestamp_millis() + shift) as f64 / 1_000.0)
}

fn id_of(arn: &str) -> &str {
    arn.rsplit('/').next().expect("an id")
}

/// Connect's `Contact` object for a contact whose every event reached the table: its truth.
fn contact_of(item: &Item) -> Value {
    contact_moved(item, 0)
}

/// [`contact_of`] with every timestamp moved by `shift` milliseconds (the corpus's contacts
/// are of 2024; the search looks at the last minutes).
fn contact_moved(item: &Item, shift: i64) -> Value {
    let text = |name: &str| s(item, name).map(str::to_owned);
    let time = |name: &str| s(item, name).map(|at| epoch(at, shift));
    let mut contact = json!({
        "Id": text("contactId"),
        "Arn": format!("{}/contact/{}", s(item, "instanceArn").expect("instance"), s(item, "contactId").expect("id")),
        "Channel": text("channel"),
        "InitiationMethod": text("initiationMethod"),
        "InitiationTimestamp": time("initiationTimestamp"),
        "ConnectedToSystemTimestamp": time("connectedToSystemTimestamp"),
        "DisconnectTimestamp": time("disconnectTimestamp"),
        "DisconnectReason": text("disconnectReason"),
        "AnsweringMachineDetectionStatus": text("answeringMachineDetectionStatus"),
    });
    if let Some(queue) = s(item, "queueArn") {
        contact["QueueInfo"] =
            json!({"Id": id_of(queue), "EnqueueTimestamp": time("enqueueTimestamp")});
    }
    if let Some(agent) = s(item, "agentArn") {
        contact["AgentInfo"] = json!({
            "Id": id_of(agent),
            "ConnectedToAgentTimestamp": time("connectedToAgentTimestamp"),
            "AfterContactWorkStartTimestamp": time("afterContactWorkStartTimestamp"),
            "AfterContactWorkEndTimestamp": time("afterContactWorkEndTimestamp"),
            "AfterContactWorkDuration": item.get("afterContactWorkDuration")
                .and_then(|n| n.as_n().ok()).and_then(|n| n.parse::<i64>().ok()),
        });
    }
    if let Some(campaign) = text("campaignId") {
        contact["Campaign"] = json!({"CampaignId": campaign});
    }
    if s(item, "greetingStartTimestamp").is_some() {
        contact["CustomerVoiceActivity"] = json!({
            "GreetingStartTimestamp": time("greetingStartTimestamp"),
            "GreetingEndTimestamp": time("greetingEndTimestamp"),
        });
    }
    if let Some(issue) = text("potentialDisconnectIssue") {
        contact["DisconnectDetails"] = json!({"PotentialDisconnectIssue": issue});
    }
    if let Some(subtype) = text("channelSubtype") {
        contact["SegmentAttributes"] = json!({"connect:Subtype": {"ValueString": subtype}});
    }
    // Absent fields are left out, as Connect leaves them.
    connect_standin::without_nulls(contact)
}

/// What readers see of an item: everything but the bookkeeping (docs/contract.md: readers never
/// need it; the tags key, for one, carries the time of the event it came with).
fn readable(item: &Item) -> Item {
    item.iter()
        .filter(|(name, _)| !name.starts_with('_'))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

/// The reconciler, one process behind a Runtime API whose invocations get `deadline`.
struct Reconciler {
    api: RuntimeApi,
    logged: crate::support::Logged,
}

impl Reconciler {
    async fn start(
        table: &Table,
        connect: &ConnectStandIn,
        deadline: Duration,
        extra: &[(&str, &str)],
    ) -> Reconciler {
        let api = RuntimeApi::start(deadline).await.expect("runtime API");
        let connect_endpoint = connect.endpoint();
        let dynamodb = endpoint();
        let mut env = vec![
            ("TABLE_NAME", table.name.as_str()),
            ("AWS_ENDPOINT_URL_DYNAMODB", dynamodb.as_str()),
            ("AWS_ENDPOINT_URL_CONNECT", connect_endpoint.as_str()),
            ("CONNECT_CALLS_PER_SECOND", "200"),
            ("RECONCILE_MAX_CONTACTS", "10000"),
            ("RETENTION_DAYS", "36500"),
        ];
        env.extend_from_slice(extra);
        let logged = spawn_logged(&reconciler(), &api, &env);
        Reconciler { api, logged }
    }

    /// One scheduled run: its answer (the counts) or its error.
    async fn run(&self) -> Result<Value, String> {
        let scheduled = json!({
            "version": "0", "id": uuid("schedule"), "detail-type": "Scheduled Event",
            "source": "aws.events", "account": "111122223333", "time": "2026-12-03T10:00:00Z",
            "region": "us-east-1", "resources": [], "detail": {}
        });
        let answer = self.api.invoke(scheduled.to_string()).await?;
        serde_json::from_str(&answer).map_err(|error| error.to_string())
    }

    async fn stop(self) -> Vec<Value> {
        self.logged
            .stop()
            .await
            .iter()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }
}

/// Contacts of the stress corpus, their truth, and a shuffled, duplicated stream of their
/// events with `lost` percent of the DISCONNECTED and COMPLETED events Connect's answer stands
/// for dropped (and the dropped ones).
struct Scenario {
    truth: HashMap<String, Item>,
    delivered: Vec<Vec<u8>>,
    dropped: Vec<Vec<u8>>,
}

async fn scenario(contacts: u64, seed: u64, lost: u64) -> Scenario {
    scenario_delivered(contacts, seed, lost, stream).await
}

/// How a scenario's stream is ordered: [`stream`] (shuffled, duplicated) or [`live_stream`].
type Order = fn(&[Vec<Vec<u8>>], u64) -> Vec<Vec<u8>>;

/// [`scenario`], its stream as `deliver` orders it (shuffled, or in live order).
async fn scenario_delivered(contacts: u64, seed: u64, lost: u64, deliver: Order) -> Scenario {
    let lifecycles: Vec<_> = (0..contacts)
        .map(|n| {
            lifecycle_with(
                &uuid(&format!("heal-{seed}-{n}")),
                seed * 7_919 + n,
                &STRESS,
            )
        })
        .collect();
    let truth = true_order_items(&lifecycles).await;
    let mut rng = Rng::new(seed);
    let mut kept = Vec::new();
    let mut dropped = Vec::new();
    for events in &lifecycles {
        let mut events = events.clone();
        events.retain(|event| {
            let value: Value = serde_json::from_slice(event).expect("an event");
            // Connect's answer says when a contact disconnected, and when its agent's
            // after-contact work ended: a lost DISCONNECTED, or a lost COMPLETED of a contact
            // that had an agent. (A lost COMPLETED of a contact without agent is no loss a
            // view shows, and nothing in the answer stands for it.)
            let final_event = match value["detail"]["eventType"].as_str() {
                Some("DISCONNECTED") => true,
                Some("COMPLETED") => {
                    value["detail"]["agentInfo"]["connectedToAgentTimestamp"].is_string()
                }
                _ => false,
            };
            if final_event && rng.chance(lost) {
                dropped.push(event.clone());
                false
            } else {
                true
            }
        });
        kept.push(events);
    }
    Scenario {
        truth,
        delivered: deliver(&kept, seed),
        dropped,
    }
}

async fn deliver(table: &Table, events: &[Vec<u8>]) {
    let handler = table.handler();
    for event in events {
        handler.handle(event).await.expect("accepted");
    }
}

/// A fresh table holding a scenario's delivered stream, the true items of the contacts the
/// views list, and a Connect stand-in that knows every contact's truth.
async fn lost_events_and_connect(
    contacts: u64,
    seed: u64,
    lost: u64,
) -> (Table, HashMap<String, Item>, ConnectStandIn) {
    let table = fresh_table().await;
    let scenario = scenario(contacts, seed, lost).await;
    deliver(&table, &scenario.delivered).await;
    let truth = listed_before(&by_contact(table.items().await), &scenario.truth);
    let connect = ConnectStandIn::start().await.expect("stand-in");
    hold_truth(&connect, &scenario.truth);
    (table, truth, connect)
}

fn hold_truth(connect: &ConnectStandIn, truth: &HashMap<String, Item>) {
    for item in truth.values() {
        connect.hold(INSTANCE_ID, contact_of(item));
    }
}

fn differences(table: &HashMap<String, Item>, truth: &HashMap<String, Item>) -> Vec<String> {
    let mut wrong: Vec<String> = truth
        .iter()
        .filter(|(id, item)| table.get(*id).map(readable) != Some(readable(item)))
        .map(|(id, item)| {
            format!(
                "{id}: table {:?} / truth {:?}",
                table.get(id).map(readable),
                readable(item)
            )
        })
        .collect();
    wrong.sort();
    wrong
}

/// The truth of the contacts `table` lists in a view.
fn listed_before(
    table: &HashMap<String, Item>,
    truth: &HashMap<String, Item>,
) -> HashMap<String, Item> {
    table
        .iter()
        .filter(|(_, item)| s(item, "queuedIn").is_some() || s(item, "withAgent").is_some())
        .filter_map(|(id, _)| Some((id.clone(), truth.get(id)?.clone())))
        .collect()
}

/// Who each view lists: `(view attribute, place, contact)`.
fn views_of(items: &HashMap<String, Item>) -> Vec<(String, String, String)> {
    let mut listed: Vec<_> = items
        .iter()
        .flat_map(|(id, item)| {
            ["queuedIn", "withAgent"]
                .into_iter()
                .filter_map(move |view| {
                    Some((view.to_owned(), s(item, view)?.to_owned(), id.clone()))
                })
        })
        .collect();
    listed.sort();
    listed
}

fn outcomes(lines: &[Value]) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for line in lines.iter().filter(|line| line.get("contactId").is_some()) {
        if let Some(outcome) = line["outcome"].as_str() {
            *counts.entry(outcome.to_owned()).or_default() += 1;
        }
    }
    counts
}

/// A shuffled, duplicated stream with a quarter of its DISCONNECTED and COMPLETED events lost:
/// after one run the table, views included, is the truth; a second run changes nothing; the
/// lost events delivered after the healing change nothing either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_events_heal_from_connect_and_late_ones_change_nothing() {
    let table = fresh_table().await;
    let scenario = scenario(200, 19, 25).await;
    assert!(scenario.dropped.len() >= 20, "{}", scenario.dropped.len());
    deliver(&table, &scenario.delivered).await;
    let before = by_contact(table.items().await);
    // The reconciler asks about what the views list; a contact no view lists (an outbound call
    // without queue or agent) keeps its loss, as the contract says.
    let truth = listed_before(&before, &scenario.truth);
    let ghosts = differences(&before, &truth).len();
    assert!(
        ghosts >= 10,
        "lost events must leave listed contacts wrong: {ghosts}"
    );

    let connect = ConnectStandIn::start().await.expect("stand-in");
    hold_truth(&connect, &scenario.truth);
    let reconciler = Reconciler::start(&table, &connect, Duration::from_secs(120), &[]).await;
    let first = reconciler.run().await.expect("a run");
    let after_one = by_contact(table.items().await);
    assert_eq!(differences(&after_one, &truth), Vec::<String>::new());
    assert_eq!(views_of(&after_one), views_of(&scenario.truth));
    let healed = first["healed"].as_u64().expect("healed");
    assert!(healed >= ghosts as u64 / 2, "{first}");
    let calls_first = connect.calls().described;

    // A second run: what is still listed is live (after-contact work has no end in the truth
    // of contacts whose COMPLETED never happened); nothing changes.
    let second = reconciler.run().await.expect("a run");
    assert_eq!(second["healed"], 0, "{second}");
    assert_eq!(by_contact(table.items().await), after_one);

    // The lost events, delivered late after all: the rules decide, nothing moves wrongly.
    deliver(&table, &scenario.dropped).await;
    let after_late = by_contact(table.items().await);
    assert_eq!(differences(&after_late, &truth), Vec::<String>::new());
    assert_eq!(views_of(&after_late), views_of(&scenario.truth));
    let lines = reconciler.stop().await;
    let counts = outcomes(&lines);
    assert_eq!(counts.get("healed").copied().unwrap_or(0) as u64, healed);
    assert_eq!(counts.get("failed"), None, "{counts:?}");
    let summaries: Vec<_> = lines
        .iter()
        .filter(|line| line["reconcile"] == "run")
        .collect();
    assert_eq!(summaries.len(), 2);
    println!(
        "reconcile: {} contacts, {} events lost, {} listed, {ghosts} of them wrong before; \
         run 1: {first} ({calls_first} Connect calls), run 2: {second}",
        scenario.truth.len(),
        scenario.dropped.len(),
        truth.len()
    );
}

/// Connect throttles (429 `TooManyRequestsException`) every third call: the SDK backs off and
/// retries, and the run still heals everything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_by_connect_is_survived() {
    let (table, truth, connect) = lost_events_and_connect(30, 23, 40).await;
    connect.throttle_every(3);
    let reconciler = Reconciler::start(&table, &connect, Duration::from_secs(120), &[]).await;
    let answer = reconciler.run().await.expect("a run despite throttling");
    assert!(connect.calls().throttled > 0);
    let after = by_contact(table.items().await);
    assert_eq!(differences(&after, &truth), Vec::<String>::new());
    let lines = reconciler.stop().await;
    assert_eq!(outcomes(&lines).get("failed"), None, "{answer}");
}

/// A run with too little time stops cleanly, before its deadline, leaving the rest; the next
/// run, with time, finishes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_out_of_time_stops_cleanly_and_the_next_one_finishes() {
    let (table, truth, connect) = lost_events_and_connect(40, 29, 40).await;
    // Two calls a second, and a deadline that leaves 3 s past the reserve and the longest look:
    // a handful of contacts, not all.
    let short = Reconciler::start(
        &table,
        &connect,
        Duration::from_secs(10),
        &[("CONNECT_CALLS_PER_SECOND", "2")],
    )
    .await;
    let first = short.run().await.expect("a clean, early end");
    assert!(first["left"].as_u64().expect("left") > 0, "{first}");
    short.stop().await;
    assert_ne!(
        differences(&by_contact(table.items().await), &truth),
        Vec::<String>::new()
    );
    let full = Reconciler::start(&table, &connect, Duration::from_secs(120), &[]).await;
    let second = full.run().await.expect("a run");
    assert_eq!(second["left"], 0, "{second}");
    full.stop().await;
    assert_eq!(
        differences(&by_contact(table.items().await), &truth),
        Vec::<String>::new()
    );
}

/// A contact Connect does not know (not found; another instance) is left as it is, and
/// counted; the run does not fail for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contact_connect_does_not_know_is_left_as_it_is_and_counted() {
    let table = fresh_table().await;
    let scenario = scenario(12, 31, 100).await;
    deliver(&table, &scenario.delivered).await;
    let before = by_contact(table.items().await);
    let connect = ConnectStandIn::start().await.expect("stand-in");
    // Connect knows none of them.
    let reconciler = Reconciler::start(&table, &connect, Duration::from_secs(60), &[]).await;
    let answer = reconciler.run().await.expect("a run");
    assert!(answer["unknown"].as_u64().expect("unknown") > 0, "{answer}");
    assert_eq!(answer["healed"], 0);
    assert_eq!(by_contact(table.items().await), before);
    let lines = reconciler.stop().await;
    let unknown: Vec<_> = lines
        .iter()
        .filter(|line| line["outcome"] == "unknown")
        .collect();
    assert_eq!(unknown.len() as u64, answer["unknown"].as_u64().expect("n"));
    assert!(unknown.iter().all(|line| line["reason"] == "not found"));

    // Another instance: not even asked.
    let other = Reconciler::start(
        &table,
        &connect,
        Duration::from_secs(60),
        &[(
            "CONNECT_INSTANCE_ARN",
            "arn:aws:connect:us-east-1:111122223333:instance/other",
        )],
    )
    .await;
    let calls = connect.calls();
    let answer = other.run().await.expect("a run");
    assert_eq!(connect.calls(), calls);
    assert!(answer["unknown"].as_u64().expect("unknown") > 0, "{answer}");
    other.stop().await;
    assert_eq!(by_contact(table.items().await), before);
}

/// The realistic corpus (Connect loses few events): how many calls a run makes, and what it
/// heals, for the closing figures.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_realistic_day_a_run_asks_only_about_the_contacts_left_listed() {
    let table = fresh_table().await;
    let lifecycles: Vec<_> = (0..300)
        .map(|n| lifecycle_with(&uuid(&format!("day-{n}")), n * 104_729 + 17, &REALISTIC))
        .collect();
    let truth = true_order_items(&lifecycles).await;
    deliver(&table, &stream(&lifecycles, 5)).await;
    let listed = table
        .items()
        .await
        .iter()
        .filter(|item| s(item, "queuedIn").is_some() || s(item, "withAgent").is_some())
        .count();
    let connect = ConnectStandIn::start().await.expect("stand-in");
    hold_truth(&connect, &truth);
    let reconciler = Reconciler::start(&table, &connect, Duration::from_secs(60), &[]).await;
    let answer = reconciler.run().await.expect("a run");
    reconciler.stop().await;
    assert_eq!(connect.calls().described as usize, listed);
    println!(
        "reconcile, realistic: 300 contacts, {listed} listed, {listed} Connect calls: {answer}"
    );
}

/// Thresholds no contact reaches: only the search heals.
const NEVER_DUE: [(&str, &str); 2] = [
    ("RECONCILE_QUEUED_MINUTES", "100000000"),
    ("RECONCILE_WITH_AGENT_MINUTES", "100000000"),
];

/// Milliseconds since the epoch, now.
fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as i64
}

fn millis_of(iso: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(iso)
        .expect("a timestamp")
        .timestamp_millis()
}

/// docs/contract.md, "Reconciling with Connect": a listed contact that Connect's search shows
/// disconnected is a lost event whatever its age. With thresholds no contact reaches, one run
/// heals every ghost whose disconnect the search covers (the last 15 minutes but the last one),
/// with one `SearchContacts` page and a `DescribeContact` only for those that had an agent;
/// the ghosts that disconnected within the last minute are left to the stream (and the next run).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listed_contact_connects_search_shows_disconnected_heals_in_the_next_run() {
    let table = fresh_table().await;
    // The stream in live order (event time, jitter, a few late or redelivered), a share of its
    // DISCONNECTED and COMPLETED lost.
    let scenario = scenario_delivered(120, 37, 30, live_stream).await;
    deliver(&table, &scenario.delivered).await;
    let before = by_contact(table.items().await);
    let truth = listed_before(&before, &scenario.truth);
    let ghosts: Vec<&String> = truth
        .keys()
        .filter(|id| before.get(*id).map(readable) != truth.get(*id).map(readable))
        .collect();
    assert!(ghosts.len() >= 10, "{}", ghosts.len());
    // Connect's truth dated now: each contact disconnected 2 to 12 minutes ago, but one ghost in
    // ten within the last 30 s (inside the grace the stream is given).
    let connect = ConnectStandIn::start().await.expect("stand-in");
    let now = now_millis();
    let mut in_grace = Vec::new();
    let mut agents = 0;
    let mut in_window = 0;
    for (n, item) in scenario.truth.values().enumerate() {
        let Some(disconnected) = s(item, "disconnectTimestamp") else {
            connect.hold(INSTANCE_ID, contact_of(item));
            continue;
        };
        let id = s(item, "contactId").expect("id").to_owned();
        let ago = if ghosts.contains(&&id) && n % 10 == 0 {
            in_grace.push(id.clone());
            30_000
        } else {
            (2 + n as i64 % 10) * 60_000
        };
        connect.hold(
            INSTANCE_ID,
            contact_moved(item, now - ago - millis_of(disconnected)),
        );
        in_window += usize::from(ago > 60_000);
        // Listed, shown by the search, and had an agent: described for its after-contact work.
        if truth.contains_key(&id) && ago > 60_000 && s(item, "agentArn").is_some() {
            agents += 1;
        }
    }
    let reconciler = Reconciler::start(&table, &connect, Duration::from_secs(60), &NEVER_DUE).await;
    let answer = reconciler.run().await.expect("a run");
    let lines = reconciler.stop().await;
    let after = by_contact(table.items().await);
    let wrong: Vec<&String> = ghosts
        .iter()
        .copied()
        .filter(|id| {
            let state = |items: &HashMap<String, Item>| {
                items
                    .get(*id)
                    .and_then(|i| s(i, "state").map(str::to_owned))
            };
            let views = |items: &HashMap<String, Item>| {
                views_of(
                    &items
                        .iter()
                        .filter(|(k, _)| k == id)
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                )
            };
            state(&after) != state(&truth) || views(&after) != views(&truth)
        })
        .collect();
    let mut left: Vec<String> = in_grace.clone();
    left.sort();
    let mut wrong: Vec<String> = wrong.into_iter().cloned().collect();
    wrong.sort();
    assert_eq!(wrong, left, "{answer}");
    assert_eq!(answer["due"], 0, "{answer}");
    // Two searches (disconnected, connected to an agent) of each instance the views list, a
    // page of 100 per hundred contacts in the window (another instance's: one empty page each).
    let instances: std::collections::BTreeSet<&str> = before
        .values()
        .flat_map(|item| [s(item, "queuedIn"), s(item, "withAgent")])
        .flatten()
        .filter_map(|arn| arn.split("/queue/").next()?.split("/agent/").next())
        .collect();
    let searches = answer["searches"].as_u64().expect("searches");
    assert!(
        searches >= (in_window.div_ceil(100) + 2 * instances.len() - 1) as u64,
        "{answer}"
    );
    assert_eq!(connect.calls().searched, searches);
    assert_eq!(
        answer["connectCalls"].as_u64(),
        Some(agents as u64),
        "{answer}"
    );
    let healed: Vec<_> = lines
        .iter()
        .filter(|line| line["outcome"] == "healed")
        .collect();
    assert!(healed.iter().all(|line| line["via"] == "search"));
    assert_eq!(healed.len(), ghosts.len() - in_grace.len(), "{answer}");
    println!(
        "reconcile, search: {} listed, {} ghosts, {} healed by one run ({} searches, {} DescribeContact), {} left to the next (disconnected < 1 min ago)",
        truth.len(),
        ghosts.len(),
        healed.len(),
        answer["searches"],
        answer["connectCalls"],
        in_grace.len()
    );
}

/// A run that cannot read the views says why in its own line (not only in the Errors metric),
/// and fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_that_cannot_read_the_views_says_why_in_its_own_line() {
    let table = fresh_table().await;
    let connect = ConnectStandIn::start().await.expect("stand-in");
    let missing = Table {
        name: format!("{}-missing", table.name),
        client: table.client.clone(),
        requests: table.requests.clone(),
    };
    let reconciler = Reconciler::start(&missing, &connect, Duration::from_secs(30), &[]).await;
    let error = reconciler.run().await.expect_err("a failed run");
    let lines = reconciler.stop().await;
    let failed: Vec<_> = lines
        .iter()
        .filter(|line| line["reconcile"] == "run" && line["outcome"] == "failed")
        .collect();
    assert_eq!(failed.len(), 1, "{error}: {lines:?}");
    let why = failed[0]["error"].as_str().expect("why");
    assert!(why.contains("ResourceNotFound"), "{why}");
    assert_eq!(connect.calls(), Default::default());
}

/// A contact that disconnects while a run is between its search and its look: the search did
/// not show it, the look (it is listed past its threshold) finds it disconnected and heals it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contact_that_disconnects_between_the_search_and_the_look_heals_in_the_same_run() {
    let (table, truth, connect) = lost_events_and_connect(40, 41, 100).await;
    let before = by_contact(table.items().await);
    let ghosts: Vec<&Item> = truth
        .values()
        .filter(|item| {
            let id = s(item, "contactId").expect("id");
            before.get(id).map(readable) != Some(readable(item))
        })
        .collect();
    let ghost = ghosts.first().expect("a ghost");
    // Connect's truth dated now (disconnected 2 minutes ago, inside the search's window), but
    // in progress until the search has been answered.
    let disconnected = s(ghost, "disconnectTimestamp").expect("a disconnect");
    let shift = now_millis() - 120_000 - millis_of(disconnected);
    let mut in_progress = contact_moved(ghost, shift);
    if let Some(contact) = in_progress.as_object_mut() {
        contact.remove("DisconnectTimestamp");
        contact.remove("AgentInfo");
    }
    connect.hold(INSTANCE_ID, in_progress);
    connect.hold_after_next_search(INSTANCE_ID, contact_moved(ghost, shift));
    let reconciler = Reconciler::start(&table, &connect, Duration::from_secs(120), &[]).await;
    let answer = reconciler.run().await.expect("a run");
    let lines = reconciler.stop().await;
    let id = s(ghost, "contactId").expect("id");
    let after = by_contact(table.items().await);
    let state = |item: Option<&Item>| item.and_then(|item| s(item, "state").map(str::to_owned));
    assert_eq!(state(after.get(id)), state(Some(ghost)), "{answer}");
    assert_ne!(state(before.get(id)), state(Some(ghost)));
    assert_eq!(answer["disconnected"], 0, "{answer}");
    let line = lines
        .iter()
        .find(|line| line["contactId"] == id)
        .expect("its line");
    assert_eq!(line["outcome"], "healed", "{line}");
    assert_eq!(line["via"], "describe", "{line}");
}

fn event_type(event: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(event).ok()?;
    let detail = &value["detail"];
    detail
        .get("eventType")
        .or_else(|| detail.get("EventType"))?
        .as_str()
        .map(str::to_owned)
}

/// A lost CONNECTED_TO_AGENT: the caller is with an agent, the table still says waiting. Connect's
/// search of contacts connected to an agent shows it, and one run moves it to `withAgent`,
/// whatever its age (thresholds no contact reaches), without a `DescribeContact`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_contact_connects_search_shows_with_an_agent_is_moved_to_its_agent() {
    // Contacts in progress, just connected to their agent.
    let prefixes: Vec<Vec<Vec<u8>>> = (0..60)
        .filter_map(|n| {
            let events = lifecycle_with(&uuid(&format!("c2a-{n}")), n * 31 + 7, &STRESS);
            let at = events
                .iter()
                .position(|event| event_type(event).as_deref() == Some("CONNECTED_TO_AGENT"))?;
            Some(events[..=at].to_vec())
        })
        .collect();
    assert!(prefixes.len() >= 10, "{}", prefixes.len());
    let truth = true_order_items(&prefixes).await;
    let table = fresh_table().await;
    let lost: Vec<Vec<Vec<u8>>> = prefixes
        .iter()
        .map(|events| events[..events.len() - 1].to_vec())
        .collect();
    deliver(&table, &stream(&lost, 43)).await;
    let before = by_contact(table.items().await);
    let waiting: Vec<&String> = before
        .iter()
        .filter(|(_, item)| s(item, "queuedIn").is_some())
        .map(|(id, _)| id)
        .collect();
    assert!(waiting.len() >= 5, "{}", waiting.len());
    let connect = ConnectStandIn::start().await.expect("stand-in");
    let now = now_millis();
    for item in truth.values() {
        let connected = s(item, "connectedToAgentTimestamp").expect("connected");
        connect.hold(
            INSTANCE_ID,
            contact_moved(item, now - 180_000 - millis_of(connected)),
        );
    }
    let reconciler = Reconciler::start(&table, &connect, Duration::from_secs(60), &NEVER_DUE).await;
    let answer = reconciler.run().await.expect("a run");
    reconciler.stop().await;
    let after = by_contact(table.items().await);
    for id in &waiting {
        let item = after.get(*id).expect("the item");
        assert_eq!(s(item, "state"), Some("CONNECTED_TO_AGENT"), "{answer}");
        assert_eq!(s(item, "queuedIn"), None, "{answer}");
        assert_eq!(s(item, "withAgent"), s(&truth[*id], "agentArn"), "{answer}");
    }
    assert_eq!(answer["connectCalls"], 0, "{answer}");
    assert_eq!(
        answer["healed"].as_u64(),
        Some(waiting.len() as u64),
        "{answer}"
    );
    println!(
        "reconcile, lost CONNECTED_TO_AGENT: {} waiting in the table, all moved to their agent by one run ({} searches)",
        waiting.len(),
        answer["searches"]
    );
}
