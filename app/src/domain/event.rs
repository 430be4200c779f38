//! What the security history records (SEC-5), and how each entry reads in Japanese.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SecurityEvent {
    SignedIn,
    SignedInWithCode,
    SignedInWithRecoveryCode,
    SmsFactorLocked,
    PhoneChanged,
    TwoFactorEnabled,
    TwoFactorDisabled,
    RecoveryCodesShown,
    RecoveryCodesRegenerated,
    PasswordChanged,
    BrowserForgotten,
    SignedInWithApp,
    AuthenticatorAdded,
    AuthenticatorRemoved,
    SignedInWithPasskey,
    PasskeyAdded,
    PasskeyRemoved,
}

impl SecurityEvent {
    pub const ALL: [SecurityEvent; 17] = [
        Self::SignedIn,
        Self::SignedInWithCode,
        Self::SignedInWithRecoveryCode,
        Self::SmsFactorLocked,
        Self::PhoneChanged,
        Self::TwoFactorEnabled,
        Self::TwoFactorDisabled,
        Self::RecoveryCodesShown,
        Self::RecoveryCodesRegenerated,
        Self::PasswordChanged,
        Self::BrowserForgotten,
        Self::SignedInWithApp,
        Self::AuthenticatorAdded,
        Self::AuthenticatorRemoved,
        Self::SignedInWithPasskey,
        Self::PasskeyAdded,
        Self::PasskeyRemoved,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignedIn => "signed_in",
            Self::SignedInWithCode => "signed_in_with_code",
            Self::SignedInWithRecoveryCode => "signed_in_with_recovery_code",
            Self::SmsFactorLocked => "sms_factor_locked",
            Self::PhoneChanged => "phone_changed",
            Self::TwoFactorEnabled => "two_factor_enabled",
            Self::TwoFactorDisabled => "two_factor_disabled",
            Self::RecoveryCodesShown => "recovery_codes_shown",
            Self::RecoveryCodesRegenerated => "recovery_codes_regenerated",
            Self::PasswordChanged => "password_changed",
            Self::BrowserForgotten => "browser_forgotten",
            Self::SignedInWithApp => "signed_in_with_app",
            Self::AuthenticatorAdded => "authenticator_added",
            Self::AuthenticatorRemoved => "authenticator_removed",
            Self::SignedInWithPasskey => "signed_in_with_passkey",
            Self::PasskeyAdded => "passkey_added",
            Self::PasskeyRemoved => "passkey_removed",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }

    /// How the settings page shows it.
    pub fn label(self) -> &'static str {
        match self {
            Self::SignedIn => "ログイン",
            Self::SignedInWithCode => "ログイン(SMSの認証コード)",
            Self::SignedInWithRecoveryCode => "ログイン(リカバリーコードを使用)",
            Self::SmsFactorLocked => "認証コードの入力失敗が続いたため、コードでの認証を停止",
            Self::PhoneChanged => "電話番号を設定",
            Self::TwoFactorEnabled => "二段階認証を有効化",
            Self::TwoFactorDisabled => "二段階認証を無効化",
            Self::RecoveryCodesShown => "リカバリーコードを表示",
            Self::RecoveryCodesRegenerated => "リカバリーコードを再生成",
            Self::PasswordChanged => "パスワードを変更",
            Self::BrowserForgotten => "ブラウザの記憶を解除",
            Self::SignedInWithApp => "ログイン(認証アプリ)",
            Self::AuthenticatorAdded => "認証アプリを設定",
            Self::AuthenticatorRemoved => "認証アプリを削除",
            Self::SignedInWithPasskey => "ログイン(パスキー)",
            Self::PasskeyAdded => "パスキーを追加",
            Self::PasskeyRemoved => "パスキーを削除",
        }
    }

    /// Entries the person should look at twice.
    pub fn is_notable(self) -> bool {
        matches!(
            self,
            Self::SignedInWithRecoveryCode
                | Self::SmsFactorLocked
                | Self::TwoFactorDisabled
                | Self::PasswordChanged
                | Self::AuthenticatorAdded
                | Self::AuthenticatorRemoved
                | Self::PasskeyAdded
                | Self::PasskeyRemoved
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_distinct() {
        let mut names: Vec<_> = SecurityEvent::ALL.iter().map(|e| e.as_str()).collect();
        for e in SecurityEvent::ALL {
            assert_eq!(SecurityEvent::from_name(e.as_str()), Some(e));
        }
        names.sort();
        names.dedup();
        assert_eq!(names.len(), SecurityEvent::ALL.len());
        assert_eq!(SecurityEvent::from_name("nonsense"), None);
    }
}
