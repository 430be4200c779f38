//! Starts Nidan: reads the configuration, opens the database, builds the state and serves.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use app::domain::PhoneNumber;
use app::server::db::session_store::SqlSessionStore;
use app::server::sms::HttpGateway;
use app::server::{AppState, Db, OsEntropy, PasswordHasher, Secrets, SmsGateway, SystemClock};
use server::config::{Config, SmsBackend};
use tracing_subscriber::EnvFilter;

// The system allocator: argon2's 19 MiB no longer passes through it (the hashing pool maps its
// memory from the OS, passwords.rs), and glibc hands back what start-up used, where mimalloc
// kept ~15 MB of freed pages resident until more allocations came (issue 11, BENCHMARKS.md).

#[derive(Debug, thiserror::Error)]
enum StartError {
    #[error(transparent)]
    Config(#[from] server::config::ConfigError),
    #[error(transparent)]
    Db(#[from] app::server::db::DbError),
    #[error(transparent)]
    Hash(#[from] app::server::passwords::HashError),
    #[error("SMS gateway: {0}")]
    Sms(#[from] app::server::sms::SmsError),
    #[error("network: {0}")]
    Io(#[from] std::io::Error),
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| {
            EnvFilter::new("info,sqlx=warn,tower_sessions=warn,tower_http=warn")
        }))
        .init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("cannot start: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), StartError> {
    let config = Config::from_env()?;
    let db = Db::connect(&config.database_url).await?;
    tracing::info!(database = %config.database_label(), data = %config.data_dir.display(), "database ready");

    let sms = match config.sms {
        SmsBackend::Outbox => SmsGateway::Outbox(db.clone()),
        SmsBackend::Http(gateway) => SmsGateway::Http(Arc::new(HttpGateway::new(gateway)?)),
    };
    tracing::info!(backend = sms.name(), "SMS ready");
    // Every code is billed per SMS part: say so if this host makes each code cost two.
    let longest = app::server::sms::code_message(
        &config.settings.service_name,
        "000000",
        &config.settings.webotp_host,
        config.settings.code_ttl,
    );
    let parts = app::server::sms::segments(&longest);
    tracing::info!(
        parts,
        utf16_units = longest.encode_utf16().count(),
        "a code SMS takes {parts} part(s)"
    );
    if parts > 1 {
        tracing::warn!(
            host = %config.settings.webotp_host,
            parts,
            "a code SMS takes {parts} parts (billed each): the host in NIDAN_PUBLIC_URL is longer than {} characters",
            app::server::sms::MAX_ONE_SEGMENT_HOST
        );
    }
    if sms.is_outbox() {
        if config.settings.dev_outbox_open {
            tracing::warn!(
                "NIDAN_DEV_OUTBOX=1: /dev/sms shows every code sent to anyone who asks; never do this on a reachable server"
            );
        } else {
            tracing::info!("/dev/sms and /dev/sms.json answer only clients on this machine");
        }
    }
    // Load the phone-number metadata now rather than on the first person's request.
    let _ = PhoneNumber::parse("090-0000-0000");

    let addr = config.leptos_options.site_addr;
    let state = AppState {
        db: db.clone(),
        clock: Arc::new(SystemClock),
        entropy: Arc::new(OsEntropy),
        passwords: PasswordHasher::owasp()?.with_pool(config.hash_workers, config.hash_queue)?,
        secrets: Arc::new(Secrets::new(config.secret_key)),
        settings: Arc::new(config.settings),
        sms,
        leptos_options: config.leptos_options,
    };

    tokio::spawn(housekeeping(state.clone(), SqlSessionStore::new(db)));
    tokio::spawn(throttle_housekeeping(state.clone()));

    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!("listening on http://{addr}");
    axum::serve(
        listener,
        server::router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    Ok(())
}

/// Hourly: expired sessions, and rows no rule reads any more.
async fn housekeeping(state: AppState, store: SqlSessionStore) {
    let mut every = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every.tick().await;
        match app::server::services::maintenance::purge(&state, state.clock.now()).await {
            Ok(n) if n > 0 => tracing::info!(deleted = n, "old rows removed"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "housekeeping failed"),
        }
        // The wall clock, as the store judges a session's expiry (tower-sessions stamps it
        // with the wall clock; see `SqlSessionStore::load`).
        match store.delete_expired(time::OffsetDateTime::now_utc()).await {
            Ok(n) if n > 0 => tracing::info!(deleted = n, "expired sessions removed"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "removing expired sessions failed"),
        }
    }
}

/// Every minute: the sign-in throttle's failures that no longer count.
async fn throttle_housekeeping(state: AppState) {
    let mut every = tokio::time::interval(app::server::services::maintenance::THROTTLE_PURGE_EVERY);
    loop {
        every.tick().await;
        match app::server::services::maintenance::purge_throttle(&state, state.clock.now()).await {
            Ok(n) if n > 0 => tracing::debug!(deleted = n, "old sign-in failures removed"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "removing old sign-in failures failed"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
