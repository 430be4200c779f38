//! The recovery codes dialog (RC-2, RC-3): the ten codes with the used ones marked, `×`
//! (`閉じる`) at the top right, `再生成する`, and (beyond the page) copy-all and a text-file
//! download. Opened at `/settings?dialog=recovery`; asks for the password first when it was
//! not entered recently (TF-4).

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::two_factor::{
    RecoveryCodeView, RegenerateRecoveryCodes, ShowRecoveryCodes, get_recovery_codes,
};
use crate::components::fields::FormError;
use crate::components::modal::{CloseForm, Modal};
use crate::components::reauth::{PasswordPrompt, prompting};
use crate::error::AppError;
use crate::routes::ServiceName;

/// The id of `リカバリーコードを表示する` on the settings page, which gets focus back.
pub const RECOVERY_OPENER: &str = "recovery-open";
/// The id of the dialog's `×`.
const CLOSE: &str = "recovery-close";

/// The download's file name: the service's name (an operator's own, `NIDAN_SERVICE_NAME`)
/// and what the file is, without characters a file system refuses.
pub fn download_name(service: &str) -> String {
    let safe: String = service
        .chars()
        .filter(|c| {
            !matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') && !c.is_control()
        })
        .collect();
    let safe = safe.trim();
    if safe.is_empty() {
        "リカバリーコード.txt".to_owned()
    } else {
        format!("{safe}_リカバリーコード.txt")
    }
}

/// `data:` URL of a text file with the codes, for the download link (works without
/// JavaScript; the CSP governs fetches, not downloads).
fn download_href(service: &str, codes: &[RecoveryCodeView]) -> String {
    let mut text = format!(
        "{service} リカバリーコード\r\n各コードは一度だけ使えます。安全な場所に保管してください。\r\n\r\n",
    );
    for c in codes {
        text.push_str(&c.code);
        if c.used {
            text.push_str(" (使用済み)");
        }
        text.push_str("\r\n");
    }
    let encoded: String = text
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("data:text/plain;charset=utf-8,{encoded}")
}

#[component]
pub fn RecoveryDialog(
    regenerate: ServerAction<RegenerateRecoveryCodes>,
    show: ServerAction<ShowRecoveryCodes>,
) -> impl IntoView {
    let codes = Resource::new(|| (), |_| get_recovery_codes());
    let close = move || view! { <CloseForm id=CLOSE/> };
    let show_error = Signal::derive(move || show.value().get().and_then(Result::err));
    let regenerate_error = Signal::derive(move || regenerate.value().get().and_then(Result::err));
    let regenerate_refused = prompting(regenerate_error);
    view! {
        <Modal title_id="recovery-title" title="リカバリーコード" close escape=CLOSE opener=RECOVERY_OPENER>
            <Transition fallback=|| view! { <p class="loading">"読み込み中…"</p> }>
                {move || Suspend::new(async move {
                    match codes.await {
                        Ok(list) => view! { <CodeList list regenerate=Some(regenerate)/> }.into_any(),
                        // The password first (TF-4); `確認する` shows the codes, or makes
                        // new ones when that was what the person asked for (a plain form
                        // comes back here after `再生成する` was refused).
                        Err(AppError::ReauthRequired) if regenerate_refused.get_untracked() => view! {
                            <ActionForm action=regenerate attr:class="stack">
                                <PasswordPrompt error=regenerate_error/>
                            </ActionForm>
                        }.into_any(),
                        Err(AppError::ReauthRequired) => view! {
                            <ActionForm action=show attr:class="stack">
                                <PasswordPrompt error=show_error/>
                            </ActionForm>
                        }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </Modal>
    }
}

/// The codes, copy and download, and (in the recovery dialog) `再生成する`.
#[component]
pub fn CodeList(
    list: Vec<RecoveryCodeView>,
    regenerate: Option<ServerAction<RegenerateRecoveryCodes>>,
) -> impl IntoView {
    let query = use_query_map();
    let fresh = move || query.read().get("new").is_some();
    let regenerated = move || query.read().get("regenerated").is_some();

    let all_codes: String = list
        .iter()
        .filter(|c| !c.used)
        .map(|c| c.code.clone())
        .collect::<Vec<_>>()
        .join("\n");
    let service = use_context::<ServiceName>().unwrap_or_default().0;
    let href = download_href(&service, &list);
    let file_name = download_name(&service);
    view! {
        {move || fresh().then(|| view! {
            <p class="notice" role="status">"二段階認証を有効にしました。次のリカバリーコードを安全な場所に保管してください。"</p>
        })}
        {move || regenerated().then(|| view! {
            <p class="notice" role="status">"リカバリーコードを再生成しました。以前のリカバリーコードは使えません。新しいリカバリーコードを安全な場所に保管してください。"</p>
        })}
        <p class="hint">"携帯電話を紛失した場合など、認証コードを受け取れないときにログインに使います。各コードは一度だけ使えます。"</p>
        {move || (!fresh() && !regenerated()).then(|| view! {
            <p class="hint">"リカバリーコードのメモは必ず安全な場所に保管してください。"</p>
        })}
        <ol class="codes" aria-label="リカバリーコード一覧">
            {list.into_iter().map(|c| if c.used {
                view! { <li class="used"><del><code>{c.code}</code></del>" 使用済み"</li> }.into_any()
            } else {
                view! { <li><code>{c.code}</code></li> }.into_any()
            }).collect_view()}
        </ol>
        <CopyAndDownload codes=all_codes href file_name/>
        {regenerate.map(|regenerate| {
            let error = Signal::derive(move || regenerate.value().get().and_then(Result::err));
            // Refused for want of the password (TF-4): the same button's form again, with
            // the password, so that `確認する` makes the new codes.
            let prompt = prompting(error);
            move || if prompt.get() {
                view! {
                    <ActionForm action=regenerate attr:class="stack">
                        <PasswordPrompt error/>
                    </ActionForm>
                }.into_any()
            } else {
                view! {
                    <ActionForm action=regenerate attr:class="stack">
                        <FormError error/>
                        <p class="hint">"再生成すると、これまでのリカバリーコードはすべて使えなくなります。"</p>
                        <button type="submit" class="secondary">"再生成する"</button>
                    </ActionForm>
                }.into_any()
            }
        })}
    }
}

/// `すべてコピー` (the unused codes, one a line) and `ダウンロード` (a text file): an island
/// for the copy, which needs the clipboard; the download is a plain link.
#[island]
fn CopyAndDownload(codes: String, href: String, file_name: String) -> impl IntoView {
    let copied = RwSignal::new(false);
    let copy = move |_| {
        let promise = window().navigator().clipboard().write_text(&codes);
        leptos::task::spawn_local(async move {
            if wasm_bindgen_futures_await(promise).await {
                copied.set(true);
            }
        });
    };
    view! {
        <div class="dialog-actions">
            <button type="button" class="secondary" on:click=copy>"すべてコピー"</button>
            <a class="button-link secondary-link" href=href download=file_name>"ダウンロード"</a>
        </div>
        {move || copied.get().then(|| view! { <p class="notice" role="status">"コピーしました。"</p> })}
    }
}

/// Awaits a JS promise; `true` when it resolved. Only ever runs in the browser.
async fn wasm_bindgen_futures_await(promise: web_sys::js_sys::Promise) -> bool {
    #[cfg(feature = "hydrate")]
    {
        wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = promise;
        false
    }
}
