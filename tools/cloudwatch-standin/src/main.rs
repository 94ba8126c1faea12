//! `cloudwatch-standin DATAPOINTS.json`: the stand-in as a process, for the wallboard's browser
//! test: holds the datapoints (`[{"namespace", "metricName", "timestamp", "value"}]`), serves
//! `GetMetricData` on a free loopback port, prints its endpoint, and runs until stopped.

use std::error::Error;

use cloudwatch_standin::{CloudWatchStandIn, datapoints};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: cloudwatch-standin DATAPOINTS.json")?;
    let held: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
    let standin = CloudWatchStandIn::start().await?;
    for point in datapoints(&held) {
        standin.hold(point);
    }
    println!("{}", standin.endpoint());
    tokio::signal::ctrl_c().await?;
    Ok(())
}
