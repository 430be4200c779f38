//! `/login/verify`, the second step of signing in (LG-1..LG-3): the SMS code, or, behind
//! `認証コードを受け取れない方`, a recovery code. Both are plain forms; without a pending
//! sign-in the page sends the visitor back to the password.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::AuthState;
use crate::api::auth::{
    LoginChallenge, ResendLoginCode, VerifyLoginCode, VerifyRecoveryCode, get_login_challenge,
};
use crate::components::countdown::ResendButton;
use crate::components::fields::{CodeField, FieldError, FormError};
use crate::error::{AppError, Field};

#[component]
pub fn LoginVerifyPage() -> impl IntoView {
    let auth = expect_context::<AuthState>();
    let verify = ServerAction::<VerifyLoginCode>::new();
    let resend = ServerAction::<ResendLoginCode>::new();
    let recovery = ServerAction::<VerifyRecoveryCode>::new();
    auth.follow(move || verify.version().get() + recovery.version().get());
    let query = use_query_map();
    let challenge = Resource::new(
        move || (resend.version().get(), query.read().get("resent")),
        |_| get_login_challenge(),
    );
    view! {
        <Title text="二段階認証"/>
        <section class="card narrow">
            <h1>"二段階認証"</h1>
            <Transition fallback=|| view! { <p class="loading">"読み込み中…"</p> }>
                {move || Suspend::new(async move {
                    match challenge.await {
                        Ok(c) => {
                            let use_recovery = query.read().get("method").as_deref() == Some("recovery") || c.sms_locked;
                            if use_recovery {
                                view! { <RecoveryForm action=recovery locked=c.sms_locked/> }.into_any()
                            } else {
                                view! { <CodeForm challenge=c verify resend/> }.into_any()
                            }
                        }
                        Err(e) => {
                            // The code entered just now ended the sign-in (a plain form
                            // comes back here with that error): say why, not only that
                            // nothing is pending any more.
                            let why = verify
                                .value()
                                .get_untracked()
                                .and_then(Result::err)
                                .filter(AppError::ends_sign_in)
                                .unwrap_or(e);
                            view! {
                            <p class="form-error" role="alert">{why.to_string()}</p>
                            <p><a href=crate::urls::LOGIN>"ログイン画面に戻る"</a></p>
                            }
                            .into_any()
                        }
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn CodeForm(
    challenge: LoginChallenge,
    verify: ServerAction<VerifyLoginCode>,
    resend: ServerAction<ResendLoginCode>,
) -> impl IntoView {
    let query = use_query_map();
    let error = Signal::derive(move || verify.value().get().and_then(Result::err));
    let resend_error = Signal::derive(move || resend.value().get().and_then(Result::err));
    // Five wrong codes or ten minutes end the pending sign-in: then only the way back to
    // the password is offered, not a resend that could only fail (LG-2).
    let ended = move || error.get().is_some_and(|e| e.ends_sign_in());
    let resend_in = challenge.resend_in_secs;
    let resent = move || {
        query.read().get("resent").is_some() && resend.value().get().is_none_or(|r| r.is_ok())
    };
    view! {
        {if challenge.code_sent {
            view! {
                <p>{challenge.phone.clone()}" に送信した6桁の認証コードを入力してください。SMSの受信には2、3分かかる場合があります。"</p>
            }.into_any()
        } else {
            view! {
                <p class="form-error" role="alert">"認証コードを送信できませんでした。[再送する]を押すか、リカバリーコードでログインしてください。"</p>
            }.into_any()
        }}
        {move || resent().then(|| view! {
            <p class="notice" role="status">"新しいコードを送信しました。以前のコードは使えません。"</p>
        })}
        {move || if ended() {
            view! {
                <p class="form-error" role="alert">{error.get().map(|e| e.to_string())}</p>
                <p><a href=crate::urls::LOGIN class="button-link">"ログイン画面に戻る"</a></p>
            }.into_any()
        } else {
            view! {
                <ActionForm action=verify attr:novalidate=true attr:class="stack">
                    <CodeField error/>
                    <FormError error/>
                    <button type="submit" class="primary" disabled=move || verify.pending().get()>"認証する"</button>
                </ActionForm>
                <ActionForm action=resend attr:class="stack resend">
                    <FormError error=resend_error/>
                    <ResendButton initial_secs=resend_in pending=Signal::derive(move || resend.pending().get())/>
                </ActionForm>
                <p class="switch-link"><a href=crate::urls::LOGIN_VERIFY_RECOVERY>"認証コードを受け取れない方"</a></p>
            }.into_any()
        }}
    }
}

#[component]
fn RecoveryForm(action: ServerAction<VerifyRecoveryCode>, locked: bool) -> impl IntoView {
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let mine = Signal::derive(move || error.get().filter(|e| e.field() == Some(Field::Recovery)));
    view! {
        {locked.then(|| view! { <p class="form-error" role="alert">{AppError::SmsLocked.to_string()}</p> })}
        <p>"携帯電話を紛失した場合など、認証コードを受け取れない場合は、二段階認証を設定したときに保管したリカバリーコードでログインできます。一度使用したリカバリーコードは使えなくなります。"</p>
        <ActionForm action attr:novalidate=true attr:class="stack">
            <div class="field">
                <label for="recovery-code">"リカバリーコード"</label>
                <input
                    id="recovery-code"
                    name="code"
                    type="text"
                    autocomplete="off"
                    autocapitalize="off"
                    spellcheck="false"
                    placeholder="xxxxx-xxxxx"
                    maxlength="20"
                    required
                    autofocus
                    aria-invalid=move || mine.get().map(|_| "true")
                    aria-describedby=move || mine.get().map(|_| "recovery-error")
                />
                <FieldError id="recovery-error" error=mine/>
            </div>
            <FormError error/>
            <button type="submit" class="primary" disabled=move || action.pending().get()>"認証する"</button>
        </ActionForm>
        {(!locked).then(|| view! { <p class="switch-link"><a href=crate::urls::LOGIN_VERIFY>"SMSの認証コードを入力する"</a></p> })}
    }
}
