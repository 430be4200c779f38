//! The HTTP boundary as server functions see it: the state, the session, and turning a
//! result into the right status code for a script while a plain form still gets its
//! redirect. Nothing here makes a decision about accounts.

use http::{StatusCode, header::ACCEPT, request::Parts};
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;
use tower_sessions::Session;

use super::AppState;
use crate::error::AppError;

/// The application state, provided by the router.
pub fn state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the server function context");
        AppError::Internal
    })
}

/// The request's session (tower-sessions puts it in the request's extensions).
pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|e| {
        tracing::error!(error = %e, "no session layer in front of a server function");
        AppError::Internal
    })
}

/// Gives an error its HTTP status when the caller is a script. A plain HTML form (no
/// JavaScript) keeps the redirect back to its page that leptos sets, with the error in the
/// URL, so the page can show it.
pub fn finish<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    if let Err(e) = &result {
        let accepts_html = use_context::<Parts>()
            .and_then(|p| p.headers.get(ACCEPT).and_then(|v| v.to_str().ok()).map(|v| v.contains("text/html")))
            .unwrap_or(false);
        if !accepts_html {
            if let Some(res) = use_context::<ResponseOptions>() {
                res.set_status(StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
            }
        }
    }
    result
}
