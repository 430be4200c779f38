//! Server functions, one file per capability. Each is thin: it takes the state and the
//! session, turns input into domain types, calls one service and maps the result. Every
//! one that changes state is a POST with a fixed endpoint under `/api`, so rate limits,
//! logs and tests can name it.

pub mod account;
pub mod auth;
pub mod authenticator;
pub mod passkeys;
pub mod phone;
pub mod two_factor;
