//! Two-factor on and off (TF-1..TF-3) and recovery codes (RC-1..RC-4).
//!
//! Turning two-factor on needs a verified phone number and creates a fresh set of ten
//! recovery codes; turning it off deletes them and forgets every remembered browser, so
//! off-then-on always gives a new set. Codes are sealed (`server::sealed`: XChaCha20-Poly1305
//! under a key derived from the server secret, the account id as associated data, so a
//! sealed code moved to another account does not open) and also stored as a keyed hash,
//! which is what a typed code is looked up by. Using a code is one conditional UPDATE, so two concurrent
//! sign-ins with one code cannot both succeed.

use sqlx::AnyConnection;

use super::browsers;
use crate::domain::Timestamp;
use crate::domain::recovery::{self, RecoveryCode, RecoveryCodeView};
use crate::error::AppError;
use crate::server::AppState;
use crate::server::db::{DbError, recovery_codes, users, users::UserId};
use crate::server::entropy::EntropyError;
use crate::server::sealed::{self, SealError};

#[derive(Debug, thiserror::Error)]
pub enum TwoFactorError {
    #[error("no verified phone number")]
    PhoneRequired,
    #[error("two-factor is off")]
    Off,
    #[error("recovery code unknown or used")]
    InvalidRecoveryCode,
    #[error("sealed recovery code does not open")]
    Seal,
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Entropy(#[from] EntropyError),
}

impl From<SealError> for TwoFactorError {
    fn from(e: SealError) -> Self {
        match e {
            SealError::DoesNotOpen => Self::Seal,
            SealError::Entropy(e) => Self::Entropy(e),
        }
    }
}

crate::server::db::service_error_from_sqlx!(TwoFactorError);

impl From<TwoFactorError> for AppError {
    fn from(e: TwoFactorError) -> Self {
        match e {
            TwoFactorError::PhoneRequired => AppError::PhoneRequired,
            TwoFactorError::Off => AppError::TwoFactorOff,
            TwoFactorError::InvalidRecoveryCode => AppError::RecoveryCodeInvalid,
            TwoFactorError::Db(e) => e.into(),
            other => {
                tracing::error!(error = %other, "two-factor service failed");
                AppError::Internal
            }
        }
    }
}

/// The account's two-factor facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    pub enabled: bool,
    pub has_phone: bool,
    pub sms_locked: bool,
    pub codes_left: i64,
}

/// The account's two-factor facts at `now` (a lock that has run out no longer counts).
pub async fn status(
    state: &AppState,
    user: UserId,
    now: Timestamp,
) -> Result<Status, TwoFactorError> {
    let columns = users::second_factor(&mut *state.db.pool().acquire().await?, user).await?;
    Ok(Status {
        enabled: columns.two_factor_enabled_at.is_some(),
        has_phone: columns.phone_e164.is_some(),
        sms_locked: super::login::sms_lock_holds(columns.sms_locked_at, now),
        codes_left: columns.codes_left,
    })
}

/// The key purpose recovery codes are sealed under.
const SEALED: &str = "recovery-codes";

fn code_hash(state: &AppState, user: UserId, code: &RecoveryCode) -> String {
    state.secrets.keyed_hash(
        "recovery-code",
        format!("{}|{}", user.0, code.as_str()).as_bytes(),
    )
}

fn seal(state: &AppState, user: UserId, code: &RecoveryCode) -> Result<String, TwoFactorError> {
    sealed::seal(state, SEALED, user, code.as_str().as_bytes()).map_err(TwoFactorError::from)
}

fn open(state: &AppState, user: UserId, stored: &str) -> Result<String, TwoFactorError> {
    let plain = sealed::open(state, SEALED, user, stored)?;
    let code = RecoveryCode::parse(&String::from_utf8(plain).map_err(|_| TwoFactorError::Seal)?)
        .map_err(|_| TwoFactorError::Seal)?;
    Ok(code.display())
}

fn new_code(state: &AppState) -> Result<RecoveryCode, EntropyError> {
    let mut indices = [0u8; recovery::LEN];
    for i in &mut indices {
        // 31 < 256: `below` keeps the draw uniform.
        *i = u8::try_from(state.entropy.below(recovery::ALPHABET.len() as u32)?).unwrap_or(0);
    }
    Ok(RecoveryCode::from_indices(indices))
}

/// Replaces the account's codes with a fresh set, inside the caller's transaction.
async fn replace_codes(
    state: &AppState,
    conn: &mut AnyConnection,
    user: UserId,
    now: Timestamp,
) -> Result<(), TwoFactorError> {
    recovery_codes::delete_all_of(&mut *conn, user).await?;
    for position in 0..recovery::SET_SIZE {
        let code = new_code(state)?;
        recovery_codes::insert(
            &mut *conn,
            user,
            position as i64,
            &code_hash(state, user, &code),
            &seal(state, user, &code)?,
            now,
        )
        .await?;
    }
    Ok(())
}

/// Turns two-factor on inside the caller's transaction (also used when a phone number is
/// verified with `二段階認証も有効にする` ticked). A no-op when it is already on.
pub async fn enable_in(
    state: &AppState,
    conn: &mut AnyConnection,
    user: UserId,
    now: Timestamp,
) -> Result<bool, TwoFactorError> {
    let columns = users::second_factor(&mut *conn, user).await?;
    if columns.phone_e164.is_none() {
        return Err(TwoFactorError::PhoneRequired);
    }
    if columns.two_factor_enabled_at.is_some() {
        return Ok(false);
    }
    users::set_two_factor_on(&mut *conn, user, now).await?;
    replace_codes(state, conn, user, now).await?;
    Ok(true)
}

/// Saves the switch (TF-1). Returns whether anything changed.
pub async fn set_enabled(
    state: &AppState,
    user: UserId,
    enabled: bool,
    now: Timestamp,
) -> Result<bool, TwoFactorError> {
    let mut tx = state.db.pool().begin().await?;
    let changed = if enabled {
        enable_in(state, &mut tx, user, now).await?
    } else {
        let was_on = users::set_two_factor_off(&mut tx, user).await?;
        recovery_codes::delete_all_of(&mut tx, user).await?;
        browsers::forget_all_in(&mut tx, user).await?;
        was_on
    };
    if changed {
        // A session that may have been stolen before the change does not outlive it.
        crate::server::db::session_store::end_all_of_in(&mut tx, user, now).await?;
    }
    tx.commit().await?;
    if changed {
        tracing::info!(
            user = user.0,
            enabled,
            "two-factor switched; other sessions ended"
        );
    }
    Ok(changed)
}

/// The ten codes, opened, in order, with the used ones marked (RC-2).
pub async fn list_codes(
    state: &AppState,
    user: UserId,
) -> Result<Vec<RecoveryCodeView>, TwoFactorError> {
    let set = recovery_codes::set_of(&state.db, user).await?;
    if set.is_empty() {
        return Err(TwoFactorError::Off);
    }
    set.iter()
        .map(|stored| {
            Ok(RecoveryCodeView {
                code: open(state, user, &stored.sealed)?,
                used: stored.used,
            })
        })
        .collect()
}

/// Replaces all ten codes at once (RC-3) and forgets remembered browsers (LG-4).
pub async fn regenerate(
    state: &AppState,
    user: UserId,
    now: Timestamp,
) -> Result<(), TwoFactorError> {
    let mut tx = state.db.pool().begin().await?;
    if users::second_factor(&mut tx, user)
        .await?
        .two_factor_enabled_at
        .is_none()
    {
        return Err(TwoFactorError::Off);
    }
    replace_codes(state, &mut tx, user, now).await?;
    browsers::forget_all_in(&mut tx, user).await?;
    tx.commit().await?;
    tracing::info!(user = user.0, "recovery codes regenerated");
    Ok(())
}

/// A recovery code just used, with what it takes to give it back.
#[derive(Debug, Clone)]
pub struct UsedRecoveryCode {
    /// Unused codes left.
    pub left: i64,
    hash: String,
    used_at: Timestamp,
}

/// Uses a recovery code for `user`: marks it used (exactly once, whatever runs at the same
/// moment), clears the second-factor failure count and the SMS lock. Says how many
/// unused codes remain.
pub async fn use_recovery_code(
    state: &AppState,
    user: UserId,
    typed: &str,
    now: Timestamp,
) -> Result<UsedRecoveryCode, TwoFactorError> {
    let code = RecoveryCode::parse(typed).map_err(|_| TwoFactorError::InvalidRecoveryCode)?;
    let mut tx = state.db.pool().begin().await?;
    let hash = code_hash(state, user, &code);
    if !recovery_codes::mark_used(&mut tx, user, &hash, now).await? {
        return Err(TwoFactorError::InvalidRecoveryCode);
    }
    users::clear_second_factor_failures(&mut tx, user).await?;
    // The owner has proven themselves: earlier wrong sign-in codes no longer hold back a
    // new one (see `otp::restart`). Those sign-ins end, so their entries help nobody. The
    // entries they carried over go too: a row's own entries are `attempts -
    // inherited_attempts`, which must not turn negative and lend later sign-ins guesses.
    crate::server::db::verifications::forget_sign_in_entries(&mut tx, user).await?;
    let left = recovery_codes::unused_count(&mut tx, user).await?;
    tx.commit().await?;
    tracing::info!(user = user.0, left, "recovery code used");
    Ok(UsedRecoveryCode {
        left,
        hash,
        used_at: now,
    })
}

/// Gives back a recovery code whose sign-in failed after it was used (SEC-6). Only that
/// use is undone: a code that was regenerated away meanwhile stays gone.
pub async fn unspend(
    state: &AppState,
    user: UserId,
    used: &UsedRecoveryCode,
) -> Result<(), TwoFactorError> {
    recovery_codes::unmark(&state.db, user, &used.hash, used.used_at).await?;
    tracing::warn!(
        user = user.0,
        "recovery code given back: the sign-in failed"
    );
    Ok(())
}
