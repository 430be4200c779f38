//! Known devices (SEC-1): a browser in which the account's password was once entered right.
//!
//! Every successful password sign-in (and sign-up) leaves a signed token in the browser:
//! `{account id}.{random id}.{MAC}`, the MAC keyed with a server key. It skips nothing —
//! not the password, not the second factor — it only tells the sign-in throttle that this
//! client has proven itself for this account before, so that failures from strangers (the
//! account-wide ceiling, a shared address behind a NAT) never slow it: its wrong passwords
//! count under its own random id instead. A token for one account proves nothing for another.

use subtle::ConstantTimeEq;

use crate::domain::Email;
use crate::server::AppState;
use crate::server::db::{DbError, users};
use crate::server::entropy::EntropyError;

/// How long a browser is known for (the cookie's lifetime; browsers cap it at 400 days).
pub const KNOWN_FOR: std::time::Duration = std::time::Duration::from_secs(400 * 24 * 3600);

fn mac(state: &AppState, user: i64, id: &str) -> String {
    state
        .secrets
        .keyed_hash("known-device", format!("{user}.{id}").as_bytes())
}

/// A new token for `user`.
pub fn issue(state: &AppState, user: users::UserId) -> Result<String, EntropyError> {
    let id = hex::encode(state.entropy.bytes::<16>()?);
    Ok(format!("{}.{id}.{}", user.0, mac(state, user.0, &id)))
}

/// The device's id when `token` is a genuine token of `user`.
pub fn verify(state: &AppState, user: users::UserId, token: &str) -> Option<String> {
    let mut parts = token.splitn(3, '.');
    let (Some(owner), Some(id), Some(given)) = (parts.next(), parts.next(), parts.next()) else {
        return None;
    };
    if owner.parse::<i64>().ok() != Some(user.0) || id.len() != 32 {
        return None;
    }
    let expected = mac(state, user.0, id);
    bool::from(expected.as_bytes().ct_eq(given.as_bytes())).then(|| id.to_owned())
}

/// The device's id when `token` is a genuine token of the account with `email` (before the
/// password is checked: the throttle needs to know who is asking).
pub async fn recognise(
    state: &AppState,
    email: &str,
    token: &str,
) -> Result<Option<String>, DbError> {
    let Ok(email) = Email::parse(email) else {
        return Ok(None);
    };
    Ok(users::find_by_email(&state.db, &email)
        .await?
        .and_then(|user| verify(state, user.id, token)))
}
