//! `/signup` and `/login` (ACC-1). Plain forms that post to the server functions, so they
//! work with JavaScript off; hydrated, the same forms submit without a page load.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use super::UserResource;
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
                <button type="submit" class="primary">"登録する"</button>
            </ActionForm>
            <p class="switch-link">"既にアカウントをお持ちの方は "<a href=crate::urls::LOGIN>"ログイン"</a></p>
        </section>
    }
}

#[component]
pub fn LogInPage() -> impl IntoView {
    let action = ServerAction::<LogIn>::new();
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
                <button type="submit" class="primary">"ログイン"</button>
            </ActionForm>
            <PasskeyLogin/>
            <p class="switch-link">"アカウントをお持ちでない方は "<a href=crate::urls::SIGNUP>"新規登録"</a></p>
        </section>
    }
}

/// Signing in with a passkey alone (MFA-2): the browser offers the passkeys it holds for
/// this site; one with user verification is both factors. Needs JavaScript, so it is an
/// island.
#[island]
fn PasskeyLogin() -> impl IntoView {
    let ready = crate::client::hydrated();
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<crate::error::AppError>);
    let go = move |_| {
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let result = passkey_login().await;
            busy.set(false);
            match result {
                // A full load, so that every part of the page sees the new session.
                Ok(()) => {
                    let _ = window().location().set_href(crate::urls::SETTINGS);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <div class="stack passkey-login">
            <p class="hint">"パスキーを登録している方は、メールアドレスとパスワードなしでログインできます。"</p>
            <FormError error=error.into()/>
            <button type="button" class="secondary" on:click=go disabled=move || !ready.get() || busy.get()>
                "パスキーでログイン"
            </button>
            {move || (!ready.get()).then(|| view! {
                <p class="hint">"パスキーでのログインにはJavaScriptが必要です。"</p>
            })}
        </div>
    }
}

async fn passkey_login() -> Result<(), crate::error::AppError> {
    use crate::api::auth::{finish_passkey_login, start_passkey_login};
    let options = start_passkey_login().await?;
    #[cfg(feature = "hydrate")]
    {
        let credential = crate::components::passkeys::browser::get(options)
            .await
            .ok_or(crate::error::AppError::PasskeyRefused)?;
        finish_passkey_login(credential).await
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (options, finish_passkey_login);
        Err(crate::error::AppError::PasskeyRefused)
    }
}
