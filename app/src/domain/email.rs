//! Email addresses, the account's ID. We normalise (trim, lowercase) so that one person
//! cannot hold two accounts that differ only in case, and check only the shape: whether the
//! address receives mail is not something a sign-up form can know.

use serde::{Deserialize, Serialize};
use std::fmt;

/// RFC 5321 caps a forward path at 256 octets including the angle brackets.
pub const MAX_LEN: usize = 254;
const MAX_LOCAL_LEN: usize = 64;

/// A normalised email address.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Email(String);

/// Why an input is not an email address we accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("empty")]
    Empty,
    #[error("too long")]
    TooLong,
    #[error("malformed")]
    Malformed,
}

impl Email {
    /// Parses and normalises user input.
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(EmailError::Empty);
        }
        if trimmed.len() > MAX_LEN {
            return Err(EmailError::TooLong);
        }
        let normalised = trimmed.to_lowercase();
        // Lowercasing can lengthen: `İ` (2 bytes) becomes `i̇` (3). The stored address must
        // fit too, or it would not read back (found by the property tests).
        if normalised.len() > MAX_LEN {
            return Err(EmailError::TooLong);
        }
        let (local, domain) = normalised.split_once('@').ok_or(EmailError::Malformed)?;
        let bad_char = |c: char| c.is_whitespace() || c.is_control() || "<>()[]\\,;:\"".contains(c);
        let domain_ok = domain.contains('.')
            && !domain.contains('@')
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if local.is_empty()
            || local.len() > MAX_LOCAL_LEN
            || local.chars().any(bad_char)
            || local.starts_with('.')
            || local.ends_with('.')
            || local.contains("..")
            || !domain_ok
        {
            return Err(EmailError::Malformed);
        }
        Ok(Self(normalised))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The address as logs may show it: `t***@example.com`.
    pub fn masked(&self) -> String {
        super::mask::mask_email(&self.0)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.masked())
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_spaces() {
        let email = Email::parse("  Taro.Yamada@Example.JP ").unwrap();
        assert_eq!(email.as_str(), "taro.yamada@example.jp");
    }

    /// Lowercasing lengthens some letters (`Ⱥ` is 2 bytes, `ⱥ` 3; `İ` becomes `i̇`): the
    /// limit holds for the address as stored.
    #[test]
    fn the_length_limit_holds_after_lowercasing() {
        let input = format!("a@{}.jp", "Ⱥ".repeat(124));
        assert!(input.len() <= MAX_LEN);
        assert_eq!(Email::parse(&input), Err(EmailError::TooLong));
        let input = format!("{}@{}.jp", "İ".repeat(21), "a".repeat(190));
        assert!(input.len() <= MAX_LEN);
        assert_eq!(Email::parse(&input), Err(EmailError::TooLong));
    }

    #[test]
    fn accepts_plus_and_subdomains() {
        assert!(Email::parse("a+tag@mail.example.co.jp").is_ok());
        assert!(Email::parse("ユーザー@例え.jp").is_ok());
    }

    #[test]
    fn refuses_malformed() {
        for input in [
            "plainaddress",
            "@example.com",
            "taro@",
            "taro@example",
            "taro@@example.com",
            "taro@exa mple.com",
            "ta ro@example.com",
            "taro@.example.com",
            "taro@example..com",
            ".taro@example.com",
            "ta..ro@example.com",
            "taro@-example.com",
            "<taro>@example.com",
        ] {
            assert_eq!(Email::parse(input), Err(EmailError::Malformed), "{input}");
        }
    }

    #[test]
    fn refuses_empty_and_too_long() {
        assert_eq!(Email::parse("   "), Err(EmailError::Empty));
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(Email::parse(&long), Err(EmailError::TooLong));
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert_eq!(Email::parse(&long_local), Err(EmailError::Malformed));
    }

    #[test]
    fn debug_masks_the_address() {
        let email = Email::parse("taro@example.com").unwrap();
        assert_eq!(format!("{email:?}"), "Email(t***@example.com)");
    }
}
