//! The authenticator app on the settings page (MFA-1): set it up with a QR code and a
//! confirming code, or remove it. Both need a recent password (TF-4), like every change to
//! the second factor; both end the account's other sessions.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// What the setup dialog shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppEnrolment {
    /// The QR code as SVG markup, drawn on the server (works without JavaScript).
    pub qr_svg: String,
    /// The same key as text, in groups of four.
    pub key: String,
}

/// `認証アプリを設定する`: a new secret for this session's dialog, and the dialog. Within
/// the re-authentication window, or with the password the dialog's prompt sends
/// (`password`); otherwise the dialog opens and asks for the password. Nothing is stored
/// until a code confirms the app.
#[server(prefix = "/api", endpoint = "start_authenticator")]
pub async fn start_authenticator(password: Option<String>) -> Result<(), AppError> {
    use crate::server::services::authenticator;
    use crate::server::{auth_session, web};

    web::finish(
        async {
            let (state, session, user) = web::signed_in().await?;
            let now = state.clock.now();
            let asked = password.is_some();
            match web::reauthenticate(&state, &session, user, now, password).await {
                Ok(()) => {
                    let enrolment = authenticator::new_enrolment(&state, user)?;
                    auth_session::keep_app_enrolment(&session, &enrolment).await?;
                }
                // The button itself: open the dialog, which asks for the password. A key
                // made earlier is not shown again without it.
                Err(AppError::ReauthRequired) if !asked => {
                    auth_session::forget_app_enrolment(&session).await?;
                }
                Err(e) => return Err(e),
            }
            leptos_axum::redirect(crate::urls::APP_DIALOG);
            Ok(())
        }
        .await,
    )
}

/// The QR code and key of this session's new app. `ReauthRequired` when none was started
/// (the dialog then asks for the password, which starts one). Reads only.
#[server(prefix = "/api", endpoint = "authenticator_enrolment", input = GetUrl)]
pub async fn get_authenticator_enrolment() -> Result<AppEnrolment, AppError> {
    use crate::server::services::authenticator;
    use crate::server::{auth_session, web};

    web::finish(
        async {
            let (state, session, user) = web::signed_in().await?;
            // The key is shown only while the password is recent (TF-4), like the codes.
            auth_session::require_recent_auth(
                &session,
                state.clock.now(),
                state.settings.reauth_window,
            )
            .await?;
            let Some(enrolment) = auth_session::app_enrolment(&session).await? else {
                return Err(AppError::ReauthRequired);
            };
            let email = web::email_of(&state, user).await?;
            let view = authenticator::enrolment_view(&state, user, &email, &enrolment)?;
            Ok(AppEnrolment {
                qr_svg: view.qr_svg,
                key: view.key,
            })
        }
        .await,
    )
}

/// The code from the new app: right, and the app is set (recorded in the history; other
/// sessions end). Wrong, and nothing changes.
#[server(prefix = "/api", endpoint = "confirm_authenticator")]
pub async fn confirm_authenticator(code: String) -> Result<(), AppError> {
    use crate::domain::{OtpCode, SecurityEvent};
    use crate::server::services::authenticator;
    use crate::server::{auth_session, web};

    web::finish(
        async {
            let (state, session, user) = web::signed_in().await?;
            let now = state.clock.now();
            let code = OtpCode::parse(&code)?;
            // A key left in the session from long ago sets nothing without the password.
            auth_session::require_recent_auth(&session, now, state.settings.reauth_window).await?;
            let Some(enrolment) = auth_session::app_enrolment(&session).await? else {
                return Err(AppError::ReauthRequired);
            };
            authenticator::confirm(&state, user, &enrolment, &code, now).await?;
            auth_session::forget_app_enrolment(&session).await?;
            auth_session::renew(&session, now).await?;
            web::note(&state, user, SecurityEvent::AuthenticatorAdded).await;
            leptos_axum::redirect(crate::urls::APP_ADDED);
            Ok(())
        }
        .await,
    )
}

/// `認証アプリを削除する`: needs a recent password (TF-4), which the prompt sends along
/// (`password`). Remembered browsers are forgotten and other sessions end.
#[server(prefix = "/api", endpoint = "remove_authenticator")]
pub async fn remove_authenticator(password: Option<String>) -> Result<(), AppError> {
    use crate::domain::SecurityEvent;
    use crate::server::services::authenticator;
    use crate::server::{auth_session, web};

    web::finish(
        async {
            let (state, session, user) = web::signed_in().await?;
            let now = state.clock.now();
            web::reauthenticate(&state, &session, user, now, password).await?;
            if authenticator::remove(&state, user, now).await? {
                auth_session::renew(&session, now).await?;
                web::note(&state, user, SecurityEvent::AuthenticatorRemoved).await;
                leptos_axum::redirect(crate::urls::APP_REMOVED);
            } else {
                // Nothing was set (removed meanwhile, or a second press).
                leptos_axum::redirect(crate::urls::SETTINGS);
            }
            Ok(())
        }
        .await,
    )
}
