//! Queue and agent names from Connect (`ListQueues`, `ListUsers`), kept in the environment's
//! memory for a few minutes: a board every 5 s would otherwise ask Connect 12 times a minute for
//! names that change a few times a year. When Connect does not answer, the names it gave last
//! stay, and what it never named shows by ARN.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_sdk_connect::Client;
use aws_sdk_connect::error::DisplayErrorContext;
use aws_sdk_connect::types::QueueType;
use lambda_http::tracing;
use tokio::sync::Mutex;

/// Pages of one list, at most (1,000 names a page): 10,000 queues or users per instance.
const PAGES_MAX: usize = 10;
/// A board waits this long for names at most; then it shows ARNs and asks again next time.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(3);

/// Names by ARN.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    queues: BTreeMap<String, String>,
    users: BTreeMap<String, String>,
    from_connect: bool,
}

impl Names {
    /// `queues`: the standard queues, `users`: user names, by ARN; `from_connect`: Connect
    /// answered for every instance asked.
    pub fn from_lists(
        queues: Vec<(String, String)>,
        users: Vec<(String, String)>,
        from_connect: bool,
    ) -> Names {
        Names {
            queues: queues.into_iter().collect(),
            users: users.into_iter().collect(),
            from_connect,
        }
    }

    /// A queue's name; an agent's own queue (`…/queue/agent/<id>`) by its agent's; else the ARN.
    pub fn queue(&self, arn: &str) -> String {
        if let Some(name) = self.queues.get(arn) {
            return name.clone();
        }
        match arn.split_once("/queue/agent/") {
            Some((instance, id)) => match self.users.get(&format!("{instance}/agent/{id}")) {
                Some(user) => format!("{user} (personal queue)"),
                None => arn.to_owned(),
            },
            None => arn.to_owned(),
        }
    }

    /// An agent's user name, or the ARN.
    pub fn agent(&self, arn: &str) -> String {
        self.users
            .get(arn)
            .cloned()
            .unwrap_or_else(|| arn.to_owned())
    }

    pub fn standard_queues(&self) -> impl Iterator<Item = (&String, &String)> {
        self.queues.iter()
    }

    pub fn from_connect(&self) -> bool {
        self.from_connect
    }
}

/// The instance ARN a queue's, agent's or instance's ARN belongs to.
pub fn instance_of(arn: &str) -> Option<&str> {
    let start = arn.find(":instance/")? + ":instance/".len();
    let id_length = arn.get(start..)?.find('/').unwrap_or(arn.len() - start);
    arn.get(..start + id_length)
}

struct Cached {
    at: Instant,
    instances: BTreeSet<String>,
    names: Arc<Names>,
}

/// Connect, asked for names at most once per `keep_for` (or when a new instance shows).
pub struct Directory {
    connect: Client,
    keep_for: Duration,
    cached: Mutex<Option<Cached>>,
}

impl Directory {
    pub fn new(sdk: &SdkConfig, keep_for: Duration) -> Directory {
        let sdk = crate::with_operation_timeout(sdk, OPERATION_TIMEOUT);
        Directory::from_client(Client::new(&sdk), keep_for)
    }

    pub fn from_client(connect: Client, keep_for: Duration) -> Directory {
        Directory {
            connect,
            keep_for,
            cached: Mutex::new(None),
        }
    }

    /// The names of `instances` (instance ARNs).
    pub async fn names(&self, instances: BTreeSet<String>) -> Arc<Names> {
        let mut cached = self.cached.lock().await;
        if let Some(cached) = cached.as_ref()
            && cached.at.elapsed() < self.keep_for
            && instances.is_subset(&cached.instances)
        {
            return Arc::clone(&cached.names);
        }
        let before = cached.as_ref().map(|c| Arc::clone(&c.names));
        let mut names = Names {
            from_connect: true,
            ..Names::default()
        };
        for instance in &instances {
            let Some(id) = instance.rsplit('/').next() else {
                continue;
            };
            match self.list(id).await {
                Ok((queues, users)) => {
                    names.queues.extend(queues);
                    names.users.extend(users);
                }
                Err(error) => {
                    tracing::warn!(
                        wallboard = "names",
                        instance,
                        error,
                        "Connect gave no names"
                    );
                    names.from_connect = false;
                    // What it named before still stands.
                    if let Some(before) = &before {
                        names.queues.extend(before.queues.clone());
                        names.users.extend(before.users.clone());
                    }
                }
            }
        }
        let names = Arc::new(names);
        // A failed look-up is not kept: the next board asks again.
        if names.from_connect {
            *cached = Some(Cached {
                at: Instant::now(),
                instances,
                names: Arc::clone(&names),
            });
        }
        names
    }

    /// The standard queues' and the users' names of one instance.
    #[allow(clippy::type_complexity)]
    async fn list(
        &self,
        instance_id: &str,
    ) -> Result<(Vec<(String, String)>, Vec<(String, String)>), String> {
        // Each list: its pages (at most PAGES_MAX), each entry's ARN and name.
        macro_rules! every_name {
            ($request:expr, $list:ident, $name:ident) => {{
                let mut named = Vec::new();
                let mut pages = $request.max_results(1000).into_paginator().send();
                for _ in 0..PAGES_MAX {
                    let Some(page) = pages.next().await else {
                        break;
                    };
                    let page = page.map_err(|e| DisplayErrorContext(&e).to_string())?;
                    for entry in page.$list.unwrap_or_default() {
                        if let (Some(arn), Some(name)) = (entry.arn, entry.$name) {
                            named.push((arn, name));
                        }
                    }
                }
                named
            }};
        }
        let queues = every_name!(
            self.connect
                .list_queues()
                .instance_id(instance_id)
                .queue_types(QueueType::Standard),
            queue_summary_list,
            name
        );
        let users = every_name!(
            self.connect.list_users().instance_id(instance_id),
            user_summary_list,
            username
        );
        Ok((queues, users))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INSTANCE: &str = "arn:aws:connect:us-east-1:111122223333:instance/i-1";

    #[test]
    fn the_instance_of_a_queue_an_agent_and_an_instance() {
        assert_eq!(instance_of(&format!("{INSTANCE}/queue/q")), Some(INSTANCE));
        assert_eq!(instance_of(&format!("{INSTANCE}/agent/a")), Some(INSTANCE));
        assert_eq!(instance_of(INSTANCE), Some(INSTANCE));
        assert_eq!(instance_of("not an arn"), None);
    }

    #[test]
    fn an_agents_own_queue_is_named_after_the_agent() {
        let names = Names::from_lists(
            Vec::new(),
            vec![(format!("{INSTANCE}/agent/a1"), "jdoe".to_owned())],
            true,
        );
        assert_eq!(
            names.queue(&format!("{INSTANCE}/queue/agent/a1")),
            "jdoe (personal queue)"
        );
        assert_eq!(names.agent(&format!("{INSTANCE}/agent/a1")), "jdoe");
        let unknown = format!("{INSTANCE}/queue/agent/a2");
        assert_eq!(names.queue(&unknown), unknown);
    }

    mod connect {
        use super::*;
        use aws_sdk_connect::operation::list_queues::{ListQueuesError, ListQueuesOutput};
        use aws_sdk_connect::operation::list_users::ListUsersOutput;
        use aws_sdk_connect::types::{QueueSummary, UserSummary};
        use aws_smithy_mocks::{RuleMode, mock, mock_client};

        fn directory(rules: &[&aws_smithy_mocks::Rule]) -> Directory {
            let client = mock_client!(aws_sdk_connect, RuleMode::MatchAny, rules);
            Directory::from_client(client, Duration::from_secs(300))
        }

        #[tokio::test]
        async fn names_come_from_list_queues_and_list_users_and_are_kept() {
            let queues = mock!(Client::list_queues)
                .match_requests(|r| {
                    r.instance_id() == Some("i-1") && r.queue_types() == [QueueType::Standard]
                })
                .then_output(|| {
                    ListQueuesOutput::builder()
                        .queue_summary_list(
                            QueueSummary::builder()
                                .arn(format!("{INSTANCE}/queue/q"))
                                .name("Sales")
                                .build(),
                        )
                        .build()
                });
            let users = mock!(Client::list_users).then_output(|| {
                ListUsersOutput::builder()
                    .user_summary_list(
                        UserSummary::builder()
                            .arn(format!("{INSTANCE}/agent/a"))
                            .username("jdoe")
                            .build(),
                    )
                    .build()
            });
            let directory = directory(&[&queues, &users]);
            let asked = BTreeSet::from([INSTANCE.to_owned()]);
            let names = directory.names(asked.clone()).await;
            assert!(names.from_connect());
            assert_eq!(names.queue(&format!("{INSTANCE}/queue/q")), "Sales");
            assert_eq!(names.agent(&format!("{INSTANCE}/agent/a")), "jdoe");
            directory.names(asked).await;
            assert_eq!(queues.num_calls(), 1, "kept for the next board");
        }

        #[tokio::test]
        async fn when_connect_gives_no_names_the_board_shows_arns_and_asks_again_next_time() {
            let queues = mock!(Client::list_queues).then_error(|| {
                ListQueuesError::ResourceNotFoundException(
                    aws_sdk_connect::types::error::ResourceNotFoundException::builder()
                        .message("no such instance")
                        .build(),
                )
            });
            let directory = directory(&[&queues]);
            let asked = BTreeSet::from([INSTANCE.to_owned()]);
            let names = directory.names(asked.clone()).await;
            assert!(!names.from_connect());
            let arn = format!("{INSTANCE}/queue/q");
            assert_eq!(names.queue(&arn), arn);
            directory.names(asked).await;
            assert_eq!(queues.num_calls(), 2);
        }
    }
}
