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

/// The state, the session and its signed-in account: what most server functions start
/// with. `Unauthenticated` when nobody is signed in.
pub async fn signed_in() -> Result<(AppState, Session, crate::server::db::users::UserId), AppError>
{
    let state = state()?;
    let session = session().await?;
    let user = crate::server::auth_session::require_user(&session).await?;
    Ok((state, session, user))
}

/// The client's IP address, for the per-IP limits. The direct peer: a deployment behind a
/// proxy must have the proxy keep its own per-client limits.
pub fn client_ip() -> String {
    use_context::<Parts>()
        .and_then(|p| {
            p.extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip().to_string())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The host name people see in the address bar, without the port: the configured public
/// origin's, else the request's `Host`. Used for the WebOTP line of code messages.
pub fn public_host(state: &AppState) -> String {
    let host = match &state.settings.public_origin {
        Some(origin) => origin
            .split_once("://")
            .map(|(_, h)| h.to_owned())
            .unwrap_or_default(),
        None => use_context::<Parts>()
            .and_then(|p| {
                p.headers
                    .get(http::header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .map(str::to_owned)
            })
            .unwrap_or_default(),
    };
    let without_port = strip_port(&host);
    if without_port.is_empty() {
        "localhost".to_owned()
    } else {
        without_port.to_owned()
    }
}

/// `example.jp:3000` → `example.jp`; `[::1]:3000` → `[::1]`.
fn strip_port(host: &str) -> &str {
    match host.find(']') {
        Some(end) => &host[..=end],
        None => host.split(':').next().unwrap_or(host),
    }
}

/// `2026/11/25 09:30`, Japan time, for the pages.
pub fn jst(t: crate::domain::Timestamp) -> String {
    let Ok(utc) =
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(t.as_millis()) * 1_000_000)
    else {
        return String::new();
    };
    let dt = utc
        .to_offset(time::UtcOffset::from_whole_seconds(9 * 3600).unwrap_or(time::UtcOffset::UTC));
    format!(
        "{}/{:02}/{:02} {:02}:{:02}",
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute()
    )
}

/// Adds an entry to the account's security history, with this request's browser (SEC-5).
pub async fn note(
    state: &AppState,
    user: crate::server::db::users::UserId,
    event: crate::domain::SecurityEvent,
) {
    crate::server::services::history::record(state, user, event, &user_agent(), state.clock.now())
        .await;
}

/// The remembered-browser cookie (LG-4).
pub const BROWSER_COOKIE: &str = "nidan_browser";

/// A cookie the request carries.
pub fn cookie(name: &str) -> Option<String> {
    let parts = use_context::<Parts>()?;
    parts
        .headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|header| {
            header.split(';').find_map(|pair| {
                let (k, v) = pair.trim().split_once('=')?;
                (k == name).then(|| v.to_owned())
            })
        })
}

/// Sets the remembered-browser cookie for `max_age` (HttpOnly, SameSite=Lax, Secure over
/// https).
pub fn set_browser_cookie(state: &AppState, token: &str, max_age: std::time::Duration) {
    let secure = if state.settings.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let value = format!(
        "{BROWSER_COOKIE}={token}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax{secure}",
        max_age.as_secs()
    );
    if let (Some(res), Ok(value)) = (
        use_context::<ResponseOptions>(),
        http::HeaderValue::from_str(&value),
    ) {
        res.append_header(http::header::SET_COOKIE, value);
    }
}

/// The request's User-Agent (for a remembered browser's label).
pub fn user_agent() -> String {
    use_context::<Parts>()
        .and_then(|p| {
            p.headers
                .get(http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_default()
}

/// Gives an error its HTTP status when the caller is a script. A plain HTML form (no
/// JavaScript) keeps the redirect back to its page that leptos sets, with the error in the
/// URL, so the page can show it.
pub fn finish<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    if let Err(e) = &result {
        let accepts_html = use_context::<Parts>()
            .and_then(|p| {
                p.headers
                    .get(ACCEPT)
                    .and_then(|v| v.to_str().ok())
                    .map(|v| v.contains("text/html"))
            })
            .unwrap_or(false);
        if !accepts_html && let Some(res) = use_context::<ResponseOptions>() {
            res.set_status(
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            );
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::strip_port;

    #[test]
    fn ports_are_stripped_from_hosts() {
        assert_eq!(strip_port("nidan.example"), "nidan.example");
        assert_eq!(strip_port("127.0.0.1:3000"), "127.0.0.1");
        assert_eq!(strip_port("[::1]:3000"), "[::1]");
    }
}
