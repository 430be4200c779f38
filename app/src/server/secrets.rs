//! The server's secret key. One master key (from `NIDAN_SECRET_KEY`, or generated into the
//! data folder on first start) from which each purpose derives its own key, so that a key
//! used to hash codes is never also the key that encrypts recovery codes.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretBox};
use sha2::Sha256;

/// The master key. Not `Debug`-printable, not serialisable.
pub struct Secrets {
    master: SecretBox<[u8; 32]>,
}

impl Secrets {
    pub fn new(master: [u8; 32]) -> Self {
        Self {
            master: SecretBox::new(Box::new(master)),
        }
    }

    /// A 32-byte key for one purpose (HMAC-SHA256 of the purpose under the master key).
    pub fn derive(&self, purpose: &str) -> SecretBox<[u8; 32]> {
        SecretBox::new(Box::new(hmac_sha256(
            self.master.expose_secret(),
            &[b"nidan/v1/", purpose.as_bytes()],
        )))
    }

    /// A keyed hash of `data` under the key for `purpose`, hex-encoded: how codes and tokens
    /// are stored, so that a copy of the database cannot be checked against guesses.
    pub fn keyed_hash(&self, purpose: &str, data: &[u8]) -> String {
        hex::encode(hmac_sha256(self.derive(purpose).expose_secret(), &[data]))
    }
}

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC takes keys of any length, so `new_from_slice` cannot fail; the fallback only
    // satisfies the type checker.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| <Hmac<Sha256> as hmac::digest::KeyInit>::new(&Default::default()));
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_get_different_keys() {
        let s = Secrets::new([7; 32]);
        let a = s.derive("otp");
        let b = s.derive("recovery");
        assert_ne!(a.expose_secret(), b.expose_secret());
        assert_eq!(a.expose_secret(), s.derive("otp").expose_secret());
        assert_eq!(format!("{s:?}"), "Secrets(***)");
        assert_ne!(
            s.keyed_hash("otp", b"123456"),
            s.keyed_hash("recovery", b"123456")
        );
        assert_eq!(s.keyed_hash("otp", b"123456").len(), 64);
    }
}
