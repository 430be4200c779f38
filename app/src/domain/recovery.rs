//! Recovery codes (RC-4): ten characters from an alphabet without look-alikes (no 0/o,
//! 1/l/i), shown as `xxxxx-xxxxx`. What people type is read ignoring case, spaces and
//! hyphens.

use std::fmt;

/// 31 characters: digits 2-9 and lowercase letters without i, l and o.
pub const ALPHABET: &[u8; 31] = b"23456789abcdefghjkmnpqrstuvwxyz";
pub const LEN: usize = 10;
/// Codes in a set.
pub const SET_SIZE: usize = 10;

/// One code of the account's set as the recovery dialog lists it (RC-2).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RecoveryCodeView {
    /// `xxxxx-xxxxx`.
    pub code: String,
    pub used: bool,
}

/// One recovery code, normalised (lowercase, no separators).
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryCode(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a recovery code is {LEN} characters from the code alphabet")]
pub struct RecoveryFormatError;

impl RecoveryCode {
    /// Reads a code as typed.
    pub fn parse(input: &str) -> Result<Self, RecoveryFormatError> {
        let mut code = String::with_capacity(LEN);
        for c in input.chars() {
            // Full-width letters and digits (U+FF01..U+FF5E) as typed with a Japanese IME.
            let c = match c {
                '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
                other => other,
            };
            match c {
                ' ' | '　' | '-' | 'ー' => {}
                c if c.is_ascii_alphanumeric() => {
                    let c = c.to_ascii_lowercase();
                    if !ALPHABET.contains(&(c as u8)) {
                        return Err(RecoveryFormatError);
                    }
                    code.push(c);
                }
                _ => return Err(RecoveryFormatError),
            }
        }
        if code.len() == LEN {
            Ok(Self(code))
        } else {
            Err(RecoveryFormatError)
        }
    }

    /// The code made of these alphabet positions (the caller draws them uniformly).
    pub fn from_indices(indices: [u8; LEN]) -> Self {
        Self(
            indices
                .iter()
                .map(|i| ALPHABET[usize::from(*i) % ALPHABET.len()] as char)
                .collect(),
        )
    }

    /// Normalised form, for hashing and storing.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `abcde-fghjk`, as shown.
    pub fn display(&self) -> String {
        format!("{}-{}", &self.0[..5], &self.0[5..])
    }
}

impl fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryCode(*****-*****)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_alphabet_has_no_look_alikes() {
        for c in b"01ilo" {
            assert!(!ALPHABET.contains(c), "{}", *c as char);
        }
        assert_eq!(ALPHABET.len(), 31);
    }

    #[test]
    fn input_ignores_case_spaces_and_hyphens() {
        let code = RecoveryCode::from_indices([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        assert_eq!(code.display(), "23456-789ab");
        for typed in [
            "23456-789ab",
            "23456789AB",
            " 23456 789ab ",
            "23456－789ab",
            "２３４５６－７８９ＡＢ",
        ] {
            assert_eq!(RecoveryCode::parse(typed).unwrap(), code, "{typed:?}");
        }
        for bad in [
            "23456-789a",
            "23456-789abc",
            "23456-789a0",
            "23456-789al",
            "23456_789ab",
        ] {
            assert!(RecoveryCode::parse(bad).is_err(), "{bad:?}");
        }
    }
}
