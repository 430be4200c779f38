//! One-time SMS codes for one account and one purpose (PH-5..PH-7, SEC-2).
//!
//! A *verification* is one attempt to prove that a person holds a number. Its states:
//!
//! ```text
//!              start (send)                 right code
//!   (none) ─────────────────▶ pending ──────────────────▶ verified
//!                              │  ▲  resend: new code, same row,
//!                              │  └─ wrong-entry count kept (NIST SP 800-63B rev 4)
//!                              ├── 5th wrong entry ───────▶ dead
//!                              ├── 10 minutes pass ───────▶ (expired: dead when touched)
//!                              ├── send fails ────────────▶ dead (no usable code is left)
//!                              └── closed / started again ▶ abandoned
//! ```
//!
//! Codes are six digits drawn uniformly from the OS CSPRNG, stored only as an HMAC-SHA256
//! keyed with a server key and bound to the purpose, the account and the number, and
//! compared in constant time. Each guess first *reserves* one of the five entries with a
//! single conditional UPDATE, so parallel guesses cannot get more than five between them.
//! Starting over (the number or the password entered again) does not bring five new
//! entries: a new verification inherits the wrong entries of the account's verifications of
//! the same number and purpose from the last ten minutes, and none can start while those
//! add up to five (see [`restart`]), so guessing is bounded by PH-6 and not only by the SMS
//! budget.
//!
//! Every send first passes the limits (per number per hour and per day, per account per
//! day, per IP per hour, a global hourly ceiling) inside the same transaction that records
//! it; on PostgreSQL an advisory lock serialises those transactions across processes.

use std::time::Duration;

use sqlx::AnyConnection;
use subtle::ConstantTimeEq;

use super::sms_limits;
use crate::domain::{OtpCode, PhoneNumber, Timestamp};
use crate::error::AppError;
use crate::server::db::{self, DbError, sms_sends, users, users::UserId, verifications};
use crate::server::entropy::EntropyError;
use crate::server::sms::{SmsError, code_message};
use crate::server::{AppState, SmsLimits};

/// How long a code is valid (PH-6): the default of `Settings::code_ttl`
/// (`NIDAN_CODE_TTL_SECS`, which may only shorten it, for tests).
pub const CODE_TTL: Duration = Duration::from_secs(10 * 60);
/// Wrong entries after which a verification is dead (PH-6).
pub const MAX_ATTEMPTS: i64 = 5;

/// What a verification is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Registering or changing the account's phone number.
    Phone,
    /// The second step of signing in.
    Login,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Phone => "phone",
            Purpose::Login => "login",
        }
    }
}

/// Who asked for a code, for the per-IP limit and the WebOTP line.
#[derive(Debug, Clone)]
pub struct Requester {
    /// The client's address key (counted by the per-address SMS limits).
    pub ip: String,
    /// The host the person sees in the address bar (no port), for `@host #code`.
    pub host: String,
}

pub use crate::server::db::verifications::{Pending, Which};

impl Pending {
    /// When `再送する` may be used again.
    pub fn resend_available_at(&self, limits: &SmsLimits) -> Timestamp {
        self.code_sent_at.plus(limits.resend_cooldown)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OtpError {
    #[error("no pending verification")]
    NoPending,
    #[error("code expired")]
    Expired,
    #[error("wrong code")]
    Mismatch { attempts_left: u32 },
    #[error("too many wrong codes")]
    Exhausted,
    /// Like `Exhausted`, for a guess that came after the fifth: it was not judged.
    #[error("no entries left")]
    AlreadyExhausted,
    #[error("too many wrong codes for this number lately")]
    TooManyWrongCodes { retry_after_secs: u64 },
    #[error("resend too soon")]
    ResendTooSoon { retry_after_secs: u64 },
    #[error("SMS limit reached ({rule})")]
    Limited {
        rule: &'static str,
        retry_after_secs: u64,
    },
    #[error("number already verified on another account")]
    PhoneTaken,
    #[error("the SMS factor is locked")]
    Locked,
    #[error("the SMS factor was locked by this failure")]
    JustLocked,
    #[error(transparent)]
    TwoFactor(#[from] super::two_factor::TwoFactorError),
    #[error(transparent)]
    Sms(#[from] SmsError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Entropy(#[from] EntropyError),
}

crate::server::db::service_error_from_sqlx!(OtpError);

impl From<sms_limits::LimitError> for OtpError {
    fn from(e: sms_limits::LimitError) -> Self {
        match e {
            sms_limits::LimitError::Limited {
                rule,
                retry_after_secs,
            } => Self::Limited {
                rule,
                retry_after_secs,
            },
            sms_limits::LimitError::Db(e) => Self::Db(e),
        }
    }
}

impl From<OtpError> for AppError {
    fn from(e: OtpError) -> Self {
        match e {
            OtpError::NoPending => AppError::NoPendingVerification,
            OtpError::Expired => AppError::CodeExpired,
            OtpError::Mismatch { attempts_left } => AppError::CodeMismatch { attempts_left },
            OtpError::Exhausted | OtpError::AlreadyExhausted => AppError::CodeAttemptsExhausted,
            OtpError::TooManyWrongCodes { retry_after_secs } => {
                AppError::RateLimited { retry_after_secs }
            }
            OtpError::ResendTooSoon { retry_after_secs } => {
                AppError::ResendTooSoon { retry_after_secs }
            }
            OtpError::Limited {
                rule,
                retry_after_secs,
            } => {
                tracing::warn!(rule, "SMS limit reached");
                AppError::SmsLimited { retry_after_secs }
            }
            OtpError::PhoneTaken => AppError::PhoneTaken,
            OtpError::Locked | OtpError::JustLocked => AppError::SmsLocked,
            OtpError::TwoFactor(e) => e.into(),
            // The development outbox is a table: when the database does not answer, that
            // is the database's 503 with Retry-After (SEC-8), not a gateway failure.
            OtpError::Sms(SmsError::Db(e)) => e.into(),
            OtpError::Sms(e) => {
                tracing::error!(error = %e, "SMS could not be sent");
                AppError::SmsFailed
            }
            OtpError::Db(e) => e.into(),
            OtpError::Entropy(e) => {
                tracing::error!(error = %e, "no randomness");
                AppError::Internal
            }
        }
    }
}

fn code_hash(
    state: &AppState,
    purpose: Purpose,
    user: UserId,
    phone: &PhoneNumber,
    code: &OtpCode,
) -> String {
    let bound = format!(
        "{}|{}|{}|{}",
        purpose.as_str(),
        user.0,
        phone.e164(),
        code.as_str()
    );
    state.secrets.keyed_hash("otp-code", bound.as_bytes())
}

fn new_code(state: &AppState) -> Result<OtpCode, EntropyError> {
    Ok(OtpCode::from_number(state.entropy.below(1_000_000)?))
}

/// The live verification of `user` for `purpose`, if any (an expired one is not live).
pub async fn pending(
    state: &AppState,
    user: UserId,
    purpose: Purpose,
    which: Which,
    now: Timestamp,
) -> Result<Option<Pending>, OtpError> {
    let mut conn = state.db.pool().acquire().await?;
    Ok(
        verifications::pending(&mut conn, user, purpose.as_str(), which)
            .await?
            .filter(|p| p.expires_at > now),
    )
}

/// Ends every pending verification of `user` for `purpose` (the dialog was closed, PH-9;
/// a sign-in locked or voided).
pub async fn abandon(state: &AppState, user: UserId, purpose: Purpose) -> Result<(), OtpError> {
    let mut conn = state.db.pool().acquire().await?;
    abandon_in(&mut conn, user, purpose).await?;
    Ok(())
}

/// [`abandon`] inside the caller's transaction.
pub async fn abandon_in(
    conn: &mut AnyConnection,
    user: UserId,
    purpose: Purpose,
) -> Result<(), DbError> {
    verifications::abandon_pending(conn, user, purpose.as_str(), None).await
}

/// The advisory lock that serialises send transactions across processes on PostgreSQL
/// (the SMS limits are global: every send must see the ones before it).
const SENDS_LOCK: &str = "sms-sends";

/// Whether a new verification may start, given the wrong entries `used` by the account's
/// verifications of the same number and purpose whose code was live within the last
/// `ttl` (a code's lifetime), the oldest of those codes sent at `oldest`: `Ok(entries the
/// new one starts with)`, or `Err(seconds until the oldest leaves the window)`.
pub fn restart(
    used: i64,
    oldest: Option<Timestamp>,
    now: Timestamp,
    ttl: Duration,
) -> Result<i64, u64> {
    if used < MAX_ATTEMPTS {
        return Ok(used.max(0));
    }
    let oldest = oldest.unwrap_or(now);
    Err(now.secs_until(oldest.plus(ttl)).max(1))
}

/// Sends the code; if the gateway fails, kills the verification, so that a failure leaves no
/// usable code (SMS-1). The send is taken back from the limits only when the gateway surely
/// did not send it (it refused the request as wrong: 400, 404, 422, see
/// `SmsError::surely_not_sent`): after a timeout, a 5xx or a broken
/// connection the SMS may have gone out and been billed, so it keeps counting (SEC-2), and a
/// gateway outage cannot be used to call the gateway without bound.
async fn deliver(
    state: &AppState,
    pending: &Pending,
    send_id: i64,
    code: &OtpCode,
    host: &str,
    now: Timestamp,
) -> Result<(), OtpError> {
    let body = code_message(
        &state.settings.service_name,
        code.as_str(),
        host,
        state.settings.code_ttl,
    );
    if let Err(e) = state.sms.send(&pending.phone, &body, now).await {
        let mut tx = state.db.pool().begin().await?;
        verifications::end(&mut tx, pending.id, "dead").await?;
        if e.surely_not_sent() {
            sms_sends::delete(&mut tx, send_id).await?;
        }
        tx.commit().await?;
        return Err(e.into());
    }
    Ok(())
}

/// Starts a verification of `phone` and sends its first code. Any earlier pending
/// phone verification of the account is abandoned once the new code is out.
pub async fn start(
    state: &AppState,
    user: UserId,
    purpose: Purpose,
    phone: &PhoneNumber,
    enable_two_factor: bool,
    requester: &Requester,
    now: Timestamp,
) -> Result<Pending, OtpError> {
    let code = new_code(state)?;
    let hash = code_hash(state, purpose, user, phone, &code);
    let mut tx = state.db.pool().begin().await?;
    db::lock_names(&mut tx, state.db.kind(), &[SENDS_LOCK]).await?;
    // Wrong entries of recent attempts at this number carry over (PH-6): each verification's
    // own entries (not the ones it inherited), of every verification that had a live code
    // in the last ten minutes.
    let (used, oldest) = verifications::recent_entries(
        &mut tx,
        user,
        purpose.as_str(),
        phone,
        now.minus(state.settings.code_ttl),
    )
    .await?;
    let attempts = restart(used, oldest, now, state.settings.code_ttl)
        .map_err(|retry_after_secs| OtpError::TooManyWrongCodes { retry_after_secs })?;
    let send_id = sms_limits::charge(
        &mut tx,
        &state.settings.sms_limits,
        purpose,
        user,
        phone,
        &requester.ip,
        now,
    )
    .await?;
    let expires_at = now.plus(state.settings.code_ttl);
    let id = verifications::insert(
        &mut tx,
        &verifications::NewVerification {
            user,
            purpose: purpose.as_str(),
            phone,
            code_hash: &hash,
            sent_at: now,
            expires_at,
            inherited: attempts,
            enable_two_factor,
        },
    )
    .await?;
    tx.commit().await?;
    let pending = Pending {
        id,
        phone: phone.clone(),
        code_sent_at: now,
        expires_at,
        enable_two_factor,
    };
    deliver(state, &pending, send_id, &code, &requester.host, now).await?;
    // Only now that the new code is out does the previous one die: a failed send leaves
    // the person with the code they already have (the newest pending row is the live one).
    // Sign-ins keep theirs: each browser's is its own (see `Which`).
    if purpose == Purpose::Phone {
        let mut conn = state.db.pool().acquire().await?;
        verifications::abandon_pending(&mut conn, user, purpose.as_str(), Some(pending.id)).await?;
    }
    tracing::info!(user = user.0, purpose = purpose.as_str(), to = %phone.masked(), "verification started");
    Ok(pending)
}

/// Sends a new code for the pending verification (PH-7): the old code dies, the count of
/// wrong entries stays, and the cooldown and limits apply.
pub async fn resend(
    state: &AppState,
    user: UserId,
    purpose: Purpose,
    which: Which,
    requester: &Requester,
    now: Timestamp,
) -> Result<Pending, OtpError> {
    let mut tx = state.db.pool().begin().await?;
    db::lock_names(&mut tx, state.db.kind(), &[SENDS_LOCK]).await?;
    let pending = verifications::pending(&mut tx, user, purpose.as_str(), which)
        .await?
        .ok_or(OtpError::NoPending)?;
    if pending.expires_at <= now {
        verifications::end(&mut tx, pending.id, "dead").await?;
        tx.commit().await?;
        return Err(OtpError::Expired);
    }
    let limits = &state.settings.sms_limits;
    let available = pending.resend_available_at(limits);
    if available > now {
        return Err(OtpError::ResendTooSoon {
            retry_after_secs: now.secs_until(available),
        });
    }
    let send_id = sms_limits::charge(
        &mut tx,
        limits,
        purpose,
        user,
        &pending.phone,
        &requester.ip,
        now,
    )
    .await?;
    let code = new_code(state)?;
    let expires_at = now.plus(state.settings.code_ttl);
    let hash = code_hash(state, purpose, user, &pending.phone, &code);
    verifications::replace_code(&mut tx, pending.id, &hash, now, expires_at).await?;
    tx.commit().await?;
    let pending = Pending {
        code_sent_at: now,
        expires_at,
        ..pending
    };
    deliver(state, &pending, send_id, &code, &requester.host, now).await?;
    Ok(pending)
}

/// Checks a code against the pending verification. On success the verification is still
/// pending: the caller consumes it with [`consume`] in the transaction that acts on it.
pub async fn check(
    state: &AppState,
    user: UserId,
    purpose: Purpose,
    which: Which,
    code: &OtpCode,
    now: Timestamp,
) -> Result<Pending, OtpError> {
    let mut conn = state.db.pool().acquire().await?;
    let pending = verifications::pending(&mut conn, user, purpose.as_str(), which)
        .await?
        .ok_or(OtpError::NoPending)?;
    if pending.expires_at <= now {
        verifications::end(&mut conn, pending.id, "dead").await?;
        return Err(OtpError::Expired);
    }
    // Reserve one entry, against this verification's five and against the five that all of
    // the account's recent verifications of this number and purpose share (PH-6, see
    // `restart`): sign-ins started side by side do not get five each. On PostgreSQL the
    // account's row is locked first, so that guesses at two verifications cannot both take
    // the last shared entry; SQLite's single connection serialises them anyway.
    let window = now.minus(state.settings.code_ttl);
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    users::lock_row(&mut tx, state.db.kind(), user).await?;
    let reserved = verifications::reserve_entry(
        &mut tx,
        &pending,
        user,
        purpose.as_str(),
        MAX_ATTEMPTS,
        window,
    )
    .await?;
    let (shared_used, oldest) =
        verifications::recent_entries(&mut tx, user, purpose.as_str(), &pending.phone, window)
            .await?;
    tx.commit().await?;
    let Some((used, stored)) = reserved else {
        // All five entries of this verification are used, or the five shared ones, or the
        // verification stopped being pending (used, resent elsewhere, abandoned) since it
        // was loaded.
        let (state_now, attempts) = verifications::state_of(&mut conn, pending.id).await?;
        let still_pending = state_now == "pending";
        if still_pending && attempts >= MAX_ATTEMPTS {
            verifications::end(&mut conn, pending.id, "dead").await?;
            return Err(OtpError::AlreadyExhausted);
        }
        if still_pending {
            let retry_after_secs = restart(shared_used, oldest, now, state.settings.code_ttl)
                .err()
                .unwrap_or(1);
            return Err(OtpError::TooManyWrongCodes { retry_after_secs });
        }
        return Err(OtpError::NoPending);
    };
    let given = code_hash(state, purpose, user, &pending.phone, code);
    if bool::from(given.as_bytes().ct_eq(stored.as_bytes())) {
        return Ok(pending);
    }
    let left = MAX_ATTEMPTS - used.max(shared_used);
    if left <= 0 {
        verifications::end(&mut conn, pending.id, "dead").await?;
        return Err(OtpError::Exhausted);
    }
    Err(OtpError::Mismatch {
        attempts_left: u32::try_from(left).unwrap_or(0),
    })
}

/// Marks a checked verification used. `false` when another request used it first.
pub async fn consume(conn: &mut AnyConnection, id: i64) -> Result<bool, DbError> {
    verifications::consume(conn, id).await
}

/// Makes a consumed verification pending again (the sign-in it allowed failed afterwards),
/// and gives back the entry the right code took.
pub async fn unconsume(state: &AppState, id: i64) -> Result<(), OtpError> {
    Ok(verifications::unconsume(&state.db, id).await?)
}

/// Marks a verification dead (used when the action it allowed could not be done).
pub async fn kill(state: &AppState, id: i64) -> Result<(), OtpError> {
    let mut conn = state.db.pool().acquire().await?;
    verifications::end(&mut conn, id, "dead").await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starting_over_keeps_the_wrong_entries_of_the_last_ten_minutes() {
        let t = Timestamp(50_000_000);
        assert_eq!(restart(0, None, t, CODE_TTL), Ok(0));
        assert_eq!(
            restart(3, Some(t), t, CODE_TTL),
            Ok(3),
            "two entries left, not five"
        );
        assert_eq!(
            restart(5, Some(t), t.plus(Duration::from_secs(60)), CODE_TTL),
            Err(540),
            "all five used: wait until the oldest attempt is ten minutes old"
        );
        assert_eq!(restart(7, Some(t), t.plus(CODE_TTL), CODE_TTL), Err(1));
    }

    #[test]
    fn an_outbox_the_database_cannot_write_is_unavailable_not_a_gateway_failure() {
        let outbox = OtpError::Sms(SmsError::Db(DbError::Sqlx(sqlx::Error::PoolTimedOut)));
        assert!(matches!(
            AppError::from(outbox),
            AppError::Unavailable { .. }
        ));
        assert_eq!(
            AppError::from(OtpError::Sms(SmsError::Timeout)),
            AppError::SmsFailed
        );
    }
}
