//! Two-factor on/off, recovery codes, signing in with the second factor, remembered
//! browsers, re-authentication and lockout (TF-1..4, RC-1..4, LG-1..5, SEC-1), on every
//! engine.

use std::time::Duration;

use http::StatusCode;

use app::api::account::{AccountOverview, TypedPhone};
use app::api::auth::{CurrentUser, LoginChallenge};
use app::api::two_factor::RecoveryCodeView;
use app::error::AppError;

use crate::support::{
    Client, PASSWORD, START, TestApp, on_each_engine, on_each_engine_with, other_than, paths,
    unlimited_sms,
};

pub(crate) async fn overview(client: &Client) -> AccountOverview {
    client.get_json(paths::ACCOUNT_OVERVIEW).await.json()
}

/// `リカバリーコードを表示する` (a POST), then the dialog's read of the codes.
pub(crate) async fn codes(client: &Client) -> Vec<RecoveryCodeView> {
    let res = client.post(paths::SHOW_RECOVERY_CODES, &[]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.header("location"), Some("/settings?dialog=recovery"));
    let res = client.get_json(paths::RECOVERY_CODES).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    res.json()
}

/// What the security history lists, newest first (SEC-5).
pub(crate) async fn history(client: &Client) -> Vec<String> {
    overview(client)
        .await
        .history
        .into_iter()
        .map(|e| e.what)
        .collect()
}

/// What the code page of a pending sign-in shows.
pub(crate) async fn challenge(client: &Client) -> LoginChallenge {
    client.get_json(paths::LOGIN_CHALLENGE).await.json()
}

pub(crate) async fn who(client: &Client) -> Option<CurrentUser> {
    client.get_json(paths::CURRENT_USER).await.json()
}

pub(crate) async fn password_step(client: &Client, email: &str) -> crate::support::TestResponse {
    client
        .post(paths::LOG_IN, &[("email", email), ("password", PASSWORD)])
        .await
}

#[tokio::test]
async fn the_switch_saves_only_with_a_phone_and_on_gives_ten_codes() {
    on_each_engine(|app: TestApp| async move {
        let client = app.client();
        client
            .post(
                paths::SIGN_UP,
                &[("email", "p@example.jp"), ("password", PASSWORD)],
            )
            .await;
        let res = client
            .post(paths::SAVE_TWO_FACTOR, &[("enabled", "on")])
            .await;
        assert_eq!(res.app_error(), AppError::PhoneRequired);
        assert!(!overview(&client).await.two_factor_enabled);

        let client = app.account("q@example.jp", "090-1000-2000", false).await;
        assert!(
            !overview(&client).await.two_factor_enabled,
            "verifying a number alone changes nothing"
        );
        assert_eq!(
            client.get_json(paths::RECOVERY_CODES).await.app_error(),
            AppError::TwoFactorOff
        );
        let res = client
            .post(paths::SAVE_TWO_FACTOR, &[("enabled", "on")])
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert_eq!(
            res.header("location"),
            Some("/settings?dialog=recovery&new=1")
        );
        let o = overview(&client).await;
        assert!(o.two_factor_enabled);
        assert_eq!(o.recovery_codes_left, 10);
        let list = codes(&client).await;
        assert_eq!(list.len(), 10);
        let mut distinct: Vec<_> = list.iter().map(|c| c.code.clone()).collect();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 10);
        for c in &list {
            assert_eq!(c.code.len(), 11);
            assert_eq!(&c.code[5..6], "-");
            assert!(
                c.code
                    .chars()
                    .all(|ch| ch == '-' || app::domain::recovery::ALPHABET.contains(&(ch as u8))),
                "{}",
                c.code
            );
            assert!(!c.used);
        }
        // Never stored in plaintext.
        use sqlx::Row;
        for row in sqlx::query("SELECT code_hash, code_sealed FROM recovery_codes")
            .fetch_all(app.state.db.pool())
            .await
            .unwrap()
        {
            let stored = format!(
                "{}{}",
                row.try_get::<String, _>("code_hash").unwrap(),
                row.try_get::<String, _>("code_sealed").unwrap()
            );
            for c in &list {
                assert!(!stored.contains(&c.code.replace('-', "")));
            }
        }
    })
    .await;
}

#[tokio::test]
async fn off_needs_a_recent_password_and_off_then_on_gives_new_codes() {
    on_each_engine(|app: TestApp| async move {
        let client = app.account("r@example.jp", "090-1000-3000", true).await;
        assert!(
            overview(&client).await.two_factor_enabled,
            "the phone dialog's checkbox turned it on"
        );
        let first = codes(&client).await;

        app.clock.advance(Duration::from_secs(11 * 60));
        let res = client.post(paths::SAVE_TWO_FACTOR, &[]).await;
        assert_eq!(res.app_error(), AppError::ReauthRequired);
        assert!(
            overview(&client).await.two_factor_enabled,
            "nothing changed"
        );
        assert_eq!(
            client.get_json(paths::RECOVERY_CODES).await.app_error(),
            AppError::ReauthRequired
        );

        let wrong = client
            .post(
                paths::CONFIRM_PASSWORD,
                &[("password", "wrong password"), ("then", "/settings")],
            )
            .await;
        assert_eq!(wrong.app_error(), AppError::CurrentPasswordWrong);
        let res = client
            .post(
                paths::CONFIRM_PASSWORD,
                &[
                    ("password", PASSWORD),
                    ("then", "/settings?dialog=recovery"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(res.header("location"), Some("/settings?dialog=recovery"));
        let evil = client
            .post(
                paths::CONFIRM_PASSWORD,
                &[("password", PASSWORD), ("then", "https://evil.example/")],
            )
            .await;
        assert_eq!(
            evil.header("location"),
            Some("/settings"),
            "only back into the settings"
        );

        assert_eq!(codes(&client).await, first, "shown again, the same codes");
        assert_eq!(
            client.post(paths::SAVE_TWO_FACTOR, &[]).await.status,
            StatusCode::OK
        );
        assert!(!overview(&client).await.two_factor_enabled);
        assert_eq!(
            client
                .post(paths::SAVE_TWO_FACTOR, &[("enabled", "on")])
                .await
                .status,
            StatusCode::OK
        );
        let second = codes(&client).await;
        assert_ne!(first, second);
    })
    .await;
}

#[tokio::test]
async fn signing_in_with_the_sms_code_and_the_remembered_browser() {
    on_each_engine(|app: TestApp| async move {
        app.account("s@example.jp", "090-1000-4000", true).await;
        let sms_before = app.sms().len();
        let browser = app.pending_login("s@example.jp").await;
        assert_eq!(
            who(&browser).await,
            None,
            "a pending sign-in is not a session of the account"
        );
        assert_eq!(app.sms().len(), sms_before + 1);
        assert_eq!(app.sms().last().unwrap().to_e164, "+819010004000");
        let challenge: LoginChallenge = browser.get_json(paths::LOGIN_CHALLENGE).await.json();
        assert_eq!(challenge.phone, "090-****-4000");
        assert!(challenge.code_sent && !challenge.sms_locked);
        let page = browser.get("/login/verify").await;
        for text in [
            "認証コード",
            "認証する",
            "再送する",
            "認証コードを受け取れない方",
            "2、3分",
        ] {
            assert!(page.body.contains(text), "code page lacks {text}");
        }

        let res = browser
            .post(paths::VERIFY_LOGIN_CODE, &[("code", &app.last_code())])
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert_eq!(res.header("location"), Some("/settings"));
        assert_eq!(
            who(&browser).await.map(|u| u.email),
            Some("s@example.jp".into())
        );
        let token = browser
            .cookie("nidan_browser")
            .expect("the browser is remembered");
        let set = res
            .headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|c| c.starts_with("nidan_browser="))
            .unwrap();
        assert!(
            set.contains("HttpOnly") && set.contains("Max-Age=2592000"),
            "{set}"
        );
        assert_eq!(overview(&browser).await.remembered_browsers.len(), 1);

        // The same browser skips the second step next time; another is asked.
        browser.post(paths::LOG_OUT, &[]).await;
        let sms_before = app.sms().len();
        let res = password_step(&browser, "s@example.jp").await;
        assert_eq!(res.header("location"), Some("/settings"));
        assert_eq!(
            app.sms().len(),
            sms_before,
            "no code for a remembered browser"
        );
        app.pending_login("s@example.jp").await;

        // A forged token is asked.
        let forged = app.client();
        forged.set_cookie("nidan_browser", Some("00".repeat(32)));
        assert_eq!(
            password_step(&forged, "s@example.jp")
                .await
                .header("location"),
            Some("/login/verify")
        );

        // After 30 days it is asked again.
        app.clock.advance(Duration::from_secs(30 * 24 * 3600 + 1));
        let again = app.client();
        again.set_cookie("nidan_browser", Some(token));
        assert_eq!(
            password_step(&again, "s@example.jp")
                .await
                .header("location"),
            Some("/login/verify")
        );
    })
    .await;
}

/// Signs in with the code from `client` (which then holds a remembered browser).
pub(crate) async fn remembered(app: &TestApp, email: &str) -> Client {
    let client = app.pending_login(email).await;
    let res = client
        .post(paths::VERIFY_LOGIN_CODE, &[("code", &app.last_code())])
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    client
}

async fn is_still_remembered(app: &TestApp, browser: &Client, email: &str) -> bool {
    let probe = app.client();
    probe.set_cookie("nidan_browser", browser.cookie("nidan_browser"));
    password_step(&probe, email).await.header("location") == Some("/settings")
}

#[tokio::test]
async fn remembered_browsers_are_forgotten_by_each_event() {
    on_each_engine_with(unlimited_sms, |app: TestApp| async move {
        let email = "t@example.jp";
        app.account(email, "090-1000-5000", true).await;

        // Forget one, from the settings list.
        let b = remembered(&app, email).await;
        assert!(is_still_remembered(&app, &b, email).await);
        let id = overview(&b).await.remembered_browsers[0].id;
        assert_eq!(
            b.post(paths::FORGET_BROWSER, &[("id", &id.to_string())])
                .await
                .status,
            StatusCode::OK
        );
        assert!(!is_still_remembered(&app, &b, email).await);

        // Forget all.
        let b = remembered(&app, email).await;
        b.post(paths::FORGET_ALL_BROWSERS, &[]).await;
        assert!(!is_still_remembered(&app, &b, email).await);
        // Again, with none left: nothing happened, so the history says nothing (SEC-5; a
        // session could otherwise push the real entries off the page).
        let entries = history(&b).await;
        let res = b.post(paths::FORGET_ALL_BROWSERS, &[]).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert_eq!(history(&b).await, entries);

        // Regenerating recovery codes.
        let b = remembered(&app, email).await;
        assert_eq!(
            b.post(paths::REGENERATE_RECOVERY_CODES, &[]).await.status,
            StatusCode::OK
        );
        assert!(!is_still_remembered(&app, &b, email).await);

        // A new phone number.
        let b = remembered(&app, email).await;
        app.clock.advance(Duration::from_secs(61));
        b.post(paths::SEND_PHONE_CODE, &[("phone", "090-1000-5001")])
            .await;
        assert_eq!(
            b.post(paths::VERIFY_PHONE_CODE, &[("code", &app.last_code())])
                .await
                .status,
            StatusCode::OK
        );
        assert!(!is_still_remembered(&app, &b, email).await);

        // Turning two-factor off (and on again).
        let b = remembered(&app, email).await;
        b.post(paths::SAVE_TWO_FACTOR, &[]).await;
        b.post(paths::SAVE_TWO_FACTOR, &[("enabled", "on")]).await;
        assert!(!is_still_remembered(&app, &b, email).await);
    })
    .await;
}

#[tokio::test]
async fn five_wrong_codes_or_ten_minutes_end_the_pending_sign_in() {
    on_each_engine(|app: TestApp| async move {
        app.account("u@example.jp", "090-1000-6000", true).await;
        let browser = app.pending_login("u@example.jp").await;
        let wrong = other_than(&app.last_code());
        for left in [4, 3, 2, 1] {
            assert_eq!(
                browser
                    .post(paths::VERIFY_LOGIN_CODE, &[("code", &wrong)])
                    .await
                    .app_error(),
                AppError::CodeMismatch {
                    attempts_left: left
                }
            );
        }
        assert_eq!(
            browser
                .post(paths::VERIFY_LOGIN_CODE, &[("code", &wrong)])
                .await
                .app_error(),
            AppError::SignInCodeExhausted,
            "the message sends the person back to the password, not to resend"
        );
        let res = browser
            .post(paths::VERIFY_LOGIN_CODE, &[("code", &app.last_code())])
            .await;
        assert_eq!(
            res.app_error(),
            AppError::NoPendingLogin,
            "back to the password"
        );
        assert_eq!(who(&browser).await, None);

        let browser = app.pending_login("u@example.jp").await;
        let code = app.last_code();
        app.clock.advance(Duration::from_secs(10 * 60 + 1));
        assert_eq!(
            browser
                .post(paths::VERIFY_LOGIN_CODE, &[("code", &code)])
                .await
                .app_error(),
            AppError::NoPendingLogin
        );
        assert_eq!(
            browser.get_json(paths::LOGIN_CHALLENGE).await.app_error(),
            AppError::NoPendingLogin
        );
    })
    .await;
}

#[tokio::test]
async fn a_recovery_code_works_once_and_regenerating_kills_the_old_set() {
    on_each_engine(|app: TestApp| async move {
        let owner = app.account("v@example.jp", "090-1000-7000", true).await;
        let list = codes(&owner).await;

        let browser = app.pending_login("v@example.jp").await;
        let typed = list[3].code.to_uppercase().replace('-', " ");
        let res = browser
            .post(paths::VERIFY_RECOVERY_CODE, &[("code", &typed)])
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert_eq!(res.header("location"), Some("/settings?recovery_left=9"));
        assert_eq!(
            who(&browser).await.map(|u| u.email),
            Some("v@example.jp".into())
        );
        let after = codes(&owner).await;
        assert!(
            after[3].used && after.iter().filter(|c| c.used).count() == 1,
            "shown as used"
        );

        let again = app.pending_login("v@example.jp").await;
        let res = again
            .post(paths::VERIFY_RECOVERY_CODE, &[("code", &list[3].code)])
            .await;
        assert_eq!(res.app_error(), AppError::RecoveryCodeInvalid, "works once");
        assert_eq!(
            again
                .post(paths::VERIFY_RECOVERY_CODE, &[("code", "not-a-code")])
                .await
                .app_error(),
            AppError::RecoveryCodeInvalid
        );

        assert_eq!(
            owner
                .post(paths::REGENERATE_RECOVERY_CODES, &[])
                .await
                .status,
            StatusCode::OK
        );
        let fresh = codes(&owner).await;
        assert!(fresh.iter().all(|c| !c.used));
        assert_eq!(
            again
                .post(paths::VERIFY_RECOVERY_CODE, &[("code", &list[5].code)])
                .await
                .app_error(),
            AppError::RecoveryCodeInvalid,
            "the old set is dead"
        );
        assert_eq!(
            again
                .post(paths::VERIFY_RECOVERY_CODE, &[("code", &fresh[0].code)])
                .await
                .status,
            StatusCode::OK
        );
    })
    .await;
}

#[tokio::test]
async fn twenty_concurrent_sign_ins_with_one_recovery_code_give_one_success() {
    on_each_engine_with(unlimited_sms, |app: TestApp| async move {
        let owner = app.account("w@example.jp", "090-1000-8000", true).await;
        let code = codes(&owner).await[0].code.clone();
        let mut browsers = Vec::new();
        for _ in 0..20 {
            browsers.push(app.pending_login("w@example.jp").await);
        }
        let attempts = browsers.iter().map(|b| {
            let b = b.clone();
            let code = code.clone();
            tokio::spawn(async move {
                b.post(paths::VERIFY_RECOVERY_CODE, &[("code", &code)])
                    .await
                    .status
            })
        });
        let mut ok = 0;
        for attempt in attempts {
            if attempt.await.unwrap() == StatusCode::OK {
                ok += 1;
            }
        }
        assert_eq!(ok, 1);
    })
    .await;
}

#[tokio::test]
async fn a_hundred_wrong_codes_lock_the_sms_factor_until_a_recovery_code() {
    on_each_engine_with(unlimited_sms, |app: TestApp| async move {
        let owner = app.account("x@example.jp", "090-1000-9000", true).await;
        let recovery = codes(&owner).await[0].code.clone();
        let mut last = AppError::Internal;
        for _ in 0..20 {
            // Five wrong codes an attempt, and a new attempt only once those are ten
            // minutes old (PH-6): the hundredth comes after more than three hours.
            app.clock.advance(app::server::services::otp::CODE_TTL);
            let b = app.pending_login("x@example.jp").await;
            let wrong = other_than(&app.last_code());
            for _ in 0..5 {
                last = b
                    .post(paths::VERIFY_LOGIN_CODE, &[("code", &wrong)])
                    .await
                    .app_error();
            }
        }
        assert_eq!(last, AppError::SmsLocked, "the hundredth wrong code locks");

        let sms_before = app.sms().len();
        let b = app.pending_login("x@example.jp").await;
        assert_eq!(app.sms().len(), sms_before, "no codes while locked");
        let challenge: LoginChallenge = b.get_json(paths::LOGIN_CHALLENGE).await.json();
        assert!(challenge.sms_locked);
        assert_eq!(
            b.post(paths::VERIFY_LOGIN_CODE, &[("code", "123456")])
                .await
                .app_error(),
            AppError::SmsLocked
        );
        assert_eq!(
            b.post(paths::VERIFY_RECOVERY_CODE, &[("code", &recovery)])
                .await
                .status,
            StatusCode::OK
        );

        // Unlocked: a new browser gets a code again.
        let b = app.pending_login("x@example.jp").await;
        assert_eq!(
            b.post(paths::VERIFY_LOGIN_CODE, &[("code", &app.last_code())])
                .await
                .status,
            StatusCode::OK
        );
    })
    .await;
}

#[tokio::test]
async fn wrong_passwords_bring_growing_delays() {
    on_each_engine(|app: TestApp| async move {
        let client = app.client();
        client
            .post(
                paths::SIGN_UP,
                &[("email", "y@example.jp"), ("password", PASSWORD)],
            )
            .await;
        let other = app.client_from("198.51.100.7");
        for _ in 0..5 {
            let res = other
                .post(
                    paths::LOG_IN,
                    &[("email", "y@example.jp"), ("password", "wrong password")],
                )
                .await;
            assert_eq!(res.app_error(), AppError::InvalidCredentials);
        }
        // The sixth comes too soon, even with the right password.
        let res = other
            .post(
                paths::LOG_IN,
                &[("email", "Y@example.jp"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            res.app_error(),
            AppError::RateLimited {
                retry_after_secs: 1
            }
        );
        app.clock.advance(Duration::from_secs(1));
        assert_eq!(
            other
                .post(
                    paths::LOG_IN,
                    &[("email", "y@example.jp"), ("password", "wrong again!")]
                )
                .await
                .app_error(),
            AppError::InvalidCredentials
        );
        assert_eq!(
            other
                .post(
                    paths::LOG_IN,
                    &[("email", "y@example.jp"), ("password", PASSWORD)]
                )
                .await
                .app_error(),
            AppError::RateLimited {
                retry_after_secs: 2
            }
        );
        app.clock.advance(Duration::from_secs(2));
        assert_eq!(
            other
                .post(
                    paths::LOG_IN,
                    &[("email", "y@example.jp"), ("password", PASSWORD)]
                )
                .await
                .status,
            StatusCode::OK
        );
    })
    .await;
}

/// TF-4: the prompt sends the refused action again with the password, and that one request
/// does it (switch off and on, regenerate, show, send a code); a wrong or missing password
/// changes nothing; saving what is saved asks for nothing.
#[tokio::test]
async fn the_prompt_sends_the_password_with_the_refused_action() {
    on_each_engine(|app: TestApp| async move {
        let client = app.account("tf4@example.jp", "090-1003-0000", true).await;
        assert!(!overview(&client).await.reauth_needed);
        let past_the_window = || app.clock.advance(Duration::from_secs(11 * 60));

        past_the_window();
        assert!(overview(&client).await.reauth_needed);
        let res = client.post(paths::SAVE_TWO_FACTOR, &[]).await;
        assert_eq!(res.app_error(), AppError::ReauthRequired);
        let res = client
            .post(paths::SAVE_TWO_FACTOR, &[("password", "wrong password")])
            .await;
        assert_eq!(res.app_error(), AppError::CurrentPasswordWrong);
        let res = client
            .post(paths::SAVE_TWO_FACTOR, &[("password", "")])
            .await;
        assert_eq!(
            res.app_error(),
            AppError::ReauthRequired,
            "an empty one asks again"
        );
        assert!(
            overview(&client).await.two_factor_enabled,
            "nothing changed"
        );
        let res = client
            .post(paths::SAVE_TWO_FACTOR, &[("password", PASSWORD)])
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert_eq!(res.header("location"), Some("/settings?saved=1"));
        assert!(
            !overview(&client).await.two_factor_enabled,
            "turned off at once"
        );
        assert!(!overview(&client).await.reauth_needed);

        past_the_window();
        let res = client.post(paths::SAVE_TWO_FACTOR, &[]).await;
        assert_eq!(
            res.status,
            StatusCode::OK,
            "saving what is saved asks for nothing"
        );
        let res = client
            .post(
                paths::SAVE_TWO_FACTOR,
                &[("enabled", "on"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert_eq!(
            res.header("location"),
            Some("/settings?dialog=recovery&new=1")
        );
        let first = codes(&client).await;

        past_the_window();
        let res = client.post(paths::REGENERATE_RECOVERY_CODES, &[]).await;
        assert_eq!(res.app_error(), AppError::ReauthRequired);
        let res = client
            .post(paths::REGENERATE_RECOVERY_CODES, &[("password", PASSWORD)])
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        let second = client
            .get_json(paths::RECOVERY_CODES)
            .await
            .json::<Vec<RecoveryCodeView>>();
        assert_ne!(first, second, "new codes, shown at once");

        past_the_window();
        let res = client.post(paths::SHOW_RECOVERY_CODES, &[]).await;
        assert_eq!(res.header("location"), Some("/settings?dialog=recovery"));
        assert_eq!(
            client.get_json(paths::RECOVERY_CODES).await.app_error(),
            AppError::ReauthRequired,
            "the dialog asks first"
        );
        let res = client
            .post(
                paths::SHOW_RECOVERY_CODES,
                &[("password", "wrong password")],
            )
            .await;
        assert_eq!(res.app_error(), AppError::CurrentPasswordWrong);
        let res = client
            .post(paths::SHOW_RECOVERY_CODES, &[("password", PASSWORD)])
            .await;
        assert_eq!(res.header("location"), Some("/settings?dialog=recovery"));
        assert_eq!(codes(&client).await, second);

        past_the_window();
        let sms_before = app.sms().len();
        let res = client
            .post(
                paths::SEND_PHONE_CODE,
                &[("phone", "090-1003-0001"), ("enable_two_factor", "on")],
            )
            .await;
        assert_eq!(res.app_error(), AppError::ReauthRequired);
        assert_eq!(
            overview(&client).await.typed_phone,
            Some(TypedPhone {
                number: "090-1003-0001".to_owned(),
                enable_two_factor: true
            }),
            "kept for the prompt, which may be a plain form"
        );
        let res = client
            .post(
                paths::SEND_PHONE_CODE,
                &[("phone", "090-1003-0001"), ("password", "wrong password")],
            )
            .await;
        assert_eq!(res.app_error(), AppError::CurrentPasswordWrong);
        assert_eq!(app.sms().len(), sms_before, "nothing sent");
        let res = client
            .post(
                paths::SEND_PHONE_CODE,
                &[("phone", "090-1003-0001"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert_eq!(
            app.sms().len(),
            sms_before + 1,
            "the number typed, sent at once"
        );
        assert_eq!(app.sms().last().unwrap().to_e164, "+819010030001");
        let res = client.post(paths::ABANDON_PHONE_CODE, &[]).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        past_the_window();
        assert_eq!(
            overview(&client).await.typed_phone,
            None,
            "forgotten once sent"
        );
    })
    .await;
}

#[tokio::test]
async fn changing_the_number_of_a_two_factor_account_needs_a_recent_password() {
    on_each_engine(|app: TestApp| async move {
        let client = app.account("z@example.jp", "090-1001-0000", true).await;
        app.clock.advance(Duration::from_secs(11 * 60));
        let sms_before = app.sms().len();
        let res = client
            .post(paths::SEND_PHONE_CODE, &[("phone", "090-1001-0001")])
            .await;
        assert_eq!(res.app_error(), AppError::ReauthRequired);
        assert_eq!(app.sms().len(), sms_before);
        client
            .post(
                paths::CONFIRM_PASSWORD,
                &[("password", PASSWORD), ("then", "/settings?dialog=phone")],
            )
            .await;
        assert_eq!(
            client
                .post(paths::SEND_PHONE_CODE, &[("phone", "090-1001-0001")])
                .await
                .status,
            StatusCode::OK
        );
    })
    .await;
}

#[tokio::test]
async fn a_remembered_browser_counts_only_for_its_own_account() {
    on_each_engine(|app: TestApp| async move {
        app.account("aa@example.jp", "090-1002-0000", true).await;
        app.account("bb@example.jp", "090-1002-0001", true).await;
        let browser = remembered(&app, "aa@example.jp").await;
        // Account B from the browser remembered for A: asked for B's code.
        browser.post(paths::LOG_OUT, &[]).await;
        assert_eq!(
            password_step(&browser, "bb@example.jp")
                .await
                .header("location"),
            Some("/login/verify")
        );
        // B cannot forget A's browser by its id.
        let b = remembered(&app, "bb@example.jp").await;
        let a_id = {
            let a = app.client();
            a.set_cookie("nidan_browser", browser.cookie("nidan_browser"));
            password_step(&a, "aa@example.jp").await;
            overview(&a).await.remembered_browsers[0].id
        };
        b.post(paths::FORGET_BROWSER, &[("id", &a_id.to_string())])
            .await;
        assert!(is_still_remembered(&app, &browser, "aa@example.jp").await);
    })
    .await;
}

#[tokio::test]
async fn the_second_factor_rotates_the_session_id() {
    on_each_engine(|app: TestApp| async move {
        app.account("cc@example.jp", "090-1002-0002", true).await;
        let browser = app.pending_login("cc@example.jp").await;
        let pending = browser.session_cookie().expect("a pending sign-in session");
        let res = browser
            .post(paths::VERIFY_LOGIN_CODE, &[("code", &app.last_code())])
            .await;
        assert_eq!(res.status, StatusCode::OK);
        let signed_in = browser.session_cookie().expect("a session");
        assert_ne!(pending, signed_in);
        let replay = app.client();
        replay.set_session_cookie(Some(pending));
        assert_eq!(who(&replay).await, None);
    })
    .await;
}

#[tokio::test]
async fn a_new_number_ends_sign_ins_waiting_for_a_code_to_the_old_one() {
    on_each_engine(|app: TestApp| async move {
        let owner = app.account("dd@example.jp", "090-1002-0003", true).await;
        let intruder = app.pending_login("dd@example.jp").await;
        let old_code = app.last_code();
        app.clock.advance(Duration::from_secs(61));
        owner
            .post(paths::SEND_PHONE_CODE, &[("phone", "090-1002-0004")])
            .await;
        let res = owner
            .post(paths::VERIFY_PHONE_CODE, &[("code", &app.last_code())])
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        let res = intruder
            .post(paths::VERIFY_LOGIN_CODE, &[("code", &old_code)])
            .await;
        assert_eq!(res.app_error(), AppError::NoPendingVerification);
        assert_eq!(who(&intruder).await, None);
    })
    .await;
}

#[tokio::test]
async fn parallel_wrong_passwords_cannot_slip_past_the_delays() {
    on_each_engine(|app: TestApp| async move {
        let client = app.client();
        client
            .post(
                paths::SIGN_UP,
                &[("email", "ee@example.jp"), ("password", PASSWORD)],
            )
            .await;
        let attacker = app.client_from("198.51.100.9");
        let guesses = (0..12).map(|i| {
            let c = attacker.clone();
            tokio::spawn(async move {
                c.post(
                    paths::LOG_IN,
                    &[
                        ("email", "ee@example.jp"),
                        ("password", &format!("guess number {i}")),
                    ],
                )
                .await
                .app_error()
            })
        });
        let mut judged = 0;
        for g in guesses {
            if g.await.unwrap() == AppError::InvalidCredentials {
                judged += 1;
            }
        }
        assert_eq!(
            judged, 5,
            "only the free attempts are judged; the rest must wait"
        );
    })
    .await;
}

#[tokio::test]
async fn changing_the_password_ends_other_sessions_and_forgets_browsers() {
    on_each_engine(|app: TestApp| async move {
        let owner = app.account("ff@example.jp", "090-1002-0005", true).await;
        let browser = remembered(&app, "ff@example.jp").await;
        let other_session = browser.session_cookie();

        let res = owner
            .post(
                paths::CHANGE_PASSWORD,
                &[
                    ("current_password", "not it"),
                    ("new_password", "a brand new passphrase"),
                ],
            )
            .await;
        assert_eq!(res.app_error(), AppError::CurrentPasswordWrong);
        let res = owner
            .post(
                paths::CHANGE_PASSWORD,
                &[("current_password", PASSWORD), ("new_password", "short")],
            )
            .await;
        assert_eq!(res.app_error(), AppError::PasswordTooShort { min: 8 });
        assert!(
            is_still_remembered(&app, &browser, "ff@example.jp").await,
            "nothing changed yet"
        );

        let res = owner
            .post(
                paths::CHANGE_PASSWORD,
                &[
                    ("current_password", PASSWORD),
                    ("new_password", "a brand new passphrase"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert_eq!(res.header("location"), Some("/settings?password_changed=1"));
        assert_eq!(
            who(&owner).await.map(|u| u.email),
            Some("ff@example.jp".into()),
            "this browser stays in"
        );

        let stale = app.client();
        stale.set_session_cookie(other_session);
        assert_eq!(who(&stale).await, None, "other sessions end");
        let probe = app.client();
        probe.set_cookie("nidan_browser", browser.cookie("nidan_browser"));
        let res = probe
            .post(
                paths::LOG_IN,
                &[
                    ("email", "ff@example.jp"),
                    ("password", "a brand new passphrase"),
                ],
            )
            .await;
        assert_eq!(
            res.header("location"),
            Some("/login/verify"),
            "the browser is forgotten"
        );
        let res = app
            .client()
            .post(
                paths::LOG_IN,
                &[("email", "ff@example.jp"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(
            res.app_error(),
            AppError::InvalidCredentials,
            "the old password is dead"
        );
    })
    .await;
}

#[tokio::test]
async fn the_security_history_records_what_happened() {
    on_each_engine(|app: TestApp| async move {
        let owner = app.account("gg@example.jp", "090-1002-0006", true).await;
        let list = codes(&owner).await;
        let browser = app.pending_login("gg@example.jp").await;
        browser
            .post(paths::VERIFY_RECOVERY_CODE, &[("code", &list[0].code)])
            .await;
        let history = overview(&owner).await.history;
        let what: Vec<&str> = history.iter().map(|e| e.what.as_str()).collect();
        assert_eq!(
            what,
            [
                "ログイン(リカバリーコードを使用)",
                "リカバリーコードを表示",
                "二段階認証を有効化",
                "電話番号を設定",
            ],
            "newest first"
        );
        assert!(history[0].notable, "a used recovery code stands out");
        assert!(!history[1].notable);
    })
    .await;
}

/// The account's id, found the way the sign-in finds it.
async fn user_id(app: &TestApp, email: &str) -> app::server::db::users::UserId {
    let email = app::domain::Email::parse(email).unwrap();
    app::server::db::users::find_by_email(&app.state.db, &email)
        .await
        .unwrap()
        .unwrap()
        .id
}

/// The `at` (milliseconds) of every history entry of `user`, oldest first.
async fn history_times(app: &TestApp, user: app::server::db::users::UserId) -> Vec<i64> {
    use sqlx::Row;
    sqlx::query("SELECT at FROM security_events WHERE user_id = $1 ORDER BY at")
        .bind(user.0)
        .fetch_all(app.state.db.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<i64, _>("at").unwrap())
        .collect()
}

#[tokio::test]
async fn the_security_history_keeps_each_accounts_newest_entries_and_forgets_the_rest() {
    use app::domain::SecurityEvent;
    use app::server::services::history::{self, KEPT, SHOWN};

    on_each_engine(|app: TestApp| async move {
        app.account("hist@example.jp", "090-1002-0090", false).await;
        app.account("other@example.jp", "090-1002-0091", false)
            .await;
        let user = user_id(&app, "hist@example.jp").await;
        let other = user_id(&app, "other@example.jp").await;
        let others_before = history_times(&app, other).await;

        // An account with a long history from before entries were trimmed: one write
        // brings it down to the newest KEPT, however many more there were.
        for i in 0..(KEPT * 3) {
            sqlx::query(
                "INSERT INTO security_events (user_id, kind, browser, at) VALUES ($1, $2, $3, $4)",
            )
            .bind(user.0)
            .bind(SecurityEvent::SignedIn.as_str())
            .bind("Chrome (Windows)")
            .bind(START.as_millis() - 1_000_000 + i)
            .execute(app.state.db.pool())
            .await
            .unwrap();
        }
        let ua = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X)";
        history::record(&app.state, user, SecurityEvent::SignedIn, ua, START).await;
        let times = history_times(&app, user).await;
        assert_eq!(times.len() as i64, KEPT);
        assert_eq!(
            times.last(),
            Some(&START.as_millis()),
            "the new entry is kept"
        );

        // Entries written out of time order (a clock that stepped back, two requests
        // racing): the newest by their time are kept, as the page lists them.
        let n: i64 = KEPT + 25;
        for i in 0..n {
            let offset = (i * 37) % n; // every offset 0..n once, shuffled
            let at = START.plus(Duration::from_secs(1 + offset as u64));
            history::record(&app.state, user, SecurityEvent::SignedIn, ua, at).await;
        }
        let times = history_times(&app, user).await;
        let expected: Vec<i64> = ((n - KEPT)..n)
            .map(|o| START.plus(Duration::from_secs(1 + o as u64)).as_millis())
            .collect();
        assert_eq!(times, expected, "the {KEPT} newest by time, and only they");
        let shown = history::list(&app.state, user).await.unwrap();
        assert_eq!(shown.len() as i64, SHOWN);
        assert_eq!(shown[0].at, START.plus(Duration::from_secs(n as u64)));

        // Another account's history is not touched.
        assert_eq!(history_times(&app, other).await, others_before);
    })
    .await;
}

#[tokio::test]
async fn two_browsers_signing_in_at_once_each_keep_their_own_code() {
    on_each_engine(|app: TestApp| async move {
        app.account("hh@example.jp", "090-1002-0007", true).await;
        let phone = app.pending_login("hh@example.jp").await;
        let phone_code = app.last_code();
        let laptop = app.pending_login("hh@example.jp").await;
        let laptop_code = app.last_code();
        assert_ne!(phone_code, laptop_code);
        // One browser's wrong entries and code do not reach the other's.
        let res = laptop
            .post(paths::VERIFY_LOGIN_CODE, &[("code", &phone_code)])
            .await;
        assert_eq!(res.app_error(), AppError::CodeMismatch { attempts_left: 4 });
        let res = phone
            .post(paths::VERIFY_LOGIN_CODE, &[("code", &phone_code)])
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        let res = laptop
            .post(paths::VERIFY_LOGIN_CODE, &[("code", &laptop_code)])
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    })
    .await;
}

#[tokio::test]
async fn a_password_change_voids_sign_ins_waiting_for_their_second_factor() {
    on_each_engine(|app: TestApp| async move {
        let owner = app.account("ii@example.jp", "090-1002-0008", true).await;
        let recovery = codes(&owner).await[0].code.clone();
        let intruder = app.pending_login("ii@example.jp").await;
        let code = app.last_code();
        app.clock.advance(Duration::from_secs(1));
        let res = owner
            .post(
                paths::CHANGE_PASSWORD,
                &[
                    ("current_password", PASSWORD),
                    ("new_password", "a brand new passphrase"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        let res = intruder
            .post(paths::VERIFY_LOGIN_CODE, &[("code", &code)])
            .await;
        assert_eq!(res.app_error(), AppError::NoPendingLogin);
        let res = intruder
            .post(paths::VERIFY_RECOVERY_CODE, &[("code", &recovery)])
            .await;
        assert_eq!(res.app_error(), AppError::NoPendingLogin);
        assert_eq!(who(&intruder).await, None);
    })
    .await;
}

#[tokio::test]
async fn sign_in_codes_to_one_number_stop_at_five_an_hour_and_go_out_again_after() {
    on_each_engine(|app: TestApp| async move {
        app.account("budget@example.jp", "090-3300-0001", true)
            .await;
        let before = app.sms().len();
        // Five sign-ins from five places: five codes (SEC-2, per number per hour).
        for i in 0..5 {
            let browser = app.client_from(&format!("192.0.2.{}", 100 + i));
            let res = password_step(&browser, "budget@example.jp").await;
            assert_eq!(res.header("location"), Some("/login/verify"));
            assert!(challenge(&browser).await.code_sent, "code {}", i + 1);
        }
        assert_eq!(app.sms().len(), before + 5);
        // The sixth sign-in reaches the code page, but no SMS goes out.
        let sixth = app.client_from("192.0.2.110");
        let res = password_step(&sixth, "budget@example.jp").await;
        assert_eq!(res.header("location"), Some("/login/verify"));
        assert!(!challenge(&sixth).await.code_sent);
        assert_eq!(app.sms().len(), before + 5);
        let res = sixth.post(paths::RESEND_LOGIN_CODE, &[]).await;
        assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(res.header("retry-after").is_some());
        assert!(matches!(res.app_error(), AppError::SmsLimited { .. }));
        assert_eq!(app.sms().len(), before + 5);
        // An hour after the first, a code goes out again.
        app.clock.advance(Duration::from_secs(3600));
        let later = app.client_from("192.0.2.111");
        password_step(&later, "budget@example.jp").await;
        assert!(challenge(&later).await.code_sent);
        assert_eq!(app.sms().len(), before + 6);
    })
    .await;
}
