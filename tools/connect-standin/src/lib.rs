//! A stand-in for the Amazon Connect calls this workspace makes: the reconciler's
//! `DescribeContact` and `SearchContacts`, the wallboard's `ListQueues` and `ListUsers` (moto has
//! no Connect). It answers as the API reference shapes them,
//! REST-JSON, so the real SDK talks to it through `AWS_ENDPOINT_URL_CONNECT`:
//!
//! - `GET /contacts/{InstanceId}/{ContactId}` → 200 `{"Contact": {…}}`, timestamps as epoch
//!   seconds (the protocol's default);
//! - a contact it does not hold, or of another instance → 404 `ResourceNotFoundException`;
//! - `POST /search-contacts` with `TimeRange.Type` `DISCONNECT_TIMESTAMP` (or
//!   `CONNECTED_TO_AGENT_TIMESTAMP`) → the held contacts of the instance that disconnected (were
//!   connected to an agent) in the range, oldest first, as `ContactSearchSummary`
//!   objects, `MaxResults` a page (100 at most) with a `NextToken`, and `TotalCount`;
//! - `GET /queues-summary/{InstanceId}` and `GET /users-summary/{InstanceId}` → the named queues
//!   (`QueueSummaryList`: `Arn`, `Id`, `Name`, `QueueType`) and users (`UserSummaryList`:
//!   `Arn`, `Id`, `Username`) of the instance, `maxResults` a page with a `NextToken`;
//! - every `throttle_every`-th request → 429 `TooManyRequestsException`, as Connect throttles
//!   calls beyond its quota (the SDK retries them).
//!
//! What it does not model: the search's own delay (a contact shows as soon as it is held),
//! search criteria and sorting other than by the range's timestamp, other time-range types;
//! `ListQueues`' `queueTypes` filter (it lists every queue it holds).
//!
//! <https://docs.aws.amazon.com/connect/latest/APIReference/API_DescribeContact.html>,
//! <https://docs.aws.amazon.com/connect/latest/APIReference/API_Contact.html>,
//! <https://docs.aws.amazon.com/connect/latest/APIReference/API_SearchContacts.html>,
//! <https://docs.aws.amazon.com/connect/latest/APIReference/API_ContactSearchSummary.html>,
//! <https://docs.aws.amazon.com/connect/latest/APIReference/API_ListQueues.html>,
//! <https://docs.aws.amazon.com/connect/latest/APIReference/API_ListUsers.html>

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::{Value, json};

/// What the stand-in was asked, and how it answered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Calls {
    pub described: u64,
    pub not_found: u64,
    pub searched: u64,
    pub throttled: u64,
    /// `ListQueues` and `ListUsers` pages served.
    pub listed: u64,
}

struct Shared {
    /// `Contact` objects by instance id and contact id.
    contacts: Mutex<HashMap<(String, String), Value>>,
    throttle_every: AtomicU64,
    /// Contacts that change once the next search has been answered (a contact that disconnects
    /// while a run is between its search and its look).
    after_search: Mutex<Vec<(String, Value)>>,
    /// `QueueSummary` and `UserSummary` objects by instance id, in the order named.
    queues: Mutex<HashMap<String, Vec<Value>>>,
    users: Mutex<HashMap<String, Vec<Value>>>,
    requests: AtomicU64,
    described: AtomicU64,
    not_found: AtomicU64,
    searched: AtomicU64,
    throttled: AtomicU64,
    listed: AtomicU64,
}

pub struct ConnectStandIn {
    address: SocketAddr,
    shared: Arc<Shared>,
}

impl ConnectStandIn {
    /// Listens on a free loopback port.
    pub async fn start() -> std::io::Result<ConnectStandIn> {
        let shared = Arc::new(Shared {
            contacts: Mutex::new(HashMap::new()),
            throttle_every: AtomicU64::new(0),
            after_search: Mutex::new(Vec::new()),
            queues: Mutex::new(HashMap::new()),
            users: Mutex::new(HashMap::new()),
            requests: AtomicU64::new(0),
            described: AtomicU64::new(0),
            not_found: AtomicU64::new(0),
            searched: AtomicU64::new(0),
            throttled: AtomicU64::new(0),
            listed: AtomicU64::new(0),
        });
        let address = loopback_http::serve(Arc::clone(&shared), answer).await?;
        Ok(ConnectStandIn { address, shared })
    }

    /// The endpoint URL to give the SDK (`AWS_ENDPOINT_URL_CONNECT`).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Connect's truth about one contact: the API reference's `Contact` object (`Id` included).
    pub fn hold(&self, instance_id: &str, contact: Value) {
        let id = contact["Id"].as_str().unwrap_or_default().to_owned();
        if let Ok(mut contacts) = self.shared.contacts.lock() {
            contacts.insert((instance_id.to_owned(), id), contact);
        }
    }

    /// Holds `contact` instead of its present truth once the next search has been answered.
    pub fn hold_after_next_search(&self, instance_id: &str, contact: Value) {
        if let Ok(mut later) = self.shared.after_search.lock() {
            later.push((instance_id.to_owned(), contact));
        }
    }

    /// A queue of the instance, as `ListQueues` lists it.
    pub fn name_queue(&self, instance_id: &str, arn: &str, name: &str) {
        let id = arn.rsplit('/').next().unwrap_or_default();
        if let Ok(mut queues) = self.shared.queues.lock() {
            queues
                .entry(instance_id.to_owned())
                .or_default()
                .push(json!({
                    "Arn": arn, "Id": id, "Name": name, "QueueType": "STANDARD",
                }));
        }
    }

    /// A user (agent) of the instance, as `ListUsers` lists them.
    pub fn name_user(&self, instance_id: &str, arn: &str, username: &str) {
        let id = arn.rsplit('/').next().unwrap_or_default();
        if let Ok(mut users) = self.shared.users.lock() {
            users
                .entry(instance_id.to_owned())
                .or_default()
                .push(json!({"Arn": arn, "Id": id, "Username": username}));
        }
    }

    /// Throttles every `n`-th request from now on (0: none).
    pub fn throttle_every(&self, n: u64) {
        self.shared.throttle_every.store(n, Ordering::SeqCst);
    }

    pub fn calls(&self) -> Calls {
        Calls {
            described: self.shared.described.load(Ordering::SeqCst),
            not_found: self.shared.not_found.load(Ordering::SeqCst),
            searched: self.shared.searched.load(Ordering::SeqCst),
            throttled: self.shared.throttled.load(Ordering::SeqCst),
            listed: self.shared.listed.load(Ordering::SeqCst),
        }
    }
}

fn error(status: StatusCode, kind: &str, message: &str) -> Response<Full<Bytes>> {
    let body = json!({"message": message}).to_string();
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("x-amzn-errortype", kind)
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_default()
}

async fn answer(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let n = shared.requests.fetch_add(1, Ordering::SeqCst) + 1;
    let every = shared.throttle_every.load(Ordering::SeqCst);
    if every > 0 && n.is_multiple_of(every) {
        shared.throttled.fetch_add(1, Ordering::SeqCst);
        return Ok(error(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequestsException",
            "Rate exceeded",
        ));
    }
    let path: Vec<String> = request
        .uri()
        .path()
        .trim_matches('/')
        .split('/')
        .map(str::to_owned)
        .collect();
    let method = request.method().clone();
    let query = request.uri().query().unwrap_or_default().to_owned();
    if let ([listing, instance], &hyper::Method::GET) = (path.as_slice(), &method) {
        let (held, field) = match listing.as_str() {
            "queues-summary" => (&shared.queues, "QueueSummaryList"),
            "users-summary" => (&shared.users, "UserSummaryList"),
            _ => (&shared.queues, ""),
        };
        if !field.is_empty() {
            shared.listed.fetch_add(1, Ordering::SeqCst);
            let all = held
                .lock()
                .ok()
                .and_then(|held| held.get(instance).cloned())
                .unwrap_or_default();
            return Ok(list_page(all, field, &query));
        }
    }
    let (instance, contact) = match (path.as_slice(), &method) {
        ([search], &hyper::Method::POST) if search == "search-contacts" => {
            let body = request.into_body().collect().await.map(|b| b.to_bytes());
            return Ok(
                match body.ok().and_then(|b| serde_json::from_slice(&b).ok()) {
                    Some(body) => search_contacts(&shared, &body),
                    None => error(
                        StatusCode::BAD_REQUEST,
                        "InvalidRequestException",
                        "the body is no JSON",
                    ),
                },
            );
        }
        ([contacts, instance, contact], &hyper::Method::GET) if contacts == "contacts" => {
            (instance, contact)
        }
        _ => {
            return Ok(error(
                StatusCode::BAD_REQUEST,
                "InvalidRequestException",
                "only DescribeContact, SearchContacts, ListQueues and ListUsers are served here",
            ));
        }
    };
    let found = shared
        .contacts
        .lock()
        .ok()
        .and_then(|contacts| contacts.get(&(instance.clone(), contact.clone())).cloned());
    Ok(match found {
        Some(contact) => {
            shared.described.fetch_add(1, Ordering::SeqCst);
            let body = json!({"Contact": contact}).to_string();
            Response::builder()
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(body)))
                .unwrap_or_default()
        }
        None => {
            shared.not_found.fetch_add(1, Ordering::SeqCst);
            error(
                StatusCode::NOT_FOUND,
                "ResourceNotFoundException",
                "Contact not found",
            )
        }
    })
}

fn json_response(body: &Value) -> Response<Full<Bytes>> {
    Response::builder()
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap_or_default()
}

/// One page of a `List*` answer: `maxResults` (100 by default, as Connect's) from the offset
/// `nextToken` holds.
fn list_page(all: Vec<Value>, field: &str, query: &str) -> Response<Full<Bytes>> {
    let parameter = |name: &str| {
        query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(key, _)| *key == name)
            .and_then(|(_, value)| value.parse::<usize>().ok())
    };
    let page = parameter("maxResults").unwrap_or(100).clamp(1, 1000);
    let offset = parameter("nextToken").unwrap_or(0);
    let total = all.len();
    let listed: Vec<Value> = all.into_iter().skip(offset).take(page).collect();
    let mut answer = json!({ field: listed });
    if offset + page < total {
        answer["NextToken"] = json!((offset + page).to_string());
    }
    json_response(&answer)
}

/// `SearchContacts` over `DISCONNECT_TIMESTAMP`: the held contacts of the instance disconnected
/// in the range, oldest first, a page at a time (`NextToken` is the offset).
fn search_contacts(shared: &Shared, body: &Value) -> Response<Full<Bytes>> {
    let range = &body["TimeRange"];
    let (Some(instance), Some(from), Some(to)) = (
        body["InstanceId"].as_str(),
        range["StartTime"].as_f64(),
        range["EndTime"].as_f64(),
    ) else {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidParameterException",
            "InstanceId and TimeRange are required",
        );
    };
    let moment = |contact: &Value| match range["Type"].as_str() {
        Some("DISCONNECT_TIMESTAMP") => contact["DisconnectTimestamp"].as_f64(),
        Some("CONNECTED_TO_AGENT_TIMESTAMP") => {
            contact["AgentInfo"]["ConnectedToAgentTimestamp"].as_f64()
        }
        _ => None,
    };
    if !matches!(
        range["Type"].as_str(),
        Some("DISCONNECT_TIMESTAMP" | "CONNECTED_TO_AGENT_TIMESTAMP")
    ) {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidParameterException",
            "only TimeRange.Type DISCONNECT_TIMESTAMP and CONNECTED_TO_AGENT_TIMESTAMP are served here",
        );
    }
    let page = body["MaxResults"].as_u64().unwrap_or(100).clamp(1, 100) as usize;
    let offset: usize = body["NextToken"]
        .as_str()
        .and_then(|token| token.parse().ok())
        .unwrap_or(0);
    let mut found: Vec<(f64, Value)> = shared
        .contacts
        .lock()
        .map(|contacts| {
            contacts
                .iter()
                .filter(|((held_in, _), _)| held_in == instance)
                .map(|(_, contact)| contact)
                .filter_map(|contact| {
                    let at = moment(contact).filter(|at| (from..=to).contains(at))?;
                    Some((at, summary(contact)))
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort_by(|(a_at, a), (b_at, b)| {
        a_at.total_cmp(b_at)
            .then_with(|| a["Id"].as_str().cmp(&b["Id"].as_str()))
    });
    let found: Vec<Value> = found.into_iter().map(|(_, contact)| contact).collect();
    shared.searched.fetch_add(1, Ordering::SeqCst);
    let later = shared
        .after_search
        .lock()
        .map(|mut later| std::mem::take(&mut *later))
        .unwrap_or_default();
    if let Ok(mut contacts) = shared.contacts.lock() {
        for (instance, contact) in later {
            let id = contact["Id"].as_str().unwrap_or_default().to_owned();
            contacts.insert((instance, id), contact);
        }
    }
    let total = found.len();
    let contacts: Vec<Value> = found.into_iter().skip(offset).take(page).collect();
    let mut answer = json!({"Contacts": contacts, "TotalCount": total});
    if offset + page < total {
        answer["NextToken"] = json!((offset + page).to_string());
    }
    json_response(&answer)
}

/// A `Contact` as the search summarises it: `ContactSearchSummary`'s fields only (no
/// after-contact work, no disconnect reason).
fn summary(contact: &Value) -> Value {
    let mut summary = json!({});
    for field in [
        "Arn",
        "Id",
        "InitialContactId",
        "PreviousContactId",
        "InitiationMethod",
        "Channel",
        "InitiationTimestamp",
        "DisconnectTimestamp",
        "SegmentAttributes",
    ] {
        if let Some(value) = contact.get(field) {
            summary[field] = value.clone();
        }
    }
    if let Some(queue) = contact.get("QueueInfo") {
        summary["QueueInfo"] =
            json!({"Id": queue["Id"], "EnqueueTimestamp": queue["EnqueueTimestamp"]});
    }
    if let Some(agent) = contact.get("AgentInfo") {
        summary["AgentInfo"] = json!({
            "Id": agent["Id"],
            "ConnectedToAgentTimestamp": agent["ConnectedToAgentTimestamp"],
        });
    }
    without_nulls(summary)
}

/// `value` without its null fields, at any depth: Connect leaves absent fields out.
pub fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        other => other,
    }
}
