//! The security history (SEC-5). Entries are written after the change they describe has
//! committed; a failure to write one is logged and does not undo the change.

use sqlx::Row;

use crate::domain::{SecurityEvent, Timestamp, user_agent};
use crate::server::AppState;
use crate::server::db::{DbError, users::UserId};

/// One entry as the settings page lists it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub event: SecurityEvent,
    pub browser: String,
    pub at: Timestamp,
}

/// How many entries the page shows.
pub const SHOWN: i64 = 30;

pub async fn record(
    state: &AppState,
    user: UserId,
    event: SecurityEvent,
    user_agent_header: &str,
    now: Timestamp,
) {
    let done = sqlx::query(
        "INSERT INTO security_events (user_id, kind, browser, at) VALUES ($1, $2, $3, $4)",
    )
    .bind(user.0)
    .bind(event.as_str())
    .bind(user_agent::label(user_agent_header))
    .bind(now.as_millis())
    .execute(state.db.pool())
    .await;
    if let Err(e) = done {
        tracing::warn!(user = user.0, event = event.as_str(), error = %e, "security history entry not written");
    }
}

/// The newest entries first.
pub async fn list(state: &AppState, user: UserId) -> Result<Vec<Entry>, DbError> {
    let rows = sqlx::query("SELECT kind, browser, at FROM security_events WHERE user_id = $1 ORDER BY at DESC, id DESC LIMIT $2")
        .bind(user.0)
        .bind(SHOWN)
        .fetch_all(state.db.pool())
        .await?;
    let mut entries = Vec::with_capacity(rows.len());
    for r in &rows {
        let kind: String = r.try_get("kind")?;
        if let Some(event) = SecurityEvent::from_name(&kind) {
            entries.push(Entry {
                event,
                browser: r.try_get("browser")?,
                at: Timestamp(r.try_get("at")?),
            });
        }
    }
    Ok(entries)
}
