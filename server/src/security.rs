//! Cross-cutting protections in front of every route (SEC-3): state-changing requests must
//! come from our own origin, and every response carries the security headers. HTML pages
//! get their nonce-based CSP from the shell; everything else gets a deny-all one here.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode};

use app::error::AppError;
use app::server::{AppState, Settings};

/// Refuses cross-site POSTs, then sets the headers on whatever the app answered.
pub async fn guard(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let changes_state = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if changes_state && !same_origin(req.headers(), &state.settings) {
        tracing::warn!(method = %req.method(), path = %req.uri().path(), "cross-origin request refused");
        return with_headers(forbidden(), &state.settings);
    }
    let is_asset = req.uri().path().starts_with("/pkg/");
    if !compressible(req.uri().path()) {
        // Sent as it is, never compressed: see `compressible`.
        req.headers_mut().remove(header::ACCEPT_ENCODING);
    }
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    let mut res = next.run(req).await;
    if res.status() == StatusCode::SERVICE_UNAVAILABLE
        && !res.headers().contains_key(header::RETRY_AFTER)
    {
        // Only the request timeout answers 503 without saying when to come back.
        tracing::error!(%method, %path, limit = ?state.settings.request_timeout, "request timed out");
        res.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from_static(RETRY_AFTER_SECS),
        );
    }
    if res.status() == StatusCode::PAYLOAD_TOO_LARGE {
        // The body limit's own answer is a bare English line: the sender gets the client's
        // error instead, like any other request the server could not read (issue 10).
        tracing::info!(%method, %path, "oversized request refused");
        res = malformed(StatusCode::PAYLOAD_TOO_LARGE);
    }
    let cache =
        if is_asset && (res.status().is_success() || res.status() == StatusCode::NOT_MODIFIED) {
            asset_cache_control(state.leptos_options.hash_files)
        } else {
            // Pages and API answers are personal: never stored by a shared or browser cache.
            // Neither is a missing asset, which the next release may well have.
            "no-store"
        };
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if is_asset && !res.headers().contains_key(header::VARY) {
        // The same name is sent as brotli, gzip or raw: a shared cache must keep them apart
        // (tower-http's precompressed files do not say so themselves).
        res.headers_mut()
            .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    with_headers(res, &state.settings)
}

/// The pages that may go out compressed: those a person opens before signing in, which show
/// no secret, and the site's files. Everything else is sent as it is: the account pages
/// (`/settings…`) and the API, where the recovery codes appear (RC-2) beside a few numbers
/// taken from the URL, so that the length of an answer can never tell anything about them
/// (BREACH, docs/security.md). A list of what may, rather than of what may not: a new page,
/// or a path spelled so that it reaches a page by another route, is left uncompressed.
pub fn compressible(path: &str) -> bool {
    app::urls::BEFORE_SIGN_IN.contains(&path) || path.starts_with("/pkg/")
}

/// How long a browser may keep a file under `/pkg/` (issue 11). With content-hashed names
/// (cargo-leptos `hash-files`) a file never changes under its name: a year, without asking
/// again. Without them (a build that did not hash) the name stays the same from release to
/// release, so the browser must ask each time (`no-cache`: a 304 when nothing changed).
pub fn asset_cache_control(hashed_names: bool) -> &'static str {
    if hashed_names {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    }
}

/// The client's error for a request the server could not read, with `status`.
fn malformed(status: StatusCode) -> Response {
    client_error(status, &AppError::MalformedRequest)
}

/// An answer made here, before or after the app: the client's error as JSON, like every
/// server function's.
fn client_error(status: StatusCode, error: &AppError) -> Response {
    let body = serde_json::to_string(error).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// A handler panicked: a fault of ours, logged once at ERROR; the client gets the same
/// answer as for any other internal failure.
pub fn panicked(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(panic = %what, "a request handler panicked");
    client_error(StatusCode::INTERNAL_SERVER_ERROR, &AppError::Internal)
}

/// What an overloaded server asks clients to wait, in seconds.
const RETRY_AFTER_SECS: &str = "5";

/// Whether the request comes from a page of this site. `Sec-Fetch-Site` is decisive when
/// the browser sends it; otherwise `Origin` must equal the configured public origin or, with
/// none configured, the origin of the request's own `Host`. A request with neither header
/// is refused: browsers send `Origin` on every POST.
pub fn same_origin(headers: &HeaderMap, settings: &Settings) -> bool {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = get("sec-fetch-site") {
        return site == "same-origin";
    }
    let Some(origin) = get("origin") else {
        return false;
    };
    match &settings.public_origin {
        Some(public) => origin == public,
        None => get("host").is_some_and(|host| {
            origin == format!("http://{host}") || origin == format!("https://{host}")
        }),
    }
}

fn forbidden() -> Response {
    client_error(StatusCode::FORBIDDEN, &AppError::Forbidden)
}

fn with_headers(mut res: Response, settings: &Settings) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
    );
    h.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'; base-uri 'none'"),
        );
    }
    if settings.secure_cookies {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn origin_rules() {
        let dev = Settings::development();
        assert!(same_origin(
            &headers(&[("sec-fetch-site", "same-origin")]),
            &dev
        ));
        assert!(!same_origin(
            &headers(&[
                ("sec-fetch-site", "cross-site"),
                ("origin", "http://a"),
                ("host", "a")
            ]),
            &dev
        ));
        assert!(same_origin(
            &headers(&[
                ("origin", "http://localhost:3000"),
                ("host", "localhost:3000")
            ]),
            &dev
        ));
        assert!(!same_origin(
            &headers(&[
                ("origin", "http://evil.example"),
                ("host", "localhost:3000")
            ]),
            &dev
        ));
        assert!(
            !same_origin(&headers(&[("host", "localhost:3000")]), &dev),
            "no Origin, no Sec-Fetch-Site"
        );

        let prod = Settings {
            public_origin: Some("https://nidan.example".into()),
            ..Settings::development()
        };
        assert!(same_origin(
            &headers(&[
                ("origin", "https://nidan.example"),
                ("host", "internal:3000")
            ]),
            &prod
        ));
        assert!(!same_origin(
            &headers(&[
                ("origin", "http://internal:3000"),
                ("host", "internal:3000")
            ]),
            &prod
        ));
    }
}
