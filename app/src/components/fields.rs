//! Form fields with their errors beside them (announced with role `alert`), shared by the
//! sign-up and sign-in forms.

use leptos::prelude::*;

use crate::domain::password::{MAX_CHARS, MIN_CHARS};
use crate::error::{AppError, Field};

/// An error shown next to its field, or nothing.
#[component]
pub fn FieldError(#[prop(into)] id: String, error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error.get().map(|e| {
            view! { <p class="field-error" id=id.clone() role="alert">{e.to_string()}</p> }
        })
    }
}

/// An error that belongs to no field (wrong password, too many attempts, …).
#[component]
pub fn FormError(error: Signal<Option<AppError>>) -> impl IntoView {
    let general = move || error.get().filter(|e| e.field().is_none());
    move || general().map(|e| view! { <p class="form-error" role="alert">{e.to_string()}</p> })
}

/// The error, when it is about `field` (the rest shows in [`FormError`]).
pub fn only(error: Signal<Option<AppError>>, field: Field) -> Signal<Option<AppError>> {
    Signal::derive(move || error.get().filter(|e| e.field() == Some(field)))
}

#[component]
pub fn EmailField(error: Signal<Option<AppError>>) -> impl IntoView {
    let mine = only(error, Field::Email);
    view! {
        <div class="field">
            <label for="email">"メールアドレス"</label>
            <input
                id="email"
                name="email"
                type="email"
                inputmode="email"
                autocomplete="username"
                maxlength="254"
                required
                aria-invalid=move || mine.get().map(|_| "true")
                aria-describedby=move || mine.get().map(|_| "email-error")
            />
            <FieldError id="email-error" error=mine/>
        </div>
    }
}

/// The password field. For a new password it shows the length rule and, once the page has
/// hydrated, how many characters have been typed.
#[component]
pub fn PasswordField(error: Signal<Option<AppError>>, new_password: bool) -> impl IntoView {
    let mine = only(error, Field::Password);
    let described_by = move || {
        let mut ids = Vec::new();
        if new_password {
            ids.push("password-hint");
        }
        if mine.get().is_some() {
            ids.push("password-error");
        }
        (!ids.is_empty()).then(|| ids.join(" "))
    };
    view! {
        <div class="field">
            <label for="password">"パスワード"</label>
            <input
                id="password"
                name="password"
                type="password"
                autocomplete=if new_password { "new-password" } else { "current-password" }
                maxlength=MAX_CHARS.to_string()
                required
                aria-invalid=move || mine.get().map(|_| "true")
                aria-describedby=described_by
            />
            {new_password.then(|| view! {
                <p class="hint" id="password-hint">
                    {format!("{MIN_CHARS}〜{MAX_CHARS}文字。よく使われるパスワードは使えません。")}
                    <TypedCount field="password".to_owned()/>
                </p>
            })}
            <FieldError id="password-error" error=mine/>
        </div>
    }
}

/// How many characters the field `field` holds, as they are typed: an island that listens
/// for the field's `input` events on the window, so that the field itself stays plain HTML.
#[island]
fn TypedCount(field: String) -> impl IntoView {
    let typed = RwSignal::new(0usize);
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        // What was typed before the wasm arrived.
        let id = field.clone();
        Effect::new(move |_| {
            if let Some(input) = document()
                .get_element_by_id(&id)
                .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
            {
                typed.set(input.value().chars().count());
            }
        });
        let listener = window_event_listener(leptos::ev::input, move |ev| {
            if let Some(input) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
                .filter(|i| i.id() == field)
            {
                typed.set(input.value().chars().count());
            }
        });
        on_cleanup(move || listener.remove());
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = field;
    view! { <span class="counter" aria-live="polite">{move || format!("(現在{}文字)", typed.get())}</span> }
}

/// The six-digit code field (PH-5): a numeric keyboard on phones, and
/// `autocomplete="one-time-code"` so that browsers offer the code from the SMS (with the
/// message's WebOTP line). Shows the code errors of `error` beside it.
#[component]
pub fn CodeField(error: Signal<Option<AppError>>) -> impl IntoView {
    let mine = only(error, Field::Code);
    view! {
        <div class="field">
            <label for="code">"認証コード"</label>
            <input
                id="code"
                name="code"
                type="text"
                inputmode="numeric"
                autocomplete="one-time-code"
                pattern="[0-9]*"
                maxlength="6"
                required
                autofocus
                aria-invalid=move || mine.get().map(|_| "true")
                aria-describedby=move || mine.get().map(|_| "code-error")
            />
            <FieldError id="code-error" error=mine/>
        </div>
    }
}
