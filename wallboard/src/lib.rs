//! The wallboard (README, "The wallboard"; docs/wallboard.md): the live views as a page a
//! supervisor opens in a browser, and the JSON it reads.
//!
//! - [`board`]: the board from the two views and the names (pure);
//! - [`names`]: queue and agent names from Connect, kept a few minutes;
//! - [`app`]: the answers (the page, the board), whoever carries the request;
//! - [`page`]: the page and its headers; [`settings`]: settings.

pub mod app;
pub mod board;
pub mod names;
pub mod page;
pub mod settings;
