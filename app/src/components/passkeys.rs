//! Passkeys in the browser (MFA-2): the settings section (add, list, rename, remove) and
//! the bridge to `navigator.credentials`. Adding a passkey and signing in with one need
//! JavaScript (the browser's WebAuthn API has no form); without it the page says so, and
//! renaming, removing and every other factor still work as plain forms.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::passkeys::{
    PasskeyView, RemovePasskey, RenamePasskey, finish_passkey_registration,
    start_passkey_registration,
};
use crate::api::two_factor::ConfirmPassword;
use crate::components::fields::FormError;
use crate::components::reauth::{PasswordPrompt, asks_password};
use crate::error::AppError;

/// What the browser's WebAuthn calls need, and give back as JSON for the server.
#[cfg(feature = "hydrate")]
pub mod browser {
    use leptos::prelude::window;
    use leptos::wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    use webauthn_rs_proto::{
        CreationChallengeResponse, PublicKeyCredential, RegisterPublicKeyCredential,
        RequestChallengeResponse,
    };

    /// `navigator.credentials.create`: a new passkey's answer, or `None` when the person
    /// cancelled or the browser refused.
    pub async fn create(options: CreationChallengeResponse) -> Option<String> {
        let options = web_sys::CredentialCreationOptions::from(options);
        let promise = window()
            .navigator()
            .credentials()
            .create_with_options(&options)
            .ok()?;
        let credential: web_sys::PublicKeyCredential =
            JsFuture::from(promise).await.ok()?.dyn_into().ok()?;
        serde_json::to_string(&RegisterPublicKeyCredential::from(credential)).ok()
    }

    /// `navigator.credentials.get`: a passkey's signature for a sign-in.
    pub async fn get(options: RequestChallengeResponse) -> Option<String> {
        let options = web_sys::CredentialRequestOptions::from(options);
        let promise = window()
            .navigator()
            .credentials()
            .get_with_options(&options)
            .ok()?;
        let credential: web_sys::PublicKeyCredential =
            JsFuture::from(promise).await.ok()?.dyn_into().ok()?;
        serde_json::to_string(&PublicKeyCredential::from(credential)).ok()
    }
}

/// Whether the page has hydrated (passkeys need the wasm).
pub fn hydrated() -> ReadSignal<bool> {
    let (ready, set_ready) = signal(false);
    Effect::new(move |_| set_ready.set(true));
    ready
}

/// `パスキーを追加する`: with the password typed beside it, asks the browser for a new
/// passkey and stores it.
async fn add_passkey(name: String, password: String) -> Result<(), AppError> {
    let options = start_passkey_registration(password).await?;
    #[cfg(feature = "hydrate")]
    {
        let credential = browser::create(options)
            .await
            .ok_or(AppError::PasskeyRefused)?;
        finish_passkey_registration(name, credential).await
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (options, name, finish_passkey_registration);
        Err(AppError::PasskeyRefused)
    }
}

/// The passkeys section of the settings page.
#[component]
pub fn PasskeysSection(
    passkeys: Vec<PasskeyView>,
    rename: ServerAction<RenamePasskey>,
    remove: ServerAction<RemovePasskey>,
    confirm: ServerAction<ConfirmPassword>,
) -> impl IntoView {
    let ready = hydrated();
    let query = use_query_map();
    let navigate = use_navigate();
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let add_error = RwSignal::new(None::<AppError>);
    let remove_error = Signal::derive(move || remove.value().get().and_then(Result::err));
    let rename_error = Signal::derive(move || rename.value().get().and_then(Result::err));
    // Removing was refused for want of the password (TF-4): ask for it here, then the
    // person presses 削除 again.
    let asking = Memo::new(move |_| {
        remove_error
            .get()
            .is_some_and(|e| e == AppError::ReauthRequired)
    });
    let confirm_error = Signal::derive(move || confirm.value().get().and_then(Result::err));
    let add = move |_| {
        let navigate = navigate.clone();
        busy.set(true);
        add_error.set(None);
        leptos::task::spawn_local(async move {
            let result = add_passkey(name.get_untracked(), password.get_untracked()).await;
            busy.set(false);
            match result {
                Ok(()) => {
                    password.set(String::new());
                    navigate(crate::urls::PASSKEY_ADDED, Default::default());
                }
                Err(e) => add_error.set(Some(e)),
            }
        });
    };
    let shown_add_error = Signal::derive(move || add_error.get());
    let shown_remove_error =
        Signal::derive(move || remove_error.get().filter(|e| !asks_password(e)));
    let empty = passkeys.is_empty();
    view! {
        <section class="card" aria-labelledby="passkeys-heading">
            <h2 id="passkeys-heading">"パスキー"</h2>
            <p class="hint">"スマートフォンの生体認証や画面ロック、セキュリティキーでログインを確認できます。二段階認証が有効なとき、ログインではほかの方法より先にパスキーを求めます。"</p>
            {move || query.read().get("passkey_added").is_some().then(|| view! {
                <p class="notice" role="status">"パスキーを追加しました。"</p>
            })}
            {move || query.read().get("passkey_renamed").is_some().then(|| view! {
                <p class="notice" role="status">"パスキーの名前を変更しました。"</p>
            })}
            {move || query.read().get("passkey_removed").is_some().then(|| view! {
                <p class="notice" role="status">"パスキーを削除しました。記憶しているブラウザは解除されました。"</p>
            })}
            {if empty {
                view! { <p>"登録しているパスキーはありません。"</p> }.into_any()
            } else {
                view! {
                    <ul class="browsers" aria-label="登録しているパスキー">
                        {passkeys.into_iter().map(|p| {
                            let field = format!("passkey-name-{}", p.id);
                            let used = p.last_used.clone().map_or_else(|| "未使用".to_owned(), |at| format!("最終使用 {at}"));
                            let remove_label = format!("{}を削除", p.name);
                            view! {
                                <li class="setting-row">
                                    <span class="row-label">{p.name.clone()}</span>
                                    <span class="row-value hint">{format!("追加 {} ／ {}", p.added, used)}</span>
                                    <ActionForm action=remove attr:class="row-action">
                                        <input type="hidden" name="id" value=p.id.to_string()/>
                                        <button type="submit" class="secondary" aria-label=remove_label>"削除"</button>
                                    </ActionForm>
                                    <ActionForm action=rename attr:class="row-note rename">
                                        <input type="hidden" name="id" value=p.id.to_string()/>
                                        <label for=field.clone()>"名前"</label>
                                        <input id=field name="name" type="text" maxlength="40" value=p.name.clone()/>
                                        <button type="submit" class="secondary">"名前を変更"</button>
                                    </ActionForm>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            <FormError error=rename_error/>
            <FormError error=shown_remove_error/>
            {move || asking.get().then(|| view! {
                <ActionForm action=confirm attr:class="stack">
                    <input type="hidden" name="then" value=crate::urls::SETTINGS/>
                    <PasswordPrompt error=confirm_error pending=confirm.pending().into()/>
                </ActionForm>
            })}
            <div class="stack">
                <div class="field">
                    <label for="new-passkey-name">"パスキーの名前(任意)"</label>
                    <input
                        id="new-passkey-name"
                        type="text"
                        maxlength="40"
                        placeholder="例: iPhone"
                        prop:value=move || name.get()
                        on:input=move |ev| name.set(event_target_value(&ev))
                    />
                </div>
                <div class="field">
                    <label for="new-passkey-password">"現在のパスワード"</label>
                    <input
                        id="new-passkey-password"
                        type="password"
                        autocomplete="current-password"
                        prop:value=move || password.get()
                        on:input=move |ev| password.set(event_target_value(&ev))
                    />
                    <p class="hint">"パスキーはそれだけでログインできるため、追加するたびにパスワードを確認します。"</p>
                </div>
                {move || shown_add_error.get().map(|e| view! { <p class="form-error" role="alert">{e.to_string()}</p> })}
                <button type="button" class="secondary" on:click=add disabled=move || !ready.get() || busy.get()>
                    "パスキーを追加する"
                </button>
                {move || (!ready.get()).then(|| view! {
                    <p class="hint">"パスキーの追加とパスキーでのログインにはJavaScriptが必要です。ほかの方法はJavaScriptなしでも使えます。"</p>
                })}
            </div>
        </section>
    }
}
