//! tower-sessions' store on our `AnyPool` (the published sqlx store wants a pool per engine).
//! Sessions live in the database so that several processes share them (DB-2). The table
//! keeps a SHA-256 of the session id, not the id itself: a copy of the database does not
//! hand out live sessions. `user_id` is copied out of the record so that every session of
//! an account can be ended at once.

use std::collections::HashMap;

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use sqlx::Row;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error, Result, SessionStore};

use super::{Db, DbError};
use crate::domain::Timestamp;
use crate::server::auth_session::{SIGNED_IN_AT_KEY, USER_ID_KEY};

#[derive(Debug, Clone)]
pub struct SqlSessionStore {
    db: Db,
}

impl SqlSessionStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Deletes sessions whose expiry has passed. Run periodically by the server.
    pub async fn delete_expired(&self, now: OffsetDateTime) -> std::result::Result<u64, DbError> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(unix_ms(now))
            .execute(self.db.pool())
            .await?;
        Ok(done.rows_affected())
    }
}

/// Ends every session of `user` inside the caller's transaction (a password, phone or
/// two-factor change), and every sign-in still under way: no session signed in before
/// `now` is written after it (see `create`). The browser that made the change renews its
/// own afterwards (`auth_session::renew`).
pub async fn end_all_of_in(
    conn: &mut sqlx::AnyConnection,
    user: crate::server::db::users::UserId,
    now: Timestamp,
) -> std::result::Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user.0)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE users SET sessions_valid_from = $2 WHERE id = $1")
        .bind(user.0)
        .bind(now.as_millis())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

fn id_hash(id: &Id) -> String {
    hex::encode(Sha256::digest(id.to_string().as_bytes()))
}

fn unix_ms(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn backend(e: impl std::fmt::Display) -> Error {
    Error::Backend(e.to_string())
}

fn user_id_of(record: &Record) -> Option<i64> {
    record
        .data
        .get(USER_ID_KEY)
        .and_then(serde_json::Value::as_i64)
}

/// The session insert of `create`, on each engine (built once, not per sign-in; the two
/// differ only in the PostgreSQL row lock explained there).
macro_rules! insert_signed_in_since {
    ($lock:literal) => {
        concat!(
            "INSERT INTO sessions (id_hash, user_id, data, expires_at) ",
            "SELECT $1, $2, $3, $4 WHERE COALESCE((SELECT sessions_valid_from FROM users ",
            "WHERE id = $2",
            $lock,
            "), 0) <= $5 ON CONFLICT (id_hash) DO NOTHING"
        )
    };
}
const INSERT_SIGNED_IN_SINCE_POSTGRES: &str = insert_signed_in_since!(" FOR SHARE");
const INSERT_SIGNED_IN_SINCE_SQLITE: &str = insert_signed_in_since!("");

/// When a signed-in session was signed in (0 if it does not say: older than any change).
fn signed_in_at(record: &Record) -> i64 {
    record
        .data
        .get(SIGNED_IN_AT_KEY)
        .and_then(serde_json::Value::as_i64)
        .unwrap_or(0)
}

#[async_trait]
impl SessionStore for SqlSessionStore {
    async fn create(&self, record: &mut Record) -> Result<()> {
        loop {
            let data =
                serde_json::to_string(&record.data).map_err(|e| Error::Encode(e.to_string()))?;
            // A signed-in session is written only if the account's sessions have not all
            // been ended since it was signed in: a sign-in that was under way while the
            // password changed or two-factor was turned on does not outlive the change.
            // On PostgreSQL the account's row is read FOR SHARE: a change not yet committed
            // holds it, and this insert waits for it and then reads the new stamp (a plain
            // read would see the old one and slip in before the commit). SQLite's single
            // connection runs one statement or transaction at a time already.
            let sql = match self.db.kind() {
                super::DbKind::Postgres => INSERT_SIGNED_IN_SINCE_POSTGRES,
                super::DbKind::Sqlite => INSERT_SIGNED_IN_SINCE_SQLITE,
            };
            let inserted = sqlx::query(sql)
                .bind(id_hash(&record.id))
                .bind(user_id_of(record))
                .bind(data)
                .bind(unix_ms(record.expiry_date))
                .bind(signed_in_at(record))
                .execute(self.db.pool())
                .await
                .map_err(backend)?;
            if inserted.rows_affected() == 1 {
                return Ok(());
            }
            let taken = sqlx::query("SELECT 1 FROM sessions WHERE id_hash = $1")
                .bind(id_hash(&record.id))
                .fetch_optional(self.db.pool())
                .await
                .map_err(backend)?
                .is_some();
            if !taken {
                return Err(Error::Backend(
                    "the account's sessions were ended after this sign-in began".to_owned(),
                ));
            }
            // A 128-bit collision: astronomically unlikely, but never overwrite a session.
            record.id = Id::default();
        }
    }

    /// Updates a session that exists. A session deleted meanwhile (signed out, or ended by a
    /// password change) stays deleted: a request still in flight cannot bring it back.
    async fn save(&self, record: &Record) -> Result<()> {
        let data = serde_json::to_string(&record.data).map_err(|e| Error::Encode(e.to_string()))?;
        sqlx::query(
            "UPDATE sessions SET user_id = $2, data = $3, expires_at = $4 WHERE id_hash = $1",
        )
        .bind(id_hash(&record.id))
        .bind(user_id_of(record))
        .bind(data)
        .bind(unix_ms(record.expiry_date))
        .execute(self.db.pool())
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let row = sqlx::query(
            "SELECT data, expires_at FROM sessions WHERE id_hash = $1 AND expires_at > $2",
        )
        .bind(id_hash(id))
        // The wall clock, not the state's: tower-sessions stamps `expiry_date` with the wall
        // clock, so a session's expiry can only be judged against the same clock (a test's
        // `ManualClock` would mix the two).
        .bind(unix_ms(OffsetDateTime::now_utc()))
        .fetch_optional(self.db.pool())
        .await
        .map_err(backend)?;
        let Some(row) = row else { return Ok(None) };
        let data: String = row.try_get("data").map_err(backend)?;
        let expires_at: i64 = row.try_get("expires_at").map_err(backend)?;
        let data: HashMap<String, serde_json::Value> =
            serde_json::from_str(&data).map_err(|e| Error::Decode(e.to_string()))?;
        let expiry_date =
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(expires_at) * 1_000_000)
                .map_err(|e| Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash(id))
            .execute(self.db.pool())
            .await
            .map_err(backend)?;
        Ok(())
    }
}
