//! The SMS sending limits (SEC-2): the budgets every code SMS must fit, against SMS
//! pumping (someone making the service send, and pay for, messages to numbers they
//! choose) and harassment (codes flooding one number). The decision is [`budgets`] and
//! [`fits`], pure; [`charge`] counts and records in the sending transaction. The numbers
//! are `SmsLimits` (`server/settings.rs`, environment variables in the README); who can
//! use up which budget is in docs/security.md.

use std::time::Duration;

use sqlx::AnyConnection;

use super::otp::Purpose;
use crate::domain::{PhoneNumber, Timestamp};
use crate::server::SmsLimits;
use crate::server::db::{DbError, sms_sends, users::UserId};

pub use crate::server::db::sms_sends::SendScope;

/// A send the limits refused, or the database failing while they were checked.
#[derive(Debug, thiserror::Error)]
pub enum LimitError {
    #[error("SMS limit reached ({rule})")]
    Limited {
        rule: &'static str,
        retry_after_secs: u64,
    },
    #[error(transparent)]
    Db(#[from] DbError),
}

/// One budget a send must fit: at most `limit` sends of `scope` within `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget<'a> {
    pub rule: &'static str,
    pub scope: SendScope<'a>,
    pub window: Duration,
    pub limit: u32,
}

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(24 * 3600);

/// The budgets a send for `purpose` to `phone` must fit (SEC-2). The owner's sign-in codes
/// and registration sends have separate per-number budgets, so that no other account can use
/// up the owner's sign-in codes; registration sends are budgeted per (number, account), under
/// a per-number ceiling across all accounts that keeps a number from being harassed.
pub fn budgets<'a>(
    limits: &SmsLimits,
    purpose: Purpose,
    user: i64,
    phone: &'a str,
    address: &'a str,
) -> Vec<Budget<'a>> {
    let budget = |rule, scope, window, limit| Budget {
        rule,
        scope,
        window,
        limit,
    };
    let mut list = match purpose {
        Purpose::Login => vec![
            budget(
                "sign-in codes per number per hour",
                SendScope::OwnerSignIns(phone),
                HOUR,
                limits.per_number_hour,
            ),
            budget(
                "sign-in codes per number per day",
                SendScope::OwnerSignIns(phone),
                DAY,
                limits.per_number_day,
            ),
        ],
        Purpose::Phone => vec![
            budget(
                "per number and account per hour",
                SendScope::RegistrationsBy(phone, user),
                HOUR,
                limits.per_number_hour,
            ),
            budget(
                "per number and account per day",
                SendScope::RegistrationsBy(phone, user),
                DAY,
                limits.per_number_day,
            ),
            budget(
                "registrations per number per day",
                SendScope::RegistrationsTo(phone),
                DAY,
                limits.registrations_per_number_day,
            ),
            // Registrations may take at most half of the service's hourly ceiling, so that a
            // flood of them cannot stop everyone's sign-in codes.
            budget(
                "registrations per hour, everyone",
                SendScope::AllRegistrations,
                HOUR,
                (limits.global_hour / 2).max(1),
            ),
        ],
    };
    list.extend([
        budget(
            "per account per day",
            SendScope::Account(user),
            DAY,
            limits.per_account_day,
        ),
        budget(
            "per address per hour",
            SendScope::Address(address),
            HOUR,
            limits.per_ip_hour,
        ),
        budget(
            "global per hour",
            SendScope::Everyone,
            HOUR,
            limits.global_hour,
        ),
    ]);
    list
}

/// Whether one more send fits a budget that already counts `count` sends, the oldest at
/// `oldest`: `Err(seconds to wait)` when it does not.
pub fn fits(
    count: i64,
    oldest: Option<Timestamp>,
    budget: &Budget<'_>,
    now: Timestamp,
) -> Result<(), u64> {
    if count < i64::from(budget.limit) {
        return Ok(());
    }
    let oldest = oldest.unwrap_or(now);
    Err(now.secs_until(oldest.plus(budget.window)).max(1))
}

/// Refuses the send if any budget is used up; otherwise records it, in the caller's
/// transaction (which holds the sends lock on PostgreSQL, so every send sees the ones
/// before it). Returns the row's id so that a send the gateway refused can be taken back.
pub async fn charge(
    conn: &mut AnyConnection,
    limits: &SmsLimits,
    purpose: Purpose,
    user: UserId,
    phone: &PhoneNumber,
    ip: &str,
    now: Timestamp,
) -> Result<i64, LimitError> {
    for budget in budgets(limits, purpose, user.0, phone.e164(), ip) {
        let (count, oldest) =
            sms_sends::count_since(&mut *conn, budget.scope, now.minus(budget.window)).await?;
        if let Err(retry_after_secs) = fits(count, oldest, &budget, now) {
            return Err(LimitError::Limited {
                rule: budget.rule,
                retry_after_secs,
            });
        }
    }
    Ok(sms_sends::insert(conn, user.0, phone.e164(), ip, purpose.as_str(), now).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scopes(list: &[Budget<'_>]) -> Vec<SendScope<'static>> {
        list.iter()
            .map(|b| match b.scope {
                SendScope::OwnerSignIns(_) => SendScope::OwnerSignIns("n"),
                SendScope::RegistrationsBy(_, id) => SendScope::RegistrationsBy("n", id),
                SendScope::RegistrationsTo(_) => SendScope::RegistrationsTo("n"),
                SendScope::Account(id) => SendScope::Account(id),
                SendScope::Address(_) => SendScope::Address("a"),
                SendScope::AllRegistrations => SendScope::AllRegistrations,
                SendScope::Everyone => SendScope::Everyone,
            })
            .collect()
    }

    #[test]
    fn the_owners_sign_in_codes_share_no_per_number_budget_with_registrations() {
        let limits = SmsLimits::default();
        let owner = budgets(&limits, Purpose::Login, 1, "+819012345678", "192.0.2.1");
        let other = budgets(&limits, Purpose::Phone, 2, "+819012345678", "203.0.113.9");
        assert!(
            owner.iter().all(|o| other
                .iter()
                .all(|x| x.scope != o.scope || x.scope == SendScope::Everyone)),
            "only the global ceiling is shared: {owner:?} / {other:?}"
        );
        assert_eq!(
            scopes(&other),
            [
                SendScope::RegistrationsBy("n", 2),
                SendScope::RegistrationsBy("n", 2),
                SendScope::RegistrationsTo("n"),
                SendScope::AllRegistrations,
                SendScope::Account(2),
                SendScope::Address("a"),
                SendScope::Everyone,
            ]
        );
    }

    #[test]
    fn a_full_budget_says_when_its_oldest_send_leaves_the_window() {
        let limits = SmsLimits::default();
        let list = budgets(&limits, Purpose::Phone, 1, "+819012345678", "a");
        let hourly = &list[0];
        let t = Timestamp(10_000_000);
        assert_eq!(fits(4, Some(t), hourly, t), Ok(()));
        assert_eq!(
            fits(5, Some(t), hourly, t.plus(Duration::from_secs(300))),
            Err(3300)
        );
        assert_eq!(
            fits(5, Some(t), hourly, t.plus(HOUR)),
            Err(1),
            "never less than a second"
        );
    }
}
