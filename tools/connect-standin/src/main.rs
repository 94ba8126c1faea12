//! `connect-standin NAMES.json`: the stand-in as a process, for `make wallboard` and the browser
//! test: serves the queue and user names of one instance (`{"instanceArn": …, "queues": {ARN:
//! name}, "users": {ARN: user name}}`) on a free loopback port, prints its endpoint, and runs
//! until stopped.

use std::error::Error;

use connect_standin::ConnectStandIn;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: connect-standin NAMES.json")?;
    let names: Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
    let instance = names["instanceArn"]
        .as_str()
        .and_then(|arn| arn.rsplit('/').next())
        .ok_or("NAMES.json has no instanceArn")?;
    let standin = ConnectStandIn::start().await?;
    for (arn, name) in names["queues"].as_object().into_iter().flatten() {
        standin.name_queue(instance, arn, name.as_str().unwrap_or_default());
    }
    for (arn, name) in names["users"].as_object().into_iter().flatten() {
        standin.name_user(instance, arn, name.as_str().unwrap_or_default());
    }
    println!("{}", standin.endpoint());
    tokio::signal::ctrl_c().await?;
    Ok(())
}
