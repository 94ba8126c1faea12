//! A local stand-in for the Lambda service, enough to run the real `contact-state` binary the way
//! Lambda does, without Docker: the Runtime API it polls
//! (<https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>) and the environment
//! Lambda gives its processes. Several processes may poll one [`RuntimeApi`] at once, as
//! concurrent execution environments of one function do.
//!
//! The same address also answers the Lambda `Invoke` API, synchronous invocations only
//! (<https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html>), so AWS SDKs and tools that
//! invoke a function (the redrive command) can be pointed at it with `AWS_ENDPOINT_URL_LAMBDA`.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use tokio::process::{Child, Command};
use tokio::sync::{Mutex, mpsc, oneshot};

/// What an invocation answered: the response body, or the error document the runtime posted.
pub type Answer = Result<String, String>;

const FUNCTION_NAME: &str = "contact-state";
const INVOCATION_PREFIX: &str = "/2018-06-01/runtime/invocation/";
const INVOKE_API_PREFIX: &str = "/2015-03-31/functions/";

struct Pending {
    request_id: String,
    payload: Bytes,
    answer: oneshot::Sender<Answer>,
}

struct Shared {
    submit: mpsc::Sender<Pending>,
    next_id: AtomicU64,
    queue: Mutex<mpsc::Receiver<Pending>>,
    waiting: Mutex<HashMap<String, oneshot::Sender<Answer>>>,
    init_errors: Mutex<Vec<String>>,
    timeout: Duration,
    /// When a process first asked for an invocation: the end of its init.
    first_poll: tokio::sync::watch::Sender<Option<Instant>>,
}

/// The Runtime API endpoint and its invocation queue.
pub struct RuntimeApi {
    address: SocketAddr,
    shared: Arc<Shared>,
}

impl RuntimeApi {
    /// Listens on a free loopback port; `timeout` is the deadline given to each invocation.
    pub async fn start(timeout: Duration) -> std::io::Result<RuntimeApi> {
        let (submit, queue) = mpsc::channel(1024);
        let shared = Arc::new(Shared {
            submit,
            next_id: AtomicU64::new(1),
            queue: Mutex::new(queue),
            waiting: Mutex::new(HashMap::new()),
            init_errors: Mutex::new(Vec::new()),
            timeout,
            first_poll: tokio::sync::watch::channel(None).0,
        });
        let address = loopback_http::serve(Arc::clone(&shared), route).await?;
        Ok(RuntimeApi { address, shared })
    }

    /// The value of `AWS_LAMBDA_RUNTIME_API` for the processes.
    pub fn address(&self) -> String {
        self.address.to_string()
    }

    /// Queues one event and waits for whichever process takes it to answer.
    pub async fn invoke(&self, payload: impl Into<Bytes>) -> Answer {
        self.shared.invoke(payload.into()).await
    }

    /// Waits until a process has finished its init and asked for an invocation; returns when
    /// the first one did.
    pub async fn ready(&self) -> Instant {
        let mut polls = self.shared.first_poll.subscribe();
        match polls.wait_for(Option::is_some).await {
            Ok(first) => first.unwrap_or_else(Instant::now),
            Err(_) => Instant::now(),
        }
    }

    /// Errors the processes reported during init (`/runtime/init/error`).
    pub async fn init_errors(&self) -> Vec<String> {
        self.shared.init_errors.lock().await.clone()
    }
}

impl Shared {
    async fn invoke(&self, payload: Bytes) -> Answer {
        let request_id = format!(
            "00000000-0000-4000-8000-{:012}",
            self.next_id.fetch_add(1, Ordering::Relaxed)
        );
        let (answer, answered) = oneshot::channel();
        let pending = Pending {
            request_id,
            payload,
            answer,
        };
        if self.submit.send(pending).await.is_err() {
            return Err("the runtime API is closed".into());
        }
        answered
            .await
            .unwrap_or_else(|_| Err("the invocation was dropped".into()))
    }
}

async fn route(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    let body = request
        .into_body()
        .collect()
        .await
        .map(|body| body.to_bytes())
        .unwrap_or_default();
    if method == Method::POST
        && path.starts_with(INVOKE_API_PREFIX)
        && path.ends_with("/invocations")
    {
        return Ok(invoke_api(&shared, body).await);
    }
    let text = String::from_utf8_lossy(&body).into_owned();
    if method == Method::GET && path == "/2018-06-01/runtime/invocation/next" {
        return Ok(next_invocation(&shared).await);
    }
    if method == Method::POST && path == "/2018-06-01/runtime/init/error" {
        shared.init_errors.lock().await.push(text);
        return Ok(status(StatusCode::ACCEPTED));
    }
    let answer = match path
        .strip_prefix(INVOCATION_PREFIX)
        .map(|rest| rest.rsplit_once('/'))
    {
        Some(Some((id, "response"))) if method == Method::POST => Some((id, Ok(text))),
        Some(Some((id, "error"))) if method == Method::POST => Some((id, Err(text))),
        _ => None,
    };
    if let Some((id, answer)) = answer {
        let Some(waiter) = shared.waiting.lock().await.remove(id) else {
            return Ok(status(StatusCode::BAD_REQUEST));
        };
        let _ = waiter.send(answer);
        return Ok(status(StatusCode::ACCEPTED));
    }
    Ok(status(StatusCode::NOT_FOUND))
}

async fn next_invocation(shared: &Shared) -> Response<Full<Bytes>> {
    shared.first_poll.send_if_modified(|first| {
        let unset = first.is_none();
        if unset {
            *first = Some(Instant::now());
        }
        unset
    });
    // One poller at a time takes from the queue; the others wait their turn, like idle
    // execution environments.
    let pending = shared.queue.lock().await.recv().await;
    let Some(pending) = pending else {
        return status(StatusCode::GONE);
    };
    let deadline = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .saturating_add(shared.timeout)
        .as_millis();
    shared
        .waiting
        .lock()
        .await
        .insert(pending.request_id.clone(), pending.answer);
    let mut response = Response::new(Full::new(pending.payload));
    let headers = response.headers_mut();
    headers.insert("Lambda-Runtime-Aws-Request-Id", header(&pending.request_id));
    headers.insert("Lambda-Runtime-Deadline-Ms", header(&deadline.to_string()));
    headers.insert(
        "Lambda-Runtime-Invoked-Function-Arn",
        header(&format!(
            "arn:aws:lambda:us-east-1:111122223333:function:{FUNCTION_NAME}"
        )),
    );
    headers.insert("Content-Type", header("application/json"));
    response
}

/// `Invoke` (RequestResponse): 200 with the function's answer; a function error is flagged by
/// the `X-Amz-Function-Error` header, as Lambda does.
async fn invoke_api(shared: &Shared, payload: Bytes) -> Response<Full<Bytes>> {
    let answer = shared.invoke(payload).await;
    let failed = answer.is_err();
    let mut response = Response::new(Full::new(Bytes::from(answer.unwrap_or_else(|e| e))));
    let headers = response.headers_mut();
    headers.insert("Content-Type", header("application/json"));
    headers.insert("X-Amz-Executed-Version", header("$LATEST"));
    if failed {
        headers.insert("X-Amz-Function-Error", header("Unhandled"));
    }
    response
}

fn header(value: &str) -> hyper::header::HeaderValue {
    hyper::header::HeaderValue::from_str(value)
        .unwrap_or_else(|_| hyper::header::HeaderValue::from_static("invalid"))
}

fn status(code: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = code;
    response
}

/// Starts one function process the way Lambda starts an execution environment: the Runtime
/// API address and the function's settings in its environment, plus `extra` (TABLE_NAME, the
/// DynamoDB endpoint, credentials...). Its logs go to `logs` (or are inherited when `None`).
pub fn spawn_function(
    binary: &Path,
    runtime_api: &str,
    extra: &[(&str, &str)],
    logs: Option<Stdio>,
) -> std::io::Result<Child> {
    let mut command = Command::new(binary);
    command
        .env("AWS_LAMBDA_RUNTIME_API", runtime_api)
        .env("AWS_LAMBDA_FUNCTION_NAME", FUNCTION_NAME)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
        .kill_on_drop(true);
    for (name, value) in extra {
        command.env(name, value);
    }
    if let Some(logs) = logs {
        command.stdout(logs);
    }
    command.spawn()
}
