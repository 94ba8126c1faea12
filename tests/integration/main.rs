//! The integration tests, one crate: the contract's sentences through the handler against DynamoDB
//! Local, the real binary behind a local Runtime API, faults, hostile input, logs and load.
//! DynamoDB Local is started by `make test` (infra/with-dynamodb-local.sh).

// Tests report by panicking (the lints that forbid it apply to the product, not here).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod adapter;
mod agreement;
mod binary;
mod convergence;
mod cost;
mod dynamodb_local;
mod faults;
mod hostile_input;
mod load;
mod logs;
mod reconcile;
mod replay;
mod support;
mod views;
