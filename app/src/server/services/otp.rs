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
//!
//! Every send first passes the limits (per number per hour and per day, per account per
//! day, per IP per hour, a global hourly ceiling) inside the same transaction that records
//! it; on PostgreSQL an advisory lock serialises those transactions across processes.

use std::time::Duration;

use sqlx::{AnyConnection, Row};
use subtle::ConstantTimeEq;

use crate::domain::{OtpCode, PhoneNumber, Timestamp};
use crate::error::AppError;
use crate::server::db::{DbError, DbKind, users::UserId};
use crate::server::entropy::EntropyError;
use crate::server::sms::{SmsError, code_message};
use crate::server::{AppState, SmsLimits};

/// How long a code is valid (PH-6).
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
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Phone => "phone",
            Purpose::Login => "login",
        }
    }
}

/// Who asked for a code, for the per-IP limit and the WebOTP line.
#[derive(Debug, Clone, Copy)]
pub struct Requester<'a> {
    pub ip: &'a str,
    /// The host the person sees in the address bar (no port), for `@host #code`.
    pub host: &'a str,
}

/// A verification waiting for its code.
#[derive(Debug, Clone)]
pub struct Pending {
    pub id: i64,
    pub phone: PhoneNumber,
    pub code_sent_at: Timestamp,
    pub expires_at: Timestamp,
    pub enable_two_factor: bool,
}

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

impl From<sqlx::Error> for OtpError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e.into())
    }
}

impl From<OtpError> for AppError {
    fn from(e: OtpError) -> Self {
        match e {
            OtpError::NoPending => AppError::NoPendingVerification,
            OtpError::Expired => AppError::CodeExpired,
            OtpError::Mismatch { attempts_left } => AppError::CodeMismatch { attempts_left },
            OtpError::Exhausted => AppError::CodeAttemptsExhausted,
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

fn from_row(row: &sqlx::any::AnyRow) -> Result<Pending, DbError> {
    let e164: String = row.try_get("phone_e164")?;
    Ok(Pending {
        id: row.try_get("id")?,
        phone: PhoneNumber::from_e164(&e164)
            .map_err(|e| DbError::Corrupt(format!("stored phone number: {e}")))?,
        code_sent_at: Timestamp(row.try_get("code_sent_at")?),
        expires_at: Timestamp(row.try_get("expires_at")?),
        enable_two_factor: row.try_get::<i64, _>("enable_two_factor")? != 0,
    })
}

/// Which pending verification a step is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// The account's newest for the purpose: the phone dialog has one attempt at a time.
    Newest,
    /// One by id: each browser signing in has its own (its session holds the id), so two
    /// sign-ins neither kill nor share each other's codes and attempts.
    Id(i64),
}

async fn load_pending(
    conn: &mut AnyConnection,
    user: UserId,
    purpose: Purpose,
    which: Which,
) -> Result<Option<Pending>, OtpError> {
    let query = match which {
        Which::Newest => sqlx::query(const_str::NEWEST),
        Which::Id(id) => sqlx::query(const_str::BY_ID).bind(id),
    };
    let row = query
        .bind(user.0)
        .bind(purpose.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

mod const_str {
    pub const NEWEST: &str = "SELECT id, phone_e164, code_sent_at, expires_at, enable_two_factor FROM verifications \
         WHERE user_id = $1 AND purpose = $2 AND state = 'pending' ORDER BY id DESC LIMIT 1";
    pub const BY_ID: &str = "SELECT id, phone_e164, code_sent_at, expires_at, enable_two_factor FROM verifications \
         WHERE id = $1 AND user_id = $2 AND purpose = $3 AND state = 'pending'";
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
    Ok(load_pending(&mut conn, user, purpose, which)
        .await?
        .filter(|p| p.expires_at > now))
}

async fn set_state(conn: &mut AnyConnection, id: i64, state: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE verifications SET state = $1 WHERE id = $2 AND state = 'pending'")
        .bind(state)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
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
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE verifications SET state = 'abandoned' \
         WHERE user_id = $1 AND purpose = $2 AND state = 'pending'",
    )
    .bind(user.0)
    .bind(purpose.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

/// Serialises send transactions across processes on PostgreSQL. SQLite runs on one
/// connection, which serialises them already.
async fn lock_sends(state: &AppState, conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
    if state.db.kind() == DbKind::Postgres {
        sqlx::query("SELECT 1 AS locked FROM (SELECT pg_advisory_xact_lock(7243001)) AS l")
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Refuses the send if any limit is reached; otherwise records it. Returns the row id so a
/// failed send can be taken back.
async fn record_send(
    conn: &mut AnyConnection,
    limits: &SmsLimits,
    user: UserId,
    phone: &PhoneNumber,
    ip: &str,
    now: Timestamp,
) -> Result<i64, OtpError> {
    const HOUR: Duration = Duration::from_secs(3600);
    const DAY: Duration = Duration::from_secs(24 * 3600);
    enum Scope<'a> {
        Number(&'a str),
        Account(i64),
        Ip(&'a str),
        Everyone,
    }
    let rules = [
        (
            "per number per hour",
            Scope::Number(phone.e164()),
            HOUR,
            limits.per_number_hour,
        ),
        (
            "per number per day",
            Scope::Number(phone.e164()),
            DAY,
            limits.per_number_day,
        ),
        (
            "per account per day",
            Scope::Account(user.0),
            DAY,
            limits.per_account_day,
        ),
        ("per IP per hour", Scope::Ip(ip), HOUR, limits.per_ip_hour),
        ("global per hour", Scope::Everyone, HOUR, limits.global_hour),
    ];
    for (rule, scope, window, limit) in rules {
        let since = now.minus(window).as_millis();
        let query = match scope {
            Scope::Number(n) => sqlx::query(
                "SELECT COUNT(*) AS n, MIN(sent_at) AS oldest FROM sms_sends WHERE sent_at > $1 AND phone_e164 = $2",
            )
            .bind(since)
            .bind(n),
            Scope::Account(id) => sqlx::query(
                "SELECT COUNT(*) AS n, MIN(sent_at) AS oldest FROM sms_sends WHERE sent_at > $1 AND user_id = $2",
            )
            .bind(since)
            .bind(id),
            Scope::Ip(ip) => {
                sqlx::query("SELECT COUNT(*) AS n, MIN(sent_at) AS oldest FROM sms_sends WHERE sent_at > $1 AND ip = $2")
                    .bind(since)
                    .bind(ip)
            }
            Scope::Everyone => {
                sqlx::query("SELECT COUNT(*) AS n, MIN(sent_at) AS oldest FROM sms_sends WHERE sent_at > $1").bind(since)
            }
        };
        let row = query.fetch_one(&mut *conn).await?;
        let count: i64 = row.try_get("n")?;
        if count >= i64::from(limit) {
            let oldest = row
                .try_get::<Option<i64>, _>("oldest")?
                .map(Timestamp)
                .unwrap_or(now);
            let retry_after_secs = now.secs_until(oldest.plus(window)).max(1);
            return Err(OtpError::Limited {
                rule,
                retry_after_secs,
            });
        }
    }
    let row = sqlx::query("INSERT INTO sms_sends (user_id, phone_e164, ip, sent_at) VALUES ($1, $2, $3, $4) RETURNING id")
        .bind(user.0)
        .bind(phone.e164())
        .bind(ip)
        .bind(now.as_millis())
        .fetch_one(&mut *conn)
        .await?;
    Ok(row.try_get("id")?)
}

/// Sends the code; if the gateway fails, kills the verification and takes the send back
/// from the limits, so that a failure leaves no usable code and costs the person nothing.
async fn deliver(
    state: &AppState,
    pending: &Pending,
    send_id: i64,
    code: &OtpCode,
    host: &str,
    now: Timestamp,
) -> Result<(), OtpError> {
    let body = code_message(code.as_str(), host);
    if let Err(e) = state.sms.send(&pending.phone, &body, now).await {
        let mut tx = state.db.pool().begin().await?;
        set_state(&mut tx, pending.id, "dead").await?;
        sqlx::query("DELETE FROM sms_sends WHERE id = $1")
            .bind(send_id)
            .execute(&mut *tx)
            .await?;
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
    requester: Requester<'_>,
    now: Timestamp,
) -> Result<Pending, OtpError> {
    let code = new_code(state)?;
    let hash = code_hash(state, purpose, user, phone, &code);
    let mut tx = state.db.pool().begin().await?;
    lock_sends(state, &mut tx).await?;
    let send_id = record_send(
        &mut tx,
        &state.settings.sms_limits,
        user,
        phone,
        requester.ip,
        now,
    )
    .await?;
    let expires_at = now.plus(CODE_TTL);
    let row = sqlx::query(
        "INSERT INTO verifications \
         (user_id, purpose, phone_e164, code_hash, code_sent_at, expires_at, attempts, state, enable_two_factor, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 0, 'pending', $7, $5) RETURNING id",
    )
    .bind(user.0)
    .bind(purpose.as_str())
    .bind(phone.e164())
    .bind(hash)
    .bind(now.as_millis())
    .bind(expires_at.as_millis())
    .bind(i64::from(enable_two_factor))
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    let pending = Pending {
        id: row.try_get("id")?,
        phone: phone.clone(),
        code_sent_at: now,
        expires_at,
        enable_two_factor,
    };
    deliver(state, &pending, send_id, &code, requester.host, now).await?;
    // Only now that the new code is out does the previous one die: a failed send leaves
    // the person with the code they already have (the newest pending row is the live one).
    // Sign-ins keep theirs: each browser's is its own (see `Which`).
    if purpose == Purpose::Phone {
        sqlx::query(
            "UPDATE verifications SET state = 'abandoned' \
             WHERE user_id = $1 AND purpose = $2 AND state = 'pending' AND id <> $3",
        )
        .bind(user.0)
        .bind(purpose.as_str())
        .bind(pending.id)
        .execute(state.db.pool())
        .await?;
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
    requester: Requester<'_>,
    now: Timestamp,
) -> Result<Pending, OtpError> {
    let mut tx = state.db.pool().begin().await?;
    lock_sends(state, &mut tx).await?;
    let pending = load_pending(&mut tx, user, purpose, which)
        .await?
        .ok_or(OtpError::NoPending)?;
    if pending.expires_at <= now {
        set_state(&mut tx, pending.id, "dead").await?;
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
    let send_id = record_send(&mut tx, limits, user, &pending.phone, requester.ip, now).await?;
    let code = new_code(state)?;
    let expires_at = now.plus(CODE_TTL);
    sqlx::query("UPDATE verifications SET code_hash = $1, code_sent_at = $2, expires_at = $3 WHERE id = $4 AND state = 'pending'")
        .bind(code_hash(state, purpose, user, &pending.phone, &code))
        .bind(now.as_millis())
        .bind(expires_at.as_millis())
        .bind(pending.id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    let pending = Pending {
        code_sent_at: now,
        expires_at,
        ..pending
    };
    deliver(state, &pending, send_id, &code, requester.host, now).await?;
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
    let pending = load_pending(&mut conn, user, purpose, which)
        .await?
        .ok_or(OtpError::NoPending)?;
    if pending.expires_at <= now {
        set_state(&mut conn, pending.id, "dead").await?;
        return Err(OtpError::Expired);
    }
    // Reserve one entry; no row means all five are used.
    let reserved = sqlx::query(
        "UPDATE verifications SET attempts = attempts + 1 \
         WHERE id = $1 AND state = 'pending' AND attempts < $2 RETURNING attempts, code_hash",
    )
    .bind(pending.id)
    .bind(MAX_ATTEMPTS)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(reserved) = reserved else {
        // Either all five entries are used, or the verification stopped being pending
        // (used, resent elsewhere, abandoned) since it was loaded.
        let row = sqlx::query("SELECT state, attempts FROM verifications WHERE id = $1")
            .bind(pending.id)
            .fetch_one(&mut *conn)
            .await?;
        let still_pending = row.try_get::<String, _>("state")? == "pending";
        if still_pending && row.try_get::<i64, _>("attempts")? >= MAX_ATTEMPTS {
            set_state(&mut conn, pending.id, "dead").await?;
            return Err(OtpError::Exhausted);
        }
        return Err(OtpError::NoPending);
    };
    let used: i64 = reserved.try_get("attempts")?;
    let stored: String = reserved.try_get("code_hash")?;
    let given = code_hash(state, purpose, user, &pending.phone, code);
    if bool::from(given.as_bytes().ct_eq(stored.as_bytes())) {
        return Ok(pending);
    }
    let left = MAX_ATTEMPTS - used;
    if left <= 0 {
        set_state(&mut conn, pending.id, "dead").await?;
        return Err(OtpError::Exhausted);
    }
    Err(OtpError::Mismatch {
        attempts_left: u32::try_from(left).unwrap_or(0),
    })
}

/// Marks a checked verification used. `false` when another request used it first.
pub async fn consume(conn: &mut AnyConnection, id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE verifications SET state = 'verified' WHERE id = $1 AND state = 'pending'",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks a verification dead (used when the action it allowed could not be done).
pub async fn kill(state: &AppState, id: i64) -> Result<(), OtpError> {
    let mut conn = state.db.pool().acquire().await?;
    set_state(&mut conn, id, "dead").await?;
    Ok(())
}
