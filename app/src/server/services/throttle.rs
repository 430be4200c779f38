//! Sign-in throttling (SEC-1): every wrong password is recorded against the account (its
//! normalised email) and the client IP. Past a number of free failures within 15 minutes,
//! each further attempt must wait twice as long as the one before (1 s, 2 s, 4 s … capped
//! at 15 minutes) after the last failure. A right password clears the account's record.
//! The second factor has its own lock (see `login`).

use std::time::Duration;

use sqlx::Row;

use crate::domain::{Email, Timestamp};
use crate::server::AppState;
use crate::server::db::DbError;

const WINDOW: Duration = Duration::from_secs(15 * 60);
const MAX_DELAY_SECS: u64 = 15 * 60;

#[derive(Debug, thiserror::Error)]
pub enum ThrottleError {
    #[error("too many failed sign-ins; retry in {retry_after_secs} s")]
    Throttled { retry_after_secs: u64 },
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<ThrottleError> for crate::error::AppError {
    fn from(e: ThrottleError) -> Self {
        match e {
            ThrottleError::Throttled { retry_after_secs } => {
                tracing::warn!(retry_after_secs, "sign-in throttled");
                Self::RateLimited { retry_after_secs }
            }
            ThrottleError::Db(e) => e.into(),
        }
    }
}

impl From<sqlx::Error> for ThrottleError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e.into())
    }
}

/// The account's scope key: the normalised email, or the trimmed input when it is no email.
pub fn account_scope(email: &str) -> String {
    let key = Email::parse(email)
        .map(|e| e.as_str().to_owned())
        .unwrap_or_else(|_| email.trim().to_lowercase());
    format!("account:{key}")
}

pub fn ip_scope(ip: &str) -> String {
    format!("ip:{ip}")
}

/// The wait after `failures` failures of which `free` cost nothing.
fn delay(failures: u64, free: u64) -> Option<u64> {
    (failures >= free).then(|| {
        1u64.checked_shl(u32::try_from(failures - free).unwrap_or(31))
            .unwrap_or(u64::MAX)
            .min(MAX_DELAY_SECS)
    })
}

/// The scopes a password attempt counts against: the account and the client IP.
pub fn login_scopes(
    settings: &crate::server::Settings,
    email: &str,
    ip: &str,
) -> [(String, u32); 2] {
    [
        (
            account_scope(email),
            settings.login_free_failures_per_account,
        ),
        (ip_scope(ip), settings.login_free_failures_per_ip),
    ]
}

/// An attempt counted before it was judged; dropped from the count if it succeeds.
#[derive(Debug)]
#[must_use]
pub struct Attempt {
    ids: Vec<i64>,
    /// The first scope (the account's): a success also forgets its earlier failures.
    account: Option<String>,
}

/// Counts a password attempt against the account of `email` and the client `ip`.
pub async fn begin_password_attempt(
    state: &AppState,
    email: &str,
    ip: &str,
    now: Timestamp,
) -> Result<Attempt, ThrottleError> {
    begin_attempt(state, &login_scopes(&state.settings, email, ip), now).await
}

/// Counts an attempt against every scope before it is judged, refusing it if it comes too
/// soon after earlier ones. Check and count are one serialised step (one transaction; an
/// advisory lock on PostgreSQL, SQLite's single connection otherwise), so parallel attempts
/// cannot all pass the check before any of them is counted.
pub async fn begin_attempt(
    state: &AppState,
    scopes: &[(String, u32)],
    now: Timestamp,
) -> Result<Attempt, ThrottleError> {
    let mut tx = state.db.pool().begin().await?;
    if state.db.kind() == crate::server::db::DbKind::Postgres {
        sqlx::query("SELECT 1 AS locked FROM (SELECT pg_advisory_xact_lock(7243002)) AS l")
            .execute(&mut *tx)
            .await?;
    }
    for (scope, free) in scopes {
        let row = sqlx::query("SELECT COUNT(*) AS n, MAX(at) AS last FROM login_failures WHERE scope = $1 AND at > $2")
            .bind(scope)
            .bind(now.minus(WINDOW).as_millis())
            .fetch_one(&mut *tx)
            .await?;
        let failures = u64::try_from(row.try_get::<i64, _>("n")?).unwrap_or(0);
        let Some(last) = row.try_get::<Option<i64>, _>("last")?.map(Timestamp) else {
            continue;
        };
        if let Some(wait) = delay(failures, u64::from(*free)) {
            let until = last.plus(Duration::from_secs(wait));
            if until > now {
                return Err(ThrottleError::Throttled {
                    retry_after_secs: now.secs_until(until),
                });
            }
        }
    }
    let mut ids = Vec::with_capacity(scopes.len());
    for (scope, _) in scopes {
        let row =
            sqlx::query("INSERT INTO login_failures (scope, at) VALUES ($1, $2) RETURNING id")
                .bind(scope)
                .bind(now.as_millis())
                .fetch_one(&mut *tx)
                .await?;
        ids.push(row.try_get("id")?);
    }
    // Old rows no longer count; drop them as we go.
    sqlx::query("DELETE FROM login_failures WHERE at <= $1")
        .bind(now.minus(WINDOW).as_millis())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Attempt {
        ids,
        account: scopes.first().map(|(scope, _)| scope.clone()),
    })
}

/// The attempt succeeded: it no longer counts, and neither do the earlier failures of its
/// first scope (the account's, after a right password or recovery code).
pub async fn succeeded(state: &AppState, attempt: Attempt) -> Result<(), ThrottleError> {
    let mut tx = state.db.pool().begin().await?;
    for id in attempt.ids {
        sqlx::query("DELETE FROM login_failures WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    if let Some(scope) = attempt.account {
        sqlx::query("DELETE FROM login_failures WHERE scope = $1")
            .bind(scope)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::delay;

    #[test]
    fn delays_double_after_the_free_failures_and_are_capped() {
        assert_eq!(delay(4, 5), None);
        assert_eq!(delay(5, 5), Some(1));
        assert_eq!(delay(6, 5), Some(2));
        assert_eq!(delay(9, 5), Some(16));
        assert_eq!(delay(40, 5), Some(15 * 60));
        assert_eq!(delay(500, 5), Some(15 * 60));
    }
}
