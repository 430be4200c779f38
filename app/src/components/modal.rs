//! The one modal dialog (issue 9, item 6): backdrop, `role="dialog"` named by its visible
//! title, `×` at the top right, Escape, focus moved in when it opens, Tab kept inside while
//! it is open, and focus given back to the control that opened it when it closes.
//!
//! Without JavaScript the dialog is a plain part of the page: `×` is a form of the caller's
//! (a GET back to the settings, or the action that abandons a step), and the page behind it
//! is `inert` (see the settings page), so Tab stays in the dialog there too, apart from the
//! site header.

use leptos::html::Div;
use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;

/// Where focus goes when a dialog closes: the id of the control that opened it, and when
/// it closed (ms since the epoch). A page that shows dialogs provides one and calls
/// [`FocusReturn::follow`] in the component that renders the openers.
///
/// After a dialog closes the page is rebuilt, once or twice, as its data is refetched, and
/// each time the opener is a new element; so every rebuild that happens shortly after the
/// close focuses the opener again, and later ones (the person has moved on) do not.
#[derive(Clone, Copy)]
pub struct FocusReturn(RwSignal<Option<(&'static str, f64)>>);

/// How long after a dialog closed the page still gives focus back to its opener.
const FOCUS_RETURN_MS: f64 = 3_000.0;

impl FocusReturn {
    pub fn new() -> Self {
        Self(RwSignal::new(None))
    }

    fn closed(self, opener: &'static str) {
        self.0.set(Some((opener, now_ms())));
    }

    /// Focuses the opener when a dialog has just closed: at once, and again when the
    /// component that calls this is rebuilt soon after.
    pub fn follow(self) {
        Effect::new(move |_| {
            let Some((id, at)) = self.0.get() else {
                return;
            };
            if now_ms() - at > FOCUS_RETURN_MS {
                return;
            }
            // After this frame's changes are in the document: an effect can run while the
            // rebuilt page is not in yet, and the element by that id is still the old one,
            // `inert` behind the dialog.
            request_animation_frame(move || {
                if let Some(el) = document().get_element_by_id(id)
                    && let Ok(el) = el.dyn_into::<web_sys::HtmlElement>()
                {
                    let _ = el.focus();
                }
            });
        });
    }
}

impl Default for FocusReturn {
    fn default() -> Self {
        Self::new()
    }
}

fn now_ms() -> f64 {
    #[cfg(feature = "hydrate")]
    {
        web_sys::js_sys::Date::now()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        0.0
    }
}

/// What Tab moves between inside a dialog.
const FOCUSABLE: &str = "a[href], button:not([disabled]), input:not([disabled]):not([type=\"hidden\"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex=\"-1\"])";

/// The dialog's focusable elements that are shown, in document order.
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
/// without JavaScript); `on_escape` runs on Escape; `opener` is the id of the control to
/// focus again when the dialog closes.
#[component]
pub fn Modal(
    /// The id of the title element, which names the dialog.
    title_id: &'static str,
    #[prop(into)] title: String,
    #[prop(into)] close: ViewFn,
    on_escape: Callback<()>,
    opener: &'static str,
    children: Children,
) -> impl IntoView {
    let dialog = NodeRef::<Div>::new();

    // Focus in: the step's own field (`autofocus`, or its component) may already have it;
    // otherwise the first thing that takes focus.
    Effect::new(move |_| {
        let Some(el) = dialog.get() else {
            return;
        };
        let el: &web_sys::HtmlElement = &el;
        let has_focus = document()
            .active_element()
            .is_some_and(|a| el.contains(Some(a.unchecked_ref::<web_sys::Node>())));
        if !has_focus {
            let items = focusables(el);
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

    // Listened for on the window, so that Tab also comes back in when focus has left the
    // dialog (a click on the backdrop, an element removed under it).
    let keys = window_event_listener(leptos::ev::keydown, move |ev| {
        let Some(el) = dialog.get_untracked() else {
            return;
        };
        match ev.key().as_str() {
            "Escape" => {
                ev.prevent_default();
                on_escape.run(());
            }
            "Tab" => trap_tab(&ev, &el),
            _ => {}
        }
    });
    let focus_return = use_context::<FocusReturn>();
    on_cleanup(move || {
        keys.remove();
        if let Some(f) = focus_return {
            f.closed(opener);
        }
    });

    view! {
        <div class="dialog-backdrop">
            <div class="dialog" role="dialog" aria-modal="true" aria-labelledby=title_id node_ref=dialog>
                <div class="dialog-header">
                    <h2 id=title_id>{title}</h2>
                    {close.run()}
                </div>
                {children()}
            </div>
        </div>
    }
}

/// `×` as a GET form back to the settings, so that it closes the dialog without
/// JavaScript; hydrated, `on_close` runs instead of the page load.
#[component]
pub fn CloseForm(on_close: Callback<()>) -> impl IntoView {
    view! {
        <form
            method="get"
            action=crate::urls::SETTINGS
            on:submit=move |ev| {
                ev.prevent_default();
                on_close.run(());
            }
        >
            <button type="submit" class="close" aria-label="閉じる">"×"</button>
        </form>
    }
}
