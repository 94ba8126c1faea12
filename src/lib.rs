//! connect-contact-state: Amazon Connect contact events (EventBridge) → the latest state of every
//! contact in DynamoDB, whatever order, duplication and concurrency the stream delivers.
//!
//! - `event`, `facts`, `bookkeeping`, `ordering`, `plan`, `views`, `apply`, `recent`, `outcome`,
//!   `store`, `reconcile`, `clock`: the pure part, in `contact-state-core` (no AWS SDK),
//!   re-exported here;
//! - [`dynamodb`]: the store's DynamoDB adapter; [`handler`]: one invocation, end to end;
//!   [`log_line`]: its log line; [`metrics`]: metrics for lines the log level drops;
//!   [`logging`]: the log subscriber; [`config`]: settings; [`budget`]: the deadline rule of
//!   both functions; [`view_reader`]: reading the live views (the `contact-views` command).

pub mod budget;
pub mod config;
pub mod dynamodb;
pub mod handler;
pub mod log_line;
pub mod logging;
pub mod metrics;
pub mod view_reader;

pub use contact_state_core::{
    apply, bookkeeping, clock, event, facts, ordering, outcome, plan, recent, reconcile, store,
    views,
};
