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
#[cfg(feature = "hydrate")]
const TYPED_KEY: &str = "nidan.typed";

/// How long a form sent stays marked busy when no page comes back: after that the person
/// may send it again (the server, or the network, did not answer).
#[cfg(feature = "hydrate")]
const BUSY: std::time::Duration = std::time::Duration::from_secs(10);

/// Called once the islands' code is loaded: the previous form's error taken out of the
/// address, focus given back, and `<body data-hydrated="true">` (the end-to-end tests wait
/// for it), the last two once every island on the page has hydrated and run its first
/// effects.
pub fn start() {
    #[cfg(feature = "hydrate")]
    {
        keep_typed();
        one_submit_at_a_time();
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
    let Some(params) = location
        .search()
        .ok()
        .and_then(|search| web_sys::UrlSearchParams::new_with_str(&search).ok())
    else {
        return;
    };
    if !params.has("__path") && !params.has("__err") {
        return;
    }
    params.delete("__path");
    params.delete("__err");
    let kept = String::from(params.to_string());
    let path = location.pathname().unwrap_or_default();
    let query = if kept.is_empty() {
        String::new()
    } else {
        format!("?{kept}")
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
/// field marked `autocomplete="off"`) and its checkboxes (not the two-factor switch, which
/// keeps its own unsaved value, TF-1), and a page that shows that form's error (`__path`)
/// fills the same form again, as the person left it. Several forms may post to one address
/// (a rename for each passkey): the form is found again by its place among them.
#[cfg(feature = "hydrate")]
fn keep_typed() {
    use leptos::prelude::{document, window, window_event_listener};
    use leptos::wasm_bindgen::JsCast;

    // The stash is a query string written and read by the browser's own
    // `URLSearchParams` (`~action`, `~place`, then `t.<name>` per text field and `c.<name>`
    // per checkbox), which keeps serialisation code out of the wasm (issue 11).
    fn forms(action: &str) -> Vec<web_sys::HtmlFormElement> {
        let Ok(list) = document().query_selector_all(&format!("form[action=\"{action}\"]")) else {
            return Vec::new();
        };
        (0..list.length())
            .filter_map(|i| list.item(i))
            .filter_map(|n| n.dyn_into().ok())
            .collect()
    }
    fn inputs(form: &web_sys::HtmlFormElement) -> Vec<web_sys::HtmlInputElement> {
        let Ok(list) = form.query_selector_all("input[name]") else {
            return Vec::new();
        };
        (0..list.length())
            .filter_map(|i| list.item(i))
            .filter_map(|n| n.dyn_into().ok())
            .collect()
    }
    fn is_text(i: &web_sys::HtmlInputElement) -> bool {
        matches!(i.type_().as_str(), "text" | "email" | "tel")
            && !matches!(
                i.get_attribute("autocomplete").as_deref(),
                Some("off" | "one-time-code")
            )
    }
    fn is_checkbox(i: &web_sys::HtmlInputElement) -> bool {
        i.type_() == "checkbox" && i.get_attribute("role").as_deref() != Some("switch")
    }

    let stashed = take(TYPED_KEY).and_then(|t| web_sys::UrlSearchParams::new_with_str(&t).ok());
    let refused = window().location().search().ok().and_then(|search| {
        web_sys::UrlSearchParams::new_with_str(&search)
            .ok()?
            .get("__path")
    });
    if let (Some(typed), Some(refused)) = (stashed, refused)
        && typed.get("~action").as_deref() == Some(refused.as_str())
        && let Some(place) = typed.get("~place").and_then(|p| p.parse::<usize>().ok())
        && let Some(form) = forms(&refused).get(place)
    {
        for input in inputs(form) {
            let name = input.name();
            if is_text(&input) && input.value().is_empty() {
                if let Some(value) = typed.get(&format!("t.{name}")) {
                    input.set_value(&value);
                }
            } else if is_checkbox(&input)
                && let Some(ticked) = typed.get(&format!("c.{name}"))
            {
                input.set_checked(ticked == "1");
            }
        }
    }

    let listener = window_event_listener(leptos::ev::submit, |ev| {
        let Some(form) = posted_form(&ev) else {
            return;
        };
        let Some(action) = form.get_attribute("action") else {
            return;
        };
        let Some(place) = forms(&action).iter().position(|f| *f == form) else {
            return;
        };
        let Ok(typed) = web_sys::UrlSearchParams::new() else {
            return;
        };
        typed.append("~action", &action);
        typed.append("~place", &place.to_string());
        for input in inputs(&form) {
            if is_text(&input) {
                typed.append(&format!("t.{}", input.name()), &input.value());
            } else if is_checkbox(&input) {
                typed.append(
                    &format!("c.{}", input.name()),
                    if input.checked() { "1" } else { "0" },
                );
            }
        }
        stash(TYPED_KEY, &String::from(typed.to_string()));
    });
    // For the life of the page.
    std::mem::forget(listener);
}

/// A form sent once is not sent again while its answer is on the way: a second press of
/// `認証する` would otherwise spend the code twice and show the second answer's error. The
/// form is marked `aria-busy` (the stylesheet dims its buttons) and a second submit is
/// stopped until the next page arrives, or for [`BUSY`] if none does; a page the browser
/// brings back from its back-forward cache can be sent again. A submit that something else
/// stopped (the leave guard's `No`, an island of its own) is not marked: this listener
/// runs last, on the window.
#[cfg(feature = "hydrate")]
fn one_submit_at_a_time() {
    use leptos::prelude::{document, set_timeout, window_event_listener};
    use leptos::wasm_bindgen::JsCast;

    let submits = window_event_listener(leptos::ev::submit, |ev| {
        let Some(form) = posted_form(&ev) else {
            return;
        };
        if form.has_attribute("aria-busy") {
            ev.prevent_default();
        } else if !ev.default_prevented() {
            let _ = form.set_attribute("aria-busy", "true");
            set_timeout(
                move || {
                    let _ = form.remove_attribute("aria-busy");
                },
                BUSY,
            );
        }
    });
    let shown = window_event_listener(leptos::ev::pageshow, |_| {
        if let Ok(forms) = document().query_selector_all("form[aria-busy]") {
            for form in (0..forms.length()).filter_map(|i| forms.item(i)) {
                if let Ok(form) = form.dyn_into::<web_sys::Element>() {
                    let _ = form.remove_attribute("aria-busy");
                }
            }
        }
    });
    // For the life of the page.
    std::mem::forget(submits);
    std::mem::forget(shown);
}

/// The form a submit event sends, if it posts (the forms that reach the server; a `GET`
/// form such as `×` only moves to another address).
#[cfg(feature = "hydrate")]
fn posted_form(ev: &web_sys::SubmitEvent) -> Option<web_sys::HtmlFormElement> {
    use leptos::wasm_bindgen::JsCast;
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok())
        .filter(|form| form.method().eq_ignore_ascii_case("post"))
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

/// One set of window listeners, installed the first time the switch has an unsaved change,
/// that ask before the page is left while it has one (TF-1): a link to another page, the
/// header's `ログアウト`, or any other way out (`beforeunload`: the address bar, closing
/// the tab). The page's own forms (inside `<main>`) come back to this page: they stash the
/// change for it instead, and so does a reload that the page makes itself ([`staying`]).
/// Links and forms are caught in the capture phase; a `No` stops the event there. A click
/// that opens a new tab or window (a modifier key, the middle button) leaves nothing.
#[cfg(feature = "hydrate")]
pub mod leave_guard {
    use std::cell::Cell;

    use leptos::prelude::{set_timeout, window};
    use leptos::wasm_bindgen::{JsCast, closure::Closure};

    use crate::client::{SWITCH_KEY, stash};

    const QUESTION: &str = "保存されていない変更があります。このページを離れますか？";

    thread_local! {
        /// The switch's unsaved value.
        static UNSAVED: Cell<Option<bool>> = const { Cell::new(None) };
        static INSTALLED: Cell<bool> = const { Cell::new(false) };
        /// The way out that is starting was already settled (asked, or back to this page),
        /// so `beforeunload` does not ask again. Only for that one: it is cleared a moment
        /// later, and when the page comes back from the back-forward cache, so that a
        /// navigation that did not happen (a download, a form something else stopped)
        /// does not leave the page unguarded.
        static SETTLED: Cell<bool> = const { Cell::new(false) };
    }

    pub fn set(unsaved: Option<bool>) {
        UNSAVED.with(|u| u.set(unsaved));
        if unsaved.is_some() && !INSTALLED.with(|i| i.replace(true)) {
            install();
        }
    }

    /// The page is about to load itself again (an island's own reload): the unsaved change
    /// goes with it, and nothing is asked.
    pub fn staying() {
        if let Some(value) = UNSAVED.with(Cell::get) {
            stash(SWITCH_KEY, if value { "on" } else { "off" });
            settle();
        }
    }

    fn settle() {
        SETTLED.with(|s| s.set(true));
        set_timeout(
            || SETTLED.with(|s| s.set(false)),
            std::time::Duration::from_secs(1),
        );
    }

    /// Where `ev` (a click or a submit) takes the person: `Some(true)` back to this page,
    /// `Some(false)` elsewhere, `None` nowhere, or into another tab or window.
    fn stays(ev: &web_sys::Event) -> Option<bool> {
        let target = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())?;
        if ev.type_() == "submit" {
            // The page's own forms come back to it; the header's `ログアウト` leaves.
            return Some(target.closest("main").ok().flatten().is_some());
        }
        if let Some(click) = ev.dyn_ref::<web_sys::MouseEvent>()
            && (click.button() != 0
                || click.ctrl_key()
                || click.meta_key()
                || click.shift_key()
                || click.alt_key())
        {
            return None;
        }
        let link = target
            .closest("a[href]")
            .ok()
            .flatten()
            .and_then(|a| a.dyn_into::<web_sys::HtmlAnchorElement>().ok())?;
        if !link.target().is_empty() || link.has_attribute("download") {
            return None;
        }
        let here = window().location().pathname().unwrap_or_default();
        Some(link.pathname() == here)
    }

    fn install() {
        let target = window();
        let ask = Closure::<dyn Fn(web_sys::Event)>::new(|ev: web_sys::Event| {
            let Some(value) = UNSAVED.with(Cell::get) else {
                return;
            };
            match stays(&ev) {
                Some(true) => {
                    stash(SWITCH_KEY, if value { "on" } else { "off" });
                    settle();
                }
                Some(false) if window().confirm_with_message(QUESTION).unwrap_or(true) => {
                    settle();
                }
                Some(false) => {
                    ev.prevent_default();
                    ev.stop_immediate_propagation();
                }
                None => {}
            }
        });
        for kind in ["click", "submit"] {
            let _ = target.add_event_listener_with_callback_and_bool(
                kind,
                ask.as_ref().unchecked_ref(),
                true,
            );
        }
        let unload =
            Closure::<dyn Fn(web_sys::BeforeUnloadEvent)>::new(|ev: web_sys::BeforeUnloadEvent| {
                if UNSAVED.with(Cell::get).is_some() && !SETTLED.with(Cell::get) {
                    ev.prevent_default();
                    ev.set_return_value("");
                }
            });
        let _ = target
            .add_event_listener_with_callback("beforeunload", unload.as_ref().unchecked_ref());
        let shown = Closure::<dyn Fn(web_sys::Event)>::new(|_: web_sys::Event| {
            SETTLED.with(|s| s.set(false));
        });
        let _ = target.add_event_listener_with_callback("pageshow", shown.as_ref().unchecked_ref());
        // Listening for the life of the page.
        ask.forget();
        unload.forget();
        shown.forget();
    }
}

/// The page is about to load itself again: what must outlive the load is kept, and the
/// leave guard does not ask (see [`leave_guard::staying`]).
pub fn reloading() {
    #[cfg(feature = "hydrate")]
    leave_guard::staying();
}
