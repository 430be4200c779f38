//! No unbounded wait (SEC-8): pages never stall while routers are built (the suite once hung
//! one run in three), every database connection bounds its statements, and a request past
//! the server-wide limit answers 503.
//!
//! leptos 0.8 suppresses resource loading with a process-global flag while it generates a
//! route list; a resource first polled at that moment, on any thread, never loads. Every
//! scenario of this suite builds a router while others render pages, so before the route list
//! was generated once per process (`server::routes`) this test hung on its first rounds, every
//! run. It builds routers on another thread without pause while rendering every page, signed
//! in and out, each render with a deadline.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use http::StatusCode;

use crate::support::{PASSWORD, TestApp, on_each_engine, on_each_engine_with, paths};

/// Far more than a page takes even on a loaded two-core machine; a stalled render never ends.
const RENDER_DEADLINE: Duration = Duration::from_secs(20);

const SIGNED_OUT: [&str; 4] = ["/", "/login", "/signup", "/login/verify"];
const SIGNED_IN: [&str; 6] = [
    "/",
    "/settings",
    "/settings?dialog=phone",
    "/settings?dialog=recovery",
    "/settings/password",
    "/no-such-page",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_render_while_routers_are_built() {
    on_each_engine(|app: TestApp| async move {
        let stop = Arc::new(AtomicBool::new(false));
        let builder = {
            let (stop, state) = (stop.clone(), app.state.clone());
            let runtime = tokio::runtime::Handle::current();
            std::thread::spawn(move || {
                let _inside = runtime.enter();
                let mut built = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    drop(server::router(state.clone()));
                    built += 1;
                    // Leave the two cores to the other scenarios now and then.
                    std::thread::sleep(Duration::from_millis(1));
                }
                built
            })
        };

        let guest = app.client();
        let member = app.client();
        let res = member
            .post(
                paths::SIGN_UP,
                &[("email", "taro@example.jp"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);

        for round in 0..10 {
            for (client, paths) in [(&guest, &SIGNED_OUT[..]), (&member, &SIGNED_IN[..])] {
                for path in paths {
                    let res = tokio::time::timeout(RENDER_DEADLINE, client.get(path))
                        .await
                        .unwrap_or_else(|_| {
                            panic!(
                                "{path} did not render within {RENDER_DEADLINE:?} (round {round})"
                            )
                        });
                    assert!(
                        res.status.is_success()
                            || res.status.is_redirection()
                            || res.status == StatusCode::NOT_FOUND,
                        "{path}: {}",
                        res.status
                    );
                    assert!(
                        res.body.contains("</html>") || res.status.is_redirection(),
                        "{path}: a whole page"
                    );
                }
            }
        }
        stop.store(true, Ordering::Relaxed);
        let built = builder.join().expect("the router builder");
        assert!(built > 0, "routers were built meanwhile");
    })
    .await;
}

/// Every connection bounds its statements (SEC-8): PostgreSQL's statement, lock and
/// idle-in-transaction timeouts are set on each pooled connection, SQLite's busy timeout too.
#[tokio::test]
async fn every_database_connection_has_timeouts() {
    use app::server::db::{self, DbKind};
    use sqlx::Row;

    on_each_engine(|app: TestApp| async move {
        let pool = app.state.db.pool();
        match app.state.db.kind() {
            DbKind::Postgres => {
                for (setting, expected) in [
                    ("statement_timeout", db::STATEMENT_TIMEOUT),
                    ("lock_timeout", db::LOCK_TIMEOUT),
                    (
                        "idle_in_transaction_session_timeout",
                        db::IDLE_IN_TRANSACTION_TIMEOUT,
                    ),
                ] {
                    let row = sqlx::query(&format!(
                        "SELECT setting FROM pg_settings WHERE name = '{setting}'"
                    ))
                    .fetch_one(pool)
                    .await
                    .unwrap();
                    let millis: String = row.try_get("setting").unwrap();
                    assert_eq!(
                        millis,
                        expected.as_millis().to_string(),
                        "{setting} on a pooled connection"
                    );
                }
            }
            DbKind::Sqlite => {
                let row = sqlx::query("PRAGMA busy_timeout")
                    .fetch_one(pool)
                    .await
                    .unwrap();
                let millis: i64 = row.try_get(0).unwrap();
                assert_eq!(
                    u128::try_from(millis).unwrap(),
                    db::SQLITE_BUSY_TIMEOUT.as_millis()
                );
            }
        }
    })
    .await;
}

/// A request that outlives the server-wide limit is answered 503 with `Retry-After`, not
/// held (SEC-8): here the sign-in throttle's lock is held elsewhere (SQLite's one
/// connection; PostgreSQL's advisory lock), so the request waits past the limit.
#[tokio::test]
async fn a_request_past_the_time_limit_answers_503() {
    use app::server::db;

    on_each_engine_with(
        |state| {
            state.settings = std::sync::Arc::new(app::server::Settings {
                request_timeout: Duration::from_millis(300),
                ..app::server::Settings::development()
            });
        },
        |app: TestApp| async move {
            let mut holder = app.state.db.pool().begin().await.unwrap();
            // On PostgreSQL, the lock of the client's address scope, which the sign-in takes.
            db::lock_names(&mut holder, app.state.db.kind(), &["ip:192.0.2.1"])
                .await
                .unwrap();
            let res = app
                .client()
                .post(
                    paths::LOG_IN,
                    &[("email", "t@example.jp"), ("password", PASSWORD)],
                )
                .await;
            assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE);
            assert!(
                res.header("retry-after")
                    .and_then(|s| s.parse::<u64>().ok())
                    .is_some_and(|s| s > 0),
                "Retry-After: {:?}",
                res.header("retry-after")
            );
            holder.rollback().await.unwrap();
            // Nothing was left behind: the same request now goes through.
            assert_eq!(
                app.client()
                    .post(
                        paths::LOG_IN,
                        &[("email", "t@example.jp"), ("password", PASSWORD)],
                    )
                    .await
                    .app_error(),
                app::error::AppError::InvalidCredentials
            );
        },
    )
    .await;
}
