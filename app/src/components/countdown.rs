//! `再送する` with its countdown (PH-7). The server says how many seconds remain; once the
//! page has hydrated the button counts them down and stays disabled meanwhile. Without
//! JavaScript it stays enabled and the server answers an early press with the wait.

use leptos::prelude::*;

/// An island (issue 11): the button is all the wasm this step needs.
#[island]
pub fn ResendButton(initial_secs: u64) -> impl IntoView {
    let remaining = RwSignal::new(None::<u64>);
    Effect::new(move |_| {
        remaining.set(Some(initial_secs));
        if let Ok(handle) = set_interval_with_handle(
            move || remaining.update(|r| *r = r.map(|s| s.saturating_sub(1))),
            std::time::Duration::from_secs(1),
        ) {
            on_cleanup(move || handle.clear());
        }
    });
    let waiting = move || remaining.get().filter(|s| *s > 0);
    view! {
        <button type="submit" class="secondary" disabled=move || waiting().is_some()>
            "再送する"
            {move || waiting().map(|s| format!("({s}秒)"))}
        </button>
    }
}
