//! The two-factor switch, recovery codes, re-authentication and remembered browsers
//! (TF-1..TF-4, RC-1..RC-3, LG-5).

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::domain::SecurityEvent;
use crate::error::AppError;

/// One code as the recovery dialog lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryCodeView {
    /// `xxxxx-xxxxx`.
    pub code: String,
    pub used: bool,
}

/// Saves the switch (TF-1). Either way needs a recent password (TF-4); every other session
/// of the account ends. Turning it on shows the new recovery codes.
#[server(prefix = "/api", endpoint = "save_two_factor")]
pub async fn save_two_factor(enabled: Option<String>) -> Result<(), AppError> {
    use crate::server::services::two_factor;
    use crate::server::{auth_session, web};

    web::finish(
        async {
            let (state, session, user) = web::signed_in().await?;
            let now = state.clock.now();
            let enable = enabled.is_some();
            auth_session::require_recent_auth(&session, now, state.settings.reauth_window).await?;
            let changed = two_factor::set_enabled(&state, user, enable, now).await?;
            if changed {
                auth_session::renew(&session).await?;
                let event = if enable {
                    SecurityEvent::TwoFactorEnabled
                } else {
                    SecurityEvent::TwoFactorDisabled
                };
                web::note(&state, user, event).await;
            }
            if enable && changed {
                auth_session::allow_codes_reveal(&session, now, state.settings.reauth_window)
                    .await?;
                leptos_axum::redirect("/settings?dialog=recovery&new=1");
            } else {
                leptos_axum::redirect("/settings?saved=1");
            }
            Ok(())
        }
        .await,
    )
}

/// Where the recovery dialog is, in the URL.
pub const RECOVERY_DIALOG_URL: &str = "/settings?dialog=recovery";

/// `リカバリーコードを表示する` (RC-2): a POST, so that showing the codes can be recorded in
/// the history (SEC-5) without any GET writing (SEC-9). Within the re-authentication window
/// (TF-4) it records the showing and lets the dialog read the codes; otherwise the dialog
/// asks for the password first, and `confirm_password` does both.
#[server(prefix = "/api", endpoint = "show_recovery_codes")]
pub async fn show_recovery_codes() -> Result<(), AppError> {
    use crate::server::services::two_factor;
    use crate::server::{auth_session, web};

    web::finish(
        async {
            let (state, session, user) = web::signed_in().await?;
            let now = state.clock.now();
            if !two_factor::status(&state, user).await?.enabled {
                return Err(AppError::TwoFactorOff);
            }
            match auth_session::require_recent_auth(&session, now, state.settings.reauth_window)
                .await
            {
                Ok(()) => reveal_codes(&state, &session, user, now).await?,
                Err(AppError::ReauthRequired) => {}
                Err(e) => return Err(e),
            }
            leptos_axum::redirect(RECOVERY_DIALOG_URL);
            Ok(())
        }
        .await,
    )
}

/// Lets this session read the codes for the re-authentication window and records that
/// they were shown.
#[cfg(feature = "ssr")]
async fn reveal_codes(
    state: &crate::server::AppState,
    session: &tower_sessions::Session,
    user: crate::server::db::users::UserId,
    now: crate::domain::Timestamp,
) -> Result<(), AppError> {
    use crate::server::services::two_factor;
    use crate::server::{auth_session, web};

    if !two_factor::status(state, user).await?.enabled {
        // Nothing to show: no entry in the history either.
        return Ok(());
    }
    auth_session::allow_codes_reveal(session, now, state.settings.reauth_window).await?;
    web::note(state, user, SecurityEvent::RecoveryCodesShown).await;
    tracing::info!(user = user.0, "recovery codes shown");
    Ok(())
}

/// The ten codes (RC-2), for a session that has just been let to see them (by
/// `show_recovery_codes`, the password dialog, or making new ones). Reads only.
#[server(prefix = "/api", endpoint = "recovery_codes", input = GetUrl)]
pub async fn get_recovery_codes() -> Result<Vec<RecoveryCodeView>, AppError> {
    use crate::server::services::two_factor;
    use crate::server::{auth_session, web};

    web::finish(
        async {
            let (state, session, user) = web::signed_in().await?;
            let now = state.clock.now();
            if !two_factor::status(&state, user).await?.enabled {
                return Err(AppError::TwoFactorOff);
            }
            if !auth_session::may_reveal_codes(&session, now).await? {
                return Err(AppError::ReauthRequired);
            }
            let codes = two_factor::list_codes(&state, user).await?;
            Ok(codes
                .into_iter()
                .map(|c| RecoveryCodeView {
                    code: c.code,
                    used: c.used,
                })
                .collect())
        }
        .await,
    )
}

/// Replaces all ten codes (RC-3); every earlier code stops working now.
#[server(prefix = "/api", endpoint = "regenerate_recovery_codes")]
pub async fn regenerate_recovery_codes() -> Result<(), AppError> {
    use crate::server::services::two_factor;
    use crate::server::{auth_session, web};

    web::finish(
        async {
            let (state, session, user) = web::signed_in().await?;
            let now = state.clock.now();
            auth_session::require_recent_auth(&session, now, state.settings.reauth_window).await?;
            two_factor::regenerate(&state, user, now).await?;
            web::note(&state, user, SecurityEvent::RecoveryCodesRegenerated).await;
            auth_session::allow_codes_reveal(&session, now, state.settings.reauth_window).await?;
            leptos_axum::redirect("/settings?dialog=recovery&regenerated=1");
            Ok(())
        }
        .await,
    )
}

/// The password again (TF-4); then back to `then`, a settings URL.
#[server(prefix = "/api", endpoint = "confirm_password")]
pub async fn confirm_password(password: String, then: String) -> Result<(), AppError> {
    use crate::server::services::{accounts, throttle};
    use crate::server::{auth_session, db::users, web};

    web::finish(
        async {
            let (state, session, user) = web::signed_in().await?;
            let now = state.clock.now();
            let email = users::find_by_id(&state.db, user)
                .await?
                .ok_or(AppError::Unauthenticated)?
                .email;
            // Counted per session and account: strangers cannot delay this (SEC-1).
            let attempt = web::begin_session_attempt(
                &state,
                &session,
                throttle::SessionProof::Reauth,
                user,
                now,
            )
            .await?;
            match accounts::authenticate(&state, &email, password).await {
                Ok(_) => {
                    throttle::succeeded(&state, attempt).await?;
                    auth_session::mark_recent_auth(&session, now).await?;
                    let back = if then.starts_with("/settings") && !then.contains("//") {
                        then.as_str()
                    } else {
                        "/settings"
                    };
                    // The password was asked for to show the codes: show them now.
                    if back == RECOVERY_DIALOG_URL {
                        reveal_codes(&state, &session, user, now).await?;
                    }
                    leptos_axum::redirect(back);
                    Ok(())
                }
                Err(e) => Err(e.into()),
            }
        }
        .await,
    )
}

/// Forgets one remembered browser (LG-5).
#[server(prefix = "/api", endpoint = "forget_browser")]
pub async fn forget_browser(id: i64) -> Result<(), AppError> {
    use crate::server::services::browsers;
    use crate::server::web;

    web::finish(
        async {
            let (state, _, user) = web::signed_in().await?;
            if browsers::forget(&state, user, id).await? {
                web::note(&state, user, SecurityEvent::BrowserForgotten).await;
            }
            leptos_axum::redirect("/settings");
            Ok(())
        }
        .await,
    )
}

/// Forgets every remembered browser of the account (LG-5).
#[server(prefix = "/api", endpoint = "forget_all_browsers")]
pub async fn forget_all_browsers() -> Result<(), AppError> {
    use crate::server::services::browsers;
    use crate::server::web;

    web::finish(
        async {
            let (state, _, user) = web::signed_in().await?;
            browsers::forget_all(&state, user).await?;
            web::note(&state, user, SecurityEvent::BrowserForgotten).await;
            leptos_axum::redirect("/settings");
            Ok(())
        }
        .await,
    )
}
