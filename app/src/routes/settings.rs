//! `/settings`, the account settings page: the phone row (PH-1), the authenticator app
//! (MFA-1), the two-factor switch with `保存する` (TF-1, TF-2), the recovery codes (RC-1),
//! remembered browsers (LG-5). Dialogs open from the URL (`?dialog=phone|recovery|app`).
//! Signed-out visitors are sent to `/login`.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::{use_navigate, use_query_map};

use super::AuthState;
use crate::api::account::{
    AccountOverview, AuthenticatorApp, HistoryEntry, RememberedBrowser, get_account_overview,
};
use crate::api::authenticator::{ConfirmAuthenticator, RemoveAuthenticator, StartAuthenticator};
use crate::api::passkeys::{RemovePasskey, RenamePasskey};
use crate::api::two_factor::ConfirmPassword;
use crate::api::two_factor::{
    ForgetAllBrowsers, ForgetBrowser, RegenerateRecoveryCodes, SaveTwoFactor, ShowRecoveryCodes,
};
use crate::components::actions::{any_of, completions, succeeded};
use crate::components::app_dialog::{APP_OPENER, AppDialog};
use crate::components::fields::FormError;
use crate::components::modal::{CloseForm, FocusReturn, Modal};
use crate::components::passkeys::PasskeysSection;
use crate::components::phone_dialog::{PHONE_OPENER, PhoneActions, PhoneDialog};
use crate::components::reauth::{PasswordPrompt, asks_password, prompting};
use crate::components::recovery_dialog::{RECOVERY_OPENER, RecoveryDialog};
use crate::error::AppError;

/// The id of `保存する`, which gets focus back when the password prompt closes.
const SAVE_BUTTON: &str = "two-factor-save";
/// The id of `認証アプリを削除する`, likewise.
const APP_REMOVE_BUTTON: &str = "app-remove";

/// The page's actions, made inside the routes so that plain-form errors reach them.
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
    succeeded: Memo<usize>,
}

impl SettingsActions {
    fn new() -> Self {
        let save = ServerAction::<SaveTwoFactor>::new();
        let regenerate = ServerAction::<RegenerateRecoveryCodes>::new();
        let show = ServerAction::<ShowRecoveryCodes>::new();
        let forget = ServerAction::<ForgetBrowser>::new();
        let forget_all = ServerAction::<ForgetAllBrowsers>::new();
        let start_app = ServerAction::<StartAuthenticator>::new();
        let confirm_app = ServerAction::<ConfirmAuthenticator>::new();
        let remove_app = ServerAction::<RemoveAuthenticator>::new();
        let rename_passkey = ServerAction::<RenamePasskey>::new();
        let remove_passkey = ServerAction::<RemovePasskey>::new();
        let confirm_password = ServerAction::<ConfirmPassword>::new();
        let changed = any_of([
            completions(save, succeeded),
            completions(regenerate, succeeded),
            completions(forget, succeeded),
            completions(forget_all, succeeded),
            completions(confirm_app, succeeded),
            completions(remove_app, succeeded),
            completions(rename_passkey, succeeded),
            completions(remove_passkey, succeeded),
            completions(confirm_password, succeeded),
        ]);
        Self {
            save,
            regenerate,
            show,
            forget,
            forget_all,
            start_app,
            confirm_app,
            remove_app,
            rename_passkey,
            remove_passkey,
            confirm_password,
            succeeded: changed,
        }
    }

    /// Changes whenever one of them succeeds.
    fn version(&self) -> usize {
        self.succeeded.get()
    }
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let auth = expect_context::<AuthState>();
    let phone_actions = PhoneActions::new();
    let actions = SettingsActions::new();
    let query = use_query_map();
    let dialog = Memo::new(move |_| query.read().get("dialog"));
    let overview = Resource::new(
        move || {
            (
                auth.version(),
                phone_actions.version(),
                actions.version(),
                query.read().get("dialog"),
                query.read().get("done"),
                // A passkey added by the browser's own ceremony (not a server action).
                query.read().get("passkey_added"),
            )
        },
        |_| get_account_overview(),
    );
    provide_context(FocusReturn::new());
    // The switch as the person set it, kept here so that it survives the settings being
    // rebuilt (a dialog closing, a browser forgotten) until it is saved (TF-1).
    let desired = RwSignal::new(None::<bool>);
    let saves = completions(actions.save, succeeded);
    Effect::watch(move || saves.get(), move |_, _, _| desired.set(None), false);
    let switch = SwitchState { desired };
    guard_unsaved(switch);

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
                                <Settings overview=o.clone() actions switch/>
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

/// The switch's unsaved value: `None` while it shows what is saved.
#[derive(Clone, Copy)]
struct SwitchState {
    desired: RwSignal<Option<bool>>,
}

impl SwitchState {
    fn dirty(self, saved: bool) -> bool {
        self.desired.get().is_some_and(|d| d != saved)
    }
}

/// Leaving the page with an unsaved switch asks first (TF-1), on every way out: a full page
/// load or closing the tab (`beforeunload`), and the router's own navigation (a link such
/// as `パスワードを変更する`, the user menu's links and `ログアウト`), which never unloads the
/// page. See [`leave_guard`].
fn guard_unsaved(switch: SwitchState) {
    #[cfg(feature = "hydrate")]
    {
        Effect::new(move |_| leave_guard::set(switch.desired.with(Option::is_some)));
        on_cleanup(|| leave_guard::set(false));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = switch;
}

/// One set of window listeners for the whole app, installed the first time a page has
/// unsaved changes, that ask before the page is left while it has them. Links and forms
/// are caught in the capture phase, before the router's own listener sees them; a `No`
/// stops the event there.
#[cfg(feature = "hydrate")]
mod leave_guard {
    use std::cell::Cell;

    use leptos::prelude::window;
    use leptos::wasm_bindgen::{JsCast, closure::Closure};

    const QUESTION: &str = "保存されていない変更があります。このページを離れますか？";

    thread_local! {
        static UNSAVED: Cell<bool> = const { Cell::new(false) };
        static INSTALLED: Cell<bool> = const { Cell::new(false) };
    }

    pub fn set(unsaved: bool) {
        UNSAVED.with(|u| u.set(unsaved));
        if unsaved && !INSTALLED.with(|i| i.replace(true)) {
            install();
        }
    }

    fn unsaved() -> bool {
        UNSAVED.with(Cell::get)
    }

    /// Whether `ev` (a click or a submit) would take the person off this page.
    fn leaves(ev: &web_sys::Event) -> bool {
        let Some(target) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        else {
            return false;
        };
        if ev.type_() == "submit" {
            // The page's own forms stay on it; the header's `ログアウト` leaves.
            return target.closest("main").ok().flatten().is_none();
        }
        let Some(link) = target
            .closest("a[href]")
            .ok()
            .flatten()
            .and_then(|a| a.dyn_into::<web_sys::HtmlAnchorElement>().ok())
        else {
            return false;
        };
        let here = window().location().pathname().unwrap_or_default();
        link.target().is_empty() && !link.has_attribute("download") && link.pathname() != here
    }

    fn install() {
        let target = window();
        let ask = Closure::<dyn Fn(web_sys::Event)>::new(|ev: web_sys::Event| {
            if unsaved() && leaves(&ev) && !window().confirm_with_message(QUESTION).unwrap_or(true)
            {
                ev.prevent_default();
                ev.stop_immediate_propagation();
            }
        });
        for kind in ["click", "submit"] {
            let _ = target.add_event_listener_with_callback_and_bool(
                kind,
                ask.as_ref().unchecked_ref(),
                true,
            );
        }
        let unload =
            Closure::<dyn Fn(web_sys::BeforeUnloadEvent)>::new(|ev: web_sys::BeforeUnloadEvent| {
                if unsaved() {
                    ev.prevent_default();
                    ev.set_return_value("");
                }
            });
        let _ = target
            .add_event_listener_with_callback("beforeunload", unload.as_ref().unchecked_ref());
        // Listening for the life of the page, like the router's own listeners.
        ask.forget();
        unload.forget();
    }
}

/// The password dialog in front of the page when `保存する` needs it (TF-4). `確認する`
/// saves; `×` and Escape close it and leave the switch as the person set it.
#[component]
fn SavePrompt(action: ServerAction<SaveTwoFactor>, enable: bool) -> impl IntoView {
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let on_escape = Callback::new(move |()| action.clear());
    let close = move || view! { <CloseForm on_close=on_escape/> };
    view! {
        <Modal title_id="reauth-title" title="パスワードの確認" close on_escape opener=SAVE_BUTTON>
            <ActionForm action attr:class="stack">
                {enable.then(|| view! { <input type="hidden" name="enabled" value="on"/> })}
                <PasswordPrompt error pending=action.pending().into()/>
            </ActionForm>
        </Modal>
    }
}

/// The password dialog in front of the page when `認証アプリを削除する` needs it (TF-4).
#[component]
fn RemoveAppPrompt(action: ServerAction<RemoveAuthenticator>) -> impl IntoView {
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let on_escape = Callback::new(move |()| action.clear());
    let close = move || view! { <CloseForm on_close=on_escape/> };
    view! {
        <Modal title_id="reauth-title" title="パスワードの確認" close on_escape opener=APP_REMOVE_BUTTON>
            <ActionForm action attr:class="stack">
                <PasswordPrompt error pending=action.pending().into()/>
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
fn Settings(
    overview: AccountOverview,
    actions: SettingsActions,
    switch: SwitchState,
) -> impl IntoView {
    let has_phone = overview.phone.is_some();
    let phone = overview
        .phone
        .clone()
        .unwrap_or_else(|| "未設定".to_owned());
    let navigate = use_navigate();
    let query = use_query_map();
    if let Some(focus) = use_context::<FocusReturn>() {
        focus.follow();
    }
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
                // A GET form: without JavaScript it opens the dialog by loading the page with
                // `?dialog=phone`; hydrated, the router does the same without a reload.
                <form
                    method="get"
                    action=crate::urls::SETTINGS
                    class="row-action"
                    on:submit=move |ev| {
                        ev.prevent_default();
                        navigate(crate::urls::PHONE_DIALOG, Default::default());
                    }
                >
                    <input type="hidden" name="dialog" value="phone"/>
                    <button type="submit" class="secondary" id=PHONE_OPENER>"電話番号を設定する"</button>
                </form>
            </div>
            <AppRow app=overview.authenticator.clone() actions/>
            <TwoFactorSwitch saved=overview.two_factor_enabled has_phone action=actions.save switch/>
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
/// JavaScript; hydrated, `保存する` is enabled only while the switch differs from what is
/// saved, and leaving the page with an unsaved change asks first (`guard_unsaved`).
#[component]
fn TwoFactorSwitch(
    saved: bool,
    has_phone: bool,
    action: ServerAction<SaveTwoFactor>,
    switch: SwitchState,
) -> impl IntoView {
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let desired = switch.desired;
    // What is saved caught up with the switch (saved elsewhere, e.g. with the number):
    // nothing is unsaved any more.
    Effect::new(move |_| {
        if desired.get() == Some(saved) {
            desired.set(None);
        }
    });
    let dirty = move || switch.dirty(saved);
    let on = move || desired.get().unwrap_or(saved);
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
            <span class="row-value">
                <input
                    type="checkbox"
                    role="switch"
                    class="switch-input"
                    name="enabled"
                    value="on"
                    checked=on
                    prop:checked=on
                    disabled=!has_phone
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
                disabled=move || !has_phone || (hydrated.get() && !dirty()) || action.pending().get()
            >
                "保存する"
            </button>
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
