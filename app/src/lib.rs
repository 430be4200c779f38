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

// The server and the wasm must render the same tree, or hydration fails: both are built
// with `--cfg erase_components` (.cargo/config.toml). Cargo takes extra compiler flags from
// one place only (RUSTFLAGS, else a `[target.…]` entry of any cargo config, else
// `[build]`), so a flag set elsewhere, say a linker option in ~/.cargo/config.toml for the
// host, would silently drop it from one side: better a build that stops and says why.
#[cfg(not(erase_components))]
compile_error!(
    "built without `--cfg erase_components`: RUSTFLAGS or a [target] rustflags entry in a \
     cargo config replaced .cargo/config.toml's; add `--cfg erase_components` to it"
);

pub mod api;
pub mod client;
pub mod components;
pub mod domain;
pub mod error;
pub mod routes;
#[cfg(feature = "ssr")]
pub mod server;
pub mod urls;

pub use routes::{App, shell};
