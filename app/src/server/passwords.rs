//! Password hashing with argon2id (ACC-1). Hashing runs on the blocking pool, never on the
//! async workers. Verifying an unknown account still runs one full verification against a
//! dummy hash with the same parameters, so that "no such email" and "wrong password" take
//! the same time as well as giving the same message.

use std::{fmt, sync::Arc};

use argon2::password_hash::{
    PasswordHash as ParsedHash, PasswordHasher as _, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::domain::Password;

/// An encoded argon2 hash (PHC string). Not `Serialize`, and `Debug` shows nothing.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(***)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("argon2: {0}")]
    Argon2(String),
    #[error("hashing task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// argon2id with fixed parameters. Cheap to clone.
#[derive(Clone)]
pub struct PasswordHasher {
    inner: Arc<Inner>,
}

struct Inner {
    params: Params,
    dummy: PasswordHash,
}

impl PasswordHasher {
    /// OWASP's recommendation for argon2id: 19 MiB, 2 passes, 1 lane.
    pub fn owasp() -> Result<Self, HashError> {
        Self::with_params(19_456, 2, 1)
    }

    /// Cheap parameters for tests only.
    pub fn insecure_for_tests() -> Result<Self, HashError> {
        Self::with_params(64, 1, 1)
    }

    pub fn with_params(memory_kib: u32, iterations: u32, lanes: u32) -> Result<Self, HashError> {
        let params = Params::new(memory_kib, iterations, lanes, None)
            .map_err(|e| HashError::Argon2(e.to_string()))?;
        let dummy = hash_blocking(&params, "nidan dummy password", &[0x5a; 16])?;
        Ok(Self {
            inner: Arc::new(Inner { params, dummy }),
        })
    }

    /// Hashes a password that passed the policy, with a fresh 16-byte salt.
    pub async fn hash(
        &self,
        password: &Password,
        salt: [u8; 16],
    ) -> Result<PasswordHash, HashError> {
        let inner = self.inner.clone();
        let password = password.expose().to_owned();
        tokio::task::spawn_blocking(move || hash_blocking(&inner.params, &password, &salt)).await?
    }

    /// Whether `password` matches `stored`. With `stored = None` (unknown account) the
    /// dummy hash is checked instead and the answer is always `false`.
    pub async fn verify(
        &self,
        password: String,
        stored: Option<PasswordHash>,
    ) -> Result<bool, HashError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let known = stored.is_some();
            let hash = stored.unwrap_or_else(|| inner.dummy.clone());
            let parsed =
                ParsedHash::new(hash.as_str()).map_err(|e| HashError::Argon2(e.to_string()))?;
            let ok = Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok();
            Ok(known && ok)
        })
        .await?
    }
}

fn hash_blocking(
    params: &Params,
    password: &str,
    salt: &[u8; 16],
) -> Result<PasswordHash, HashError> {
    let salt = SaltString::encode_b64(salt).map_err(|e| HashError::Argon2(e.to_string()))?;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let hash = argon2
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| HashError::Argon2(e.to_string()))?;
    Ok(PasswordHash(hash.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_unknown_accounts_never_match() {
        let hasher = PasswordHasher::insecure_for_tests().unwrap();
        let pw = Password::new("correct horse battery".into()).unwrap();
        let hash = hasher.hash(&pw, [1; 16]).await.unwrap();
        assert!(hash.as_str().starts_with("$argon2id$"));
        assert!(
            hasher
                .verify("correct horse battery".into(), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify("wrong horse battery".into(), Some(hash))
                .await
                .unwrap()
        );
        // The dummy's own password must not log anyone in.
        assert!(
            !hasher
                .verify("nidan dummy password".into(), None)
                .await
                .unwrap()
        );
    }

    #[test]
    fn owasp_parameters_are_argon2id_19mib() {
        let hasher = PasswordHasher::owasp().unwrap();
        assert!(
            hasher
                .inner
                .dummy
                .as_str()
                .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
        );
    }
}
