//! The server: configuration, the router and its layers. `main.rs` only wires them; the
//! integration tests build the same router around a test state.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod config;
pub mod dev_sms;
pub mod security;

use std::sync::{Arc, OnceLock};

use axum::Router;
use leptos::prelude::*;
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::predicate::{NotForContentType, Predicate};
use tower_http::compression::{CompressionLayer, DefaultPredicate};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnFailure, TraceLayer};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use app::server::AppState;
use app::server::db::session_store::SqlSessionStore;
use app::server::page_assets::PageAssets;
use app::{App, shell};

/// Forms and API calls are small; anything larger is refused before it is read.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "nidan_session";

/// The app's routes, generated at most once per process.
///
/// Why only once: leptos 0.8 (leptos_server 0.8.8, upstream issue #4773) suppresses resource
/// loading while it generates a route list with a *process-global* flag
/// (`SuppressResourceLoad`). A `Resource` whose future is first polled on any thread while
/// that flag is set awaits forever and never looks at the flag again, so a page being
/// rendered at that moment never finishes. That is what hung the integration suite one run
/// in three: every scenario built a router, and so generated a route list, while other
/// scenarios were rendering pages (the test `pages_render_while_routers_are_built`
/// reproduced it every time). Generating the list once, before anything is served, and
/// handing every router the same list closes that window for good: after the first call
/// nothing in this process generates a route list again, whoever builds a router.
pub fn routes() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// The whole application: pages, server functions, static files, sessions and guards.
/// The first call generates the route list (see [`routes`]); `main` calls this once, before
/// it listens, so no route list is ever generated while a request is being served.
pub fn router(state: AppState) -> Router {
    let routes = routes();
    let assets = Arc::new(PageAssets::load(&state.leptos_options));
    let context = {
        let state = state.clone();
        move || {
            provide_context(state.clone());
            provide_context(assets.clone());
        }
    };
    let idle =
        time::Duration::try_from(state.settings.session_idle).unwrap_or(time::Duration::days(7));
    let sessions = SessionManagerLayer::new(SqlSessionStore::new(state.db.clone()))
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.settings.secure_cookies)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(idle));

    let mut router = Router::new();
    if let Some(outbox) = dev_sms::routes(&state) {
        router = router.merge(outbox);
    }
    router
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, shell))
        .layer(sessions)
        // No request holds a worker, a connection or a lock for longer than this: past it
        // the work is dropped (an open transaction rolls back) and the answer is 503, which
        // the guard gives a `Retry-After` and logs (SEC-8).
        .layer(TimeoutLayer::with_status_code(
            http::StatusCode::SERVICE_UNAVAILABLE,
            state.settings.request_timeout,
        ))
        // A panic is a fault of ours: logged once at ERROR and answered 500 with the
        // client's error, instead of a dropped connection.
        .layer(CatchPanicLayer::custom(security::panicked))
        // Larger bodies are refused before they are read (413, which the guard words).
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        // The pages before sign-in go out as brotli or gzip when the browser takes them
        // (about half their size); the guard keeps every other answer from this layer
        // (`security::compressible`; why: BREACH, docs/security.md). A release build's
        // wasm, JS and CSS are compressed once, at build time (`--precompress`), and sent as
        // they are; the wasm of a debug build (megabytes) is sent uncompressed rather than
        // squeezed per request.
        .layer(CompressionLayer::new().br(true).gzip(true).compress_when(
            DefaultPredicate::new().and(NotForContentType::const_new("application/wasm")),
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::guard,
        ))
        // Each 5xx is logged once, at ERROR, by whatever caused it (the database, the
        // gateway, the timeout, a panic); the trace only repeats it at DEBUG, so a flood of
        // refused requests (4xx) or one fault never fills the error log twice (issue 10).
        .layer(
            TraceLayer::new_for_http()
                .on_failure(DefaultOnFailure::new().level(tracing::Level::DEBUG)),
        )
        .with_state(state)
}
