//! Phone registration by SMS code (PH-1..PH-9), the gateway (SMS-1..3) and the sending
//! limits (SEC-2), on every engine.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use http::StatusCode;

use app::api::account::AccountOverview;
use app::domain::NonMobileKind;
use app::error::AppError;
use app::server::sms::HttpGateway;
use app::server::sms::http::HttpGatewayConfig;
use app::server::{Settings, SmsGateway, SmsLimits};

use crate::support::{
    Client, PASSWORD, TestApp, count, on_each_engine, on_each_engine_with, other_than, paths,
};

async fn signed_in(app: &TestApp, email: &str) -> Client {
    let client = app.client();
    signed_in_as(&client, email).await;
    client
}

async fn signed_in_as(client: &Client, email: &str) {
    let res = client
        .post(paths::SIGN_UP, &[("email", email), ("password", PASSWORD)])
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
}

/// Sends a code to `phone`. The password is entered again first, so that a test that moves
/// the clock past the re-authentication window is not stopped by it (TF-4 has its own tests).
async fn send(client: &Client, phone: &str) -> crate::support::TestResponse {
    client
        .post(
            paths::CONFIRM_PASSWORD,
            &[("password", PASSWORD), ("then", "/settings")],
        )
        .await;
    client
        .post(paths::SEND_PHONE_CODE, &[("phone", phone)])
        .await
}

async fn verify(client: &Client, code: &str) -> crate::support::TestResponse {
    client
        .post(paths::VERIFY_PHONE_CODE, &[("code", code)])
        .await
}

async fn overview(client: &Client) -> AccountOverview {
    let res = client.get_json(paths::ACCOUNT_OVERVIEW).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    res.json()
}

#[tokio::test]
async fn a_right_code_saves_the_number() {
    on_each_engine(|app: TestApp| async move {
        let client = signed_in(&app, "a@example.jp").await;
        assert_eq!(overview(&client).await.phone, None);

        let res = send(&client, "０９０－１２３４－５６７８").await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert_eq!(res.header("location"), Some("/settings?dialog=phone"));
        let sms = app.sms();
        assert_eq!(sms.len(), 1);
        assert_eq!(sms[0].to_e164, "+819012345678");
        let code = app.last_code();
        assert_eq!(code.len(), 6);
        assert!(code.chars().all(|c| c.is_ascii_digit()));
        assert!(sms[0].body.starts_with("【二段】") && sms[0].body.contains(&code));
        assert_eq!(
            sms[0].body.lines().last(),
            Some(format!("@localhost #{code}").as_str()),
            "WebOTP line"
        );

        let pending = overview(&client).await.pending_phone.expect("code step");
        assert_eq!(pending.number, "090-1234-5678");
        assert_eq!(pending.resend_in_secs, 60);

        let res = verify(&client, &code).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert_eq!(
            res.header("location"),
            Some("/settings?dialog=phone&done=1")
        );
        let o = overview(&client).await;
        assert_eq!(o.phone.as_deref(), Some("090-1234-5678"));
        assert_eq!(o.pending_phone, None);

        // Single use.
        assert_eq!(
            verify(&client, &code).await.app_error(),
            AppError::NoPendingVerification
        );
        // The code is stored only as a keyed hash.
        use sqlx::Row;
        let row = sqlx::query("SELECT code_hash FROM verifications")
            .fetch_one(app.state.db.pool())
            .await
            .unwrap();
        let hash: String = row.try_get("code_hash").unwrap();
        assert_eq!(hash.len(), 64);
        assert!(!hash.contains(&code));
    })
    .await;
}

#[tokio::test]
async fn refused_numbers_send_nothing_and_say_why() {
    on_each_engine(|app: TestApp| async move {
        let client = signed_in(&app, "b@example.jp").await;
        let cases = [
            ("+1 212 555 0100", AppError::PhoneForeign),
            ("+44 7911 123456", AppError::PhoneForeign),
            (
                "03-1234-5678",
                AppError::PhoneNotMobile {
                    kind: NonMobileKind::Landline,
                },
            ),
            (
                "050-1234-5678",
                AppError::PhoneNotMobile {
                    kind: NonMobileKind::IpPhone,
                },
            ),
            (
                "0120-123-456",
                AppError::PhoneNotMobile {
                    kind: NonMobileKind::TollFree,
                },
            ),
            ("090-1234", AppError::PhoneMalformed),
            ("電話番号", AppError::PhoneMalformed),
            ("", AppError::PhoneEmpty),
        ];
        for (input, expected) in cases {
            let res = send(&client, input).await;
            assert_eq!(res.status, StatusCode::BAD_REQUEST, "{input}");
            assert_eq!(res.app_error(), expected, "{input}");
        }
        assert_eq!(
            AppError::PhoneForeign.to_string(),
            "海外発行の電話番号は設定できません。"
        );
        assert!(app.sms().is_empty());
        assert_eq!(count(&app.state, "sms_sends").await, 0);
        assert_eq!(count(&app.state, "verifications").await, 0);
    })
    .await;
}

#[tokio::test]
async fn five_wrong_codes_kill_the_attempt() {
    on_each_engine(|app: TestApp| async move {
        let client = signed_in(&app, "c@example.jp").await;
        send(&client, "090-1111-2222").await;
        let code = app.last_code();
        let wrong = other_than(&code);
        for left in [4, 3, 2, 1] {
            assert_eq!(
                verify(&client, &wrong).await.app_error(),
                AppError::CodeMismatch {
                    attempts_left: left
                }
            );
        }
        assert_eq!(
            verify(&client, &wrong).await.app_error(),
            AppError::CodeAttemptsExhausted
        );
        // The right code no longer helps: a new one must be sent.
        assert_eq!(
            verify(&client, &code).await.app_error(),
            AppError::NoPendingVerification
        );
        assert_eq!(overview(&client).await.phone, None);
        // Starting over does not bring five new entries: not for ten minutes (PH-6).
        let res = send(&client, "090-1111-2222").await;
        assert!(
            matches!(res.app_error(), AppError::RateLimited { retry_after_secs } if retry_after_secs <= 600),
            "{}",
            res.body
        );
        app.clock.advance(app::server::services::otp::CODE_TTL);
        // Malformed input is refused without costing an attempt.
        assert_eq!(send(&client, "090-1111-2222").await.status, StatusCode::OK);
        assert_eq!(
            verify(&client, "12ab").await.app_error(),
            AppError::CodeMalformed
        );
        assert_eq!(
            verify(&client, &other_than(&app.last_code()))
                .await
                .app_error(),
            AppError::CodeMismatch { attempts_left: 4 }
        );
    })
    .await;
}

#[tokio::test]
async fn codes_expire_after_ten_minutes() {
    on_each_engine(|app: TestApp| async move {
        let client = signed_in(&app, "d@example.jp").await;
        send(&client, "090-2222-3333").await;
        let code = app.last_code();
        app.clock.advance(Duration::from_secs(10 * 60));
        assert_eq!(
            verify(&client, &code).await.app_error(),
            AppError::CodeExpired
        );
        assert_eq!(overview(&client).await.phone, None);

        // Just inside the ten minutes, a code still works.
        app.clock.advance(Duration::from_secs(1));
        send(&client, "090-2222-3333").await;
        let code = app.last_code();
        app.clock.advance(Duration::from_secs(10 * 60 - 1));
        assert_eq!(verify(&client, &code).await.status, StatusCode::OK);
    })
    .await;
}

#[tokio::test]
async fn resend_kills_the_old_code_and_keeps_the_count() {
    on_each_engine(|app: TestApp| async move {
        let client = signed_in(&app, "e@example.jp").await;
        send(&client, "090-3333-4444").await;
        let old = app.last_code();
        let wrong = other_than(&old);
        verify(&client, &wrong).await;
        verify(&client, &wrong).await;

        let early = client.post(paths::RESEND_PHONE_CODE, &[]).await;
        assert_eq!(early.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            early.app_error(),
            AppError::ResendTooSoon {
                retry_after_secs: 60
            }
        );
        app.clock.advance(Duration::from_secs(59));
        assert_eq!(
            client.post(paths::RESEND_PHONE_CODE, &[]).await.app_error(),
            AppError::ResendTooSoon {
                retry_after_secs: 1
            }
        );
        app.clock.advance(Duration::from_secs(1));
        let res = client.post(paths::RESEND_PHONE_CODE, &[]).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert_eq!(
            res.header("location"),
            Some("/settings?dialog=phone&resent=1")
        );
        assert_eq!(app.sms().len(), 2);
        let new = app.last_code();
        assert_eq!(app.sms()[1].to_e164, "+819033334444", "the same number");

        assert_ne!(old, new, "a new code");
        // Two wrong entries before the resend, so this third one leaves two.
        assert_eq!(
            verify(&client, &old).await.app_error(),
            AppError::CodeMismatch { attempts_left: 2 }
        );
        assert_eq!(verify(&client, &new).await.status, StatusCode::OK);
        assert_eq!(
            overview(&client).await.phone.as_deref(),
            Some("090-3333-4444")
        );
    })
    .await;
}

#[tokio::test]
async fn closing_the_dialog_kills_the_code() {
    on_each_engine(|app: TestApp| async move {
        let client = signed_in(&app, "f@example.jp").await;
        send(&client, "090-4444-5555").await;
        let code = app.last_code();
        let res = client.post(paths::ABANDON_PHONE_CODE, &[]).await;
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(res.header("location"), Some("/settings"));
        assert_eq!(
            overview(&client).await.pending_phone,
            None,
            "the next open starts from the number"
        );
        assert_eq!(
            verify(&client, &code).await.app_error(),
            AppError::NoPendingVerification
        );

        // Sending again (a new attempt) also kills the previous code.
        send(&client, "090-4444-5555").await;
        let first = app.last_code();
        send(&client, "090-4444-6666").await;
        assert_ne!(first, app.last_code(), "a new code");
        assert_eq!(
            verify(&client, &first).await.app_error(),
            AppError::CodeMismatch { attempts_left: 4 }
        );
        assert_eq!(
            verify(&client, &app.last_code()).await.status,
            StatusCode::OK
        );
        assert_eq!(
            overview(&client).await.phone.as_deref(),
            Some("090-4444-6666")
        );
    })
    .await;
}

#[tokio::test]
async fn a_number_can_be_changed_but_not_shared() {
    on_each_engine(|app: TestApp| async move {
        let first = signed_in(&app, "g1@example.jp").await;
        send(&first, "090-5555-6666").await;
        verify(&first, &app.last_code()).await;
        // Changing uses the same steps.
        send(&first, "080-5555-6666").await;
        verify(&first, &app.last_code()).await;
        assert_eq!(
            overview(&first).await.phone.as_deref(),
            Some("080-5555-6666")
        );

        // The send step does not tell whether a number is in use (no enumeration) ...
        let second = signed_in(&app, "g2@example.jp").await;
        let res = send(&second, "080-5555-6666").await;
        assert_eq!(res.status, StatusCode::OK);
        // ... proving possession does, and nothing is saved.
        let res = verify(&second, &app.last_code()).await;
        assert_eq!(res.status, StatusCode::CONFLICT);
        assert_eq!(res.app_error(), AppError::PhoneTaken);
        assert_eq!(overview(&second).await.phone, None);
        // The old number is free again for someone else.
        send(&second, "090-5555-6666").await;
        assert_eq!(
            verify(&second, &app.last_code()).await.status,
            StatusCode::OK
        );
    })
    .await;
}

#[tokio::test]
async fn two_accounts_racing_for_one_number_cannot_both_win() {
    on_each_engine(|app: TestApp| async move {
        let (a, b) = (
            signed_in(&app, "h1@example.jp").await,
            signed_in(&app, "h2@example.jp").await,
        );
        send(&a, "090-6666-7777").await;
        let code_a = app.last_code();
        send(&b, "090-6666-7777").await;
        let code_b = app.last_code();
        let (ra, rb) = tokio::join!(verify(&a, &code_a), verify(&b, &code_b));
        let mut statuses = [ra.status, rb.status];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::OK, StatusCode::CONFLICT],
            "{} / {}",
            ra.body,
            rb.body
        );
        use sqlx::Row;
        let row = sqlx::query("SELECT COUNT(*) AS n FROM users WHERE phone_e164 = '+819066667777'")
            .fetch_one(app.state.db.pool())
            .await
            .unwrap();
        assert_eq!(row.try_get::<i64, _>("n").unwrap(), 1);
    })
    .await;
}

fn small_limits(state: &mut app::server::AppState) {
    state.settings = Arc::new(Settings {
        sms_limits: SmsLimits {
            per_ip_hour: 3,
            global_hour: 10,
            ..SmsLimits::default()
        },
        ..Settings::development()
    });
}

#[tokio::test]
async fn per_number_limits_refuse_with_the_time_to_wait() {
    // The per-account limit is raised so that only the per-number rules can refuse.
    let only_per_number = |state: &mut app::server::AppState| {
        state.settings = Arc::new(Settings {
            sms_limits: SmsLimits {
                per_account_day: 100,
                ..SmsLimits::default()
            },
            ..Settings::development()
        })
    };
    on_each_engine_with(only_per_number, |app: TestApp| async move {
        let client = signed_in(&app, "i@example.jp").await;
        for _ in 0..5 {
            assert_eq!(send(&client, "090-7777-8888").await.status, StatusCode::OK);
            app.clock.advance(Duration::from_secs(60));
        }
        let res = send(&client, "090-7777-8888").await;
        assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
        // The first of the five was sent 300 s ago: the hour frees it in 3300 s.
        assert_eq!(
            res.app_error(),
            AppError::SmsLimited {
                retry_after_secs: 3300
            }
        );
        assert_eq!(app.sms().len(), 5, "no SMS for a refused send");
        // Resending counts too.
        app.clock.advance(Duration::from_secs(60));
        assert_eq!(
            client.post(paths::RESEND_PHONE_CODE, &[]).await.status,
            StatusCode::TOO_MANY_REQUESTS
        );

        // After the hour, again up to ten a day.
        app.clock.advance(Duration::from_secs(3600));
        for _ in 0..5 {
            assert_eq!(send(&client, "090-7777-8888").await.status, StatusCode::OK);
        }
        app.clock.advance(Duration::from_secs(3600));
        assert_eq!(
            send(&client, "090-7777-8888").await.app_error().status(),
            429,
            "ten a day per number"
        );
    })
    .await;
}

#[tokio::test]
async fn per_account_limit_is_ten_a_day() {
    on_each_engine(|app: TestApp| async move {
        let client = signed_in(&app, "j@example.jp").await;
        for i in 0..10 {
            let res = send(&client, &format!("090-1234-{:04}", 5600 + i)).await;
            assert_eq!(res.status, StatusCode::OK, "{i}: {}", res.body);
        }
        assert!(matches!(
            send(&client, "090-1234-5699").await.app_error(),
            AppError::SmsLimited { .. }
        ));
        app.clock.advance(Duration::from_secs(24 * 3600));
        assert_eq!(send(&client, "090-1234-5699").await.status, StatusCode::OK);
    })
    .await;
}

#[tokio::test]
async fn per_ip_and_global_limits_hold_and_are_configurable() {
    on_each_engine_with(small_limits, |app: TestApp| async move {
        // Three accounts behind one address: the fourth send from it is refused.
        for (i, email) in ["k1@example.jp", "k2@example.jp", "k3@example.jp"]
            .into_iter()
            .enumerate()
        {
            let c = signed_in(&app, email).await;
            assert_eq!(
                send(&c, &format!("090-1000-000{i}")).await.status,
                StatusCode::OK
            );
        }
        let c = signed_in(&app, "k4@example.jp").await;
        assert!(matches!(
            send(&c, "090-1000-0009").await.app_error(),
            AppError::SmsLimited { .. }
        ));

        // Elsewhere it works, until registrations have used their half of the global
        // ceiling of ten an hour (the other half is kept for sign-in codes).
        for (i, ip) in ["198.51.100.1", "198.51.100.2"].into_iter().enumerate() {
            let c = app.client_from(ip);
            signed_in_as(&c, &format!("l{i}@example.jp")).await;
            assert_eq!(
                send(&c, &format!("090-2000-000{i}")).await.status,
                StatusCode::OK
            );
        }
        let c = app.client_from("198.51.100.3");
        signed_in_as(&c, "l9@example.jp").await;
        assert!(matches!(
            send(&c, "090-2000-0009").await.app_error(),
            AppError::SmsLimited { .. }
        ));
        assert_eq!(app.sms().len(), 5);
    })
    .await;
}

#[tokio::test]
async fn signed_out_requests_are_refused() {
    on_each_engine(|app: TestApp| async move {
        let client = app.client();
        let res = send(&client, "090-1234-5678").await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
        assert_eq!(res.app_error(), AppError::Unauthenticated);
        assert!(app.sms().is_empty());
    })
    .await;
}

#[tokio::test]
async fn the_dialog_works_as_plain_forms() {
    on_each_engine(|app: TestApp| async move {
        let client = signed_in(&app, "m@example.jp").await;
        let page = client.get("/settings?dialog=phone").await;
        assert!(page.body.contains("role=\"dialog\""));
        assert!(page.body.contains("二段階認証も有効にする") && page.body.contains("送信する"));
        assert!(
            page.body
                .contains("固定電話やSMSサービスを提供していない携帯電話プラン")
        );

        let res = client
            .post_html_form(
                paths::SEND_PHONE_CODE,
                "/settings?dialog=phone",
                &[("phone", "03-1234-5678")],
            )
            .await;
        assert_eq!(res.status, StatusCode::FOUND);
        let back = res
            .header("location")
            .unwrap()
            .trim_start_matches("http://localhost:3000")
            .to_owned();
        let page = client.get(&back).await;
        assert!(
            page.body
                .contains("固定電話の番号はSMSを受信できないため設定できません。"),
            "error shown next to the field"
        );

        let res = client
            .post_html_form(
                paths::SEND_PHONE_CODE,
                "/settings?dialog=phone",
                &[("phone", "090-8888-9999"), ("enable_two_factor", "on")],
            )
            .await;
        assert_eq!(res.header("location"), Some("/settings?dialog=phone"));
        let page = client.get("/settings?dialog=phone").await;
        for text in [
            "認証コード",
            "one-time-code",
            "inputmode=\"numeric\"",
            "認証する",
            "再送する",
            "090-8888-9999",
        ] {
            assert!(page.body.contains(text), "code step lacks {text}");
        }
        let res = client
            .post_html_form(
                paths::VERIFY_PHONE_CODE,
                "/settings?dialog=phone",
                &[("code", &app.last_code())],
            )
            .await;
        // `二段階認証も有効にする` was ticked: two-factor is on, and the success step lists the codes.
        assert_eq!(
            res.header("location"),
            Some("/settings?dialog=phone&done=1&two_factor=1")
        );
        let page = client
            .get("/settings?dialog=phone&done=1&two_factor=1")
            .await;
        assert!(page.body.contains("電話番号を設定しました。") && page.body.contains("閉じる"));
        assert!(page.body.contains("二段階認証を有効にしました。"));
        assert_eq!(
            page.body.matches("<li><code>").count(),
            10,
            "the ten new recovery codes"
        );
    })
    .await;
}

#[tokio::test]
async fn the_outbox_serves_messages_only_while_it_is_the_gateway() {
    on_each_engine_with(
        |state| state.sms = SmsGateway::Outbox(state.db.clone()),
        |app: TestApp| async move {
            let client = signed_in(&app, "n@example.jp").await;
            send(&client, "090-9999-0000").await;
            send(&client, "090-9999-0001").await;
            // Every code is in there: only this machine may read it (SEC-9).
            assert_eq!(
                client.get_json("/dev/sms.json").await.status,
                StatusCode::NOT_FOUND
            );
            assert_eq!(client.get("/dev/sms").await.status, StatusCode::NOT_FOUND);
            let client = app.client_from("127.0.0.1");
            let res = client.get_json("/dev/sms.json").await;
            assert_eq!(res.status, StatusCode::OK);
            let list: Vec<serde_json::Value> = res.json();
            assert_eq!(list.len(), 2);
            assert_eq!(list[0]["to"], "+819099990001", "newest first");
            assert!(list[0]["body"].as_str().unwrap().contains("認証コード"));
            assert_eq!(list[0]["sent_at"], "2026-11-25T00:00:00Z");
            let html = client.get("/dev/sms").await;
            assert_eq!(html.status, StatusCode::OK);
            assert!(html.body.contains("+819099990000") && html.body.contains("認証コード"));
            assert_eq!(
                app.client_from("::1")
                    .get_json("/dev/sms.json")
                    .await
                    .status,
                StatusCode::OK
            );
        },
    )
    .await;
    // NIDAN_DEV_OUTBOX=1 opens it to everyone, on purpose.
    on_each_engine_with(
        |state| {
            state.sms = SmsGateway::Outbox(state.db.clone());
            state.settings = Arc::new(app::server::Settings {
                dev_outbox_open: true,
                ..app::server::Settings::development()
            });
        },
        |app: TestApp| async move {
            assert_eq!(
                app.client().get_json("/dev/sms.json").await.status,
                StatusCode::OK
            );
        },
    )
    .await;
    on_each_engine(|app: TestApp| async move {
        assert_eq!(
            app.client_from("127.0.0.1")
                .get_json("/dev/sms.json")
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.client().get("/dev/sms").await.status,
            StatusCode::NOT_FOUND
        );
    })
    .await;
}

/// A stand-in for Twilio on loopback: `/ok` accepts, `/reject` answers 400, `/fail` 503,
/// `/slow` answers after the client's timeout.
async fn fake_gateway() -> (String, Arc<Mutex<Vec<(String, String)>>>) {
    type Seen = Arc<Mutex<Vec<(String, String)>>>;
    async fn messages(
        Path((mode, _sid)): Path<(String, String)>,
        State(seen): State<Seen>,
        headers: http::HeaderMap,
        body: String,
    ) -> StatusCode {
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        seen.lock().unwrap().push((auth, body));
        match mode.as_str() {
            "ok" => StatusCode::CREATED,
            "reject" => StatusCode::BAD_REQUEST,
            "slow" => {
                tokio::time::sleep(Duration::from_secs(3)).await;
                StatusCode::CREATED
            }
            _ => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
    let seen: Seen = Arc::default();
    let router = axum::Router::new()
        .route(
            "/{mode}/2010-04-01/Accounts/{sid}/Messages.json",
            axum::routing::post(messages),
        )
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (format!("http://{addr}"), seen)
}

fn http_gateway(base: &str, mode: &str) -> SmsGateway {
    SmsGateway::Http(Arc::new(
        HttpGateway::new(HttpGatewayConfig {
            base_url: format!("{base}/{mode}"),
            account_sid: "AC123".into(),
            auth_token: "token-456".to_owned().into(),
            from: "+15005550006".into(),
            timeout: Duration::from_secs(1),
        })
        .unwrap(),
    ))
}

#[tokio::test]
async fn the_http_gateway_sends_and_its_failures_leave_no_usable_code() {
    let (base, seen) = fake_gateway().await;
    for mode in ["ok", "reject", "fail", "slow"] {
        let base = base.clone();
        let seen = seen.clone();
        on_each_engine_with(
            move |state| state.sms = http_gateway(&base, mode),
            move |app: TestApp| {
                let seen = seen.clone();
                async move {
                    seen.lock().unwrap().clear();
                    let client = signed_in(&app, "o@example.jp").await;
                    let res = send(&client, "090-1212-3434").await;
                    let (auth, body) = seen
                        .lock()
                        .unwrap()
                        .last()
                        .cloned()
                        .expect("the gateway was called");
                    // Basic auth with the account SID and token; a form with To, From, Body.
                    assert_eq!(auth, "Basic QUMxMjM6dG9rZW4tNDU2", "{mode}");
                    assert!(
                        body.contains("To=%2B819012123434")
                            && body.contains("From=%2B15005550006")
                            && body.contains("Body="),
                        "{body}"
                    );
                    if mode == "ok" {
                        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
                        assert!(overview(&client).await.pending_phone.is_some());
                    } else {
                        assert_eq!(res.status, StatusCode::BAD_GATEWAY, "{mode}: {}", res.body);
                        assert_eq!(res.app_error(), AppError::SmsFailed);
                        assert_eq!(
                            overview(&client).await.pending_phone,
                            None,
                            "{mode}: no usable code"
                        );
                        // Refused (4xx): surely not sent, so it costs nothing. A 5xx or a
                        // timeout may have gone out and been billed: it keeps counting, so
                        // an outage cannot be used to call the gateway without bound.
                        let counted = if mode == "reject" { 0 } else { 1 };
                        assert_eq!(
                            count(&app.state, "sms_sends").await,
                            counted,
                            "{mode}: what the failed send costs"
                        );
                    }
                }
            },
        )
        .await;
    }
}
