//! Remembered browsers (LG-4, LG-5). After a second factor, the browser gets a random token
//! in an HttpOnly cookie; the table keeps only its keyed hash, the account, a label from the
//! User-Agent, first and last use, and an expiry 30 days out. Sign-ins from that browser
//! skip the second step while the token is valid for that account.

use std::time::Duration;

use sqlx::AnyConnection;

use crate::domain::{Timestamp, user_agent};
use crate::server::AppState;
use crate::server::cookies::BrowserToken;
use crate::server::db::{self, DbError, users::UserId};
use crate::server::entropy::EntropyError;

/// How long a browser is remembered (LG-4).
pub const REMEMBER_FOR: Duration = Duration::from_secs(30 * 24 * 3600);

pub use crate::server::db::browsers::Remembered;

fn token_hash(state: &AppState, token: &BrowserToken) -> String {
    state
        .secrets
        .keyed_hash("remembered-browser", token.as_str().as_bytes())
}

/// Remembers this browser for `user`; returns the token for the cookie.
pub async fn remember(
    state: &AppState,
    user: UserId,
    user_agent_header: &str,
    now: Timestamp,
) -> Result<BrowserToken, RememberError> {
    let token = BrowserToken::new(state.entropy.bytes::<{ BrowserToken::BYTES }>()?);
    db::browsers::insert(
        &state.db,
        user,
        &token_hash(state, &token),
        &user_agent::label(user_agent_header),
        now,
        now.plus(REMEMBER_FOR),
    )
    .await?;
    Ok(token)
}

impl From<RememberError> for crate::error::AppError {
    fn from(e: RememberError) -> Self {
        match e {
            RememberError::Db(e) => e.into(),
            RememberError::Entropy(e) => {
                tracing::error!(error = %e, "no randomness");
                Self::Internal
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RememberError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Entropy(#[from] EntropyError),
}

/// Whether `token` is a live remembered browser of `user`; if so, notes its use.
pub async fn recognise(
    state: &AppState,
    user: UserId,
    token: &BrowserToken,
    now: Timestamp,
) -> Result<bool, DbError> {
    db::browsers::touch_live(&state.db, user, &token_hash(state, token), now).await
}

/// The live remembered browsers of `user`, the last used first (LG-5).
pub async fn list(
    state: &AppState,
    user: UserId,
    now: Timestamp,
) -> Result<Vec<Remembered>, DbError> {
    db::browsers::live_of(&state.db, user, now).await
}

/// Forgets one browser of `user` (another account's id changes nothing). Whether one went.
pub async fn forget(state: &AppState, user: UserId, id: i64) -> Result<bool, DbError> {
    db::browsers::delete_one(&state.db, user, id).await
}

/// Forgets every browser of `user` (the settings page's "all"); whether there was one.
pub async fn forget_all(state: &AppState, user: UserId) -> Result<bool, DbError> {
    let mut conn = state.db.pool().acquire().await?;
    Ok(forget_all_in(&mut conn, user).await? > 0)
}

/// Forgets every browser of `user`, inside the caller's transaction (two-factor off, a new
/// phone number, new recovery codes); returns how many there were.
pub async fn forget_all_in(conn: &mut AnyConnection, user: UserId) -> Result<u64, sqlx::Error> {
    db::browsers::delete_all_of(conn, user).await
}
