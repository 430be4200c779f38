//! The development outbox: messages go to a table instead of a phone (SMS-2).

use sqlx::Row;

use super::SmsMessage;
use crate::domain::Timestamp;
use crate::server::Db;
use crate::server::db::DbError;

/// How many messages `/dev/sms` lists.
pub const LIST_LIMIT: i64 = 200;

pub async fn record(db: &Db, message: &SmsMessage) -> Result<(), DbError> {
    sqlx::query("INSERT INTO sms_outbox (to_e164, body, sent_at) VALUES ($1, $2, $3)")
        .bind(&message.to_e164)
        .bind(&message.body)
        .bind(message.sent_at.as_millis())
        .execute(db.pool())
        .await?;
    Ok(())
}

/// The newest messages first.
pub async fn list(db: &Db) -> Result<Vec<SmsMessage>, DbError> {
    let rows =
        sqlx::query("SELECT to_e164, body, sent_at FROM sms_outbox ORDER BY id DESC LIMIT $1")
            .bind(LIST_LIMIT)
            .fetch_all(db.pool())
            .await?;
    rows.iter()
        .map(|r| {
            Ok(SmsMessage {
                to_e164: r.try_get("to_e164")?,
                body: r.try_get("body")?,
                sent_at: Timestamp(r.try_get("sent_at")?),
            })
        })
        .collect()
}
