//! Authenticator apps (TOTP, RFC 6238) as a second factor beside SMS (MFA-1, MFA-3).
//!
//! ```text
//!   認証アプリを設定する (password, TF-4)      right code from the app
//!   ─────────────────────────▶ enrolment ──────────────────────────▶ set
//!        new secret, sealed,   (QR code + key shown;        │   ▲
//!        kept in the session    nothing stored yet)         │   └ 認証アプリを設定する again
//!                                                           │ 認証アプリを削除する (password)
//!                                                           ▼
//!                                                         (none)
//! ```
//!
//! Codes: six digits, HMAC-SHA1, 30-second steps, one step of drift either way (`totp-rs`,
//! the defaults every authenticator app understands). A code is taken only for a time step
//! later than the last one taken (`authenticator_apps.last_step`), so no code works twice,
//! not even the one that confirmed the app. Limits, as for SMS codes: five wrong app codes
//! in ten minutes close the app for the rest of those minutes (PH-6's rule), and every
//! wrong code also counts toward the account's lockout shared with SMS (SEC-1, `login`).
//! Only someone who knows the password reaches either; the owner still has SMS and the
//! recovery codes. The secret is sealed like the recovery codes (`server::sealed`).

use std::time::Duration;

use qrcode::QrCode;
use qrcode::render::svg;
use totp_rs::{Algorithm, Totp};

use super::{browsers, login, otp};
use crate::domain::{OtpCode, Timestamp};
use crate::error::AppError;
use crate::server::AppState;
use crate::server::db::{DbError, authenticator_apps, session_store, users, users::UserId};
use crate::server::entropy::EntropyError;
use crate::server::sealed::{self, SealError};

/// A time step (RFC 6238's X).
pub const STEP: Duration = Duration::from_secs(30);
/// Steps of drift allowed either way between the app's clock and ours.
pub const SKEW: u16 = 1;
/// The secret's length: 160 bits, as RFC 4226 §4 recommends for HMAC-SHA1.
pub const SECRET_BYTES: usize = 20;
/// Wrong app codes allowed in [`FAILURE_WINDOW`] (PH-6's five).
pub const MAX_FAILURES: i64 = otp::MAX_ATTEMPTS;
/// The window those wrong codes are counted in (a code's lifetime, PH-6).
pub const FAILURE_WINDOW: Duration = otp::CODE_TTL;

/// The key purpose app secrets are sealed under.
const SEALED: &str = "authenticator-secret";
/// The account name in the otpauth label only matters for the QR code; checking a code
/// needs none.
const NO_LABEL: &str = "";

#[derive(Debug, thiserror::Error)]
pub enum AuthenticatorError {
    #[error("no authenticator app is set")]
    NotSet,
    #[error("the code does not confirm the new app")]
    WrongConfirmation,
    #[error("wrong app code")]
    Mismatch { attempts_left: u32 },
    #[error("app code of a time step already used")]
    Used,
    #[error("too many wrong app codes")]
    TooManyWrongCodes { retry_after_secs: u64 },
    #[error("the second factor is locked")]
    Locked,
    #[error("the second factor was locked by this failure")]
    JustLocked,
    #[error("a stored app secret is unusable")]
    BadSecret,
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Entropy(#[from] EntropyError),
}

crate::server::db::service_error_from_sqlx!(AuthenticatorError);

impl From<SealError> for AuthenticatorError {
    fn from(e: SealError) -> Self {
        match e {
            SealError::DoesNotOpen => Self::BadSecret,
            SealError::Entropy(e) => Self::Entropy(e),
        }
    }
}

impl From<AuthenticatorError> for AppError {
    fn from(e: AuthenticatorError) -> Self {
        match e {
            AuthenticatorError::NotSet => AppError::NoAuthenticator,
            AuthenticatorError::WrongConfirmation => AppError::AppCodeWrong,
            AuthenticatorError::Mismatch { attempts_left } => {
                AppError::CodeMismatch { attempts_left }
            }
            AuthenticatorError::Used => AppError::AppCodeUsed,
            AuthenticatorError::TooManyWrongCodes { retry_after_secs } => {
                AppError::AppCodesExhausted { retry_after_secs }
            }
            AuthenticatorError::Locked | AuthenticatorError::JustLocked => AppError::SmsLocked,
            AuthenticatorError::Db(e) => e.into(),
            other => {
                tracing::error!(error = %other, "authenticator service failed");
                AppError::Internal
            }
        }
    }
}

/// What the enrolment dialog shows: the QR code and the same key as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolmentView {
    /// The `otpauth://` URI as an SVG QR code, drawn here so that no script is needed.
    pub qr_svg: String,
    /// The key in base32, in groups of four, for typing into an app by hand.
    pub key: String,
}

/// The account's app, as the settings page shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppStatus {
    pub added_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

/// A new secret for `user`, sealed: what the session keeps until a code confirms it.
pub fn new_enrolment(state: &AppState, user: UserId) -> Result<String, AuthenticatorError> {
    let secret = state.entropy.bytes::<SECRET_BYTES>()?;
    Ok(sealed::seal(state, SEALED, user, &secret)?)
}

fn totp(secret: Vec<u8>, issuer: &str, account: &str) -> Result<Totp, AuthenticatorError> {
    // The otpauth URI's label is `issuer:account`; a colon inside either would split it
    // wrongly, so it becomes a space.
    let clean = |s: &str| s.replace(':', " ");
    let issuer = clean(issuer);
    totp_rs::Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(SKEW)
        .with_step_duration(STEP.as_secs())
        .with_secret(secret)
        .with_issuer((!issuer.trim().is_empty()).then_some(issuer))
        .with_account_name(clean(account))
        .build()
        .map_err(|e| {
            tracing::error!(error = %e, "authenticator app parameters refused");
            AuthenticatorError::BadSecret
        })
}

fn open_totp(
    state: &AppState,
    user: UserId,
    stored: &str,
    account: &str,
) -> Result<Totp, AuthenticatorError> {
    let secret = sealed::open(state, SEALED, user, stored)?;
    totp(secret, &state.settings.service_name, account)
}

/// The QR code and key of an enrolment, for the account `email`.
pub fn enrolment_view(
    state: &AppState,
    user: UserId,
    email: &str,
    enrolment: &str,
) -> Result<EnrolmentView, AuthenticatorError> {
    let totp = open_totp(state, user, enrolment, email)?;
    let uri = totp.to_url().map_err(|e| {
        tracing::error!(error = %e, "otpauth URI refused");
        AuthenticatorError::BadSecret
    })?;
    let qr_svg = QrCode::new(uri.as_bytes())
        .map_err(|e| {
            tracing::error!(error = %e, "QR code refused");
            AuthenticatorError::BadSecret
        })?
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    Ok(EnrolmentView {
        qr_svg,
        key: grouped(&totp.secret().to_base32()),
    })
}

/// `JBSWY3DPEHPK3PXP` as `JBSW Y3DP EHPK 3PXP`: easier to read out and type.
pub fn grouped(key: &str) -> String {
    key.trim_end_matches('=')
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The time step a code matches at `now`, within the drift allowed.
pub fn matching_step(totp: &Totp, code: &OtpCode, now: Timestamp) -> Option<i64> {
    let secs = u64::try_from(now.as_millis() / 1000).ok()?;
    totp.check(code.as_str(), secs)
        .and_then(|step| i64::try_from(step).ok())
}

/// Sets the enrolment's app for `user` when `code` is its code now: any app set before is
/// replaced, and every session of the account ends (the caller renews its own).
pub async fn confirm(
    state: &AppState,
    user: UserId,
    enrolment: &str,
    code: &OtpCode,
    now: Timestamp,
) -> Result<(), AuthenticatorError> {
    let totp = open_totp(state, user, enrolment, NO_LABEL)?;
    let step = matching_step(&totp, code, now).ok_or(AuthenticatorError::WrongConfirmation)?;
    let mut tx = state.db.pool().begin().await?;
    authenticator_apps::set(&mut tx, user, enrolment, step, now).await?;
    // A session that may have been stolen before the change does not outlive it.
    session_store::end_all_of_in(&mut tx, user, now).await?;
    tx.commit().await?;
    tracing::info!(user = user.0, "authenticator app set; other sessions ended");
    Ok(())
}

/// Removes `user`'s app, forgets the remembered browsers and ends every session (the
/// caller renews its own). Whether there was one.
pub async fn remove(
    state: &AppState,
    user: UserId,
    now: Timestamp,
) -> Result<bool, AuthenticatorError> {
    let mut tx = state.db.pool().begin().await?;
    if !authenticator_apps::remove(&mut tx, user).await? {
        return Ok(false);
    }
    browsers::forget_all_in(&mut tx, user).await?;
    session_store::end_all_of_in(&mut tx, user, now).await?;
    tx.commit().await?;
    tracing::info!(
        user = user.0,
        "authenticator app removed; other sessions ended"
    );
    Ok(true)
}

/// The account's app, if one is set.
pub async fn status(state: &AppState, user: UserId) -> Result<Option<AppStatus>, DbError> {
    Ok(authenticator_apps::find(&state.db, user)
        .await?
        .map(|app| AppStatus {
            added_at: app.created_at,
            last_used_at: app.last_used_at,
        }))
}

/// Whether `user` has an app.
pub async fn is_set(state: &AppState, user: UserId) -> Result<bool, DbError> {
    authenticator_apps::is_set(&state.db, user).await
}

/// Checks an app code of a pending sign-in (MFA-1, SEC-1): refused while the account's
/// second factor is locked; otherwise one of the app's five wrong codes and one of the
/// account's hundred are reserved before it is judged, so parallel guesses get no more
/// between them. A right code of a new time step clears both counts; a right code of a
/// step already used counts as wrong.
pub async fn verify_sign_in(
    state: &AppState,
    user: UserId,
    code: &OtpCode,
    now: Timestamp,
) -> Result<(), AuthenticatorError> {
    let app = authenticator_apps::find(&state.db, user)
        .await?
        .ok_or(AuthenticatorError::NotSet)?;
    if login::second_factor_locked(state, user, now).await? {
        return Err(AuthenticatorError::Locked);
    }
    let Some(app_failures) = authenticator_apps::reserve_failure(
        &state.db,
        user,
        MAX_FAILURES,
        now.minus(FAILURE_WINDOW),
        now,
    )
    .await?
    else {
        return Err(closed(state, user, now).await?);
    };
    let Some(failures) =
        users::reserve_second_factor_failure(&state.db, user, login::LOCK_AFTER, now).await?
    else {
        authenticator_apps::release_failure(&state.db, user).await?;
        return Err(AuthenticatorError::Locked);
    };
    let step = match open_totp(state, user, &app.secret_sealed, NO_LABEL) {
        Ok(totp) => matching_step(&totp, code, now),
        Err(e) => {
            // Not judged: the guess gives both reservations back.
            authenticator_apps::release_failure(&state.db, user).await?;
            login::release(state, user).await?;
            return Err(e);
        }
    };
    let mut replayed = false;
    if let Some(step) = step {
        let mut tx = state.db.pool().begin().await?;
        if authenticator_apps::take_step(&mut tx, user, step, now).await? {
            users::clear_second_factor_failures(&mut tx, user).await?;
            tx.commit().await?;
            return Ok(());
        }
        tx.rollback().await?;
        replayed = true;
    }
    if login::locks_at(failures) {
        let mut conn = state.db.pool().acquire().await?;
        otp::abandon_in(&mut conn, user, otp::Purpose::Login).await?;
        tracing::warn!(
            user = user.0,
            failures,
            "second factor locked after consecutive failures"
        );
        return Err(AuthenticatorError::JustLocked);
    }
    let left = MAX_FAILURES - app_failures;
    if left <= 0 {
        return Err(closed(state, user, now).await?);
    }
    if replayed {
        return Err(AuthenticatorError::Used);
    }
    Err(AuthenticatorError::Mismatch {
        attempts_left: u32::try_from(left).unwrap_or(0),
    })
}

/// Why no app code can be judged now: the app was removed meanwhile, or its five wrong
/// codes are used up until their window ends.
async fn closed(
    state: &AppState,
    user: UserId,
    now: Timestamp,
) -> Result<AuthenticatorError, DbError> {
    Ok(
        match authenticator_apps::failures_since(&state.db, user).await? {
            None if !authenticator_apps::is_set(&state.db, user).await? => {
                AuthenticatorError::NotSet
            }
            since => AuthenticatorError::TooManyWrongCodes {
                retry_after_secs: now
                    .secs_until(since.unwrap_or(now).plus(FAILURE_WINDOW))
                    .max(1),
            },
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app() -> Totp {
        // RFC 6238's SHA-1 test key.
        totp(b"12345678901234567890".to_vec(), "Nidan", "a@example.com").expect("valid")
    }

    #[test]
    fn rfc_6238_test_vectors_match_at_their_step() {
        // RFC 6238 Appendix B, SHA-1, last six digits.
        for (secs, code) in [
            (59_i64, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            let code = OtpCode::parse(code).expect("six digits");
            assert_eq!(
                matching_step(&app(), &code, Timestamp(secs * 1000)),
                Some(secs / 30),
                "at {secs}"
            );
        }
    }

    #[test]
    fn one_step_of_drift_either_way_and_no_more() {
        let t = 1_111_111_109_i64;
        let code = OtpCode::parse("081804").expect("six digits");
        let at = |secs: i64| matching_step(&app(), &code, Timestamp(secs * 1000));
        assert_eq!(at(t - 30), Some(t / 30), "the app is a step ahead");
        assert_eq!(at(t + 30), Some(t / 30), "the app is a step behind");
        assert_eq!(at(t - 60), None);
        assert_eq!(at(t + 60), None);
    }

    #[test]
    fn the_key_reads_in_groups_of_four() {
        assert_eq!(grouped("JBSWY3DPEHPK3PXP"), "JBSW Y3DP EHPK 3PXP");
        assert_eq!(grouped("ABCDEF=="), "ABCD EF");
    }

    #[test]
    fn a_colon_in_the_service_name_does_not_break_the_label() {
        let t = totp(b"12345678901234567890".to_vec(), "A:B", "x:y@example.com").expect("valid");
        let uri = t.to_url().expect("uri");
        assert!(uri.starts_with("otpauth://totp/"), "{uri}");
        assert!(!uri.contains("A:B"), "{uri}");
    }
}
