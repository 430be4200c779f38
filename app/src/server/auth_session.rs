//! What a signed-in session holds, and the two moments it changes: signing in (the session
//! id is rotated, ACC-3) and signing out (the session is destroyed on the server).

use tower_sessions::Session;

use crate::domain::Timestamp;
use crate::error::AppError;
use crate::server::db::users::UserId;

/// The session key holding the account id. The session store copies it into a column.
pub const USER_ID_KEY: &str = "user_id";
/// When the password was last entered in this session (for TF-4's recent sign-in).
pub const AUTHENTICATED_AT_KEY: &str = "authenticated_at";
/// When this session was signed in, or last renewed after a change that ended the account's
/// other sessions: the session store refuses to write a signed-in session older than the
/// account's last such change (`users.sessions_valid_from`).
pub const SIGNED_IN_AT_KEY: &str = "signed_in_at";

/// A pending sign-in (LG-1): the account whose password was right, waiting for its second
/// factor. Not a session of that account.
pub const PENDING_USER_KEY: &str = "pending_user_id";
pub const PENDING_SINCE_KEY: &str = "pending_since";
/// The verification (SMS code) of this browser's pending sign-in.
pub const PENDING_CODE_KEY: &str = "pending_code_id";
/// Which second factor this browser's pending sign-in asks for (MFA-3): `Factor::as_str`.
pub const PENDING_FACTOR_KEY: &str = "pending_factor";
/// A new authenticator app's secret, sealed, between `認証アプリを設定する` and the code that
/// confirms it (MFA-1): the QR code shows it, and only a confirmed one is stored.
pub const APP_ENROLMENT_KEY: &str = "app_enrolment";
/// A passkey ceremony waiting for the browser's answer (MFA-2): `passkeys::Ceremony` as
/// JSON, with what it is for (`register` or `sign_in`), so that one cannot finish the other.
pub const PASSKEY_CEREMONY_KEY: &str = "passkey_ceremony";
/// Until when freshly made recovery codes may be shown without entering the password again.
pub const CODES_REVEAL_UNTIL_KEY: &str = "codes_reveal_until";
/// A number whose sending was refused for want of the password (TF-4), with whether
/// `二段階認証も有効にする` was ticked, so that the prompt (a plain form too) can send it.
pub const TYPED_PHONE_KEY: &str = "typed_phone";

/// The session store is the database: when it cannot be read or written the database is
/// not answering (503, try again); a record that does not decode is a fault of ours.
fn internal(e: tower_sessions::session::Error) -> AppError {
    use tower_sessions::session::Error as SessionError;
    use tower_sessions::session_store::Error as StoreError;
    match e {
        SessionError::Store(StoreError::Backend(_)) => {
            tracing::error!(error = %e, "session store unavailable");
            AppError::Unavailable {
                retry_after_secs: crate::server::db::RETRY_AFTER_UNAVAILABLE_SECS,
            }
        }
        _ => {
            tracing::error!(error = %e, "session store failed");
            AppError::Internal
        }
    }
}

/// The signed-in account, if any.
pub async fn current_user(session: &Session) -> Result<Option<UserId>, AppError> {
    Ok(session
        .get::<i64>(USER_ID_KEY)
        .await
        .map_err(internal)?
        .map(UserId))
}

/// The signed-in account, or `Unauthenticated`.
pub async fn require_user(session: &Session) -> Result<UserId, AppError> {
    current_user(session)
        .await?
        .ok_or(AppError::Unauthenticated)
}

/// Makes `session` a session of `user`: a new id (the old one dies with its contents, so a
/// fixated id is worthless), then the account and the time of authentication.
pub async fn sign_in(session: &Session, user: UserId, now: Timestamp) -> Result<(), AppError> {
    new_id(session).await?;
    session.clear().await;
    session
        .insert(USER_ID_KEY, user.0)
        .await
        .map_err(internal)?;
    session
        .insert(AUTHENTICATED_AT_KEY, now.as_millis())
        .await
        .map_err(internal)?;
    session
        .insert(SIGNED_IN_AT_KEY, now.as_millis())
        .await
        .map_err(internal)?;
    Ok(())
}

/// A new id for a session about to hold a sign-in, so that an id someone else planted or
/// saw before cannot follow it (session fixation). A session the request did not bring
/// (no cookie, or one the store did not know) was never stored and gets a new random id
/// when it is first saved: cycling it would only delete a row that was never written, one
/// more statement on every sign-in from a new browser (issue 11). Not to be called after
/// `sign_out` in the same request: a flushed session has no id but keeps its old one in the
/// record, which would then be written again (no path does that).
async fn new_id(session: &Session) -> Result<(), AppError> {
    if session.id().is_some() {
        session.cycle_id().await.map_err(internal)?;
    }
    Ok(())
}

/// Starts a pending sign-in for `user` in a fresh session.
pub async fn start_pending(
    session: &Session,
    user: UserId,
    now: Timestamp,
) -> Result<(), AppError> {
    new_id(session).await?;
    session.clear().await;
    session
        .insert(PENDING_USER_KEY, user.0)
        .await
        .map_err(internal)?;
    session
        .insert(PENDING_SINCE_KEY, now.as_millis())
        .await
        .map_err(internal)?;
    Ok(())
}

/// The account of the live pending sign-in and when it started (`NoPendingLogin` when
/// none, or expired).
pub async fn pending_sign_in(
    session: &Session,
    now: Timestamp,
    ttl: std::time::Duration,
) -> Result<(UserId, Timestamp), AppError> {
    let user = session
        .get::<i64>(PENDING_USER_KEY)
        .await
        .map_err(internal)?;
    let since = session
        .get::<i64>(PENDING_SINCE_KEY)
        .await
        .map_err(internal)?;
    match (user, since) {
        (Some(user), Some(since)) if Timestamp(since).plus(ttl) > now => {
            Ok((UserId(user), Timestamp(since)))
        }
        (Some(_), _) => {
            end_pending(session).await?;
            Err(AppError::NoPendingLogin)
        }
        _ => Err(AppError::NoPendingLogin),
    }
}

pub async fn end_pending(session: &Session) -> Result<(), AppError> {
    for key in [
        PENDING_USER_KEY,
        PENDING_SINCE_KEY,
        PENDING_CODE_KEY,
        PENDING_FACTOR_KEY,
    ] {
        session.remove_value(key).await.map_err(internal)?;
    }
    Ok(())
}

/// Notes which factor this browser's pending sign-in asks for (MFA-3).
pub async fn set_pending_factor(
    session: &Session,
    factor: crate::domain::Factor,
) -> Result<(), AppError> {
    session
        .insert(PENDING_FACTOR_KEY, factor.as_str())
        .await
        .map_err(internal)
}

/// The factor this browser's pending sign-in asks for (SMS unless another was noted).
pub async fn pending_factor(session: &Session) -> Result<crate::domain::Factor, AppError> {
    let name = session
        .get::<String>(PENDING_FACTOR_KEY)
        .await
        .map_err(internal)?;
    Ok(crate::domain::Factor::from_name(name.as_deref()))
}

/// Keeps a passkey ceremony until the browser answers; one at a time per session.
pub async fn keep_passkey_ceremony(
    session: &Session,
    purpose: &str,
    ceremony: &crate::server::services::passkeys::Ceremony,
) -> Result<(), AppError> {
    session
        .insert(PASSKEY_CEREMONY_KEY, (purpose, ceremony))
        .await
        .map_err(internal)
}

/// Takes the waiting ceremony for `purpose` out of the session (it is used once).
pub async fn take_passkey_ceremony(
    session: &Session,
    purpose: &str,
) -> Result<Option<crate::server::services::passkeys::Ceremony>, AppError> {
    let kept = session
        .remove::<(String, crate::server::services::passkeys::Ceremony)>(PASSKEY_CEREMONY_KEY)
        .await
        .map_err(internal)?;
    // Written now: an answer that then fails in any way (even a 5xx, which the session
    // layer would not save) cannot be followed by another against the same challenge.
    persist(session).await?;
    Ok(kept.filter(|(p, _)| p == purpose).map(|(_, c)| c))
}

/// A session signed in by a passkey alone has proven the passkey, not the password: the
/// password is asked again before the changes TF-4 names.
pub async fn forget_recent_auth(session: &Session) -> Result<(), AppError> {
    session
        .remove_value(AUTHENTICATED_AT_KEY)
        .await
        .map_err(internal)?;
    Ok(())
}

/// Keeps a new authenticator app's sealed secret until its code confirms it (MFA-1).
pub async fn keep_app_enrolment(session: &Session, sealed: &str) -> Result<(), AppError> {
    session
        .insert(APP_ENROLMENT_KEY, sealed)
        .await
        .map_err(internal)
}

pub async fn app_enrolment(session: &Session) -> Result<Option<String>, AppError> {
    session
        .get::<String>(APP_ENROLMENT_KEY)
        .await
        .map_err(internal)
}

pub async fn forget_app_enrolment(session: &Session) -> Result<(), AppError> {
    session
        .remove_value(APP_ENROLMENT_KEY)
        .await
        .map_err(internal)?;
    Ok(())
}

/// Notes which verification's code this browser's pending sign-in waits for.
pub async fn set_pending_code(session: &Session, id: i64) -> Result<(), AppError> {
    session.insert(PENDING_CODE_KEY, id).await.map_err(internal)
}

pub async fn pending_code(session: &Session) -> Result<Option<i64>, AppError> {
    session.get::<i64>(PENDING_CODE_KEY).await.map_err(internal)
}

/// `ReauthRequired` unless the password was entered in this session within `window`
/// (TF-4; `NIDAN_REAUTH_WINDOW_SECS`, 10 minutes by default).
pub async fn require_recent_auth(
    session: &Session,
    now: Timestamp,
    window: std::time::Duration,
) -> Result<(), AppError> {
    let at = session
        .get::<i64>(AUTHENTICATED_AT_KEY)
        .await
        .map_err(internal)?;
    match at {
        Some(at) if Timestamp(at).plus(window) > now => Ok(()),
        _ => Err(AppError::ReauthRequired),
    }
}

/// Notes that the password was just entered again.
pub async fn mark_recent_auth(session: &Session, now: Timestamp) -> Result<(), AppError> {
    session
        .insert(AUTHENTICATED_AT_KEY, now.as_millis())
        .await
        .map_err(internal)
}

/// Lets freshly made recovery codes be shown for the next `window`.
pub async fn allow_codes_reveal(
    session: &Session,
    now: Timestamp,
    window: std::time::Duration,
) -> Result<(), AppError> {
    session
        .insert(CODES_REVEAL_UNTIL_KEY, now.plus(window).as_millis())
        .await
        .map_err(internal)
}

pub async fn may_reveal_codes(session: &Session, now: Timestamp) -> Result<bool, AppError> {
    let until = session
        .get::<i64>(CODES_REVEAL_UNTIL_KEY)
        .await
        .map_err(internal)?;
    Ok(until.is_some_and(|u| Timestamp(u) > now))
}

/// Gives this session a new id and keeps what it holds: after a change that ended every
/// session of the account in the database (phone, two-factor, password), this browser
/// stays signed in under an id that no copy of the old cookie knows, as of the change's
/// `now` (the store writes no session signed in before the change).
pub async fn renew(session: &Session, now: Timestamp) -> Result<(), AppError> {
    session.cycle_id().await.map_err(internal)?;
    session
        .insert(SIGNED_IN_AT_KEY, now.as_millis())
        .await
        .map_err(internal)
}

/// Writes the session to the store now rather than after the response, so that a failure
/// is seen while the request can still undo what it did (SEC-6).
pub async fn persist(session: &Session) -> Result<(), AppError> {
    session.save().await.map_err(internal)
}

/// Deletes the session from the store and expires the cookie.
pub async fn sign_out(session: &Session) -> Result<(), AppError> {
    session.flush().await.map_err(internal)
}

/// Keeps the number typed in the phone dialog while the password is asked (TF-4): its E.164
/// form and the checkbox. Only a number that parsed is kept, only in this session.
pub async fn keep_typed_phone(
    session: &Session,
    e164: &str,
    enable_two_factor: bool,
) -> Result<(), AppError> {
    session
        .insert(TYPED_PHONE_KEY, (e164.to_owned(), enable_two_factor))
        .await
        .map_err(internal)
}

pub async fn typed_phone(session: &Session) -> Result<Option<(String, bool)>, AppError> {
    session
        .get::<(String, bool)>(TYPED_PHONE_KEY)
        .await
        .map_err(internal)
}

pub async fn forget_typed_phone(session: &Session) -> Result<(), AppError> {
    session
        .remove::<(String, bool)>(TYPED_PHONE_KEY)
        .await
        .map(drop)
        .map_err(internal)
}
