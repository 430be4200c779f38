//! Remembered browsers (LG-4, LG-5). After a second factor, the browser gets a random token
//! in an HttpOnly cookie; the table keeps only its keyed hash, the account, a label from the
//! User-Agent, first and last use, and an expiry 30 days out. Sign-ins from that browser
//! skip the second step while the token is valid for that account.

use std::time::Duration;

use sqlx::{AnyConnection, Row};

use crate::domain::{Timestamp, user_agent};
use crate::server::AppState;
use crate::server::cookies::BrowserToken;
use crate::server::db::{DbError, users::UserId};
use crate::server::entropy::EntropyError;

/// How long a browser is remembered (LG-4).
pub const REMEMBER_FOR: Duration = Duration::from_secs(30 * 24 * 3600);

/// One remembered browser, as the settings page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remembered {
    pub id: i64,
    pub label: String,
    pub created_at: Timestamp,
    pub last_used_at: Timestamp,
}

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
    sqlx::query(
        "INSERT INTO remembered_browsers (user_id, token_hash, label, created_at, last_used_at, expires_at) \
         VALUES ($1, $2, $3, $4, $4, $5)",
    )
    .bind(user.0)
    .bind(token_hash(state, &token))
    .bind(user_agent::label(user_agent_header))
    .bind(now.as_millis())
    .bind(now.plus(REMEMBER_FOR).as_millis())
    .execute(state.db.pool())
    .await
    .map_err(DbError::from)?;
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
    let done = sqlx::query(
        "UPDATE remembered_browsers SET last_used_at = $1 WHERE token_hash = $2 AND user_id = $3 AND expires_at > $1",
    )
    .bind(now.as_millis())
    .bind(token_hash(state, token))
    .bind(user.0)
    .execute(state.db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn list(
    state: &AppState,
    user: UserId,
    now: Timestamp,
) -> Result<Vec<Remembered>, DbError> {
    let rows = sqlx::query(
        "SELECT id, label, created_at, last_used_at FROM remembered_browsers \
         WHERE user_id = $1 AND expires_at > $2 ORDER BY last_used_at DESC",
    )
    .bind(user.0)
    .bind(now.as_millis())
    .fetch_all(state.db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Remembered {
                id: r.try_get("id")?,
                label: r.try_get("label")?,
                created_at: Timestamp(r.try_get("created_at")?),
                last_used_at: Timestamp(r.try_get("last_used_at")?),
            })
        })
        .collect()
}

/// Forgets one browser of `user` (another account's id changes nothing). Whether one went.
pub async fn forget(state: &AppState, user: UserId, id: i64) -> Result<bool, DbError> {
    let done = sqlx::query("DELETE FROM remembered_browsers WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user.0)
        .execute(state.db.pool())
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Forgets every browser of `user` (the settings page's "all").
pub async fn forget_all(state: &AppState, user: UserId) -> Result<(), DbError> {
    let mut conn = state.db.pool().acquire().await?;
    forget_all_in(&mut conn, user).await?;
    Ok(())
}

/// Forgets every browser of `user`, inside the caller's transaction (two-factor off, a new
/// phone number, new recovery codes).
pub async fn forget_all_in(conn: &mut AnyConnection, user: UserId) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM remembered_browsers WHERE user_id = $1")
        .bind(user.0)
        .execute(conn)
        .await?;
    Ok(())
}
