//! Housekeeping: rows that no rule reads any more are deleted, so the tables stay small.
//! Run hourly by the server.

use std::time::Duration;

use crate::domain::Timestamp;
use crate::server::AppState;
use crate::server::db::{DbError, browsers, sms_sends, throttles, verifications};

/// The longest window any rule looks back over (the per-day SMS limits).
const KEEP: Duration = Duration::from_secs(2 * 24 * 3600);

/// Deletes sends, verifications, failures and remembered browsers past any use.
/// Returns how many rows went.
pub async fn purge(state: &AppState, now: Timestamp) -> Result<u64, DbError> {
    let before = now.minus(KEEP);
    let mut conn = state.db.pool().acquire().await?;
    let mut deleted = sms_sends::purge(&mut conn, before).await?;
    deleted += verifications::purge(&mut conn, before).await?;
    deleted += browsers::purge_expired(&mut conn, now).await?;
    // The throttle reads back no further than its window; an attack's failures go within
    // the hour, not after two days.
    deleted += throttles::purge(&mut conn, now.minus(super::throttle::WINDOW)).await?;
    Ok(deleted)
}
