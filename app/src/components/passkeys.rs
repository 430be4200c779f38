//! Passkeys in the browser (MFA-2): the settings section (add, list, rename, remove) and
//! the bridge to `navigator.credentials`. Adding a passkey and signing in with one need
//! JavaScript (the browser's WebAuthn API has no form); without it the page says so, and
//! renaming, removing and every other factor still work as plain forms.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::passkeys::{
    PasskeyView, RemovePasskey, RenamePasskey, finish_passkey_registration,
    start_passkey_registration,
};
use crate::api::two_factor::ConfirmPassword;
use crate::components::fields::FormError;
use crate::components::reauth::{PasswordPrompt, asks_password};
use crate::error::AppError;

/// The bridge to the browser's WebAuthn calls. The server sends the options as the JSON
/// of the WebAuthn specification (binary values in base64url); the browser wants those
/// values as bytes, and answers with bytes that go back as base64url in the same JSON.
/// Only the few fields that carry bytes are converted, with the browser's own `atob` and
/// `btoa`: reading the whole structure into Rust types (webauthn-rs-proto's `wasm`
/// feature) put its serde and base64 code in the wasm for nothing (issue 11).
#[cfg(feature = "hydrate")]
pub mod browser {
    use js_sys::{Array, JSON, Object, Reflect, Uint8Array};
    use leptos::prelude::window;
    use leptos::wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    use crate::api::passkeys::PasskeyOptions;

    /// `navigator.credentials.create`: a new passkey's answer (JSON of webauthn-rs's
    /// `RegisterPublicKeyCredential`), or `None` when the person cancelled or the browser
    /// refused.
    pub async fn create(options: PasskeyOptions) -> Option<String> {
        let options = JSON::parse(options.json()).ok()?;
        let public_key = field(&options, "publicKey")?;
        bytes_in(&public_key, "challenge")?;
        bytes_in(&field(&public_key, "user")?, "id")?;
        ids_in(&public_key, "excludeCredentials")?;
        let promise = window()
            .navigator()
            .credentials()
            .create_with_options(options.unchecked_ref())
            .ok()?;
        let credential = JsFuture::from(promise).await.ok()?;
        let answer = response_of(&credential, &["attestationObject", "clientDataJSON"])?;
        // Of the extension outputs, only `credProps` (whether a discoverable credential was
        // made) means anything to the server.
        let extensions = Object::new();
        if let Some(results) = extension_results(&credential)
            && let Some(props) = field(&results, "credProps")
        {
            set(&extensions, "credProps", &props)?;
        }
        answer_json(&credential, &answer, &extensions)
    }

    /// `navigator.credentials.get`: a passkey's signature for a sign-in (JSON of
    /// webauthn-rs's `PublicKeyCredential`).
    pub async fn get(options: PasskeyOptions) -> Option<String> {
        let options = JSON::parse(options.json()).ok()?;
        let public_key = field(&options, "publicKey")?;
        bytes_in(&public_key, "challenge")?;
        ids_in(&public_key, "allowCredentials")?;
        let promise = window()
            .navigator()
            .credentials()
            .get_with_options(options.unchecked_ref())
            .ok()?;
        let credential = JsFuture::from(promise).await.ok()?;
        let answer = response_of(
            &credential,
            &["authenticatorData", "clientDataJSON", "signature"],
        )?;
        // A discoverable credential names its account; a listed one may not.
        let response = field(&credential, "response")?;
        let handle = match field(&response, "userHandle") {
            Some(_) => base64url(&response, "userHandle")?,
            None => JsValue::NULL,
        };
        set(&answer, "userHandle", &handle)?;
        answer_json(&credential, &answer, &Object::new())
    }

    /// The credential's `response` fields `names` (buffers), as base64url text.
    fn response_of(credential: &JsValue, names: &[&str]) -> Option<Object> {
        let response = field(credential, "response")?;
        let answer = Object::new();
        for name in names {
            set(&answer, name, &base64url(&response, name)?)?;
        }
        Some(answer)
    }

    /// `{id, rawId, type, response, extensions}` as JSON text.
    fn answer_json(credential: &JsValue, response: &Object, extensions: &Object) -> Option<String> {
        let out = Object::new();
        set(&out, "id", &field(credential, "id")?)?;
        set(&out, "rawId", &base64url(credential, "rawId")?)?;
        set(&out, "type", &JsValue::from_str("public-key"))?;
        set(&out, "response", response)?;
        set(&out, "extensions", extensions)?;
        JSON::stringify(&out).ok()?.as_string()
    }

    fn extension_results(credential: &JsValue) -> Option<JsValue> {
        let method = field(credential, "getClientExtensionResults")?;
        method.dyn_ref::<js_sys::Function>()?.call0(credential).ok()
    }

    /// `object[name]`, when it is there (not undefined, not null).
    fn field(object: &JsValue, name: &str) -> Option<JsValue> {
        Reflect::get(object, &JsValue::from_str(name))
            .ok()
            .filter(|v| !v.is_undefined() && !v.is_null())
    }

    fn set(object: &JsValue, name: &str, value: &JsValue) -> Option<()> {
        Reflect::set(object, &JsValue::from_str(name), value)
            .ok()
            .filter(|done| *done)
            .map(|_| ())
    }

    /// Replaces the base64url text at `object[name]` by its bytes.
    fn bytes_in(object: &JsValue, name: &str) -> Option<()> {
        let text = field(object, name)?.as_string()?;
        set(object, name, &from_base64url(&text)?)
    }

    /// Likewise for the `id` of each credential listed at `object[name]`, if any.
    fn ids_in(object: &JsValue, name: &str) -> Option<()> {
        let Some(list) = field(object, name) else {
            return Some(());
        };
        for credential in list.dyn_into::<Array>().ok()?.iter() {
            bytes_in(&credential, "id")?;
        }
        Some(())
    }

    /// The bytes (an ArrayBuffer or a view of one) at `object[name]`, as base64url text
    /// without padding.
    fn base64url(object: &JsValue, name: &str) -> Option<JsValue> {
        let bytes = Uint8Array::new(&field(object, name)?).to_vec();
        let binary: String = bytes.iter().map(|&b| char::from(b)).collect();
        let text: String = window()
            .btoa(&binary)
            .ok()?
            .trim_end_matches('=')
            .chars()
            .map(|c| match c {
                '+' => '-',
                '/' => '_',
                c => c,
            })
            .collect();
        Some(JsValue::from_str(&text))
    }

    fn from_base64url(text: &str) -> Option<JsValue> {
        let mut standard: String = text
            .chars()
            .map(|c| match c {
                '-' => '+',
                '_' => '/',
                c => c,
            })
            .collect();
        while !standard.len().is_multiple_of(4) {
            standard.push('=');
        }
        let binary = window().atob(&standard).ok()?;
        let bytes = binary
            .chars()
            .map(|c| u8::try_from(u32::from(c)).ok())
            .collect::<Option<Vec<u8>>>()?;
        Some(Uint8Array::from(bytes.as_slice()).into())
    }
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
    let query = use_query_map();
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
                    <PasswordPrompt error=confirm_error/>
                </ActionForm>
            })}
            <AddPasskey/>
        </section>
    }
}

/// `パスキーを追加する` with its name and password fields: an island, since the browser's
/// WebAuthn call has no form. Disabled until hydrated; on success the page loads again with
/// `?passkey_added`.
#[island]
fn AddPasskey() -> impl IntoView {
    let ready = crate::client::hydrated();
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let add_error = RwSignal::new(None::<AppError>);
    let add = move |_| {
        busy.set(true);
        add_error.set(None);
        leptos::task::spawn_local(async move {
            let result = add_passkey(name.get_untracked(), password.get_untracked()).await;
            busy.set(false);
            match result {
                Ok(()) => {
                    password.set(String::new());
                    crate::client::reloading();
                    let _ = window().location().set_href(crate::urls::PASSKEY_ADDED);
                }
                Err(e) => add_error.set(Some(e)),
            }
        });
    };
    view! {
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
            {move || add_error.get().map(|e| view! { <p class="form-error" role="alert">{e.to_string()}</p> })}
            <button type="button" class="secondary" on:click=add disabled=move || !ready.get() || busy.get()>
                "パスキーを追加する"
            </button>
            {move || (!ready.get()).then(|| view! {
                <p class="hint">"パスキーの追加とパスキーでのログインにはJavaScriptが必要です。ほかの方法はJavaScriptなしでも使えます。"</p>
            })}
        </div>
    }
}
