//! `/signup` and `/login` (ACC-1). Plain forms that post to the server functions, so they
//! work with JavaScript off; hydrated, the same forms submit without a page load.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use super::{AuthState, UserResource};
use crate::api::auth::{LogIn, SignUp};
use crate::components::fields::{EmailField, FormError, PasswordField};

/// Sends a signed-in visitor on to the settings page.
#[component]
fn RedirectIfSignedIn() -> impl IntoView {
    let user = expect_context::<UserResource>();
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                matches!(user.await, Ok(Some(_))).then(|| view! { <Redirect path=crate::urls::SETTINGS/> })
            })}
        </Suspense>
    }
}

#[component]
pub fn SignUpPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    expect_context::<AuthState>().follow(move || action.version().get());
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    view! {
        <Title text="新規登録"/>
        <RedirectIfSignedIn/>
        <section class="card narrow">
            <h1>"新規登録"</h1>
            <ActionForm action=action attr:novalidate=true attr:class="stack">
                <EmailField error/>
                <PasswordField error new_password=true/>
                <FormError error/>
                <button type="submit" class="primary" disabled=move || action.pending().get()>"登録する"</button>
            </ActionForm>
            <p class="switch-link">"既にアカウントをお持ちの方は "<a href=crate::urls::LOGIN>"ログイン"</a></p>
        </section>
    }
}

#[component]
pub fn LogInPage() -> impl IntoView {
    let action = ServerAction::<LogIn>::new();
    expect_context::<AuthState>().follow(move || action.version().get());
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    view! {
        <Title text="ログイン"/>
        <RedirectIfSignedIn/>
        <section class="card narrow">
            <h1>"ログイン"</h1>
            <ActionForm action=action attr:novalidate=true attr:class="stack">
                <EmailField error/>
                <PasswordField error new_password=false/>
                <FormError error/>
                <button type="submit" class="primary" disabled=move || action.pending().get()>"ログイン"</button>
            </ActionForm>
            <p class="switch-link">"アカウントをお持ちでない方は "<a href=crate::urls::SIGNUP>"新規登録"</a></p>
        </section>
    }
}
