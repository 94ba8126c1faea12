//! The Connect adapter: one `DescribeContact`, the SDK's client, its answer as the core's
//! [`ConnectSays`]. The only module that knows the Connect SDK.
//! <https://docs.aws.amazon.com/connect/latest/APIReference/API_DescribeContact.html>

use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_connect::Client;
use aws_sdk_connect::config::retry::RetryConfig;
use aws_sdk_connect::config::timeout::TimeoutConfig;
use aws_sdk_connect::error::{DisplayErrorContext, SdkError};
use aws_sdk_connect::operation::describe_contact::DescribeContactError;
use aws_sdk_connect::primitives::DateTime;
use aws_sdk_connect::types::Contact;

use contact_state_core::reconcile::{self, AgentSays, ConnectSays};

/// Attempts per call: Connect answers a call over its quota with 429 `TooManyRequestsException`,
/// which the SDK's standard retry backs off from and tries again.
pub const MAX_ATTEMPTS: u32 = 4;
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// What Connect answered about a contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Known(Box<ConnectSays>),
    /// Connect does not know it (not found: expired, or of another instance).
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("DescribeContact failed: {0}")]
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
                    .build(),
            )
            .build();
        Connect {
            client: Client::from_conf(config),
        }
    }

    /// The worst a call can take: every attempt timing out, with backoffs between.
    pub fn longest_call() -> Duration {
        (ATTEMPT_TIMEOUT + Duration::from_secs(1)) * MAX_ATTEMPTS
    }

    /// Connect's answer about `contact_id` of the instance `instance_arn`.
    pub async fn describe(
        &self,
        instance_arn: &str,
        contact_id: &str,
    ) -> Result<Answer, ConnectError> {
        let instance_id = instance_arn.rsplit('/').next().unwrap_or(instance_arn);
        let answer = self
            .client
            .describe_contact()
            .instance_id(instance_id)
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
            Err(error) => Err(ConnectError(DisplayErrorContext(&error).to_string())),
        }
    }
}

/// Epoch milliseconds, rounded: Connect sends timestamps as epoch seconds with a fraction, which
/// the SDK reads through an `f64`, so `.123` can arrive as `.1229999…` (truncating would lose
/// the millisecond the events carry).
fn millis(at: Option<&DateTime>) -> Option<i64> {
    at.map(|at| at.secs() * 1_000 + (f64::from(at.subsec_nanos()) / 1e6).round() as i64)
}

/// The `Contact` object as the core reads it.
fn says(instance_arn: &str, contact_id: &str, contact: &Contact) -> ConnectSays {
    let text = |value: Option<&str>| value.map(str::to_owned);
    let time = |at: Option<&DateTime>| reconcile::iso(millis(at));
    let facts = [
        ("channel", contact.channel().map(|c| c.as_str().to_owned())),
        (
            "initiationMethod",
            contact.initiation_method().map(|m| m.as_str().to_owned()),
        ),
        ("initialContactId", text(contact.initial_contact_id())),
        ("previousContactId", text(contact.previous_contact_id())),
        ("relatedContactId", text(contact.related_contact_id())),
        ("initiationTimestamp", time(contact.initiation_timestamp())),
        (
            "connectedToSystemTimestamp",
            time(contact.connected_to_system_timestamp()),
        ),
        ("disconnectReason", text(contact.disconnect_reason())),
        (
            "greetingStartTimestamp",
            time(
                contact
                    .customer_voice_activity()
                    .and_then(|v| v.greeting_start_timestamp()),
            ),
        ),
        (
            "greetingEndTimestamp",
            time(
                contact
                    .customer_voice_activity()
                    .and_then(|v| v.greeting_end_timestamp()),
            ),
        ),
        (
            "answeringMachineDetectionStatus",
            contact
                .answering_machine_detection_status()
                .map(|status| status.as_str().to_owned()),
        ),
        (
            "campaignId",
            text(contact.campaign().and_then(|c| c.campaign_id())),
        ),
        (
            "potentialDisconnectIssue",
            text(
                contact
                    .disconnect_details()
                    .and_then(|d| d.potential_disconnect_issue()),
            ),
        ),
        (
            "channelSubtype",
            text(
                contact
                    .segment_attributes()
                    .and_then(|attributes| attributes.get("connect:Subtype"))
                    .and_then(|subtype| subtype.value_string()),
            ),
        ),
    ]
    .into_iter()
    .filter_map(|(attribute, value)| Some((attribute, value?)))
    .collect();
    ConnectSays {
        contact_id: contact_id.to_owned(),
        instance_arn: instance_arn.to_owned(),
        facts,
        disconnect_timestamp: millis(contact.disconnect_timestamp()),
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
