//! `/settings`, the account settings page: the phone row (PH-1), the authenticator app
//! (MFA-1), the two-factor switch with `保存する` (TF-1, TF-2), the recovery codes (RC-1),
//! remembered browsers (LG-5). Dialogs open from the URL (`?dialog=phone|recovery|app`).
//! Signed-out visitors are sent to `/login`.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

use crate::api::account::{
    AccountOverview, AuthenticatorApp, HistoryEntry, RememberedBrowser, get_account_overview,
};
use crate::api::authenticator::{ConfirmAuthenticator, RemoveAuthenticator, StartAuthenticator};
use crate::api::passkeys::{RemovePasskey, RenamePasskey};
use crate::api::two_factor::ConfirmPassword;
use crate::api::two_factor::{
    ForgetAllBrowsers, ForgetBrowser, RegenerateRecoveryCodes, SaveTwoFactor, ShowRecoveryCodes,
};
use crate::components::app_dialog::{APP_OPENER, AppDialog};
use crate::components::fields::FormError;
use crate::components::modal::{CloseForm, Modal};
use crate::components::passkeys::PasskeysSection;
use crate::components::phone_dialog::{PHONE_OPENER, PhoneActions, PhoneDialog};
use crate::components::reauth::{PasswordPrompt, asks_password, prompting};
use crate::components::recovery_dialog::{RECOVERY_OPENER, RecoveryDialog};
use crate::error::AppError;

/// The id of `保存する`, which gets focus back when the password prompt closes.
const SAVE_BUTTON: &str = "two-factor-save";
/// The two-factor switch's id (its island reads it before hydrating).
const SWITCH: &str = "two-factor-switch";
/// The id of `認証アプリを削除する`, likewise.
const APP_REMOVE_BUTTON: &str = "app-remove";
/// The id of the password prompt's `×`.
const PROMPT_CLOSE: &str = "prompt-close";

/// The page's actions, made inside the routes so that the error a form carried back in
/// the URL reaches the one it belongs to.
#[derive(Clone, Copy)]
struct SettingsActions {
    save: ServerAction<SaveTwoFactor>,
    regenerate: ServerAction<RegenerateRecoveryCodes>,
    show: ServerAction<ShowRecoveryCodes>,
    forget: ServerAction<ForgetBrowser>,
    forget_all: ServerAction<ForgetAllBrowsers>,
    start_app: ServerAction<StartAuthenticator>,
    confirm_app: ServerAction<ConfirmAuthenticator>,
    remove_app: ServerAction<RemoveAuthenticator>,
    rename_passkey: ServerAction<RenamePasskey>,
    remove_passkey: ServerAction<RemovePasskey>,
    confirm_password: ServerAction<ConfirmPassword>,
}

impl SettingsActions {
    fn new() -> Self {
        Self {
            save: ServerAction::new(),
            regenerate: ServerAction::new(),
            show: ServerAction::new(),
            forget: ServerAction::new(),
            forget_all: ServerAction::new(),
            start_app: ServerAction::new(),
            confirm_app: ServerAction::new(),
            remove_app: ServerAction::new(),
            rename_passkey: ServerAction::new(),
            remove_passkey: ServerAction::new(),
            confirm_password: ServerAction::new(),
        }
    }
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let phone_actions = PhoneActions::new();
    let actions = SettingsActions::new();
    let query = use_query_map();
    let dialog = Memo::new(move |_| query.read().get("dialog"));
    let overview = Resource::new(|| (), |_| get_account_overview());
    // `保存する` was refused for want of the password (TF-4): the prompt sends the switch's
    // value again with the password. Not while another dialog is open.
    let save_asking = prompting(Signal::derive(move || {
        actions.save.value().get().and_then(Result::err)
    }));
    let save_prompt = Memo::new(move |_| dialog.get().is_none() && save_asking.get());
    // `認証アプリを削除する` likewise.
    let remove_asking = prompting(Signal::derive(move || {
        actions.remove_app.value().get().and_then(Result::err)
    }));
    let remove_prompt = Memo::new(move |_| dialog.get().is_none() && remove_asking.get());

    view! {
        <Title text="アカウントの設定"/>
        <h1>"アカウントの設定"</h1>
        <Transition fallback=|| view! { <p class="loading">"読み込み中…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(o) => {
                        let open = dialog.get();
                        let any_open = open.is_some();
                        let saved = o.two_factor_enabled;
                        view! {
                            // The page behind an open dialog takes no focus and no clicks,
                            // with or without JavaScript.
                            <div inert=move || any_open || save_prompt.get() || remove_prompt.get()>
                                <Settings overview=o.clone() actions/>
                            </div>
                            {(open.as_deref() == Some("phone")).then(|| view! { <PhoneDialog overview=o actions=phone_actions/> })}
                            {(open.as_deref() == Some("recovery")).then(|| view! { <RecoveryDialog regenerate=actions.regenerate show=actions.show/> })}
                            {(open.as_deref() == Some("app")).then(|| view! { <AppDialog start=actions.start_app confirm=actions.confirm_app/> })}
                            {move || save_prompt.get().then(|| view! { <SavePrompt action=actions.save enable=!saved/> })}
                            {move || remove_prompt.get().then(|| view! { <RemoveAppPrompt action=actions.remove_app/> })}
                        }
                        .into_any()
                    }
                    Err(AppError::Unauthenticated) => view! { <Redirect path=crate::urls::LOGIN/> }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The password dialog in front of the page when `保存する` needs it (TF-4). `確認する`
/// saves; `×` and Escape close it and leave the switch as the person set it.
#[component]
fn SavePrompt(action: ServerAction<SaveTwoFactor>, enable: bool) -> impl IntoView {
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let close = move || view! { <CloseForm id=PROMPT_CLOSE/> };
    view! {
        <Modal title_id="reauth-title" title="パスワードの確認" close escape=PROMPT_CLOSE opener=SAVE_BUTTON>
            <ActionForm action attr:class="stack">
                {enable.then(|| view! { <input type="hidden" name="enabled" value="on"/> })}
                <PasswordPrompt error/>
            </ActionForm>
        </Modal>
    }
}

/// The password dialog in front of the page when `認証アプリを削除する` needs it (TF-4).
#[component]
fn RemoveAppPrompt(action: ServerAction<RemoveAuthenticator>) -> impl IntoView {
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let close = move || view! { <CloseForm id=PROMPT_CLOSE/> };
    view! {
        <Modal title_id="reauth-title" title="パスワードの確認" close escape=PROMPT_CLOSE opener=APP_REMOVE_BUTTON>
            <ActionForm action attr:class="stack">
                <PasswordPrompt error/>
            </ActionForm>
        </Modal>
    }
}

/// The authenticator app's row (MFA-1): set it up, or remove it.
#[component]
fn AppRow(app: Option<AuthenticatorApp>, actions: SettingsActions) -> impl IntoView {
    let error = Signal::derive(move || {
        actions
            .remove_app
            .value()
            .get()
            .and_then(Result::err)
            .filter(|e| !asks_password(e))
    });
    view! {
        <div class="setting-row">
            <span class="row-label">"認証アプリ"</span>
            {match app {
                Some(app) => view! {
                    <span class="row-value" data-testid="app-value">
                        {format!("設定済み({}に設定", app.added)}
                        {app.last_used.map(|at| format!("、最終使用 {at}"))}
                        ")"
                    </span>
                    // A POST that asks for the password when it was not entered lately.
                    <ActionForm action=actions.remove_app attr:class="row-action">
                        <button type="submit" class="secondary" id=APP_REMOVE_BUTTON>"認証アプリを削除する"</button>
                    </ActionForm>
                }.into_any(),
                None => view! {
                    <span class="row-value" data-testid="app-value">"設定されていません"</span>
                    // A POST: it makes the new key (no GET writes, SEC-9); the server
                    // answers with the dialog's URL.
                    <ActionForm action=actions.start_app attr:class="row-action">
                        <button type="submit" class="secondary" id=APP_OPENER>"認証アプリを設定する"</button>
                    </ActionForm>
                }.into_any(),
            }}
            <p class="hint row-note">"スマートフォンの認証アプリが表示する6桁のコードでも認証できます。二段階認証が有効なとき、ログインではSMSより先に認証アプリのコードを求めます。"</p>
            <div class="row-note"><FormError error/></div>
        </div>
    }
}

#[component]
fn Settings(overview: AccountOverview, actions: SettingsActions) -> impl IntoView {
    let has_phone = overview.phone.is_some();
    let phone = overview
        .phone
        .clone()
        .unwrap_or_else(|| "未設定".to_owned());
    let query = use_query_map();
    let recovery_left = move || {
        query
            .read()
            .get("recovery_left")
            .and_then(|n| n.parse::<i64>().ok())
    };
    let saved = move || query.read().get("saved").is_some();
    let password_changed = move || query.read().get("password_changed").is_some();
    let app_added = move || query.read().get("app_added").is_some();
    let app_removed = move || query.read().get("app_removed").is_some();
    view! {
        {move || recovery_left().map(|n| view! {
            <div class="notice card" role="status">
                <p>{format!("リカバリーコードでログインしました。未使用のリカバリーコードは残り{n}個です。")}</p>
                <p>"使ったコードは二度と使えません。残りが少なくなったら、リカバリーコードを再生成して新しいコードを保管してください。"</p>
                <ActionForm action=actions.show>
                    <button type="submit" class="secondary">"リカバリーコードの画面を開く"</button>
                </ActionForm>
            </div>
        })}
        {move || saved().then(|| view! { <p class="notice" role="status">"設定を保存しました。"</p> })}
        {move || app_added().then(|| view! {
            <p class="notice" role="status">"認証アプリを設定しました。二段階認証が有効なら、次回のログインから認証アプリのコードを入力します。"</p>
        })}
        {move || app_removed().then(|| view! {
            <p class="notice" role="status">"認証アプリを削除しました。記憶しているブラウザは解除されました。"</p>
        })}
        {move || password_changed().then(|| view! {
            <p class="notice" role="status">"パスワードを変更しました。ほかの端末のログインと記憶しているブラウザは解除されました。"</p>
        })}
        <section class="card" aria-labelledby="login-heading">
            <h2 id="login-heading">"ログイン情報"</h2>
            <div class="setting-row">
                <span class="row-label">"メールアドレス"</span>
                <span class="row-value">{overview.email.clone()}</span>
            </div>
            <div class="setting-row">
                <span class="row-label">"パスワード"</span>
                <span class="row-value" aria-hidden="true">"••••••••"</span>
                <a class="button-link secondary-link row-action" href=crate::urls::PASSWORD>"パスワードを変更する"</a>
            </div>
        </section>
        <section class="card" aria-labelledby="two-factor-heading">
            <h2 id="two-factor-heading">"二段階認証"</h2>
            <div class="setting-row">
                <span class="row-label">"電話番号"</span>
                <span class="row-value" data-testid="phone-value">{phone}</span>
                // A GET form: it opens the dialog by loading the page with `?dialog=phone`.
                <form method="get" action=crate::urls::SETTINGS class="row-action">
                    <input type="hidden" name="dialog" value="phone"/>
                    <button type="submit" class="secondary" id=PHONE_OPENER>"電話番号を設定する"</button>
                </form>
            </div>
            <AppRow app=overview.authenticator.clone() actions/>
            <TwoFactorSwitch saved=overview.two_factor_enabled has_phone action=actions.save/>
            <div class="setting-row">
                <span class="row-label">"リカバリーコード"</span>
                <span class="row-value hint">
                    {if overview.two_factor_enabled {
                        format!("未使用のコード: {}個", overview.recovery_codes_left)
                    } else {
                        "二段階認証が有効なときに表示できます。".to_owned()
                    }}
                </span>
                // A POST: showing the codes is recorded in the history (SEC-5), and no GET
                // may write (SEC-9). The server answers with the dialog's URL.
                <ActionForm action=actions.show attr:class="row-action">
                    <button type="submit" class="secondary" id=RECOVERY_OPENER disabled=!overview.two_factor_enabled>
                        "リカバリーコードを表示する"
                    </button>
                </ActionForm>
            </div>
            {(overview.two_factor_enabled && overview.recovery_codes_left <= 3).then(|| view! {
                <p class="warning" role="status">
                    {format!("リカバリーコードの残りが{}個です。[リカバリーコードを表示する]から再生成して、新しいコードを保管してください。", overview.recovery_codes_left)}
                </p>
            })}
        </section>
        <PasskeysSection
            passkeys=overview.passkeys.clone()
            rename=actions.rename_passkey
            remove=actions.remove_passkey
            confirm=actions.confirm_password
        />
        <RememberedBrowsers browsers=overview.remembered_browsers.clone() actions/>
        <SecurityHistory entries=overview.history.clone()/>
    }
}

/// The security history (SEC-5): what happened to the account, when, from which browser.
#[component]
fn SecurityHistory(entries: Vec<HistoryEntry>) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="history-heading">
            <h2 id="history-heading">"セキュリティ履歴"</h2>
            <p class="hint">"心当たりのない操作があれば、すぐにパスワードを変更してください。"</p>
            <ul class="history">
                {entries
                    .into_iter()
                    .map(|e| {
                        view! {
                            <li class:notable=e.notable>
                                <span class="history-what">{e.what}</span>
                                <span class="hint">{format!("{} ・ {}", e.when, e.browser)}</span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
    }
}

/// The switch and `保存する` (TF-1). A real checkbox in a form, so it saves without
/// JavaScript; with it, [`SwitchControls`] adds what the page knows in the browser.
#[component]
fn TwoFactorSwitch(
    saved: bool,
    has_phone: bool,
    action: ServerAction<SaveTwoFactor>,
) -> impl IntoView {
    let error = Signal::derive(move || {
        action
            .value()
            .get()
            .and_then(Result::err)
            .filter(|e| !asks_password(e))
    });
    view! {
        <ActionForm action attr:class="setting-row switch-row">
            <span class="row-label" id="two-factor-label">"二段階認証(SMS)"</span>
            <SwitchControls saved has_phone/>
            <p class="hint row-note" id="two-factor-hint">
                {if has_phone {
                    "スイッチを切り替えて[保存する]を押すまで、設定は保存されません。"
                } else {
                    "二段階認証を有効にするには、先に電話番号を設定してください。"
                }}
            </p>
            {(!saved).then(|| view! {
                <p class="notice row-note">"二段階認証の設定を有効にすることを強くおすすめします。"</p>
            })}
            {saved.then(|| view! {
                <p class="hint row-note">"二段階認証を無効にして再度有効にすると、リカバリーコードが再生成され、以前にメモしたコードは使えなくなります。"</p>
            })}
            <div class="row-note"><FormError error/></div>
        </ActionForm>
    }
}

/// The switch itself and `保存する`, hydrated: `保存する` is enabled only while the switch
/// differs from what is saved, `未保存の変更があります` says so, and leaving the page with
/// the change unsaved asks first ([`crate::client::leave_guard`]). The change outlives the page loads
/// that keep the person on this page (a dialog opening and closing, the password prompt of
/// `保存する`, a browser forgotten): it is stashed for the next page
/// ([`crate::client::stash`]) and taken back here.
#[island]
fn SwitchControls(saved: bool, has_phone: bool) -> impl IntoView {
    let hydrated = crate::client::hydrated();
    // What the previous page stashed, else the switch as it stands in the page: it may
    // have been moved before the wasm arrived, and hydrating it with `saved` would put it
    // back without a word. Read before the view below takes the element over, and set
    // once it has: hydration must first meet the markup the server sent (no
    // `未保存の変更があります`), or the note would never appear.
    #[cfg(feature = "hydrate")]
    let initial = crate::client::take(crate::client::SWITCH_KEY)
        .map(|value| value == "on")
        .or_else(|| {
            use leptos::wasm_bindgen::JsCast;
            document()
                .get_element_by_id(SWITCH)
                .and_then(|el| el.dyn_into::<web_sys::HtmlInputElement>().ok())
                .map(|el| el.checked())
        })
        .unwrap_or(saved);
    let desired = RwSignal::new(None::<bool>);
    #[cfg(feature = "hydrate")]
    {
        Effect::new(move |_| desired.set((initial != saved).then_some(initial)));
        Effect::new(move |_| crate::client::leave_guard::set(desired.get()));
    }
    let dirty = move || desired.get().is_some_and(|d| d != saved);
    let on = move || desired.get().unwrap_or(saved);
    view! {
        <span class="row-value">
            <input
                type="checkbox"
                role="switch"
                class="switch-input"
                name="enabled"
                value="on"
                checked=saved
                prop:checked=on
                disabled=!has_phone
                id=SWITCH
                aria-labelledby="two-factor-label"
                aria-describedby="two-factor-hint"
                on:change=move |ev| {
                    let now = event_target_checked(&ev);
                    desired.set((now != saved).then_some(now));
                }
            />
            {move || dirty().then(|| view! { <span class="unsaved">"未保存の変更があります"</span> })}
        </span>
        <button
            type="submit"
            id=SAVE_BUTTON
            class="primary row-action"
            disabled=move || !has_phone || (hydrated.get() && !dirty())
        >
            "保存する"
        </button>
    }
}

#[component]
fn RememberedBrowsers(browsers: Vec<RememberedBrowser>, actions: SettingsActions) -> impl IntoView {
    let empty = browsers.is_empty();
    view! {
        <section class="card" aria-labelledby="browsers-heading">
            <h2 id="browsers-heading">"記憶しているブラウザ"</h2>
            <p class="hint">"二段階認証を済ませたブラウザは30日間記憶され、次回からSMSの認証コードを省略します。心当たりのないものは解除してください。"</p>
            {if empty {
                view! { <p>"記憶しているブラウザはありません。"</p> }.into_any()
            } else {
                view! {
                    <ul class="browsers">
                        {browsers.into_iter().map(|b| {
                            let label = format!("{}の記憶を解除", b.label);
                            view! {
                                <li class="setting-row">
                                    <span class="row-label">{b.label.clone()}</span>
                                    <span class="row-value hint">{format!("初回使用 {} ／ 最終使用 {}", b.first_used, b.last_used)}</span>
                                    <ActionForm action=actions.forget attr:class="row-action">
                                        <input type="hidden" name="id" value=b.id.to_string()/>
                                        <button type="submit" class="secondary" aria-label=label>"解除"</button>
                                    </ActionForm>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                    <ActionForm action=actions.forget_all>
                        <button type="submit" class="secondary">"すべてのブラウザの記憶を解除"</button>
                    </ActionForm>
                }.into_any()
            }}
        </section>
    }
}
