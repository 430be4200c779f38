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
    /// When the password was last set (known-device tokens are bound to it).
    pub password_changed_at: Option<Timestamp>,
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

/// Locks `user`'s row until the caller's transaction ends (PostgreSQL: `FOR UPDATE`;
/// SQLite's single connection serialises every transaction already).
pub async fn lock_row(
    conn: &mut sqlx::AnyConnection,
    kind: super::DbKind,
    user: UserId,
) -> Result<(), DbError> {
    if kind == super::DbKind::Postgres {
        sqlx::query("SELECT id FROM users WHERE id = $1 FOR UPDATE")
            .bind(user.0)
            .execute(conn)
            .await?;
    }
    Ok(())
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<UserRow, DbError> {
    Ok(UserRow {
        id: UserId(row.try_get("id")?),
        email: row.try_get("email")?,
        password_hash: PasswordHash::from_stored(row.try_get("password_hash")?),
        created_at: Timestamp(row.try_get("created_at")?),
        phone_e164: row.try_get("phone_e164")?,
        password_changed_at: row
            .try_get::<Option<i64>, _>("password_changed_at")?
            .map(Timestamp),
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
        "SELECT id, email, password_hash, created_at, phone_e164, password_changed_at \
         FROM users WHERE email = $1",
    )
    .bind(email.as_str())
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn find_by_id(db: &Db, id: UserId) -> Result<Option<UserRow>, DbError> {
    let row = sqlx::query(
        "SELECT id, email, password_hash, created_at, phone_e164, password_changed_at \
         FROM users WHERE id = $1",
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

/// Saves a new password hash, changed at `now` (in the caller's transaction).
pub async fn set_password(
    conn: &mut sqlx::AnyConnection,
    user: UserId,
    hash: &PasswordHash,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET password_hash = $2, password_changed_at = $3 WHERE id = $1")
        .bind(user.0)
        .bind(hash.as_str())
        .bind(now.as_millis())
        .execute(conn)
        .await?;
    Ok(())
}

/// Saves a verified phone number (in the caller's transaction). A number another account
/// holds is a unique violation (`users_phone_e164_key`, PH-4).
pub async fn set_phone(
    conn: &mut sqlx::AnyConnection,
    user: UserId,
    phone_e164: &str,
    now: Timestamp,
) -> Result<(), DbError> {
    sqlx::query("UPDATE users SET phone_e164 = $1, phone_verified_at = $2 WHERE id = $3")
        .bind(phone_e164)
        .bind(now.as_millis())
        .bind(user.0)
        .execute(conn)
        .await?;
    Ok(())
}

/// The columns of two-factor and its lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecondFactor {
    pub phone_e164: Option<String>,
    pub two_factor_enabled_at: Option<Timestamp>,
    pub sms_locked_at: Option<Timestamp>,
    /// Recovery codes not yet used.
    pub codes_left: i64,
    /// Passkeys registered (MFA-2).
    pub passkeys: i64,
    /// An authenticator app is set (MFA-1).
    pub has_app: bool,
}

/// Two-factor's columns of `user`, and which second factors it has: one query for what a
/// sign-in and the code page need (MFA-3 chooses among the factors).
pub async fn second_factor(
    conn: &mut sqlx::AnyConnection,
    user: UserId,
) -> Result<SecondFactor, DbError> {
    let row = sqlx::query(
        "SELECT phone_e164, two_factor_enabled_at, sms_locked_at, \
         (SELECT COUNT(*) FROM recovery_codes r WHERE r.user_id = users.id AND r.used_at IS NULL) \
         AS codes_left, \
         (SELECT COUNT(*) FROM passkeys p WHERE p.user_id = users.id) AS passkeys, \
         (SELECT COUNT(*) FROM authenticator_apps a WHERE a.user_id = users.id) AS apps \
         FROM users WHERE id = $1",
    )
    .bind(user.0)
    .fetch_one(conn)
    .await?;
    Ok(SecondFactor {
        phone_e164: row.try_get("phone_e164")?,
        two_factor_enabled_at: row
            .try_get::<Option<i64>, _>("two_factor_enabled_at")?
            .map(Timestamp),
        sms_locked_at: row
            .try_get::<Option<i64>, _>("sms_locked_at")?
            .map(Timestamp),
        codes_left: row.try_get("codes_left")?,
        passkeys: row.try_get("passkeys")?,
        has_app: row.try_get::<i64, _>("apps")? > 0,
    })
}

/// Turns two-factor on at `now`, with a clean failure count and no lock.
pub async fn set_two_factor_on(
    conn: &mut sqlx::AnyConnection,
    user: UserId,
    now: Timestamp,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE users SET two_factor_enabled_at = $1, second_factor_failures = 0, \
         sms_locked_at = NULL WHERE id = $2",
    )
    .bind(now.as_millis())
    .bind(user.0)
    .execute(conn)
    .await?;
    Ok(())
}

/// Turns two-factor off; whether it was on.
pub async fn set_two_factor_off(
    conn: &mut sqlx::AnyConnection,
    user: UserId,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "UPDATE users SET two_factor_enabled_at = NULL \
         WHERE id = $1 AND two_factor_enabled_at IS NOT NULL",
    )
    .bind(user.0)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Takes one second-factor failure for `user` before a code is judged, and sets the lock
/// at `now` when it is the `lock_after`-th in a row, in one statement (parallel wrong
/// codes cannot slip past the lock). The failures counted with this one; `None` when the
/// factor is locked already.
pub async fn reserve_second_factor_failure(
    db: &Db,
    user: UserId,
    lock_after: i64,
    now: Timestamp,
) -> Result<Option<i64>, DbError> {
    let row = sqlx::query(
        "UPDATE users SET second_factor_failures = second_factor_failures + 1, \
         sms_locked_at = CASE WHEN second_factor_failures + 1 >= $2 THEN $3 ELSE sms_locked_at END \
         WHERE id = $1 AND sms_locked_at IS NULL RETURNING second_factor_failures",
    )
    .bind(user.0)
    .bind(lock_after)
    .bind(now.as_millis())
    .fetch_optional(db.pool())
    .await?;
    Ok(row
        .map(|r| r.try_get::<i64, _>("second_factor_failures"))
        .transpose()?)
}

/// Gives back a reserved failure (the guess was not judged), lifting a lock it set.
pub async fn release_second_factor_failure(
    db: &Db,
    user: UserId,
    lock_after: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE users SET second_factor_failures = second_factor_failures - 1, \
         sms_locked_at = CASE WHEN second_factor_failures - 1 < $2 THEN NULL ELSE sms_locked_at END \
         WHERE id = $1 AND second_factor_failures > 0",
    )
    .bind(user.0)
    .bind(lock_after)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Clears the failure count and the lock (a right code, a recovery code).
pub async fn clear_second_factor_failures(
    conn: &mut sqlx::AnyConnection,
    user: UserId,
) -> Result<(), DbError> {
    sqlx::query("UPDATE users SET second_factor_failures = 0, sms_locked_at = NULL WHERE id = $1")
        .bind(user.0)
        .execute(conn)
        .await?;
    Ok(())
}

/// Lifts the SMS lock, keeping the count; with `set_at`, only the lock set at that moment
/// (not a newer one set meanwhile).
pub async fn lift_sms_lock(
    db: &Db,
    user: UserId,
    set_at: Option<Timestamp>,
) -> Result<(), DbError> {
    match set_at {
        Some(at) => {
            sqlx::query(
                "UPDATE users SET sms_locked_at = NULL WHERE id = $1 AND sms_locked_at = $2",
            )
            .bind(user.0)
            .bind(at.as_millis())
            .execute(db.pool())
            .await?
        }
        None => {
            sqlx::query("UPDATE users SET sms_locked_at = NULL WHERE id = $1")
                .bind(user.0)
                .execute(db.pool())
                .await?
        }
    };
    Ok(())
}
