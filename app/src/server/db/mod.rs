//! The database: SQLite by default, PostgreSQL when the URL says so (DB-1). One `AnyPool`
//! serves both, so every query is written once, with `$1` placeholders that both engines
//! understand. Timestamps are BIGINT milliseconds, flags are nullable timestamps; that keeps
//! to the types both drivers decode the same way. Schemas differ only where the engines do
//! (identity columns), in `migrations/sqlite` and `migrations/postgres`.
//!
//! SQLite runs on a single connection: writes are serialised by SQLite anyway, and one
//! connection rules out `SQLITE_BUSY` when a transaction that read first starts to write.
//! Several server processes need PostgreSQL (DB-2).
//!
//! No unbounded wait (SEC-8): taking a connection from the pool gives up after
//! [`ACQUIRE_TIMEOUT`]; on PostgreSQL every connection is opened with a statement, lock and
//! idle-in-transaction timeout; on SQLite a locked file is waited for at most
//! [`SQLITE_BUSY_TIMEOUT`]. A statement that hits one of them fails like any database error
//! (503, see `AppError`), and its transaction rolls back.

pub mod authenticator_apps;
pub mod browsers;
pub mod passkeys;
pub mod recovery_codes;
pub mod security_events;
pub mod session_store;
pub mod sms_sends;
pub mod throttles;
pub mod users;
pub mod verifications;

use std::{path::Path, time::Duration};

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

/// The longest a request waits for a pooled connection.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);
/// PostgreSQL: the longest one statement may run (every query here is an indexed lookup or
/// a small write; a statement this slow means the database is in trouble).
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(10);
/// PostgreSQL: the longest a statement waits for a row or advisory lock.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(5);
/// PostgreSQL: a transaction left open without a statement for this long is ended by the
/// server, so that a stalled request cannot hold locks.
pub const IDLE_IN_TRANSACTION_TIMEOUT: Duration = Duration::from_secs(30);
/// SQLite: the longest a statement waits for another process's lock on the file.
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// A pooled connection idle for longer than this is tested (a ping) before it is handed
/// out; one used more recently is not. See [`ping_if_idle`].
pub const PING_IF_IDLE_FOR: Duration = Duration::from_secs(30);

/// sqlx's pools by default ping every connection they hand out, and again when it comes
/// back: each statement run on the pool costs three round trips to the database (on
/// SQLite, three wake-ups of its worker thread) instead of one. The ping on return stays
/// (sqlx always does it; it also finds a connection an error left broken); the one before
/// use is kept only for a connection that sat idle, which is when the other end may have
/// gone (a PostgreSQL restart, a firewall dropping idle connections). A connection that
/// broke within the last [`PING_IF_IDLE_FOR`] fails its next statement like any database
/// error (503, try again), and the ping on its return then drops it. Issue 11: a password
/// sign-in takes a connection from the pool six times, and those pings were a measurable
/// share of the CPU left to it beside argon2 (BENCHMARKS.md).
fn ping_if_idle<'c>(
    conn: &'c mut sqlx::AnyConnection,
    meta: sqlx::pool::PoolConnectionMetadata,
) -> std::pin::Pin<Box<dyn Future<Output = Result<bool, sqlx::Error>> + Send + 'c>> {
    Box::pin(async move {
        if meta.idle_for > PING_IF_IDLE_FOR {
            sqlx::Connection::ping(conn).await?;
        }
        Ok(true)
    })
}

/// The per-connection settings that bound every PostgreSQL statement.
fn postgres_timeouts() -> String {
    format!(
        "SET statement_timeout = {}; SET lock_timeout = {}; SET idle_in_transaction_session_timeout = {}",
        STATEMENT_TIMEOUT.as_millis(),
        LOCK_TIMEOUT.as_millis(),
        IDLE_IN_TRANSACTION_TIMEOUT.as_millis()
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    Sqlite,
    Postgres,
}

/// A handle on the pool. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    kind: DbKind,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL (use sqlite:// or postgres://)")]
    UnsupportedUrl,
    #[error("cannot create the database folder: {0}")]
    Folder(std::io::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// Lets `?` turn a sqlx error into a service error's `Db(DbError)` variant: one definition
/// for every service whose transactions still hold their own SQL.
macro_rules! service_error_from_sqlx {
    ($error:ty) => {
        impl From<sqlx::Error> for $error {
            fn from(e: sqlx::Error) -> Self {
                Self::Db($crate::server::db::DbError::Sqlx(e))
            }
        }
    };
}
pub(crate) use service_error_from_sqlx;

/// What a client is asked to wait when the database does not answer.
pub const RETRY_AFTER_UNAVAILABLE_SECS: u64 = 5;

impl DbError {
    /// Whether this is a violation of a unique index (by error kind, never by message).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, DbError::Sqlx(sqlx::Error::Database(e)) if e.is_unique_violation())
    }

    /// Whether the database did not answer (down, unreachable, out of connections, or a
    /// statement or lock timeout), as opposed to a fault in the data or the code.
    pub fn is_unavailable(&self) -> bool {
        let DbError::Sqlx(e) = self else {
            return false;
        };
        match e {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(db) => db.code().is_some_and(|code| {
                // PostgreSQL: query_canceled (statement_timeout), lock_not_available
                // (lock_timeout), connection exceptions (08…), shutdown (57P0…), too many
                // connections (53300). SQLite gives extended result codes; the low byte is
                // the primary one: SQLITE_BUSY (5), SQLITE_LOCKED (6).
                let sqlite = code.parse::<i64>().ok().map(|c| c & 0xff);
                matches!(code.as_ref(), "57014" | "55P03" | "53300")
                    || code.starts_with("08")
                    || code.starts_with("57P0")
                    || matches!(sqlite, Some(5 | 6))
            }),
            _ => false,
        }
    }
}

impl From<DbError> for crate::error::AppError {
    /// Logged once here, at the boundary. A database that does not answer is 503 (try
    /// again); anything else is `Internal`. Neither ever lets a request through.
    fn from(e: DbError) -> Self {
        if e.is_unavailable() {
            tracing::error!(error = %e, "database unavailable");
            crate::error::AppError::Unavailable {
                retry_after_secs: RETRY_AFTER_UNAVAILABLE_SECS,
            }
        } else {
            tracing::error!(error = %e, "database failure");
            crate::error::AppError::Internal
        }
    }
}

impl Db {
    /// Connects, creating the SQLite file and its folder if needed, and migrates.
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        install_default_drivers();
        let kind = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            DbKind::Postgres
        } else if url.starts_with("sqlite:") {
            DbKind::Sqlite
        } else {
            return Err(DbError::UnsupportedUrl);
        };
        let pool = match kind {
            DbKind::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(10)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .test_before_acquire(false)
                    .before_acquire(ping_if_idle)
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            // Several statements in one simple query: not prepared.
                            conn.execute(sqlx::raw_sql(&postgres_timeouts())).await?;
                            Ok(())
                        })
                    })
                    .connect(url)
                    .await?
            }
            DbKind::Sqlite => {
                let url = prepare_sqlite_url(url)?;
                AnyPoolOptions::new()
                    .max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .test_before_acquire(false)
                    .before_acquire(ping_if_idle)
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            conn.execute("PRAGMA journal_mode = WAL").await?;
                            conn.execute("PRAGMA synchronous = NORMAL").await?;
                            conn.execute("PRAGMA foreign_keys = ON").await?;
                            conn.execute(
                                format!(
                                    "PRAGMA busy_timeout = {}",
                                    SQLITE_BUSY_TIMEOUT.as_millis()
                                )
                                .as_str(),
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect(&url)
                    .await?
            }
        };
        let db = Self { pool, kind };
        db.migrate(url).await?;
        Ok(db)
    }

    /// Runs the migrations. On PostgreSQL on a connection of their own, without the
    /// per-statement timeouts: a long migration, or a second process waiting for the first
    /// one's migration lock at start-up, must not fail on them.
    async fn migrate(&self, url: &str) -> Result<(), DbError> {
        match self.kind {
            DbKind::Sqlite => {
                sqlx::migrate!("../migrations/sqlite")
                    .run(&self.pool)
                    .await?
            }
            DbKind::Postgres => {
                use sqlx::Connection;
                let mut conn = sqlx::AnyConnection::connect(url).await?;
                sqlx::migrate!("../migrations/postgres")
                    .run(&mut conn)
                    .await?;
                conn.close().await?;
            }
        }
        Ok(())
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn kind(&self) -> DbKind {
        self.kind
    }

    /// Closes the pool (tests drop their PostgreSQL databases after this).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A phone number as stored: E.164, checked before it was kept. One that no longer parses
/// is corrupt data, not bad input.
pub fn stored_phone(e164: &str) -> Result<crate::domain::PhoneNumber, DbError> {
    crate::domain::PhoneNumber::from_e164(e164)
        .map_err(|e| DbError::Corrupt(format!("stored phone number: {e}")))
}

/// `$first, $first+1, …` for `n` values bound in a row (an `IN (…)` list).
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Serialises transactions that share a name across processes, on PostgreSQL: takes the
/// transaction-scoped advisory lock of each name, in sorted order (so that two
/// transactions sharing names cannot deadlock), in one statement. Transactions under other
/// names do not wait. SQLite runs on one connection, which serialises every transaction
/// already; there this does nothing.
pub async fn lock_names(
    conn: &mut sqlx::AnyConnection,
    kind: DbKind,
    names: &[&str],
) -> Result<(), DbError> {
    if kind != DbKind::Postgres || names.is_empty() {
        return Ok(());
    }
    let mut names = names.to_vec();
    names.sort_unstable();
    names.dedup();
    // Sorted by the database itself: PostgreSQL evaluates a volatile function in the
    // select list after `ORDER BY`, so every caller takes the same names in the same order.
    let values = (1..=names.len())
        .map(|i| format!("(${i}::text)"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT 1 AS locked FROM (SELECT pg_advisory_xact_lock(hashtextextended(v.name, 0)) \
         FROM (VALUES {values}) AS v(name) ORDER BY v.name) AS l"
    );
    let mut query = sqlx::query(&sql);
    for name in names {
        query = query.bind(name);
    }
    query.execute(conn).await?;
    Ok(())
}

/// `sqlite://data/nidan.db` → makes sure `data/` exists and asks SQLite to create the file.
fn prepare_sqlite_url(url: &str) -> Result<String, DbError> {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let parent = Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty());
    if path != ":memory:"
        && let Some(parent) = parent
    {
        std::fs::create_dir_all(parent).map_err(DbError::Folder)?;
    }
    let mode = if query.contains("mode=") {
        String::new()
    } else {
        "mode=rwc".to_owned()
    };
    let query = [query, mode.as_str()]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("&");
    Ok(format!("sqlite://{path}?{query}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_the_values_from_the_first() {
        assert_eq!(placeholders(2, 3), "$2, $3, $4");
        assert_eq!(placeholders(1, 1), "$1");
        assert_eq!(placeholders(1, 0), "");
    }

    #[test]
    fn sqlite_urls_get_create_mode() {
        let dir = std::env::temp_dir().join("nidan-url-test");
        let url = format!("sqlite://{}/x.db", dir.display());
        assert_eq!(
            prepare_sqlite_url(&url).unwrap(),
            format!("sqlite://{}/x.db?mode=rwc", dir.display())
        );
        assert!(dir.exists());
        assert_eq!(
            prepare_sqlite_url("sqlite::memory:").unwrap(),
            "sqlite://:memory:?mode=rwc"
        );
        assert_eq!(
            prepare_sqlite_url("sqlite://a.db?mode=ro").unwrap(),
            "sqlite://a.db?mode=ro"
        );
    }
}
