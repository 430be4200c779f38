//! A place on the password-hashing pool (`server::passwords`) for an attempt the throttle
//! has let through: every password check and hash goes through here (issue 11, SEC-8).

use crate::error::AppError;
use crate::server::AppState;

/// Turns an attempt away at once (503, `Retry-After`) when every hashing place is taken,
/// before the throttle or the database spend anything on it: in a storm most attempts end
/// here, and they must cost next to nothing (issue 11). Not counted anywhere, like a busy
/// attempt that got as far as [`hashing_place`].
pub fn hashing_room(state: &AppState) -> Result<(), AppError> {
    if state.passwords.has_room() {
        Ok(())
    } else {
        Err(crate::server::passwords::HashError::Busy.into())
    }
}

/// A place for password hashing once the throttle has let `attempt` through; when every
/// place is taken, the attempt is withdrawn (it counts against no one) and the client is
/// asked to come back in a second (503, issue 11).
pub async fn hashing_place(
    state: &AppState,
    attempt: crate::server::services::throttle::Attempt,
) -> Result<
    (
        crate::server::passwords::HashSlot,
        crate::server::services::throttle::Attempt,
    ),
    AppError,
> {
    match state.passwords.reserve() {
        Ok(slot) => Ok((slot, attempt)),
        Err(busy) => {
            if let Err(e) = crate::server::services::throttle::withdraw(state, attempt).await {
                tracing::warn!(error = %e, "a busy attempt still counts against the throttle");
            }
            Err(busy.into())
        }
    }
}
