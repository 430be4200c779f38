//! Passkeys (MFA-2, MFA-3), on every engine, with kanidm's software passkey in the place of
//! the browser's authenticator: added, listed, renamed, removed; asked for first at sign-in;
//! each ceremony used once and only in time; adding and removing need the password.

use std::time::Duration;

use http::StatusCode;
use url::Url;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_rs_proto::{
    AllowCredentials, CreationChallengeResponse, RequestChallengeResponse, ResidentKeyRequirement,
};

use app::api::auth::Factor;
use app::error::AppError;
use app::server::Clock;

use crate::support::{
    Client, ORIGIN, PASSWORD, TestApp, TestResponse, count, on_each_engine, paths,
};
use crate::two_factor::{challenge, history, overview, who};

fn origin() -> Url {
    Url::parse(ORIGIN).expect("the test origin")
}

/// `パスキーを追加する` (with the password, as the form sends it) and `device` standing in
/// for the browser's authenticator.
async fn add(client: &Client, device: &mut SoftPasskey, name: &str) -> TestResponse {
    let res = client
        .post(paths::START_PASSKEY_REGISTRATION, &[("password", PASSWORD)])
        .await;
    if res.status != StatusCode::OK {
        return res;
    }
    let options: CreationChallengeResponse = res.json();
    let answer = device
        .do_registration(origin(), options)
        .expect("the software passkey registers");
    client
        .post(
            paths::FINISH_PASSKEY_REGISTRATION,
            &[
                ("name", name),
                ("credential", &serde_json::to_string(&answer).unwrap()),
            ],
        )
        .await
}

/// The second step with `device`: the options, the signature, the answer.
async fn sign_in_with(client: &Client, device: &mut SoftPasskey) -> TestResponse {
    let res = client.post(paths::START_PASSKEY_SIGN_IN, &[]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let options: RequestChallengeResponse = res.json();
    let answer = device
        .do_authentication(origin(), options)
        .expect("the software passkey signs");
    client
        .post(
            paths::FINISH_PASSKEY_SIGN_IN,
            &[("credential", &serde_json::to_string(&answer).unwrap())],
        )
        .await
}

#[tokio::test]
async fn a_passkey_is_added_renamed_and_asked_for_before_every_other_factor() {
    on_each_engine(|app: TestApp| async move {
        let client = app.account("pk@example.jp", "090-3200-0001", true).await;
        let mut device = SoftPasskey::new(true);
        let res = add(&client, &mut device, "  iPhone  ").await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        let listed = overview(&client).await.passkeys;
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].name, "iPhone");
        assert_eq!(listed[0].last_used, None);
        assert!(
            history(&client)
                .await
                .contains(&"パスキーを追加".to_owned())
        );

        // Renaming: bounded, and only the account's own.
        let id = listed[0].id.to_string();
        let res = client
            .post(
                paths::RENAME_PASSKEY,
                &[("id", &id), ("name", &"あ".repeat(41))],
            )
            .await;
        assert_eq!(res.app_error(), AppError::PasskeyNameTooLong { max: 40 });
        let res = client
            .post(paths::RENAME_PASSKEY, &[("id", &id), ("name", "仕事用")])
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert_eq!(overview(&client).await.passkeys[0].name, "仕事用");
        let stranger = app
            .account("other-pk@example.jp", "090-3200-0002", false)
            .await;
        let res = stranger
            .post(paths::RENAME_PASSKEY, &[("id", &id), ("name", "mine now")])
            .await;
        assert_eq!(res.app_error(), AppError::NoPasskey);
        assert_eq!(overview(&client).await.passkeys[0].name, "仕事用");

        // The next sign-in asks for the passkey; no SMS goes out.
        let sent = app.sms().len();
        let browser = app.pending_login("pk@example.jp").await;
        assert_eq!(app.sms().len(), sent);
        let c = challenge(&browser).await;
        assert_eq!(c.factor, Factor::Passkey);
        assert!(c.has_passkey);
        let res = sign_in_with(&browser, &mut device).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert_eq!(who(&browser).await.unwrap().email, "pk@example.jp");
        assert!(
            history(&browser)
                .await
                .contains(&"ログイン(パスキー)".to_owned())
        );
        assert!(overview(&browser).await.passkeys[0].last_used.is_some());
    })
    .await;
}

#[tokio::test]
async fn each_ceremony_is_used_once_in_time_and_for_its_own_purpose() {
    on_each_engine(|app: TestApp| async move {
        let client = app.account("once@example.jp", "090-3200-0003", true).await;
        let mut device = SoftPasskey::new(true);
        assert_eq!(add(&client, &mut device, "").await.status, StatusCode::OK);
        assert_eq!(overview(&client).await.passkeys[0].name, "パスキー");

        let browser = app.pending_login("once@example.jp").await;
        let res = browser.post(paths::START_PASSKEY_SIGN_IN, &[]).await;
        let options: RequestChallengeResponse = res.json();
        let answer =
            serde_json::to_string(&device.do_authentication(origin(), options).unwrap()).unwrap();
        // Too late: the ceremony lasts five minutes.
        app.clock.advance(Duration::from_secs(5 * 60 + 1));
        let res = browser
            .post(paths::FINISH_PASSKEY_SIGN_IN, &[("credential", &answer)])
            .await;
        assert_eq!(res.app_error(), AppError::PasskeyCeremonyExpired);
        assert_eq!(who(&browser).await, None);
        // In time, then the same answer again: the ceremony was used.
        assert_eq!(
            sign_in_with(&browser, &mut device).await.status,
            StatusCode::OK
        );
        let again = app.pending_login("once@example.jp").await;
        let res = again
            .post(paths::FINISH_PASSKEY_SIGN_IN, &[("credential", &answer)])
            .await;
        assert_eq!(res.app_error(), AppError::PasskeyCeremonyExpired);
        // Another account's passkey does not sign in here: its options name only this
        // account's passkeys, and a stranger's device has none of them.
        let mut strangers = SoftPasskey::new(true);
        let res = again.post(paths::START_PASSKEY_SIGN_IN, &[]).await;
        let options: RequestChallengeResponse = res.json();
        assert!(strangers.do_authentication(origin(), options).is_err());
        assert_eq!(who(&again).await, None);
        // Garbage is refused as such.
        let res = again
            .post(
                paths::FINISH_PASSKEY_SIGN_IN,
                &[("credential", "{\"id\": 1}")],
            )
            .await;
        assert_eq!(res.app_error(), AppError::PasskeyRefused);
    })
    .await;
}

#[tokio::test]
async fn adding_and_removing_need_the_password_and_removing_falls_back_to_sms() {
    on_each_engine(|app: TestApp| async move {
        // Just signed up: the password is recent, but a cookie alone must not be able to
        // make a credential that signs in by itself. The password is typed every time.
        let client = app.account("rmpk@example.jp", "090-3200-0004", true).await;
        for typed in [vec![], vec![("password", "")]] {
            let res = client.post(paths::START_PASSKEY_REGISTRATION, &typed).await;
            assert_ne!(res.status, StatusCode::OK, "{typed:?}: {}", res.body);
        }
        let res = client
            .post(
                paths::START_PASSKEY_REGISTRATION,
                &[("password", "not the password")],
            )
            .await;
        assert_eq!(res.app_error(), AppError::CurrentPasswordWrong);
        assert_eq!(count(&app.state, "passkeys").await, 0);
        let mut device = SoftPasskey::new(true);
        assert_eq!(add(&client, &mut device, "鍵").await.status, StatusCode::OK);

        // Signed in with it elsewhere (that browser is remembered).
        let browser = app.pending_login("rmpk@example.jp").await;
        assert_eq!(
            sign_in_with(&browser, &mut device).await.status,
            StatusCode::OK
        );
        assert_eq!(count(&app.state, "remembered_browsers").await, 1);

        app.clock.advance(Duration::from_secs(11 * 60));
        let id = overview(&browser).await.passkeys[0].id.to_string();
        let res = browser.post(paths::REMOVE_PASSKEY, &[("id", &id)]).await;
        assert_eq!(res.app_error(), AppError::ReauthRequired);
        let res = browser
            .post(
                paths::REMOVE_PASSKEY,
                &[("id", &id), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert_eq!(res.header("location"), Some("/settings?passkey_removed=1"));
        assert_eq!(count(&app.state, "passkeys").await, 0);
        assert_eq!(count(&app.state, "remembered_browsers").await, 0);
        assert!(
            who(&browser).await.is_some(),
            "this browser stays signed in"
        );
        assert!(
            history(&browser)
                .await
                .contains(&"パスキーを削除".to_owned())
        );

        let sent = app.sms().len();
        let next = app.pending_login("rmpk@example.jp").await;
        assert_eq!(app.sms().len(), sent + 1, "back to SMS");
        let res = next.post(paths::USE_PASSKEY, &[]).await;
        assert_eq!(res.app_error(), AppError::NoPasskey);
    })
    .await;
}

#[tokio::test]
async fn a_passkey_alone_signs_in_without_the_email_or_password() {
    on_each_engine(|app: TestApp| async move {
        let client = app.account("solo@example.jp", "090-3200-0005", true).await;
        let mut device = SoftPasskey::new(true);
        let res = client
            .post(paths::START_PASSKEY_REGISTRATION, &[("password", PASSWORD)])
            .await;
        let options: CreationChallengeResponse = res.json();
        let selection = options.public_key.authenticator_selection.clone().unwrap();
        assert_eq!(
            selection.resident_key,
            Some(ResidentKeyRequirement::Preferred),
            "a discoverable passkey is asked for where the device can make one"
        );
        let handle = options.public_key.user.id.clone();
        let registered = device.do_registration(origin(), options).unwrap();
        let credential_id = registered.raw_id.clone();
        let res = client
            .post(
                paths::FINISH_PASSKEY_REGISTRATION,
                &[
                    ("name", "鍵"),
                    ("credential", &serde_json::to_string(&registered).unwrap()),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);

        // A discoverable authenticator picks its own passkey and names its account (the
        // user handle, which is not signed); the software passkey is told which.
        let mut sign = |mut options: RequestChallengeResponse, handle: Vec<u8>| {
            assert!(
                options.public_key.allow_credentials.is_empty(),
                "the options name no account"
            );
            options.public_key.allow_credentials = vec![AllowCredentials {
                type_: "public-key".to_owned(),
                id: credential_id.clone(),
                transports: None,
            }];
            let mut answer = device.do_authentication(origin(), options).unwrap();
            answer.response.user_handle = Some(handle);
            serde_json::to_string(&answer).unwrap()
        };

        let browser = app.client_from("192.0.2.90");
        let res = browser.post(paths::START_PASSKEY_LOGIN, &[]).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        let answer = sign(res.json(), handle.clone());
        let res = browser
            .post(paths::FINISH_PASSKEY_LOGIN, &[("credential", &answer)])
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert_eq!(who(&browser).await.unwrap().email, "solo@example.jp");
        // Signed in by the passkey, not the password: changes that need the password ask
        // for it (TF-4), so this session cannot remove factors or make new ones unasked.
        let id = overview(&browser).await.passkeys[0].id.to_string();
        let res = browser.post(paths::REMOVE_PASSKEY, &[("id", &id)]).await;
        assert_eq!(res.app_error(), AppError::ReauthRequired);
        let res = browser.post(paths::START_AUTHENTICATOR, &[]).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert_eq!(
            browser
                .get_json(paths::AUTHENTICATOR_ENROLMENT)
                .await
                .app_error(),
            AppError::ReauthRequired
        );
        assert!(
            history(&browser)
                .await
                .contains(&"ログイン(パスキー)".to_owned())
        );
        assert_eq!(count(&app.state, "remembered_browsers").await, 1);

        // The same answer again: its ceremony was used.
        let again = app.client_from("192.0.2.91");
        again.post(paths::START_PASSKEY_LOGIN, &[]).await;
        let res = again
            .post(paths::FINISH_PASSKEY_LOGIN, &[("credential", &answer)])
            .await;
        assert_eq!(res.app_error(), AppError::PasskeyRefused);
        assert_eq!(who(&again).await, None);
        // A signature over this ceremony that names another account is refused.
        let res = again.post(paths::START_PASSKEY_LOGIN, &[]).await;
        let forged = sign(res.json(), vec![7; 16]);
        let res = again
            .post(paths::FINISH_PASSKEY_LOGIN, &[("credential", &forged)])
            .await;
        assert_eq!(res.app_error(), AppError::PasskeyRefused);
        assert_eq!(who(&again).await, None);
    })
    .await;
}

/// The account's second-factor lock (a hundred wrong codes, SEC-1) stops codes, not the
/// owner's passkey: it signs in, and the lock strangers ran into ends with it.
#[tokio::test]
async fn a_passkey_signs_in_while_codes_are_locked_and_lifts_the_lock() {
    on_each_engine(|app: TestApp| async move {
        let client = app
            .account("pk-lock@example.jp", "090-3200-0009", true)
            .await;
        let mut device = SoftPasskey::new(true);
        let res = add(&client, &mut device, "鍵").await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        sqlx::query("UPDATE users SET sms_locked_at = $1 WHERE email = $2")
            .bind(app.clock.now().as_millis())
            .bind("pk-lock@example.jp")
            .execute(app.state.db.pool())
            .await
            .unwrap();

        let browser = app.pending_login("pk-lock@example.jp").await;
        let c = challenge(&browser).await;
        assert!(c.sms_locked, "codes are locked");
        assert_eq!(c.factor, Factor::Passkey);
        let res = sign_in_with(&browser, &mut device).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert_eq!(who(&browser).await.unwrap().email, "pk-lock@example.jp");

        let next = app.pending_login("pk-lock@example.jp").await;
        assert!(!challenge(&next).await.sms_locked, "the lock was lifted");
    })
    .await;
}
