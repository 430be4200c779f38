//! Housekeeping: rows that no rule reads any more are deleted, so the tables stay small.
//! Run hourly by the server.

use std::time::Duration;

use crate::domain::Timestamp;
use crate::server::AppState;
use crate::server::db::{DbError, throttles};

/// The longest window any rule looks back over (the per-day SMS limits).
const KEEP: Duration = Duration::from_secs(2 * 24 * 3600);

/// Deletes sends, verifications, failures and remembered browsers past any use.
/// Returns how many rows went.
pub async fn purge(state: &AppState, now: Timestamp) -> Result<u64, DbError> {
    let before = now.minus(KEEP).as_millis();
    let mut deleted = 0;
    for (sql, at) in [
        ("DELETE FROM sms_sends WHERE sent_at < $1", before),
        ("DELETE FROM verifications WHERE expires_at < $1", before),
        (
            "DELETE FROM remembered_browsers WHERE expires_at < $1",
            now.as_millis(),
        ),
    ] {
        deleted += sqlx::query(sql)
            .bind(at)
            .execute(state.db.pool())
            .await?
            .rows_affected();
    }
    // The throttle reads back no further than its window; an attack's failures go within
    // the hour, not after two days.
    let mut conn = state.db.pool().acquire().await?;
    deleted += throttles::purge(&mut conn, now.minus(super::throttle::WINDOW)).await?;
    Ok(deleted)
}
