//! The HTTP boundary as server functions see it: the state, the session, and turning a
//! result into the right status code for a script while a plain form still gets its
//! redirect. Nothing here makes a decision about accounts.

use http::{StatusCode, header::ACCEPT, request::Parts};
use leptos::prelude::use_context;
use leptos::server_fn::error::ServerFnUrlError;
use leptos_axum::ResponseOptions;
use tower_sessions::Session;

use std::net::IpAddr;

use super::{AppState, ClientKey, TrustedProxies};
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

/// What a step of an account's flow works with: the state, the session, the account and
/// the time of the request.
pub type AccountStep = (
    AppState,
    Session,
    crate::server::db::users::UserId,
    crate::domain::Timestamp,
);

/// The state, the session and its signed-in account: what most server functions start
/// with. `Unauthenticated` when nobody is signed in.
pub async fn signed_in() -> Result<(AppState, Session, crate::server::db::users::UserId), AppError>
{
    let state = state()?;
    let session = session().await?;
    let user = crate::server::auth_session::require_user(&session).await?;
    Ok((state, session, user))
}

/// A key for this session that is not its id (the id is a bearer secret and must not be
/// stored in the clear): the throttle counts re-entered passwords under it.
pub fn session_key(state: &AppState, session: &Session) -> String {
    let id = session.id().map(|id| id.to_string()).unwrap_or_default();
    state.secrets.keyed_hash("session-scope", id.as_bytes())
}

/// Counts a secret entered in this session (a re-entered password, a recovery code) before
/// it is judged, under the session's own scopes (SEC-1, `throttle::session_scopes`).
pub async fn begin_session_attempt(
    state: &AppState,
    session: &Session,
    proof: crate::server::services::throttle::SessionProof,
    user: crate::server::db::users::UserId,
    now: crate::domain::Timestamp,
) -> Result<crate::server::services::throttle::Attempt, AppError> {
    use crate::server::services::throttle;
    let scopes =
        throttle::session_scopes(&state.settings, proof, user.0, &session_key(state, session));
    Ok(throttle::begin_attempt(state, &scopes, now).await?)
}

/// TF-4: passes when the password was entered in this session within the
/// re-authentication window. Otherwise `password`, sent by the prompt together with the
/// refused action's own fields, is checked (counted like every re-entered password, SEC-1)
/// and opens the window again, so that the action goes through in the same request.
/// Without one (or with an empty one): `ReauthRequired`, and the page asks.
///
/// A password that is sent is always checked, even inside the window: a wrong one is
/// never accepted.
pub async fn reauthenticate(
    state: &AppState,
    session: &Session,
    user: crate::server::db::users::UserId,
    now: crate::domain::Timestamp,
    password: Option<String>,
) -> Result<(), AppError> {
    use crate::server::auth_session;
    use crate::server::services::{accounts, accounts::AccountError, throttle};

    let Some(password) = password.filter(|p| !p.is_empty()) else {
        return auth_session::require_recent_auth(session, now, state.settings.reauth_window).await;
    };
    hashing_room(state)?;
    let email = email_of(state, user).await?;
    // Counted per session and account: strangers cannot delay this (SEC-1).
    let attempt =
        begin_session_attempt(state, session, throttle::SessionProof::Reauth, user, now).await?;
    let (slot, attempt) = hashing_place(state, attempt).await?;
    match accounts::authenticate(state, slot, &email, password).await {
        Ok(_) => {
            throttle::succeeded(state, attempt).await?;
            auth_session::mark_recent_auth(session, now).await
        }
        Err(AccountError::InvalidCredentials) => Err(AppError::CurrentPasswordWrong),
        Err(e) => Err(e.into()),
    }
}

pub use crate::server::services::hashing::{hashing_place, hashing_room};

/// The signed-in account's email (`Unauthenticated` if the account is gone).
pub async fn email_of(
    state: &AppState,
    user: crate::server::db::users::UserId,
) -> Result<String, AppError> {
    Ok(crate::server::db::users::find_by_id(&state.db, user)
        .await?
        .ok_or(AppError::Unauthenticated)?
        .email)
}

/// The client's address: the TCP peer, or what trusted proxies say it is (SEC-7, see
/// `client_addr`). `None` only when the server was not started with connection info.
pub fn client_addr_of(parts: &Parts, proxies: &TrustedProxies) -> Option<IpAddr> {
    let peer = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()?
        .0
        .ip();
    // A line that is not text still counts as a hop (one that does not parse), so that a
    // client cannot make a proxy's own line disappear.
    let values: Vec<String> = proxies
        .header()
        .map(|h| {
            parts
                .headers
                .get_all(h.name())
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .collect()
        })
        .unwrap_or_default();
    let values: Vec<&str> = values.iter().map(String::as_str).collect();
    Some(proxies.client(peer, &values))
}

/// The key this request's client is counted under by the per-address limits: its IPv4
/// address or its IPv6 /64 (SEC-7).
pub fn client_ip() -> String {
    let key = use_context::<Parts>()
        .zip(use_context::<AppState>())
        .and_then(|(parts, state)| client_addr_of(&parts, &state.settings.trusted_proxies));
    key.map(|ip| ClientKey::of(ip).to_string())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Who is asking for a code: the client's address key and the host for the SMS's
/// `@host #code` line.
pub fn requester(state: &AppState) -> crate::server::services::otp::Requester {
    crate::server::services::otp::Requester {
        ip: client_ip(),
        host: state.settings.webotp_host.clone(),
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

/// A cookie the request carries (see [`super::cookies::find`]).
pub fn cookie(name: &str) -> Option<String> {
    let parts = use_context::<Parts>()?;
    super::cookies::find(
        parts
            .headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok()),
        name,
    )
}

/// The known-device cookie (SEC-1, see `services::devices`).
pub const DEVICE_COOKIE: &str = "nidan_device";

/// Marks this browser as a known device of `user`, so that strangers' failures cannot slow
/// its sign-ins. If that fails, it is simply not marked.
pub fn know_device(
    state: &AppState,
    user: crate::server::db::users::UserId,
    password_changed: Option<crate::domain::Timestamp>,
) {
    match crate::server::services::devices::issue(state, user, password_changed) {
        Ok(token) => set_cookie(
            state,
            DEVICE_COOKIE,
            &token,
            crate::server::services::devices::KNOWN_FOR,
        ),
        Err(e) => tracing::warn!(error = %e, "could not mark a known device"),
    }
}

/// Sets the remembered-browser cookie for `max_age` (HttpOnly, SameSite=Lax, Secure over
/// https).
pub fn set_browser_cookie(state: &AppState, token: &str, max_age: std::time::Duration) {
    set_cookie(state, BROWSER_COOKIE, token, max_age);
}

/// Sets an HttpOnly, SameSite=Lax cookie for `max_age` (Secure over https).
fn set_cookie(state: &AppState, name: &str, token: &str, max_age: std::time::Duration) {
    let secure = if state.settings.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let value = format!(
        "{name}={token}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax{secure}",
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
        answer_with(e);
    }
    result
}

/// Whether the request being answered is a call of a server function. Pages run the same
/// code (their resources call server functions directly, and a form's error comes back in
/// the page's URL), but their answer is the page: its status and headers are not the
/// error's.
fn server_fn_call() -> Option<Parts> {
    use_context::<Parts>().filter(|p| p.uri.path().starts_with("/api/"))
}

/// Sets the status (for a script) and `Retry-After` (for everyone) that `e` calls for, when
/// the request is a server function's call.
fn answer_with(e: &AppError) {
    let Some(parts) = server_fn_call() else {
        return;
    };
    let accepts_html = parts
        .headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if !accepts_html && let Some(res) = use_context::<ResponseOptions>() {
        res.set_status(
            StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        );
    }
    // A plain form goes back where it came from (`Referer`) with the error in the URL.
    // leptos appends it to that URL as it is, so a second refusal in a row would carry the
    // first one's error too, and the URL would grow with each: the previous error is taken
    // out first. A form that does not say where it came from (no `Referer`) is sent to the
    // front page, and leptos would drop the error on the way: it goes into the URL here,
    // and the front page shows it.
    if let (true, Some(res)) = (accepts_html, use_context::<ResponseOptions>()) {
        const FRONT: &str = "http://front.page";
        let referer = parts
            .headers
            .get(http::header::REFERER)
            .and_then(|v| v.to_str().ok());
        // Only the stand-in put here is taken off again: a Referer that names it itself
        // goes back as sent.
        let from_front = referer.is_none();
        let mut back = referer.map_or_else(|| format!("{FRONT}/"), str::to_owned);
        ServerFnUrlError::<AppError>::strip_error_info(&mut back);
        let url = ServerFnUrlError::new(parts.uri.path(), e.clone())
            .to_url(&back)
            .ok();
        if let Some(location) = url
            .as_ref()
            .map(|u| {
                let u = u.as_str();
                if from_front {
                    u.strip_prefix(FRONT).unwrap_or(u)
                } else {
                    u
                }
            })
            .and_then(|l| http::HeaderValue::from_str(l).ok())
        {
            res.insert_header(http::header::LOCATION, location);
        }
    }
    // Rate-limited and unavailable answers say when to come back, to scripts and
    // plain forms alike (SEC-8).
    if let (Some(secs), Some(res)) = (e.retry_after_secs(), use_context::<ResponseOptions>()) {
        res.insert_header(http::header::RETRY_AFTER, http::HeaderValue::from(secs));
    }
}

/// What the server-function machinery raised, as the client's error (issue 10). While it
/// reads a request's arguments (a field missing, sent twice or of the wrong type, a body
/// that is not UTF-8), the sender is at fault: [`AppError::MalformedRequest`], 400 for a
/// script (a plain form gets its redirect back, with the message for the form), logged at
/// INFO with the endpoint and at DEBUG with the decoder's words, which never reach the
/// client. Anything else it raises (writing our own answer) is a fault of ours: logged once
/// at ERROR, [`AppError::Internal`].
pub fn from_server_fn_error(error: leptos::server_fn::error::ServerFnErrorErr) -> AppError {
    use leptos::server_fn::error::ServerFnErrorErr as E;
    let Some(endpoint) = server_fn_call().map(|p| p.uri.path().to_owned()) else {
        // A page whose URL carries an error that does not decode (a hand-made link): the
        // form shows the generic message, and the page is answered as usual.
        tracing::debug!(%error, "an error in a page's URL did not decode");
        return AppError::MalformedRequest;
    };
    match &error {
        E::Args(detail)
        | E::MissingArg(detail)
        | E::Deserialization(detail)
        | E::Request(detail)
        | E::UnsupportedRequestMethod(detail) => {
            tracing::info!(%endpoint, "malformed request refused");
            tracing::debug!(%endpoint, %detail, "what the decoder said");
            answer_with(&AppError::MalformedRequest);
            AppError::MalformedRequest
        }
        E::Registration(_)
        | E::ServerError(_)
        | E::MiddlewareError(_)
        | E::Serialization(_)
        | E::Response(_) => {
            tracing::error!(%endpoint, %error, "server function machinery failed");
            AppError::Internal
        }
    }
}
