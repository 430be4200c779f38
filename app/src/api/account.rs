//! The account settings page's data.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// What the settings page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountOverview {
    pub email: String,
    /// The verified phone number in national form (`090-1234-5678`), if any.
    pub phone: Option<String>,
    pub two_factor_enabled: bool,
    /// A code sent and not yet entered, if any: the phone dialog's code step.
    pub pending_phone: Option<PendingPhone>,
    /// Unused recovery codes (the page warns at 3 or fewer, RC-4).
    pub recovery_codes_left: i64,
    /// Browsers that skip the second step (LG-5).
    pub remembered_browsers: Vec<RememberedBrowser>,
    /// The security history, newest first (SEC-5).
    pub history: Vec<HistoryEntry>,
    /// The password was not entered in this session within the re-authentication window
    /// (TF-4): a dialog that needs it asks for it before anything is typed.
    pub reauth_needed: bool,
    /// A number whose sending waits for the password (TF-4): the prompt sends it.
    pub typed_phone: Option<TypedPhone>,
    /// The authenticator app, if one is set (MFA-1).
    pub authenticator: Option<AuthenticatorApp>,
    /// The passkeys, oldest first (MFA-2).
    pub passkeys: Vec<crate::api::passkeys::PasskeyView>,
}

/// The account's authenticator app as the settings page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthenticatorApp {
    /// When it was set, Japan time.
    pub added: String,
    /// When a code of it last signed in, Japan time.
    pub last_used: Option<String>,
}

/// The number typed in the phone dialog before the password was asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypedPhone {
    /// National form (`090-1234-5678`).
    pub number: String,
    pub enable_two_factor: bool,
}

/// One line of the security history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// Japan time.
    pub when: String,
    pub what: String,
    pub browser: String,
    /// Worth a second look (a recovery code used, two-factor off, …).
    pub notable: bool,
}

/// A remembered browser as the settings page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RememberedBrowser {
    pub id: i64,
    pub label: String,
    /// First use, Japan time.
    pub first_used: String,
    pub last_used: String,
}

/// The phone dialog's code step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingPhone {
    /// The number the code went to, in national form.
    pub number: String,
    /// Seconds until `再送する` may be used (0: now).
    pub resend_in_secs: u64,
}

#[server(prefix = "/api", endpoint = "account_overview", input = GetUrl)]
pub async fn get_account_overview() -> Result<AccountOverview, AppError> {
    use crate::domain::PhoneNumber;
    use crate::server::services::{authenticator, browsers, history, passkeys, phone, two_factor};
    use crate::server::{auth_session, db::users, web};

    web::finish(
        async {
            let state = web::state()?;
            let session = web::session().await?;
            let id = auth_session::require_user(&session).await?;
            let user = users::find_by_id(&state.db, id)
                .await?
                .ok_or(AppError::Unauthenticated)?;
            let now = state.clock.now();
            let pending_phone = phone::pending(&state, id, now)
                .await?
                .map(|p| PendingPhone {
                    number: p.phone.national().to_owned(),
                    resend_in_secs: now
                        .secs_until(p.resend_available_at(&state.settings.sms_limits)),
                });
            let phone = user.phone()?;
            let two_factor = two_factor::status(&state, id, now).await?;
            let remembered_browsers = browsers::list(&state, id, now)
                .await?
                .into_iter()
                .map(|b| RememberedBrowser {
                    id: b.id,
                    label: b.label,
                    first_used: web::jst(b.created_at),
                    last_used: web::jst(b.last_used_at),
                })
                .collect();
            let history = history::list(&state, id)
                .await?
                .into_iter()
                .map(|e| HistoryEntry {
                    when: web::jst(e.at),
                    what: e.event.label().to_owned(),
                    browser: e.browser,
                    notable: e.event.is_notable(),
                })
                .collect();
            let reauth_needed = match auth_session::require_recent_auth(
                &session,
                now,
                state.settings.reauth_window,
            )
            .await
            {
                Ok(()) => false,
                Err(AppError::ReauthRequired) => true,
                Err(e) => return Err(e),
            };
            // Only while the password is still needed; a number that no longer parses
            // (it was checked when kept) is dropped.
            let typed_phone = if reauth_needed {
                auth_session::typed_phone(&session)
                    .await?
                    .and_then(|(e164, enable_two_factor)| {
                        PhoneNumber::from_e164(&e164).ok().map(|p| TypedPhone {
                            number: p.national().to_owned(),
                            enable_two_factor,
                        })
                    })
            } else {
                None
            };
            let authenticator =
                authenticator::status(&state, id)
                    .await?
                    .map(|app| AuthenticatorApp {
                        added: web::jst(app.added_at),
                        last_used: app.last_used_at.map(web::jst),
                    });
            let passkeys = passkeys::list(&state, id)
                .await?
                .into_iter()
                .map(|p| crate::api::passkeys::PasskeyView {
                    id: p.id,
                    name: p.name,
                    added: web::jst(p.created_at),
                    last_used: p.last_used_at.map(web::jst),
                })
                .collect();
            Ok(AccountOverview {
                authenticator,
                passkeys,
                email: user.email,
                phone: phone.map(|p| p.national().to_owned()),
                two_factor_enabled: two_factor.enabled,
                pending_phone,
                recovery_codes_left: two_factor.codes_left,
                remembered_browsers,
                history,
                reauth_needed,
                typed_phone,
            })
        }
        .await,
    )
}
