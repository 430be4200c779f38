//! The state every server function and handler runs against. The router holds it;
//! leptos_axum hands it to server functions as context (`use_context::<AppState>()`).

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use super::{Clock, Db, Entropy, PasswordHasher, Secrets, Settings, SmsGateway};

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub entropy: Arc<dyn Entropy>,
    pub passwords: PasswordHasher,
    pub secrets: Arc<Secrets>,
    pub settings: Arc<Settings>,
    pub sms: SmsGateway,
    pub leptos_options: LeptosOptions,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
