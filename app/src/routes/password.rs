//! `/settings/password`: changing the password. A page of its own rather than a dialog on
//! the settings page, so that "the field labelled パスワード" stays one field there.

use leptos::prelude::*;
use leptos_meta::Title;

use super::UserResource;
use crate::api::auth::ChangePassword;
use crate::components::fields::{FieldError, FormError};
use crate::domain::password::{MAX_CHARS, MIN_CHARS};
use crate::error::Field;

#[component]
pub fn ChangePasswordPage() -> impl IntoView {
    let action = ServerAction::<ChangePassword>::new();
    let user = expect_context::<UserResource>();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let new_error =
        Signal::derive(move || error.get().filter(|e| e.field() == Some(Field::Password)));
    view! {
        <Title text="パスワードの変更"/>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                (!matches!(user.await, Ok(Some(_)))).then(|| view! { <leptos_router::components::Redirect path=crate::urls::LOGIN/> })
            })}
        </Suspense>
        <section class="card narrow">
            <h1>"パスワードの変更"</h1>
            <p class="hint">"変更すると、ほかの端末のログインと、記憶しているブラウザはすべて解除されます。"</p>
            <ActionForm action attr:novalidate=true attr:class="stack">
                <div class="field">
                    <label for="current-password">"現在のパスワード"</label>
                    <input id="current-password" name="current_password" type="password" autocomplete="current-password" required/>
                </div>
                <div class="field">
                    <label for="new-password">"新しいパスワード"</label>
                    <input
                        id="new-password"
                        name="new_password"
                        type="password"
                        autocomplete="new-password"
                        maxlength=MAX_CHARS.to_string()
                        required
                        aria-describedby="new-password-hint"
                        aria-invalid=move || new_error.get().map(|_| "true")
                    />
                    <p class="hint" id="new-password-hint">{format!("{MIN_CHARS}〜{MAX_CHARS}文字。よく使われるパスワードは使えません。")}</p>
                    <FieldError id="new-password-error" error=new_error/>
                </div>
                <FormError error/>
                <button type="submit" class="primary">"変更する"</button>
            </ActionForm>
            <p class="switch-link"><a href=crate::urls::SETTINGS>"アカウントの設定に戻る"</a></p>
        </section>
    }
}
