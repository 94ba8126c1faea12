//! connect-contact-state: Amazon Connect contact events (EventBridge) → the latest state of every
//! contact in DynamoDB, whatever order, duplication and concurrency the stream delivers.
//!
//! - [`event`]: reading an event (tolerant of the stream's quirks, refusing what the spec refuses);
//! - [`ordering`]: the spec's ordering rules as pure functions;
//! - [`plan`]: what to write given what is stored;
//! - [`store`]: the port to the table; [`dynamodb`]: its DynamoDB adapter;
//! - [`handler`]: one invocation, end to end; [`config`]: settings.

pub mod config;
pub mod dynamodb;
pub mod event;
pub mod handler;
pub mod ordering;
pub mod plan;
pub mod store;
