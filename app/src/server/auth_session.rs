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

fn internal(e: tower_sessions::session::Error) -> AppError {
    tracing::error!(error = %e, "session store failed");
    AppError::Internal
}

/// The signed-in account, if any.
pub async fn current_user(session: &Session) -> Result<Option<UserId>, AppError> {
    Ok(session.get::<i64>(USER_ID_KEY).await.map_err(internal)?.map(UserId))
}

/// The signed-in account, or `Unauthenticated`.
pub async fn require_user(session: &Session) -> Result<UserId, AppError> {
    current_user(session).await?.ok_or(AppError::Unauthenticated)
}

/// Makes `session` a session of `user`: a new id (the old one dies with its contents, so a
/// fixated id is worthless), then the account and the time of authentication.
pub async fn sign_in(session: &Session, user: UserId, now: Timestamp) -> Result<(), AppError> {
    session.cycle_id().await.map_err(internal)?;
    session.clear().await;
    session.insert(USER_ID_KEY, user.0).await.map_err(internal)?;
    session.insert(AUTHENTICATED_AT_KEY, now.as_millis()).await.map_err(internal)?;
    Ok(())
}

/// Deletes the session from the store and expires the cookie.
pub async fn sign_out(session: &Session) -> Result<(), AppError> {
    session.flush().await.map_err(internal)
}
