//! Queries on `security_events`, the security history (SEC-5).

use sqlx::{AnyConnection, Row};

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

/// How many entries one [`purge_unshown`] statement deletes at most.
pub const PURGE_BATCH: u64 = 1000;

/// Deletes up to [`PURGE_BATCH`] entries that are not among the `keep` newest of their
/// account (the settings page never shows them); returns how many went.
pub async fn purge_unshown(conn: &mut AnyConnection, keep: i64) -> Result<u64, DbError> {
    Ok(sqlx::query(
        "DELETE FROM security_events WHERE id IN \
         (SELECT id FROM \
           (SELECT id, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY at DESC, id DESC) AS n \
            FROM security_events) ranked \
          WHERE n > $1 LIMIT $2)",
    )
    .bind(keep)
    .bind(i64::try_from(PURGE_BATCH).unwrap_or(i64::MAX))
    .execute(conn)
    .await?
    .rows_affected())
}
