//! The second factors a sign-in can ask for (MFA-3), strongest first.

use serde::{Deserialize, Serialize};

/// A second factor of a pending sign-in. Recovery codes are not one of them: they are the
/// way back when every factor is lost (LG-3), offered beside each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Factor {
    /// A passkey (MFA-2): phishing-resistant, the strongest.
    Passkey,
    /// An authenticator app's code (MFA-1).
    App,
    /// A code by SMS (LG-1).
    Sms,
}

impl Factor {
    /// The strongest factor an account has: a passkey, else the app, else SMS (which
    /// two-factor needs today, TF-1).
    pub fn strongest(has_passkey: bool, has_app: bool) -> Self {
        if has_passkey {
            Self::Passkey
        } else if has_app {
            Self::App
        } else {
            Self::Sms
        }
    }

    /// How the session stores it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Passkey => "passkey",
            Self::App => "app",
            Self::Sms => "sms",
        }
    }

    /// A stored name back; an unknown or missing one is SMS, what every pending sign-in
    /// asked for before there were others.
    pub fn from_name(name: Option<&str>) -> Self {
        match name {
            Some("passkey") => Self::Passkey,
            Some("app") => Self::App,
            _ => Self::Sms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passkey_before_the_app_before_sms() {
        assert_eq!(Factor::strongest(true, true), Factor::Passkey);
        assert_eq!(Factor::strongest(true, false), Factor::Passkey);
        assert_eq!(Factor::strongest(false, true), Factor::App);
        assert_eq!(Factor::strongest(false, false), Factor::Sms);
        for f in [Factor::Passkey, Factor::App, Factor::Sms] {
            assert_eq!(Factor::from_name(Some(f.as_str())), f);
        }
        assert_eq!(Factor::from_name(None), Factor::Sms);
        assert_eq!(Factor::from_name(Some("fingerprint")), Factor::Sms);
    }
}
