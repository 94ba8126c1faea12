//! The pure part of connect-contact-state, with no AWS SDK:
//!
//! - [`event`]: reading an event (tolerant of the stream's quirks, refusing what the spec refuses);
//! - [`ordering`]: the spec's ordering rules as pure functions;
//! - [`plan`]: what to write given what is stored;
//! - [`store`]: the port to the table.

pub mod event;
pub mod ordering;
pub mod plan;
pub mod store;
