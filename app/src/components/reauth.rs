//! Re-authentication (TF-4): the password again before setting the number, turning
//! two-factor on or off, or showing and regenerating recovery codes, unless it was entered
//! within the window (`NIDAN_REAUTH_WINDOW_SECS`).
//!
//! The prompt never stands between the person and what they asked for: an action refused
//! for want of the password is sent again by the prompt, with what the person had typed in
//! hidden fields and the password added, so `確認する` does the action itself and the page
//! lands where the action leads. Only the phone dialog asks before anything is typed, with
//! `confirm_password`, and then shows the number step.

use leptos::prelude::*;

use crate::components::fields::FormError;
use crate::error::AppError;

/// Errors the prompt shows (beside its field) rather than the refused action's form.
pub fn asks_password(error: &AppError) -> bool {
    matches!(
        error,
        AppError::ReauthRequired | AppError::CurrentPasswordWrong | AppError::RateLimited { .. }
    )
}

/// Whether an action's prompt shows, given the action's last error: it opens on
/// `ReauthRequired`, stays with a wrong password, and stays with a rate limit only if it
/// was already open (the throttle of re-entered passwords); a rate limit of anything else
/// (sending codes again too soon, say) is the action's own error, not a password problem.
pub fn prompting(error: Signal<Option<AppError>>) -> Memo<bool> {
    Memo::new(move |was: Option<&bool>| match error.get() {
        Some(AppError::ReauthRequired | AppError::CurrentPasswordWrong) => true,
        Some(AppError::RateLimited { .. }) => was.copied().unwrap_or(false),
        _ => false,
    })
}

/// `パスワード` and `確認する`, inside the caller's form (its action and hidden fields).
/// `error` is that action's; `ReauthRequired` is what opened the prompt, not an error to
/// show, so it is not repeated.
#[component]
pub fn PasswordPrompt(error: Signal<Option<AppError>>) -> impl IntoView {
    let shown = Signal::derive(move || error.get().filter(|e| *e != AppError::ReauthRequired));
    view! {
        <p>"安全のため、パスワードをもう一度入力してください。"</p>
        <div class="field">
            <label for="reauth-password">"パスワード"</label>
            <input
                id="reauth-password"
                name="password"
                type="password"
                autocomplete="current-password"
                required
                autofocus
                aria-describedby=move || shown.get().map(|_| "reauth-error")
            />
        </div>
        <div id="reauth-error"><FormError error=shown/></div>
        <div class="dialog-actions">
            <button type="submit" class="primary">"確認する"</button>
        </div>
    }
}
