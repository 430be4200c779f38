//! Housekeeping: rows that no rule reads any more are deleted, so the tables stay small.
//! Run by the server: hourly, and the throttle's table every minute.

use std::time::Duration;

use super::history;
use crate::domain::Timestamp;
use crate::server::AppState;
use crate::server::db::{DbError, browsers, security_events, sms_sends, throttles, verifications};

/// The longest window any rule looks back over (the per-day SMS limits).
const KEEP: Duration = Duration::from_secs(2 * 24 * 3600);

/// How often the throttle's old failures are deleted: often, so that each run is small
/// (under attack the table gains what the hashing pool can judge, ×3 scopes).
pub const THROTTLE_PURGE_EVERY: Duration = Duration::from_secs(60);

/// Deletes sends, verifications and remembered browsers past any use, and the security
/// history an account's page no longer shows (hourly). Each table on a connection of its
/// own, so that requests run between them (SQLite has one). Returns how many rows went.
pub async fn purge(state: &AppState, now: Timestamp) -> Result<u64, DbError> {
    let before = now.minus(KEEP);
    let pool = state.db.pool();
    let mut deleted = sms_sends::purge(&mut *pool.acquire().await?, before).await?;
    deleted += verifications::purge(&mut *pool.acquire().await?, before).await?;
    deleted += browsers::purge_expired(&mut *pool.acquire().await?, now).await?;
    deleted += purge_history(state).await?;
    Ok(deleted)
}

/// Deletes the security history past the newest [`history::SHOWN`] entries of each
/// account (SEC-5 shows those and reads no others), in batches of
/// [`security_events::PURGE_BATCH`], each a statement of its own. Entries are written only
/// by sign-ins and by changes made with the account's password (docs/security.md), and
/// after each run an account holds no more than its page of them.
pub async fn purge_history(state: &AppState) -> Result<u64, DbError> {
    let mut deleted = 0;
    loop {
        let batch =
            security_events::purge_unshown(&mut *state.db.pool().acquire().await?, history::SHOWN)
                .await?;
        deleted += batch;
        if batch < security_events::PURGE_BATCH {
            return Ok(deleted);
        }
    }
}

/// Deletes the throttle's failures older than its window (every [`THROTTLE_PURGE_EVERY`]),
/// in batches of [`throttles::PURGE_BATCH`] rows, each a statement of its own: a run after
/// an attack never holds the database for long. Returns how many rows went.
pub async fn purge_throttle(state: &AppState, now: Timestamp) -> Result<u64, DbError> {
    let before = now.minus(super::throttle::WINDOW);
    let mut deleted = 0;
    loop {
        let batch = throttles::purge(&mut *state.db.pool().acquire().await?, before).await?;
        deleted += batch;
        if batch < throttles::PURGE_BATCH {
            return Ok(deleted);
        }
    }
}
