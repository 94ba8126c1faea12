//! An HTTP proxy between the function and DynamoDB Local that injects what a real table and
//! network do to a write now and then:
//!
//! - **throttling**: HTTP 400 `ThrottlingException`, the request never reaches the table;
//! - **server errors**: HTTP 500 `InternalServerError`, the request never reaches the table;
//! - **dropped requests**: the connection closes before the request is forwarded;
//! - **lost responses**: the request is forwarded and *applied*, then the connection closes
//!   before the answer reaches the client — the case that tempts code into double-applying;
//! - **stalls**: every answer held back for a while (a slow table).
//!
//! Requests whose body contains a *doomed* marker (a contact id prefix, say) always get one of
//! the four faults, so a test can make some events fail every delivery.
//!
//! Error bodies follow DynamoDB's JSON protocol (`__type`), so the SDK classifies them as it
//! would real ones: <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html>.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// How often each fault happens, in percent of requests (they add up; the rest pass through).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    pub throttle: u64,
    pub server_error: u64,
    pub drop_request: u64,
    pub lose_response: u64,
    /// Held back before answering, on every request.
    pub stall: Option<Duration>,
    /// Requests whose body contains this always get a fault.
    pub doomed: Option<String>,
}

/// How many of each fault the proxy injected, and how many requests reached the table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Injected {
    pub throttled: u64,
    pub server_errors: u64,
    pub dropped_requests: u64,
    pub lost_responses: u64,
    pub forwarded: u64,
}

#[derive(Debug, Clone, Copy)]
enum Fault {
    Throttle,
    ServerError,
    DropRequest,
    LoseResponse,
}

type HttpClient = Client<HttpConnector, Full<Bytes>>;

struct Shared {
    upstream: Uri,
    client: HttpClient,
    faults: Mutex<Faults>,
    rng: AtomicU64,
    throttled: AtomicU64,
    server_errors: AtomicU64,
    dropped_requests: AtomicU64,
    lost_responses: AtomicU64,
    forwarded: AtomicU64,
}

pub struct FaultProxy {
    address: SocketAddr,
    shared: Arc<Shared>,
}

/// The error a service returns to make hyper close the connection without an answer.
#[derive(Debug)]
struct CloseConnection;

impl std::fmt::Display for CloseConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection closed by the fault proxy")
    }
}

impl std::error::Error for CloseConnection {}

impl FaultProxy {
    /// Listens on a free loopback port and forwards to `upstream` (`http://host:port`).
    /// `seed` makes the choice of faults repeatable for a given order of requests.
    pub async fn start(upstream: &str, faults: Faults, seed: u64) -> std::io::Result<FaultProxy> {
        let upstream: Uri = upstream
            .parse()
            .map_err(|error| std::io::Error::new(std::io::ErrorKind::InvalidInput, error))?;
        let shared = Arc::new(Shared {
            upstream,
            client: Client::builder(TokioExecutor::new()).build_http(),
            faults: Mutex::new(faults),
            rng: AtomicU64::new(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1),
            throttled: AtomicU64::new(0),
            server_errors: AtomicU64::new(0),
            dropped_requests: AtomicU64::new(0),
            lost_responses: AtomicU64::new(0),
            forwarded: AtomicU64::new(0),
        });
        let address = loopback_http::serve(Arc::clone(&shared), proxy).await?;
        Ok(FaultProxy { address, shared })
    }

    /// The endpoint URL to give the client (`AWS_ENDPOINT_URL_DYNAMODB`).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Changes the faults from the next request on.
    pub fn set_faults(&self, faults: Faults) {
        if let Ok(mut current) = self.shared.faults.lock() {
            *current = faults;
        }
    }

    pub fn injected(&self) -> Injected {
        let shared = &self.shared;
        Injected {
            throttled: shared.throttled.load(Ordering::SeqCst),
            server_errors: shared.server_errors.load(Ordering::SeqCst),
            dropped_requests: shared.dropped_requests.load(Ordering::SeqCst),
            lost_responses: shared.lost_responses.load(Ordering::SeqCst),
            forwarded: shared.forwarded.load(Ordering::SeqCst),
        }
    }
}

impl Shared {
    /// xorshift64*, shared by all connections.
    fn random_percent(&self) -> u64 {
        let mut next = 0;
        let _ = self
            .rng
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |mut x| {
                x ^= x >> 12;
                x ^= x << 25;
                x ^= x >> 27;
                next = x.wrapping_mul(0x2545_F491_4F6C_DD1D);
                Some(x)
            });
        (next >> 11) % 100
    }

    fn choose(&self, faults: &Faults, body: &[u8]) -> Option<Fault> {
        let doomed = faults
            .doomed
            .as_deref()
            .is_some_and(|marker| contains(body, marker.as_bytes()));
        let roll = self.random_percent();
        if doomed {
            return Some(match roll % 4 {
                0 => Fault::Throttle,
                1 => Fault::ServerError,
                2 => Fault::DropRequest,
                _ => Fault::LoseResponse,
            });
        }
        let mut threshold = 0;
        for (percent, fault) in [
            (faults.throttle, Fault::Throttle),
            (faults.server_error, Fault::ServerError),
            (faults.drop_request, Fault::DropRequest),
            (faults.lose_response, Fault::LoseResponse),
        ] {
            threshold += percent;
            if roll < threshold {
                return Some(fault);
            }
        }
        None
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|window| window == needle)
}

async fn proxy(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, CloseConnection> {
    let (mut parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map_err(|_| CloseConnection)?
        .to_bytes();
    let faults = shared
        .faults
        .lock()
        .map(|faults| faults.clone())
        .unwrap_or_default();
    if let Some(stall) = faults.stall {
        tokio::time::sleep(stall).await;
    }
    let fault = shared.choose(&faults, &body);
    match fault {
        Some(Fault::Throttle) => {
            shared.throttled.fetch_add(1, Ordering::SeqCst);
            return Ok(dynamodb_error(
                StatusCode::BAD_REQUEST,
                "ThrottlingException",
                "Rate of requests exceeds the allowed throughput.",
            ));
        }
        Some(Fault::ServerError) => {
            shared.server_errors.fetch_add(1, Ordering::SeqCst);
            return Ok(dynamodb_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                "Internal server error",
            ));
        }
        Some(Fault::DropRequest) => {
            shared.dropped_requests.fetch_add(1, Ordering::SeqCst);
            return Err(CloseConnection);
        }
        Some(Fault::LoseResponse) | None => {}
    }
    let mut uri = shared.upstream.clone().into_parts();
    uri.path_and_query = parts.uri.path_and_query().cloned();
    parts.uri = Uri::from_parts(uri).map_err(|_| CloseConnection)?;
    let forwarded = shared
        .client
        .request(Request::from_parts(parts, Full::new(body)))
        .await
        .map_err(|_| CloseConnection)?;
    let (parts, body) = forwarded.into_parts();
    let body = body
        .collect()
        .await
        .map_err(|_| CloseConnection)?
        .to_bytes();
    shared.forwarded.fetch_add(1, Ordering::SeqCst);
    if matches!(fault, Some(Fault::LoseResponse)) {
        shared.lost_responses.fetch_add(1, Ordering::SeqCst);
        return Err(CloseConnection);
    }
    Ok(Response::from_parts(parts, Full::new(body)))
}

fn dynamodb_error(status: StatusCode, error_type: &str, message: &str) -> Response<Full<Bytes>> {
    let body = format!(
        r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{error_type}","message":"{message}"}}"#
    );
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/x-amz-json-1.0"),
    );
    response
}
