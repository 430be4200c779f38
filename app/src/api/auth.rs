//! Signing up, in and out (ACC-1, ACC-3).

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use serde::{Deserialize, Serialize};

pub use crate::domain::Factor;
use crate::error::AppError;

/// Who is signed in, as the header shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub email: String,
}

/// Creates an account and signs it in, then goes to the settings page.
#[server(prefix = "/api", endpoint = "sign_up")]
pub async fn sign_up(email: String, password: String) -> Result<(), AppError> {
    use crate::domain::{Email, Password};
    use crate::server::services::{accounts, throttle};
    use crate::server::{auth_session, web};

    web::finish(
        async {
            let state = web::state()?;
            let session = web::session().await?;
            let email = Email::parse(&email)?;
            let password = Password::new(password)?;
            let now = state.clock.now();
            web::hashing_room(&state)?;
            // Every sign-up costs an argon2 hash: past a number per IP, they slow down.
            let scope = [(
                format!("signup-{}", throttle::ip_scope(&web::client_ip())),
                state.settings.signup_free_per_ip,
            )];
            let counted = throttle::begin_attempt(&state, &scope, now).await?;
            let slot = web::hashing_place(&state, counted).await?.0;
            let user = accounts::sign_up(&state, slot, &email, &password, now).await?;
            auth_session::sign_in(&session, user, now).await?;
            // The account was made just now, with its password.
            web::know_device(&state, user, Some(now));
            leptos_axum::redirect(crate::urls::SETTINGS);
            Ok(())
        }
        .await,
    )
}

/// Signs in with email and password. With two-factor on, and unless this browser is
/// remembered, a pending sign-in starts and a code goes out by SMS (LG-1).
#[server(prefix = "/api", endpoint = "log_in")]
pub async fn log_in(email: String, password: String) -> Result<(), AppError> {
    use crate::server::services::login::{self, LoginStep, PasswordSignIn};
    use crate::server::{auth_session, web};

    web::finish(
        async {
            let state = web::state()?;
            let session = web::session().await?;
            let now = state.clock.now();
            let (device, browser) = (
                web::cookie(web::DEVICE_COOKIE),
                web::cookie(web::BROWSER_COOKIE),
            );
            let requester = web::requester(&state);
            let input = PasswordSignIn {
                email: &email,
                password,
                device_cookie: device.as_deref(),
                browser_cookie: browser.as_deref(),
                requester: &requester,
            };
            let accepted = login::sign_in(&state, input, now).await?;
            let user = accepted.user;
            if accepted.new_device {
                web::know_device(&state, user, accepted.password_changed_at);
            }
            match accepted.next {
                LoginStep::SignedIn => {
                    auth_session::sign_in(&session, user, now).await?;
                    web::note(&state, user, crate::domain::SecurityEvent::SignedIn).await;
                    tracing::info!(user = user.0, "signed in");
                    leptos_axum::redirect(crate::urls::SETTINGS);
                }
                LoginStep::SecondFactor(factor) => {
                    auth_session::start_pending(&session, user, now).await?;
                    auth_session::set_pending_factor(&session, factor).await?;
                    if factor == Factor::Sms
                        && let Some(id) =
                            login::send_first_code(&state, user, &requester, now).await
                    {
                        auth_session::set_pending_code(&session, id).await?;
                    }
                    leptos_axum::redirect(crate::urls::LOGIN_VERIFY);
                }
            }
            Ok(())
        }
        .await,
    )
}

/// What the code page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginChallenge {
    /// The registered number, masked (`090-****-5678`).
    pub phone: String,
    /// A code is out and can be entered.
    pub code_sent: bool,
    pub resend_in_secs: u64,
    /// Too many wrong codes: a recovery code helps now, or the lock ends after a day (SEC-1).
    pub sms_locked: bool,
    /// The factor this browser's sign-in asks for now (MFA-3).
    pub factor: Factor,
    /// The account has an authenticator app: `別の方法を使う` offers it beside SMS.
    pub has_app: bool,
    /// The account has a passkey: `別の方法を使う` offers it too.
    pub has_passkey: bool,
}

#[server(prefix = "/api", endpoint = "login_challenge", input = GetUrl)]
pub async fn get_login_challenge() -> Result<LoginChallenge, AppError> {
    use crate::server::services::login;
    use crate::server::{auth_session, web};

    web::finish(
        async {
            let (state, session, user, now) = pending_step().await?;
            let code = auth_session::pending_code(&session).await?;
            let challenge = login::challenge(&state, user, code, now).await?;
            let factor = match auth_session::pending_factor(&session).await? {
                // The factor was removed meanwhile: the strongest one left.
                Factor::Passkey if !challenge.has_passkey => {
                    Factor::strongest(false, challenge.has_app)
                }
                Factor::App if !challenge.has_app => Factor::Sms,
                factor => factor,
            };
            Ok(LoginChallenge {
                factor,
                has_app: challenge.has_app,
                has_passkey: challenge.has_passkey,
                phone: challenge.phone.masked(),
                code_sent: challenge.pending.is_some(),
                resend_in_secs: challenge
                    .pending
                    .map(|p| now.secs_until(p.resend_available_at(&state.settings.sms_limits)))
                    .unwrap_or(0),
                sms_locked: challenge.sms_locked,
            })
        }
        .await,
    )
}

/// What every step of a pending sign-in starts with: the state, the session, the account
/// of this browser's pending sign-in and the time — if the pending sign-in is still live:
/// not expired, and not started before the password last changed (a password change
/// voids waiting sign-ins). `NoPendingLogin` otherwise.
#[cfg(feature = "ssr")]
async fn pending_step() -> Result<crate::server::web::AccountStep, AppError> {
    use crate::server::services::login;
    use crate::server::{auth_session, db::users, web};

    let state = web::state()?;
    let session = web::session().await?;
    let now = state.clock.now();
    let (user, since) = auth_session::pending_sign_in(&session, now, login::PENDING_TTL).await?;
    if users::password_changed_at(&state.db, user)
        .await?
        .is_some_and(|changed| changed > since)
    {
        auth_session::end_pending(&session).await?;
        return Err(AppError::NoPendingLogin);
    }
    Ok((state, session, user, now))
}

/// Completes a pending sign-in: a fresh session, written to the store now (so that a
/// failure is seen here, while the spent code can still be given back), then this browser
/// remembered (LG-4) and the history.
#[cfg(feature = "ssr")]
async fn complete_sign_in(
    state: &crate::server::AppState,
    session: &tower_sessions::Session,
    user: crate::server::db::users::UserId,
    now: crate::domain::Timestamp,
    event: crate::domain::SecurityEvent,
) -> Result<(), AppError> {
    use crate::server::services::browsers;
    use crate::server::{auth_session, web};

    auth_session::sign_in(session, user, now).await?;
    auth_session::persist(session).await?;
    match browsers::remember(state, user, &web::user_agent(), now).await {
        Ok(token) => web::set_browser_cookie(state, token.as_str(), browsers::REMEMBER_FOR),
        Err(e) => tracing::warn!(error = %e, "could not remember the browser"),
    }
    web::note(state, user, event).await;
    tracing::info!(user = user.0, "signed in with the second factor");
    Ok(())
}

/// A code spent on a sign-in that has not been written yet.
#[cfg(feature = "ssr")]
enum Spent {
    Recovery(crate::server::services::two_factor::UsedRecoveryCode),
    Sms(i64),
}

/// Gives a spent code back if the request is dropped before the sign-in it paid for was
/// written — the server's request timeout drops a request's future, and with it any code
/// after the `?` (SEC-6). Disarmed once the sign-in is written or the code given back.
#[cfg(feature = "ssr")]
struct GiveBackIfDropped {
    state: crate::server::AppState,
    user: crate::server::db::users::UserId,
    spent: Option<Spent>,
}

#[cfg(feature = "ssr")]
impl GiveBackIfDropped {
    fn new(
        state: &crate::server::AppState,
        user: crate::server::db::users::UserId,
        spent: Spent,
    ) -> Self {
        Self {
            state: state.clone(),
            user,
            spent: Some(spent),
        }
    }

    /// The sign-in went through: the code stays spent.
    fn keep(mut self) {
        self.spent = None;
    }

    /// The sign-in failed: give the code back now, and report whether that worked.
    async fn give_back(mut self) -> Result<(), AppError> {
        match self.spent.take() {
            Some(spent) => give_back(&self.state, self.user, spent).await,
            None => Ok(()),
        }
    }
}

#[cfg(feature = "ssr")]
impl Drop for GiveBackIfDropped {
    fn drop(&mut self) {
        if let (Some(spent), Ok(runtime)) =
            (self.spent.take(), tokio::runtime::Handle::try_current())
        {
            let (state, user) = (self.state.clone(), self.user);
            runtime.spawn(async move {
                if let Err(e) = give_back(&state, user, spent).await {
                    tracing::error!(error = %e, user = user.0, "a spent code could not be given back");
                }
            });
        }
    }
}

#[cfg(feature = "ssr")]
async fn give_back(
    state: &crate::server::AppState,
    user: crate::server::db::users::UserId,
    spent: Spent,
) -> Result<(), AppError> {
    use crate::server::services::{login, two_factor};
    match spent {
        Spent::Recovery(used) => two_factor::unspend(state, user, &used).await?,
        Spent::Sms(id) => login::unspend(state, id).await?,
    }
    Ok(())
}

/// Checks the SMS code of a pending sign-in (LG-2).
#[server(prefix = "/api", endpoint = "verify_login_code")]
pub async fn verify_login_code(code: String) -> Result<(), AppError> {
    use crate::domain::OtpCode;
    use crate::server::services::login::{self, Refusal};
    use crate::server::{auth_session, web};

    web::finish(
        async {
            let (state, session, user, now) = pending_step().await?;
            let code = OtpCode::parse(&code)?;
            let id = auth_session::pending_code(&session).await?;
            match login::verify_code(&state, user, id, &code, now).await {
                Ok(used) => {
                    // No spent code without a sign-in (SEC-6).
                    let guard = GiveBackIfDropped::new(&state, user, Spent::Sms(used));
                    let signed_in = complete_sign_in(
                        &state,
                        &session,
                        user,
                        now,
                        crate::domain::SecurityEvent::SignedInWithCode,
                    )
                    .await;
                    if let Err(e) = signed_in {
                        guard.give_back().await?;
                        return Err(e);
                    }
                    guard.keep();
                    leptos_axum::redirect(crate::urls::SETTINGS);
                    Ok(())
                }
                Err(e) => match login::refusal(e) {
                    Refusal::Locked => {
                        web::note(&state, user, crate::domain::SecurityEvent::SmsFactorLocked)
                            .await;
                        Err(AppError::SmsLocked)
                    }
                    Refusal::EndsPending(e) => {
                        auth_session::end_pending(&session).await?;
                        Err(e)
                    }
                    Refusal::Stays(e) => Err(e),
                },
            }
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "resend_login_code")]
pub async fn resend_login_code() -> Result<(), AppError> {
    use crate::server::services::login;
    use crate::server::{auth_session, web};

    web::finish(
        async {
            let (state, session, user, now) = pending_step().await?;
            let requester = web::requester(&state);
            // This browser's code, if one went out and is still live; otherwise a first one.
            let sent = auth_session::pending_code(&session).await?;
            let pending = match login::live_code(&state, user, sent, now).await? {
                Some(id) => login::resend_code(&state, user, id, &requester, now).await?,
                None => login::send_code(&state, user, &requester, now).await?,
            };
            auth_session::set_pending_code(&session, pending.id).await?;
            leptos_axum::redirect(crate::urls::LOGIN_VERIFY_RESENT);
            Ok(())
        }
        .await,
    )
}

/// Completes a pending sign-in with an authenticator app's code (MFA-1, MFA-3).
#[server(prefix = "/api", endpoint = "verify_app_code")]
pub async fn verify_app_code(code: String) -> Result<(), AppError> {
    use crate::domain::OtpCode;
    use crate::server::services::{authenticator, authenticator::AuthenticatorError, login};
    use crate::server::web;

    web::finish(
        async {
            let (state, session, user, now) = pending_step().await?;
            let code = OtpCode::parse(&code)?;
            match authenticator::verify_sign_in(&state, user, &code, now).await {
                Ok(()) => {
                    // The time step stays taken even if what follows fails: the app shows
                    // a new code within thirty seconds.
                    login::abandon(&state, user).await?;
                    complete_sign_in(
                        &state,
                        &session,
                        user,
                        now,
                        crate::domain::SecurityEvent::SignedInWithApp,
                    )
                    .await?;
                    leptos_axum::redirect(crate::urls::SETTINGS);
                    Ok(())
                }
                Err(AuthenticatorError::JustLocked) => {
                    web::note(&state, user, crate::domain::SecurityEvent::SmsFactorLocked).await;
                    Err(AppError::SmsLocked)
                }
                Err(e) => Err(e.into()),
            }
        }
        .await,
    )
}

/// `別の方法を使う` → the SMS code (MFA-3): this browser's sign-in asks for it from now on,
/// and a code goes out unless one already did and is still live.
#[server(prefix = "/api", endpoint = "use_sms_code")]
pub async fn use_sms_code() -> Result<(), AppError> {
    use crate::server::services::login;
    use crate::server::{auth_session, web};

    web::finish(
        async {
            let (state, session, user, now) = pending_step().await?;
            auth_session::set_pending_factor(&session, Factor::Sms).await?;
            let sent = auth_session::pending_code(&session).await?;
            if login::live_code(&state, user, sent, now).await?.is_none() {
                let requester = web::requester(&state);
                if let Some(id) = login::send_first_code(&state, user, &requester, now).await {
                    auth_session::set_pending_code(&session, id).await?;
                }
            }
            leptos_axum::redirect(crate::urls::LOGIN_VERIFY);
            Ok(())
        }
        .await,
    )
}

/// `別の方法を使う` → the authenticator app (MFA-3).
#[server(prefix = "/api", endpoint = "use_app_code")]
pub async fn use_app_code() -> Result<(), AppError> {
    crate::server::web::finish(choose_factor(Factor::App).await)
}

/// The options for the browser's `navigator.credentials.get` in a pending sign-in (MFA-2).
#[server(prefix = "/api", endpoint = "start_passkey_sign_in")]
pub async fn start_passkey_sign_in() -> Result<crate::api::passkeys::PasskeyOptions, AppError> {
    use crate::server::services::passkeys;
    use crate::server::{auth_session, web};

    web::finish(
        async {
            let (state, session, user, now) = pending_step().await?;
            let (options, ceremony) = passkeys::start_authentication(&state, user, now).await?;
            let options = crate::api::passkeys::PasskeyOptions::new(&options)?;
            auth_session::keep_passkey_ceremony(&session, PASSKEY_SIGN_IN, &ceremony).await?;
            Ok(options)
        }
        .await,
    )
}

/// Signing in with a passkey alone (MFA-2), first half: options that let the browser offer
/// any passkey it holds for this site. No account is named, so nothing is revealed.
#[server(prefix = "/api", endpoint = "start_passkey_login")]
pub async fn start_passkey_login() -> Result<crate::api::passkeys::PasskeyOptions, AppError> {
    use crate::server::services::{passkeys, throttle};
    use crate::server::{auth_session, web};

    web::finish(
        async {
            let state = web::state()?;
            let session = web::session().await?;
            let now = state.clock.now();
            // Anyone may ask, and each ask writes a session: past a number per address
            // within 15 minutes, asks slow down like wrong passwords (SEC-1).
            let scope = [(
                format!("passkey-{}", throttle::ip_scope(&web::client_ip())),
                state.settings.login_free_failures_per_ip,
            )];
            // Counted, never taken back: it is the asking that is bounded.
            let _counted = throttle::begin_attempt(&state, &scope, now).await?;
            let (options, ceremony) = passkeys::start_login(&state, now)?;
            let options = crate::api::passkeys::PasskeyOptions::new(&options)?;
            auth_session::keep_passkey_ceremony(&session, PASSKEY_LOGIN, &ceremony).await?;
            Ok(options)
        }
        .await,
    )
}

/// What a passkey ceremony without a password is for, in the session.
#[cfg(feature = "ssr")]
const PASSKEY_LOGIN: &str = "login";

/// Second half: the browser's answer (`credential`, JSON of `PublicKeyCredential`). A
/// verified passkey with user verification is both factors at once: the account is signed
/// in, this browser remembered, and the history says so.
#[server(prefix = "/api", endpoint = "finish_passkey_login")]
pub async fn finish_passkey_login(credential: String) -> Result<(), AppError> {
    use crate::server::services::{login, passkeys};
    use crate::server::{auth_session, web};

    web::finish(
        async {
            let state = web::state()?;
            let session = web::session().await?;
            let now = state.clock.now();
            let answer: webauthn_rs_proto::PublicKeyCredential =
                serde_json::from_str(&credential).map_err(|_| AppError::PasskeyRefused)?;
            let ceremony = auth_session::take_passkey_ceremony(&session, PASSKEY_LOGIN).await?;
            let user = passkeys::finish_login(&state, &answer, ceremony, now).await?;
            login::lift_lock(&state, user).await?;
            login::abandon(&state, user).await?;
            complete_sign_in(
                &state,
                &session,
                user,
                now,
                crate::domain::SecurityEvent::SignedInWithPasskey,
            )
            .await?;
            // The passkey, not the password: TF-4 asks for the password before changes.
            auth_session::forget_recent_auth(&session).await
        }
        .await,
    )
}

/// What a passkey ceremony of a pending sign-in is for, in the session.
#[cfg(feature = "ssr")]
const PASSKEY_SIGN_IN: &str = "sign_in";

/// Completes a pending sign-in with the browser's passkey answer (`credential`, JSON of
/// `PublicKeyCredential`). The browser then goes to the settings.
#[server(prefix = "/api", endpoint = "finish_passkey_sign_in")]
pub async fn finish_passkey_sign_in(credential: String) -> Result<(), AppError> {
    use crate::server::services::{login, passkeys};
    use crate::server::{auth_session, web};

    web::finish(
        async {
            let (state, session, user, now) = pending_step().await?;
            let answer: webauthn_rs_proto::PublicKeyCredential =
                serde_json::from_str(&credential).map_err(|_| AppError::PasskeyRefused)?;
            let ceremony = auth_session::take_passkey_ceremony(&session, PASSKEY_SIGN_IN).await?;
            passkeys::finish_authentication(&state, user, &answer, ceremony, now).await?;
            login::abandon(&state, user).await?;
            // The holder of a passkey is the owner: whatever lock strangers with the
            // password ran into does not outlive it (as with a remembered browser).
            login::lift_lock(&state, user).await?;
            complete_sign_in(
                &state,
                &session,
                user,
                now,
                crate::domain::SecurityEvent::SignedInWithPasskey,
            )
            .await?;
            Ok(())
        }
        .await,
    )
}

/// `別の方法を使う` → a passkey (MFA-3).
#[server(prefix = "/api", endpoint = "use_passkey")]
pub async fn use_passkey() -> Result<(), AppError> {
    crate::server::web::finish(choose_factor(Factor::Passkey).await)
}

/// `別の方法を使う` → `factor`, which the account must have: this browser's sign-in asks for
/// it from now on (MFA-3).
#[cfg(feature = "ssr")]
async fn choose_factor(factor: Factor) -> Result<(), AppError> {
    use crate::server::auth_session;
    use crate::server::services::{authenticator, passkeys};

    let (state, session, user, _) = pending_step().await?;
    match factor {
        Factor::App if !authenticator::is_set(&state, user).await? => {
            return Err(AppError::NoAuthenticator);
        }
        Factor::Passkey if !passkeys::any(&state, user).await? => {
            return Err(AppError::NoPasskey);
        }
        _ => {}
    }
    auth_session::set_pending_factor(&session, factor).await?;
    leptos_axum::redirect(crate::urls::LOGIN_VERIFY);
    Ok(())
}

/// Completes a pending sign-in with a recovery code (LG-3); the settings page then says
/// how many remain.
#[server(prefix = "/api", endpoint = "verify_recovery_code")]
pub async fn verify_recovery_code(code: String) -> Result<(), AppError> {
    use crate::server::services::{login, throttle, two_factor};
    use crate::server::web;

    web::finish(
        async {
            let (state, session, user, now) = pending_step().await?;
            // Counted per session and account: strangers cannot delay this (SEC-1).
            let attempt = web::begin_session_attempt(
                &state,
                &session,
                throttle::SessionProof::RecoveryCode,
                user,
                now,
            )
            .await?;
            let used = two_factor::use_recovery_code(&state, user, &code, now).await?;
            let left = used.left;
            // No spent code without a sign-in (SEC-6): if anything after the use fails, or
            // the request is dropped, the code is given back.
            let guard = GiveBackIfDropped::new(&state, user, Spent::Recovery(used));
            let signed_in = async {
                throttle::succeeded(&state, attempt).await?;
                login::abandon(&state, user).await?;
                complete_sign_in(
                    &state,
                    &session,
                    user,
                    now,
                    crate::domain::SecurityEvent::SignedInWithRecoveryCode,
                )
                .await
            }
            .await;
            if let Err(e) = signed_in {
                guard.give_back().await?;
                return Err(e);
            }
            guard.keep();
            leptos_axum::redirect(&crate::urls::settings_recovery_left(left));
            Ok(())
        }
        .await,
    )
}

/// Ends the session on the server and goes to the sign-in page.
#[server(prefix = "/api", endpoint = "log_out")]
pub async fn log_out() -> Result<(), AppError> {
    use crate::server::{auth_session, web};

    web::finish(
        async {
            let session = web::session().await?;
            auth_session::sign_out(&session).await?;
            leptos_axum::redirect(crate::urls::LOGIN);
            Ok(())
        }
        .await,
    )
}

/// The signed-in account, or `None`.
#[server(prefix = "/api", endpoint = "current_user", input = GetUrl)]
pub async fn get_current_user() -> Result<Option<CurrentUser>, AppError> {
    use crate::server::{auth_session, db::users, web};

    web::finish(
        async {
            let state = web::state()?;
            let session = web::session().await?;
            let Some(id) = auth_session::current_user(&session).await? else {
                return Ok(None);
            };
            let user = users::find_by_id(&state.db, id).await?;
            Ok(user.map(|u| CurrentUser { email: u.email }))
        }
        .await,
    )
}

/// Changes the password. Every other session of the account ends and remembered browsers
/// are forgotten (LG-4); this browser stays signed in with a new session id.
#[server(prefix = "/api", endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    use crate::domain::Password;
    use crate::server::services::{accounts, throttle};
    use crate::server::{auth_session, web};

    web::finish(
        async {
            let (state, session, user) = web::signed_in().await?;
            let new = Password::new(new_password)?;
            let now = state.clock.now();
            web::hashing_room(&state)?;
            // Counted per session and account: strangers cannot delay this (SEC-1).
            let attempt =
                web::begin_session_attempt(&state, &session, throttle::SessionProof::Reauth, user, now)
                    .await?;
            let (slot, attempt) = web::hashing_place(&state, attempt).await?;
            match accounts::change_password(&state, slot, user, current_password, &new, now).await {
                Ok(()) => {
                    auth_session::sign_in(&session, user, now).await?;
                    if let Err(e) = throttle::succeeded(&state, attempt).await {
                        tracing::warn!(error = %e, "a successful attempt still counts against the throttle");
                    }
                    web::note(&state, user, crate::domain::SecurityEvent::PasswordChanged).await;
                    leptos_axum::redirect(crate::urls::PASSWORD_CHANGED);
                    Ok(())
                }
                Err(accounts::AccountError::InvalidCredentials) => {
                    Err(AppError::CurrentPasswordWrong)
                }
                Err(e) => Err(e.into()),
            }
        }
        .await,
    )
}
