//! The server: configuration, the router and its layers. `main.rs` only wires them; the
//! integration tests build the same router around a test state.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod config;
pub mod dev_sms;
pub mod security;

use axum::Router;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use app::server::AppState;
use app::server::db::session_store::SqlSessionStore;
use app::{App, shell};

/// Forms and API calls are small; anything larger is refused before it is read.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "nidan_session";

/// The whole application: pages, server functions, static files, sessions and guards.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let context = {
        let state = state.clone();
        move || provide_context(state.clone())
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
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::guard,
        ))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
