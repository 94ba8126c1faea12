//! A stand-in for Amazon Connect's `DescribeContact`, the one Connect call the reconciler makes
//! (moto has no Connect). It answers as the API reference shapes it, REST-JSON, so the real SDK
//! talks to it through `AWS_ENDPOINT_URL_CONNECT`:
//!
//! - `GET /contacts/{InstanceId}/{ContactId}` → 200 `{"Contact": {…}}`, timestamps as epoch
//!   seconds (the protocol's default);
//! - a contact it does not hold, or of another instance → 404 `ResourceNotFoundException`;
//! - every `throttle_every`-th request → 429 `TooManyRequestsException`, as Connect throttles
//!   calls beyond its quota (the SDK retries them).
//!
//! <https://docs.aws.amazon.com/connect/latest/APIReference/API_DescribeContact.html>,
//! <https://docs.aws.amazon.com/connect/latest/APIReference/API_Contact.html>

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::{Value, json};

/// What the stand-in was asked, and how it answered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Calls {
    pub described: u64,
    pub not_found: u64,
    pub throttled: u64,
}

struct Shared {
    /// `Contact` objects by instance id and contact id.
    contacts: Mutex<HashMap<(String, String), Value>>,
    throttle_every: AtomicU64,
    requests: AtomicU64,
    described: AtomicU64,
    not_found: AtomicU64,
    throttled: AtomicU64,
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
            requests: AtomicU64::new(0),
            described: AtomicU64::new(0),
            not_found: AtomicU64::new(0),
            throttled: AtomicU64::new(0),
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

    /// Throttles every `n`-th request from now on (0: none).
    pub fn throttle_every(&self, n: u64) {
        self.shared.throttle_every.store(n, Ordering::SeqCst);
    }

    pub fn calls(&self) -> Calls {
        Calls {
            described: self.shared.described.load(Ordering::SeqCst),
            not_found: self.shared.not_found.load(Ordering::SeqCst),
            throttled: self.shared.throttled.load(Ordering::SeqCst),
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
    let path: Vec<&str> = request.uri().path().trim_matches('/').split('/').collect();
    let (["contacts", instance, contact], &hyper::Method::GET) =
        (path.as_slice(), request.method())
    else {
        return Ok(error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestException",
            "only DescribeContact is served here",
        ));
    };
    let found = shared.contacts.lock().ok().and_then(|contacts| {
        contacts
            .get(&((*instance).to_owned(), (*contact).to_owned()))
            .cloned()
    });
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
