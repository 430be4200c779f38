//! Known devices (SEC-1): a browser in which the account's password was once entered right.
//!
//! Every successful password sign-in (and sign-up) leaves a signed token in the browser:
//! `{account id}.{random id}.{MAC}`, the MAC keyed with a server key over the id and the
//! time the password last changed, so that a password change voids every token minted with
//! the old password (whoever knew it could have minted many). It skips nothing —
//! not the password, not the second factor — it only tells the sign-in throttle that this
//! client has proven itself for this account before, so that failures from strangers (the
//! account-wide ceiling, a shared address behind a NAT) never slow it: its wrong passwords
//! count under its own random id instead. A token for one account proves nothing for another.

use subtle::ConstantTimeEq;

use crate::domain::{Email, Timestamp};
use crate::server::AppState;
use crate::server::cookies::DeviceToken;
use crate::server::db::{DbError, users};
use crate::server::entropy::EntropyError;

/// How long a browser is known for (the cookie's lifetime; browsers cap it at 400 days).
pub const KNOWN_FOR: std::time::Duration = std::time::Duration::from_secs(400 * 24 * 3600);

/// What a token is bound to besides the account: the last password change (none yet: 0).
fn mac(state: &AppState, user: i64, password_changed: Option<Timestamp>, id: &str) -> String {
    let changed = password_changed.map_or(0, Timestamp::as_millis);
    state
        .secrets
        .keyed_hash("known-device", format!("{user}.{changed}.{id}").as_bytes())
}

/// A new token for `user`, bound to its current password (last set at `password_changed`,
/// as the caller read it with the account).
pub fn issue(
    state: &AppState,
    user: users::UserId,
    password_changed: Option<Timestamp>,
) -> Result<String, DeviceError> {
    let id = hex::encode(state.entropy.bytes::<16>()?);
    let mac = mac(state, user.0, password_changed, &id);
    Ok(DeviceToken {
        owner: user.0,
        id,
        mac,
    }
    .to_string())
}

#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Entropy(#[from] EntropyError),
}

/// The device's id when `token` is a genuine token of `user` under the password it had
/// when the password last changed at `password_changed`.
pub fn verify(
    state: &AppState,
    user: users::UserId,
    password_changed: Option<Timestamp>,
    token: &str,
) -> Option<String> {
    let token = DeviceToken::parse(token).filter(|t| t.owner == user.0)?;
    let expected = mac(state, user.0, password_changed, &token.id);
    bool::from(expected.as_bytes().ct_eq(token.mac.as_bytes())).then_some(token.id)
}

/// The device's id when `token` is a genuine token of the account with `email` (before the
/// password is checked: the throttle needs to know who is asking).
pub async fn recognise(
    state: &AppState,
    email: &str,
    token: &str,
) -> Result<Option<String>, DbError> {
    // A cookie of another shape is no token: nothing to look up.
    let (Some(_), Ok(email)) = (DeviceToken::parse(token), Email::parse(email)) else {
        return Ok(None);
    };
    let Some(user) = users::find_by_email(&state.db, &email).await? else {
        return Ok(None);
    };
    Ok(verify(state, user.id, user.password_changed_at, token))
}
