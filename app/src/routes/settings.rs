//! `/settings`, the account settings page: the phone row (PH-1), the two-factor switch with
//! `保存する` (TF-1, TF-2), the recovery codes (RC-1), remembered browsers (LG-5). Dialogs
//! open from the URL (`?dialog=phone|recovery`). Signed-out visitors are sent to `/login`.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::{use_navigate, use_query_map};

use super::AuthState;
use crate::api::account::{AccountOverview, HistoryEntry, RememberedBrowser, get_account_overview};
use crate::api::phone::DIALOG_URL;
use crate::api::two_factor::{
    ForgetAllBrowsers, ForgetBrowser, RegenerateRecoveryCodes, SaveTwoFactor, ShowRecoveryCodes,
};
use crate::components::actions::{any_of, completions, succeeded};
use crate::components::fields::FormError;
use crate::components::phone_dialog::{PhoneActions, PhoneDialog};
use crate::components::reauth::ReauthDialog;
use crate::components::recovery_dialog::RecoveryDialog;
use crate::error::AppError;

/// The page's actions, made inside the routes so that plain-form errors reach them.
#[derive(Clone, Copy)]
struct SettingsActions {
    save: ServerAction<SaveTwoFactor>,
    regenerate: ServerAction<RegenerateRecoveryCodes>,
    show: ServerAction<ShowRecoveryCodes>,
    forget: ServerAction<ForgetBrowser>,
    forget_all: ServerAction<ForgetAllBrowsers>,
    succeeded: Memo<usize>,
}

impl SettingsActions {
    fn new() -> Self {
        let save = ServerAction::<SaveTwoFactor>::new();
        let regenerate = ServerAction::<RegenerateRecoveryCodes>::new();
        let show = ServerAction::<ShowRecoveryCodes>::new();
        let forget = ServerAction::<ForgetBrowser>::new();
        let forget_all = ServerAction::<ForgetAllBrowsers>::new();
        let changed = any_of([
            completions(save, succeeded),
            completions(regenerate, succeeded),
            completions(forget, succeeded),
            completions(forget_all, succeeded),
        ]);
        Self {
            save,
            regenerate,
            show,
            forget,
            forget_all,
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
            )
        },
        |_| get_account_overview(),
    );

    // Focus goes back to the button that opened the phone dialog when it closes. The
    // settings may re-render after the close (their data is refetched), so the button takes
    // the focus when it is mounted with this flag set.
    let refocus = RwSignal::new(false);
    Effect::watch(
        move || dialog.get(),
        move |open, was_open, _| {
            if open.is_none() && matches!(was_open, Some(Some(d)) if d == "phone") {
                refocus.set(true);
            }
        },
        false,
    );
    let needs_reauth = move || {
        actions.save.value().get().and_then(Result::err) == Some(AppError::ReauthRequired)
            || actions.regenerate.value().get().and_then(Result::err)
                == Some(AppError::ReauthRequired)
    };

    view! {
        <Title text="アカウントの設定"/>
        <h1>"アカウントの設定"</h1>
        <Transition fallback=|| view! { <p class="loading">"読み込み中…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(o) => {
                        let open = dialog.get();
                        view! {
                            <Settings overview=o.clone() refocus actions/>
                            {(open.as_deref() == Some("phone")).then(|| view! { <PhoneDialog overview=o actions=phone_actions/> })}
                            {(open.as_deref() == Some("recovery")).then(|| view! { <RecoveryDialog regenerate=actions.regenerate/> })}
                            {move || (needs_reauth() && dialog.get().is_none()).then(|| view! { <ReauthDialog then="/settings"/> })}
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
fn Settings(
    overview: AccountOverview,
    refocus: RwSignal<bool>,
    actions: SettingsActions,
) -> impl IntoView {
    let has_phone = overview.phone.is_some();
    let phone = overview
        .phone
        .clone()
        .unwrap_or_else(|| "未設定".to_owned());
    let navigate = use_navigate();
    let query = use_query_map();
    let phone_button = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |_| {
        if refocus.get()
            && let Some(button) = phone_button.get()
        {
            let _ = button.focus();
            refocus.set(false);
        }
    });
    let recovery_left = move || {
        query
            .read()
            .get("recovery_left")
            .and_then(|n| n.parse::<i64>().ok())
    };
    let saved = move || query.read().get("saved").is_some();
    let password_changed = move || query.read().get("password_changed").is_some();
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
                <a class="button-link secondary-link row-action" href="/settings/password">"パスワードを変更する"</a>
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
                    <button type="submit" class="secondary" disabled=!overview.two_factor_enabled>
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
/// saved, and leaving the page with an unsaved change asks first.
#[component]
fn TwoFactorSwitch(
    saved: bool,
    has_phone: bool,
    action: ServerAction<SaveTwoFactor>,
) -> impl IntoView {
    let desired = RwSignal::new(saved);
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let dirty = move || desired.get() != saved;
    let error = Signal::derive(move || {
        action
            .value()
            .get()
            .and_then(Result::err)
            .filter(|e| *e != AppError::ReauthRequired)
    });
    let _unload = window_event_listener(leptos::ev::beforeunload, move |ev| {
        if desired.get_untracked() != saved {
            ev.prevent_default();
            ev.set_return_value("");
        }
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
                    checked=saved
                    disabled=!has_phone
                    aria-labelledby="two-factor-label"
                    aria-describedby="two-factor-hint"
                    on:change=move |ev| desired.set(event_target_checked(&ev))
                />
                {move || dirty().then(|| view! { <span class="unsaved">"未保存の変更があります"</span> })}
            </span>
            <button
                type="submit"
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
