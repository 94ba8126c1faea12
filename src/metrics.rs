//! CloudWatch metrics without API calls: one Embedded Metric Format line per event on stdout,
//! which CloudWatch Logs turns into metrics as it ingests the function's logs
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>).
//! Lambda passes a custom runtime's stdout lines through unchanged, so the line is the log event.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

/// A dimension a metric can be split by. Values are bounded: outcomes are five words, event
/// types the known ones plus `OTHER`, so a hostile stream cannot mint metric series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    FunctionName,
    Outcome,
    EventType,
}

impl Dimension {
    fn name(self) -> &'static str {
        match self {
            Dimension::FunctionName => "FunctionName",
            Dimension::Outcome => "Outcome",
            Dimension::EventType => "EventType",
        }
    }
}

impl FromStr for Dimension {
    type Err = String;

    fn from_str(name: &str) -> Result<Dimension, String> {
        match name.trim() {
            "FunctionName" => Ok(Dimension::FunctionName),
            "Outcome" => Ok(Dimension::Outcome),
            "EventType" => Ok(Dimension::EventType),
            other => Err(format!(
                "unknown metric dimension {other:?} (FunctionName, Outcome or EventType)"
            )),
        }
    }
}

/// Where metrics go and how they are split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metrics {
    pub namespace: String,
    /// Each set is one split of every metric (`[[Outcome], [EventType]]`: by outcome, and
    /// separately by event type). An empty set is the total.
    pub dimension_sets: Vec<Vec<Dimension>>,
    pub function_name: String,
}

impl Metrics {
    /// `METRICS_DIMENSIONS`: dimension sets separated by `,`, the dimensions of one set joined by
    /// `+` (`Outcome,EventType,FunctionName+Outcome`); empty for totals only.
    pub fn parse_dimension_sets(text: &str) -> Result<Vec<Vec<Dimension>>, String> {
        if text.trim().is_empty() {
            return Ok(vec![Vec::new()]);
        }
        text.split(',')
            .map(|set| set.split('+').map(str::parse).collect())
            .collect()
    }

    /// The EMF line for one event, stamped `timestamp_ms` (epoch milliseconds).
    pub fn line(&self, sample: &Sample<'_>, timestamp_ms: u64) -> String {
        let document = Document {
            metrics: self,
            sample,
            timestamp_ms,
        };
        // Serializing plain strings and numbers cannot fail; an empty line would be dropped.
        serde_json::to_string(&document).unwrap_or_default()
    }
}

/// What one event measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample<'a> {
    /// `applied`, `stale`, `ignored`, `refused` or `failed`.
    pub outcome: &'static str,
    /// A known event type, or `OTHER`.
    pub event_type: &'a str,
    /// Conditional writes sent.
    pub requests: usize,
    /// Writes the table rejected because the item had moved on (duplicates, late events, races).
    pub rejections: usize,
    /// SDK retries (throttling, 5xx, lost connections) across the writes.
    pub retries: u32,
    /// Time spent waiting for DynamoDB, in milliseconds.
    pub dynamodb_ms: f64,
}

const METRICS: [(&str, &str); 5] = [
    ("Events", "Count"),
    ("DynamoDbRequests", "Count"),
    ("ConditionalRejections", "Count"),
    ("Retries", "Count"),
    ("DynamoDbLatency", "Milliseconds"),
];

struct Document<'a> {
    metrics: &'a Metrics,
    sample: &'a Sample<'a>,
    timestamp_ms: u64,
}

impl Serialize for Document<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let sample = self.sample;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry(
            "_aws",
            &Aws {
                timestamp: self.timestamp_ms,
                cloud_watch_metrics: [Directive {
                    namespace: &self.metrics.namespace,
                    dimensions: DimensionSets(&self.metrics.dimension_sets),
                    metrics: METRICS.map(|(name, unit)| Definition { name, unit }),
                }],
            },
        )?;
        map.serialize_entry("FunctionName", &self.metrics.function_name)?;
        map.serialize_entry("Outcome", sample.outcome)?;
        map.serialize_entry("EventType", sample.event_type)?;
        map.serialize_entry("Events", &1)?;
        map.serialize_entry("DynamoDbRequests", &sample.requests)?;
        map.serialize_entry("ConditionalRejections", &sample.rejections)?;
        map.serialize_entry("Retries", &sample.retries)?;
        // Rounded to microseconds: the metric's resolution, and a short line.
        let latency = (sample.dynamodb_ms * 1000.0).round() / 1000.0;
        map.serialize_entry("DynamoDbLatency", &latency)?;
        map.end()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Aws<'a> {
    timestamp: u64,
    cloud_watch_metrics: [Directive<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Directive<'a> {
    namespace: &'a str,
    dimensions: DimensionSets<'a>,
    metrics: [Definition; 5],
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Definition {
    name: &'static str,
    unit: &'static str,
}

struct DimensionSets<'a>(&'a [Vec<Dimension>]);

impl Serialize for DimensionSets<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(
            self.0
                .iter()
                .map(|set| set.iter().map(|d| d.name()).collect::<Vec<_>>()),
        )
    }
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn metrics(sets: &str) -> Metrics {
        Metrics {
            namespace: "ConnectContactState".into(),
            dimension_sets: Metrics::parse_dimension_sets(sets).expect("valid"),
            function_name: "contact-state".into(),
        }
    }

    fn sample() -> Sample<'static> {
        Sample {
            outcome: "applied",
            event_type: "QUEUED",
            requests: 2,
            rejections: 1,
            retries: 0,
            dynamodb_ms: 4.123_456,
        }
    }

    #[test]
    fn an_event_is_one_emf_line_with_every_metric_and_its_dimensions() {
        let line = metrics("Outcome,EventType").line(&sample(), 1_717_200_000_000);
        assert!(!line.contains('\n'));
        let document: Value = serde_json::from_str(&line).expect("JSON");
        assert_eq!(
            document["_aws"],
            json!({
                "Timestamp": 1_717_200_000_000_u64,
                "CloudWatchMetrics": [{
                    "Namespace": "ConnectContactState",
                    "Dimensions": [["Outcome"], ["EventType"]],
                    "Metrics": [
                        {"Name": "Events", "Unit": "Count"},
                        {"Name": "DynamoDbRequests", "Unit": "Count"},
                        {"Name": "ConditionalRejections", "Unit": "Count"},
                        {"Name": "Retries", "Unit": "Count"},
                        {"Name": "DynamoDbLatency", "Unit": "Milliseconds"},
                    ],
                }],
            })
        );
        assert_eq!(document["Outcome"], "applied");
        assert_eq!(document["EventType"], "QUEUED");
        assert_eq!(document["FunctionName"], "contact-state");
        assert_eq!(document["Events"], 1);
        assert_eq!(document["DynamoDbRequests"], 2);
        assert_eq!(document["ConditionalRejections"], 1);
        assert_eq!(document["DynamoDbLatency"], 4.123);
    }

    #[test]
    fn dimension_sets_are_chosen_by_configuration() {
        let sets = Metrics::parse_dimension_sets("FunctionName+Outcome, EventType").expect("ok");
        assert_eq!(
            sets,
            vec![
                vec![Dimension::FunctionName, Dimension::Outcome],
                vec![Dimension::EventType]
            ]
        );
        assert_eq!(Metrics::parse_dimension_sets(""), Ok(vec![Vec::new()]));
        assert!(
            Metrics::parse_dimension_sets("Outcome,ContactId")
                .unwrap_err()
                .contains("ContactId")
        );
    }
}
