//! Queries on `recovery_codes` (RC-2..RC-4): per code, a keyed hash to check it by and the
//! code sealed under a server key to show it again; `services::two_factor` makes both.

use sqlx::{AnyConnection, Row};

use super::{Db, DbError, users::UserId};
use crate::domain::Timestamp;

/// One stored code, in its place in the set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCode {
    pub sealed: String,
    pub used: bool,
}

/// Deletes the set of `user`, in the caller's transaction.
pub async fn delete_all_of(conn: &mut AnyConnection, user: UserId) -> Result<(), DbError> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user.0)
        .execute(conn)
        .await?;
    Ok(())
}

/// Keeps one code of a new set, in the caller's transaction.
pub async fn insert(
    conn: &mut AnyConnection,
    user: UserId,
    position: i64,
    hash: &str,
    sealed: &str,
    now: Timestamp,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO recovery_codes (user_id, position, code_hash, code_sealed, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(user.0)
    .bind(position)
    .bind(hash)
    .bind(sealed)
    .bind(now.as_millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// The set of `user`, in order.
pub async fn set_of(db: &Db, user: UserId) -> Result<Vec<StoredCode>, DbError> {
    let rows = sqlx::query(
        "SELECT code_sealed, used_at FROM recovery_codes WHERE user_id = $1 ORDER BY position",
    )
    .bind(user.0)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(StoredCode {
                sealed: r.try_get("code_sealed")?,
                used: r.try_get::<Option<i64>, _>("used_at")?.is_some(),
            })
        })
        .collect()
}

/// Marks the unused code with this hash used at `at`, in the caller's transaction: whether
/// there was one (of any number of parallel uses, exactly one gets `true`).
pub async fn mark_used(
    conn: &mut AnyConnection,
    user: UserId,
    hash: &str,
    at: Timestamp,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "UPDATE recovery_codes SET used_at = $1 \
         WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
    )
    .bind(at.as_millis())
    .bind(user.0)
    .bind(hash)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Undoes the use of a code made at `at`; a code replaced meanwhile stays gone.
pub async fn unmark(db: &Db, user: UserId, hash: &str, at: Timestamp) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE recovery_codes SET used_at = NULL \
         WHERE user_id = $1 AND code_hash = $2 AND used_at = $3",
    )
    .bind(user.0)
    .bind(hash)
    .bind(at.as_millis())
    .execute(db.pool())
    .await?;
    Ok(())
}

/// How many codes of `user` are unused.
pub async fn unused_count(conn: &mut AnyConnection, user: UserId) -> Result<i64, DbError> {
    Ok(sqlx::query(
        "SELECT COUNT(*) AS n FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
    )
    .bind(user.0)
    .fetch_one(conn)
    .await?
    .try_get("n")?)
}
