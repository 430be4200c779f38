//! The document shell, the router and the pages.
//!
//! Every route renders with `SsrMode::Async`: the whole page, data included, is in the
//! first response. That makes every page work with JavaScript off, and lets a page set its
//! status and headers (redirects, CSP) before anything is sent.

mod auth;
mod home;
mod login_verify;
mod password;
mod settings;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, StaticSegment};

use crate::api::auth::{CurrentUser, get_current_user};
use crate::components::user_menu::UserMenu;
use crate::error::AppError;

/// The service's name as people read it: in the header, each page's title, the recovery
/// codes' file and the SMS (`NIDAN_SERVICE_NAME`, 二段 by default; an operator puts their
/// own). The server writes it into the document (`application-name`), where the browser's
/// copy of the app reads it, so both render the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceName(pub String);

impl Default for ServiceName {
    fn default() -> Self {
        Self("二段".to_owned())
    }
}

impl ServiceName {
    /// The configured name: from the server's settings, or from the document in the browser.
    fn current() -> Self {
        #[cfg(feature = "ssr")]
        {
            use_context::<crate::server::AppState>()
                .map(|state| Self(state.settings.service_name.clone()))
                .unwrap_or_default()
        }
        #[cfg(not(feature = "ssr"))]
        {
            document()
                .query_selector("meta[name=\"application-name\"]")
                .ok()
                .flatten()
                .and_then(|m| m.get_attribute("content"))
                .filter(|n| !n.is_empty())
                .map(Self)
                .unwrap_or_default()
        }
    }
}

/// The HTML document around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::server::csp::apply();
    let service = ServiceName::current().0;
    view! {
        <!DOCTYPE html>
        <html lang="ja">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light"/>
                <meta name="application-name" content=service/>
                <link rel="icon" type="image/png" href="/favicon.png"/>
                <AutoReload options=options.clone()/>
                // The stylesheet, and the loader of the islands (issue 11: only the
                // interactive parts are hydrated); `server::page_assets` says how.
                <PageAssetsInHead options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The stylesheet (in the page or linked) and the islands' loader, as
/// `server::page_assets::PageAssets` says. The router provides them as context; a shell
/// rendered without them (none is) reads them from the site's folder.
#[component]
fn PageAssetsInHead(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        use crate::server::page_assets::PageAssets;
        use std::sync::Arc;

        // As leptos's own `HydrationScripts` does in islands mode: what is rendered
        // outside an island is not hydrated.
        if let Some(context) = Owner::current_shared_context() {
            context.set_is_hydrating(false);
        }
        let assets = use_context::<Arc<PageAssets>>()
            .unwrap_or_else(|| Arc::new(PageAssets::load(&options)));
        let path = use_context::<http::request::Parts>().map(|parts| parts.uri.path().to_owned());
        let nonce = leptos::nonce::use_nonce();
        let style = path.as_deref().and_then(|p| assets.css_for(p)).map(|css| {
            view! { <style id="leptos" nonce=nonce.clone() inner_html=css.to_owned()></style> }
        });
        let link = style
            .is_none()
            .then(|| view! { <link id="leptos" rel="stylesheet" href=assets.css_href.clone()/> });
        view! {
            {style}
            {link}
            <script type="module" nonce=nonce inner_html=assets.loader.clone()></script>
        }
    }
    #[cfg(not(feature = "ssr"))]
    {
        // Islands: the browser never renders the shell.
        let _ = options;
    }
}

/// Who is signed in, for any component that needs to know.
pub type UserResource = Resource<Result<Option<CurrentUser>, AppError>>;

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let service = ServiceName::current();
    provide_context(service.clone());
    let brand = service.0;

    view! {
        <Title formatter={
            let brand = brand.clone();
            move |text: String| if text.is_empty() { brand.clone() } else { format!("{text} | {brand}") }
        }/>
        <Router>
            <Layout/>
        </Router>
    }
}

/// Header and page. Lives inside the router so that each page's actions (created inside
/// `<Routes>`) see the error a form submission carried back in the URL.
#[component]
fn Layout() -> impl IntoView {
    let brand = use_context::<ServiceName>().unwrap_or_default().0;
    // Read once per page: every page is rendered by the server, and a form that signs in
    // or out answers with a new page (islands, issue 11).
    let user: UserResource = Resource::new(|| (), |_| get_current_user());
    provide_context(user);

    view! {
        <header class="site-header">
            <a href=crate::urls::HOME class="brand">
                <span class="brand-mark" aria-hidden="true">"二"</span>
                {brand}
            </a>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match user.await {
                        Ok(Some(u)) => view! { <UserMenu email=u.email/> }.into_any(),
                        _ => view! {
                            <nav class="guest-nav" aria-label="アカウント">
                                <a href=crate::urls::LOGIN>"ログイン"</a>
                                <a href=crate::urls::SIGNUP class="button-link">"新規登録"</a>
                            </nav>
                        }.into_any(),
                    }
                })}
            </Transition>
        </header>
        <main class="page">
            <Routes fallback=|| view! { <NotFound/> }>
                <Route path=StaticSegment("") view=home::HomePage ssr=SsrMode::Async/>
                <Route path=StaticSegment("signup") view=auth::SignUpPage ssr=SsrMode::Async/>
                <Route path=StaticSegment("login") view=auth::LogInPage ssr=SsrMode::Async/>
                <Route path=(StaticSegment("login"), StaticSegment("verify")) view=login_verify::LoginVerifyPage ssr=SsrMode::Async/>
                <Route path=StaticSegment("settings") view=settings::SettingsPage ssr=SsrMode::Async/>
                <Route path=(StaticSegment("settings"), StaticSegment("password")) view=password::ChangePasswordPage ssr=SsrMode::Async/>
            </Routes>
        </main>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="ページが見つかりません"/>
        <h1>"ページが見つかりません"</h1>
        <p><a href=crate::urls::HOME>"トップページへ戻る"</a></p>
    }
}
