//! What the wallboard answers, whoever carries the request (API Gateway through lambda_http, or
//! the loopback server of `make wallboard`): `GET …/` the page, `GET …/board` the board's JSON
//! (docs/wallboard.md). Paths are matched by their end, so the same answers work under the
//! stack's API, `sam local start-api` and `cargo lambda watch`'s `/lambda-url/<function>/`.

use std::collections::BTreeSet;
use std::time::SystemTime;

use aws_config::SdkConfig;
use aws_sdk_dynamodb::Client;
use chrono::{DateTime, SecondsFormat, Utc};
use connect_contact_state::view_reader::{self, ReadError};
use contact_state_core::views::VIEWS;
use lambda_http::tracing;

use crate::board::{self, Board};
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
    settings: Settings,
    page: String,
}

impl App {
    pub fn new(client: Client, directory: Directory, settings: Settings) -> App {
        let page = page::html(settings.sign_in_url(), settings.refresh_seconds);
        App {
            client,
            directory,
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
        App::new(client, directory, settings)
    }

    pub async fn answer(&self, method: &str, path: &str) -> Answer {
        if method != "GET" && method != "HEAD" {
            return json(405, r#"{"message":"only GET is answered"}"#.to_owned());
        }
        if path == "board" || path.ends_with("/board") {
            return match self.board(SystemTime::now()).await {
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

    /// Both views, each by a Scan of its sparse index (docs/wallboard.md says why), read at once,
    /// with the names of their queues and agents.
    pub async fn board(&self, now: SystemTime) -> Result<Board, ReadError> {
        let (table, horizon) = (&self.settings.table_name, self.settings.horizon());
        let (queued, with_agent) = tokio::join!(
            view_reader::read(&self.client, table, &VIEWS.queued, None, now, horizon),
            view_reader::read(&self.client, table, &VIEWS.with_agent, None, now, horizon),
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
        }))
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
