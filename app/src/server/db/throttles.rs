//! Queries on `login_failures`: one row per counted attempt, under a scope (see
//! `services::throttle` for what the scopes are and how they are judged).
//!
//! Each function takes the caller's connection or transaction and touches every scope of
//! an attempt in one statement, so a sign-in costs the same few round trips whatever the
//! number of scopes.

use sqlx::{AnyConnection, Row};

use super::{DbError, placeholders};
use crate::domain::Timestamp;

/// The failures of one scope since some moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeFailures {
    pub scope: String,
    pub count: u64,
    /// The latest of them.
    pub last: Timestamp,
}

/// The failures of each of `scopes` after `since`. Scopes without any are left out.
pub async fn failures_since(
    conn: &mut AnyConnection,
    scopes: &[&str],
    since: Timestamp,
) -> Result<Vec<ScopeFailures>, DbError> {
    if scopes.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT scope, COUNT(*) AS n, MAX(at) AS last FROM login_failures \
         WHERE at > $1 AND scope IN ({}) GROUP BY scope",
        placeholders(2, scopes.len())
    );
    bind_scopes(sqlx::query(&sql).bind(since.as_millis()), scopes)
        .fetch_all(conn)
        .await?
        .iter()
        .map(|row| {
            Ok(ScopeFailures {
                scope: row.try_get("scope")?,
                count: u64::try_from(row.try_get::<i64, _>("n")?).unwrap_or(0),
                last: Timestamp(row.try_get("last")?),
            })
        })
        .collect()
}

/// Records one failure at `at` under each of `scopes`; returns the new rows' ids (in no
/// particular order).
pub async fn record(
    conn: &mut AnyConnection,
    scopes: &[&str],
    at: Timestamp,
) -> Result<Vec<i64>, DbError> {
    if scopes.is_empty() {
        return Ok(Vec::new());
    }
    let values = (0..scopes.len())
        .map(|i| format!("(${}, $1)", i + 2))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!("INSERT INTO login_failures (scope, at) VALUES {values} RETURNING id");
    bind_scopes(sqlx::query(&sql).bind(at.as_millis()), scopes)
        .fetch_all(conn)
        .await?
        .iter()
        .map(|row| Ok(row.try_get("id")?))
        .collect()
}

/// Deletes the rows `ids`, and every row of the scopes `cleared`.
pub async fn forget(
    conn: &mut AnyConnection,
    ids: &[i64],
    cleared: &[String],
) -> Result<(), DbError> {
    if ids.is_empty() && cleared.is_empty() {
        return Ok(());
    }
    // `id IN ()` is no SQL; an empty list becomes a condition that holds for no row.
    let by_id = if ids.is_empty() {
        "1 = 0".to_owned()
    } else {
        format!("id IN ({})", placeholders(1, ids.len()))
    };
    let by_scope = if cleared.is_empty() {
        "1 = 0".to_owned()
    } else {
        format!("scope IN ({})", placeholders(ids.len() + 1, cleared.len()))
    };
    let sql = format!("DELETE FROM login_failures WHERE {by_id} OR {by_scope}");
    let mut query = sqlx::query(&sql);
    for id in ids {
        query = query.bind(*id);
    }
    bind_scopes(query, cleared).execute(conn).await?;
    Ok(())
}

/// Binds each scope, in order, after what `query` has bound so far.
fn bind_scopes<'q, S: AsRef<str>>(
    mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    scopes: &'q [S],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for scope in scopes {
        query = query.bind(scope.as_ref());
    }
    query
}

/// The most rows one [`purge`] deletes.
pub const PURGE_BATCH: u64 = 5_000;

/// Deletes up to [`PURGE_BATCH`] failures at or before `before` (no rule reads them any
/// more); returns how many went.
pub async fn purge(conn: &mut AnyConnection, before: Timestamp) -> Result<u64, DbError> {
    Ok(sqlx::query(
        "DELETE FROM login_failures WHERE id IN \
         (SELECT id FROM login_failures WHERE at <= $1 LIMIT $2)",
    )
    .bind(before.as_millis())
    .bind(i64::try_from(PURGE_BATCH).unwrap_or(i64::MAX))
    .execute(conn)
    .await?
    .rows_affected())
}
