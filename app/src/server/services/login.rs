//! Signing in with the second factor (LG-1..LG-4, SEC-1).
//!
//! ```text
//!                   right password
//!  PasswordRequired ─────────────▶ two-factor off, or a remembered browser ─▶ Authenticated
//!         ▲                        │
//!         │                        └▶ SmsCodeSent (pending sign-in, 10 min, not a session
//!         │                             │            of the account; code by SMS)
//!         │   5 wrong codes, or 10 min  │ right code, or an unused recovery code
//!         └─────────────────────────────┴──────────────────────────────────▶ Authenticated
//! ```
//!
//! With an authenticator app set, the second step asks for the app's code first and sends
//! no SMS (`LoginStep::SecondFactor(Factor::App)`, MFA-3); `別の方法を使う` switches to the
//! SMS code above. The app's own rules are in `authenticator`.
//!
//! Lockout (NIST SP 800-63B §5.2.2, "rate limiting"): wrong second-factor codes (SMS and
//! app alike) are counted per account across pending sign-ins. At 100 in a row the second
//! factor is locked: no more codes are sent or accepted for the account. Only someone who knows the password can get
//! that far, and the lock never keeps the owner out for good: it ends by itself after
//! [`SMS_LOCK_FOR`], and a sign-in from a remembered browser lifts it at once. Both keep the
//! count, so that after them one more wrong code locks again (the guesser gets one try a
//! day, not a fresh hundred); only a right code or a recovery code clears the count.
//!
//! ```text
//!            100th wrong code                       24 h pass / remembered browser
//!   open ───────────────────────▶ locked ───────────────────────────────▶ open (count kept)
//!    ▲                               │                                       │
//!    └──── right code / recovery code (count cleared) ◀──────────────────────┘
//! ```

use std::time::Duration;

use super::otp::{self, OtpError, Pending, Purpose, Requester, Which};
use super::{accounts, devices, hashing, throttle};
use crate::domain::mask::mask_email;
use crate::domain::{Factor, OtpCode, PhoneNumber, Timestamp};
use crate::error::AppError;
use crate::server::AppState;
use crate::server::cookies::BrowserToken;
use crate::server::db::{self, DbError, users, users::UserId};

/// How long a pending sign-in lasts (LG-1).
pub const PENDING_TTL: Duration = Duration::from_secs(10 * 60);
/// Consecutive wrong codes that lock the SMS factor (SEC-1).
pub const LOCK_AFTER: i64 = 100;
/// How long a lock lasts when nothing lifts it sooner.
pub const SMS_LOCK_FOR: Duration = Duration::from_secs(24 * 3600);

/// Whether the wrong code that brought the account's count of consecutive wrong codes (SMS
/// and app alike) to `failures` locks the second factor. The count itself is kept by one
/// atomic UPDATE (`users::reserve_second_factor_failure`, which sets the lock with the
/// same threshold); this is the rule the services act on.
pub fn locks_at(failures: i64) -> bool {
    failures >= LOCK_AFTER
}

/// Whether a lock set at `locked_at` still holds at `now`.
pub fn sms_lock_holds(locked_at: Option<Timestamp>, now: Timestamp) -> bool {
    locked_at.is_some_and(|at| at.plus(SMS_LOCK_FOR) > now)
}

/// What the first step brings, read off the request. (No `Debug`: it holds the password.)
pub struct PasswordSignIn<'a> {
    /// As typed; an address that is no email is refused like a wrong password.
    pub email: &'a str,
    pub password: String,
    /// The known-device cookie as sent: it only picks the throttle's scope (SEC-1).
    pub device_cookie: Option<&'a str>,
    /// The remembered-browser cookie as sent (LG-4).
    pub browser_cookie: Option<&'a str>,
    /// The client's address key and the host for the code's SMS.
    pub requester: &'a Requester,
}

/// A right password: whose, and what comes next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordAccepted {
    pub user: UserId,
    /// When the password was last set (for a known-device token, `devices::issue`).
    pub password_changed_at: Option<Timestamp>,
    /// The browser was not yet a known device of the account: it may be made one.
    pub new_device: bool,
    pub next: LoginStep,
}

/// Where a right password leads. The server function turns it into a session and a
/// redirect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginStep {
    /// Two-factor is off, or this browser is remembered for the account: signed in.
    SignedIn,
    /// The second step (LG-1), asking first for the strongest factor the account has
    /// (MFA-3). The server function starts the pending sign-in in the session, then, for
    /// SMS, sends the code with [`send_first_code`] — in that order, so that a session that
    /// cannot be written costs no SMS. An app code needs nothing sent.
    SecondFactor(Factor),
}

/// The first step of a sign-in (LG-1, SEC-1): the attempt is turned away at once when the
/// hashing pool is full, counted by the throttle before it is judged, checked on the pool,
/// and on a right password taken back from the count; then two-factor (and a remembered
/// browser, LG-4) decides the next step.
pub async fn sign_in(
    state: &AppState,
    input: PasswordSignIn<'_>,
    now: Timestamp,
) -> Result<PasswordAccepted, AppError> {
    hashing::hashing_room(state)?;
    // A browser where this account signed in before counts on its own, so strangers
    // cannot slow it.
    let device = match input.device_cookie {
        Some(token) => devices::recognise(state, input.email, token).await?,
        None => None,
    };
    let claimant = match &device {
        Some(id) => throttle::Claimant::KnownDevice(id),
        None => throttle::Claimant::Address(&input.requester.ip),
    };
    let scopes = throttle::login_scopes(&state.settings, input.email, claimant);
    let attempt = throttle::begin_attempt(state, &scopes, now).await?;
    let (slot, attempt) = hashing::hashing_place(state, attempt).await?;
    let account = match accounts::authenticate(state, slot, input.email, input.password).await {
        Ok(account) => account,
        Err(e) => {
            tracing::info!(email = %mask_email(input.email.trim()), "sign-in refused");
            return Err(e.into());
        }
    };
    throttle::succeeded(state, attempt).await?;
    let new_device = device.is_none();
    let user = account.user;
    // Read now, after the hash, not with the password's row before it: two-factor turned
    // on while a sign-in's argon2 ran (tens of milliseconds) must still ask that sign-in
    // for the second factor. Turning it on ends the sessions that exist; this read keeps
    // the window in which one can be created without it as short as it can be.
    let factors = {
        let mut conn = state.db.pool().acquire().await.map_err(DbError::from)?;
        users::second_factor(&mut conn, user).await?
    };
    let two_factor_on = factors.two_factor_enabled_at.is_some();
    let next = if needs_second_factor(state, user, two_factor_on, input.browser_cookie, now).await?
    {
        LoginStep::SecondFactor(Factor::strongest(factors.passkeys > 0, factors.has_app))
    } else {
        LoginStep::SignedIn
    };
    Ok(PasswordAccepted {
        user,
        password_changed_at: account.password_changed_at,
        new_device,
        next,
    })
}

/// What the second step needs to show.
#[derive(Debug, Clone)]
pub struct Challenge {
    pub phone: PhoneNumber,
    pub pending: Option<Pending>,
    pub sms_locked: bool,
    /// The account has an authenticator app (MFA-3: `別の方法を使う` offers it).
    pub has_app: bool,
    /// The account has a passkey (likewise).
    pub has_passkey: bool,
}

async fn phone_and_lock(
    state: &AppState,
    user: UserId,
    now: Timestamp,
) -> Result<(PhoneNumber, bool), OtpError> {
    let (phone, locked, _) = phone_lock_and_factors(state, user, now).await?;
    Ok((phone, locked))
}

/// The registered number, whether the second factor is locked, and the rest of the
/// account's two-factor columns (which other factors it has), from one query.
async fn phone_lock_and_factors(
    state: &AppState,
    user: UserId,
    now: Timestamp,
) -> Result<(PhoneNumber, bool, users::SecondFactor), OtpError> {
    let columns = {
        let mut conn = state.db.pool().acquire().await?;
        users::second_factor(&mut conn, user).await?
    };
    let phone = columns
        .phone_e164
        .as_deref()
        .map(db::stored_phone)
        .transpose()?
        .ok_or(OtpError::NoPending)?;
    let locked = lock_holds(state, user, columns.sms_locked_at, now).await?;
    Ok((phone, locked, columns))
}

/// Whether a lock set at `locked_at` still holds; one that has run out is lifted (only that
/// one, not a newer one set meanwhile).
async fn lock_holds(
    state: &AppState,
    user: UserId,
    locked_at: Option<Timestamp>,
    now: Timestamp,
) -> Result<bool, DbError> {
    if let Some(at) = locked_at
        && !sms_lock_holds(locked_at, now)
    {
        users::lift_sms_lock(&state.db, user, Some(at)).await?;
        return Ok(false);
    }
    Ok(locked_at.is_some())
}

/// Whether the account's second factor is locked at `now` (SEC-1): the one lock covers SMS
/// and authenticator-app codes alike.
pub async fn second_factor_locked(
    state: &AppState,
    user: UserId,
    now: Timestamp,
) -> Result<bool, DbError> {
    let locked_at = {
        let mut conn = state.db.pool().acquire().await?;
        users::second_factor(&mut conn, user).await?.sms_locked_at
    };
    lock_holds(state, user, locked_at, now).await
}

/// Lifts the lock, keeping the count of wrong codes (a sign-in from a remembered browser).
pub async fn lift_lock(state: &AppState, user: UserId) -> Result<(), DbError> {
    users::lift_sms_lock(&state.db, user, None).await
}

/// Sends the sign-in code, unless the SMS factor is locked.
pub async fn send_code(
    state: &AppState,
    user: UserId,
    requester: &Requester,
    now: Timestamp,
) -> Result<Pending, OtpError> {
    let (phone, locked) = phone_and_lock(state, user, now).await?;
    if locked {
        return Err(OtpError::Locked);
    }
    otp::start(state, user, Purpose::Login, &phone, false, requester, now).await
}

/// Sends the code of a pending sign-in just started; the verification's id, or `None` when
/// it did not go out (a limit, the lock, the gateway: logged). The code page then offers to
/// resend and the recovery codes.
pub async fn send_first_code(
    state: &AppState,
    user: UserId,
    requester: &Requester,
    now: Timestamp,
) -> Option<i64> {
    match send_code(state, user, requester, now).await {
        Ok(pending) => Some(pending.id),
        Err(e) => {
            tracing::warn!(user = user.0, error = %e, "sign-in code not sent");
            None
        }
    }
}

/// Sends a new code for this browser's verification `id` (its session holds it).
pub async fn resend_code(
    state: &AppState,
    user: UserId,
    id: i64,
    requester: &Requester,
    now: Timestamp,
) -> Result<Pending, OtpError> {
    if phone_and_lock(state, user, now).await?.1 {
        return Err(OtpError::Locked);
    }
    otp::resend(state, user, Purpose::Login, Which::Id(id), requester, now).await
}

/// The code page of the browser whose session holds verification `id` (none: no code went out).
pub async fn challenge(
    state: &AppState,
    user: UserId,
    id: Option<i64>,
    now: Timestamp,
) -> Result<Challenge, OtpError> {
    let (phone, sms_locked, factors) = phone_lock_and_factors(state, user, now).await?;
    let pending = match id {
        Some(id) => otp::pending(state, user, Purpose::Login, Which::Id(id), now).await?,
        None => None,
    };
    Ok(Challenge {
        phone,
        pending,
        sms_locked,
        has_app: factors.has_app,
        has_passkey: factors.passkeys > 0,
    })
}

/// The verification `sent` (this browser's last sign-in code), if its code is still live.
pub async fn live_code(
    state: &AppState,
    user: UserId,
    sent: Option<i64>,
    now: Timestamp,
) -> Result<Option<i64>, OtpError> {
    match sent {
        Some(id) => Ok(
            otp::pending(state, user, Purpose::Login, Which::Id(id), now)
                .await?
                .map(|p| p.id),
        ),
        None => Ok(None),
    }
}

/// Checks a sign-in code. Wrong codes count toward the lock. A right one is consumed; its
/// verification's id is returned so that [`unspend`] can give it back if the sign-in then
/// fails.
pub async fn verify_code(
    state: &AppState,
    user: UserId,
    id: Option<i64>,
    code: &OtpCode,
    now: Timestamp,
) -> Result<i64, OtpError> {
    if phone_and_lock(state, user, now).await?.1 {
        return Err(OtpError::Locked);
    }
    // No code went out to this browser (the send failed): nothing to check against.
    let id = id.ok_or(OtpError::NoPending)?;
    // Reserve one failure on the account before judging, and lock at the hundredth, in one
    // statement: parallel wrong codes cannot slip past the lock, and a lock lifted a moment
    // ago holds again at the first wrong code. A guess that is right, or that is not
    // judged, gives its reservation back.
    let Some(failures) =
        users::reserve_second_factor_failure(&state.db, user, LOCK_AFTER, now).await?
    else {
        return Err(OtpError::Locked);
    };
    match otp::check(state, user, Purpose::Login, Which::Id(id), code, now).await {
        Ok(pending) => {
            let mut tx = state.db.pool().begin().await?;
            if !otp::consume(&mut tx, pending.id).await? {
                tx.rollback().await?;
                release(state, user).await?;
                return Err(OtpError::NoPending);
            }
            users::clear_second_factor_failures(&mut tx, user).await?;
            tx.commit().await?;
            Ok(pending.id)
        }
        Err(e @ (OtpError::Mismatch { .. } | OtpError::Exhausted)) => {
            if locks_at(failures) {
                otp::abandon(state, user, Purpose::Login).await?;
                tracing::warn!(
                    user = user.0,
                    failures,
                    "SMS factor locked after consecutive failures"
                );
                return Err(OtpError::JustLocked);
            }
            Err(e)
        }
        Err(e) => {
            release(state, user).await?;
            Err(e)
        }
    }
}

/// What a refused sign-in code does to the pending sign-in (LG-2, SEC-1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A wrong code with entries left, or one that was not judged: the sign-in goes on.
    Stays(AppError),
    /// Five wrong codes, or the code's ten minutes are over: back to the password, and
    /// the message says so rather than offering to resend.
    EndsPending(AppError),
    /// This guess locked the SMS factor (to be recorded in the history); a recovery code
    /// still works.
    Locked,
}

/// The rule behind [`Refusal`], for an error of [`verify_code`].
pub fn refusal(e: OtpError) -> Refusal {
    match e {
        OtpError::JustLocked => Refusal::Locked,
        OtpError::Expired => Refusal::EndsPending(AppError::SignInCodeExpired),
        OtpError::Exhausted | OtpError::AlreadyExhausted => {
            Refusal::EndsPending(AppError::SignInCodeExhausted)
        }
        other => Refusal::Stays(other.into()),
    }
}

/// Gives back a failure reserved for a guess that was not judged (or was right).
pub(super) async fn release(state: &AppState, user: UserId) -> Result<(), DbError> {
    users::release_second_factor_failure(&state.db, user, LOCK_AFTER).await
}

/// Gives back a code consumed by a sign-in that then failed (SEC-6): it is pending again,
/// until its own expiry, as if it had never been entered.
pub async fn unspend(state: &AppState, verification: i64) -> Result<(), OtpError> {
    otp::unconsume(state, verification).await
}

/// Ends the pending sign-in's code (the person went back to the password).
pub async fn abandon(state: &AppState, user: UserId) -> Result<(), OtpError> {
    otp::abandon(state, user, Purpose::Login).await
}

/// Whether a right password must be followed by a second factor: two-factor is on and this
/// browser is not remembered for the account (LG-4).
pub async fn needs_second_factor(
    state: &AppState,
    user: UserId,
    two_factor_on: bool,
    browser_token: Option<&str>,
    now: Timestamp,
) -> Result<bool, DbError> {
    if !two_factor_on {
        return Ok(false);
    }
    // A cookie that is not a token's shape is no token: nothing to hash or look up.
    let remembered = match browser_token.and_then(BrowserToken::parse) {
        Some(token) => super::browsers::recognise(state, user, &token, now).await?,
        None => false,
    };
    if remembered {
        // The owner's own browser: whatever lock strangers with the password ran into
        // does not outlive it (SEC-1).
        lift_lock(state, user).await?;
    }
    Ok(!remembered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_wrong_codes_or_an_expired_one_end_the_pending_sign_in() {
        assert_eq!(
            refusal(OtpError::Exhausted),
            Refusal::EndsPending(AppError::SignInCodeExhausted)
        );
        assert_eq!(
            refusal(OtpError::AlreadyExhausted),
            Refusal::EndsPending(AppError::SignInCodeExhausted)
        );
        assert_eq!(
            refusal(OtpError::Expired),
            Refusal::EndsPending(AppError::SignInCodeExpired)
        );
        assert_eq!(refusal(OtpError::JustLocked), Refusal::Locked);
        assert_eq!(
            refusal(OtpError::Mismatch { attempts_left: 2 }),
            Refusal::Stays(AppError::CodeMismatch { attempts_left: 2 })
        );
        assert_eq!(
            refusal(OtpError::Locked),
            Refusal::Stays(AppError::SmsLocked),
            "a guess after the lock was not judged: the recovery code is still offered"
        );
    }

    #[test]
    fn the_hundredth_wrong_code_in_a_row_locks_and_none_before() {
        assert!(!locks_at(1));
        assert!(!locks_at(LOCK_AFTER - 1));
        assert!(locks_at(LOCK_AFTER));
        // After a lock ran out, the count is kept: the next wrong code locks again.
        assert!(locks_at(LOCK_AFTER + 1));
    }

    #[test]
    fn a_lock_ends_by_itself_after_a_day() {
        let at = Timestamp(1_000_000);
        assert!(!sms_lock_holds(None, at));
        assert!(sms_lock_holds(Some(at), at));
        assert!(sms_lock_holds(
            Some(at),
            at.plus(SMS_LOCK_FOR).minus(Duration::from_millis(1))
        ));
        assert!(!sms_lock_holds(Some(at), at.plus(SMS_LOCK_FOR)));
    }
}
