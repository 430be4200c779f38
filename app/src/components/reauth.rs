//! Re-authentication (TF-4): the password again before turning two-factor off, changing
//! the number of an account with two-factor on, or showing and regenerating recovery codes,
//! unless it was entered within the last 10 minutes.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::api::two_factor::ConfirmPassword;
use crate::components::fields::FormError;

/// The form: `パスワード` and `確認する`; on success, back to `then`.
#[component]
pub fn ReauthForm(#[prop(into)] then: String) -> impl IntoView {
    let action = ServerAction::<ConfirmPassword>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    view! {
        <p>"安全のため、パスワードをもう一度入力してください。"</p>
        <ActionForm action attr:novalidate=true attr:class="stack">
            <input type="hidden" name="then" value=then/>
            <div class="field">
                <label for="reauth-password">"パスワード"</label>
                <input id="reauth-password" name="password" type="password" autocomplete="current-password" required autofocus/>
            </div>
            <FormError error/>
            <div class="dialog-actions">
                <button type="submit" class="primary" disabled=move || action.pending().get()>"確認する"</button>
            </div>
        </ActionForm>
    }
}

/// The form in a dialog of its own, with `閉じる` back to the settings.
#[component]
pub fn ReauthDialog(#[prop(into)] then: String) -> impl IntoView {
    let navigate = use_navigate();
    view! {
        <div class="dialog-backdrop">
            // Named by its visible title (issue 9); tests ask for the field by its exact label.
            <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="reauth-title">
                <div class="dialog-header">
                    <h2 id="reauth-title">"パスワードの確認"</h2>
                    <form
                        method="get"
                        action="/settings"
                        on:submit=move |ev| {
                            ev.prevent_default();
                            navigate("/settings", Default::default());
                        }
                    >
                        <button type="submit" class="close" aria-label="閉じる">"×"</button>
                    </form>
                </div>
                <ReauthForm then/>
            </div>
        </div>
    }
}
