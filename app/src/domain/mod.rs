//! Pure types and rules: no I/O, no clock, no randomness. Shared by the server and the
//! browser, so that the browser can give the same hints the server enforces.

pub mod email;
pub mod event;
pub mod factor;
pub mod mask;
pub mod otp;
pub mod password;
#[cfg(feature = "ssr")]
pub mod phone;
pub mod recovery;
pub mod time;
pub mod user_agent;

pub use email::{Email, EmailError};
pub use event::SecurityEvent;
pub use factor::Factor;
pub use otp::OtpCode;
pub use password::{Password, PasswordError};
#[cfg(feature = "ssr")]
pub use phone::{PhoneError, PhoneNumber};
pub use recovery::RecoveryCode;
pub use time::Timestamp;

/// What kind of number, other than mobile, a person gave (each gets its own message).
/// Lives here rather than in `phone` because the client-visible error names it, while the
/// phone parser and its metadata are server-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum NonMobileKind {
    Landline,
    IpPhone,
    TollFree,
    Other,
}
