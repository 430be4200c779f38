//! What the browser's copy of the app does outside any one island (issue 11): marking the
//! page hydrated, and the little state that must outlive a page load.
//!
//! With islands every form posts and the server answers with the next page, as it does
//! without JavaScript. Two things the person did would be lost on the way: where focus was
//! (a dialog closed gives focus back to the button that opened it) and the two-factor
//! switch moved but not saved (TF-1). Each is put in `sessionStorage` just before the page
//! is left for the same page, and taken out by the next page at once; an entry older than
//! [`FRESH_MS`] is ignored, so nothing left behind by a load that never came (a closed tab)
//! turns up later.
//!
//! Off the browser every function here does nothing, so that islands compile unchanged for
//! the server.

/// How long a stashed entry stays good: the next page load, not a later visit.
#[cfg(feature = "hydrate")]
const FRESH_MS: f64 = 10_000.0;

/// The key of the control to focus on the next page (a dialog's opener).
pub const FOCUS_KEY: &str = "nidan.focus";
/// The key of the two-factor switch's unsaved value.
pub const SWITCH_KEY: &str = "nidan.switch";
/// The key of what was typed into the form just sent (see [`keep_typed`]).
const TYPED_KEY: &str = "nidan.typed";

/// Called once the islands' code is loaded: the previous form's error taken out of the
/// address, focus given back, and `<body data-hydrated="true">` (the end-to-end tests wait
/// for it), the last two once every island on the page has hydrated and run its first
/// effects.
pub fn start() {
    #[cfg(feature = "hydrate")]
    {
        keep_typed();
        forget_form_error();
    }
    #[cfg(feature = "hydrate")]
    leptos::prelude::set_timeout(
        || {
            use leptos::prelude::document;
            use leptos::wasm_bindgen::JsCast;
            if let Some(id) = take(FOCUS_KEY)
                && document()
                    .query_selector("[role=dialog]")
                    .ok()
                    .flatten()
                    .is_none()
                && let Some(el) = document().get_element_by_id(&id)
                && let Ok(el) = el.dyn_into::<web_sys::HtmlElement>()
            {
                let _ = el.focus();
            }
            if let Some(body) = document().body() {
                let _ = body.set_attribute("data-hydrated", "true");
            }
        },
        std::time::Duration::ZERO,
    );
}

/// A refused form comes back with its error in the URL (`__path`, `__err`: how leptos
/// tells the page without JavaScript). The page shows it; the address bar need not keep
/// it, where a reload or a bookmark would show a stale error again. Only the address
/// changes (`history.replaceState`), not the page.
#[cfg(feature = "hydrate")]
fn forget_form_error() {
    let location = leptos::prelude::window().location();
    let Ok(search) = location.search() else {
        return;
    };
    let kept: Vec<&str> = search
        .trim_start_matches('?')
        .split('&')
        .filter(|pair| !pair.is_empty())
        .filter(|pair| {
            let key = pair.split_once('=').map_or(*pair, |(k, _)| k);
            key != "__path" && key != "__err"
        })
        .collect();
    if kept.len()
        == search
            .trim_start_matches('?')
            .split('&')
            .filter(|p| !p.is_empty())
            .count()
    {
        return;
    }
    let path = location.pathname().unwrap_or_default();
    let query = if kept.is_empty() {
        String::new()
    } else {
        format!("?{}", kept.join("&"))
    };
    let hash = location.hash().unwrap_or_default();
    if let Ok(history) = leptos::prelude::window().history() {
        let _ = history.replace_state_with_url(
            &leptos::wasm_bindgen::JsValue::NULL,
            "",
            Some(&format!("{path}{query}{hash}")),
        );
    }
}

/// What was typed into a form that the server refused comes back with it: each form sent
/// stashes its plain text fields (addresses, numbers, names; never a password, a code or a
/// field marked `autocomplete="off"`), and a page that shows that form's error (`__path`)
/// fills the same fields again where they are empty, as the person left them.
#[cfg(feature = "hydrate")]
fn keep_typed() {
    use leptos::prelude::{document, window, window_event_listener};
    use leptos::wasm_bindgen::JsCast;

    type Typed = (String, Vec<(String, String)>);

    let stashed = take(TYPED_KEY).and_then(|t| serde_json::from_str::<Typed>(&t).ok());
    let refused = window().location().search().ok().and_then(|search| {
        search.trim_start_matches('?').split('&').find_map(|pair| {
            let value = pair.strip_prefix("__path=")?;
            web_sys::js_sys::decode_uri_component(value)
                .ok()?
                .as_string()
        })
    });
    if let (Some((action, fields)), Some(refused)) = (stashed, refused)
        && action == refused
    {
        let selector = format!("form[action=\"{action}\"]");
        if let Ok(Some(form)) = document().query_selector(&selector) {
            for (name, value) in fields {
                if let Ok(Some(input)) = form.query_selector(&format!("input[name=\"{name}\"]"))
                    && let Ok(input) = input.dyn_into::<web_sys::HtmlInputElement>()
                    && input.value().is_empty()
                {
                    input.set_value(&value);
                }
            }
        }
    }

    let listener = window_event_listener(leptos::ev::submit, |ev| {
        let Some(form) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok())
        else {
            return;
        };
        let (Some(action), true) = (
            form.get_attribute("action"),
            form.method().eq_ignore_ascii_case("post"),
        ) else {
            return;
        };
        let Ok(inputs) = form.query_selector_all("input[name]") else {
            return;
        };
        let fields: Vec<(String, String)> = (0..inputs.length())
            .filter_map(|i| inputs.item(i))
            .filter_map(|n| n.dyn_into::<web_sys::HtmlInputElement>().ok())
            .filter(|i| matches!(i.type_().as_str(), "text" | "email" | "tel"))
            .filter(|i| {
                !matches!(
                    i.get_attribute("autocomplete").as_deref(),
                    Some("off" | "one-time-code")
                )
            })
            .map(|i| (i.name(), i.value()))
            .collect();
        if let Ok(text) = serde_json::to_string(&(action, fields)) {
            stash(TYPED_KEY, &text);
        }
    });
    // For the life of the page.
    std::mem::forget(listener);
}

/// Keeps `value` under `key` for the next page load.
pub fn stash(key: &str, value: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(storage) = storage() {
        let now = web_sys::js_sys::Date::now();
        let _ = storage.set_item(key, &format!("{now}|{value}"));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (key, value);
}

/// The value stashed under `key` by the page just left, if fresh; removed either way.
pub fn take(key: &str) -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        let storage = storage()?;
        let entry = storage.get_item(key).ok().flatten()?;
        let _ = storage.remove_item(key);
        let (at, value) = entry.split_once('|')?;
        let age = web_sys::js_sys::Date::now() - at.parse::<f64>().ok()?;
        (0.0..FRESH_MS).contains(&age).then(|| value.to_owned())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = key;
        None
    }
}

#[cfg(feature = "hydrate")]
fn storage() -> Option<web_sys::Storage> {
    leptos::prelude::window().session_storage().ok().flatten()
}

/// Whether the page has hydrated: `false` on the server and until the island's first
/// effect, so that what needs the wasm (passkeys, the switch's state) is shown only then.
pub fn hydrated() -> leptos::prelude::ReadSignal<bool> {
    use leptos::prelude::*;
    let (ready, set_ready) = signal(false);
    Effect::new(move |_| set_ready.set(true));
    ready
}
