//! Secrets the server must read again later (recovery codes, RC-2; authenticator-app keys,
//! MFA-1), sealed with XChaCha20-Poly1305 under a key derived from the server secret for
//! each purpose. The account id is the associated data: a sealed value copied into another
//! account's row does not open, nor does one sealed for another purpose.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use secrecy::ExposeSecret;

use super::AppState;
use super::db::users::UserId;
use super::entropy::EntropyError;

const NONCE_LEN: usize = 24;

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("a sealed value does not open")]
    DoesNotOpen,
    #[error(transparent)]
    Entropy(#[from] EntropyError),
}

fn cipher(state: &AppState, purpose: &str) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(state.secrets.derive(purpose).expose_secret().into())
}

/// `plain` sealed for `user` under the key of `purpose`: hex of a fresh nonce and the
/// ciphertext.
pub fn seal(
    state: &AppState,
    purpose: &str,
    user: UserId,
    plain: &[u8],
) -> Result<String, SealError> {
    let nonce = state.entropy.bytes::<NONCE_LEN>()?;
    let aad = user.0.to_be_bytes();
    let sealed = cipher(state, purpose)
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: plain,
                aad: &aad,
            },
        )
        .map_err(|_| SealError::DoesNotOpen)?;
    Ok(format!("{}{}", hex::encode(nonce), hex::encode(sealed)))
}

/// What [`seal`] sealed for `user` under `purpose`.
pub fn open(
    state: &AppState,
    purpose: &str,
    user: UserId,
    sealed: &str,
) -> Result<Vec<u8>, SealError> {
    let bytes = hex::decode(sealed).map_err(|_| SealError::DoesNotOpen)?;
    if bytes.len() < NONCE_LEN {
        return Err(SealError::DoesNotOpen);
    }
    let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
    let aad = user.0.to_be_bytes();
    cipher(state, purpose)
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad: &aad,
            },
        )
        .map_err(|_| SealError::DoesNotOpen)
}
