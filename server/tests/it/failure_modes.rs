//! Failure modes and attacks (SEC-1, SEC-7..SEC-9): what a proxy, an attacker with a script
//! or a failing database can do, on every engine. `docs/security.md` says which limit each
//! test shows.

use std::sync::Arc;
use std::time::Duration;

use http::{StatusCode, header};

use app::error::AppError;
use app::server::{ProxyHeader, Settings, TrustedProxies};

use crate::support::{
    PASSWORD, TestApp, on_each_engine, on_each_engine_with, paths, unlimited_sms,
};
use crate::two_factor::{password_step, remembered, who};

async fn sign_up(app: &TestApp, email: &str) {
    let res = app
        .client()
        .post(paths::SIGN_UP, &[("email", email), ("password", PASSWORD)])
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
}

fn wrong_password(email: &str) -> [(&'static str, String); 2] {
    [
        ("email", email.to_owned()),
        ("password", "not the password".to_owned()),
    ]
}

async fn log_in_wrong(client: &crate::support::Client, email: &str) -> AppError {
    let form = wrong_password(email);
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    client.post(paths::LOG_IN, &pairs).await.app_error()
}

/// Behind a trusted proxy every client has its own bucket; a forged `X-Forwarded-For`
/// changes nothing, and an untrusted peer's header is not read at all (SEC-7).
#[tokio::test]
async fn a_client_behind_a_trusted_proxy_is_limited_by_its_own_address() {
    on_each_engine_with(
        |state| {
            state.settings = Arc::new(Settings {
                trusted_proxies: TrustedProxies::parse("10.0.0.0/8", ProxyHeader::XForwardedFor)
                    .unwrap(),
                login_free_failures_per_ip: 3,
                ..Settings::development()
            });
        },
        |app: TestApp| async move {
            for n in 0..5 {
                sign_up(&app, &format!("u{n}@example.jp")).await;
            }
            let a = app.client_behind("10.0.0.1", "203.0.113.1", None);
            for n in 0..3 {
                assert_eq!(
                    log_in_wrong(&a, &format!("u{n}@example.jp")).await,
                    AppError::InvalidCredentials
                );
            }
            // A fourth account from A: A's address is past its free failures.
            assert!(matches!(
                log_in_wrong(&a, "u3@example.jp").await,
                AppError::RateLimited { .. }
            ));
            // Forging another address in front of the proxy's entry does not help A.
            let forging = app.client_behind("10.0.0.1", "203.0.113.1", Some("198.51.100.99"));
            assert!(matches!(
                log_in_wrong(&forging, "u4@example.jp").await,
                AppError::RateLimited { .. }
            ));
            // B, through the same proxy, is judged: the proxy is not one bucket.
            let b = app.client_behind("10.0.0.2", "203.0.113.2", None);
            assert_eq!(
                log_in_wrong(&b, "u3@example.jp").await,
                AppError::InvalidCredentials
            );
            // A peer that is not a trusted proxy is its own client whatever it claims.
            let direct = app.client_behind("192.0.2.50", "203.0.113.2", None);
            for _ in 0..3 {
                log_in_wrong(&direct, "u4@example.jp").await;
            }
            assert!(matches!(
                log_in_wrong(&direct, "u0@example.jp").await,
                AppError::RateLimited { .. }
            ));
            assert_eq!(
                log_in_wrong(&b, "u0@example.jp").await,
                AppError::InvalidCredentials,
                "the direct peer's failures were not counted against 203.0.113.2"
            );
        },
    )
    .await;
}

/// IPv6 clients share one bucket per /64 (SEC-7): changing the last 64 bits buys nothing.
#[tokio::test]
async fn ipv6_clients_are_counted_per_64() {
    on_each_engine_with(
        |state| {
            state.settings = Arc::new(Settings {
                login_free_failures_per_ip: 2,
                ..Settings::development()
            });
        },
        |app: TestApp| async move {
            for n in 0..3 {
                sign_up(&app, &format!("v{n}@example.jp")).await;
            }
            log_in_wrong(&app.client_from("2001:db8:0:1::1"), "v0@example.jp").await;
            log_in_wrong(&app.client_from("2001:db8:0:1::2"), "v1@example.jp").await;
            assert!(matches!(
                log_in_wrong(&app.client_from("2001:db8:0:1:ffff::3"), "v2@example.jp").await,
                AppError::RateLimited { .. }
            ));
            assert_eq!(
                log_in_wrong(&app.client_from("2001:db8:0:2::1"), "v2@example.jp").await,
                AppError::InvalidCredentials,
                "the next /64 is another client"
            );
        },
    )
    .await;
}

/// Wrong passwords from any number of other addresses cannot delay the owner's remembered
/// browser, nor a signed-in session re-entering its password (SEC-1); they do slow strangers.
#[tokio::test]
async fn an_attacker_cannot_delay_the_owners_remembered_browser_or_session() {
    on_each_engine_with(unlimited_sms, |app: TestApp| async move {
        let session = app.account("own@example.jp", "090-3000-0001", true).await;
        let browser = remembered(&app, "own@example.jp").await;
        browser.post(paths::LOG_OUT, &[]).await;

        // Fifty wrong passwords from ten addresses fill the account-wide ceiling (50), each
        // address within its own free failures.
        for a in 0..10 {
            let attacker = app.client_from(&format!("203.0.113.{}", a + 10));
            for _ in 0..5 {
                assert_eq!(
                    log_in_wrong(&attacker, "own@example.jp").await,
                    AppError::InvalidCredentials
                );
            }
        }
        let stranger = app.client_from("198.51.100.200");
        let res = password_step(&stranger, "own@example.jp").await;
        assert_eq!(
            res.status,
            StatusCode::TOO_MANY_REQUESTS,
            "strangers slow down"
        );
        assert!(res.header("retry-after").is_some());

        // The owner's remembered browser goes straight in.
        let res = password_step(&browser, "own@example.jp").await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert_eq!(res.header("location"), Some("/settings"));

        // The owner's live session can still confirm its password (TF-4), at once: it is not
        // counted against the account-wide ceiling the attacker filled a moment ago.
        let res = session
            .post(
                paths::CONFIRM_PASSWORD,
                &[("password", PASSWORD), ("then", "/settings")],
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    })
    .await;
}

/// A database that does not answer is 503 with `Retry-After`, and nobody gets in (SEC-8).
#[tokio::test]
async fn a_failing_database_answers_503_and_signs_nobody_in() {
    on_each_engine(|app: TestApp| async move {
        sign_up(&app, "db@example.jp").await;
        app.state.db.close().await;
        let client = app.client();
        let res = password_step(&client, "db@example.jp").await;
        assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE, "{}", res.body);
        assert!(matches!(res.app_error(), AppError::Unavailable { .. }));
        assert!(res.header("retry-after").is_some());
        assert!(
            res.header("set-cookie").is_none(),
            "no session for anyone: {:?}",
            res.header("set-cookie")
        );
        assert!(client.session_cookie().is_none());
    })
    .await;
}

/// With every hashing worker busy and the queue full, sign-ups, sign-ins and password
/// checks are turned away at once with 503 and `Retry-After`, before anything is counted;
/// once a place is free they work (issue 11, SEC-8).
#[tokio::test]
async fn a_full_hashing_queue_answers_503_and_counts_nothing() {
    let one_place = |state: &mut app::server::AppState| {
        state.passwords = state
            .passwords
            .clone()
            .with_pool(1, 0)
            .expect("hashing pool");
    };
    on_each_engine_with(one_place, |app: TestApp| async move {
        sign_up(&app, "hq@example.jp").await;
        let held = app.state.passwords.reserve().expect("the one place");
        let failures = crate::support::count(&app.state, "login_failures").await;
        let client = app.client();
        for res in [
            password_step(&client, "hq@example.jp").await,
            client
                .post(
                    paths::SIGN_UP,
                    &[("email", "hq2@example.jp"), ("password", PASSWORD)],
                )
                .await,
        ] {
            assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE, "{}", res.body);
            assert_eq!(
                res.app_error(),
                AppError::Unavailable {
                    retry_after_secs: 1
                }
            );
            assert_eq!(res.header("retry-after"), Some("1"));
        }
        assert_eq!(
            crate::support::count(&app.state, "login_failures").await,
            failures,
            "a busy answer counts against nobody"
        );
        drop(held);
        let res = password_step(&client, "hq@example.jp").await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    })
    .await;
}

/// The place can be taken between the look (`hashing_room`) and the reservation: the attempt
/// the throttle had already counted is then withdrawn, so even that race counts against
/// nobody (issue 11).
#[tokio::test]
async fn an_attempt_that_loses_the_last_place_is_withdrawn() {
    use app::server::services::throttle;
    let one_place = |state: &mut app::server::AppState| {
        state.passwords = state
            .passwords
            .clone()
            .with_pool(1, 0)
            .expect("hashing pool");
    };
    on_each_engine_with(one_place, |app: TestApp| async move {
        let state = &app.state;
        let now = state.clock.now();
        let scopes = throttle::login_scopes(
            &state.settings,
            "race@example.jp",
            throttle::Claimant::Address("ip:192.0.2.9"),
        );
        assert!(app::server::web::hashing_room(state).is_ok());
        let attempt = throttle::begin_attempt(state, &scopes, now)
            .await
            .expect("counted");
        let counted = crate::support::count(state, "login_failures").await;
        assert!(counted >= 1, "the attempt was counted first");
        // Someone else takes the last place now.
        let held = state.passwords.reserve().expect("the one place");
        let refused = app::server::web::hashing_place(state, attempt).await;
        assert_eq!(
            refused.err(),
            Some(AppError::Unavailable {
                retry_after_secs: 1
            })
        );
        assert_eq!(
            crate::support::count(state, "login_failures").await,
            0,
            "withdrawn: it counts against nobody"
        );
        drop(held);
        let attempt = throttle::begin_attempt(state, &scopes, now)
            .await
            .expect("counted");
        assert!(
            app::server::web::hashing_place(state, attempt)
                .await
                .is_ok()
        );
    })
    .await;
}

/// Rate-limited answers say when to come back, in the header and the message (SEC-8).
#[tokio::test]
async fn rate_limited_answers_carry_retry_after() {
    on_each_engine(|app: TestApp| async move {
        sign_up(&app, "ra@example.jp").await;
        let client = app.client_from("198.51.100.1");
        for _ in 0..5 {
            log_in_wrong(&client, "ra@example.jp").await;
        }
        let res = password_step(&client, "ra@example.jp").await;
        assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(res.header("retry-after"), Some("1"));
    })
    .await;
}

/// The WebOTP line names the configured host, never the one a request claims (SEC-9).
#[tokio::test]
async fn the_webotp_host_comes_from_configuration_not_the_request() {
    on_each_engine(|app: TestApp| async move {
        let client = app.client();
        client
            .post(
                paths::SIGN_UP,
                &[("email", "host2@example.jp"), ("password", PASSWORD)],
            )
            .await;
        let mut req = client
            .request("POST", paths::SEND_PHONE_CODE)
            .header(header::ORIGIN, "http://evil.example")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .body(axum::body::Body::from("phone=090-4000-0001"))
            .unwrap();
        req.headers_mut()
            .insert(header::HOST, "evil.example".parse().unwrap());
        let res = client.send(req).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        let body = app.sms().last().unwrap().body.clone();
        assert!(
            body.lines().last().unwrap().starts_with("@localhost #"),
            "{body}"
        );
    })
    .await;
}

/// A stolen session cannot put its own phone on the account or switch two-factor without
/// the password (TF-4, with a short `NIDAN_REAUTH_WINDOW_SECS`), and each change ends every
/// other session of the account.
#[tokio::test]
async fn phone_and_two_factor_changes_need_the_password_and_end_other_sessions() {
    on_each_engine_with(
        |state| {
            state.settings = Arc::new(Settings {
                reauth_window: Duration::from_secs(60),
                ..Settings::development()
            });
        },
        |app: TestApp| async move {
            sign_up(&app, "st@example.jp").await;
            let owner = app.client();
            password_step(&owner, "st@example.jp").await;
            let thief = app.client_from("203.0.113.66");
            password_step(&thief, "st@example.jp").await;
            assert!(who(&thief).await.is_some());

            app.clock.advance(Duration::from_secs(61));
            let sms_before = app.sms().len();
            let res = thief
                .post(
                    paths::SEND_PHONE_CODE,
                    &[("phone", "090-5000-0001"), ("enable_two_factor", "on")],
                )
                .await;
            assert_eq!(res.app_error(), AppError::ReauthRequired);
            assert_eq!(app.sms().len(), sms_before, "nothing sent");

            // The owner confirms the password and sets the number: the thief is out.
            let res = owner
                .post(
                    paths::CONFIRM_PASSWORD,
                    &[("password", PASSWORD), ("then", "/settings?dialog=phone")],
                )
                .await;
            assert_eq!(res.status, StatusCode::OK, "{}", res.body);
            let before = owner.session_cookie();
            assert_eq!(
                owner
                    .post(paths::SEND_PHONE_CODE, &[("phone", "090-5000-0001")])
                    .await
                    .status,
                StatusCode::OK
            );
            let res = owner
                .post(paths::VERIFY_PHONE_CODE, &[("code", &app.last_code())])
                .await;
            assert_eq!(res.status, StatusCode::OK, "{}", res.body);
            assert_ne!(
                owner.session_cookie(),
                before,
                "the owner's session id changed"
            );
            assert!(who(&owner).await.is_some(), "the owner stays signed in");
            assert!(who(&thief).await.is_none(), "every other session ended");

            // Turning two-factor on needs the password too, and ends other sessions.
            let thief = app.client_from("203.0.113.66");
            password_step(&thief, "st@example.jp").await;
            app.clock.advance(Duration::from_secs(61));
            let res = owner
                .post(paths::SAVE_TWO_FACTOR, &[("enabled", "on")])
                .await;
            assert_eq!(res.app_error(), AppError::ReauthRequired);
            owner
                .post(
                    paths::CONFIRM_PASSWORD,
                    &[("password", PASSWORD), ("then", "/settings")],
                )
                .await;
            let res = owner
                .post(paths::SAVE_TWO_FACTOR, &[("enabled", "on")])
                .await;
            assert_eq!(res.status, StatusCode::OK, "{}", res.body);
            assert!(who(&owner).await.is_some());
            assert!(who(&thief).await.is_none());
        },
    )
    .await;
}

/// A hundred wrong codes lock the SMS factor, but the owner's remembered browser lifts the
/// lock, and without it the lock ends by itself after a day (SEC-1).
#[tokio::test]
async fn the_sms_lock_never_keeps_the_owner_out_for_good() {
    async fn lock(app: &TestApp, email: &str) {
        let mut last = AppError::Internal;
        for _ in 0..20 {
            // A new attempt gets five entries only once the last five are ten minutes old.
            app.clock.advance(app::server::services::otp::CODE_TTL);
            let b = app.pending_login(email).await;
            let wrong = crate::support::other_than(&app.last_code());
            for _ in 0..5 {
                last = b
                    .post(paths::VERIFY_LOGIN_CODE, &[("code", &wrong)])
                    .await
                    .app_error();
            }
        }
        assert_eq!(last, AppError::SmsLocked);
        let sms_before = app.sms().len();
        app.pending_login(email).await;
        assert_eq!(app.sms().len(), sms_before, "locked: no code is sent");
    }

    on_each_engine_with(unlimited_sms, |app: TestApp| async move {
        app.account("lk@example.jp", "090-6000-0001", true).await;
        let browser = remembered(&app, "lk@example.jp").await;
        browser.post(paths::LOG_OUT, &[]).await;
        lock(&app, "lk@example.jp").await;

        // The remembered browser signs in and lifts the lock; once the last wrong codes are
        // ten minutes old, codes go out again.
        let res = password_step(&browser, "lk@example.jp").await;
        assert_eq!(res.header("location"), Some("/settings"));
        app.clock.advance(app::server::services::otp::CODE_TTL);
        let sms_before = app.sms().len();
        app.pending_login("lk@example.jp").await;
        assert_eq!(app.sms().len(), sms_before + 1, "codes go out again");

        // Locked again, with no remembered browser: a day later it is over.
        lock(&app, "lk@example.jp").await;
        app.clock.advance(Duration::from_secs(24 * 3600));
        let b = app.pending_login("lk@example.jp").await;
        let res = b
            .post(paths::VERIFY_LOGIN_CODE, &[("code", &app.last_code())])
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    })
    .await;
}

/// Production refuses to start without saying whether there is a proxy, and on PostgreSQL
/// without a shared secret key (SEC-7, SEC-9); a typo in the proxy list is refused too.
#[tokio::test]
async fn production_refuses_unsafe_configurations() {
    let data = std::env::temp_dir().join(format!("nidan-config-{}", std::process::id()));
    let base: &[(&str, &str)] = &[
        ("NIDAN_ENV", "production"),
        ("NIDAN_PUBLIC_URL", "https://nidan.example"),
        ("NIDAN_SMS_BACKEND", "http"),
        ("NIDAN_SMS_HTTP_ACCOUNT_SID", "AC1"),
        ("NIDAN_SMS_HTTP_AUTH_TOKEN", "token"),
        ("NIDAN_SMS_HTTP_FROM", "+15005550006"),
        ("LEPTOS_SITE_ADDR", "127.0.0.1:0"),
        ("LEPTOS_OUTPUT_NAME", "nidan"),
    ];
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[], "NIDAN_TRUSTED_PROXIES"),
        (
            &[("NIDAN_TRUSTED_PROXIES", "10.0.0.300")],
            "NIDAN_TRUSTED_PROXIES",
        ),
        (
            &[
                ("NIDAN_TRUSTED_PROXIES", "none"),
                ("DATABASE_URL", "postgres://127.0.0.1:1/nidan"),
            ],
            "NIDAN_SECRET_KEY",
        ),
    ];
    for (extra, named) in cases {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_server"));
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("NIDAN_DATA_DIR", &data)
            .env("RUST_LOG", "error")
            .kill_on_drop(true);
        for (k, v) in base.iter().chain(extra.iter()) {
            command.env(k, v);
        }
        let out = tokio::time::timeout(Duration::from_secs(30), command.output())
            .await
            .expect("the server gave up at once")
            .unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.status.success(), "{extra:?}: it started");
        assert!(
            said.contains(named),
            "{extra:?}: should name {named}: {said}"
        );
    }
    let _ = std::fs::remove_dir_all(&data);
}

/// Registration sends by other accounts cannot use up the verified owner's sign-in codes,
/// and together they cannot send a number more than its daily ceiling (SEC-2).
#[tokio::test]
async fn other_accounts_cannot_use_up_the_owners_sign_in_codes() {
    on_each_engine(|app: TestApp| async move {
        let number = "090-7000-0001";
        app.account("owner@example.jp", number, true).await;
        let send_from = |email: &'static str| {
            let app = &app;
            async move {
                let client = app.client();
                client
                    .post(paths::SIGN_UP, &[("email", email), ("password", PASSWORD)])
                    .await;
                let mut sent = 0;
                loop {
                    let res = client
                        .post(paths::SEND_PHONE_CODE, &[("phone", number)])
                        .await;
                    if res.status != StatusCode::OK {
                        assert!(matches!(res.app_error(), AppError::SmsLimited { .. }));
                        assert!(res.header("retry-after").is_some());
                        return sent;
                    }
                    sent += 1;
                    assert!(sent <= 10, "no limit held");
                }
            }
        };
        // One account: five an hour to a number it does not hold.
        assert_eq!(send_from("a1@example.jp").await, 5);
        // Others: together up to ten a day (the owner's own registration was the first).
        assert_eq!(send_from("a2@example.jp").await, 4);
        assert_eq!(send_from("a3@example.jp").await, 0);

        // The owner's sign-in code still goes out, and works.
        let sms_before = app.sms().len();
        let browser = app.pending_login("owner@example.jp").await;
        assert_eq!(app.sms().len(), sms_before + 1, "the owner's code was sent");
        let res = browser
            .post(paths::VERIFY_LOGIN_CODE, &[("code", &app.last_code())])
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    })
    .await;
}

/// Showing the recovery codes is a POST; no GET writes (SEC-9): reading the codes or opening
/// the dialog by its URL adds nothing to the history, and another site cannot POST.
#[tokio::test]
async fn showing_recovery_codes_is_a_post_and_no_get_writes() {
    on_each_engine(|app: TestApp| async move {
        let client = app.account("gw@example.jp", "090-8000-0001", true).await;
        let before = crate::support::count(&app.state, "security_events").await;
        assert_eq!(
            client.get_json(paths::RECOVERY_CODES).await.status,
            StatusCode::OK,
            "just made: readable"
        );
        assert_eq!(
            client.get("/settings?dialog=recovery").await.status,
            StatusCode::OK
        );
        assert_eq!(
            crate::support::count(&app.state, "security_events").await,
            before,
            "no GET wrote anything"
        );
        let res = client.post(paths::SHOW_RECOVERY_CODES, &[]).await;
        assert_eq!(res.header("location"), Some("/settings?dialog=recovery"));
        assert_eq!(
            crate::support::count(&app.state, "security_events").await,
            before + 1,
            "the POST records that the codes were shown"
        );
        let cross_site = client
            .request("POST", paths::SHOW_RECOVERY_CODES)
            .header(header::ORIGIN, "https://evil.example")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(axum::body::Body::empty())
            .unwrap();
        assert_eq!(client.send(cross_site).await.status, StatusCode::FORBIDDEN);
        assert_eq!(
            crate::support::count(&app.state, "security_events").await,
            before + 1
        );
    })
    .await;
}

/// Makes every write of a session fail, as a session store that stops answering would.
async fn refuse_session_writes(app: &TestApp, refuse: bool) {
    use app::server::db::DbKind;
    let sql = match (app.state.db.kind(), refuse) {
        (DbKind::Sqlite, true) => {
            "CREATE TRIGGER refuse_sessions BEFORE INSERT ON sessions \
             BEGIN SELECT RAISE(ABORT, 'session store refused'); END"
        }
        (DbKind::Sqlite, false) => "DROP TRIGGER refuse_sessions",
        (DbKind::Postgres, true) => {
            "CREATE OR REPLACE FUNCTION refuse_sessions() RETURNS trigger AS $$ \
             BEGIN RAISE EXCEPTION 'session store refused'; END $$ LANGUAGE plpgsql; \
             CREATE TRIGGER refuse_sessions BEFORE INSERT ON sessions \
             FOR EACH ROW EXECUTE FUNCTION refuse_sessions()"
        }
        (DbKind::Postgres, false) => "DROP TRIGGER refuse_sessions ON sessions",
    };
    sqlx::raw_sql(sql)
        .execute(app.state.db.pool())
        .await
        .unwrap();
}

/// A code is never spent without a sign-in (SEC-6): when the session cannot be written,
/// the recovery code or SMS code is given back, and works on the next try.
#[tokio::test]
async fn no_spent_code_without_a_sign_in() {
    on_each_engine_with(unlimited_sms, |app: TestApp| async move {
        let owner = app.account("sp@example.jp", "090-8000-0002", true).await;
        let recovery = crate::two_factor::codes(&owner).await[0].code.clone();

        let browser = app.pending_login("sp@example.jp").await;
        refuse_session_writes(&app, true).await;
        let res = browser
            .post(paths::VERIFY_RECOVERY_CODE, &[("code", &recovery)])
            .await;
        assert!(res.status.is_server_error(), "{}: {}", res.status, res.body);
        assert!(who(&browser).await.is_none(), "nobody signed in");
        refuse_session_writes(&app, false).await;
        let browser = app.pending_login("sp@example.jp").await;
        let res = browser
            .post(paths::VERIFY_RECOVERY_CODE, &[("code", &recovery)])
            .await;
        assert_eq!(
            res.status,
            StatusCode::OK,
            "the code was given back: {}",
            res.body
        );
        assert!(who(&browser).await.is_some());

        // The same for the SMS code: the failed sign-in leaves it pending again until it
        // expires. (The store failed after the old pending session was rotated away, so this
        // browser starts again from the password; what matters is that nothing was spent.)
        let browser = app.pending_login("sp@example.jp").await;
        let code = app.last_code();
        refuse_session_writes(&app, true).await;
        let res = browser
            .post(paths::VERIFY_LOGIN_CODE, &[("code", &code)])
            .await;
        assert!(res.status.is_server_error(), "{}: {}", res.status, res.body);
        refuse_session_writes(&app, false).await;
        use sqlx::Row;
        let row = sqlx::query(
            "SELECT state, attempts FROM verifications WHERE purpose = 'login' ORDER BY id DESC LIMIT 1",
        )
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
        assert_eq!(row.try_get::<String, _>("state").unwrap(), "pending");
        assert_eq!(
            row.try_get::<i64, _>("attempts").unwrap(),
            0,
            "given back whole: the right entry costs nothing"
        );
    })
    .await;
}

/// Every server function that changes state, as leptos registered them (no list to forget
/// one in).
fn state_changing_endpoints() -> Vec<&'static str> {
    let mut posts: Vec<&'static str> = leptos::server_fn::axum::server_fn_paths()
        .filter(|(_, method)| *method == http::Method::POST)
        .map(|(path, _)| path)
        .collect();
    posts.sort_unstable();
    assert!(posts.len() >= 17, "{posts:?}");
    posts
}

/// A cross-site POST to any state-changing server function is refused before it runs
/// (SEC-3), even from a browser that is signed in.
#[tokio::test]
async fn every_state_changing_server_function_refuses_other_sites() {
    on_each_engine_with(unlimited_sms, |app: TestApp| async move {
        let client = app.account("cs@example.jp", "090-8000-0003", true).await;
        let events = crate::support::count(&app.state, "security_events").await;
        let sms = app.sms().len();
        for path in state_changing_endpoints() {
            let req = client
                .request("POST", path)
                .header(header::ORIGIN, "https://evil.example")
                .header("sec-fetch-site", "cross-site")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(axum::body::Body::from(
                    "phone=090-8000-0009&code=123456&enabled=on&password=x&email=cs%40example.jp",
                ))
                .unwrap();
            let res = client.send(req).await;
            assert_eq!(res.status, StatusCode::FORBIDDEN, "{path}: {}", res.body);
        }
        assert_eq!(
            crate::support::count(&app.state, "security_events").await,
            events
        );
        assert_eq!(app.sms().len(), sms);
        assert!(who(&client).await.is_some(), "still signed in");
    })
    .await;
}

/// A half-signed-in session (right password, second factor pending) is no session of the
/// account: no settings server function answers it (LG-1).
#[tokio::test]
async fn a_half_signed_in_session_reaches_no_settings_function() {
    const SIGN_IN_STEPS: [&str; 14] = [
        paths::SIGN_UP,
        paths::LOG_IN,
        paths::VERIFY_LOGIN_CODE,
        paths::RESEND_LOGIN_CODE,
        paths::VERIFY_RECOVERY_CODE,
        paths::VERIFY_APP_CODE,
        paths::USE_SMS_CODE,
        paths::USE_APP_CODE,
        paths::START_PASSKEY_SIGN_IN,
        paths::FINISH_PASSKEY_SIGN_IN,
        paths::USE_PASSKEY,
        paths::START_PASSKEY_LOGIN,
        paths::FINISH_PASSKEY_LOGIN,
        paths::LOG_OUT,
    ];
    on_each_engine_with(unlimited_sms, |app: TestApp| async move {
        app.account("hs@example.jp", "090-8000-0004", true).await;
        let half = app.pending_login("hs@example.jp").await;
        for path in state_changing_endpoints() {
            if SIGN_IN_STEPS.contains(&path) {
                continue;
            }
            let res = half
                .post(
                    path,
                    &[
                        ("phone", "090-8000-0009"),
                        ("code", "123456"),
                        ("enabled", "on"),
                        ("password", PASSWORD),
                        ("then", "/settings"),
                        ("current_password", PASSWORD),
                        ("new_password", "another good password"),
                        ("id", "1"),
                        ("name", "a name"),
                        ("credential", "{}"),
                    ],
                )
                .await;
            assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{path}: {}", res.body);
        }
        for path in [paths::ACCOUNT_OVERVIEW, paths::RECOVERY_CODES] {
            assert_eq!(
                half.get_json(path).await.status,
                StatusCode::UNAUTHORIZED,
                "{path}"
            );
        }
    })
    .await;
}

/// Starting over from the password does not bring five new guesses at the sign-in code
/// (PH-6): a new code goes out only once the wrong ones are ten minutes old.
#[tokio::test]
async fn starting_over_does_not_reset_the_guess_count() {
    on_each_engine_with(unlimited_sms, |app: TestApp| async move {
        app.account("rs@example.jp", "090-8000-0005", true).await;
        let browser = app.pending_login("rs@example.jp").await;
        let wrong = crate::support::other_than(&app.last_code());
        for _ in 0..5 {
            browser
                .post(paths::VERIFY_LOGIN_CODE, &[("code", &wrong)])
                .await;
        }
        let sms = app.sms().len();
        let again = app.pending_login("rs@example.jp").await;
        assert_eq!(app.sms().len(), sms, "no fresh code, no fresh guesses");
        let res = again.post(paths::RESEND_LOGIN_CODE, &[]).await;
        assert!(
            matches!(res.app_error(), AppError::RateLimited { .. }),
            "{}",
            res.body
        );
        app.clock.advance(app::server::services::otp::CODE_TTL);
        let again = app.pending_login("rs@example.jp").await;
        assert_eq!(app.sms().len(), sms + 1);
        let res = again
            .post(paths::VERIFY_LOGIN_CODE, &[("code", &app.last_code())])
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    })
    .await;
}

/// Limits high enough that every parallel attempt reaches the code check.
fn let_all_attempts_through(state: &mut app::server::AppState) {
    unlimited_sms(state);
    state.settings = Arc::new(Settings {
        login_free_failures_per_account: 1_000,
        login_free_failures_per_ip: 1_000,
        login_account_ceiling: 1_000,
        ..(*state.settings).clone()
    });
}

/// Fifty browsers use one recovery code at the same moment: exactly one signs in, and all
/// fifty were judged (none turned away by the throttle) (RC-4).
#[tokio::test]
async fn fifty_parallel_uses_of_one_recovery_code_give_one_sign_in() {
    on_each_engine_with(let_all_attempts_through, |app: TestApp| async move {
        let owner = app.account("p50@example.jp", "090-8100-0001", true).await;
        let code = crate::two_factor::codes(&owner).await[0].code.clone();
        let mut browsers = Vec::new();
        for _ in 0..50 {
            browsers.push(app.pending_login("p50@example.jp").await);
        }
        let uses: Vec<_> = browsers
            .into_iter()
            .map(|b| {
                let code = code.clone();
                tokio::spawn(async move {
                    b.post(paths::VERIFY_RECOVERY_CODE, &[("code", &code)])
                        .await
                })
            })
            .collect();
        let (mut signed_in, mut refused) = (0, 0);
        for u in uses {
            let res = u.await.unwrap();
            if res.status == StatusCode::OK {
                signed_in += 1;
            } else {
                assert_eq!(
                    res.app_error(),
                    AppError::RecoveryCodeInvalid,
                    "judged, not throttled"
                );
                refused += 1;
            }
        }
        assert_eq!((signed_in, refused), (1, 49));
    })
    .await;
}

/// Fifty wrong sign-in codes at once: exactly five are judged (PH-6), none succeeds, and
/// every judged one counts toward the account's lock (SEC-1).
#[tokio::test]
async fn fifty_parallel_wrong_codes_get_five_judged() {
    on_each_engine_with(let_all_attempts_through, |app: TestApp| async move {
        app.account("w50@example.jp", "090-8100-0002", true).await;
        let browser = app.pending_login("w50@example.jp").await;
        let wrong = crate::support::other_than(&app.last_code());
        let guesses: Vec<_> = (0..50)
            .map(|_| {
                let (b, wrong) = (browser.clone(), wrong.clone());
                tokio::spawn(async move {
                    b.post(paths::VERIFY_LOGIN_CODE, &[("code", &wrong)])
                        .await
                        .app_error()
                })
            })
            .collect();
        let mut left = Vec::new();
        let mut exhausted = 0;
        for g in guesses {
            match g.await.unwrap() {
                AppError::CodeMismatch { attempts_left } => left.push(attempts_left),
                AppError::SignInCodeExhausted => exhausted += 1,
                AppError::NoPendingVerification | AppError::NoPendingLogin => {}
                other => panic!("unexpected: {other:?}"),
            }
        }
        left.sort_unstable();
        assert_eq!(left, [1, 2, 3, 4], "four judged wrong with entries left");
        assert!(exhausted >= 1, "the fifth judged one used the last entry");
        use sqlx::Row;
        let row = sqlx::query(
            "SELECT v.attempts, u.second_factor_failures FROM verifications v \
             JOIN users u ON u.id = v.user_id WHERE v.purpose = 'login' ORDER BY v.id DESC LIMIT 1",
        )
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
        assert_eq!(row.try_get::<i64, _>("attempts").unwrap(), 5);
        assert_eq!(
            row.try_get::<i64, _>("second_factor_failures").unwrap(),
            5,
            "exactly the judged ones count toward the lock"
        );
    })
    .await;
}

/// A tampered or foreign cookie is treated as absent: no error, nobody signed in, and a
/// forged known-device cookie proves nothing (SEC-6).
#[tokio::test]
async fn a_tampered_cookie_is_treated_as_absent() {
    on_each_engine(|app: TestApp| async move {
        sign_up(&app, "tc@example.jp").await;
        let client = app.client();
        password_step(&client, "tc@example.jp").await;
        let real = client.cookie("nidan_session").unwrap();
        for forged in [
            format!("{}x", &real[..real.len() - 1]),
            "not-a-session".to_owned(),
            "%FF%FE".to_owned(),
            String::new(),
        ] {
            client.set_cookie("nidan_session", Some(forged.clone()));
            let res = client.get_json(paths::CURRENT_USER).await;
            assert_eq!(res.status, StatusCode::OK, "{forged:?}: {}", res.body);
            assert!(who(&client).await.is_none(), "{forged:?}");
            assert!(!client.get("/settings").await.status.is_server_error());
        }
        // A stranger uses up its address's free failures; a forged device cookie does not
        // get it a scope of its own, the genuine one (stolen, say) would.
        let device = client
            .cookie("nidan_device")
            .expect("a known-device cookie");
        let stranger = app.client_from("203.0.113.77");
        for _ in 0..5 {
            log_in_wrong(&stranger, "tc@example.jp").await;
        }
        for forged in [
            format!("{device}0"),
            device.replacen('.', "9.", 1),
            "1.00000000000000000000000000000000.abc".to_owned(),
            "garbage".to_owned(),
        ] {
            stranger.set_cookie("nidan_device", Some(forged.clone()));
            assert!(
                matches!(
                    log_in_wrong(&stranger, "tc@example.jp").await,
                    AppError::RateLimited { .. }
                ),
                "{forged:?} was taken for a known device"
            );
        }
        stranger.set_cookie("nidan_device", Some(device.clone()));
        assert_eq!(
            log_in_wrong(&stranger, "tc@example.jp").await,
            AppError::InvalidCredentials,
            "the control: a genuine device counts on its own"
        );
        // A password change voids every device minted with the old password. (The test's
        // clock stands still; the change must not share the sign-up's millisecond.)
        app.clock.advance(Duration::from_millis(1));
        let owner = app.client();
        password_step(&owner, "tc@example.jp").await;
        let res = owner
            .post(
                paths::CHANGE_PASSWORD,
                &[
                    ("current_password", PASSWORD),
                    ("new_password", "a brand new password"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert!(
            matches!(
                log_in_wrong(&stranger, "tc@example.jp").await,
                AppError::RateLimited { .. }
            ),
            "the old device is unknown now"
        );
    })
    .await;
}

/// A server restarted in the middle of registering a number (a new router on the same
/// database) finishes the registration: nothing lived in memory (DB-2).
#[tokio::test]
async fn a_restart_mid_enrolment_loses_nothing() {
    on_each_engine(|app: TestApp| async move {
        sign_up(&app, "re@example.jp").await;
        let client = app.client();
        password_step(&client, "re@example.jp").await;
        let res = client
            .post(paths::SEND_PHONE_CODE, &[("phone", "090-8100-0003")])
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        let restarted = client.via(server::router(app.state.clone()));
        let res = restarted
            .post(paths::VERIFY_PHONE_CODE, &[("code", &app.last_code())])
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        let overview: app::api::account::AccountOverview =
            restarted.get_json(paths::ACCOUNT_OVERVIEW).await.json();
        assert_eq!(overview.phone.as_deref(), Some("090-8100-0003"));
    })
    .await;
}

/// Wrong entries carried over a restart are counted once (PH-6): two wrong, start over,
/// one wrong, start over: two entries are left, not none.
#[tokio::test]
async fn carried_wrong_entries_are_counted_once() {
    on_each_engine(|app: TestApp| async move {
        sign_up(&app, "co@example.jp").await;
        let client = app.client();
        password_step(&client, "co@example.jp").await;
        const PHONE: [(&str, &str); 1] = [("phone", "090-8200-0001")];
        let send = || client.post(paths::SEND_PHONE_CODE, &PHONE);
        let wrong = |left: u32| {
            let client = client.clone();
            let app = &app;
            async move {
                let code = crate::support::other_than(&app.last_code());
                assert_eq!(
                    client
                        .post(paths::VERIFY_PHONE_CODE, &[("code", &code)])
                        .await
                        .app_error(),
                    AppError::CodeMismatch {
                        attempts_left: left
                    }
                );
            }
        };
        assert_eq!(send().await.status, StatusCode::OK);
        wrong(4).await;
        wrong(3).await;
        assert_eq!(send().await.status, StatusCode::OK, "three entries left");
        wrong(2).await;
        assert_eq!(send().await.status, StatusCode::OK, "two entries left");
        wrong(1).await;
        let res = client
            .post(paths::VERIFY_PHONE_CODE, &[("code", &app.last_code())])
            .await;
        assert_eq!(
            res.status,
            StatusCode::OK,
            "the right code still works: {}",
            res.body
        );
    })
    .await;
}

/// Sign-ins started side by side share their five guesses (PH-6): three wrong in one
/// browser leave two for the other, and then both are done.
#[tokio::test]
async fn parallel_sign_ins_share_five_guesses() {
    on_each_engine_with(unlimited_sms, |app: TestApp| async move {
        app.account("sh@example.jp", "090-8200-0002", true).await;
        let a = app.pending_login("sh@example.jp").await;
        let a_code = app.last_code();
        let b = app.pending_login("sh@example.jp").await;
        let b_code = app.last_code();
        // One code that is neither browser's.
        let wrong = (0..3)
            .map(|n| format!("{n}{n}{n}{n}{n}{n}"))
            .find(|c| *c != a_code && *c != b_code)
            .unwrap();
        let guess = |client: &crate::support::Client, code: String| {
            let client = client.clone();
            async move {
                client
                    .post(paths::VERIFY_LOGIN_CODE, &[("code", &code)])
                    .await
                    .app_error()
            }
        };
        for left in [4, 3, 2] {
            assert_eq!(
                guess(&a, wrong.clone()).await,
                AppError::CodeMismatch {
                    attempts_left: left
                }
            );
        }
        assert_eq!(
            guess(&b, wrong.clone()).await,
            AppError::CodeMismatch { attempts_left: 1 },
            "the other browser has what is left of the five"
        );
        assert_eq!(
            guess(&b, wrong.clone()).await,
            AppError::SignInCodeExhausted
        );
        assert!(
            matches!(
                guess(&a, a_code.clone()).await,
                AppError::RateLimited { .. }
            ),
            "five wrong between them: even the right code waits"
        );
    })
    .await;
}

/// A recovery code ends the pending sign-ins and forgets their wrong codes, but the
/// sign-ins started after it still share five guesses (PH-6): a forgotten entry that a
/// sign-in had carried over must not count as an entry given back.
#[tokio::test]
async fn sign_ins_after_a_recovery_code_still_share_five_guesses() {
    on_each_engine_with(unlimited_sms, |app: TestApp| async move {
        let owner = app.account("rs@example.jp", "090-8200-0003", true).await;
        let recovery = crate::two_factor::codes(&owner).await[0].code.clone();
        let guess = |client: &crate::support::Client, code: &str| {
            let client = client.clone();
            let code = code.to_owned();
            async move {
                client
                    .post(paths::VERIFY_LOGIN_CODE, &[("code", &code)])
                    .await
                    .app_error()
            }
        };
        // Three wrong in one browser; a second browser carries them over, and signs in
        // with a recovery code.
        let a = app.pending_login("rs@example.jp").await;
        let a_code = app.last_code();
        let wrong = |right: &[&str]| {
            (0..5)
                .map(|n| format!("{n}{n}{n}{n}{n}{n}"))
                .find(|c| !right.contains(&c.as_str()))
                .unwrap()
        };
        let miss = wrong(&[&a_code]);
        for left in [4, 3, 2] {
            assert_eq!(
                guess(&a, &miss).await,
                AppError::CodeMismatch {
                    attempts_left: left
                }
            );
        }
        let b = app.pending_login("rs@example.jp").await;
        assert_eq!(
            b.post(paths::VERIFY_RECOVERY_CODE, &[("code", &recovery)])
                .await
                .status,
            StatusCode::OK
        );

        // Two new sign-ins side by side: five guesses between them, as always.
        let c = app.pending_login("rs@example.jp").await;
        let c_code = app.last_code();
        let d = app.pending_login("rs@example.jp").await;
        let d_code = app.last_code();
        let miss = wrong(&[&c_code, &d_code]);
        for left in [4, 3, 2] {
            assert_eq!(
                guess(&c, &miss).await,
                AppError::CodeMismatch {
                    attempts_left: left
                },
                "the wrong codes before the recovery code no longer count"
            );
        }
        assert_eq!(
            guess(&d, &miss).await,
            AppError::CodeMismatch { attempts_left: 1 }
        );
        assert_eq!(guess(&d, &miss).await, AppError::SignInCodeExhausted);
        assert!(
            matches!(guess(&c, &c_code).await, AppError::RateLimited { .. }),
            "five wrong between them: even the right code waits"
        );
    })
    .await;
}

/// Housekeeping deletes the sign-in failures that no longer count (older than the
/// throttle's 15 minutes) and keeps those that do (SEC-1): the table cannot grow without
/// bound, and no delay is forgotten early.
#[tokio::test]
async fn housekeeping_deletes_only_the_failures_that_no_longer_count() {
    use app::server::services::{maintenance, throttle};

    on_each_engine(|app: TestApp| async move {
        let state = &app.state;
        let scopes = throttle::login_scopes(
            &state.settings,
            "old@example.jp",
            throttle::Claimant::Address("192.0.2.7"),
        );
        let _old = throttle::begin_attempt(state, &scopes, state.clock.now())
            .await
            .expect("counted");
        app.clock.advance(Duration::from_secs(10 * 60));
        let _recent = throttle::begin_attempt(state, &scopes, state.clock.now())
            .await
            .expect("counted");
        app.clock.advance(Duration::from_secs(6 * 60));
        let deleted = maintenance::purge_throttle(state, state.clock.now())
            .await
            .expect("purged");
        assert_eq!(
            deleted, 3,
            "the first attempt, one row per scope, is 16 minutes old"
        );
        assert_eq!(
            crate::support::count(state, "login_failures").await,
            3,
            "the attempt of 6 minutes ago still counts"
        );
    })
    .await;
}
