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
}

impl Settings {
    /// Settings for tests and local development: plain http, no fixed origin.
    pub fn development() -> Self {
        Self {
            environment: Environment::Development,
            public_origin: None,
            secure_cookies: false,
            session_idle: Duration::from_secs(7 * 24 * 3600),
        }
    }

    pub fn is_production(&self) -> bool {
        self.environment == Environment::Production
    }
}
