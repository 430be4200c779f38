//! Queries on `verifications`: one row per attempt to prove a number, for one account and
//! one purpose (`services::otp` holds the state machine and decides; this holds the SQL).
//! `purpose` is stored as text (`phone`, `login`); a row's own wrong entries are
//! `attempts - inherited_attempts` (the rest it carried over from earlier attempts, PH-6).

use sqlx::{AnyConnection, Row};

use super::{Db, DbError, stored_phone, users::UserId};
use crate::domain::{PhoneNumber, Timestamp};

/// A verification waiting for its code.
#[derive(Debug, Clone)]
pub struct Pending {
    pub id: i64,
    pub phone: PhoneNumber,
    pub code_sent_at: Timestamp,
    pub expires_at: Timestamp,
    pub enable_two_factor: bool,
}

/// Which pending verification a step is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// The account's newest for the purpose: the phone dialog has one attempt at a time.
    Newest,
    /// One by id: each browser signing in has its own (its session holds the id), so two
    /// sign-ins neither kill nor share each other's codes and attempts.
    Id(i64),
}

fn pending_from(row: &sqlx::any::AnyRow) -> Result<Pending, DbError> {
    Ok(Pending {
        id: row.try_get("id")?,
        phone: stored_phone(&row.try_get::<String, _>("phone_e164")?)?,
        code_sent_at: Timestamp(row.try_get("code_sent_at")?),
        expires_at: Timestamp(row.try_get("expires_at")?),
        enable_two_factor: row.try_get::<i64, _>("enable_two_factor")? != 0,
    })
}

/// The pending verification `which` of `user` for `purpose` (expired or not).
pub async fn pending(
    conn: &mut AnyConnection,
    user: UserId,
    purpose: &str,
    which: Which,
) -> Result<Option<Pending>, DbError> {
    macro_rules! select {
        ($filter:literal) => {
            concat!(
                "SELECT id, phone_e164, code_sent_at, expires_at, enable_two_factor \
                 FROM verifications ",
                $filter
            )
        };
    }
    let query = match which {
        Which::Newest => sqlx::query(select!(
            "WHERE user_id = $1 AND purpose = $2 AND state = 'pending' ORDER BY id DESC LIMIT 1"
        )),
        Which::Id(id) => sqlx::query(select!(
            "WHERE id = $1 AND user_id = $2 AND purpose = $3 AND state = 'pending'"
        ))
        .bind(id),
    };
    let row = query
        .bind(user.0)
        .bind(purpose)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(pending_from).transpose()
}

/// Moves a pending verification to `state` (`dead`, `abandoned`); one in another state
/// stays as it is.
pub async fn end(conn: &mut AnyConnection, id: i64, state: &str) -> Result<(), DbError> {
    sqlx::query("UPDATE verifications SET state = $1 WHERE id = $2 AND state = 'pending'")
        .bind(state)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Abandons every pending verification of `user` for `purpose`, but `keep`.
pub async fn abandon_pending(
    conn: &mut AnyConnection,
    user: UserId,
    purpose: &str,
    keep: Option<i64>,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE verifications SET state = 'abandoned' \
         WHERE user_id = $1 AND purpose = $2 AND state = 'pending' AND id <> $3",
    )
    .bind(user.0)
    .bind(purpose)
    // Ids start at 1.
    .bind(keep.unwrap_or(0))
    .execute(conn)
    .await?;
    Ok(())
}

/// The wrong entries the recent verifications of `user` for `purpose` and `phone` made
/// themselves (not the ones they carried over), of those whose code went out after `since`
/// and that were not used; and the oldest such code's sending time.
pub async fn recent_entries(
    conn: &mut AnyConnection,
    user: UserId,
    purpose: &str,
    phone: &PhoneNumber,
    since: Timestamp,
) -> Result<(i64, Option<Timestamp>), DbError> {
    let row = sqlx::query(
        "SELECT CAST(COALESCE(SUM(attempts - inherited_attempts), 0) AS BIGINT) AS used, \
         MIN(code_sent_at) AS oldest FROM verifications \
         WHERE user_id = $1 AND purpose = $2 AND phone_e164 = $3 \
         AND code_sent_at > $4 AND state <> 'verified' AND attempts > inherited_attempts",
    )
    .bind(user.0)
    .bind(purpose)
    .bind(phone.e164())
    .bind(since.as_millis())
    .fetch_one(conn)
    .await?;
    Ok((
        row.try_get("used")?,
        row.try_get::<Option<i64>, _>("oldest")?.map(Timestamp),
    ))
}

/// A verification to start.
#[derive(Debug, Clone)]
pub struct NewVerification<'a> {
    pub user: UserId,
    pub purpose: &'a str,
    pub phone: &'a PhoneNumber,
    pub code_hash: &'a str,
    pub sent_at: Timestamp,
    pub expires_at: Timestamp,
    /// Wrong entries carried over from earlier attempts (PH-6).
    pub inherited: i64,
    pub enable_two_factor: bool,
}

/// Starts a pending verification; returns its id.
pub async fn insert(conn: &mut AnyConnection, new: &NewVerification<'_>) -> Result<i64, DbError> {
    let row = sqlx::query(
        "INSERT INTO verifications \
         (user_id, purpose, phone_e164, code_hash, code_sent_at, expires_at, attempts, \
          inherited_attempts, state, enable_two_factor, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $8, $8, 'pending', $7, $5) RETURNING id",
    )
    .bind(new.user.0)
    .bind(new.purpose)
    .bind(new.phone.e164())
    .bind(new.code_hash)
    .bind(new.sent_at.as_millis())
    .bind(new.expires_at.as_millis())
    .bind(i64::from(new.enable_two_factor))
    .bind(new.inherited)
    .fetch_one(conn)
    .await?;
    Ok(row.try_get("id")?)
}

/// Gives a pending verification a new code (a resend); its entries stay.
pub async fn replace_code(
    conn: &mut AnyConnection,
    id: i64,
    code_hash: &str,
    sent_at: Timestamp,
    expires_at: Timestamp,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE verifications SET code_hash = $1, code_sent_at = $2, expires_at = $3 \
         WHERE id = $4 AND state = 'pending'",
    )
    .bind(code_hash)
    .bind(sent_at.as_millis())
    .bind(expires_at.as_millis())
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Takes one entry of pending verification `pending` in a single statement, if it has
/// fewer than `max` and the recent verifications of its account, purpose and number made
/// fewer than `max` wrong entries between them (see [`recent_entries`], from `since`).
/// Returns the entries used with this one and the stored code hash; `None` when no entry
/// was left or the verification is no longer pending.
pub async fn reserve_entry(
    conn: &mut AnyConnection,
    pending: &Pending,
    user: UserId,
    purpose: &str,
    max: i64,
    since: Timestamp,
) -> Result<Option<(i64, String)>, DbError> {
    let row = sqlx::query(
        "UPDATE verifications SET attempts = attempts + 1 \
         WHERE id = $1 AND state = 'pending' AND attempts < $2 \
         AND (SELECT COALESCE(SUM(v.attempts - v.inherited_attempts), 0) FROM verifications v \
              WHERE v.user_id = $3 AND v.purpose = $4 AND v.phone_e164 = $5 \
              AND v.code_sent_at > $6 AND v.state <> 'verified' \
              AND v.attempts > v.inherited_attempts) < $2 \
         RETURNING attempts, code_hash",
    )
    .bind(pending.id)
    .bind(max)
    .bind(user.0)
    .bind(purpose)
    .bind(pending.phone.e164())
    .bind(since.as_millis())
    .fetch_optional(conn)
    .await?;
    row.map(|r| Ok((r.try_get("attempts")?, r.try_get("code_hash")?)))
        .transpose()
}

/// The state of verification `id` and its entries used.
pub async fn state_of(conn: &mut AnyConnection, id: i64) -> Result<(String, i64), DbError> {
    let row = sqlx::query("SELECT state, attempts FROM verifications WHERE id = $1")
        .bind(id)
        .fetch_one(conn)
        .await?;
    Ok((row.try_get("state")?, row.try_get("attempts")?))
}

/// Marks a pending verification used. `false` when another request used it first.
pub async fn consume(conn: &mut AnyConnection, id: i64) -> Result<bool, DbError> {
    let done = sqlx::query(
        "UPDATE verifications SET state = 'verified' WHERE id = $1 AND state = 'pending'",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Makes a used verification pending again, giving back the entry the right code took.
pub async fn unconsume(db: &Db, id: i64) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE verifications SET state = 'pending', attempts = attempts - 1 \
         WHERE id = $1 AND state = 'verified' AND attempts > 0",
    )
    .bind(id)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Ends the pending sign-ins of `user` and forgets every wrong entry of their unused
/// sign-in verifications, their own and those they carried over (a recovery code proved
/// the owner: earlier wrong codes no longer hold back a new one).
pub async fn forget_sign_in_entries(conn: &mut AnyConnection, user: UserId) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE verifications \
         SET state = CASE WHEN state = 'pending' THEN 'abandoned' ELSE state END, \
         attempts = 0, inherited_attempts = 0 \
         WHERE user_id = $1 AND purpose = 'login' AND state <> 'verified'",
    )
    .bind(user.0)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes the verifications whose code expired before `before`.
pub async fn purge(conn: &mut AnyConnection, before: Timestamp) -> Result<u64, DbError> {
    Ok(
        sqlx::query("DELETE FROM verifications WHERE expires_at < $1")
            .bind(before.as_millis())
            .execute(conn)
            .await?
            .rows_affected(),
    )
}
