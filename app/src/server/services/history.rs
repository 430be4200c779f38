//! The security history (SEC-5). Entries are written after the change they describe has
//! committed; a failure to write one is logged and does not undo the change.

use crate::domain::{SecurityEvent, Timestamp, user_agent};
use crate::server::AppState;
use crate::server::db::{DbError, security_events, users::UserId};

/// One entry as the settings page lists it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub event: SecurityEvent,
    pub browser: String,
    pub at: Timestamp,
}

/// How many entries the page shows.
pub const SHOWN: i64 = 30;
/// How many entries are kept per account; each write forgets the older ones (SEC-5). More
/// than are shown: an entry of a kind this version does not know (written by a newer one
/// before a rollback) is left out of the page, and the page still fills.
pub const KEPT: i64 = 100;

/// Writes an entry; a failure is logged, never returned (the change it describes stands).
pub async fn record(
    state: &AppState,
    user: UserId,
    event: SecurityEvent,
    user_agent_header: &str,
    now: Timestamp,
) {
    let label = user_agent::label(user_agent_header);
    if let Err(e) =
        security_events::insert(&state.db, user, event.as_str(), &label, now, KEPT).await
    {
        tracing::warn!(user = user.0, event = event.as_str(), error = %e, "security history entry not written");
    }
}

/// The newest entries first. An entry of a kind this version does not know is left out.
pub async fn list(state: &AppState, user: UserId) -> Result<Vec<Entry>, DbError> {
    Ok(security_events::newest(&state.db, user, SHOWN)
        .await?
        .into_iter()
        .filter_map(|row| {
            SecurityEvent::from_name(&row.kind).map(|event| Entry {
                event,
                browser: row.browser,
                at: row.at,
            })
        })
        .collect())
}
