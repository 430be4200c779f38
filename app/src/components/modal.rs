//! The one modal dialog (issue 9, item 6): backdrop, `role="dialog"` named by its visible
//! title, `×` at the top right, Escape, focus moved in when it opens, Tab kept inside while
//! it is open, and focus given back to the control that opened it when it closes.
//!
//! The dialog is a plain part of the page, rendered by the server: `×` is a form of the
//! caller's (a GET back to the settings, or the action that abandons a step), and the page
//! behind it is `inert` (see the settings page), so Tab stays in the dialog even without
//! JavaScript, apart from the site header. With it, one small island ([`DialogKeys`]) adds
//! the keyboard: Escape, Tab kept inside, focus in, and focus back to the opener.

use leptos::prelude::*;
#[cfg(feature = "hydrate")]
use leptos::wasm_bindgen::JsCast;

/// What Tab moves between inside a dialog.
#[cfg(feature = "hydrate")]
const FOCUSABLE: &str = "a[href], button:not([disabled]), input:not([disabled]):not([type=\"hidden\"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex=\"-1\"])";

/// The dialog's focusable elements that are shown, in document order.
#[cfg(feature = "hydrate")]
fn focusables(dialog: &web_sys::HtmlElement) -> Vec<web_sys::HtmlElement> {
    let Ok(list) = dialog.query_selector_all(FOCUSABLE) else {
        return Vec::new();
    };
    (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
        .filter(|e| e.get_client_rects().length() > 0)
        .collect()
}

/// Keeps Tab and Shift+Tab inside `dialog`: from the last element to the first and back,
/// and from anywhere outside it (the page behind, the body) into it.
#[cfg(feature = "hydrate")]
fn trap_tab(ev: &leptos::ev::KeyboardEvent, dialog: &web_sys::HtmlElement) {
    let items = focusables(dialog);
    let (Some(first), Some(last)) = (items.first(), items.last()) else {
        ev.prevent_default();
        return;
    };
    let active = document().active_element();
    let inside = active
        .as_ref()
        .is_some_and(|a| dialog.contains(Some(a.unchecked_ref::<web_sys::Node>())));
    let is = |e: &web_sys::HtmlElement| {
        active
            .as_ref()
            .is_some_and(|a| a.is_same_node(Some(e.unchecked_ref::<web_sys::Node>())))
    };
    let target = if !inside {
        Some(if ev.shift_key() { last } else { first })
    } else if ev.shift_key() && is(first) {
        Some(last)
    } else if !ev.shift_key() && is(last) {
        Some(first)
    } else {
        None
    };
    if let Some(target) = target {
        ev.prevent_default();
        let _ = target.focus();
    }
}

/// A modal dialog titled `title`. `close` is the `×` control (a form, so that it works
/// without JavaScript); `escape` is the id of the form that Escape submits (usually that
/// `×`); `opener` is the id of the control to focus again when the dialog closes.
#[component]
pub fn Modal(
    /// The id of the title element, which names the dialog.
    title_id: &'static str,
    #[prop(into)] title: String,
    #[prop(into)] close: ViewFn,
    escape: &'static str,
    opener: &'static str,
    children: Children,
) -> impl IntoView {
    view! {
        <div class="dialog-backdrop">
            <div class="dialog" role="dialog" aria-modal="true" aria-labelledby=title_id>
                <div class="dialog-header">
                    <h2 id=title_id>{title}</h2>
                    {close.run()}
                </div>
                {children()}
                <DialogKeys opener=opener.to_owned() escape=escape.to_owned()/>
            </div>
        </div>
    }
}

/// The dialog's keyboard, once the page has hydrated: focus moved in, Tab kept inside,
/// Escape submitting the form `escape`. Every form the dialog submits notes `opener`, so
/// that the page after it (the settings, the dialog closed) focuses that control again
/// ([`crate::client::start`]); a `GET` form without fields (`×`, `閉じる`) goes to its
/// address as a link would, without the empty `?` a form adds.
#[island]
fn DialogKeys(opener: String, escape: String) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    {
        // Focus in: the step's own field (`autofocus`) may already have it; otherwise the
        // first thing that takes focus.
        Effect::new(move |_| {
            let Some(el) = dialog() else {
                return;
            };
            let has_focus = document()
                .active_element()
                .is_some_and(|a| el.contains(Some(a.unchecked_ref::<web_sys::Node>())));
            if !has_focus {
                let items = focusables(&el);
                let preferred = items
                    .iter()
                    .find(|e| e.has_attribute("autofocus"))
                    .or_else(|| items.iter().find(|e| !e.class_list().contains("close")))
                    .or(items.first());
                if let Some(e) = preferred {
                    let _ = e.focus();
                }
            }
        });
        // On the window, so that Tab also comes back in when focus has left the dialog (a
        // click on the backdrop).
        let keys = window_event_listener(leptos::ev::keydown, move |ev| {
            let Some(el) = dialog() else {
                return;
            };
            match ev.key().as_str() {
                // Escape while an input method is composing (kana to kanji) cancels the
                // composition, not the dialog.
                "Escape" if ev.is_composing() => {}
                "Escape" => {
                    ev.prevent_default();
                    if let Some(form) = document()
                        .get_element_by_id(&escape)
                        .and_then(|f| f.dyn_into::<web_sys::HtmlFormElement>().ok())
                    {
                        let _ = form.request_submit();
                    }
                }
                "Tab" => trap_tab(&ev, &el),
                _ => {}
            }
        });
        let submits = window_event_listener(leptos::ev::submit, move |ev| {
            let Some(form) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok())
            else {
                return;
            };
            if !dialog().is_some_and(|d| d.contains(Some(form.unchecked_ref::<web_sys::Node>()))) {
                return;
            }
            crate::client::stash(crate::client::FOCUS_KEY, &opener);
            let fields = form.query_selector("[name]").ok().flatten();
            if form.method().eq_ignore_ascii_case("get") && fields.is_none() {
                ev.prevent_default();
                let _ = window().location().assign(&form.action());
            }
        });
        on_cleanup(move || {
            keys.remove();
            submits.remove();
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (opener, escape);
}

/// The open dialog (there is at most one).
#[cfg(feature = "hydrate")]
fn dialog() -> Option<web_sys::HtmlElement> {
    document()
        .query_selector("[role=dialog]")
        .ok()
        .flatten()
        .and_then(|d| d.dyn_into().ok())
}

/// `×` as a GET form back to the settings, so that it closes the dialog without
/// JavaScript (and with it: see [`DialogKeys`]). `id` is for Escape.
#[component]
pub fn CloseForm(id: &'static str) -> impl IntoView {
    view! {
        <form method="get" action=crate::urls::SETTINGS id=id>
            <button type="submit" class="close" aria-label="閉じる">"×"</button>
        </form>
    }
}
