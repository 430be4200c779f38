//! Signing up, in and out (ACC-1, ACC-3).

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Who is signed in, as the header shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub email: String,
}

/// Creates an account and signs it in, then goes to the settings page.
#[server(prefix = "/api", endpoint = "sign_up")]
pub async fn sign_up(email: String, password: String) -> Result<(), AppError> {
    use crate::domain::{Email, Password};
    use crate::server::{auth_session, services::accounts, web};

    web::finish(
        async {
            let state = web::state()?;
            let session = web::session().await?;
            let email = Email::parse(&email)?;
            let password = Password::new(password)?;
            let now = state.clock.now();
            let user = accounts::sign_up(&state, &email, &password, now).await?;
            auth_session::sign_in(&session, user, now).await?;
            leptos_axum::redirect("/settings");
            Ok(())
        }
        .await,
    )
}

/// Signs in with email and password, then goes to the settings page.
#[server(prefix = "/api", endpoint = "log_in")]
pub async fn log_in(email: String, password: String) -> Result<(), AppError> {
    use crate::domain::mask::mask_email;
    use crate::server::{auth_session, services::accounts, web};

    web::finish(
        async {
            let state = web::state()?;
            let session = web::session().await?;
            match accounts::authenticate(&state, &email, password).await {
                Ok(user) => {
                    auth_session::sign_in(&session, user, state.clock.now()).await?;
                    tracing::info!(user = user.0, "signed in");
                    leptos_axum::redirect("/settings");
                    Ok(())
                }
                Err(e) => {
                    tracing::info!(email = %mask_email(email.trim()), "sign-in refused");
                    Err(e.into())
                }
            }
        }
        .await,
    )
}

/// Ends the session on the server and goes to the sign-in page.
#[server(prefix = "/api", endpoint = "log_out")]
pub async fn log_out() -> Result<(), AppError> {
    use crate::server::{auth_session, web};

    web::finish(
        async {
            let session = web::session().await?;
            auth_session::sign_out(&session).await?;
            leptos_axum::redirect("/login");
            Ok(())
        }
        .await,
    )
}

/// The signed-in account, or `None`.
#[server(prefix = "/api", endpoint = "current_user", input = GetUrl)]
pub async fn get_current_user() -> Result<Option<CurrentUser>, AppError> {
    use crate::server::{auth_session, db::users, web};

    web::finish(
        async {
            let state = web::state()?;
            let session = web::session().await?;
            let Some(id) = auth_session::current_user(&session).await? else { return Ok(None) };
            let user = users::find_by_id(&state.db, id).await?;
            Ok(user.map(|u| CurrentUser { email: u.email }))
        }
        .await,
    )
}
