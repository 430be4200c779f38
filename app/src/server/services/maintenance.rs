//! Housekeeping: rows that no rule reads any more are deleted, so the tables stay small.
//! Run by the server: hourly, and the throttle's table every minute.

use std::time::Duration;

use crate::domain::Timestamp;
use crate::server::AppState;
use crate::server::db::{DbError, browsers, sms_sends, throttles, verifications};

/// The longest window any rule looks back over (the per-day SMS limits).
const KEEP: Duration = Duration::from_secs(2 * 24 * 3600);

/// How often the throttle's old failures are deleted: often, so that each run is small
/// (under attack the table gains what the hashing pool can judge, ×3 scopes).
pub const THROTTLE_PURGE_EVERY: Duration = Duration::from_secs(60);

/// Deletes sends, verifications and remembered browsers past any use (hourly). Each table
/// on a connection of its own, so that requests run between them (SQLite has one).
/// Returns how many rows went.
pub async fn purge(state: &AppState, now: Timestamp) -> Result<u64, DbError> {
    let before = now.minus(KEEP);
    let pool = state.db.pool();
    let mut deleted = sms_sends::purge(&mut *pool.acquire().await?, before).await?;
    deleted += verifications::purge(&mut *pool.acquire().await?, before).await?;
    deleted += browsers::purge_expired(&mut *pool.acquire().await?, now).await?;
    Ok(deleted)
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
