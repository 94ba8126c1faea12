//! `contact-views`: who waits in which queue, what each agent handles, one contact — read from
//! any contact-state table (DynamoDB Local, or AWS through the default credential chain).

use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use aws_config::BehaviorVersion;
use clap::{Parser, Subcommand};
use connect_contact_state::view_reader::{self, Listing};
use connect_contact_state::views::VIEWS;

#[derive(Parser)]
#[command(
    version,
    about = "Reads the live views of a connect-contact-state table"
)]
struct Args {
    /// The table (default: TABLE_NAME).
    #[arg(long, env = "TABLE_NAME")]
    table: String,
    /// DynamoDB endpoint, e.g. DynamoDB Local (default: the AWS SDK's own settings).
    #[arg(long)]
    endpoint_url: Option<String>,
    /// AWS region (default: the AWS SDK's own settings).
    #[arg(long)]
    region: Option<String>,
    /// Leave out entries older than this many hours, and count them (0: none left out).
    #[arg(long, default_value_t = 24.0)]
    horizon_hours: f64,
    /// JSON for scripts instead of tables for people.
    #[arg(long)]
    json: bool,
    #[command(subcommand)]
    what: What,
}

#[derive(Subcommand)]
enum What {
    /// Each queue: how many wait, the oldest wait, each waiting contact with its position.
    Queues {
        /// One queue's ARN (one Query) instead of every queue.
        #[arg(long)]
        queue: Option<String>,
    },
    /// Each agent: the contacts they hold, with state, channel and since when.
    Agents {
        /// One agent's ARN (one Query) instead of every agent.
        #[arg(long)]
        agent: Option<String>,
    },
    /// One contact's item.
    Contact { contact_id: String },
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(endpoint) = &args.endpoint_url {
        loader = loader.endpoint_url(endpoint);
    }
    if let Some(region) = &args.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    let client = aws_sdk_dynamodb::Client::new(&loader.load().await);
    let horizon =
        (args.horizon_hours > 0.0).then(|| Duration::from_secs_f64(args.horizon_hours * 3_600.0));
    let now = SystemTime::now();
    let (view, arn, place) = match &args.what {
        What::Queues { queue } => (&VIEWS.queued, queue.as_deref(), "queue"),
        What::Agents { agent } => (&VIEWS.with_agent, agent.as_deref(), "agent"),
        What::Contact { contact_id } => {
            return match view_reader::contact(&client, &args.table, contact_id).await {
                Ok(Some(item)) if args.json => print_json(&item),
                Ok(Some(item)) => {
                    for (name, value) in item {
                        println!("{name:<28} {value}");
                    }
                    ExitCode::SUCCESS
                }
                Ok(None) => {
                    eprintln!("no contact {contact_id} in {}", args.table);
                    ExitCode::FAILURE
                }
                Err(error) => fail(&error),
            };
        }
    };
    match view_reader::read(&client, &args.table, view, arn, now, horizon).await {
        Ok(listing) if args.json => print_json(&listing),
        Ok(listing) => print_table(&listing, place),
        Err(error) => fail(&error),
    }
}

fn print_table(listing: &Listing, place: &str) -> ExitCode {
    print!("{}", view_reader::render(listing, place));
    ExitCode::SUCCESS
}

fn print_json(value: &impl serde::Serialize) -> ExitCode {
    match serde_json::to_string_pretty(value) {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(error) => fail(&error),
    }
}

fn fail(error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("contact-views: {error}");
    ExitCode::FAILURE
}
