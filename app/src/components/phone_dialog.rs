//! The dialog of `電話番号を設定する` (PH-2, PH-5, PH-7..PH-9): the number, then the code,
//! then success. Which step shows is decided by the server (is a code pending?) and the URL
//! (`?dialog=phone`, `&done=1`), so every step also works as a plain form without
//! JavaScript. Closing before success, by `×`, `キャンセル` or Escape, abandons the attempt on
//! the server, and the next open starts from the number.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::account::{AccountOverview, PendingPhone, TypedPhone};
use crate::api::phone::{AbandonPhoneCode, ResendPhoneCode, SendPhoneCode, VerifyPhoneCode};
use crate::api::two_factor::ConfirmPassword;
use crate::components::countdown::ResendButton;
use crate::components::fields::{CodeField, FieldError, FormError};
use crate::components::modal::Modal;
use crate::components::reauth::PasswordPrompt;
use crate::components::recovery_dialog::CodeList;

/// Two-factor was turned on with the number: its new recovery codes (RC-2).
#[component]
fn FreshCodes() -> impl IntoView {
    let codes = Resource::new(|| (), |_| crate::api::two_factor::get_recovery_codes());
    view! {
        <p class="notice">"二段階認証を有効にしました。次のリカバリーコードを安全な場所に保管してください。"</p>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                codes.await.ok().map(|list| view! { <CodeList list regenerate=None/> })
            })}
        </Suspense>
    }
}
use crate::error::{AppError, Field};

/// The dialog's actions. Created by the settings page, inside the router's routes, so that
/// the error a form carried back in the URL reaches the one it belongs to.
#[derive(Clone, Copy)]
pub struct PhoneActions {
    pub send: ServerAction<SendPhoneCode>,
    pub resend: ServerAction<ResendPhoneCode>,
    pub verify: ServerAction<VerifyPhoneCode>,
    pub abandon: ServerAction<AbandonPhoneCode>,
    /// The password asked before the number step (TF-4).
    pub confirm: ServerAction<ConfirmPassword>,
}

/// Errors after which the server has no pending code any more.
fn ends_attempt(e: &AppError) -> bool {
    matches!(
        e,
        AppError::CodeAttemptsExhausted
            | AppError::CodeExpired
            | AppError::PhoneTaken
            | AppError::NoPendingVerification
    )
}

impl PhoneActions {
    pub fn new() -> Self {
        Self {
            send: ServerAction::new(),
            resend: ServerAction::new(),
            verify: ServerAction::new(),
            abandon: ServerAction::new(),
            confirm: ServerAction::new(),
        }
    }
}

impl Default for PhoneActions {
    fn default() -> Self {
        Self::new()
    }
}

const ABANDON_FORM: &str = "phone-abandon";
/// The success step's `閉じる`.
const SUCCESS_CLOSE: &str = "phone-close";

/// The error of an action's last run, if it failed.
fn error_of(
    value: impl Fn() -> Option<Result<(), AppError>> + Send + Sync + 'static,
) -> Signal<Option<AppError>> {
    Signal::derive(move || value().and_then(Result::err))
}

#[component]
pub fn PhoneDialog(overview: AccountOverview, actions: PhoneActions) -> impl IntoView {
    let query = use_query_map();
    // Which step shows is decided by the server's state and the URL.
    let succeeded = query.read_untracked().get("done").is_some() && overview.phone.is_some();
    // Escape abandons the attempt, or after success closes the dialog.
    let escape = if succeeded {
        SUCCESS_CLOSE
    } else {
        ABANDON_FORM
    };
    let with_codes =
        query.read_untracked().get("two_factor").is_some() && overview.two_factor_enabled;
    let step = if succeeded {
        view! { <SuccessStep phone=overview.phone.clone().unwrap_or_default() with_codes/> }
            .into_any()
    } else if let Some(pending) = overview.pending_phone.clone() {
        view! { <CodeStep pending actions/> }.into_any()
    } else {
        view! { <NumberStep actions reauth_needed=overview.reauth_needed typed=overview.typed_phone.clone()/> }.into_any()
    };
    // Closing before success abandons the attempt (PH-9); after it, nothing to abandon.
    let close = move || {
        (!succeeded).then(|| {
            view! {
                <ActionForm action=actions.abandon attr:id=ABANDON_FORM>
                    <button type="submit" class="close" aria-label="閉じる">"×"</button>
                </ActionForm>
            }
        })
    };
    // Named by its visible title, as a screen reader user expects. (Its name contains
    // 電話番号, so a test that looks for the field labelled 電話番号 asks for the exact label.)
    view! {
        <Modal title_id="phone-dialog-title" title="電話番号を設定する" close escape opener=PHONE_OPENER>
            {step}
        </Modal>
    }
}

/// The id of `電話番号を設定する` on the settings page, which gets focus back.
pub const PHONE_OPENER: &str = "phone-open";

#[component]
fn NumberStep(
    actions: PhoneActions,
    reauth_needed: bool,
    typed: Option<TypedPhone>,
) -> impl IntoView {
    let error = error_of(move || actions.send.value().get());
    // Why the previous attempt ended (5 wrong codes, expiry, …), until a new code is sent.
    let ended = move || {
        actions
            .verify
            .value()
            .get()
            .and_then(Result::err)
            .filter(ends_attempt)
    };
    let confirm_error = error_of(move || actions.confirm.value().get());
    view! {
        {move || ended().map(|e| view! { <p class="form-error" role="alert">{e.to_string()}</p> })}
        {move || {
            // The number typed before the password was asked, kept by the server.
            let waiting = if reauth_needed { typed.clone() } else { None };
            if let Some(last) = waiting {
                view! {
                    <ActionForm action=actions.send attr:class="stack">
                        <p>{last.number.clone()}" に認証コードを送信します。"</p>
                        <input type="hidden" name="phone" value=last.number/>
                        {last.enable_two_factor.then(|| view! { <input type="hidden" name="enable_two_factor" value="on"/> })}
                        <PasswordPrompt error/>
                    </ActionForm>
                }
                .into_any()
            } else if reauth_needed {
                // Asked before anything is typed, so nothing can be lost.
                view! {
                    <ActionForm action=actions.confirm attr:class="stack">
                        <input type="hidden" name="then" value=crate::urls::PHONE_DIALOG/>
                        <PasswordPrompt error=confirm_error/>
                    </ActionForm>
                }
                .into_any()
            } else {
                view! { <NumberForm actions error/> }.into_any()
            }
        }}
    }
}

#[component]
fn NumberForm(actions: PhoneActions, error: Signal<Option<AppError>>) -> impl IntoView {
    let mine = super::fields::only(error, Field::Phone);
    view! {
        <ActionForm action=actions.send attr:novalidate=true attr:class="stack">
            <div class="field">
                <label for="phone">"電話番号"</label>
                <input
                    id="phone"
                    name="phone"
                    type="tel"
                    inputmode="tel"
                    autocomplete="tel-national"
                    placeholder="090-1234-5678"
                    maxlength="30"
                    required
                    autofocus
                    aria-invalid=move || mine.get().map(|_| "true")
                    aria-describedby=move || if mine.get().is_some() { "phone-error phone-hint" } else { "phone-hint" }
                />
                <FieldError id="phone-error" error=mine/>
            </div>
            <div class="hint" id="phone-hint">
                <p>"SMSが受信できる携帯電話の番号を入力してください。[送信する]を押すと、入力した電話番号に6桁の認証コードが届きます。"</p>
                <p>"固定電話やSMSサービスを提供していない携帯電話プランなどではSMSを受信できません。SMSの受信には2、3分かかる場合があります。"</p>
                <p>"二段階認証は日本国内でのみご利用いただけます。国内在住者でも海外で発行された番号は利用できません。"</p>
                <p>"一度設定した電話番号は、変更はできますが削除はできません。"</p>
            </div>
            <label class="checkbox">
                <input type="checkbox" name="enable_two_factor" value="on"/>
                "二段階認証も有効にする"
            </label>
            <FormError error/>
            <div class="dialog-actions">
                <button type="submit" form=ABANDON_FORM class="secondary">"キャンセル"</button>
                <button type="submit" class="primary">"送信する"</button>
            </div>
        </ActionForm>
    }
}

#[component]
fn CodeStep(pending: PendingPhone, actions: PhoneActions) -> impl IntoView {
    let query = use_query_map();
    let resent = move || {
        query.read().get("resent").is_some()
            && actions.resend.value().get().is_none_or(|r| r.is_ok())
    };
    let verify_error = error_of(move || actions.verify.value().get());
    let resend_error = error_of(move || actions.resend.value().get());

    view! {
        <p>{pending.number.clone()}" に認証コードを送信しました。SMSの受信には2、3分かかる場合があります。"</p>
        {move || resent().then(|| view! {
            <p class="notice" role="status">"新しいコードを送信しました。以前のコードは使えません。"</p>
        })}
        <ActionForm action=actions.verify attr:novalidate=true attr:class="stack">
            <CodeField error=verify_error/>
            <FormError error=verify_error/>
            <button type="submit" class="primary">"認証する"</button>
        </ActionForm>
        <ActionForm action=actions.resend attr:class="stack resend">
            <FormError error=resend_error/>
            <FieldError id="resend-error" error=Signal::derive(move || resend_error.get().filter(|e| e.field().is_some()))/>
            <div class="dialog-actions">
                <button type="submit" form=ABANDON_FORM class="secondary">"キャンセル"</button>
                <ResendButton initial_secs=pending.resend_in_secs/>
            </div>
        </ActionForm>
    }
}

#[component]
fn SuccessStep(phone: String, with_codes: bool) -> impl IntoView {
    view! {
        <p class="notice" role="status">"電話番号を設定しました。"</p>
        <p class="phone-number">{phone}</p>
        {with_codes.then(|| view! { <FreshCodes/> })}
        // A plain GET back to the settings.
        <form method="get" action=crate::urls::SETTINGS class="dialog-actions" id=SUCCESS_CLOSE>
            <button type="submit" class="primary" autofocus>"閉じる"</button>
        </form>
    }
}
