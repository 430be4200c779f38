//! Queries on `remembered_browsers` (LG-4, LG-5): a keyed hash of each browser's token,
//! never the token (`services::browsers` makes and hashes them).

use sqlx::{AnyConnection, Row};

use super::{Db, DbError, users::UserId};
use crate::domain::Timestamp;

/// One remembered browser, as the settings page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remembered {
    pub id: i64,
    pub label: String,
    pub created_at: Timestamp,
    pub last_used_at: Timestamp,
}

/// Keeps a browser, first and last used `now`, until `expires_at`.
pub async fn insert(
    db: &Db,
    user: UserId,
    token_hash: &str,
    label: &str,
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO remembered_browsers (user_id, token_hash, label, created_at, last_used_at, expires_at) \
         VALUES ($1, $2, $3, $4, $4, $5)",
    )
    .bind(user.0)
    .bind(token_hash)
    .bind(label)
    .bind(now.as_millis())
    .bind(expires_at.as_millis())
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Notes the use, at `now`, of the live browser of `user` with this token hash. Whether
/// there was one.
pub async fn touch_live(
    db: &Db,
    user: UserId,
    token_hash: &str,
    now: Timestamp,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "UPDATE remembered_browsers SET last_used_at = $1 \
         WHERE token_hash = $2 AND user_id = $3 AND expires_at > $1",
    )
    .bind(now.as_millis())
    .bind(token_hash)
    .bind(user.0)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The live browsers of `user`, the last used first.
pub async fn live_of(db: &Db, user: UserId, now: Timestamp) -> Result<Vec<Remembered>, DbError> {
    let rows = sqlx::query(
        "SELECT id, label, created_at, last_used_at FROM remembered_browsers \
         WHERE user_id = $1 AND expires_at > $2 ORDER BY last_used_at DESC",
    )
    .bind(user.0)
    .bind(now.as_millis())
    .fetch_all(db.pool())
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

/// Deletes browser `id` if it is one of `user`'s. Whether one went.
pub async fn delete_one(db: &Db, user: UserId, id: i64) -> Result<bool, DbError> {
    let done = sqlx::query("DELETE FROM remembered_browsers WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user.0)
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes every browser of `user`, in the caller's connection or transaction.
pub async fn delete_all_of(conn: &mut AnyConnection, user: UserId) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM remembered_browsers WHERE user_id = $1")
            .bind(user.0)
            .execute(conn)
            .await?
            .rows_affected(),
    )
}

/// Deletes the browsers whose 30 days ended before `now`.
pub async fn purge_expired(conn: &mut AnyConnection, now: Timestamp) -> Result<u64, DbError> {
    Ok(
        sqlx::query("DELETE FROM remembered_browsers WHERE expires_at < $1")
            .bind(now.as_millis())
            .execute(conn)
            .await?
            .rows_affected(),
    )
}
