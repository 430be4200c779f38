//! Queries on `passkeys`: an account's passkeys (MFA-2).

use sqlx::{AnyConnection, Row};

use super::{Db, DbError, users::UserId};
use crate::domain::Timestamp;

/// One stored passkey.
#[derive(Debug, Clone)]
pub struct StoredPasskey {
    pub id: i64,
    pub credential_id: String,
    pub name: String,
    /// webauthn-rs's `Passkey`, as JSON.
    pub passkey: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<StoredPasskey, DbError> {
    Ok(StoredPasskey {
        id: row.try_get("id")?,
        credential_id: row.try_get("credential_id")?,
        name: row.try_get("name")?,
        passkey: row.try_get("passkey")?,
        created_at: Timestamp(row.try_get("created_at")?),
        last_used_at: row
            .try_get::<Option<i64>, _>("last_used_at")?
            .map(Timestamp),
    })
}

/// The account's passkeys, oldest first.
pub async fn of(db: &Db, user: UserId) -> Result<Vec<StoredPasskey>, DbError> {
    sqlx::query(
        "SELECT id, credential_id, name, passkey, created_at, last_used_at FROM passkeys \
         WHERE user_id = $1 ORDER BY id",
    )
    .bind(user.0)
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(from_row)
    .collect()
}

/// The passkey with `credential_id`, and whose it is.
pub async fn by_credential(
    db: &Db,
    credential_id: &str,
) -> Result<Option<(UserId, StoredPasskey)>, DbError> {
    let row = sqlx::query(
        "SELECT id, user_id, credential_id, name, passkey, created_at, last_used_at \
         FROM passkeys WHERE credential_id = $1",
    )
    .bind(credential_id)
    .fetch_optional(db.pool())
    .await?;
    row.map(|row| Ok((UserId(row.try_get("user_id")?), from_row(&row)?)))
        .transpose()
}

/// How many passkeys the account has.
pub async fn count(db: &Db, user: UserId) -> Result<i64, DbError> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM passkeys WHERE user_id = $1")
        .bind(user.0)
        .fetch_one(db.pool())
        .await?;
    Ok(row.try_get("n")?)
}

/// Stores a new passkey. A credential id already stored (on any account) is a unique
/// violation (`passkeys_credential_key`).
pub async fn insert(
    conn: &mut AnyConnection,
    user: UserId,
    credential_id: &str,
    name: &str,
    passkey: &str,
    now: Timestamp,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO passkeys (user_id, credential_id, name, passkey, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(user.0)
    .bind(credential_id)
    .bind(name)
    .bind(passkey)
    .bind(now.as_millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// After a sign-in: the passkey's new state (its counter) and when it was used.
pub async fn used(
    db: &Db,
    user: UserId,
    credential_id: &str,
    passkey: &str,
    now: Timestamp,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE passkeys SET passkey = $3, last_used_at = $4 \
         WHERE user_id = $1 AND credential_id = $2",
    )
    .bind(user.0)
    .bind(credential_id)
    .bind(passkey)
    .bind(now.as_millis())
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Renames one of the account's passkeys; whether it was found.
pub async fn rename(db: &Db, user: UserId, id: i64, name: &str) -> Result<bool, DbError> {
    Ok(
        sqlx::query("UPDATE passkeys SET name = $3 WHERE user_id = $1 AND id = $2")
            .bind(user.0)
            .bind(id)
            .bind(name)
            .execute(db.pool())
            .await?
            .rows_affected()
            == 1,
    )
}

/// Removes one of the account's passkeys; whether it was found.
pub async fn remove(conn: &mut AnyConnection, user: UserId, id: i64) -> Result<bool, DbError> {
    Ok(
        sqlx::query("DELETE FROM passkeys WHERE user_id = $1 AND id = $2")
            .bind(user.0)
            .bind(id)
            .execute(conn)
            .await?
            .rows_affected()
            == 1,
    )
}
