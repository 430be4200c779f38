//! The Content-Security-Policy of HTML pages. Scripts run only with this response's nonce
//! (`page_assets` puts it on the islands' loader); `strict-dynamic` lets those load the app's
//! module and `wasm-unsafe-eval` lets it compile the wasm. Styles come from the site's own
//! stylesheet or from the page's `<style>` with the nonce (`page_assets`). Development adds `ws:` for
//! cargo-leptos' live reload.

use http::{HeaderValue, header::CONTENT_SECURITY_POLICY};
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

use super::AppState;

/// The policy for a page rendered with `nonce`.
pub fn policy(nonce: &str, development: bool) -> String {
    let connect = if development { "'self' ws:" } else { "'self'" };
    format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; font-src 'self'; connect-src {connect}; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Sets the header on the page being rendered. Call from the shell during SSR.
pub fn apply() {
    let Some(nonce) = leptos::nonce::use_nonce() else {
        return;
    };
    let Some(res) = use_context::<ResponseOptions>() else {
        return;
    };
    let development = use_context::<AppState>().is_none_or(|s| !s.settings.is_production());
    if let Ok(value) = HeaderValue::from_str(&policy(&nonce, development)) {
        res.insert_header(CONTENT_SECURITY_POLICY, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_policy_has_no_websocket_and_no_inline_script() {
        let p = policy("abc", false);
        assert!(p.contains("script-src 'nonce-abc' 'strict-dynamic' 'wasm-unsafe-eval'"));
        assert!(!p.contains("ws:"));
        assert!(!p.contains("unsafe-inline"));
        assert!(p.contains("frame-ancestors 'none'"));
        assert!(p.contains("style-src 'self' 'nonce-abc';"));
        assert!(policy("abc", true).contains("connect-src 'self' ws:"));
    }
}
