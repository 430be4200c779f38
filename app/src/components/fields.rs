//! Form fields with their errors beside them (announced with role `alert`), shared by the
//! sign-up and sign-in forms.

use leptos::html::Input;
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
    let typed = RwSignal::new(0usize);
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
                on:input=move |ev| typed.set(event_target_value(&ev).chars().count())
            />
            {new_password.then(|| view! {
                <p class="hint" id="password-hint">
                    {format!("{MIN_CHARS}〜{MAX_CHARS}文字。よく使われるパスワードは使えません。")}
                    <span class="counter" aria-live="polite">{move || format!("(現在{}文字)", typed.get())}</span>
                </p>
            })}
            <FieldError id="password-error" error=mine/>
        </div>
    }
}

/// The six-digit code field (PH-5): a numeric keyboard on phones, and
/// `autocomplete="one-time-code"` so that browsers offer the code from the SMS (with the
/// message's WebOTP line). Shows the code errors of `error` beside it.
#[component]
pub fn CodeField(
    error: Signal<Option<AppError>>,
    #[prop(optional)] input: NodeRef<Input>,
) -> impl IntoView {
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
                node_ref=input
                aria-invalid=move || mine.get().map(|_| "true")
                aria-describedby=move || mine.get().map(|_| "code-error")
            />
            <FieldError id="code-error" error=mine/>
        </div>
    }
}
