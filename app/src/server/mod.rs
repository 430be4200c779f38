//! Everything that runs only on the server: state, database, services and the small
//! helpers server functions use at the HTTP boundary. Services know nothing of HTTP.

pub mod auth_session;
pub mod client_addr;
pub mod clock;
pub mod cookies;
pub mod csp;
pub mod db;
pub mod entropy;
pub mod page_assets;
pub mod passwords;
pub mod sealed;
pub mod secrets;
pub mod services;
pub mod settings;
pub mod sms;
pub mod state;
pub mod web;

pub use client_addr::{ClientKey, ProxyHeader, TrustedProxies};
pub use clock::{Clock, ManualClock, SystemClock};
pub use db::Db;
pub use entropy::{Entropy, OsEntropy, SeededEntropy};
pub use passwords::PasswordHasher;
pub use secrets::Secrets;
pub use settings::{Environment, Settings, SmsLimits};
pub use sms::SmsGateway;
pub use state::AppState;
