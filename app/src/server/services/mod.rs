//! The rules. A service takes the state's parts it needs and `now`, and returns a domain
//! result; it never sees a request, a cookie or a status code.

pub mod accounts;
pub mod authenticator;
pub mod browsers;
pub mod devices;
pub mod hashing;
pub mod history;
pub mod login;
pub mod maintenance;
pub mod otp;
pub mod passkeys;
pub mod phone;
pub mod sms_limits;
pub mod throttle;
pub mod two_factor;
