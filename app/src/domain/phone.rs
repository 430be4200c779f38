//! Phone numbers that can receive our SMS (PH-3): Japanese mobile numbers only.
//!
//! Input is NFKC-normalised first, so full-width digits, hyphens and spaces typed with a
//! Japanese IME work, and the dashes people use instead of hyphens (ー, −, ‐, ―) count as
//! hyphens. The number is then parsed with libphonenumber's metadata (the `phonenumber`
//! crate, region JP) and kept only when its country code is +81 and its type is mobile.
//! Server-side only: the metadata stays out of the wasm bundle.

use std::fmt;

use phonenumber::{Mode, Type, country, metadata::DATABASE};
use unicode_normalization::UnicodeNormalization;

pub use super::NonMobileKind;

/// A verified-shape Japanese mobile number, held in E.164 (`+819012345678`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber {
    e164: String,
    national: String,
}

/// Why an input is not a number we can send SMS to. Each has its own message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("empty")]
    Empty,
    #[error("malformed")]
    Malformed,
    #[error("foreign number")]
    Foreign,
    #[error("not a mobile number: {0:?}")]
    NotMobile(NonMobileKind),
}

const JAPAN: u16 = 81;

impl PhoneNumber {
    /// Parses what a person typed.
    pub fn parse(input: &str) -> Result<Self, PhoneError> {
        let normalised: String = input
            .nfkc()
            .map(|c| match c {
                'ー' | '−' | '‐' | '―' | '–' | '—' => '-',
                other => other,
            })
            .collect();
        let trimmed = normalised.trim();
        if trimmed.is_empty() {
            return Err(PhoneError::Empty);
        }
        let shape_ok = trimmed.char_indices().all(|(i, c)| {
            c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')') || (c == '+' && i == 0)
        });
        let digits = trimmed.chars().filter(char::is_ascii_digit).count();
        if !shape_ok || !(8..=15).contains(&digits) {
            return Err(PhoneError::Malformed);
        }
        let number = phonenumber::parse(Some(country::Id::JP), trimmed)
            .map_err(|_| PhoneError::Malformed)?;
        if number.country().code() != JAPAN {
            return Err(PhoneError::Foreign);
        }
        if !phonenumber::is_valid(&number) {
            return Err(PhoneError::Malformed);
        }
        match number.number_type(&DATABASE) {
            Type::Mobile => {}
            Type::FixedLine => return Err(PhoneError::NotMobile(NonMobileKind::Landline)),
            Type::Voip => return Err(PhoneError::NotMobile(NonMobileKind::IpPhone)),
            Type::TollFree => return Err(PhoneError::NotMobile(NonMobileKind::TollFree)),
            _ => return Err(PhoneError::NotMobile(NonMobileKind::Other)),
        }
        Ok(Self {
            e164: number.format().mode(Mode::E164).to_string(),
            national: number.format().mode(Mode::National).to_string(),
        })
    }

    /// Rebuilds a number read back from the database (stored in E.164).
    pub fn from_e164(e164: &str) -> Result<Self, PhoneError> {
        Self::parse(e164)
    }

    /// `+819012345678`: how numbers are stored and compared.
    pub fn e164(&self) -> &str {
        &self.e164
    }

    /// `090-1234-5678`: how numbers are shown.
    pub fn national(&self) -> &str {
        &self.national
    }

    /// `090-****-5678`: how logs (and the UI, where the whole number is not needed) show it.
    pub fn masked(&self) -> String {
        mask_national(&self.national)
    }
}

/// Hides every digit but the first three and the last four.
pub fn mask_national(national: &str) -> String {
    let total = national.chars().filter(char::is_ascii_digit).count();
    let mut seen = 0;
    national
        .chars()
        .map(|c| {
            if c.is_ascii_digit() {
                seen += 1;
                if seen <= 3 || seen > total.saturating_sub(4) {
                    c
                } else {
                    '*'
                }
            } else {
                c
            }
        })
        .collect()
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e164(input: &str) -> String {
        PhoneNumber::parse(input)
            .unwrap_or_else(|e| panic!("{input:?}: {e}"))
            .e164()
            .to_owned()
    }

    #[test]
    fn accepted_forms_all_become_the_same_number() {
        for input in [
            "090-1234-5678",
            "09012345678",
            "+81 90 1234 5678",
            "+819012345678",
            "+81 090 1234 5678",
            "０９０－１２３４－５６７８",
            "０９０１２３４５６７８",
            "＋８１９０１２３４５６７８",
            "090ー1234ー5678",
            "090−1234−5678",
            " 090 1234 5678 ",
            "(090) 1234-5678",
            "090　1234　5678",
        ] {
            assert_eq!(e164(input), "+819012345678", "{input:?}");
        }
    }

    #[test]
    fn every_mobile_prefix_is_accepted() {
        assert_eq!(e164("080-1234-5678"), "+818012345678");
        assert_eq!(e164("070-1234-5678"), "+817012345678");
        assert_eq!(e164("+81 70 9876 5432"), "+817098765432");
    }

    #[test]
    fn shown_in_national_form_and_masked_for_logs() {
        let n = PhoneNumber::parse("+819012345678").unwrap();
        assert_eq!(n.national(), "090-1234-5678");
        assert_eq!(n.masked(), "090-****-5678");
        assert_eq!(format!("{n:?}"), "PhoneNumber(090-****-5678)");
        assert_eq!(PhoneNumber::from_e164(n.e164()).unwrap(), n);
    }

    #[test]
    fn foreign_numbers_are_refused() {
        for input in [
            "+1 212 555 0100",
            "+44 7911 123456",
            "+8613800138000",
            "+82 10 1234 5678",
            "010 1 212 555 0100",
        ] {
            assert_eq!(
                PhoneNumber::parse(input),
                Err(PhoneError::Foreign),
                "{input:?}"
            );
        }
    }

    #[test]
    fn numbers_that_cannot_receive_sms_are_refused_by_kind() {
        use NonMobileKind::*;
        for (input, kind) in [
            ("03-1234-5678", Landline),
            ("06-1234-5678", Landline),
            ("0422-12-3456", Landline),
            ("+81 3 1234 5678", Landline),
            ("050-1234-5678", IpPhone),
            ("0120-123-456", TollFree),
            ("0800-123-4567", TollFree),
        ] {
            assert_eq!(
                PhoneNumber::parse(input),
                Err(PhoneError::NotMobile(kind)),
                "{input:?}"
            );
        }
    }

    #[test]
    fn malformed_input_is_refused() {
        for input in [
            "090-1234-567",
            "090-1234-56789",
            "0901234",
            "090123456789012345",
            "abc",
            "090-abcd-5678",
            "090.1234.5678",
            "90-1234-5678x",
            "+",
            "81+9012345678",
        ] {
            assert_eq!(
                PhoneNumber::parse(input),
                Err(PhoneError::Malformed),
                "{input:?}"
            );
        }
        assert_eq!(PhoneNumber::parse("   "), Err(PhoneError::Empty));
        assert_eq!(PhoneNumber::parse(""), Err(PhoneError::Empty));
    }
}
