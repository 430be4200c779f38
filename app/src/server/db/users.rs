//! Queries on `users`.

use sqlx::Row;

use super::{Db, DbError};
use crate::domain::{Email, Timestamp};
use crate::server::passwords::PasswordHash;

/// An account's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserId(pub i64);

/// One row of `users`.
#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: UserId,
    pub email: String,
    pub password_hash: PasswordHash,
    pub created_at: Timestamp,
    /// The verified phone number, E.164.
    pub phone_e164: Option<String>,
}

impl UserRow {
    /// The verified phone number, if any.
    pub fn phone(&self) -> Result<Option<crate::domain::PhoneNumber>, DbError> {
        self.phone_e164
            .as_deref()
            .map(super::stored_phone)
            .transpose()
    }
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<UserRow, DbError> {
    Ok(UserRow {
        id: UserId(row.try_get("id")?),
        email: row.try_get("email")?,
        password_hash: PasswordHash::from_stored(row.try_get("password_hash")?),
        created_at: Timestamp(row.try_get("created_at")?),
        phone_e164: row.try_get("phone_e164")?,
    })
}

/// Inserts a user. A taken email comes back as a unique violation (`users_email_key`).
pub async fn insert(
    db: &Db,
    email: &Email,
    hash: &PasswordHash,
    now: Timestamp,
) -> Result<UserId, DbError> {
    let row = sqlx::query(
        "INSERT INTO users (email, password_hash, created_at, password_changed_at) \
         VALUES ($1, $2, $3, $3) RETURNING id",
    )
    .bind(email.as_str())
    .bind(hash.as_str())
    .bind(now.as_millis())
    .fetch_one(db.pool())
    .await?;
    Ok(UserId(row.try_get("id")?))
}

pub async fn find_by_email(db: &Db, email: &Email) -> Result<Option<UserRow>, DbError> {
    let row = sqlx::query(
        "SELECT id, email, password_hash, created_at, phone_e164 FROM users WHERE email = $1",
    )
    .bind(email.as_str())
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn find_by_id(db: &Db, id: UserId) -> Result<Option<UserRow>, DbError> {
    let row = sqlx::query(
        "SELECT id, email, password_hash, created_at, phone_e164 FROM users WHERE id = $1",
    )
    .bind(id.0)
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// When the password was last set (a pending sign-in older than this is void).
pub async fn password_changed_at(db: &Db, id: UserId) -> Result<Option<Timestamp>, DbError> {
    let row = sqlx::query("SELECT password_changed_at FROM users WHERE id = $1")
        .bind(id.0)
        .fetch_optional(db.pool())
        .await?;
    Ok(row
        .map(|r| r.try_get("password_changed_at"))
        .transpose()?
        .map(Timestamp))
}
