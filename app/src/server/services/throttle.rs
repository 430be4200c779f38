//! Sign-in throttling (SEC-1), built so that nobody can aim it at someone else.
//!
//! Every wrong password is recorded, before it is judged, under *scopes*; past a number of
//! free failures of a scope within 15 minutes, each further attempt in that scope must wait
//! twice as long as the one before (1 s, 2 s, 4 s … capped at 15 minutes) after the last
//! failure. The scopes of a password attempt at sign-in:
//!
//! ```text
//!   an unknown client at an address (IPv4, or IPv6 /64):
//!     pair:{account}|{address}    5 free   (NIDAN_LOGIN_FREE_FAILURES_PER_ACCOUNT)
//!         a guesser at one account from one address slows only that address
//!     ip:{address}               20 free   (NIDAN_LOGIN_FREE_FAILURES_PER_IP)
//!         one address spraying many accounts
//!     account:{account}          50 free   (NIDAN_LOGIN_ACCOUNT_CEILING)
//!         a botnet on one account from many addresses
//!   a known device of the account (see `devices`: its password was right there before):
//!     pair:{account}|device:{id}  5 free
//!         nothing anyone else does can fill it
//!   re-entering the password in a signed-in session (TF-4, a password change):
//!     session:{session}           5 free   only that session's holder can fill it
//!     reauth-user:{account}      50 free   only sessions of the account can fill it
//! ```
//!
//! So failures from strangers can slow the account's sign-ins from *unknown* clients (once
//! past the ceiling, for as long as they keep it filled), but never from a browser where
//! the owner signed in before, whatever address it shares, and never a signed-in session.
//! A right password clears the scopes it was counted in, except the address's. The second
//! factor has its own lock (see `login`).

use std::time::Duration;

use crate::domain::{Email, Timestamp};
use crate::server::AppState;
use crate::server::db::{self, DbError, throttles};

/// How far back failures count. Older rows are deleted by `maintenance`.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
const MAX_DELAY_SECS: u64 = 15 * 60;

#[derive(Debug, thiserror::Error)]
pub enum ThrottleError {
    #[error("too many failed sign-ins; retry in {retry_after_secs} s")]
    Throttled { retry_after_secs: u64 },
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<ThrottleError> for crate::error::AppError {
    fn from(e: ThrottleError) -> Self {
        match e {
            ThrottleError::Throttled { retry_after_secs } => {
                tracing::warn!(retry_after_secs, "sign-in throttled");
                Self::RateLimited { retry_after_secs }
            }
            ThrottleError::Db(e) => e.into(),
        }
    }
}

crate::server::db::service_error_from_sqlx!(ThrottleError);

/// The account's key: the normalised email, or the trimmed input when it is no email.
fn account_key(email: &str) -> String {
    Email::parse(email)
        .map(|e| e.as_str().to_owned())
        .unwrap_or_else(|_| email.trim().to_lowercase())
}

pub fn ip_scope(ip: &str) -> String {
    format!("ip:{ip}")
}

/// The wait after `failures` failures of which `free` cost nothing.
fn delay(failures: u64, free: u64) -> Option<u64> {
    (failures >= free).then(|| {
        1u64.checked_shl(u32::try_from(failures - free).unwrap_or(31))
            .unwrap_or(u64::MAX)
            .min(MAX_DELAY_SECS)
    })
}

/// Who is trying a password at sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claimant<'a> {
    /// A client the account does not know, by its address key.
    Address(&'a str),
    /// A known device of the account, by its id (see `devices`).
    KnownDevice(&'a str),
}

/// The scopes a sign-in password attempt counts against, with their free failures (see the
/// module's table).
pub fn login_scopes(
    settings: &crate::server::Settings,
    email: &str,
    claimant: Claimant<'_>,
) -> Vec<(String, u32)> {
    let account = account_key(email);
    let free = settings.login_free_failures_per_account;
    match claimant {
        Claimant::Address(address) => vec![
            (format!("pair:{account}|{address}"), free),
            (ip_scope(address), settings.login_free_failures_per_ip),
            (format!("account:{account}"), settings.login_account_ceiling),
        ],
        Claimant::KnownDevice(id) => vec![(format!("pair:{account}|device:{id}"), free)],
    }
}

/// What a session is proving with a secret, for [`session_scopes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionProof {
    /// A signed-in session re-entering its password (TF-4, a password change). Nobody
    /// without a session of the account can fail here.
    Reauth,
    /// A pending sign-in entering a recovery code. Only someone with the password gets
    /// here; the address is not counted, since strangers behind the same NAT share it.
    RecoveryCode,
}

/// The scopes of a secret entered in a session: the session's own, and a high ceiling for
/// the account across its sessions, so that several sessions (stolen, or pending) do not
/// multiply the guesses.
pub fn session_scopes(
    settings: &crate::server::Settings,
    proof: SessionProof,
    user: i64,
    session_key: &str,
) -> Vec<(String, u32)> {
    let account = match proof {
        SessionProof::Reauth => format!("reauth-user:{user}"),
        SessionProof::RecoveryCode => format!("recovery-user:{user}"),
    };
    vec![
        (
            format!("session:{session_key}"),
            settings.login_free_failures_per_account,
        ),
        (account, settings.login_account_ceiling),
    ]
}

/// The scopes a success clears: the client's own (its pair, its device, its session). The
/// per-address scope keeps counting (a success at one account says nothing about the other
/// accounts that address tried), and so do the account-wide ones, which strangers fill: a
/// success must not hand a botnet a fresh ceiling.
fn cleared_by_success(scopes: &[(String, u32)]) -> Vec<String> {
    scopes
        .iter()
        .map(|(scope, _)| scope)
        .filter(|scope| scope.starts_with("pair:") || scope.starts_with("session:"))
        .cloned()
        .collect()
}

/// An attempt counted before it was judged; dropped from the count if it succeeds.
#[derive(Debug)]
#[must_use]
pub struct Attempt {
    ids: Vec<i64>,
    /// Scopes whose earlier failures a success forgets too.
    cleared: Vec<String>,
}

/// Counts an attempt against every scope before it is judged, refusing it if it comes too
/// soon after earlier ones. Check and count are one serialised step (one transaction; an
/// advisory lock per scope on PostgreSQL, SQLite's single connection otherwise), so
/// parallel attempts cannot all pass the check before any of them is counted. Attempts in
/// other scopes (other accounts, other addresses) do not wait for them.
pub async fn begin_attempt(
    state: &AppState,
    scopes: &[(String, u32)],
    now: Timestamp,
) -> Result<Attempt, ThrottleError> {
    let names: Vec<&str> = scopes.iter().map(|(s, _)| s.as_str()).collect();
    let mut tx = state.db.pool().begin().await?;
    db::lock_names(&mut tx, state.db.kind(), &names).await?;
    let counted = throttles::failures_since(&mut tx, &names, now.minus(WINDOW)).await?;
    if let Some(retry_after_secs) = wait(scopes, &counted, now) {
        return Err(ThrottleError::Throttled { retry_after_secs });
    }
    let ids = throttles::record(&mut tx, &names, now).await?;
    tx.commit().await?;
    Ok(Attempt {
        ids,
        cleared: cleared_by_success(scopes),
    })
}

/// The seconds an attempt at `now` must still wait, given each scope's free failures and
/// the failures `counted` within the window; `None` when it may go ahead. The longest wait
/// of any scope wins.
fn wait(
    scopes: &[(String, u32)],
    counted: &[throttles::ScopeFailures],
    now: Timestamp,
) -> Option<u64> {
    scopes
        .iter()
        .filter_map(|(scope, free)| {
            let seen = counted.iter().find(|c| &c.scope == scope)?;
            let until = seen
                .last
                .plus(Duration::from_secs(delay(seen.count, u64::from(*free))?));
            (until > now).then(|| now.secs_until(until))
        })
        .max()
}

/// The attempt succeeded: it no longer counts, and neither do the earlier failures of the
/// scopes it clears (see [`cleared_by_success`]).
pub async fn succeeded(state: &AppState, attempt: Attempt) -> Result<(), ThrottleError> {
    let mut conn = state.db.pool().acquire().await?;
    throttles::forget(&mut conn, &attempt.ids, &attempt.cleared).await?;
    Ok(())
}

/// Takes back an attempt that was never judged (the server was too busy to check the
/// password): it counts against no scope, as if it had not been made.
pub async fn withdraw(state: &AppState, attempt: Attempt) -> Result<(), ThrottleError> {
    succeeded(
        state,
        Attempt {
            ids: attempt.ids,
            cleared: Vec::new(),
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(scopes: &[(String, u32)]) -> Vec<&str> {
        scopes.iter().map(|(s, _)| s.as_str()).collect()
    }

    #[test]
    fn a_stranger_fills_no_scope_of_a_known_device_even_at_the_same_address() {
        let settings = crate::server::Settings::development();
        let owner = login_scopes(&settings, "Taro@Example.jp", Claimant::KnownDevice("d1"));
        let stranger = login_scopes(&settings, "taro@example.jp", Claimant::Address("192.0.2.1"));
        assert_eq!(names(&owner), ["pair:taro@example.jp|device:d1"]);
        assert_eq!(
            names(&stranger),
            [
                "pair:taro@example.jp|192.0.2.1",
                "ip:192.0.2.1",
                "account:taro@example.jp"
            ]
        );
        assert!(
            owner.iter().all(|o| !stranger.contains(o)),
            "no scope in common: the stranger's failures cannot delay the owner"
        );
        assert_eq!(stranger[2].1, settings.login_account_ceiling);
    }

    #[test]
    fn a_success_clears_its_own_scopes_but_not_the_address() {
        let settings = crate::server::Settings::development();
        let scopes = login_scopes(&settings, "a@example.jp", Claimant::Address("192.0.2.1"));
        assert_eq!(
            cleared_by_success(&scopes),
            ["pair:a@example.jp|192.0.2.1"],
            "the account-wide ceiling ages out; a success does not empty it for a botnet"
        );
        assert_eq!(
            names(&session_scopes(&settings, SessionProof::Reauth, 7, "abc")),
            ["session:abc", "reauth-user:7"],
            "re-entering the password counts per session and per account, never per address"
        );
    }

    fn failures(scope: &str, count: u64, last: i64) -> throttles::ScopeFailures {
        throttles::ScopeFailures {
            scope: scope.to_owned(),
            count,
            last: Timestamp(last),
        }
    }

    #[test]
    fn the_longest_wait_of_any_scope_holds_an_attempt_back() {
        let now = Timestamp(100_000);
        let scopes = [("pair:a".to_owned(), 5), ("ip:x".to_owned(), 20)];
        assert_eq!(wait(&scopes, &[], now), None, "nothing counted yet");
        assert_eq!(
            wait(
                &scopes,
                &[failures("pair:a", 4, 99_000), failures("ip:x", 19, 99_000)],
                now
            ),
            None,
            "every scope still within its free failures"
        );
        // The pair's sixth failure asks 2 s after the last one, the address's 21st 2 s too;
        // one second has passed.
        assert_eq!(
            wait(
                &scopes,
                &[failures("pair:a", 6, 99_000), failures("ip:x", 21, 99_000)],
                now
            ),
            Some(1)
        );
        assert_eq!(
            wait(
                &scopes,
                &[failures("pair:a", 9, 99_000), failures("ip:x", 21, 99_000)],
                now
            ),
            Some(15),
            "the pair asks 16 s, the address 2 s: the longer wait"
        );
        assert_eq!(
            wait(&scopes, &[failures("pair:a", 6, 90_000)], now),
            None,
            "the wait is over"
        );
        assert_eq!(
            wait(&scopes, &[failures("other", 40, 99_000)], now),
            None,
            "failures of scopes not asked about do not count"
        );
    }

    #[test]
    fn delays_double_after_the_free_failures_and_are_capped() {
        assert_eq!(delay(4, 5), None);
        assert_eq!(delay(5, 5), Some(1));
        assert_eq!(delay(6, 5), Some(2));
        assert_eq!(delay(9, 5), Some(16));
        assert_eq!(delay(40, 5), Some(15 * 60));
        assert_eq!(delay(500, 5), Some(15 * 60));
    }
}
