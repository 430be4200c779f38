//! The two-factor switch, recovery codes, re-authentication and remembered browsers
//! (TF-1..TF-4, RC-1..RC-3, LG-5).

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

#[cfg(feature = "ssr")]
use crate::domain::SecurityEvent;
use crate::error::AppError;

pub use crate::domain::recovery::RecoveryCodeView;

/// Saves the switch (TF-1). A change either way needs a recent password (TF-4), which the
/// prompt sends along (`password`) so that the change is made by the same request; every
/// other session of the account ends. Turning it on shows the new recovery codes. Saving
/// what is already saved changes nothing and asks for nothing.
#[server(prefix = "/api", endpoint = "save_two_factor")]
pub async fn save_two_factor(
    enabled: Option<String>,
    password: Option<String>,
) -> Result<(), AppError> {
    use crate::server::services::two_factor;
    use crate::server::{auth_session, web};

    web::finish(
        async {
            let (state, session, user) = web::signed_in().await?;
            let now = state.clock.now();
            let enable = enabled.is_some();
            if two_factor::status(&state, user, now).await?.enabled == enable {
                leptos_axum::redirect(crate::urls::SETTINGS_SAVED);
                return Ok(());
            }
            web::reauthenticate(&state, &session, user, now, password).await?;
            let changed = two_factor::set_enabled(&state, user, enable, now).await?;
            if changed {
                auth_session::renew(&session, now).await?;
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
                leptos_axum::redirect(crate::urls::RECOVERY_DIALOG_NEW);
            } else {
                leptos_axum::redirect(crate::urls::SETTINGS_SAVED);
            }
            Ok(())
        }
        .await,
    )
}

/// `リカバリーコードを表示する` (RC-2): a POST, so that showing the codes can be recorded in
/// the history (SEC-5) without any GET writing (SEC-9). Within the re-authentication window
/// (TF-4), or with the password the dialog's prompt sends (`password`), it records the
/// showing and lets the dialog read the codes; otherwise the dialog asks for the password.
#[server(prefix = "/api", endpoint = "show_recovery_codes")]
pub async fn show_recovery_codes(password: Option<String>) -> Result<(), AppError> {
    use crate::server::web;

    web::finish(
        async {
            let (state, session, user, now) = signed_in_with_two_factor().await?;
            let asked = password.is_some();
            match web::reauthenticate(&state, &session, user, now, password).await {
                Ok(()) => reveal_codes(&state, &session, user, now).await?,
                // The button itself: open the dialog, which asks for the password.
                Err(AppError::ReauthRequired) if !asked => {}
                Err(e) => return Err(e),
            }
            leptos_axum::redirect(crate::urls::RECOVERY_DIALOG);
            Ok(())
        }
        .await,
    )
}

/// The signed-in account of this request, which must have two-factor on: its recovery codes
/// exist only then (RC-1).
#[cfg(feature = "ssr")]
async fn signed_in_with_two_factor() -> Result<crate::server::web::AccountStep, AppError> {
    use crate::server::services::two_factor;
    use crate::server::web;

    let (state, session, user) = web::signed_in().await?;
    let now = state.clock.now();
    if !two_factor::status(&state, user, now).await?.enabled {
        return Err(AppError::TwoFactorOff);
    }
    Ok((state, session, user, now))
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

    if !two_factor::status(state, user, now).await?.enabled {
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
            let (state, session, user, now) = signed_in_with_two_factor().await?;
            if !auth_session::may_reveal_codes(&session, now).await? {
                return Err(AppError::ReauthRequired);
            }
            Ok(two_factor::list_codes(&state, user).await?)
        }
        .await,
    )
}

/// Replaces all ten codes (RC-3); every earlier code stops working now. Needs a recent
/// password (TF-4), which the dialog's prompt sends along (`password`).
#[server(prefix = "/api", endpoint = "regenerate_recovery_codes")]
pub async fn regenerate_recovery_codes(password: Option<String>) -> Result<(), AppError> {
    use crate::server::services::two_factor;
    use crate::server::{auth_session, web};

    web::finish(
        async {
            let (state, session, user) = web::signed_in().await?;
            let now = state.clock.now();
            web::reauthenticate(&state, &session, user, now, password).await?;
            two_factor::regenerate(&state, user, now).await?;
            web::note(&state, user, SecurityEvent::RecoveryCodesRegenerated).await;
            auth_session::allow_codes_reveal(&session, now, state.settings.reauth_window).await?;
            leptos_axum::redirect(crate::urls::RECOVERY_DIALOG_REGENERATED);
            Ok(())
        }
        .await,
    )
}

/// The password again (TF-4), asked before a dialog lets anything be typed (the phone
/// dialog); then back to `then`, a settings URL. Actions that were refused for want of it
/// take the password themselves instead (`web::reauthenticate`).
#[server(prefix = "/api", endpoint = "confirm_password")]
pub async fn confirm_password(password: String, then: String) -> Result<(), AppError> {
    use crate::server::web;

    web::finish(
        async {
            let (state, session, user) = web::signed_in().await?;
            let now = state.clock.now();
            // An empty password only asks again (`reauthenticate`).
            web::reauthenticate(&state, &session, user, now, Some(password)).await?;
            // Only back into the settings (leptos would panic building a `Location` header
            // from a control character).
            let back = crate::urls::settings_return(&then);
            // The password was asked for to show the codes: show them now.
            if back == crate::urls::RECOVERY_DIALOG {
                reveal_codes(&state, &session, user, now).await?;
            }
            leptos_axum::redirect(back);
            Ok(())
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
            leptos_axum::redirect(crate::urls::SETTINGS);
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
            // An entry only when a browser was forgotten: a session alone can send this
            // again and again, and each empty one would push a real entry off the page.
            if browsers::forget_all(&state, user).await? {
                web::note(&state, user, SecurityEvent::BrowserForgotten).await;
            }
            leptos_axum::redirect(crate::urls::SETTINGS);
            Ok(())
        }
        .await,
    )
}
