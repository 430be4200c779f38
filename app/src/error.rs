//! The one error type the client sees. Every server function returns it; internal causes
//! (database, crypto, gateway) are logged once on the server and reach the client only as
//! [`AppError::Internal`]. The variant names double as message keys; `Display` is the
//! Japanese message shown to the person.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

use crate::domain::{EmailError, PasswordError, password};

/// Which form field an error belongs to, so the page can show it next to that field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Email,
    Password,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("メールアドレスを入力してください。")]
    EmailEmpty,
    #[error("メールアドレスの形式が正しくありません。")]
    EmailMalformed,
    #[error("このメールアドレスは既に登録されています。ログインしてください。")]
    EmailTaken,
    #[error("パスワードは{min}文字以上で入力してください。")]
    PasswordTooShort { min: usize },
    #[error("パスワードは{max}文字以内で入力してください。")]
    PasswordTooLong { max: usize },
    #[error("よく使われているパスワードのため使用できません。別のパスワードを入力してください。")]
    PasswordTooCommon,
    #[error("メールアドレスまたはパスワードが正しくありません。")]
    InvalidCredentials,
    #[error("ログインしてください。")]
    Unauthenticated,
    #[error("このリクエストは受け付けられません。ページを再読み込みしてからお試しください。")]
    Forbidden,
    #[error("試行回数が多すぎます。{retry_after_secs}秒後にもう一度お試しください。")]
    RateLimited { retry_after_secs: u64 },
    #[error("エラーが発生しました。時間をおいてもう一度お試しください。")]
    Internal,
    /// Transport-level failures (network, decoding) raised by the server-function machinery.
    #[error("通信エラーが発生しました。もう一度お試しください。")]
    ServerFn(ServerFnErrorErr),
}

impl AppError {
    /// The form field this error belongs to, if any.
    pub fn field(&self) -> Option<Field> {
        match self {
            Self::EmailEmpty | Self::EmailMalformed | Self::EmailTaken => Some(Field::Email),
            Self::PasswordTooShort { .. } | Self::PasswordTooLong { .. } | Self::PasswordTooCommon => {
                Some(Field::Password)
            }
            _ => None,
        }
    }

    /// The HTTP status a script calling the API sees.
    pub fn status(&self) -> u16 {
        match self {
            Self::EmailEmpty
            | Self::EmailMalformed
            | Self::PasswordTooShort { .. }
            | Self::PasswordTooLong { .. }
            | Self::PasswordTooCommon => 400,
            Self::InvalidCredentials | Self::Unauthenticated => 401,
            Self::Forbidden => 403,
            Self::EmailTaken => 409,
            Self::RateLimited { .. } => 429,
            Self::Internal | Self::ServerFn(_) => 500,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        Self::ServerFn(value)
    }
}

impl From<EmailError> for AppError {
    fn from(e: EmailError) -> Self {
        match e {
            EmailError::Empty => Self::EmailEmpty,
            EmailError::TooLong | EmailError::Malformed => Self::EmailMalformed,
        }
    }
}

impl From<PasswordError> for AppError {
    fn from(e: PasswordError) -> Self {
        match e {
            PasswordError::TooShort => Self::PasswordTooShort { min: password::MIN_CHARS },
            PasswordError::TooLong => Self::PasswordTooLong { max: password::MAX_CHARS },
            PasswordError::TooCommon => Self::PasswordTooCommon,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_round_trip_through_the_wire_format() {
        let e = AppError::RateLimited { retry_after_secs: 42 };
        assert_eq!(AppError::de(e.ser()), e);
        assert_eq!(e.to_string(), "試行回数が多すぎます。42秒後にもう一度お試しください。");
    }

    #[test]
    fn domain_errors_map_to_field_errors() {
        assert_eq!(AppError::from(EmailError::Malformed).field(), Some(Field::Email));
        assert_eq!(
            AppError::from(PasswordError::TooShort),
            AppError::PasswordTooShort { min: 8 }
        );
        assert_eq!(AppError::InvalidCredentials.field(), None);
    }
}
