//! `/settings`, the account settings page: the phone row (PH-1), the two-factor row (TF-1)
//! and the recovery codes (RC-1). Signed-out visitors are sent to `/login`.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::{use_navigate, use_query_map};

use super::AuthState;
use crate::api::account::{AccountOverview, get_account_overview};
use crate::api::phone::DIALOG_URL;
use crate::components::phone_dialog::{PhoneActions, PhoneDialog};
use crate::error::AppError;

#[component]
pub fn SettingsPage() -> impl IntoView {
    let auth = expect_context::<AuthState>();
    let phone_actions = PhoneActions::new();
    let query = use_query_map();
    let dialog = Memo::new(move |_| query.read().get("dialog"));
    let overview = Resource::new(
        move || (auth.version(), phone_actions.version(), query.read().get("dialog"), query.read().get("done")),
        |_| get_account_overview(),
    );

    // Focus goes back to the button that opened the dialog when it closes. The settings
    // may re-render after the close (their data is refetched), so the button takes the
    // focus when it is mounted with this flag set.
    let refocus = RwSignal::new(false);
    Effect::watch(
        move || dialog.get().is_some(),
        move |open, was_open, _| {
            if !*open && was_open == Some(&true) {
                refocus.set(true);
            }
        },
        false,
    );

    view! {
        <Title text="アカウントの設定"/>
        <h1>"アカウントの設定"</h1>
        <Transition fallback=|| view! { <p class="loading">"読み込み中…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(o) => {
                        let show_dialog = dialog.get().as_deref() == Some("phone");
                        view! {
                            <Settings overview=o.clone() refocus/>
                            {show_dialog.then(|| view! { <PhoneDialog overview=o actions=phone_actions/> })}
                        }
                        .into_any()
                    }
                    Err(AppError::Unauthenticated) => view! { <Redirect path="/login"/> }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Settings(overview: AccountOverview, refocus: RwSignal<bool>) -> impl IntoView {
    let has_phone = overview.phone.is_some();
    let phone = overview.phone.clone().unwrap_or_else(|| "未設定".to_owned());
    let navigate = use_navigate();
    let phone_button = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |_| {
        if refocus.get() {
            if let Some(button) = phone_button.get() {
                let _ = button.focus();
                refocus.set(false);
            }
        }
    });
    view! {
        <section class="card" aria-labelledby="login-heading">
            <h2 id="login-heading">"ログイン情報"</h2>
            <div class="setting-row">
                <span class="row-label">"メールアドレス"</span>
                <span class="row-value">{overview.email.clone()}</span>
            </div>
        </section>
        <section class="card" aria-labelledby="two-factor-heading">
            <h2 id="two-factor-heading">"二段階認証"</h2>
            <div class="setting-row">
                <span class="row-label">"電話番号"</span>
                <span class="row-value" data-testid="phone-value">{phone}</span>
                // A GET form: without JavaScript it opens the dialog by loading the page with
                // `?dialog=phone`; hydrated, the router does the same without a reload.
                <form
                    method="get"
                    action="/settings"
                    class="row-action"
                    on:submit=move |ev| {
                        ev.prevent_default();
                        navigate(DIALOG_URL, Default::default());
                    }
                >
                    <input type="hidden" name="dialog" value="phone"/>
                    <button type="submit" class="secondary" node_ref=phone_button>"電話番号を設定する"</button>
                </form>
            </div>
            <div class="setting-row">
                <span class="row-label" id="two-factor-label">"二段階認証(SMS)"</span>
                <span class="row-value">
                    <button
                        type="button"
                        role="switch"
                        class="switch"
                        aria-checked=overview.two_factor_enabled.to_string()
                        aria-labelledby="two-factor-label"
                        aria-describedby="two-factor-hint"
                        disabled=!has_phone
                    >
                        <span class="switch-thumb" aria-hidden="true"></span>
                    </button>
                </span>
                <button type="button" class="primary row-action" disabled>"保存する"</button>
            </div>
            <p class="hint" id="two-factor-hint">
                {if has_phone {
                    "スイッチを切り替えて[保存する]を押すと設定が保存されます。"
                } else {
                    "二段階認証を有効にするには、先に電話番号を設定してください。"
                }}
            </p>
            <div class="setting-row">
                <span class="row-label">"リカバリーコード"</span>
                <span class="row-value hint">"二段階認証が有効なときに表示できます。"</span>
                <button type="button" class="secondary row-action" disabled=!overview.two_factor_enabled>
                    "リカバリーコードを表示する"
                </button>
            </div>
        </section>
    }
}
