//! Sending SMS (SMS-1): one interface, several backends, chosen at start.
//!
//! - `Outbox` (the default in development): records each message in the database, logs it
//!   masked, and shows it at `GET /dev/sms` and `GET /dev/sms.json` (SMS-2).
//! - `Memory`: keeps messages in memory for tests to read.
//! - `Http`: a real gateway with Twilio's Messages API shape.
//!
//! Production refuses to start on the outbox (see the server's config).

pub mod http;
pub mod outbox;

use std::sync::{Arc, Mutex};

use crate::domain::{PhoneNumber, Timestamp};
use crate::server::Db;
use crate::server::db::DbError;

pub use http::HttpGateway;

/// One message as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsMessage {
    pub to_e164: String,
    pub body: String,
    pub sent_at: Timestamp,
}

#[derive(Debug, thiserror::Error)]
pub enum SmsError {
    #[error("gateway refused the message (HTTP {0})")]
    Rejected(u16),
    #[error("gateway failed (HTTP {0})")]
    Unavailable(u16),
    #[error("gateway timed out")]
    Timeout,
    #[error("gateway unreachable: {0}")]
    Network(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl SmsError {
    /// Whether the message certainly did not go out because of *this* message: the gateway
    /// refused it as invalid (400, 404, 422: a number it cannot send to). A timeout, a 5xx or
    /// a broken connection may have delivered (and billed) it; a 401/403/429 says the
    /// gateway would refuse every message, and giving those back would let a broken gateway
    /// be called without bound.
    pub fn surely_not_sent(&self) -> bool {
        matches!(self, Self::Rejected(400 | 404 | 422))
    }
}

#[derive(Clone)]
pub enum SmsGateway {
    Outbox(Db),
    Memory(Arc<Mutex<Vec<SmsMessage>>>),
    Http(Arc<HttpGateway>),
}

impl SmsGateway {
    pub fn memory() -> Self {
        Self::Memory(Arc::new(Mutex::new(Vec::new())))
    }

    /// Whether `/dev/sms` should exist.
    pub fn is_outbox(&self) -> bool {
        matches!(self, Self::Outbox(_))
    }

    /// A short name for logs and the start-up line.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Outbox(_) => "development outbox",
            Self::Memory(_) => "memory",
            Self::Http(_) => "HTTP gateway",
        }
    }

    pub async fn send(&self, to: &PhoneNumber, body: &str, now: Timestamp) -> Result<(), SmsError> {
        let message = SmsMessage {
            to_e164: to.e164().to_owned(),
            body: body.to_owned(),
            sent_at: now,
        };
        match self {
            Self::Outbox(db) => outbox::record(db, &message).await?,
            Self::Memory(messages) => {
                messages
                    .lock()
                    .map_err(|e| SmsError::Network(e.to_string()))?
                    .push(message);
            }
            Self::Http(gateway) => gateway.send(&message).await?,
        }
        tracing::info!(to = %to.masked(), backend = self.name(), "SMS sent");
        Ok(())
    }

    /// Messages held by the memory backend (tests), oldest first.
    pub fn sent(&self) -> Vec<SmsMessage> {
        match self {
            Self::Memory(messages) => messages.lock().map(|m| m.clone()).unwrap_or_default(),
            _ => Vec::new(),
        }
    }
}

/// The longest service name (`NIDAN_SERVICE_NAME`) a code message has room for, in UTF-16
/// units (what UCS-2 SMS count).
pub const MAX_SERVICE_NAME: usize = 10;
/// The longest WebOTP host with which a code message still fits one SMS.
pub const MAX_ONE_SEGMENT_HOST: usize = 30;

/// The text of a code message (SMS-3): the service name (`NIDAN_SERVICE_NAME`: the
/// operator's own, which the person recognises), the code, how long it lasts, and the WebOTP
/// line (`@host #code`) last, so that browsers can offer to fill it in.
///
/// Japanese text goes as UCS-2, where one SMS holds 70 units and a longer message is split
/// into billed 67-unit parts: with a service name of up to [`MAX_SERVICE_NAME`] and a host of
/// up to [`MAX_ONE_SEGMENT_HOST`] this is one SMS (see [`segments`]).
pub fn code_message(service: &str, code: &str, host: &str, ttl: std::time::Duration) -> String {
    // Whole minutes, never more than the code really lasts (and at least one).
    let minutes = (ttl.as_secs() / 60).max(1);
    format!("【{service}】認証コード{code}（{minutes}分有効）\n@{host} #{code}")
}

/// How many SMS a gateway bills for `text`: GSM 03.38 text (7-bit; the extension
/// characters `^{}\\[~]|€` and form feed take two) fits 160 in one message and 153 per part
/// of a longer one; anything else goes as UCS-2, 70 UTF-16 units in one and 67 per part.
pub fn segments(text: &str) -> usize {
    const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
        ¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
    const GSM_EXTENSION: &str = "^{}\\[~]|€\u{c}";
    let septets: Option<usize> = text
        .chars()
        .map(|c| {
            if GSM_BASIC.contains(c) {
                Some(1)
            } else if GSM_EXTENSION.contains(c) {
                Some(2)
            } else {
                None
            }
        })
        .sum();
    let (units, single, part) = match septets {
        Some(n) => (n, 160, 153),
        None => (text.encode_utf16().count(), 70, 67),
    };
    if units <= single {
        1
    } else {
        units.div_ceil(part)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_names_the_service_and_ends_with_the_webotp_line() {
        let body = code_message(
            "二段",
            "012345",
            "nidan.example",
            crate::server::services::otp::CODE_TTL,
        );
        assert!(body.starts_with("【二段】"));
        assert!(body.contains("10分有効"));
        assert!(body.contains("012345"));
        assert_eq!(body.lines().last(), Some("@nidan.example #012345"));
    }

    #[test]
    fn segments_are_counted_as_gateways_bill_them() {
        assert_eq!(segments(""), 1);
        assert_eq!(segments(&"a".repeat(160)), 1);
        assert_eq!(segments(&"a".repeat(161)), 2);
        assert_eq!(segments(&"a".repeat(306)), 2);
        assert_eq!(segments(&"a".repeat(307)), 3);
        // Extension characters take two septets.
        assert_eq!(segments(&"€".repeat(80)), 1);
        assert_eq!(segments(&"€".repeat(81)), 2);
        // One character outside GSM 03.38 makes the whole message UCS-2.
        assert_eq!(segments(&"あ".repeat(70)), 1);
        assert_eq!(segments(&format!("{}あ", "a".repeat(69))), 1);
        assert_eq!(segments(&"あ".repeat(71)), 2);
        assert_eq!(segments(&"あ".repeat(134)), 2);
        assert_eq!(segments(&"あ".repeat(135)), 3);
        // Outside the BMP a character is two UTF-16 units.
        assert_eq!(segments(&"😀".repeat(35)), 1);
        assert_eq!(segments(&"😀".repeat(36)), 2);
    }

    /// The longest service name and host the configuration allows, with the longest
    /// validity, still make one SMS: every code costs one message, not two.
    #[test]
    fn a_code_message_is_one_sms() {
        let service = "漢".repeat(MAX_SERVICE_NAME);
        let host = format!("{}.jp", "a".repeat(MAX_ONE_SEGMENT_HOST - 3));
        let body = code_message(
            &service,
            "012345",
            &host,
            std::time::Duration::from_secs(600),
        );
        assert_eq!(body.encode_utf16().count(), 70, "{body}");
        assert_eq!(segments(&body), 1);
        let longer = code_message(
            &service,
            "012345",
            &format!("a{host}"),
            std::time::Duration::from_secs(600),
        );
        assert_eq!(segments(&longer), 2);
    }
}
