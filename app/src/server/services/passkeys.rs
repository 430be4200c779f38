//! Passkeys (WebAuthn) as a second factor (MFA-2, MFA-3), with kanidm's `webauthn-rs`.
//!
//! ```text
//!  パスキーを追加する (password within the window, TF-4; JavaScript: navigator.credentials)
//!    start_registration ──▶ options to the browser, ceremony state in the session (5 min)
//!    finish_registration ──▶ verified by webauthn-rs ──▶ stored (public key + counter)
//!  sign-in (pending): start_authentication ──▶ options, state in the session
//!                     finish_authentication ──▶ verified, counter and last use stored
//! ```
//!
//! The relying party is the public URL's host (`NIDAN_PUBLIC_URL`), or `localhost` on any
//! port when none is set (development and tests). User verification is required, so a
//! passkey is something held and something known or are; nothing about it can be guessed,
//! so failed ceremonies do not count toward the code lockout. A passkey works while the
//! code lockout holds, like a remembered browser: only its holder can use it.
//! `webauthn-rs` draws its challenges from the OS itself (not from `state.entropy`).

use std::time::Duration;

use webauthn_rs::prelude::{
    CreationChallengeResponse, CredentialID, DiscoverableAuthentication, Passkey,
    PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse, Url, Uuid, Webauthn, WebauthnBuilder,
};
use webauthn_rs_proto::ResidentKeyRequirement;

use super::browsers;
use crate::domain::Timestamp;
use crate::error::AppError;
use crate::server::db::{DbError, passkeys, session_store, users::UserId};
use crate::server::{AppState, Settings};

/// Passkeys one account may have.
pub const MAX_PER_ACCOUNT: i64 = 10;
/// How long a ceremony (from the options to the browser's answer) may take.
pub const CEREMONY_TTL: Duration = Duration::from_secs(5 * 60);
/// The longest name a passkey may have, in characters.
pub const NAME_MAX_CHARS: usize = 40;
/// The name a passkey gets when none is typed.
pub const DEFAULT_NAME: &str = "パスキー";

#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    #[error("no passkey is set")]
    NoneSet,
    #[error("the account has the most passkeys allowed")]
    TooMany,
    #[error("this passkey is already registered")]
    AlreadyRegistered,
    #[error("no ceremony is waiting, or it took too long")]
    NoCeremony,
    #[error("the browser's answer does not verify: {0}")]
    Refused(String),
    #[error("the name is too long")]
    NameTooLong,
    #[error("passkey not found")]
    NotFound,
    #[error("the relying party cannot be set up: {0}")]
    Setup(String),
    #[error("a stored passkey does not decode: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

crate::server::db::service_error_from_sqlx!(PasskeyError);

impl From<PasskeyError> for AppError {
    fn from(e: PasskeyError) -> Self {
        match e {
            PasskeyError::NoneSet => AppError::NoPasskey,
            PasskeyError::TooMany => AppError::TooManyPasskeys {
                max: MAX_PER_ACCOUNT as u32,
            },
            PasskeyError::AlreadyRegistered => AppError::PasskeyAlreadyRegistered,
            PasskeyError::NoCeremony => AppError::PasskeyCeremonyExpired,
            PasskeyError::Refused(why) => {
                tracing::info!(why, "passkey refused");
                AppError::PasskeyRefused
            }
            PasskeyError::NameTooLong => AppError::PasskeyNameTooLong {
                max: NAME_MAX_CHARS as u32,
            },
            PasskeyError::NotFound => AppError::NoPasskey,
            PasskeyError::Db(e) => e.into(),
            other => {
                tracing::error!(error = %other, "passkey service failed");
                AppError::Internal
            }
        }
    }
}

/// A ceremony waiting for the browser's answer: webauthn-rs's state as JSON, and when it
/// began. Kept in the server-side session only.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Ceremony {
    pub state: String,
    pub started_at: i64,
}

/// A passkey as the settings page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyInfo {
    pub id: i64,
    pub name: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

/// The relying party: the public URL's host, or `localhost` on any port without one.
pub fn relying_party(settings: &Settings) -> Result<Webauthn, PasskeyError> {
    let setup = |e: &dyn std::fmt::Display| PasskeyError::Setup(e.to_string());
    let (origin, any_port) = match &settings.public_origin {
        Some(origin) => (Url::parse(origin).map_err(|e| setup(&e))?, false),
        None => (Url::parse("http://localhost").map_err(|e| setup(&e))?, true),
    };
    let rp_id = origin
        .host_str()
        .ok_or_else(|| PasskeyError::Setup("the public URL has no host".to_owned()))?
        .to_owned();
    WebauthnBuilder::new(&rp_id, &origin)
        .map_err(|e| setup(&e))?
        .rp_name(&settings.service_name)
        .allow_any_port(any_port)
        .timeout(CEREMONY_TTL)
        .build()
        .map_err(|e| setup(&e))
}

/// The account's handle for authenticators: stable, and not its database id.
fn user_handle(state: &AppState, user: UserId) -> Uuid {
    let hash = state
        .secrets
        .keyed_hash("passkey-user-handle", &user.0.to_be_bytes());
    let mut bytes = [0u8; 16];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hash[2 * i..2 * i + 2], 16).unwrap_or(0);
    }
    Uuid::from_bytes(bytes)
}

fn decode(stored: &passkeys::StoredPasskey) -> Result<Passkey, PasskeyError> {
    serde_json::from_str(&stored.passkey).map_err(|e| PasskeyError::Corrupt(e.to_string()))
}

fn encode<T: serde::Serialize>(value: &T) -> Result<String, PasskeyError> {
    serde_json::to_string(value).map_err(|e| PasskeyError::Corrupt(e.to_string()))
}

/// The ceremony's state, if it is still within [`CEREMONY_TTL`].
fn open<T: serde::de::DeserializeOwned>(
    ceremony: Option<Ceremony>,
    now: Timestamp,
) -> Result<T, PasskeyError> {
    let ceremony = ceremony.ok_or(PasskeyError::NoCeremony)?;
    if Timestamp(ceremony.started_at).plus(CEREMONY_TTL) <= now {
        return Err(PasskeyError::NoCeremony);
    }
    serde_json::from_str(&ceremony.state).map_err(|_| PasskeyError::NoCeremony)
}

/// A passkey's name as typed: trimmed, the default when empty, refused when too long.
pub fn name_of(typed: &str) -> Result<String, PasskeyError> {
    let name = typed.trim();
    if name.is_empty() {
        return Ok(DEFAULT_NAME.to_owned());
    }
    if name.chars().count() > NAME_MAX_CHARS || name.chars().any(char::is_control) {
        return Err(PasskeyError::NameTooLong);
    }
    Ok(name.to_owned())
}

/// The options for the browser's `navigator.credentials.create`, and the ceremony to keep.
pub async fn start_registration(
    state: &AppState,
    user: UserId,
    email: &str,
    now: Timestamp,
) -> Result<(CreationChallengeResponse, Ceremony), PasskeyError> {
    let existing = passkeys::of(&state.db, user).await?;
    if existing.len() as i64 >= MAX_PER_ACCOUNT {
        return Err(PasskeyError::TooMany);
    }
    let exclude = existing
        .iter()
        .map(|p| decode(p).map(|k| k.cred_id().clone()))
        .collect::<Result<Vec<_>, _>>()?;
    let (mut options, registration) = relying_party(&state.settings)?
        .start_passkey_registration(user_handle(state, user), email, email, Some(exclude))
        .map_err(|e| PasskeyError::Refused(e.to_string()))?;
    // Ask for a discoverable credential where the device can make one, so that the passkey
    // can also sign in without the password ([`start_login`]). Phones and laptops always do;
    // a security key that cannot still works as a second factor.
    if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
        selection.resident_key = Some(ResidentKeyRequirement::Preferred);
    }
    Ok((
        options,
        Ceremony {
            state: encode(&registration)?,
            started_at: now.as_millis(),
        },
    ))
}

/// Verifies the browser's answer and stores the passkey under `name`; every session of the
/// account ends (the caller renews its own).
pub async fn finish_registration(
    state: &AppState,
    user: UserId,
    name: &str,
    answer: &RegisterPublicKeyCredential,
    ceremony: Option<Ceremony>,
    now: Timestamp,
) -> Result<(), PasskeyError> {
    let name = name_of(name)?;
    let registration: PasskeyRegistration = open(ceremony, now)?;
    let passkey = relying_party(&state.settings)?
        .finish_passkey_registration(answer, &registration)
        .map_err(|e| PasskeyError::Refused(e.to_string()))?;
    if passkeys::count(&state.db, user).await? >= MAX_PER_ACCOUNT {
        return Err(PasskeyError::TooMany);
    }
    let credential_id = encode(passkey.cred_id())?;
    let mut tx = state.db.pool().begin().await?;
    match passkeys::insert(
        &mut tx,
        user,
        &credential_id,
        &name,
        &encode(&passkey)?,
        now,
    )
    .await
    {
        Err(e) if e.is_unique_violation() => return Err(PasskeyError::AlreadyRegistered),
        other => other?,
    }
    session_store::end_all_of_in(&mut tx, user, now).await?;
    tx.commit().await?;
    tracing::info!(user = user.0, "passkey added; other sessions ended");
    Ok(())
}

/// The account's passkeys, oldest first.
pub async fn list(state: &AppState, user: UserId) -> Result<Vec<PasskeyInfo>, PasskeyError> {
    Ok(passkeys::of(&state.db, user)
        .await?
        .into_iter()
        .map(|p| PasskeyInfo {
            id: p.id,
            name: p.name,
            created_at: p.created_at,
            last_used_at: p.last_used_at,
        })
        .collect())
}

/// Whether the account has a passkey.
pub async fn any(state: &AppState, user: UserId) -> Result<bool, DbError> {
    Ok(passkeys::count(&state.db, user).await? > 0)
}

pub async fn rename(
    state: &AppState,
    user: UserId,
    id: i64,
    name: &str,
) -> Result<(), PasskeyError> {
    let name = name_of(name)?;
    if !passkeys::rename(&state.db, user, id, &name).await? {
        return Err(PasskeyError::NotFound);
    }
    Ok(())
}

/// Removes one passkey, forgets the remembered browsers and ends every session (the caller
/// renews its own).
pub async fn remove(
    state: &AppState,
    user: UserId,
    id: i64,
    now: Timestamp,
) -> Result<(), PasskeyError> {
    let mut tx = state.db.pool().begin().await?;
    if !passkeys::remove(&mut tx, user, id).await? {
        return Err(PasskeyError::NotFound);
    }
    browsers::forget_all_in(&mut tx, user).await?;
    session_store::end_all_of_in(&mut tx, user, now).await?;
    tx.commit().await?;
    tracing::info!(user = user.0, "passkey removed; other sessions ended");
    Ok(())
}

/// The options for the browser's `navigator.credentials.get` in a pending sign-in.
pub async fn start_authentication(
    state: &AppState,
    user: UserId,
    now: Timestamp,
) -> Result<(RequestChallengeResponse, Ceremony), PasskeyError> {
    let keys = passkeys::of(&state.db, user)
        .await?
        .iter()
        .map(decode)
        .collect::<Result<Vec<_>, _>>()?;
    if keys.is_empty() {
        return Err(PasskeyError::NoneSet);
    }
    let (options, authentication) = relying_party(&state.settings)?
        .start_passkey_authentication(&keys)
        .map_err(|e| PasskeyError::Refused(e.to_string()))?;
    Ok((
        options,
        Ceremony {
            state: encode(&authentication)?,
            started_at: now.as_millis(),
        },
    ))
}

/// Verifies the browser's answer for `user`'s pending sign-in; stores the passkey's new
/// counter and when it was used.
pub async fn finish_authentication(
    state: &AppState,
    user: UserId,
    answer: &PublicKeyCredential,
    ceremony: Option<Ceremony>,
    now: Timestamp,
) -> Result<(), PasskeyError> {
    let authentication: PasskeyAuthentication = open(ceremony, now)?;
    let result = relying_party(&state.settings)?
        .finish_passkey_authentication(answer, &authentication)
        .map_err(|e| PasskeyError::Refused(e.to_string()))?;
    // The options named only this account's passkeys, so the one used is among them.
    for stored in passkeys::of(&state.db, user).await? {
        let mut passkey = decode(&stored)?;
        if passkey.cred_id() == result.cred_id() {
            passkey.update_credential(&result);
            passkeys::used(
                &state.db,
                user,
                &stored.credential_id,
                &encode(&passkey)?,
                now,
            )
            .await?;
            return Ok(());
        }
    }
    Err(PasskeyError::NotFound)
}

/// The options for signing in with a passkey alone (no email, no password; MFA-2): the
/// browser offers the passkeys it holds for this site.
pub fn start_login(
    state: &AppState,
    now: Timestamp,
) -> Result<(RequestChallengeResponse, Ceremony), PasskeyError> {
    let (mut options, authentication) = relying_party(&state.settings)?
        .start_discoverable_authentication()
        .map_err(|e| PasskeyError::Refused(e.to_string()))?;
    // webauthn-rs asks for conditional mediation (the passkey offered in the email field's
    // autofill); the page asks with a button instead, which needs an ordinary request or
    // the browser never answers.
    options.mediation = None;
    Ok((
        options,
        Ceremony {
            state: encode(&authentication)?,
            started_at: now.as_millis(),
        },
    ))
}

/// Verifies a sign-in with a passkey alone: the passkey the browser used is found by its
/// credential id, must belong to the account its user handle names, and its signature
/// must verify. Whose account it is.
pub async fn finish_login(
    state: &AppState,
    answer: &PublicKeyCredential,
    ceremony: Option<Ceremony>,
    now: Timestamp,
) -> Result<UserId, PasskeyError> {
    let authentication: DiscoverableAuthentication = open(ceremony, now)?;
    let rp = relying_party(&state.settings)?;
    let (handle, credential) = rp
        .identify_discoverable_authentication(answer)
        .map_err(|e| PasskeyError::Refused(e.to_string()))?;
    let credential_id = encode(&CredentialID::from(credential.to_vec()))?;
    let (user, stored) = passkeys::by_credential(&state.db, &credential_id)
        .await?
        .ok_or_else(|| PasskeyError::Refused("unknown credential".to_owned()))?;
    if user_handle(state, user) != handle {
        return Err(PasskeyError::Refused(
            "the user handle is not the owner's".to_owned(),
        ));
    }
    let mut passkey = decode(&stored)?;
    let result = rp
        .finish_discoverable_authentication_v2(answer, authentication, &passkey)
        .map_err(|e| PasskeyError::Refused(e.to_string()))?;
    passkey.update_credential(&result);
    passkeys::used(&state.db, user, &credential_id, &encode(&passkey)?, now).await?;
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_defaulted_and_bounded() {
        assert_eq!(name_of("  iPhone  ").unwrap(), "iPhone");
        assert_eq!(name_of("   ").unwrap(), DEFAULT_NAME);
        assert!(name_of(&"あ".repeat(NAME_MAX_CHARS)).is_ok());
        assert!(matches!(
            name_of(&"あ".repeat(NAME_MAX_CHARS + 1)),
            Err(PasskeyError::NameTooLong)
        ));
        assert!(matches!(name_of("a\u{7}b"), Err(PasskeyError::NameTooLong)));
    }

    #[test]
    fn a_ceremony_expires() {
        let at = Timestamp(1_000_000);
        let c = || {
            Some(Ceremony {
                state: "\"x\"".to_owned(),
                started_at: at.as_millis(),
            })
        };
        assert_eq!(open::<String>(c(), at).unwrap(), "x");
        assert!(matches!(
            open::<String>(c(), at.plus(CEREMONY_TTL)),
            Err(PasskeyError::NoCeremony)
        ));
        assert!(matches!(
            open::<String>(None, at),
            Err(PasskeyError::NoCeremony)
        ));
    }

    /// The relying party the browser is told: its id is the public host (a passkey made
    /// for it works on no other site), its name the service's.
    fn offered_party(settings: &Settings) -> (String, String) {
        let options = relying_party(settings)
            .expect("a relying party")
            .start_passkey_registration(Uuid::nil(), "taro@example.jp", "taro@example.jp", None)
            .expect("registration options")
            .0;
        (options.public_key.rp.id, options.public_key.rp.name)
    }

    #[test]
    fn the_relying_party_is_the_public_host_or_localhost() {
        let mut settings = Settings::development();
        settings.service_name = "二段".to_owned();
        assert_eq!(
            offered_party(&settings),
            ("localhost".to_owned(), "二段".to_owned())
        );
        settings.public_origin = Some("https://nidan.example".to_owned());
        assert_eq!(
            offered_party(&settings),
            ("nidan.example".to_owned(), "二段".to_owned())
        );
        settings.public_origin = Some("https://".to_owned());
        assert!(
            relying_party(&settings).is_err(),
            "a public URL without a host is refused"
        );
    }
}
