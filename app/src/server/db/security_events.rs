//! Queries on `security_events`, the security history (SEC-5).

use sqlx::Row;

use super::{Db, DbError, users::UserId};
use crate::domain::Timestamp;

/// One stored entry: the event's name as stored, the browser's label, when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    pub kind: String,
    pub browser: String,
    pub at: Timestamp,
}

/// Writes an entry, then forgets the account's entries beyond its `keep` newest (by `at`,
/// then by id, the order they are shown in), on one connection: the table grows with the
/// accounts, not with their sign-ins. The trim is one indexed statement on the account's
/// own rows; if it fails, that is logged here, the entry stands and the next write trims.
pub async fn insert(
    db: &Db,
    user: UserId,
    kind: &str,
    browser: &str,
    at: Timestamp,
    keep: i64,
) -> Result<(), DbError> {
    let mut conn = db.pool().acquire().await?;
    sqlx::query("INSERT INTO security_events (user_id, kind, browser, at) VALUES ($1, $2, $3, $4)")
        .bind(user.0)
        .bind(kind)
        .bind(browser)
        .bind(at.as_millis())
        .execute(&mut *conn)
        .await?;
    let trimmed = sqlx::query(
        "DELETE FROM security_events WHERE user_id = $1 AND id NOT IN \
         (SELECT id FROM security_events WHERE user_id = $1 ORDER BY at DESC, id DESC LIMIT $2)",
    )
    .bind(user.0)
    .bind(keep)
    .execute(&mut *conn)
    .await;
    if let Err(e) = trimmed {
        // The entry is written; its caller must not report it lost.
        tracing::warn!(user = user.0, error = %e, "older security history entries not forgotten; the next entry will");
    }
    Ok(())
}

/// The `limit` newest entries of `user`, the newest first.
pub async fn newest(db: &Db, user: UserId, limit: i64) -> Result<Vec<EventRow>, DbError> {
    let rows = sqlx::query(
        "SELECT kind, browser, at FROM security_events WHERE user_id = $1 \
         ORDER BY at DESC, id DESC LIMIT $2",
    )
    .bind(user.0)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(EventRow {
                kind: r.try_get("kind")?,
                browser: r.try_get("browser")?,
                at: Timestamp(r.try_get("at")?),
            })
        })
        .collect()
}
