//! The cookies Nidan reads: outside input like any form field (issue 10). The `Cookie`
//! header is split by the `cookie` crate (the one tower-sessions uses too); the two tokens
//! it carries besides the session id are read here, and anything that is not exactly their
//! shape is treated as no cookie at all, before it reaches a hash or the database. The
//! session id's own shape is tower-sessions' (`Id::from_str`).

use std::fmt;

/// The value of the first cookie called `name` in these `Cookie` header lines. Pairs
/// that do not parse are skipped; values are taken as sent (ours are never
/// percent-encoded).
pub fn find<'a>(headers: impl IntoIterator<Item = &'a str>, name: &str) -> Option<String> {
    headers.into_iter().find_map(|header| {
        cookie::Cookie::split_parse(header)
            .filter_map(Result::ok)
            .find(|c| c.name() == name)
            .map(|c| c.value().to_owned())
    })
}

/// The remembered-browser cookie (LG-4): 32 random bytes as 64 lowercase hex digits.
#[derive(Clone, PartialEq, Eq)]
pub struct BrowserToken(String);

impl BrowserToken {
    pub const BYTES: usize = 32;

    pub fn new(bytes: [u8; Self::BYTES]) -> Self {
        Self(hex::encode(bytes))
    }

    /// The token, if `s` has exactly its shape.
    pub fn parse(s: &str) -> Option<Self> {
        is_lower_hex(s, 2 * Self::BYTES).then(|| Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for BrowserToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BrowserToken(…)")
    }
}

/// The known-device cookie (SEC-1): `{account id}.{random id}.{MAC}`, the random id 16
/// bytes and the MAC 32 bytes, both in lowercase hex.
#[derive(Clone, PartialEq, Eq)]
pub struct DeviceToken {
    pub owner: i64,
    pub id: String,
    pub mac: String,
}

impl DeviceToken {
    pub const ID_HEX: usize = 32;
    pub const MAC_HEX: usize = 64;

    /// The token's parts, if `s` has exactly its shape (a canonical decimal account id: no
    /// sign, no leading zeros).
    pub fn parse(s: &str) -> Option<Self> {
        let mut parts = s.split('.');
        let (owner, id, mac) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some()
            || !is_lower_hex(id, Self::ID_HEX)
            || !is_lower_hex(mac, Self::MAC_HEX)
        {
            return None;
        }
        let canonical = !owner.is_empty()
            && owner.bytes().all(|b| b.is_ascii_digit())
            && (owner == "0" || !owner.starts_with('0'));
        let owner = owner.parse::<i64>().ok().filter(|_| canonical)?;
        Some(Self {
            owner,
            id: id.to_owned(),
            mac: mac.to_owned(),
        })
    }
}

impl fmt::Display for DeviceToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.owner, self.id, self.mac)
    }
}

impl fmt::Debug for DeviceToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceToken({}.…)", self.owner)
    }
}

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_cookie_of_a_name_across_lines() {
        let lines = ["a=1; nidan_browser=x", "nidan_browser=y"];
        assert_eq!(find(lines, "nidan_browser").as_deref(), Some("x"));
        assert_eq!(find(["garbage; ;;=; b=2"], "b").as_deref(), Some("2"));
        assert_eq!(find(["a=1"], "b"), None);
    }

    #[test]
    fn tokens_have_one_shape() {
        let t = BrowserToken::new([0xab; 32]);
        assert_eq!(BrowserToken::parse(t.as_str()), Some(t.clone()));
        assert_eq!(BrowserToken::parse(&t.as_str().to_uppercase()), None);
        assert_eq!(BrowserToken::parse(&t.as_str()[1..]), None);
        let d = format!("42.{}.{}", "a".repeat(32), "b".repeat(64));
        assert_eq!(
            DeviceToken::parse(&d).map(|t| t.to_string()),
            Some(d.clone())
        );
        for bad in [
            format!("042.{}.{}", "a".repeat(32), "b".repeat(64)),
            format!("+42.{}.{}", "a".repeat(32), "b".repeat(64)),
            format!("42.{}.{}.", "a".repeat(32), "b".repeat(64)),
            format!("42.{}.{}", "A".repeat(32), "b".repeat(64)),
        ] {
            assert_eq!(DeviceToken::parse(&bad), None, "{bad}");
        }
    }
}
