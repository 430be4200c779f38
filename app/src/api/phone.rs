//! Registering a phone number from the settings page's dialog (PH-1..PH-9). The dialog's
//! step lives in the URL (`/settings?dialog=phone`) and on the server (a pending
//! verification), so each step works as a plain form with JavaScript off; hydrated, the
//! same forms run without page loads.

use leptos::prelude::*;

use crate::error::AppError;

/// Sends a code to `phone` and moves the dialog to the code step. Needs a recent password
/// (TF-4); when the window closed while the number was typed, the prompt sends the number
/// again with the password (`password`), so nothing typed is lost.
#[server(prefix = "/api", endpoint = "send_phone_code")]
pub async fn send_phone_code(
    phone: String,
    enable_two_factor: Option<String>,
    password: Option<String>,
) -> Result<(), AppError> {
    use crate::domain::PhoneNumber;
    use crate::server::services::phone as service;
    use crate::server::{auth_session, web};

    web::finish(
        async {
            let (state, session, user) = web::signed_in().await?;
            let phone = PhoneNumber::parse(&phone)?;
            // Setting or changing the number needs a recent password (TF-4): a stolen
            // session must not be able to put its own phone on the account.
            let asked = password.is_some();
            if let Err(e) =
                web::reauthenticate(&state, &session, user, state.clock.now(), password).await
            {
                // The prompt sends this number with the password, with or without
                // JavaScript: nothing typed is lost.
                if e == AppError::ReauthRequired && !asked {
                    auth_session::keep_typed_phone(
                        &session,
                        phone.e164(),
                        enable_two_factor.is_some(),
                    )
                    .await?;
                }
                return Err(e);
            }
            auth_session::forget_typed_phone(&session).await?;
            let requester = web::requester(&state);
            service::start(
                &state,
                user,
                &phone,
                enable_two_factor.is_some(),
                &requester,
                state.clock.now(),
            )
            .await?;
            leptos_axum::redirect(crate::urls::PHONE_DIALOG);
            Ok(())
        }
        .await,
    )
}

/// Sends a new code to the same number; the previous one stops working (PH-7).
#[server(prefix = "/api", endpoint = "resend_phone_code")]
pub async fn resend_phone_code() -> Result<(), AppError> {
    use crate::server::services::phone as service;
    use crate::server::web;

    web::finish(
        async {
            let (state, _, user) = web::signed_in().await?;
            service::resend(&state, user, &web::requester(&state), state.clock.now()).await?;
            leptos_axum::redirect(crate::urls::PHONE_DIALOG_RESENT);
            Ok(())
        }
        .await,
    )
}

/// Checks the code; a right one saves the number (PH-8).
#[server(prefix = "/api", endpoint = "verify_phone_code")]
pub async fn verify_phone_code(code: String) -> Result<(), AppError> {
    use crate::domain::OtpCode;
    use crate::server::services::phone as service;
    use crate::server::{auth_session, web};

    web::finish(
        async {
            let (state, session, user) = web::signed_in().await?;
            let code = OtpCode::parse(&code)?;
            let now = state.clock.now();
            let verified = service::verify(&state, user, &code, now).await?;
            // Every other session of the account ended with the change; this one goes on
            // under a new id.
            auth_session::renew(&session, now).await?;
            web::note(&state, user, crate::domain::SecurityEvent::PhoneChanged).await;
            if verified.two_factor_enabled_now {
                web::note(&state, user, crate::domain::SecurityEvent::TwoFactorEnabled).await;
                // `二段階認証も有効にする` was ticked: the success step shows the new codes.
                auth_session::allow_codes_reveal(&session, now, state.settings.reauth_window)
                    .await?;
            }
            leptos_axum::redirect(crate::urls::phone_dialog_done(
                verified.two_factor_enabled_now,
            ));
            Ok(())
        }
        .await,
    )
}

/// Closes the dialog before success: the pending code dies (PH-9).
#[server(prefix = "/api", endpoint = "abandon_phone_code")]
pub async fn abandon_phone_code() -> Result<(), AppError> {
    use crate::server::services::phone as service;
    use crate::server::web;

    web::finish(
        async {
            let (state, session, user) = web::signed_in().await?;
            service::abandon(&state, user).await?;
            crate::server::auth_session::forget_typed_phone(&session).await?;
            leptos_axum::redirect(crate::urls::SETTINGS);
            Ok(())
        }
        .await,
    )
}
