//! Nidan (二段): SMS two-factor authentication for user accounts, Japanese first.
//!
//! This crate holds everything the browser and the server share: the pages and components,
//! the server functions (`api`), the pure domain rules (`domain`) and the one error type the
//! client sees (`error`). Under the `ssr` feature it also holds the services, the database
//! layer and the state the server functions run against (`server`); none of that reaches the
//! wasm bundle.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod api;
pub mod components;
pub mod domain;
pub mod error;
pub mod routes;
#[cfg(feature = "ssr")]
pub mod server;
pub mod urls;

pub use routes::{App, shell};
