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

pub async fn insert(
    db: &Db,
    user: UserId,
    kind: &str,
    browser: &str,
    at: Timestamp,
) -> Result<(), DbError> {
    sqlx::query("INSERT INTO security_events (user_id, kind, browser, at) VALUES ($1, $2, $3, $4)")
        .bind(user.0)
        .bind(kind)
        .bind(browser)
        .bind(at.as_millis())
        .execute(db.pool())
        .await?;
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
