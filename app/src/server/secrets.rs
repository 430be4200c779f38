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
        Self { master: SecretBox::new(Box::new(master)) }
    }

    /// A 32-byte key for one purpose (HMAC-SHA256 of the purpose under the master key).
    pub fn derive(&self, purpose: &str) -> SecretBox<[u8; 32]> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.master.expose_secret())
            .unwrap_or_else(|_| unreachable_hmac());
        mac.update(b"nidan/v1/");
        mac.update(purpose.as_bytes());
        let out: [u8; 32] = mac.finalize().into_bytes().into();
        SecretBox::new(Box::new(out))
    }
}

/// HMAC accepts keys of any length, so `new_from_slice` cannot fail.
#[cold]
fn unreachable_hmac() -> Hmac<Sha256> {
    #[allow(clippy::unreachable)]
    {
        unreachable!("HMAC-SHA256 takes keys of any length")
    }
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
    }
}
