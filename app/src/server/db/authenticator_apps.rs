//! Queries on `authenticator_apps`: one authenticator app (TOTP) per account (MFA-1).

use sqlx::{AnyConnection, Row};

use super::{Db, DbError, users::UserId};
use crate::domain::Timestamp;

/// The account's app: its sealed secret and the last time step a code was taken for.
#[derive(Debug, Clone)]
pub struct StoredApp {
    pub secret_sealed: String,
    pub created_at: Timestamp,
    pub last_step: Option<i64>,
    pub last_used_at: Option<Timestamp>,
}

/// The account's app, if one is set.
pub async fn find(db: &Db, user: UserId) -> Result<Option<StoredApp>, DbError> {
    let row = sqlx::query(
        "SELECT secret_sealed, created_at, last_step, last_used_at \
         FROM authenticator_apps WHERE user_id = $1",
    )
    .bind(user.0)
    .fetch_optional(db.pool())
    .await?;
    row.map(|row| {
        Ok(StoredApp {
            secret_sealed: row.try_get("secret_sealed")?,
            created_at: Timestamp(row.try_get("created_at")?),
            last_step: row.try_get("last_step")?,
            last_used_at: row
                .try_get::<Option<i64>, _>("last_used_at")?
                .map(Timestamp),
        })
    })
    .transpose()
}

/// Whether the account has an app.
pub async fn is_set(db: &Db, user: UserId) -> Result<bool, DbError> {
    Ok(
        sqlx::query("SELECT 1 AS one FROM authenticator_apps WHERE user_id = $1")
            .bind(user.0)
            .fetch_optional(db.pool())
            .await?
            .is_some(),
    )
}

/// Sets the account's app (replacing one set before), with `step` already taken: the code
/// that confirmed it cannot sign in too.
pub async fn set(
    conn: &mut AnyConnection,
    user: UserId,
    secret_sealed: &str,
    step: i64,
    now: Timestamp,
) -> Result<(), DbError> {
    sqlx::query("DELETE FROM authenticator_apps WHERE user_id = $1")
        .bind(user.0)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO authenticator_apps (user_id, secret_sealed, created_at, last_step) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(user.0)
    .bind(secret_sealed)
    .bind(now.as_millis())
    .bind(step)
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes the account's app; whether there was one.
pub async fn remove(conn: &mut AnyConnection, user: UserId) -> Result<bool, DbError> {
    Ok(
        sqlx::query("DELETE FROM authenticator_apps WHERE user_id = $1")
            .bind(user.0)
            .execute(conn)
            .await?
            .rows_affected()
            == 1,
    )
}

/// Reserves one of the `limit` wrong codes the app may have in a window that began after
/// `window_start` (a window that began earlier is over: the count starts again at `now`).
/// `None` when none is left. One statement, so parallel guesses cannot share a reservation.
pub async fn reserve_failure(
    db: &Db,
    user: UserId,
    limit: i64,
    window_start: Timestamp,
    now: Timestamp,
) -> Result<Option<i64>, DbError> {
    let row = sqlx::query(
        "UPDATE authenticator_apps SET \
         failures = CASE WHEN failures_since IS NULL OR failures_since <= $2 THEN 1 ELSE failures + 1 END, \
         failures_since = CASE WHEN failures_since IS NULL OR failures_since <= $2 THEN $3 ELSE failures_since END \
         WHERE user_id = $1 AND (failures_since IS NULL OR failures_since <= $2 OR failures < $4) \
         RETURNING failures",
    )
    .bind(user.0)
    .bind(window_start.as_millis())
    .bind(now.as_millis())
    .bind(limit)
    .fetch_optional(db.pool())
    .await?;
    Ok(row.map(|r| r.try_get::<i64, _>("failures")).transpose()?)
}

/// When the current window of wrong codes began, if one is open.
pub async fn failures_since(db: &Db, user: UserId) -> Result<Option<Timestamp>, DbError> {
    let row = sqlx::query("SELECT failures_since FROM authenticator_apps WHERE user_id = $1")
        .bind(user.0)
        .fetch_optional(db.pool())
        .await?;
    Ok(row
        .map(|r| r.try_get::<Option<i64>, _>("failures_since"))
        .transpose()?
        .flatten()
        .map(Timestamp))
}

/// Gives back a reserved wrong code (the guess was not judged).
pub async fn release_failure(db: &Db, user: UserId) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE authenticator_apps SET failures = failures - 1 WHERE user_id = $1 AND failures > 0",
    )
    .bind(user.0)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Takes time step `step` for a sign-in: only if no code of that step or a later one was
/// taken before (the replay rule), clearing the wrong codes. Whether it was taken.
pub async fn take_step(
    conn: &mut AnyConnection,
    user: UserId,
    step: i64,
    now: Timestamp,
) -> Result<bool, DbError> {
    Ok(sqlx::query(
        "UPDATE authenticator_apps SET last_step = $2, last_used_at = $3, failures = 0, \
         failures_since = NULL WHERE user_id = $1 AND (last_step IS NULL OR last_step < $2)",
    )
    .bind(user.0)
    .bind(step)
    .bind(now.as_millis())
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}
