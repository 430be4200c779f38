//! Pure types and rules: no I/O, no clock, no randomness. Shared by the server and the
//! browser, so that the browser can give the same hints the server enforces.

pub mod email;
pub mod mask;
pub mod password;
pub mod time;

pub use email::{Email, EmailError};
pub use password::{Password, PasswordError};
pub use time::Timestamp;
