//! What the wallboard answers, whoever carries the request (API Gateway through lambda_http, or
//! the loopback server of `make wallboard`): `GET …/` the page, `GET …/board[?healedSince=…]`
//! the board's JSON (docs/wallboard.md). Paths are matched by their end, so the same answers
//! work under the stack's API, `sam local start-api` and `cargo lambda watch`'s
//! `/lambda-url/<function>/`.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_config::SdkConfig;
use aws_sdk_dynamodb::Client;
use chrono::{DateTime, SecondsFormat, Utc};
use connect_contact_state::view_reader::{self, ReadError};
use contact_state_core::clock::epoch_seconds;
use contact_state_core::views::VIEWS;
use lambda_http::tracing;
use serde::Deserialize;

use crate::board::{self, Board};
use crate::metrics::{self, Metrics};
use crate::names::{Directory, instance_of};
use crate::page;
use crate::settings::Settings;

/// One answer: status, headers, body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl Answer {
    /// As an HTTP response (lambda_http's and hyper's are both the `http` crate's), its body
    /// made by `body`.
    pub fn into_response<B>(
        self,
        body: impl FnOnce(String) -> B,
    ) -> Result<lambda_http::http::Response<B>, lambda_http::http::Error> {
        let mut response = lambda_http::http::Response::builder().status(self.status);
        for (name, value) in self.headers {
            response = response.header(name, value);
        }
        response.body(body(self.body))
    }
}

pub struct App {
    client: Client,
    directory: Directory,
    metrics: Metrics,
    settings: Settings,
    page: String,
}

/// `GET …/board`'s query: unknown parameters are ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BoardQuery {
    /// Where the day's count of healed events starts: the supervisor's midnight (RFC 3339).
    healed_since: Option<String>,
}

impl App {
    pub fn new(client: Client, directory: Directory, metrics: Metrics, settings: Settings) -> App {
        let page = page::html(settings.sign_in_url(), settings.refresh_seconds);
        App {
            client,
            directory,
            metrics,
            settings,
            page,
        }
    }

    /// From the SDK's configuration (credentials, region, endpoints) and the settings.
    pub fn from_config(sdk: &SdkConfig, settings: Settings) -> App {
        let regional =
            connect_contact_state::config::regional_endpoint(|name| std::env::var(name).ok());
        let client = connect_contact_state::dynamodb::client(sdk, regional);
        let directory = Directory::new(sdk, settings.names_kept_for());
        let metrics = Metrics::new(sdk, settings.metrics_source());
        App::new(client, directory, metrics, settings)
    }

    /// The answer to `method` `path` (`query`: the URL's query string, undecoded).
    pub async fn answer(&self, method: &str, path: &str, query: Option<&str>) -> Answer {
        if method != "GET" && method != "HEAD" {
            return json(405, r#"{"message":"only GET is answered"}"#.to_owned());
        }
        if path == "board" || path.ends_with("/board") {
            let now = SystemTime::now();
            let since = match healed_since(query.unwrap_or_default(), now) {
                Ok(since) => since,
                Err(message) => {
                    return json(400, serde_json::json!({ "message": message }).to_string());
                }
            };
            return match self.board(since, now).await {
                Ok(board) => match serde_json::to_string(&board) {
                    Ok(body) => json(200, body),
                    Err(error) => failed(&error.to_string()),
                },
                Err(error) => failed(&error.to_string()),
            };
        }
        if path.is_empty() || path.ends_with('/') {
            return Answer {
                status: 200,
                headers: page::headers(),
                body: self.page.clone(),
            };
        }
        json(
            404,
            r#"{"message":"no such page: the board is at ./"}"#.to_owned(),
        )
    }

    /// Both views, each by a Scan of its sparse index (docs/wallboard.md says why), and the
    /// stack's metrics, read at once, with the names of their queues and agents; events healed
    /// counted from `healed_since`.
    pub async fn board(
        &self,
        healed_since: SystemTime,
        now: SystemTime,
    ) -> Result<Board, ReadError> {
        let (table, horizon) = (&self.settings.table_name, self.settings.horizon());
        let (queued, with_agent, health) = tokio::join!(
            view_reader::read(&self.client, table, &VIEWS.queued, None, now, horizon),
            view_reader::read(&self.client, table, &VIEWS.with_agent, None, now, horizon),
            self.metrics.health(healed_since, now),
        );
        let (queued, with_agent) = (queued?, with_agent?);
        let instances: BTreeSet<String> = match self.settings.instance_arn() {
            Some(instance) => BTreeSet::from([instance.to_owned()]),
            None => [&queued, &with_agent]
                .into_iter()
                .flat_map(|listing| &listing.groups)
                .filter_map(|group| instance_of(&group.arn))
                .map(str::to_owned)
                .collect(),
        };
        let names = self.directory.names(instances).await;
        Ok(board::build(board::Read {
            queued: &queued,
            with_agent: &with_agent,
            names: &names,
            generated_at: DateTime::<Utc>::from(now).to_rfc3339_opts(SecondsFormat::Millis, true),
            thresholds: self.settings.thresholds(),
            horizon_hours: self.settings.horizon_hours,
            health,
        }))
    }
}

/// `healedSince` from the query, to the whole minute: within [`metrics::SINCE_AT_MOST`] before
/// `now`; when absent, `now`'s UTC midnight.
fn healed_since(query: &str, now: SystemTime) -> Result<SystemTime, String> {
    let asked: BoardQuery = serde_urlencoded::from_str(query)
        .map_err(|e| format!("the query could not be read: {e}"))?;
    let Some(text) = asked.healed_since else {
        let today = epoch_seconds(now) / 86_400 * 86_400;
        return Ok(UNIX_EPOCH + Duration::from_secs(u64::try_from(today).unwrap_or_default()));
    };
    let refused = || {
        format!(
            "healedSince must be an RFC 3339 time within the last {} hours, not {text:?}",
            metrics::SINCE_AT_MOST.as_secs() / 3_600
        )
    };
    let since = DateTime::parse_from_rfc3339(&text)
        .ok()
        .and_then(|at| u64::try_from(at.timestamp()).ok())
        .map(|secs| UNIX_EPOCH + Duration::from_secs(secs))
        .ok_or_else(refused)?;
    match now.duration_since(since) {
        Ok(ago) if ago <= metrics::SINCE_AT_MOST => Ok(metrics::whole_minute(since)),
        _ => Err(refused()),
    }
}

fn json(status: u16, body: String) -> Answer {
    Answer {
        status,
        headers: vec![
            ("content-type", "application/json".to_owned()),
            ("cache-control", "no-store".to_owned()),
            ("x-content-type-options", "nosniff".to_owned()),
        ],
        body,
    }
}

/// A board that could not be read: 503, and an ERROR line (the page says it is stale).
fn failed(error: &str) -> Answer {
    tracing::error!(wallboard = "board", outcome = "failed", error);
    json(
        503,
        serde_json::json!({ "message": format!("the board could not be read: {error}") })
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-05T10:00:30Z
    const NOW: u64 = 1_796_464_830;

    fn since(query: &str) -> Result<u64, String> {
        healed_since(query, UNIX_EPOCH + Duration::from_secs(NOW))
            .map(|at| at.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs())
    }

    #[test]
    fn the_day_starts_at_the_supervisors_midnight_to_the_minute() {
        // The page sends its local midnight as `toISOString()` gives it, percent-encoded.
        assert_eq!(
            since("healedSince=2026-12-05T05%3A00%3A00.000Z"),
            Ok(NOW - 30 - 5 * 3_600)
        );
        assert_eq!(
            since("healedSince=2026-12-04T23:00:45%2B01:00&other=1"),
            Ok(NOW - 30 - 12 * 3_600)
        );
    }

    #[test]
    fn without_healed_since_the_day_starts_at_utc_midnight() {
        assert_eq!(since(""), Ok(NOW - 30 - 10 * 3_600));
    }

    #[test]
    fn a_time_that_is_not_rfc_3339_or_not_of_the_last_day_is_refused() {
        for refused in [
            "healedSince=yesterday",
            "healedSince=2026-12-05T10:05:00Z",
            "healedSince=2026-12-03T10:00:00Z",
            "healedSince=a&healedSince=b",
        ] {
            assert!(since(refused).is_err(), "{refused}");
        }
    }
}
