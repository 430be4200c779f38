//! The authenticator app (MFA-1) and choosing a factor at sign-in (MFA-3), on every engine:
//! setting it up from the key the dialog shows, signing in with its codes, the drift
//! window, replay, the limits and lockout it shares with SMS, and falling back to SMS and
//! to a recovery code.

use std::time::Duration;

use http::StatusCode;

use app::api::auth::Factor;
use app::api::authenticator::AppEnrolment;
use app::domain::Timestamp;
use app::error::AppError;
use app::server::Clock;

use crate::support::{Client, PASSWORD, TestApp, count, on_each_engine, paths};
use crate::two_factor::{challenge, codes, history, overview, password_step, who};

/// The code an authenticator app holding `key` (as the dialog shows it) displays at `at`.
fn app_code(key: &str, at: Timestamp) -> String {
    let secret = totp_rs::Secret::try_from_base32(key.replace(' ', "")).expect("a base32 key");
    let totp = totp_rs::Builder::new()
        .with_secret(secret)
        .build()
        .expect("an RFC 6238 key");
    let secs = u64::try_from(at.as_millis() / 1000).expect("after 1970");
    totp.generate(secs).to_string()
}

/// `認証アプリを設定する`, then the dialog's read of the key.
async fn start(client: &Client) -> AppEnrolment {
    let res = client.post(paths::START_AUTHENTICATOR, &[]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.header("location"), Some("/settings?dialog=app"));
    let res = client.get_json(paths::AUTHENTICATOR_ENROLMENT).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    res.json()
}

/// A two-factor account with an authenticator app set; its key.
async fn account_with_app(app: &TestApp, email: &str, phone: &str) -> (Client, String) {
    let client = app.account(email, phone, true).await;
    let enrolment = start(&client).await;
    let res = client
        .post(
            paths::CONFIRM_AUTHENTICATOR,
            &[("code", &app_code(&enrolment.key, app.clock.now()))],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.header("location"), Some("/settings?app_added=1"));
    (client, enrolment.key)
}

#[tokio::test]
async fn an_app_is_set_from_the_key_shown_and_then_asked_for_before_sms() {
    on_each_engine(|app: TestApp| async move {
        let client = app.account("totp@example.jp", "090-3100-0001", true).await;
        assert_eq!(overview(&client).await.authenticator, None);
        let enrolment = start(&client).await;
        assert!(enrolment.qr_svg.contains("<svg"), "{}", enrolment.qr_svg);
        // 160 bits in base32: 32 characters, shown in groups of four.
        assert_eq!(
            enrolment.key.replace(' ', "").len(),
            32,
            "{}",
            enrolment.key
        );

        // A wrong code sets nothing.
        let now = app.clock.now();
        let wrong = crate::support::other_than(&app_code(&enrolment.key, now));
        let res = client
            .post(paths::CONFIRM_AUTHENTICATOR, &[("code", &wrong)])
            .await;
        assert_eq!(res.app_error(), AppError::AppCodeWrong);
        assert_eq!(count(&app.state, "authenticator_apps").await, 0);

        let res = client
            .post(
                paths::CONFIRM_AUTHENTICATOR,
                &[("code", &app_code(&enrolment.key, now))],
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert!(overview(&client).await.authenticator.is_some());
        assert!(
            history(&client)
                .await
                .contains(&"認証アプリを設定".to_owned())
        );

        // The next sign-in asks for the app's code and sends no SMS.
        let sent = app.sms().len();
        let browser = app.pending_login("totp@example.jp").await;
        assert_eq!(app.sms().len(), sent, "no SMS while the app is asked for");
        let c = challenge(&browser).await;
        assert_eq!(c.factor, Factor::App);
        assert!(c.has_app);
        // The code that confirmed the app cannot sign in too (same time step).
        let res = browser
            .post(
                paths::VERIFY_APP_CODE,
                &[("code", &app_code(&enrolment.key, now))],
            )
            .await;
        assert_eq!(res.app_error(), AppError::AppCodeUsed);
        assert_eq!(who(&browser).await, None);

        app.clock.advance(Duration::from_secs(30));
        let code = app_code(&enrolment.key, app.clock.now());
        let res = browser
            .post(paths::VERIFY_APP_CODE, &[("code", &code)])
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert_eq!(res.header("location"), Some("/settings"));
        assert_eq!(who(&browser).await.unwrap().email, "totp@example.jp");
        assert!(
            history(&browser)
                .await
                .contains(&"ログイン(認証アプリ)".to_owned())
        );

        // Replay: the same code in another browser, within its thirty seconds.
        let other = app.client_from("192.0.2.77");
        password_step(&other, "totp@example.jp").await;
        let res = other.post(paths::VERIFY_APP_CODE, &[("code", &code)]).await;
        assert_eq!(res.app_error(), AppError::AppCodeUsed);
        assert_eq!(who(&other).await, None);
    })
    .await;
}

#[tokio::test]
async fn one_step_of_drift_is_accepted_and_two_are_not() {
    on_each_engine(|app: TestApp| async move {
        let (_, key) = account_with_app(&app, "drift@example.jp", "090-3100-0002").await;
        app.clock.advance(Duration::from_secs(300));
        let now = app.clock.now();
        let browser = app.pending_login("drift@example.jp").await;
        for off_by in [
            now.plus(Duration::from_secs(60)),
            now.minus(Duration::from_secs(60)),
        ] {
            let res = browser
                .post(paths::VERIFY_APP_CODE, &[("code", &app_code(&key, off_by))])
                .await;
            assert!(
                matches!(res.app_error(), AppError::CodeMismatch { .. }),
                "{}",
                res.body
            );
        }
        // The phone's clock is thirty seconds slow.
        let res = browser
            .post(
                paths::VERIFY_APP_CODE,
                &[("code", &app_code(&key, now.minus(Duration::from_secs(30))))],
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert!(who(&browser).await.is_some());
    })
    .await;
}

#[tokio::test]
async fn five_wrong_app_codes_close_the_app_for_ten_minutes_and_sms_still_works() {
    on_each_engine(|app: TestApp| async move {
        let (_, key) = account_with_app(&app, "five@example.jp", "090-3100-0003").await;
        app.clock.advance(Duration::from_secs(60));
        let browser = app.pending_login("five@example.jp").await;
        let wrong = crate::support::other_than(&app_code(&key, app.clock.now()));
        for left in (1..=4).rev() {
            let res = browser
                .post(paths::VERIFY_APP_CODE, &[("code", &wrong)])
                .await;
            assert_eq!(
                res.app_error(),
                AppError::CodeMismatch {
                    attempts_left: left
                }
            );
        }
        let res = browser
            .post(paths::VERIFY_APP_CODE, &[("code", &wrong)])
            .await;
        assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(res.header("retry-after").is_some());
        assert!(matches!(
            res.app_error(),
            AppError::AppCodesExhausted { .. }
        ));
        // Even the right code now waits: the guesser gets no sixth try.
        let right = app_code(&key, app.clock.now());
        let res = browser
            .post(paths::VERIFY_APP_CODE, &[("code", &right)])
            .await;
        assert!(matches!(
            res.app_error(),
            AppError::AppCodesExhausted { .. }
        ));

        // `別の方法を使う` → SMS: a code goes out and signs in.
        let sent = app.sms().len();
        let res = browser.post(paths::USE_SMS_CODE, &[]).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert_eq!(res.header("location"), Some("/login/verify"));
        assert_eq!(app.sms().len(), sent + 1);
        assert_eq!(challenge(&browser).await.factor, Factor::Sms);
        // Choosing SMS again while that code is live sends nothing more.
        browser.post(paths::USE_SMS_CODE, &[]).await;
        assert_eq!(app.sms().len(), sent + 1);
        let res = browser
            .post(paths::VERIFY_LOGIN_CODE, &[("code", &app.last_code())])
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert!(who(&browser).await.is_some());

        // Ten minutes on, the app works again.
        app.clock.advance(Duration::from_secs(10 * 60));
        let later = app.client_from("192.0.2.78");
        password_step(&later, "five@example.jp").await;
        let res = later
            .post(
                paths::VERIFY_APP_CODE,
                &[("code", &app_code(&key, app.clock.now()))],
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    })
    .await;
}

#[tokio::test]
async fn wrong_app_codes_count_toward_the_lock_shared_with_sms() {
    on_each_engine(|app: TestApp| async move {
        let (client, key) = account_with_app(&app, "lock@example.jp", "090-3100-0004").await;
        let recovery = codes(&client).await;
        app.clock.advance(Duration::from_secs(60));
        // Ninety-nine wrong second-factor codes before this sign-in (SMS and app alike).
        sqlx::query("UPDATE users SET second_factor_failures = 99")
            .execute(app.state.db.pool())
            .await
            .unwrap();
        let browser = app.pending_login("lock@example.jp").await;
        let wrong = crate::support::other_than(&app_code(&key, app.clock.now()));
        let res = browser
            .post(paths::VERIFY_APP_CODE, &[("code", &wrong)])
            .await;
        assert_eq!(res.status.as_u16(), 423);
        assert_eq!(res.app_error(), AppError::SmsLocked);
        assert!(challenge(&browser).await.sms_locked);
        // Locked means locked for the app's right code too, and for SMS.
        let res = browser
            .post(
                paths::VERIFY_APP_CODE,
                &[("code", &app_code(&key, app.clock.now()))],
            )
            .await;
        assert_eq!(res.app_error(), AppError::SmsLocked);
        let sent = app.sms().len();
        browser.post(paths::USE_SMS_CODE, &[]).await;
        assert_eq!(app.sms().len(), sent, "no SMS while locked");
        // A recovery code covers every factor.
        let res = browser
            .post(paths::VERIFY_RECOVERY_CODE, &[("code", &recovery[0].code)])
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        let seen = history(&browser).await;
        assert!(
            seen.contains(&"認証コードの入力失敗が続いたため、コードでの認証を停止".to_owned())
        );
        assert!(seen.contains(&"ログイン(リカバリーコードを使用)".to_owned()));
    })
    .await;
}

#[tokio::test]
async fn removing_the_app_needs_the_password_and_sign_in_falls_back_to_sms() {
    on_each_engine(|app: TestApp| async move {
        let (_, key) = account_with_app(&app, "rm@example.jp", "090-3100-0005").await;
        app.clock.advance(Duration::from_secs(60));
        let browser = app.pending_login("rm@example.jp").await;
        let res = browser
            .post(
                paths::VERIFY_APP_CODE,
                &[("code", &app_code(&key, app.clock.now()))],
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert_eq!(count(&app.state, "remembered_browsers").await, 1);

        // Past the re-authentication window: the password first (TF-4).
        app.clock.advance(Duration::from_secs(11 * 60));
        let res = browser.post(paths::REMOVE_AUTHENTICATOR, &[]).await;
        assert_eq!(res.app_error(), AppError::ReauthRequired);
        assert_eq!(count(&app.state, "authenticator_apps").await, 1);
        let res = browser
            .post(
                paths::REMOVE_AUTHENTICATOR,
                &[("password", "not the password")],
            )
            .await;
        assert_eq!(res.app_error(), AppError::CurrentPasswordWrong);
        assert_eq!(count(&app.state, "authenticator_apps").await, 1);
        let res = browser
            .post(paths::REMOVE_AUTHENTICATOR, &[("password", PASSWORD)])
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert_eq!(res.header("location"), Some("/settings?app_removed=1"));
        assert_eq!(count(&app.state, "authenticator_apps").await, 0);
        assert_eq!(
            count(&app.state, "remembered_browsers").await,
            0,
            "removing a factor forgets remembered browsers"
        );
        assert!(
            who(&browser).await.is_some(),
            "this browser stays signed in"
        );
        assert!(
            history(&browser)
                .await
                .contains(&"認証アプリを削除".to_owned())
        );

        // Back to SMS, exactly as before the app.
        let sent = app.sms().len();
        let next = app.pending_login("rm@example.jp").await;
        assert_eq!(app.sms().len(), sent + 1);
        let c = challenge(&next).await;
        assert_eq!(c.factor, Factor::Sms);
        assert!(!c.has_app);
        let res = next.post(paths::USE_APP_CODE, &[]).await;
        assert_eq!(res.app_error(), AppError::NoAuthenticator);
        let res = next
            .post(
                paths::VERIFY_APP_CODE,
                &[("code", &app_code(&key, app.clock.now()))],
            )
            .await;
        assert_eq!(res.app_error(), AppError::NoAuthenticator);
    })
    .await;
}

#[tokio::test]
async fn setting_up_asks_for_the_password_when_it_is_not_recent_and_ends_other_sessions() {
    on_each_engine(|app: TestApp| async move {
        let client = app.account("setup@example.jp", "090-3100-0006", true).await;
        let other = app.client_from("192.0.2.79");
        password_step(&other, "setup@example.jp").await;
        other
            .post(paths::VERIFY_LOGIN_CODE, &[("code", &app.last_code())])
            .await;
        assert!(who(&other).await.is_some());

        app.clock.advance(Duration::from_secs(11 * 60));
        // The button opens the dialog, which has no key yet: it asks for the password.
        let res = client.post(paths::START_AUTHENTICATOR, &[]).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert_eq!(res.header("location"), Some("/settings?dialog=app"));
        assert_eq!(
            client
                .get_json(paths::AUTHENTICATOR_ENROLMENT)
                .await
                .app_error(),
            AppError::ReauthRequired
        );
        let res = client
            .post(
                paths::START_AUTHENTICATOR,
                &[("password", "wrong password")],
            )
            .await;
        assert_eq!(res.app_error(), AppError::CurrentPasswordWrong);
        let res = client
            .post(paths::START_AUTHENTICATOR, &[("password", PASSWORD)])
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        let enrolment: AppEnrolment = client.get_json(paths::AUTHENTICATOR_ENROLMENT).await.json();
        // Nothing is stored before the confirming code.
        assert_eq!(count(&app.state, "authenticator_apps").await, 0);
        assert!(who(&other).await.is_some());
        let res = client
            .post(
                paths::CONFIRM_AUTHENTICATOR,
                &[("code", &app_code(&enrolment.key, app.clock.now()))],
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert!(who(&client).await.is_some(), "this browser stays signed in");
        assert_eq!(who(&other).await, None, "other sessions end");
        // The key was for that one dialog: confirming again has nothing to confirm.
        let res = client
            .post(
                paths::CONFIRM_AUTHENTICATOR,
                &[("code", &app_code(&enrolment.key, app.clock.now()))],
            )
            .await;
        assert_eq!(res.app_error(), AppError::ReauthRequired);
    })
    .await;
}

#[tokio::test]
async fn a_key_left_in_the_session_sets_nothing_once_the_password_is_old() {
    on_each_engine(|app: TestApp| async move {
        let client = app.account("stale@example.jp", "090-3100-0007", true).await;
        let enrolment = start(&client).await;
        // The dialog was closed; eleven minutes later, someone at the same browser.
        app.clock.advance(Duration::from_secs(11 * 60));
        assert_eq!(
            client
                .get_json(paths::AUTHENTICATOR_ENROLMENT)
                .await
                .app_error(),
            AppError::ReauthRequired
        );
        let res = client
            .post(
                paths::CONFIRM_AUTHENTICATOR,
                &[("code", &app_code(&enrolment.key, app.clock.now()))],
            )
            .await;
        assert_eq!(res.app_error(), AppError::ReauthRequired);
        assert_eq!(count(&app.state, "authenticator_apps").await, 0);
        // Pressing the button again without the password forgets the old key: the
        // password then brings a new one.
        client.post(paths::START_AUTHENTICATOR, &[]).await;
        let res = client
            .post(paths::START_AUTHENTICATOR, &[("password", PASSWORD)])
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        let fresh: AppEnrolment = client.get_json(paths::AUTHENTICATOR_ENROLMENT).await.json();
        assert_ne!(fresh.key, enrolment.key);
    })
    .await;
}
