//! The reconciling function (docs/contract.md, "Reconciling with Connect"): on a schedule, it
//! searches Connect for the listed contacts that disconnected, asks it about the contacts the
//! live views have listed for longer than a threshold, and
//! applies what Connect says through the same rules and conditional writes as the stream's
//! events. Connect emits contact events best effort: this is how a lost DISCONNECTED or
//! COMPLETED heals.
//!
//! - [`config`]: its settings;
//! - [`connect`]: the Connect adapter (`DescribeContact`, `SearchContacts`, the SDK's client);
//! - [`listed`]: who the views list, and who is due;
//! - [`rotation`]: which due contacts a run asks about first (least recently asked);
//! - [`window`]: a run's budget, its search's window, how many looks fit;
//! - [`run`]: one run: list, search, choose, pace, ask, apply, log.
//!
//! What Connect's answer stands for is pure and lives in the core
//! (`contact_state_core::reconcile`); the table is the event function's adapter.

pub mod config;
pub mod connect;
pub mod listed;
pub mod rotation;
pub mod run;
pub mod window;
