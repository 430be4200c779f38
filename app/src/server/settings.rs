//! Settings the services and the HTTP boundary read. The server binary fills them from
//! environment variables (see the README); tests build them directly.

use std::time::Duration;

/// Development serves the SMS outbox and allows plain http; production refuses both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub environment: Environment,
    /// The origin people reach the site at (`https://nidan.example`). When set, a
    /// state-changing request must come from exactly this origin; when not, from the
    /// origin of its own `Host` header.
    pub public_origin: Option<String>,
    /// Whether cookies carry `Secure` (true when the public origin is https).
    pub secure_cookies: bool,
    /// A session ends after this long without a request.
    pub session_idle: Duration,
    /// SMS sending limits (SEC-2, PH-7).
    pub sms_limits: SmsLimits,
    /// Wrong passwords that cost no delay, per account and per IP (SEC-1).
    pub login_free_failures_per_account: u32,
    pub login_free_failures_per_ip: u32,
    /// Sign-ups from one IP within 15 minutes before they slow down.
    pub signup_free_per_ip: u32,
    /// A request that takes longer is answered 503 and its work dropped (SEC-8).
    pub request_timeout: Duration,
}

/// How many codes may be sent, per what and per when (SEC-2). The defaults are the SPEC's;
/// each can be changed through the environment (README), e.g. so that a test suite whose
/// every request comes from 127.0.0.1 can raise the per-IP limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsLimits {
    pub per_number_hour: u32,
    pub per_number_day: u32,
    pub per_account_day: u32,
    pub per_ip_hour: u32,
    pub global_hour: u32,
    /// The wait between two codes of one attempt (`再送する`'s countdown).
    pub resend_cooldown: Duration,
}

impl Default for SmsLimits {
    fn default() -> Self {
        Self {
            per_number_hour: 5,
            per_number_day: 10,
            per_account_day: 10,
            per_ip_hour: 20,
            global_hour: 1_000,
            resend_cooldown: Duration::from_secs(60),
        }
    }
}

impl Settings {
    /// Settings for tests and local development: plain http, no fixed origin.
    pub fn development() -> Self {
        Self {
            environment: Environment::Development,
            public_origin: None,
            secure_cookies: false,
            session_idle: Duration::from_secs(7 * 24 * 3600),
            sms_limits: SmsLimits::default(),
            login_free_failures_per_account: 5,
            login_free_failures_per_ip: 20,
            signup_free_per_ip: 20,
            request_timeout: Duration::from_secs(30),
        }
    }

    pub fn is_production(&self) -> bool {
        self.environment == Environment::Production
    }
}
