//! The front page: what two-step verification is, in the words of the help page.

use leptos::prelude::*;
use leptos_meta::Title;

use super::UserResource;
use crate::error::AppError;

#[component]
pub fn HomePage() -> impl IntoView {
    let user = expect_context::<UserResource>();
    // A form posted without saying where it came from (no `Referer`) is sent back here
    // with its error in the URL; this page has no form of its own to show it by.
    let query = leptos_router::hooks::use_query_map();
    let stray_error = move || {
        query.with(|q| q.get("__err")).map(|e| {
            leptos::server_fn::error::ServerFnUrlError::<AppError>::decode_err(&e).to_string()
        })
    };
    view! {
        <Title text=""/>
        {move || stray_error().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
        <section class="hero">
            <h1>"二段階認証でアカウントを守る"</h1>
            <p>
                "二段階認証とは、通常のログインで使用するID/パスワードの他に、SMS認証を追加することで、"
                "不正アクセスを防止する仕組みです。"
            </p>
            <p>
                "同じブラウザからの接続の場合、2回目以降の二段階認証は省略されるため、"
                "普段お使いのブラウザでの操作は面倒にはなりません。"
            </p>
            <p class="note">"※二段階認証は日本国内でのみご利用いただけます。海外発行の電話番号では設定いただけません。"</p>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match user.await {
                        Ok(Some(_)) => view! {
                            <p><a class="button-link" href=crate::urls::SETTINGS>"アカウントの設定へ"</a></p>
                        }.into_any(),
                        _ => view! {
                            <p class="actions">
                                <a class="button-link" href=crate::urls::SIGNUP>"新規登録"</a>
                                <a href=crate::urls::LOGIN>"ログイン"</a>
                            </p>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
