//! Accounts and sessions through HTTP (ACC-1..3, SEC-3, SEC-6), on every engine.

use http::{StatusCode, header};

use app::api::auth::CurrentUser;
use app::domain::Timestamp;
use app::error::AppError;
use app::server::Clock;
use app::server::db::session_store::{SqlSessionStore, end_all_of_in};
use app::server::db::users::UserId;
use tower_sessions::session_store::SessionStore;

use crate::support::{Client, PASSWORD, TestApp, count, on_each_engine, paths};

async fn sign_up(client: &Client, email: &str) {
    let res = client
        .post(paths::SIGN_UP, &[("email", email), ("password", PASSWORD)])
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
}

async fn who(client: &Client) -> Option<CurrentUser> {
    let res = client.get_json(paths::CURRENT_USER).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    res.json()
}

#[tokio::test]
async fn sign_up_signs_in_with_a_safe_cookie() {
    on_each_engine(|app: TestApp| async move {
        let client = app.client();
        let res = client
            .post(
                paths::SIGN_UP,
                &[("email", " Taro@Example.JP "), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert_eq!(
            res.header("location"),
            Some("/settings"),
            "goes on to the settings page"
        );
        let cookie = res
            .headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("nidan_session="))
            .expect("a session cookie");
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        assert!(cookie.contains("SameSite=Lax"), "{cookie}");
        assert!(
            !cookie.contains("Secure"),
            "plain http in development: {cookie}"
        );
        assert_eq!(
            who(&client).await,
            Some(CurrentUser {
                email: "taro@example.jp".into()
            })
        );

        // The password is stored as an argon2id hash, never as given.
        use sqlx::Row;
        let row = sqlx::query("SELECT password_hash FROM users")
            .fetch_one(app.state.db.pool())
            .await
            .unwrap();
        let hash: String = row.try_get("password_hash").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(!hash.contains(PASSWORD));
    })
    .await;
}

#[tokio::test]
async fn duplicate_email_is_refused_whatever_its_case() {
    on_each_engine(|app: TestApp| async move {
        sign_up(&app.client(), "hanako@example.jp").await;
        let other = app.client();
        let res = other
            .post(
                paths::SIGN_UP,
                &[("email", "HANAKO@example.jp"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(res.status, StatusCode::CONFLICT);
        assert_eq!(res.app_error(), AppError::EmailTaken);
        assert_eq!(
            other.session_cookie(),
            None,
            "no session for a refused sign-up"
        );
        assert_eq!(count(&app.state, "users").await, 1);
    })
    .await;
}

#[tokio::test]
async fn bad_sign_up_input_gets_its_own_message_and_writes_nothing() {
    on_each_engine(|app: TestApp| async move {
        let client = app.client();
        let cases = [
            ("", PASSWORD, AppError::EmailEmpty),
            ("not-an-address", PASSWORD, AppError::EmailMalformed),
            (
                "taro@example.jp",
                "short",
                AppError::PasswordTooShort { min: 8 },
            ),
            (
                "taro@example.jp",
                "password123",
                AppError::PasswordTooCommon,
            ),
        ];
        for (email, password, expected) in cases {
            let res = client
                .post(paths::SIGN_UP, &[("email", email), ("password", password)])
                .await;
            assert_eq!(res.status, StatusCode::BAD_REQUEST, "{email} / {password}");
            assert_eq!(res.app_error(), expected);
        }
        let too_long = "x".repeat(129);
        let res = client
            .post(
                paths::SIGN_UP,
                &[("email", "taro@example.jp"), ("password", &too_long)],
            )
            .await;
        assert_eq!(res.app_error(), AppError::PasswordTooLong { max: 128 });
        // A request missing a field entirely is refused too.
        let res = client
            .post(paths::SIGN_UP, &[("email", "taro@example.jp")])
            .await;
        assert!(
            res.status.is_client_error() || res.status.is_server_error(),
            "{}",
            res.status
        );
        assert_eq!(count(&app.state, "users").await, 0);
        assert_eq!(count(&app.state, "sessions").await, 0);
    })
    .await;
}

#[tokio::test]
async fn wrong_password_and_unknown_email_look_the_same() {
    on_each_engine(|app: TestApp| async move {
        sign_up(&app.client(), "jiro@example.jp").await;
        let client = app.client();
        let wrong = client
            .post(
                paths::LOG_IN,
                &[
                    ("email", "jiro@example.jp"),
                    ("password", "wrong password!"),
                ],
            )
            .await;
        let unknown = client
            .post(
                paths::LOG_IN,
                &[("email", "nobody@example.jp"), ("password", PASSWORD)],
            )
            .await;
        let garbage = client
            .post(
                paths::LOG_IN,
                &[("email", "not an email"), ("password", PASSWORD)],
            )
            .await;
        for res in [&wrong, &unknown, &garbage] {
            assert_eq!(res.status, StatusCode::UNAUTHORIZED);
            assert_eq!(res.app_error(), AppError::InvalidCredentials);
            assert_eq!(res.body, wrong.body, "byte-for-byte the same answer");
        }
        assert_eq!(client.session_cookie(), None);

        let res = client
            .post(
                paths::LOG_IN,
                &[("email", "JIRO@example.jp"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert_eq!(
            who(&client).await.map(|u| u.email),
            Some("jiro@example.jp".into())
        );
    })
    .await;
}

#[tokio::test]
async fn signing_in_rotates_the_session_id() {
    on_each_engine(|app: TestApp| async move {
        let client = app.client();
        sign_up(&client, "saburo@example.jp").await;
        let first = client.session_cookie().expect("cookie after sign-up");

        let res = client
            .post(
                paths::LOG_IN,
                &[("email", "saburo@example.jp"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(res.status, StatusCode::OK);
        let second = client.session_cookie().expect("cookie after sign-in");
        assert_ne!(first, second, "a new id at sign-in");

        // The old id is dead on the server, not merely replaced in this browser.
        let old = app.client();
        old.set_session_cookie(Some(first));
        assert_eq!(who(&old).await, None);
        assert_eq!(
            who(&client).await.map(|u| u.email),
            Some("saburo@example.jp".into())
        );
    })
    .await;
}

#[tokio::test]
async fn signing_out_destroys_the_session_on_the_server() {
    on_each_engine(|app: TestApp| async move {
        let client = app.client();
        sign_up(&client, "shiro@example.jp").await;
        let cookie = client.session_cookie().expect("cookie");
        assert_eq!(count(&app.state, "sessions").await, 1);

        let res = client.post(paths::LOG_OUT, &[]).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert_eq!(res.header("location"), Some("/login"));
        assert_eq!(
            client.session_cookie(),
            None,
            "the browser is told to drop the cookie"
        );
        assert_eq!(count(&app.state, "sessions").await, 0);

        // Replaying the cookie gets nobody.
        let replay = app.client();
        replay.set_session_cookie(Some(cookie));
        assert_eq!(who(&replay).await, None);
        let page = replay.get("/settings").await;
        assert_eq!(page.status, StatusCode::FOUND);
        assert_eq!(page.header("location"), Some("/login"));
    })
    .await;
}

#[tokio::test]
async fn cross_site_posts_are_refused_before_anything_runs() {
    on_each_engine(|app: TestApp| async move {
        let client = app.client();
        let body = "email=eve%40example.jp&password=correct+horse+battery";
        for (origin, fetch_site) in [
            (None, None),
            (Some("https://evil.example"), None),
            (None, Some("cross-site")),
        ] {
            let mut req = client
                .request("POST", paths::SIGN_UP)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            if let Some(o) = origin {
                req = req.header(header::ORIGIN, o);
            }
            if let Some(s) = fetch_site {
                req = req.header("sec-fetch-site", s);
            }
            let res = client.send(req.body(body.into()).unwrap()).await;
            assert_eq!(
                res.status,
                StatusCode::FORBIDDEN,
                "{origin:?} {fetch_site:?}"
            );
            assert_eq!(res.app_error(), AppError::Forbidden);
        }
        assert_eq!(count(&app.state, "users").await, 0);
    })
    .await;
}

#[tokio::test]
async fn pages_carry_security_headers_and_a_nonce_csp() {
    on_each_engine(|app: TestApp| async move {
        let res = app.client().get("/login").await;
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(res.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(res.header("referrer-policy"), Some("same-origin"));
        assert_eq!(res.header("x-frame-options"), Some("DENY"));
        assert_eq!(res.header("cache-control"), Some("no-store"));
        let csp = res.header("content-security-policy").expect("CSP");
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .and_then(|s| s.split('\'').next())
            .expect("a nonce");
        assert!(nonce.len() >= 16, "{nonce}");
        assert!(
            res.body.contains(&format!("nonce=\"{nonce}\"")),
            "the hydration script carries the nonce"
        );
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert!(res.body.contains("<html lang=\"ja\""));
        for label in ["メールアドレス", "パスワード", "ログイン", "新規登録"] {
            assert!(res.body.contains(label), "{label}");
        }
    })
    .await;
}

#[tokio::test]
async fn settings_page_needs_a_session_and_shows_the_rows() {
    on_each_engine(|app: TestApp| async move {
        let client = app.client();
        let res = client.get("/settings").await;
        assert_eq!(res.status, StatusCode::FOUND);
        assert_eq!(res.header("location"), Some("/login"));

        sign_up(&client, "goro@example.jp").await;
        let res = client.get("/settings").await;
        assert_eq!(res.status, StatusCode::OK);
        for text in [
            "アカウントの設定",
            "電話番号",
            "未設定",
            "電話番号を設定する",
            "二段階認証(SMS)",
            "保存する",
            "リカバリーコードを表示する",
            "ユーザーメニュー",
            "ログアウト",
            "goro@example.jp",
        ] {
            assert!(res.body.contains(text), "settings page lacks {text}");
        }
    })
    .await;
}

#[tokio::test]
async fn forms_work_without_javascript() {
    on_each_engine(|app: TestApp| async move {
        let client = app.client();
        // A wrong password: back to the form, with the error for the page to show.
        let res = client
            .post_html_form(
                paths::LOG_IN,
                "/login",
                &[("email", "nobody@example.jp"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(res.status, StatusCode::FOUND);
        let back = res.header("location").expect("redirect").to_owned();
        assert!(back.starts_with("http://localhost:3000/login?"), "{back}");
        let page = client
            .get(back.trim_start_matches("http://localhost:3000"))
            .await;
        assert!(
            page.body
                .contains("メールアドレスまたはパスワードが正しくありません。"),
            "error shown without JS"
        );
        assert!(page.body.contains("role=\"alert\""));

        // Sign-up: straight to the settings page, signed in.
        let res = client
            .post_html_form(
                paths::SIGN_UP,
                "/signup",
                &[("email", "rokuro@example.jp"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(res.status, StatusCode::FOUND);
        assert_eq!(res.header("location"), Some("/settings"));
        assert!(
            client
                .get("/settings")
                .await
                .body
                .contains("rokuro@example.jp")
        );

        // Sign-out from the menu's form.
        let res = client
            .post_html_form(paths::LOG_OUT, "/settings", &[])
            .await;
        assert_eq!(res.status, StatusCode::FOUND);
        assert_eq!(res.header("location"), Some("/login"));
        assert_eq!(client.get("/settings").await.status, StatusCode::FOUND);
    })
    .await;
}

/// Session fixation: a session id planted in a browser (here the cookie of a pending
/// sign-in the attacker started for their own account) does not become the one that holds
/// the victim's sign-in, and signs no one in afterwards.
#[tokio::test]
async fn signing_in_replaces_a_session_id_the_browser_brought() {
    on_each_engine(|app: TestApp| async move {
        app.account("victim@example.jp", "090-1234-5678", false)
            .await;
        app.account("attacker@example.jp", "090-8765-4321", true)
            .await;
        let attacker = app.pending_login("attacker@example.jp").await;
        let planted = attacker.session_cookie().expect("a stored pending session");

        let victim = app.client();
        victim.set_session_cookie(Some(planted.clone()));
        let res = victim
            .post(
                paths::LOG_IN,
                &[("email", "victim@example.jp"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        let after = victim.session_cookie().expect("a session cookie");
        assert_ne!(after, planted, "the signed-in session has a new id");
        assert_eq!(
            who(&victim).await,
            Some(CurrentUser {
                email: "victim@example.jp".into()
            })
        );
        assert_eq!(who(&attacker).await, None, "the planted id signs no one in");
    })
    .await;
}

/// A session record of `user`, signed in at `at` (ms), as `auth_session::sign_in` makes it.
fn signed_in_record(user: i64, at: i64) -> tower_sessions::session::Record {
    use app::server::auth_session::{SIGNED_IN_AT_KEY, USER_ID_KEY};
    tower_sessions::session::Record {
        id: tower_sessions::session::Id::default(),
        data: [
            (USER_ID_KEY.to_owned(), serde_json::json!(user)),
            (SIGNED_IN_AT_KEY.to_owned(), serde_json::json!(at)),
        ]
        .into(),
        expiry_date: time::OffsetDateTime::now_utc() + time::Duration::hours(1),
    }
}

/// A new account `email`, and a sign-in of it that began 30 ms ago: its id and when.
async fn sign_in_begun(app: &TestApp, email: &str) -> (i64, Timestamp) {
    sign_up(&app.client(), email).await;
    let user = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(email)
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    let began = app.clock.now();
    app.clock.advance(std::time::Duration::from_millis(30));
    (user, began)
}

/// A sign-in that was under way when the owner changed the password or turned two-factor
/// on (which ends every session of the account) must not leave a session behind: the store
/// refuses a signed-in session older than the account's last "end every session", and
/// writes one signed in at or after it (the browser that made the change renews its own).
#[tokio::test]
async fn a_session_signed_in_before_every_session_was_ended_is_not_written() {
    on_each_engine(|app: TestApp| async move {
        let (user, began) = sign_in_begun(&app, "race@example.jp").await;
        let changed = app.clock.now();
        let mut tx = app.state.db.pool().begin().await.unwrap();
        end_all_of_in(&mut tx, UserId(user), changed).await.unwrap();
        tx.commit().await.unwrap();

        let store = SqlSessionStore::new(app.state.db.clone());
        let mut late = signed_in_record(user, began.as_millis());
        assert!(store.create(&mut late).await.is_err(), "refused");
        assert_eq!(count(&app.state, "sessions").await, 0, "nothing written");
        let mut renewed = signed_in_record(user, changed.as_millis());
        store.create(&mut renewed).await.expect("written");
        assert!(store.load(&renewed.id).await.unwrap().is_some());
    })
    .await;
}

/// The same while the change is not yet committed: the session's insert waits for it and
/// then refuses, rather than slipping in before the commit (PostgreSQL reads the account's
/// row FOR SHARE; SQLite has one connection, which the change holds).
#[tokio::test]
async fn a_session_written_while_every_session_is_being_ended_waits_and_is_refused() {
    on_each_engine(|app: TestApp| async move {
        let (user, began) = sign_in_begun(&app, "race2@example.jp").await;
        let mut tx = app.state.db.pool().begin().await.unwrap();
        end_all_of_in(&mut tx, UserId(user), app.clock.now())
            .await
            .unwrap();

        let store = SqlSessionStore::new(app.state.db.clone());
        let insert = tokio::spawn(async move {
            let mut late = signed_in_record(user, began.as_millis());
            store.create(&mut late).await.is_err()
        });
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(
            !insert.is_finished(),
            "the insert waits for the change to commit"
        );
        tx.commit().await.unwrap();
        assert!(insert.await.unwrap(), "then sees the stamp and refuses");
        assert_eq!(count(&app.state, "sessions").await, 0, "nothing written");
    })
    .await;
}
