//! Registering or changing the account's phone number (PH-1..PH-9). Possession is proved
//! with an SMS code (see `otp`); only then is the number checked against other accounts,
//! by the unique index, so the send step never tells whether a number is in use (PH-4). A
//! number can be replaced by another, never removed.

use super::otp::{self, OtpError, Pending, Purpose, Requester, Which};
use super::{browsers, two_factor};
use crate::domain::{OtpCode, PhoneNumber, Timestamp};
use crate::server::AppState;
use crate::server::db::{users, users::UserId};

/// The outcome of a right code.
#[derive(Debug, Clone)]
pub struct PhoneVerified {
    pub phone: PhoneNumber,
    /// Two-factor was turned on with this verification (`二段階認証も有効にする`).
    pub two_factor_enabled_now: bool,
}

pub async fn start(
    state: &AppState,
    user: UserId,
    phone: &PhoneNumber,
    enable_two_factor: bool,
    requester: &Requester,
    now: Timestamp,
) -> Result<Pending, OtpError> {
    otp::start(
        state,
        user,
        Purpose::Phone,
        phone,
        enable_two_factor,
        requester,
        now,
    )
    .await
}

pub async fn resend(
    state: &AppState,
    user: UserId,
    requester: &Requester,
    now: Timestamp,
) -> Result<Pending, OtpError> {
    otp::resend(state, user, Purpose::Phone, Which::Newest, requester, now).await
}

pub async fn pending(
    state: &AppState,
    user: UserId,
    now: Timestamp,
) -> Result<Option<Pending>, OtpError> {
    otp::pending(state, user, Purpose::Phone, Which::Newest, now).await
}

pub async fn abandon(state: &AppState, user: UserId) -> Result<(), OtpError> {
    otp::abandon(state, user, Purpose::Phone).await
}

/// Checks the code and, if right, saves the number on the account in one transaction.
pub async fn verify(
    state: &AppState,
    user: UserId,
    code: &OtpCode,
    now: Timestamp,
) -> Result<PhoneVerified, OtpError> {
    let pending = otp::check(state, user, Purpose::Phone, Which::Newest, code, now).await?;
    let mut tx = state.db.pool().begin().await?;
    if !otp::consume(&mut tx, pending.id).await? {
        return Err(OtpError::NoPending);
    }
    let saved = users::set_phone(&mut tx, user, pending.phone.e164(), now).await;
    match saved {
        Ok(_) => {
            // A new number: browsers remembered for the old one must pass the new one (LG-4),
            // and a sign-in waiting for a code sent to the old number is over.
            browsers::forget_all_in(&mut tx, user).await?;
            otp::abandon_in(&mut tx, user, Purpose::Login).await?;
            // Whoever else was signed in (a stolen cookie) is out (the caller renews this
            // browser's session).
            crate::server::db::session_store::end_all_of_in(&mut tx, user, now).await?;
            let two_factor_enabled_now = if pending.enable_two_factor {
                two_factor::enable_in(state, &mut tx, user, now).await?
            } else {
                false
            };
            tx.commit().await?;
            tracing::info!(user = user.0, phone = %pending.phone.masked(), "phone number verified");
            Ok(PhoneVerified {
                phone: pending.phone,
                two_factor_enabled_now,
            })
        }
        Err(e) => {
            tx.rollback().await?;
            if e.is_unique_violation() {
                otp::kill(state, pending.id).await?;
                tracing::info!(
                    user = user.0,
                    "phone number already verified on another account"
                );
                Err(OtpError::PhoneTaken)
            } else {
                Err(e.into())
            }
        }
    }
}
