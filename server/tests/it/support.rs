//! Test harness: a fresh database per test on each engine, the router around a state with
//! a manual clock, seeded randomness and cheap argon2, and a small cookie-keeping client.

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use leptos::config::LeptosOptions;
use sqlx::Executor;
use tower::ServiceExt;

use app::domain::Timestamp;
use app::error::AppError;
use app::server::{
    AppState, Db, ManualClock, PasswordHasher, Secrets, SeededEntropy, Settings, SmsGateway,
    SmsLimits,
};

pub const ORIGIN: &str = "http://localhost:3000";
pub const HOST: &str = "localhost:3000";

/// The password every test account signs up with.
pub const PASSWORD: &str = "correct horse battery";

/// 2026-11-25T00:00:00Z: tests start here and move the clock themselves.
pub const START: Timestamp = Timestamp::from_millis(1_795_564_800_000);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A running app on a database of its own.
pub struct TestApp {
    pub state: AppState,
    pub clock: Arc<ManualClock>,
    pub router: Router,
}

/// What to remove when a test ends.
enum Cleanup {
    SqliteFile(std::path::PathBuf),
    PostgresDb { admin_url: String, name: String },
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Longer than any scenario needs on a loaded two-core machine.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(120);

fn unique_name() -> String {
    format!(
        "nidan_test_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

/// The engines to run on: SQLite always; PostgreSQL when the test command found one.
pub fn engines() -> Vec<Engine> {
    let mut engines = vec![Engine::Sqlite];
    if std::env::var("NIDAN_TEST_POSTGRES_URL").is_ok_and(|v| !v.is_empty()) {
        engines.push(Engine::Postgres);
    }
    engines
}

async fn create_database(engine: Engine) -> (Db, Cleanup) {
    let name = unique_name();
    match engine {
        Engine::Sqlite => {
            let path = std::env::temp_dir().join(format!("{name}.db"));
            let db = Db::connect(&format!("sqlite://{}", path.display()))
                .await
                .expect("sqlite");
            (db, Cleanup::SqliteFile(path))
        }
        Engine::Postgres => {
            let admin_url = std::env::var("NIDAN_TEST_POSTGRES_URL").expect("postgres url");
            let admin = admin_pool(&admin_url).await;
            admin
                .execute(format!("CREATE DATABASE {name}").as_str())
                .await
                .expect("create database");
            admin.close().await;
            let base = admin_url
                .rsplit_once('/')
                .map(|(b, _)| b)
                .unwrap_or(&admin_url);
            let db = Db::connect(&format!("{base}/{name}"))
                .await
                .expect("postgres");
            (db, Cleanup::PostgresDb { admin_url, name })
        }
    }
}

async fn admin_pool(url: &str) -> sqlx::PgPool {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .expect("connect to PostgreSQL")
}

impl Cleanup {
    async fn run(self) {
        match self {
            Cleanup::SqliteFile(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::PostgresDb { admin_url, name } => {
                let admin = admin_pool(&admin_url).await;
                let _ = admin
                    .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                    .await;
                admin.close().await;
            }
        }
    }
}

/// The state a test runs against, on `db`.
pub fn test_state(db: Db, clock: Arc<ManualClock>) -> AppState {
    let leptos_options = LeptosOptions::builder()
        .output_name("nidan")
        .site_root("target/site")
        .build();
    AppState {
        db,
        clock,
        entropy: Arc::new(SeededEntropy::new(u64::from(
            COUNTER.load(Ordering::SeqCst),
        ))),
        passwords: PasswordHasher::insecure_for_tests().expect("argon2 params"),
        secrets: Arc::new(Secrets::new([42; 32])),
        settings: Arc::new(Settings::development()),
        sms: SmsGateway::memory(),
        leptos_options,
    }
}

/// Runs `scenario` on a fresh app for every engine. The database is removed afterwards,
/// also when the scenario panics; the panic then fails the test naming the engine.
pub async fn on_each_engine<F, Fut>(scenario: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    on_each_engine_with(|_| {}, scenario).await;
}

/// Like [`on_each_engine`], with the state changed by `configure` first (other limits,
/// another SMS gateway).
pub async fn on_each_engine_with<C, F, Fut>(configure: C, scenario: F)
where
    C: Fn(&mut AppState),
    F: Fn(TestApp) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    for engine in engines() {
        let (db, cleanup) = create_database(engine).await;
        let clock = Arc::new(ManualClock::new(START));
        let mut state = test_state(db.clone(), clock.clone());
        configure(&mut state);
        let router = server::router(state.clone());
        // A scenario that hangs fails instead of holding CI until its time runs out.
        let outcome = tokio::time::timeout(
            SCENARIO_TIMEOUT,
            tokio::spawn(scenario(TestApp {
                state,
                clock,
                router,
            })),
        )
        .await;
        let _ = tokio::time::timeout(Duration::from_secs(10), db.close()).await;
        cleanup.run().await;
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                eprintln!("scenario failed on {engine:?}");
                std::panic::resume_unwind(e.into_panic());
            }
            Err(_) => panic!("scenario on {engine:?} did not finish within {SCENARIO_TIMEOUT:?}"),
        }
    }
}

/// A browser-like client: keeps the session cookie, sends same-origin headers, and comes
/// from one IP address.
#[derive(Clone)]
pub struct Client {
    router: Router,
    cookies: Arc<Mutex<std::collections::BTreeMap<String, String>>>,
    ip: std::net::IpAddr,
    /// Headers sent with every request (a proxy's `X-Forwarded-For`).
    extra: Vec<(&'static str, String)>,
}

/// A response, fully read.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
    /// The body as it came, for answers that are not text (compressed, wasm).
    pub bytes: Vec<u8>,
}

impl TestResponse {
    /// The error a server function answered with.
    pub fn app_error(&self) -> AppError {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not an AppError ({e}): {}", self.body))
    }

    pub fn json<T: serde::de::DeserializeOwned>(&self) -> T {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("bad JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl TestApp {
    /// A browser that has just signed up as `email` with [`PASSWORD`]: signed in, no phone.
    pub async fn signed_up(&self, email: &str) -> Client {
        let client = self.client();
        let res = client
            .post(paths::SIGN_UP, &[("email", email), ("password", PASSWORD)])
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        client
    }

    /// A browser with a fresh account: signed up with [`PASSWORD`], `phone` verified, and
    /// with `two_factor`, `二段階認証も有効にする` ticked. Signed in.
    pub async fn account(&self, email: &str, phone: &str, two_factor: bool) -> Client {
        let client = self.signed_up(email).await;
        let mut form = vec![("phone", phone)];
        if two_factor {
            form.push(("enable_two_factor", "on"));
        }
        assert_eq!(
            client.post(paths::SEND_PHONE_CODE, &form).await.status,
            StatusCode::OK
        );
        let res = client
            .post(paths::VERIFY_PHONE_CODE, &[("code", &self.last_code())])
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        client
    }

    /// A new browser signing in to `email`'s account up to the code page.
    pub async fn pending_login(&self, email: &str) -> Client {
        let client = self.client();
        let res = crate::two_factor::password_step(&client, email).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert_eq!(res.header("location"), Some("/login/verify"));
        client
    }

    pub fn client(&self) -> Client {
        self.client_from("192.0.2.1")
    }

    /// A client at another address (per-IP limits).
    pub fn client_from(&self, ip: &str) -> Client {
        Client {
            router: self.router.clone(),
            cookies: Arc::default(),
            ip: ip.parse().unwrap(),
            extra: Vec::new(),
        }
    }

    /// A client at `client` whose requests reach the app through a proxy at `proxy`, which
    /// appends the client's address to `X-Forwarded-For` (after whatever `forged` the client
    /// put there itself).
    pub fn client_behind(&self, proxy: &str, client: &str, forged: Option<&str>) -> Client {
        let chain = match forged {
            Some(f) => format!("{f}, {client}"),
            None => client.to_owned(),
        };
        Client {
            extra: vec![("x-forwarded-for", chain)],
            ..self.client_from(proxy)
        }
    }

    /// The SMS the memory gateway holds, oldest first.
    pub fn sms(&self) -> Vec<app::server::sms::SmsMessage> {
        self.state.sms.sent()
    }

    /// The code in the newest SMS.
    pub fn last_code(&self) -> String {
        let body = self.sms().last().expect("an SMS was sent").body.clone();
        let line = body.lines().last().unwrap().to_owned();
        line.rsplit('#').next().unwrap().to_owned()
    }
}

pub fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encodes everything but the unreserved characters (as a form value).
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Client {
    /// The current session cookie (`nidan_session=…`), if any.
    pub fn session_cookie(&self) -> Option<String> {
        self.cookie(server::SESSION_COOKIE)
            .map(|v| format!("{}={v}", server::SESSION_COOKIE))
    }

    /// Replaces the session cookie this client sends (to replay an old one).
    pub fn set_session_cookie(&self, cookie: Option<String>) {
        let value = cookie.and_then(|c| c.split_once('=').map(|(_, v)| v.to_owned()));
        self.set_cookie(server::SESSION_COOKIE, value);
    }

    /// The same browser (its cookies) talking to another router, e.g. a restarted server on
    /// the same database.
    pub fn via(&self, router: Router) -> Client {
        Client {
            router,
            ..self.clone()
        }
    }

    /// A cookie's value.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().unwrap().get(name).cloned()
    }

    pub fn set_cookie(&self, name: &str, value: Option<String>) {
        let mut jar = self.cookies.lock().unwrap();
        match value {
            Some(v) => jar.insert(name.to_owned(), v),
            None => jar.remove(name),
        };
    }

    /// POSTs a form to a server function, as the hydrated app does.
    pub async fn post(&self, path: &str, pairs: &[(&str, &str)]) -> TestResponse {
        let req = self
            .request("POST", path)
            .header(header::ORIGIN, ORIGIN)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .body(Body::from(form(pairs)))
            .unwrap();
        self.send(req).await
    }

    /// POSTs a form as a browser with JavaScript off does: it accepts HTML and says where
    /// it came from.
    pub async fn post_html_form(
        &self,
        path: &str,
        referer: &str,
        pairs: &[(&str, &str)],
    ) -> TestResponse {
        let req = self
            .request("POST", path)
            .header(header::ORIGIN, ORIGIN)
            .header("sec-fetch-site", "same-origin")
            .header(header::REFERER, format!("{ORIGIN}{referer}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "text/html,application/xhtml+xml")
            .body(Body::from(form(pairs)))
            .unwrap();
        self.send(req).await
    }

    /// GETs a page, as a browser does.
    pub async fn get(&self, path: &str) -> TestResponse {
        let req = self
            .request("GET", path)
            .header(header::ACCEPT, "text/html")
            .body(Body::empty())
            .unwrap();
        self.send(req).await
    }

    /// GETs a server function's answer, as the hydrated app does.
    pub async fn get_json(&self, path: &str) -> TestResponse {
        let req = self
            .request("GET", path)
            .header(header::ACCEPT, "application/json")
            .body(Body::empty())
            .unwrap();
        self.send(req).await
    }

    /// Sends a request built by the test, with this client's cookie.
    pub fn request(&self, method: &str, path: &str) -> http::request::Builder {
        let mut b = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, HOST);
        for (name, value) in &self.extra {
            b = b.header(*name, value);
        }
        let jar = self.cookies.lock().unwrap();
        if !jar.is_empty() {
            let header = jar
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            b = b.header(header::COOKIE, header);
        }
        b
    }

    pub async fn send(&self, mut req: Request<Body>) -> TestResponse {
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(std::net::SocketAddr::new(
                self.ip, 40_000,
            )));
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        for set in headers.get_all(header::SET_COOKIE) {
            let set = set.to_str().unwrap();
            let pair = set.split(';').next().unwrap().trim();
            let (name, value) = pair.split_once('=').unwrap();
            let removed = set.contains("Max-Age=0") || value.is_empty();
            self.set_cookie(name, (!removed).then(|| value.to_owned()));
        }
        let body = res.into_body().collect().await.unwrap().to_bytes();
        TestResponse {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
            bytes: body.to_vec(),
        }
    }
}

/// Counts rows of a table (to show that refused input wrote nothing).
pub async fn count(state: &AppState, table: &str) -> i64 {
    use sqlx::Row;
    sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
        .fetch_one(state.db.pool())
        .await
        .unwrap()
        .try_get::<i64, _>("n")
        .unwrap()
}

/// A code that is not `code`: a wrong entry.
pub fn other_than(code: &str) -> String {
    if code == "000000" {
        "111111".into()
    } else {
        "000000".into()
    }
}

/// SMS limits no test that sends many codes will meet (for tests about something else).
pub fn unlimited_sms(state: &mut AppState) {
    let many = 10_000;
    state.settings = Arc::new(Settings {
        sms_limits: SmsLimits {
            per_number_hour: many,
            per_number_day: many,
            registrations_per_number_day: many,
            per_account_day: many,
            per_ip_hour: many,
            global_hour: many,
            ..SmsLimits::default()
        },
        ..Settings::development()
    });
}

/// Every row the app keeps, as text, in a stable order: equal snapshots mean nothing was
/// written. A session's expiry moves with every request it makes (the idle timeout), so
/// only its owner and data count.
pub async fn snapshot(state: &AppState) -> String {
    use sqlx::{Column, Row};
    const QUERIES: &[&str] = &[
        "SELECT * FROM users",
        "SELECT id_hash, user_id, data FROM sessions",
        "SELECT * FROM verifications",
        "SELECT * FROM sms_sends",
        "SELECT * FROM sms_outbox",
        "SELECT * FROM recovery_codes",
        "SELECT * FROM remembered_browsers",
        "SELECT * FROM login_failures",
        "SELECT * FROM security_events",
    ];
    let mut out = String::new();
    for query in QUERIES {
        let rows = sqlx::query(query)
            .fetch_all(state.db.pool())
            .await
            .unwrap_or_else(|e| panic!("{query}: {e}"));
        let mut lines: Vec<String> = rows
            .iter()
            .map(|row| {
                (0..row.len())
                    .map(|i| {
                        let name = row.column(i).name().to_owned();
                        let value = row
                            .try_get::<Option<i64>, _>(i)
                            .map(|v| format!("{v:?}"))
                            .or_else(|_| {
                                row.try_get::<Option<String>, _>(i)
                                    .map(|v| format!("{v:?}"))
                            })
                            .or_else(|_| {
                                row.try_get::<Option<bool>, _>(i).map(|v| format!("{v:?}"))
                            })
                            .or_else(|_| {
                                row.try_get::<Option<Vec<u8>>, _>(i)
                                    .map(|v| format!("{v:?}"))
                            })
                            .unwrap_or_else(|e| panic!("{query}, column {name}: {e}"));
                        format!("{name}={value}")
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        lines.sort();
        out.push_str(&format!("{query}\n"));
        for line in lines {
            out.push_str(&format!("  {line}\n"));
        }
    }
    out
}

/// The server functions' addresses, from their own `PATH` (a renamed endpoint renames
/// them here, and a test cannot call an address no function answers by mistake).
pub mod paths {
    use leptos::server_fn::ServerFn;

    pub const ACCOUNT_OVERVIEW: &str = <app::api::account::GetAccountOverview as ServerFn>::PATH;
    pub const SIGN_UP: &str = <app::api::auth::SignUp as ServerFn>::PATH;
    pub const LOG_IN: &str = <app::api::auth::LogIn as ServerFn>::PATH;
    pub const LOGIN_CHALLENGE: &str = <app::api::auth::GetLoginChallenge as ServerFn>::PATH;
    pub const VERIFY_LOGIN_CODE: &str = <app::api::auth::VerifyLoginCode as ServerFn>::PATH;
    pub const RESEND_LOGIN_CODE: &str = <app::api::auth::ResendLoginCode as ServerFn>::PATH;
    pub const VERIFY_RECOVERY_CODE: &str = <app::api::auth::VerifyRecoveryCode as ServerFn>::PATH;
    pub const LOG_OUT: &str = <app::api::auth::LogOut as ServerFn>::PATH;
    pub const CURRENT_USER: &str = <app::api::auth::GetCurrentUser as ServerFn>::PATH;
    pub const CHANGE_PASSWORD: &str = <app::api::auth::ChangePassword as ServerFn>::PATH;
    pub const SEND_PHONE_CODE: &str = <app::api::phone::SendPhoneCode as ServerFn>::PATH;
    pub const RESEND_PHONE_CODE: &str = <app::api::phone::ResendPhoneCode as ServerFn>::PATH;
    pub const VERIFY_PHONE_CODE: &str = <app::api::phone::VerifyPhoneCode as ServerFn>::PATH;
    pub const ABANDON_PHONE_CODE: &str = <app::api::phone::AbandonPhoneCode as ServerFn>::PATH;
    pub const SAVE_TWO_FACTOR: &str = <app::api::two_factor::SaveTwoFactor as ServerFn>::PATH;
    pub const SHOW_RECOVERY_CODES: &str =
        <app::api::two_factor::ShowRecoveryCodes as ServerFn>::PATH;
    pub const RECOVERY_CODES: &str = <app::api::two_factor::GetRecoveryCodes as ServerFn>::PATH;
    pub const REGENERATE_RECOVERY_CODES: &str =
        <app::api::two_factor::RegenerateRecoveryCodes as ServerFn>::PATH;
    pub const CONFIRM_PASSWORD: &str = <app::api::two_factor::ConfirmPassword as ServerFn>::PATH;
    pub const FORGET_BROWSER: &str = <app::api::two_factor::ForgetBrowser as ServerFn>::PATH;
    pub const FORGET_ALL_BROWSERS: &str =
        <app::api::two_factor::ForgetAllBrowsers as ServerFn>::PATH;
    pub const VERIFY_APP_CODE: &str = <app::api::auth::VerifyAppCode as ServerFn>::PATH;
    pub const USE_SMS_CODE: &str = <app::api::auth::UseSmsCode as ServerFn>::PATH;
    pub const USE_APP_CODE: &str = <app::api::auth::UseAppCode as ServerFn>::PATH;
    pub const START_AUTHENTICATOR: &str =
        <app::api::authenticator::StartAuthenticator as ServerFn>::PATH;
    pub const AUTHENTICATOR_ENROLMENT: &str =
        <app::api::authenticator::GetAuthenticatorEnrolment as ServerFn>::PATH;
    pub const CONFIRM_AUTHENTICATOR: &str =
        <app::api::authenticator::ConfirmAuthenticator as ServerFn>::PATH;
    pub const REMOVE_AUTHENTICATOR: &str =
        <app::api::authenticator::RemoveAuthenticator as ServerFn>::PATH;
    pub const START_PASSKEY_REGISTRATION: &str =
        <app::api::passkeys::StartPasskeyRegistration as ServerFn>::PATH;
    pub const FINISH_PASSKEY_REGISTRATION: &str =
        <app::api::passkeys::FinishPasskeyRegistration as ServerFn>::PATH;
    pub const RENAME_PASSKEY: &str = <app::api::passkeys::RenamePasskey as ServerFn>::PATH;
    pub const REMOVE_PASSKEY: &str = <app::api::passkeys::RemovePasskey as ServerFn>::PATH;
    pub const START_PASSKEY_SIGN_IN: &str = <app::api::auth::StartPasskeySignIn as ServerFn>::PATH;
    pub const FINISH_PASSKEY_SIGN_IN: &str =
        <app::api::auth::FinishPasskeySignIn as ServerFn>::PATH;
    pub const USE_PASSKEY: &str = <app::api::auth::UsePasskey as ServerFn>::PATH;
    pub const START_PASSKEY_LOGIN: &str = <app::api::auth::StartPasskeyLogin as ServerFn>::PATH;
    pub const FINISH_PASSKEY_LOGIN: &str = <app::api::auth::FinishPasskeyLogin as ServerFn>::PATH;
}
