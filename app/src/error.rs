//! The one error type the client sees. Every server function returns it; internal causes
//! (database, crypto, gateway) are logged once on the server and reach the client only as
//! [`AppError::Internal`]. The variant names double as message keys; `Display` is the
//! Japanese message shown to the person.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

use crate::domain::{EmailError, NonMobileKind, PasswordError, password};

/// Which form field an error belongs to, so the page can show it next to that field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Email,
    Password,
    Phone,
    Code,
    Recovery,
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
    #[error("現在のパスワードが正しくありません。")]
    CurrentPasswordWrong,
    #[error("このリクエストは受け付けられません。ページを再読み込みしてからお試しください。")]
    Forbidden,
    #[error("試行回数が多すぎます。{}後にもう一度お試しください。", wait_text(*retry_after_secs))]
    RateLimited { retry_after_secs: u64 },
    #[error("電話番号を入力してください。")]
    PhoneEmpty,
    #[error("電話番号の形式が正しくありません。090-1234-5678 のように入力してください。")]
    PhoneMalformed,
    /// The SPEC's words (PH-3), ended with 。 like every other message.
    #[error("海外発行の電話番号は設定できません。")]
    PhoneForeign,
    #[error("{}", not_mobile_text(*kind))]
    PhoneNotMobile { kind: NonMobileKind },
    #[error("この電話番号は別のアカウントで使用されているため設定できません。")]
    PhoneTaken,
    #[error("SMSの送信回数が上限に達しました。{}後にもう一度お試しください。", wait_text(*retry_after_secs))]
    SmsLimited { retry_after_secs: u64 },
    #[error("再送は{retry_after_secs}秒後にできます。")]
    ResendTooSoon { retry_after_secs: u64 },
    #[error("SMSを送信できませんでした。時間をおいてもう一度お試しください。")]
    SmsFailed,
    #[error("認証コードは6桁の数字で入力してください。")]
    CodeMalformed,
    #[error("認証コードが正しくありません。あと{attempts_left}回入力できます。")]
    CodeMismatch { attempts_left: u32 },
    #[error("認証コードの有効期限が切れました。もう一度送信してください。")]
    CodeExpired,
    /// The five wrong entries carry over to the next code for the code's lifetime (PH-6),
    /// so sending again works only after a while; the send then says exactly when.
    #[error(
        "認証コードの入力回数が上限に達しました。しばらく時間をおいてから、もう一度送信してください。"
    )]
    CodeAttemptsExhausted,
    #[error("認証の手続きが見つかりません。はじめからやり直してください。")]
    NoPendingVerification,
    /// Sign-in: five wrong codes ended the pending sign-in (LG-2); only the password helps.
    #[error(
        "認証コードの入力回数が上限に達しました。もう一度メールアドレスとパスワードを入力して、ログインをやり直してください。"
    )]
    SignInCodeExhausted,
    /// Sign-in: the code's ten minutes ran out, and with them the pending sign-in (LG-2).
    #[error(
        "認証コードの有効期限が切れました。もう一度メールアドレスとパスワードを入力して、ログインをやり直してください。"
    )]
    SignInCodeExpired,
    #[error("二段階認証を有効にするには、先に電話番号を設定してください。")]
    PhoneRequired,
    #[error("二段階認証が有効になっていません。")]
    TwoFactorOff,
    #[error("続けるには、パスワードをもう一度入力してください。")]
    ReauthRequired,
    #[error("リカバリーコードが正しくないか、既に使用されています。")]
    RecoveryCodeInvalid,
    #[error(
        "ログインの有効期限が切れました。もう一度メールアドレスとパスワードを入力してください。"
    )]
    NoPendingLogin,
    #[error(
        "認証コードの入力に続けて失敗したため、SMSと認証アプリのコードでの認証を一時的に停止しています。リカバリーコードでログインするか、24時間後にもう一度お試しください。"
    )]
    SmsLocked,
    /// The code that would confirm a new authenticator app is not the app's (MFA-1).
    #[error(
        "認証コードが正しくありません。認証アプリに表示されている6桁のコードを入力してください。"
    )]
    AppCodeWrong,
    /// An app code of a time step already used: codes are taken once (MFA-1).
    #[error(
        "このコードは既に使用されています。認証アプリに次のコードが表示されてから入力してください。"
    )]
    AppCodeUsed,
    /// Five wrong app codes in ten minutes, as PH-6 allows for SMS codes (MFA-1).
    #[error("認証アプリのコードを続けて間違えたため、{}後まで認証アプリでは認証できません。[別の方法を使う]から、ほかの方法でログインできます。", wait_text(*retry_after_secs))]
    AppCodesExhausted { retry_after_secs: u64 },
    #[error("認証アプリが設定されていません。")]
    NoAuthenticator,
    #[error("パスキーが登録されていません。")]
    NoPasskey,
    #[error("パスキーは{max}個まで登録できます。使っていないものを削除してから追加してください。")]
    TooManyPasskeys { max: u32 },
    #[error("このパスキーは既に登録されています。")]
    PasskeyAlreadyRegistered,
    #[error("時間がたったため、パスキーの操作を完了できませんでした。もう一度お試しください。")]
    PasskeyCeremonyExpired,
    #[error("パスキーを確認できませんでした。もう一度お試しいただくか、別の方法を使ってください。")]
    PasskeyRefused,
    #[error("パスキーの名前は{max}文字以内で入力してください。")]
    PasskeyNameTooLong { max: u32 },
    #[error("エラーが発生しました。時間をおいてもう一度お試しください。")]
    Internal,
    /// The database (or another part the server needs) does not answer in time: nothing
    /// was done, and trying again later may work (SEC-8).
    #[error("ただいまサービスを利用できません。{}後にもう一度お試しください。", wait_text(*retry_after_secs))]
    Unavailable { retry_after_secs: u64 },
    /// The request's arguments could not be read: a field missing, sent twice or of the
    /// wrong type, a body that is not UTF-8 or not a form. The sender's fault, so 400; the
    /// decoder's own words stay in the server's log (issue 10).
    #[error(
        "送信された内容を読み取れませんでした。ページを再読み込みしてから、もう一度お試しください。"
    )]
    MalformedRequest,
    /// Transport-level failures (network, decoding) raised by the server-function machinery
    /// in the browser. On the server these become [`AppError::MalformedRequest`] or
    /// [`AppError::Internal`] (see `server::web::from_server_fn_error`).
    #[error("通信エラーが発生しました。もう一度お試しください。")]
    ServerFn(ServerFnErrorErr),
}

impl AppError {
    /// The form field this error belongs to, if any.
    pub fn field(&self) -> Option<Field> {
        match self {
            Self::EmailEmpty | Self::EmailMalformed | Self::EmailTaken => Some(Field::Email),
            Self::PasswordTooShort { .. }
            | Self::PasswordTooLong { .. }
            | Self::PasswordTooCommon => Some(Field::Password),
            Self::PhoneEmpty
            | Self::PhoneMalformed
            | Self::PhoneForeign
            | Self::PhoneNotMobile { .. } => Some(Field::Phone),
            Self::CodeMalformed
            | Self::CodeMismatch { .. }
            | Self::CodeExpired
            | Self::CodeAttemptsExhausted
            | Self::SignInCodeExhausted
            | Self::SignInCodeExpired
            | Self::AppCodeWrong
            | Self::AppCodeUsed
            | Self::AppCodesExhausted { .. } => Some(Field::Code),
            Self::RecoveryCodeInvalid => Some(Field::Recovery),
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
            | Self::PasswordTooCommon
            | Self::PhoneEmpty
            | Self::PhoneMalformed
            | Self::PhoneForeign
            | Self::PhoneNotMobile { .. }
            | Self::CodeMalformed
            | Self::CodeMismatch { .. }
            | Self::CodeExpired
            | Self::CodeAttemptsExhausted
            | Self::NoPendingVerification
            | Self::PhoneRequired
            | Self::TwoFactorOff
            | Self::RecoveryCodeInvalid
            | Self::AppCodeWrong
            | Self::AppCodeUsed
            | Self::NoAuthenticator
            | Self::NoPasskey
            | Self::TooManyPasskeys { .. }
            | Self::PasskeyCeremonyExpired
            | Self::PasskeyRefused
            | Self::PasskeyNameTooLong { .. }
            | Self::MalformedRequest => 400,
            Self::PasskeyAlreadyRegistered => 409,
            Self::ReauthRequired
            | Self::NoPendingLogin
            | Self::SignInCodeExhausted
            | Self::SignInCodeExpired => 401,
            Self::SmsLocked => 423,
            Self::PhoneTaken => 409,
            Self::SmsLimited { .. } | Self::ResendTooSoon { .. } => 429,
            Self::SmsFailed => 502,
            Self::InvalidCredentials | Self::Unauthenticated | Self::CurrentPasswordWrong => 401,
            Self::Forbidden => 403,
            Self::EmailTaken => 409,
            Self::RateLimited { .. } | Self::AppCodesExhausted { .. } => 429,
            Self::Unavailable { .. } => 503,
            Self::Internal | Self::ServerFn(_) => 500,
        }
    }

    /// Whether this error ended a pending sign-in: the person must start again from the
    /// password, and nothing else on the code page can help.
    pub fn ends_sign_in(&self) -> bool {
        matches!(
            self,
            Self::SignInCodeExhausted | Self::SignInCodeExpired | Self::NoPendingLogin
        )
    }

    /// How long the client should wait before trying again, for the `Retry-After` header of
    /// rate-limited and unavailable answers.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Self::RateLimited { retry_after_secs }
            | Self::SmsLimited { retry_after_secs }
            | Self::ResendTooSoon { retry_after_secs }
            | Self::AppCodesExhausted { retry_after_secs }
            | Self::Unavailable { retry_after_secs } => Some((*retry_after_secs).max(1)),
            _ => None,
        }
    }
}

/// "45秒", "3分", "2時間": a wait as a person reads it, never shorter than the real one.
pub fn wait_text(secs: u64) -> String {
    match secs {
        0..=90 => format!("{}秒", secs.max(1)),
        91..=5400 => format!("{}分", secs.div_ceil(60)),
        _ => format!("{}時間", secs.div_ceil(3600)),
    }
}

fn not_mobile_text(kind: NonMobileKind) -> &'static str {
    match kind {
        NonMobileKind::Landline => {
            "固定電話の番号はSMSを受信できないため設定できません。携帯電話の番号を入力してください。"
        }
        NonMobileKind::IpPhone => {
            "IP電話(050)の番号はSMSを受信できないため設定できません。携帯電話の番号を入力してください。"
        }
        NonMobileKind::TollFree => {
            "フリーダイヤルなどの番号はSMSを受信できないため設定できません。携帯電話の番号を入力してください。"
        }
        NonMobileKind::Other => {
            "この番号はSMSを受信できないため設定できません。携帯電話の番号を入力してください。"
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        // On the server the machinery raises these while it reads a request (the sender's
        // fault) or writes an answer (ours); in the browser, while it talks to the server.
        #[cfg(feature = "ssr")]
        {
            crate::server::web::from_server_fn_error(value)
        }
        #[cfg(not(feature = "ssr"))]
        {
            Self::ServerFn(value)
        }
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
            PasswordError::TooShort => Self::PasswordTooShort {
                min: password::MIN_CHARS,
            },
            PasswordError::TooLong => Self::PasswordTooLong {
                max: password::MAX_CHARS,
            },
            PasswordError::TooCommon => Self::PasswordTooCommon,
        }
    }
}

#[cfg(feature = "ssr")]
impl From<crate::domain::PhoneError> for AppError {
    fn from(e: crate::domain::PhoneError) -> Self {
        use crate::domain::PhoneError;
        match e {
            PhoneError::Empty => Self::PhoneEmpty,
            PhoneError::Malformed => Self::PhoneMalformed,
            PhoneError::Foreign => Self::PhoneForeign,
            PhoneError::NotMobile(kind) => Self::PhoneNotMobile { kind },
        }
    }
}

impl From<crate::domain::otp::OtpFormatError> for AppError {
    fn from(_: crate::domain::otp::OtpFormatError) -> Self {
        Self::CodeMalformed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_round_trip_through_the_wire_format() {
        let e = AppError::RateLimited {
            retry_after_secs: 42,
        };
        assert_eq!(AppError::de(e.ser()), e);
        assert_eq!(
            e.to_string(),
            "試行回数が多すぎます。42秒後にもう一度お試しください。"
        );
        assert_eq!(
            AppError::SmsLimited {
                retry_after_secs: 3000
            }
            .to_string(),
            "SMSの送信回数が上限に達しました。50分後にもう一度お試しください。"
        );
    }

    #[test]
    fn waits_round_up() {
        assert_eq!(wait_text(0), "1秒");
        assert_eq!(wait_text(61), "61秒");
        assert_eq!(wait_text(91), "2分");
        assert_eq!(wait_text(3601), "61分");
        assert_eq!(wait_text(86_000), "24時間");
    }

    #[test]
    fn domain_errors_map_to_field_errors() {
        assert_eq!(
            AppError::from(EmailError::Malformed).field(),
            Some(Field::Email)
        );
        assert_eq!(
            AppError::from(PasswordError::TooShort),
            AppError::PasswordTooShort { min: 8 }
        );
        assert_eq!(AppError::InvalidCredentials.field(), None);
    }
}
