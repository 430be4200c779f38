//! The authenticator app dialog (MFA-1): the QR code (drawn on the server, so it shows
//! without JavaScript), the key as text for apps that cannot scan, and the app's code to
//! confirm. Opened at `/settings?dialog=app` by `認証アプリを設定する`; asks for the
//! password first when it was not entered recently (TF-4).

use leptos::prelude::*;

use crate::api::authenticator::{
    AppEnrolment, ConfirmAuthenticator, StartAuthenticator, get_authenticator_enrolment,
};
use crate::components::fields::{CodeField, FormError};
use crate::components::modal::{CloseForm, Modal};
use crate::components::reauth::PasswordPrompt;
use crate::error::AppError;

/// The id of `認証アプリを設定する` on the settings page, which gets focus back.
pub const APP_OPENER: &str = "app-open";
/// The id of the dialog's `×`.
const CLOSE: &str = "app-close";

#[component]
pub fn AppDialog(
    start: ServerAction<StartAuthenticator>,
    confirm: ServerAction<ConfirmAuthenticator>,
) -> impl IntoView {
    let enrolment = Resource::new(|| (), |_| get_authenticator_enrolment());
    let close = move || view! { <CloseForm id=CLOSE/> };
    let start_error = Signal::derive(move || start.value().get().and_then(Result::err));
    let confirm_error = Signal::derive(move || confirm.value().get().and_then(Result::err));
    view! {
        <Modal title_id="app-title" title="認証アプリを設定する" close escape=CLOSE opener=APP_OPENER>
            <Transition fallback=|| view! { <p class="loading">"読み込み中…"</p> }>
                {move || Suspend::new(async move {
                    match enrolment.await {
                        Ok(enrolment) => view! { <Enrolment enrolment confirm error=confirm_error/> }.into_any(),
                        // The password first (TF-4); `確認する` makes the key and shows it.
                        Err(AppError::ReauthRequired) => view! {
                            <ActionForm action=start attr:class="stack">
                                <PasswordPrompt error=start_error/>
                            </ActionForm>
                        }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </Modal>
    }
}

#[component]
fn Enrolment(
    enrolment: AppEnrolment,
    confirm: ServerAction<ConfirmAuthenticator>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    // The renderer's XML declaration means nothing inside HTML.
    let svg = enrolment
        .qr_svg
        .find("<svg")
        .map(|at| enrolment.qr_svg[at..].to_owned())
        .unwrap_or_default();
    view! {
        <p>"スマートフォンの認証アプリ(Google Authenticator、Microsoft Authenticator など)で、次のQRコードを読み取ってください。"</p>
        <div class="qr-code" role="img" aria-label="認証アプリ用のQRコード" inner_html=svg></div>
        <p class="hint">"QRコードを読み取れない場合は、アプリに次のセットアップキーを入力してください(時間ベース、6桁)。"</p>
        <p class="setup-key">
            <span class="row-label" id="setup-key-label">"セットアップキー"</span>
            <code aria-labelledby="setup-key-label" data-testid="setup-key">{enrolment.key}</code>
        </p>
        <p>"アプリに表示された6桁のコードを入力して、[設定する]を押してください。"</p>
        <ActionForm action=confirm attr:novalidate=true attr:class="stack">
            <CodeField error/>
            <FormError error/>
            <button type="submit" class="primary">"設定する"</button>
        </ActionForm>
    }
}
