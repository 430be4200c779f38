//! Settings the services and the HTTP boundary read. The server binary fills them from
//! environment variables (see the README); tests build them directly.

use std::time::Duration;

use super::TrustedProxies;

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
    /// Wrong passwords for one account from all clients within 15 minutes before clients
    /// that have not proven themselves slow down (SEC-1).
    pub login_account_ceiling: u32,
    /// Sign-ups from one IP within 15 minutes before they slow down.
    pub signup_free_per_ip: u32,
    /// The proxies whose forwarding header names the client (SEC-7); none by default.
    pub trusted_proxies: TrustedProxies,
    /// `NIDAN_DEV_OUTBOX=1`: the development outbox answers every client, not only this
    /// machine's (SEC-9).
    pub dev_outbox_open: bool,
    /// The host of the WebOTP line (`@host #code`, SMS-3): the public URL's, never a request's.
    pub webotp_host: String,
    /// The service's name in the SMS (`【二段】認証コード…`, SMS-3).
    pub service_name: String,
    /// How recent the password must be for sensitive changes (TF-4).
    pub reauth_window: Duration,
    /// How long a code is valid (PH-6): 10 minutes; only ever shortened, by tests.
    pub code_ttl: Duration,
    /// A request that takes longer is answered 503 and its work dropped (SEC-8).
    pub request_timeout: Duration,
}

/// How many codes may be sent, per what and per when (SEC-2). The defaults are the SPEC's;
/// each can be changed through the environment (README), e.g. so that a test suite whose
/// every request comes from 127.0.0.1 can raise the per-IP limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsLimits {
    /// Per number per hour and day: the owner's sign-in codes, and separately each
    /// account's registration codes to that number.
    pub per_number_hour: u32,
    pub per_number_day: u32,
    /// Registration codes to one number from all accounts together, per day: what a number
    /// can be sent by people who do not hold it. Never counts the owner's sign-in codes.
    pub registrations_per_number_day: u32,
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
            registrations_per_number_day: 10,
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
            login_account_ceiling: 50,
            signup_free_per_ip: 20,
            trusted_proxies: TrustedProxies::none(),
            dev_outbox_open: false,
            webotp_host: "localhost".to_owned(),
            service_name: "二段".to_owned(),
            reauth_window: Duration::from_secs(10 * 60),
            code_ttl: crate::server::services::otp::CODE_TTL,
            request_timeout: Duration::from_secs(30),
        }
    }

    pub fn is_production(&self) -> bool {
        self.environment == Environment::Production
    }
}
