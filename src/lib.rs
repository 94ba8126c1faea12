//! connect-contact-state: Amazon Connect contact events (EventBridge) → the latest state of every
//! contact in DynamoDB, whatever order, duplication and concurrency the stream delivers.
//!
//! - `event`, `ordering`, `plan`, `store`: the pure part, in `contact-state-core` (no AWS SDK),
//!   re-exported here;
//! - [`dynamodb`]: the store's DynamoDB adapter; [`handler`]: one invocation, end to end;
//!   [`metrics`]: its EMF line; [`config`]: settings.

pub mod config;
pub mod dynamodb;
pub mod handler;
pub mod metrics;

pub use contact_state_core::{event, ordering, plan, store};
