//! The pure part of connect-contact-state, with no AWS SDK:
//!
//! - [`event`]: reading an event (tolerant of the stream's quirks, refusing what docs/contract.md refuses);
//! - [`facts`]: the table of write-once facts and places: attribute, source field, how it is read;
//! - [`bookkeeping`]: the table of the item's ordering keys and their former names;
//! - [`ordering`]: the ordering rules of docs/contract.md as pure functions;
//! - [`plan`]: what to write given what is stored;
//! - [`views`]: the live views' rules: which index lists an item, what a write settles;
//! - [`apply`]: one event against the store, to its [`outcome`], helped by what is [`recent`];
//! - [`reconcile`]: what Connect's `DescribeContact` says, as the events it stands for;
//! - [`store`]: the port to the table: what a write carries, the item it is planned against.

pub mod apply;
pub mod bookkeeping;
pub mod clock;
pub mod event;
pub mod facts;
pub mod ordering;
pub mod outcome;
pub mod plan;
pub mod recent;
pub mod reconcile;
pub mod store;
pub mod views;
