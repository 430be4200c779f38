//! The wasm entry point. The pages are rendered on the server and stay as they are; only
//! the islands (`#[island]` components in `app`: the dialogs' keys, the switch, the
//! countdown, the passkey buttons, …) are hydrated. Every component lives in `app`.

// Linked by name, or the islands' exports are left out of the wasm.
use app as _;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    app::client::start();
}
