//! Queries on `sms_sends`: one row per code SMS handed to the gateway, counted by the
//! sending limits (`services::sms_limits`, SEC-2).

use sqlx::{AnyConnection, Row};

use super::DbError;
use crate::domain::Timestamp;

/// Whose sends a count covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendScope<'a> {
    /// Sign-in codes to a number (only its verified owner can ask for them).
    OwnerSignIns(&'a str),
    /// Registration codes one account asked for, to one number.
    RegistrationsBy(&'a str, i64),
    /// Registration codes to one number, from every account (the harassment ceiling).
    RegistrationsTo(&'a str),
    /// Everything one account asked for.
    Account(i64),
    /// Everything one client address asked for.
    Address(&'a str),
    /// Every registration code the service sends.
    AllRegistrations,
    /// Everything the service sends.
    Everyone,
}

/// The sends of `scope` after `since`: how many, and the oldest of them.
pub async fn count_since(
    conn: &mut AnyConnection,
    scope: SendScope<'_>,
    since: Timestamp,
) -> Result<(i64, Option<Timestamp>), DbError> {
    macro_rules! count {
        ($filter:literal) => {
            concat!(
                "SELECT COUNT(*) AS n, MIN(sent_at) AS oldest FROM sms_sends WHERE sent_at > $1",
                $filter
            )
        };
    }
    let since = since.as_millis();
    // Each count names its own columns; `sent_at` leads every index it uses.
    let query = match scope {
        SendScope::OwnerSignIns(number) => {
            sqlx::query(count!(" AND phone_e164 = $2 AND purpose = 'login'"))
                .bind(since)
                .bind(number)
        }
        SendScope::RegistrationsBy(number, user) => sqlx::query(count!(
            " AND phone_e164 = $2 AND user_id = $3 AND purpose = 'phone'"
        ))
        .bind(since)
        .bind(number)
        .bind(user),
        SendScope::RegistrationsTo(number) => {
            sqlx::query(count!(" AND phone_e164 = $2 AND purpose = 'phone'"))
                .bind(since)
                .bind(number)
        }
        SendScope::Account(user) => sqlx::query(count!(" AND user_id = $2"))
            .bind(since)
            .bind(user),
        SendScope::Address(address) => sqlx::query(count!(" AND ip = $2"))
            .bind(since)
            .bind(address),
        SendScope::AllRegistrations => sqlx::query(count!(" AND purpose = 'phone'")).bind(since),
        SendScope::Everyone => sqlx::query(count!("")).bind(since),
    };
    let row = query.fetch_one(conn).await?;
    Ok((
        row.try_get("n")?,
        row.try_get::<Option<i64>, _>("oldest")?.map(Timestamp),
    ))
}

/// Records a send; returns its id.
pub async fn insert(
    conn: &mut AnyConnection,
    user: i64,
    phone_e164: &str,
    ip: &str,
    purpose: &str,
    at: Timestamp,
) -> Result<i64, DbError> {
    let row = sqlx::query(
        "INSERT INTO sms_sends (user_id, phone_e164, ip, sent_at, purpose) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(user)
    .bind(phone_e164)
    .bind(ip)
    .bind(at.as_millis())
    .bind(purpose)
    .fetch_one(conn)
    .await?;
    Ok(row.try_get("id")?)
}

/// Takes a send back (the gateway surely did not send it).
pub async fn delete(conn: &mut AnyConnection, id: i64) -> Result<(), DbError> {
    sqlx::query("DELETE FROM sms_sends WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes the sends before `before` (no limit looks back that far).
pub async fn purge(conn: &mut AnyConnection, before: Timestamp) -> Result<u64, DbError> {
    Ok(sqlx::query("DELETE FROM sms_sends WHERE sent_at < $1")
        .bind(before.as_millis())
        .execute(conn)
        .await?
        .rows_affected())
}
