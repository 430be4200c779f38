//! The password policy (ACC-1): 8 to 128 characters, not on a built-in list of common
//! passwords. Length is counted in characters, not bytes, so a Japanese passphrase is
//! judged by what the person typed. No composition rules (NIST SP 800-63B §3.1.1.2).

use std::fmt;

pub const MIN_CHARS: usize = 8;
pub const MAX_CHARS: usize = 128;

const COMMON: &str = include_str!("common_passwords.txt");

/// A password that passed the policy. Deliberately not `Serialize` and not printable.
#[derive(Clone)]
pub struct Password(String);

/// Why a new password is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("too short")]
    TooShort,
    #[error("too long")]
    TooLong,
    #[error("too common")]
    TooCommon,
}

impl Password {
    /// Checks a password chosen at sign-up (or, later, at a password change).
    pub fn new(input: String) -> Result<Self, PasswordError> {
        let chars = input.chars().count();
        if chars < MIN_CHARS {
            return Err(PasswordError::TooShort);
        }
        if chars > MAX_CHARS {
            return Err(PasswordError::TooLong);
        }
        if is_common(&input) {
            return Err(PasswordError::TooCommon);
        }
        Ok(Self(input))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// Whether `input` is on the built-in list (case-insensitive, surrounding spaces ignored).
pub fn is_common(input: &str) -> bool {
    let candidate = input.trim().to_lowercase();
    COMMON
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .any(|l| l == candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_is_counted_in_characters() {
        assert_eq!(
            Password::new("short".into()).unwrap_err(),
            PasswordError::TooShort
        );
        assert_eq!(
            Password::new("a".repeat(7)).unwrap_err(),
            PasswordError::TooShort
        );
        assert!(Password::new("correct horse".into()).is_ok());
        // Eight Japanese characters are 24 bytes but eight characters: accepted.
        assert!(Password::new("にだんかいにんしょう".into()).is_ok());
        assert!(Password::new("x".repeat(MAX_CHARS)).is_ok());
        assert_eq!(
            Password::new("x".repeat(MAX_CHARS + 1)).unwrap_err(),
            PasswordError::TooLong
        );
    }

    #[test]
    fn common_passwords_are_refused_whatever_the_case() {
        for p in [
            "password",
            "PassWord1",
            "12345678",
            "qwertyuiop",
            " iloveyou ",
        ] {
            assert_eq!(
                Password::new(p.into()).unwrap_err(),
                PasswordError::TooCommon,
                "{p}"
            );
        }
        assert!(
            !is_common("# Common passwords"),
            "comment lines are not entries"
        );
    }

    #[test]
    fn debug_hides_the_password() {
        let p = Password::new("correct horse battery".into()).unwrap();
        assert_eq!(format!("{p:?}"), "Password(***)");
    }
}
