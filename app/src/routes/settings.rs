//! `/settings`, the account settings page: the phone row (PH-1), the two-factor row (TF-1)
//! and the recovery codes (RC-1). Signed-out visitors are sent to `/login`.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use super::AuthState;
use crate::api::account::{AccountOverview, get_account_overview};
use crate::error::AppError;

#[component]
pub fn SettingsPage() -> impl IntoView {
    let auth = expect_context::<AuthState>();
    let overview = Resource::new(move || auth.version(), |_| get_account_overview());
    view! {
        <Title text="アカウントの設定"/>
        <h1>"アカウントの設定"</h1>
        <Suspense fallback=|| view! { <p class="loading">"読み込み中…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(o) => view! { <Settings overview=o/> }.into_any(),
                    Err(AppError::Unauthenticated) => view! { <Redirect path="/login"/> }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Settings(overview: AccountOverview) -> impl IntoView {
    let has_phone = overview.phone.is_some();
    let phone = overview.phone.clone().unwrap_or_else(|| "未設定".to_owned());
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
                <span class="row-label" id="phone-label">"電話番号"</span>
                <span class="row-value" aria-labelledby="phone-label">{phone}</span>
                <button type="button" class="secondary" disabled>"電話番号を設定する"</button>
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
                <button type="button" class="primary" disabled>"保存する"</button>
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
                <button type="button" class="secondary" disabled=!overview.two_factor_enabled>
                    "リカバリーコードを表示する"
                </button>
            </div>
        </section>
    }
}
