//! A stand-in for the one CloudWatch call this workspace makes: the wallboard's
//! `GetMetricData`. moto's CloudWatch speaks the Query and JSON protocols only, and the Rust SDK
//! speaks Smithy RPC v2 CBOR, so this answers as the API reference shapes it, in that protocol,
//! and the real SDK talks to it through `AWS_ENDPOINT_URL_CLOUDWATCH`:
//!
//! - `POST /service/GraniteServiceVersion20100801/operation/GetMetricData` with a CBOR body
//!   (`MetricDataQueries` of `MetricStat` queries, `StartTime`, `EndTime`, `ScanBy`) → for each
//!   query, the held datapoints of its namespace and metric name in [`StartTime`, `EndTime`),
//!   in periods of `Period` seconds counted from `StartTime` rounded down to its minute (as
//!   CloudWatch rounds a start time of the last 15 days), each period's `Stat` (`Sum`,
//!   `Maximum`, `Minimum`, `Average`, `SampleCount`), newest first unless `ScanBy` is
//!   `TimestampAscending`; periods without datapoints are left out, as CloudWatch does;
//! - anything else → 400 with a CBOR `__type` of `InvalidAction`.
//!
//! What it does not model: dimensions (a query's must be empty, as the wallboard's are), metric
//! math, percentiles, units, pagination (one page holds every datapoint), and the minute or so a
//! metric filter takes to publish: datapoints are held as given.
//!
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html>,
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDataResult.html>,
//! <https://smithy.io/2.0/additional-specs/protocols/smithy-rpc-v2.html>

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use ciborium::Value;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};

const GET_METRIC_DATA: &str = "/service/GraniteServiceVersion20100801/operation/GetMetricData";
/// CBOR's tag for an epoch-based date/time (RFC 8949, 3.4.2), which the protocol's timestamps use.
const EPOCH_TAG: u64 = 1;

/// One datapoint, as a metric filter would have published it.
#[derive(Debug, Clone, PartialEq)]
pub struct Datapoint {
    pub namespace: String,
    pub metric_name: String,
    /// Epoch seconds.
    pub timestamp: f64,
    pub value: f64,
}

struct Shared {
    datapoints: Mutex<Vec<Datapoint>>,
    asked: AtomicU64,
}

pub struct CloudWatchStandIn {
    address: SocketAddr,
    shared: Arc<Shared>,
}

impl CloudWatchStandIn {
    /// Listens on a free loopback port.
    pub async fn start() -> std::io::Result<CloudWatchStandIn> {
        let shared = Arc::new(Shared {
            datapoints: Mutex::new(Vec::new()),
            asked: AtomicU64::new(0),
        });
        let address = loopback_http::serve(Arc::clone(&shared), answer).await?;
        Ok(CloudWatchStandIn { address, shared })
    }

    /// The endpoint URL to give the SDK (`AWS_ENDPOINT_URL_CLOUDWATCH`).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn hold(&self, datapoint: Datapoint) {
        if let Ok(mut held) = self.shared.datapoints.lock() {
            held.push(datapoint);
        }
    }

    /// `GetMetricData` requests answered.
    pub fn asked(&self) -> u64 {
        self.shared.asked.load(Ordering::SeqCst)
    }
}

async fn answer(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    if request.method() != hyper::Method::POST || request.uri().path() != GET_METRIC_DATA {
        return Ok(cbor(
            StatusCode::BAD_REQUEST,
            &error("InvalidAction", "only GetMetricData is served here"),
        ));
    }
    let body = match request.into_body().collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let input: Value = match ciborium::from_reader(body.as_ref()) {
        Ok(input) => input,
        Err(e) => {
            return Ok(cbor(
                StatusCode::BAD_REQUEST,
                &error("InvalidParameterValue", &format!("not CBOR: {e}")),
            ));
        }
    };
    shared.asked.fetch_add(1, Ordering::SeqCst);
    let held = shared
        .datapoints
        .lock()
        .map(|held| held.clone())
        .unwrap_or_default();
    Ok(match get_metric_data(&input, &held) {
        Ok(output) => cbor(StatusCode::OK, &output),
        Err(message) => cbor(
            StatusCode::BAD_REQUEST,
            &error("InvalidParameterValue", &message),
        ),
    })
}

fn get_metric_data(input: &Value, held: &[Datapoint]) -> Result<Value, String> {
    // CloudWatch rounds a start time of the last 15 days down to its minute.
    let start = time(field(input, "StartTime")).ok_or("StartTime is required")?;
    let start = (start / 60.0).floor() * 60.0;
    let end = time(field(input, "EndTime")).ok_or("EndTime is required")?;
    let ascending = text(field(input, "ScanBy")) == Some("TimestampAscending");
    let mut results = Vec::new();
    for query in list(field(input, "MetricDataQueries")) {
        let id = text(field(query, "Id")).ok_or("a query has no Id")?;
        let stat = field(query, "MetricStat").ok_or("only MetricStat queries are served")?;
        let metric = field(stat, "Metric").ok_or("MetricStat has no Metric")?;
        if !list(field(metric, "Dimensions")).is_empty() {
            return Err("dimensions are not modelled".to_owned());
        }
        let namespace = text(field(metric, "Namespace")).unwrap_or_default();
        let name = text(field(metric, "MetricName")).unwrap_or_default();
        let period = number(field(stat, "Period"))
            .filter(|p| *p >= 1.0)
            .ok_or("Period")?;
        let statistic = text(field(stat, "Stat")).ok_or("Stat is required")?;
        let mut periods: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
        for point in held.iter().filter(|p| {
            p.namespace == namespace
                && p.metric_name == name
                && p.timestamp >= start
                && p.timestamp < end
        }) {
            let n = ((point.timestamp - start) / period).floor() as i64;
            periods.entry(n).or_default().push(point.value);
        }
        let mut points: Vec<(f64, f64)> = Vec::new();
        for (n, values) in periods {
            let value = match statistic {
                "Sum" => values.iter().sum(),
                "Maximum" => values.iter().copied().fold(f64::MIN, f64::max),
                "Minimum" => values.iter().copied().fold(f64::MAX, f64::min),
                "Average" => values.iter().sum::<f64>() / values.len() as f64,
                "SampleCount" => values.len() as f64,
                other => return Err(format!("the statistic {other} is not modelled")),
            };
            points.push((start + n as f64 * period, value));
        }
        if !ascending {
            points.reverse();
        }
        results.push(Value::Map(vec![
            entry("Id", Value::Text(id.to_owned())),
            entry("Label", Value::Text(name.to_owned())),
            entry(
                "Timestamps",
                Value::Array(
                    points
                        .iter()
                        .map(|(at, _)| Value::Tag(EPOCH_TAG, Box::new(Value::Float(*at))))
                        .collect(),
                ),
            ),
            entry(
                "Values",
                Value::Array(points.iter().map(|(_, v)| Value::Float(*v)).collect()),
            ),
            entry("StatusCode", Value::Text("Complete".to_owned())),
        ]));
    }
    Ok(Value::Map(vec![
        entry("MetricDataResults", Value::Array(results)),
        entry("Messages", Value::Array(Vec::new())),
    ]))
}

fn entry(key: &str, value: Value) -> (Value, Value) {
    (Value::Text(key.to_owned()), value)
}

fn field<'a>(value: &'a Value, name: &str) -> Option<&'a Value> {
    value
        .as_map()?
        .iter()
        .find(|(key, _)| key.as_text() == Some(name))
        .map(|(_, value)| value)
}

fn list(value: Option<&Value>) -> &[Value] {
    value
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn text(value: Option<&Value>) -> Option<&str> {
    value?.as_text()
}

fn number(value: Option<&Value>) -> Option<f64> {
    match value? {
        Value::Integer(n) => i64::try_from(*n).ok().map(|n| n as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

/// A timestamp: tag 1 around epoch seconds.
fn time(value: Option<&Value>) -> Option<f64> {
    match value? {
        Value::Tag(EPOCH_TAG, inner) => number(Some(inner)),
        _ => None,
    }
}

fn error(kind: &str, message: &str) -> Value {
    Value::Map(vec![
        entry("__type", Value::Text(kind.to_owned())),
        entry("message", Value::Text(message.to_owned())),
    ])
}

fn cbor(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    let mut bytes = Vec::new();
    let _ = ciborium::into_writer(body, &mut bytes);
    Response::builder()
        .status(status)
        .header("content-type", "application/cbor")
        .header("smithy-protocol", "rpc-v2-cbor")
        .body(Full::new(Bytes::from(bytes)))
        .unwrap_or_default()
}

/// Datapoints from JSON (`[{"namespace", "metricName", "timestamp" (epoch seconds), "value"}]`).
pub fn datapoints(json: &serde_json::Value) -> Vec<Datapoint> {
    json.as_array()
        .into_iter()
        .flatten()
        .filter_map(|point| {
            Some(Datapoint {
                namespace: point["namespace"].as_str()?.to_owned(),
                metric_name: point["metricName"].as_str()?.to_owned(),
                timestamp: point["timestamp"].as_f64()?,
                value: point["value"].as_f64()?,
            })
        })
        .collect()
}
