//! Passkeys on the settings page (MFA-2): add one (JavaScript: the browser's
//! `navigator.credentials.create`), list, rename and remove. Adding and removing need a
//! recent password (TF-4) and end the account's other sessions.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The options for the browser's WebAuthn call (`navigator.credentials.create` or `.get`),
/// as the JSON webauthn-rs made of them on the server. On the wire it is that JSON object,
/// unchanged. The browser's copy of the app passes it on without reading it into Rust types:
/// webauthn-rs-proto's types and their serde code would add to the wasm (issue 11), and the
/// page has nothing to decide from them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PasskeyOptions(Box<serde_json::value::RawValue>);

impl PasskeyOptions {
    /// The options webauthn-rs made, as JSON.
    #[cfg(feature = "ssr")]
    pub fn new(options: &impl Serialize) -> Result<Self, AppError> {
        serde_json::value::to_raw_value(options)
            .map(Self)
            .map_err(|_| AppError::Internal)
    }

    /// The JSON text, for `JSON.parse` in the browser.
    pub fn json(&self) -> &str {
        self.0.get()
    }
}

/// What the ceremony is for, in the session (a registration cannot finish a sign-in).
#[cfg(feature = "ssr")]
const REGISTER: &str = "register";

/// A passkey as the settings page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyView {
    pub id: i64,
    pub name: String,
    /// When it was added, Japan time.
    pub added: String,
    /// When it last signed in, Japan time.
    pub last_used: Option<String>,
}

/// `パスキーを追加する`, first half: the options for the browser. The password is typed
/// with it every time, not taken from the re-authentication window: a passkey signs in on
/// its own, so a session cookie alone (stolen in the minutes after a sign-in) must not be
/// able to make one (TF-4).
#[server(prefix = "/api", endpoint = "start_passkey_registration")]
pub async fn start_passkey_registration(password: String) -> Result<PasskeyOptions, AppError> {
    use crate::server::services::passkeys;
    use crate::server::{auth_session, web};

    web::finish(
        async {
            let (state, session, user) = web::signed_in().await?;
            let now = state.clock.now();
            if password.is_empty() {
                return Err(AppError::ReauthRequired);
            }
            web::reauthenticate(&state, &session, user, now, Some(password)).await?;
            let email = web::email_of(&state, user).await?;
            let (options, ceremony) =
                passkeys::start_registration(&state, user, &email, now).await?;
            let options = PasskeyOptions::new(&options)?;
            auth_session::keep_passkey_ceremony(&session, REGISTER, &ceremony).await?;
            Ok(options)
        }
        .await,
    )
}

/// Second half: the browser's answer (`credential`, JSON of `RegisterPublicKeyCredential`)
/// and the name typed for it. Recorded in the history; other sessions end.
#[server(prefix = "/api", endpoint = "finish_passkey_registration")]
pub async fn finish_passkey_registration(name: String, credential: String) -> Result<(), AppError> {
    use crate::domain::SecurityEvent;
    use crate::server::services::passkeys;
    use crate::server::{auth_session, web};

    web::finish(
        async {
            let (state, session, user) = web::signed_in().await?;
            let now = state.clock.now();
            let answer: webauthn_rs_proto::RegisterPublicKeyCredential =
                serde_json::from_str(&credential).map_err(|_| AppError::PasskeyRefused)?;
            let ceremony = auth_session::take_passkey_ceremony(&session, REGISTER).await?;
            passkeys::finish_registration(&state, user, &name, &answer, ceremony, now).await?;
            auth_session::renew(&session, now).await?;
            web::note(&state, user, SecurityEvent::PasskeyAdded).await;
            Ok(())
        }
        .await,
    )
}

/// Renames a passkey (a plain form).
#[server(prefix = "/api", endpoint = "rename_passkey")]
pub async fn rename_passkey(id: i64, name: String) -> Result<(), AppError> {
    use crate::server::services::passkeys;
    use crate::server::web;

    web::finish(
        async {
            let (state, _, user) = web::signed_in().await?;
            passkeys::rename(&state, user, id, &name).await?;
            leptos_axum::redirect(crate::urls::PASSKEY_RENAMED);
            Ok(())
        }
        .await,
    )
}

/// Removes a passkey: needs a recent password (TF-4), which the prompt sends along
/// (`password`); remembered browsers are forgotten and other sessions end.
#[server(prefix = "/api", endpoint = "remove_passkey")]
pub async fn remove_passkey(id: i64, password: Option<String>) -> Result<(), AppError> {
    use crate::domain::SecurityEvent;
    use crate::server::services::passkeys;
    use crate::server::{auth_session, web};

    web::finish(
        async {
            let (state, session, user) = web::signed_in().await?;
            let now = state.clock.now();
            web::reauthenticate(&state, &session, user, now, password).await?;
            passkeys::remove(&state, user, id, now).await?;
            auth_session::renew(&session, now).await?;
            web::note(&state, user, SecurityEvent::PasskeyRemoved).await;
            leptos_axum::redirect(crate::urls::PASSKEY_REMOVED);
            Ok(())
        }
        .await,
    )
}
