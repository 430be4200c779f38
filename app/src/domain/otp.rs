//! One-time codes as people type them (PH-5): six digits, leading zeros allowed. Input may
//! use full-width digits and may contain spaces or hyphens.

use std::fmt;

pub const DIGITS: usize = 6;

/// Six ASCII digits.
#[derive(Clone, PartialEq, Eq)]
pub struct OtpCode(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a code is {DIGITS} digits")]
pub struct OtpFormatError;

impl OtpCode {
    pub fn parse(input: &str) -> Result<Self, OtpFormatError> {
        let mut digits = String::with_capacity(DIGITS);
        for c in input.chars() {
            match c {
                '0'..='9' => digits.push(c),
                // Full-width digits ０-９ (U+FF10..U+FF19).
                '０'..='９' => digits.push(char::from(b'0' + (c as u32 - '０' as u32) as u8)),
                ' ' | '　' | '-' | 'ー' | '－' => {}
                _ => return Err(OtpFormatError),
            }
        }
        if digits.len() == DIGITS {
            Ok(Self(digits))
        } else {
            Err(OtpFormatError)
        }
    }

    /// The code for a number below 10^6 (the caller draws it uniformly).
    pub fn from_number(n: u32) -> Self {
        Self(format!("{:06}", n % 1_000_000))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for OtpCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OtpCode(******)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_people_type() {
        assert_eq!(OtpCode::parse("012345").unwrap().as_str(), "012345");
        assert_eq!(OtpCode::parse(" 012 345 ").unwrap().as_str(), "012345");
        assert_eq!(OtpCode::parse("０１２３４５").unwrap().as_str(), "012345");
        assert_eq!(OtpCode::parse("012-345").unwrap().as_str(), "012345");
        for bad in ["12345", "1234567", "12a456", "", "１２３"] {
            assert!(OtpCode::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn keeps_leading_zeros_and_hides_itself() {
        assert_eq!(OtpCode::from_number(42).as_str(), "000042");
        assert_eq!(format!("{:?}", OtpCode::from_number(42)), "OtpCode(******)");
    }
}
