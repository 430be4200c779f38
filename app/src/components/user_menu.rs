//! The user icon at the top right of every signed-in page (ACC-2). A `<details>` element,
//! so the menu opens and closes with JavaScript off; as an island (issue 11) it also
//! closes on Escape and when a choice is made.

use leptos::html::Details;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use crate::api::auth::LogOut;

#[island]
pub fn UserMenu(email: String) -> impl IntoView {
    let menu = NodeRef::<Details>::new();
    let close = move || {
        if let Some(details) = menu.get() {
            details.set_open(false);
        }
    };
    view! {
        <details
            class="user-menu"
            node_ref=menu
            on:keydown=move |ev| {
                if ev.key() == "Escape" {
                    close();
                }
            }
        >
            <summary role="button" aria-label="ユーザーメニュー" aria-haspopup="true" class="user-icon">
                <svg viewBox="0 0 24 24" width="28" height="28" aria-hidden="true" focusable="false">
                    <circle cx="12" cy="8" r="4" fill="currentColor"/>
                    <path d="M4 21c0-4.4 3.6-8 8-8s8 3.6 8 8" fill="currentColor"/>
                </svg>
            </summary>
            <div class="menu-panel">
                <p class="menu-email">{email}</p>
                <a href=crate::urls::SETTINGS on:click=move |_| close()>"アカウントの設定"</a>
                // A plain POST: the server signs out and answers with the sign-in page.
                <form method="post" action=LogOut::url()>
                    <button type="submit" class="link-button" on:click=move |_| close()>"ログアウト"</button>
                </form>
            </div>
        </details>
    }
}
