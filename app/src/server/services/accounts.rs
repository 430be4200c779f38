//! Accounts (ACC-1): signing up and checking a password.
//!
//! Unknown email and wrong password are one error, [`AccountError::InvalidCredentials`],
//! and both paths run exactly one argon2 verification, so neither the message nor the time
//! tells an attacker which addresses have accounts.

use crate::domain::{Email, Password, Timestamp};
use crate::error::AppError;
use crate::server::AppState;
use crate::server::db::{DbError, users, users::UserId};
use crate::server::entropy::EntropyError;
use crate::server::passwords::{HashError, HashSlot};
use crate::server::services::{browsers, otp, otp::Purpose};

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("email already registered")]
    EmailTaken,
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    Entropy(#[from] EntropyError),
}

impl From<AccountError> for AppError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::EmailTaken => AppError::EmailTaken,
            AccountError::InvalidCredentials => AppError::InvalidCredentials,
            AccountError::Db(e) => e.into(),
            AccountError::Hash(e) => e.into(),
            other => {
                tracing::error!(error = %other, "account service failed");
                AppError::Internal
            }
        }
    }
}

/// Creates an account. The unique index decides a race between two sign-ups.
pub async fn sign_up(
    state: &AppState,
    slot: HashSlot,
    email: &Email,
    password: &Password,
    now: Timestamp,
) -> Result<UserId, AccountError> {
    let salt = state.entropy.bytes::<16>()?;
    let hash = slot.hash(password, salt).await?;
    drop(slot);
    match users::insert(&state.db, email, &hash, now).await {
        Ok(id) => {
            tracing::info!(user = id.0, email = %email.masked(), "account created");
            Ok(id)
        }
        Err(e) if e.is_unique_violation() => Err(AccountError::EmailTaken),
        Err(e) => Err(e.into()),
    }
}

/// Whose password was right, and when that password was set: read in the same query as
/// its hash, so that a known-device token (`devices::issue`) is bound to the password that
/// was checked, without reading the row again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authenticated {
    pub user: UserId,
    pub password_changed_at: Option<Timestamp>,
}

/// Checks an email and password. The input email is parsed leniently: anything that is not
/// a well-formed address simply matches no account.
pub async fn authenticate(
    state: &AppState,
    slot: HashSlot,
    email: &str,
    password: String,
) -> Result<Authenticated, AccountError> {
    let user = match Email::parse(email) {
        Ok(email) => users::find_by_email(&state.db, &email).await?,
        Err(_) => None,
    };
    let (found, stored) = match user {
        Some(u) => (
            Some(Authenticated {
                user: u.id,
                password_changed_at: u.password_changed_at,
            }),
            Some(u.password_hash),
        ),
        None => (None, None),
    };
    let ok = slot.verify(password, stored).await?;
    drop(slot);
    match found {
        Some(found) if ok => Ok(found),
        _ => Err(AccountError::InvalidCredentials),
    }
}

/// Changes the password (after checking the current one) in one transaction that also ends
/// every session of the account and forgets every remembered browser (LG-4): whoever knew
/// the old password is out everywhere. The caller signs the current browser in again.
pub async fn change_password(
    state: &AppState,
    slot: HashSlot,
    user: UserId,
    current: String,
    new: &Password,
    now: Timestamp,
) -> Result<(), AccountError> {
    let row = users::find_by_id(&state.db, user)
        .await?
        .ok_or(AccountError::InvalidCredentials)?;
    if !slot.verify(current, Some(row.password_hash)).await? {
        return Err(AccountError::InvalidCredentials);
    }
    let salt = state.entropy.bytes::<16>()?;
    let hash = slot.hash(new, salt).await?;
    drop(slot);
    let mut tx = state.db.pool().begin().await.map_err(DbError::from)?;
    let done: Result<(), DbError> = async {
        users::set_password(&mut tx, user, &hash, now).await?;
        crate::server::db::session_store::end_all_of_in(&mut tx, user, now).await?;
        browsers::forget_all_in(&mut tx, user).await?;
        // Sign-ins still waiting for a second factor started with the old password.
        otp::abandon_in(&mut tx, user, Purpose::Login).await?;
        Ok(())
    }
    .await;
    done?;
    tx.commit().await.map_err(DbError::from)?;
    tracing::info!(
        user = user.0,
        "password changed; sessions and remembered browsers ended"
    );
    Ok(())
}
