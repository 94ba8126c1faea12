//! The Connect adapter: `DescribeContact` of one contact and `SearchContacts` of the recent
//! disconnects, the SDK's client, its answers as the core's [`ConnectSays`]. The only module
//! that knows the Connect SDK.
//! <https://docs.aws.amazon.com/connect/latest/APIReference/API_DescribeContact.html>,
//! <https://docs.aws.amazon.com/connect/latest/APIReference/API_SearchContacts.html>

use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_sdk_connect::Client;
use aws_sdk_connect::config::retry::RetryConfig;
use aws_sdk_connect::config::timeout::TimeoutConfig;
use aws_sdk_connect::error::{DisplayErrorContext, SdkError};
use aws_sdk_connect::operation::describe_contact::DescribeContactError;
use aws_sdk_connect::primitives::DateTime;
use aws_sdk_connect::types::{
    Contact, ContactSearchSummary, SearchContactsTimeRange, SearchContactsTimeRangeType,
};

use contact_state_core::reconcile::{self, AgentSays, ConnectSays};
use serde_json::{Map, Value, json};

/// Attempts per call: Connect answers a call over its quota with 429 `TooManyRequestsException`,
/// which the SDK's standard retry backs off from and tries again.
pub const MAX_ATTEMPTS: u32 = 3;
const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(1_500);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// The whole of one call, its retries and backoffs included: what a run's deadline counts on.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(4);
/// Contacts a `SearchContacts` page holds at most (the API's `MaxResults` limit).
pub const SEARCH_PAGE: i32 = 100;

/// What Connect answered about a contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Known(Box<ConnectSays>),
    /// Connect does not know it (not found: expired, or of another instance).
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConnectError(pub String);

pub struct Connect {
    client: Client,
}

impl Connect {
    /// A client from the SDK's configuration (credentials, Region, `AWS_ENDPOINT_URL_CONNECT`).
    pub fn new(sdk: &SdkConfig) -> Connect {
        let config = aws_sdk_connect::config::Builder::from(sdk)
            .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                    .operation_timeout(OPERATION_TIMEOUT)
                    .build(),
            )
            .build();
        Connect {
            client: Client::from_conf(config),
        }
    }

    /// A client already made (the tests' mocks).
    pub fn from_client(client: Client) -> Connect {
        Connect { client }
    }

    /// Connect's answer about `contact_id` of the instance `instance_arn`.
    pub async fn describe(
        &self,
        instance_arn: &str,
        contact_id: &str,
    ) -> Result<Answer, ConnectError> {
        let answer = self
            .client
            .describe_contact()
            .instance_id(instance_id(instance_arn))
            .contact_id(contact_id)
            .send()
            .await;
        match answer {
            Ok(output) => Ok(output.contact().map_or(Answer::Unknown, |contact| {
                Answer::Known(Box::new(says(instance_arn, contact_id, contact)))
            })),
            Err(SdkError::ServiceError(error))
                if matches!(
                    error.err(),
                    DescribeContactError::ResourceNotFoundException(_)
                ) =>
            {
                Ok(Answer::Unknown)
            }
            Err(error) => Err(ConnectError(format!(
                "DescribeContact: {}",
                DisplayErrorContext(&error)
            ))),
        }
    }

    /// One page of the contacts of `instance_arn` whose `moment` came between `from` and `to`
    /// (the search's `TimeRange`), and the token of the next page if there is one.
    pub async fn search(
        &self,
        instance_arn: &str,
        moment: Moment,
        (from, to): (SystemTime, SystemTime),
        next_token: Option<String>,
    ) -> Result<(Vec<ConnectSays>, Option<String>), ConnectError> {
        let failed = |message: String| ConnectError(format!("SearchContacts: {message}"));
        let range = SearchContactsTimeRange::builder()
            .r#type(match moment {
                Moment::Disconnected => SearchContactsTimeRangeType::DisconnectTimestamp,
                Moment::ConnectedToAgent => SearchContactsTimeRangeType::ConnectedToAgentTimestamp,
            })
            .start_time(DateTime::from(from))
            .end_time(DateTime::from(to))
            .build()
            .map_err(|error| failed(error.to_string()))?;
        let page = self
            .client
            .search_contacts()
            .instance_id(instance_id(instance_arn))
            .time_range(range)
            .max_results(SEARCH_PAGE)
            .set_next_token(next_token)
            .send()
            .await
            .map_err(|error| failed(DisplayErrorContext(&error).to_string()))?;
        let contacts = page
            .contacts()
            .iter()
            .filter_map(|summary| summary_says(instance_arn, summary))
            .collect();
        Ok((contacts, page.next_token().map(str::to_owned)))
    }
}

/// What a search looks for: contacts that disconnected, or were connected to an agent, in its
/// time range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moment {
    Disconnected,
    ConnectedToAgent,
}

/// The instance id an instance ARN ends with (the APIs take the id).
fn instance_id(instance_arn: &str) -> &str {
    instance_arn.rsplit('/').next().unwrap_or(instance_arn)
}

/// Epoch milliseconds, rounded: Connect sends timestamps as epoch seconds with a fraction, which
/// the SDK reads through an `f64`, so `.123` can arrive as `.1229999…` (truncating would lose
/// the millisecond the events carry).
fn millis(at: Option<&DateTime>) -> Option<i64> {
    at.map(|at| at.secs() * 1_000 + (f64::from(at.subsec_nanos()) / 1e6).round() as i64)
}

/// The fields that have a value, as a JSON object.
fn fields<const N: usize>(fields: [(&str, Option<Value>); N]) -> Map<String, Value> {
    fields
        .into_iter()
        .filter_map(|(name, value)| Some((name.to_owned(), value?)))
        .collect()
}

/// A nested object, if any of its fields has a value.
fn object<const N: usize>(fields_of: [(&str, Option<Value>); N]) -> Option<Value> {
    let map = fields(fields_of);
    (!map.is_empty()).then_some(Value::Object(map))
}

fn segment_attributes(subtype: Option<&str>) -> Option<Value> {
    subtype.map(|subtype| json!({"connect:Subtype": {"ValueString": subtype}}))
}

/// The `Contact` object as the core reads it: its fields under the API reference's names (the
/// core's `event::parse` decides which are facts), its places and times apart.
fn says(instance_arn: &str, contact_id: &str, contact: &Contact) -> ConnectSays {
    let text = |value: Option<&str>| value.map(Value::from);
    let time = |at: Option<&DateTime>| reconcile::iso(millis(at)).map(Value::from);
    let subtype = contact
        .segment_attributes()
        .and_then(|attributes| attributes.get("connect:Subtype"))
        .and_then(|subtype| subtype.value_string());
    let voice = contact.customer_voice_activity();
    let detail = fields([
        ("Channel", text(contact.channel().map(|c| c.as_str()))),
        (
            "InitiationMethod",
            text(contact.initiation_method().map(|m| m.as_str())),
        ),
        ("InitialContactId", text(contact.initial_contact_id())),
        ("PreviousContactId", text(contact.previous_contact_id())),
        ("RelatedContactId", text(contact.related_contact_id())),
        ("InitiationTimestamp", time(contact.initiation_timestamp())),
        (
            "ConnectedToSystemTimestamp",
            time(contact.connected_to_system_timestamp()),
        ),
        ("DisconnectReason", text(contact.disconnect_reason())),
        (
            "CustomerVoiceActivity",
            object([
                (
                    "GreetingStartTimestamp",
                    time(voice.and_then(|v| v.greeting_start_timestamp())),
                ),
                (
                    "GreetingEndTimestamp",
                    time(voice.and_then(|v| v.greeting_end_timestamp())),
                ),
            ]),
        ),
        (
            "AnsweringMachineDetectionStatus",
            text(
                contact
                    .answering_machine_detection_status()
                    .map(|status| status.as_str()),
            ),
        ),
        (
            "Campaign",
            object([(
                "CampaignId",
                text(contact.campaign().and_then(|c| c.campaign_id())),
            )]),
        ),
        (
            "DisconnectDetails",
            object([(
                "PotentialDisconnectIssue",
                text(
                    contact
                        .disconnect_details()
                        .and_then(|d| d.potential_disconnect_issue()),
                ),
            )]),
        ),
        ("SegmentAttributes", segment_attributes(subtype)),
    ]);
    ConnectSays {
        contact_id: contact_id.to_owned(),
        instance_arn: instance_arn.to_owned(),
        detail,
        disconnect_timestamp: millis(contact.disconnect_timestamp()),
        listed_arns: Vec::new(),
        queue: contact
            .queue_info()
            .and_then(|queue| Some((queue.id()?.to_owned(), millis(queue.enqueue_timestamp())))),
        agent: contact.agent_info().and_then(|agent| {
            Some(AgentSays {
                id: agent.id()?.to_owned(),
                connected_to_agent_timestamp: millis(agent.connected_to_agent_timestamp()),
                after_contact_work_start_timestamp: millis(
                    agent.after_contact_work_start_timestamp(),
                ),
                after_contact_work_end_timestamp: millis(agent.after_contact_work_end_timestamp()),
                after_contact_work_duration: agent
                    .after_contact_work_duration()
                    .and_then(|seconds| u64::try_from(seconds).ok()),
            })
        }),
    }
}

/// A `ContactSearchSummary` as the core reads it: fewer facts than `DescribeContact` gives, and
/// no after-contact work (the run describes a contact that had an agent). Nothing without an id.
fn summary_says(instance_arn: &str, summary: &ContactSearchSummary) -> Option<ConnectSays> {
    let text = |value: Option<&str>| value.map(Value::from);
    let subtype = summary
        .segment_attributes()
        .and_then(|attributes| attributes.get("connect:Subtype"))
        .and_then(|subtype| subtype.value_string());
    let detail = fields([
        ("Channel", text(summary.channel().map(|c| c.as_str()))),
        (
            "InitiationMethod",
            text(summary.initiation_method().map(|m| m.as_str())),
        ),
        ("InitialContactId", text(summary.initial_contact_id())),
        ("PreviousContactId", text(summary.previous_contact_id())),
        (
            "InitiationTimestamp",
            reconcile::iso(millis(summary.initiation_timestamp())).map(Value::from),
        ),
        ("SegmentAttributes", segment_attributes(subtype)),
    ]);
    Some(ConnectSays {
        contact_id: summary.id()?.to_owned(),
        instance_arn: instance_arn.to_owned(),
        detail,
        disconnect_timestamp: millis(summary.disconnect_timestamp()),
        queue: summary
            .queue_info()
            .and_then(|queue| Some((queue.id()?.to_owned(), millis(queue.enqueue_timestamp())))),
        agent: summary.agent_info().and_then(|agent| {
            Some(AgentSays {
                id: agent.id()?.to_owned(),
                connected_to_agent_timestamp: millis(agent.connected_to_agent_timestamp()),
                ..AgentSays::default()
            })
        }),
        listed_arns: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_connect::operation::describe_contact::DescribeContactOutput;
    use aws_sdk_connect::operation::search_contacts::SearchContactsOutput;
    use aws_sdk_connect::types::error::{InvalidRequestException, ResourceNotFoundException};
    use aws_sdk_connect::types::{
        AgentInfo, Channel, ContactInitiationMethod, ContactSearchSummaryAgentInfo,
        ContactSearchSummaryQueueInfo, QueueInfo,
    };
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    const INSTANCE: &str = "arn:aws:connect:us-east-1:111122223333:instance/i-1";

    /// 2024-05-06T10:00:00.123Z, as the SDK reads Connect's epoch seconds (through an f64).
    fn at(seconds: f64) -> DateTime {
        DateTime::from_secs_f64(1_714_989_600.0 + seconds)
    }

    #[tokio::test]
    async fn a_described_contact_is_its_fields_under_connects_names_with_iso_times() {
        let contact = Contact::builder()
            .id("c-1")
            .channel(Channel::Voice)
            .initiation_method(ContactInitiationMethod::Inbound)
            .initiation_timestamp(at(0.123))
            .disconnect_timestamp(at(60.5))
            .disconnect_reason("CUSTOMER_DISCONNECT")
            .queue_info(
                QueueInfo::builder()
                    .id("q-1")
                    .enqueue_timestamp(at(5.0))
                    .build(),
            )
            .agent_info(
                AgentInfo::builder()
                    .id("a-1")
                    .connected_to_agent_timestamp(at(20.0))
                    .after_contact_work_end_timestamp(at(90.0))
                    .after_contact_work_duration(29)
                    .build(),
            )
            .build();
        let asked = mock!(Client::describe_contact)
            .match_requests(|input| {
                input.instance_id() == Some("i-1") && input.contact_id() == Some("c-1")
            })
            .then_output(move || {
                DescribeContactOutput::builder()
                    .contact(contact.clone())
                    .build()
            });
        let connect =
            Connect::from_client(mock_client!(aws_sdk_connect, RuleMode::MatchAny, [&asked]));
        let Ok(Answer::Known(says)) = connect.describe(INSTANCE, "c-1").await else {
            panic!("a known contact");
        };
        assert_eq!(says.detail["Channel"], "VOICE");
        assert_eq!(
            says.detail["InitiationTimestamp"],
            "2024-05-06T10:00:00.123Z"
        );
        assert_eq!(says.detail["DisconnectReason"], "CUSTOMER_DISCONNECT");
        assert_eq!(says.disconnect_timestamp, Some(1_714_989_660_500));
        assert_eq!(says.queue, Some(("q-1".into(), Some(1_714_989_605_000))));
        let agent = says.agent.as_ref().expect("the agent");
        assert_eq!(agent.after_contact_work_duration, Some(29));
        assert_eq!(
            agent.after_contact_work_end_timestamp,
            Some(1_714_989_690_000)
        );
        // The core reads it as an event: the facts come out of the detail.
        let [disconnected, completed] = reconcile::events(&says).try_into().expect("two events");
        assert_eq!(disconnected.facts.get("channel"), Some("VOICE"));
        assert_eq!(completed.facts.get("afterContactWorkDuration"), Some("29"));
    }

    #[tokio::test]
    async fn a_contact_connect_does_not_know_is_unknown_and_any_other_error_names_the_call() {
        let not_found = mock!(Client::describe_contact)
            .match_requests(|input| input.contact_id() == Some("gone"))
            .then_error(|| {
                DescribeContactError::ResourceNotFoundException(
                    ResourceNotFoundException::builder().message("no").build(),
                )
            });
        let broken = mock!(Client::describe_contact).then_error(|| {
            DescribeContactError::InvalidRequestException(
                InvalidRequestException::builder().message("bad").build(),
            )
        });
        let connect = Connect::from_client(mock_client!(
            aws_sdk_connect,
            RuleMode::MatchAny,
            [&not_found, &broken]
        ));
        assert_eq!(
            connect.describe(INSTANCE, "gone").await,
            Ok(Answer::Unknown)
        );
        let error = connect
            .describe(INSTANCE, "c-2")
            .await
            .expect_err("an error");
        assert!(error.0.starts_with("DescribeContact: "), "{error}");
    }

    #[tokio::test]
    async fn a_search_asks_for_a_time_range_of_its_moment_a_page_of_100_and_passes_the_token_on() {
        let summary = ContactSearchSummary::builder()
            .id("c-3")
            .channel(Channel::Chat)
            .disconnect_timestamp(at(120.0))
            .queue_info(
                ContactSearchSummaryQueueInfo::builder()
                    .id("q-2")
                    .enqueue_timestamp(at(10.0))
                    .build(),
            )
            .agent_info(
                ContactSearchSummaryAgentInfo::builder()
                    .id("a-2")
                    .connected_to_agent_timestamp(at(30.0))
                    .build(),
            )
            .build();
        let searched = mock!(Client::search_contacts)
            .match_requests(|input| {
                let range = input.time_range().expect("a range");
                input.instance_id() == Some("i-1")
                    && input.max_results() == Some(100)
                    && input.next_token() == Some("page-2")
                    && *range.r#type() == SearchContactsTimeRangeType::DisconnectTimestamp
                    && range.start_time().secs() == 1_714_989_600
                    && range.end_time().secs() == 1_714_990_200
            })
            .then_output(move || {
                SearchContactsOutput::builder()
                    .contacts(summary.clone())
                    .next_token("page-3")
                    .build()
                    .expect("an output")
            });
        let connect = Connect::from_client(mock_client!(
            aws_sdk_connect,
            RuleMode::MatchAny,
            [&searched]
        ));
        let from = SystemTime::UNIX_EPOCH + Duration::from_secs(1_714_989_600);
        let (found, next) = connect
            .search(
                INSTANCE,
                Moment::Disconnected,
                (from, from + Duration::from_secs(600)),
                Some("page-2".into()),
            )
            .await
            .expect("a page");
        assert_eq!(next.as_deref(), Some("page-3"));
        let [says] = found.try_into().expect("one contact");
        assert_eq!(says.contact_id, "c-3");
        assert_eq!(says.detail["Channel"], "CHAT");
        assert_eq!(says.disconnect_timestamp, Some(1_714_989_720_000));
        let agent = says.agent.expect("the agent");
        assert_eq!(agent.connected_to_agent_timestamp, Some(1_714_989_630_000));
        // No after-contact work in a summary: the run describes such a contact.
        assert_eq!(agent.after_contact_work_end_timestamp, None);
    }
}
