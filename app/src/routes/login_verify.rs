//! `/login/verify`, the second step of signing in (LG-1..LG-3, MFA-3): the authenticator
//! app's code when the account has one, else the SMS code; `別の方法を使う` (`?method=choose`)
//! offers the others, and `認証コードを受け取れない方` (`?method=recovery`) a recovery code.
//! All are plain forms; without a pending sign-in the page sends the visitor back to the
//! password.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::auth::{
    Factor, LoginChallenge, ResendLoginCode, UseAppCode, UsePasskey, UseSmsCode, VerifyAppCode,
    VerifyLoginCode, VerifyRecoveryCode, finish_passkey_sign_in, get_login_challenge,
    start_passkey_sign_in,
};
use crate::components::countdown::ResendButton;
use crate::components::fields::{CodeField, FieldError, FormError};
use crate::error::{AppError, Field};

#[component]
pub fn LoginVerifyPage() -> impl IntoView {
    let verify = ServerAction::<VerifyLoginCode>::new();
    let resend = ServerAction::<ResendLoginCode>::new();
    let recovery = ServerAction::<VerifyRecoveryCode>::new();
    let verify_app = ServerAction::<VerifyAppCode>::new();
    let use_sms = ServerAction::<UseSmsCode>::new();
    let use_app = ServerAction::<UseAppCode>::new();
    let use_passkey = ServerAction::<UsePasskey>::new();
    let query = use_query_map();
    let challenge = Resource::new(|| (), |_| get_login_challenge());
    view! {
        <Title text="二段階認証"/>
        <section class="card narrow">
            <h1>"二段階認証"</h1>
            <Transition fallback=|| view! { <p class="loading">"読み込み中…"</p> }>
                {move || Suspend::new(async move {
                    match challenge.await {
                        Ok(c) => {
                            let method = query.read().get("method");
                            let choosing = method.as_deref() == Some("choose");
                            // Locked codes leave the recovery code, and a passkey (it
                            // cannot be guessed, so the lock does not cover it).
                            let locked_out = c.sms_locked
                                && c.factor != Factor::Passkey
                                && !(choosing && c.has_passkey);
                            if method.as_deref() == Some("recovery") || locked_out {
                                view! {
                                    <RecoveryForm
                                        action=recovery
                                        locked=c.sms_locked
                                        has_app=c.has_app || c.has_passkey
                                        has_passkey=c.has_passkey
                                    />
                                }.into_any()
                            } else if choosing {
                                view! { <Chooser challenge=c use_sms use_app use_passkey/> }.into_any()
                            } else if c.factor == Factor::Passkey {
                                view! { <PasskeyForm/> }.into_any()
                            } else if c.factor == Factor::App {
                                view! { <AppCodeForm action=verify_app/> }.into_any()
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
                                .or_else(|| verify_app.value().get_untracked().and_then(Result::err))
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
    let has_app = challenge.has_app || challenge.has_passkey;
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
                    <button type="submit" class="primary">"認証する"</button>
                </ActionForm>
                <ActionForm action=resend attr:class="stack resend">
                    <FormError error=resend_error/>
                    <ResendButton initial_secs=resend_in/>
                </ActionForm>
                <p class="switch-link"><a href=crate::urls::LOGIN_VERIFY_RECOVERY>"認証コードを受け取れない方"</a></p>
                {has_app.then(|| view! {
                    <p class="switch-link"><a href=crate::urls::LOGIN_VERIFY_CHOOSE>"別の方法を使う"</a></p>
                })}
            }.into_any()
        }}
    }
}

/// The authenticator app's code (MFA-1).
#[component]
fn AppCodeForm(action: ServerAction<VerifyAppCode>) -> impl IntoView {
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    view! {
        <p>"認証アプリに表示されている6桁のコードを入力してください。"</p>
        <ActionForm action attr:novalidate=true attr:class="stack">
            <CodeField error/>
            <FormError error/>
            <button type="submit" class="primary">"認証する"</button>
        </ActionForm>
        <p class="switch-link"><a href=crate::urls::LOGIN_VERIFY_CHOOSE>"別の方法を使う"</a></p>
    }
}

/// A passkey (MFA-2): the browser asks for it; needs JavaScript, so it is an island.
#[island]
fn PasskeyForm() -> impl IntoView {
    let ready = crate::client::hydrated();
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<AppError>);
    let go = move |_| {
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let result = passkey_sign_in().await;
            busy.set(false);
            match result {
                // A full load, so that every part of the page sees the new session.
                Ok(()) => {
                    let _ = window().location().set_href(crate::urls::SETTINGS);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <p>"登録したパスキーでログインを確認してください。"</p>
        <div class="stack">
            <FormError error=error.into()/>
            <button type="button" class="primary" on:click=go disabled=move || !ready.get() || busy.get()>
                "パスキーでログイン"
            </button>
            {move || (!ready.get()).then(|| view! {
                <p class="hint">"パスキーでのログインにはJavaScriptが必要です。[別の方法を使う]から、ほかの方法でログインできます。"</p>
            })}
        </div>
        <p class="switch-link"><a href=crate::urls::LOGIN_VERIFY_CHOOSE>"別の方法を使う"</a></p>
    }
}

/// Asks the browser for the passkey's signature and completes the sign-in.
async fn passkey_sign_in() -> Result<(), AppError> {
    let options = start_passkey_sign_in().await?;
    #[cfg(feature = "hydrate")]
    {
        let credential = crate::components::passkeys::browser::get(options)
            .await
            .ok_or(AppError::PasskeyRefused)?;
        finish_passkey_sign_in(credential).await
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (options, finish_passkey_sign_in);
        Err(AppError::PasskeyRefused)
    }
}

/// `別の方法を使う` (MFA-3): each factor the account has, and the recovery code. Choosing
/// SMS sends a code (a POST); nothing is sent by opening this list.
#[component]
fn Chooser(
    challenge: LoginChallenge,
    use_sms: ServerAction<UseSmsCode>,
    use_app: ServerAction<UseAppCode>,
    use_passkey: ServerAction<UsePasskey>,
) -> impl IntoView {
    let sms_error = Signal::derive(move || use_sms.value().get().and_then(Result::err));
    let app_error = Signal::derive(move || use_app.value().get().and_then(Result::err));
    let passkey_error = Signal::derive(move || use_passkey.value().get().and_then(Result::err));
    view! {
        <p>"ログインに使う方法を選んでください。"</p>
        <ul class="choices">
            {challenge.has_passkey.then(|| view! {
                <li>
                    <ActionForm action=use_passkey attr:class="stack">
                        <FormError error=passkey_error/>
                        <button type="submit" class="secondary">"パスキーを使う"</button>
                    </ActionForm>
                </li>
            })}
            {challenge.has_app.then(|| view! {
                <li>
                    <ActionForm action=use_app attr:class="stack">
                        <FormError error=app_error/>
                        <button type="submit" class="secondary">"認証アプリのコードを入力する"</button>
                    </ActionForm>
                </li>
            })}
            <li>
                <ActionForm action=use_sms attr:class="stack">
                    <FormError error=sms_error/>
                    <button type="submit" class="secondary" aria-describedby="sms-choice-hint">"SMSで認証コードを受け取る"</button>
                    <p class="hint" id="sms-choice-hint">{format!("{} に6桁の認証コードを送信します。", challenge.phone)}</p>
                </ActionForm>
            </li>
            <li><a href=crate::urls::LOGIN_VERIFY_RECOVERY>"リカバリーコードを使う"</a></li>
        </ul>
    }
}

#[component]
fn RecoveryForm(
    action: ServerAction<VerifyRecoveryCode>,
    locked: bool,
    has_app: bool,
    /// A passkey is not locked with the codes: offered even then.
    has_passkey: bool,
) -> impl IntoView {
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
            <button type="submit" class="primary">"認証する"</button>
        </ActionForm>
        {(!locked && !has_app).then(|| view! { <p class="switch-link"><a href=crate::urls::LOGIN_VERIFY>"SMSの認証コードを入力する"</a></p> })}
        {((!locked && has_app) || (locked && has_passkey)).then(|| view! { <p class="switch-link"><a href=crate::urls::LOGIN_VERIFY_CHOOSE>"別の方法を使う"</a></p> })}
    }
}
