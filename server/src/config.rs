//! Configuration from environment variables, with safe defaults (README: Configuration).
//! Secrets are generated on first start and kept in the data folder when not given, and
//! never logged.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use app::server::sms::http::HttpGatewayConfig;
use app::server::{
    Entropy, Environment, OsEntropy, ProxyHeader, Settings, SmsLimits, TrustedProxies,
};
use leptos::config::{LeptosOptions, get_configuration};
use secrecy::SecretString;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("leptos configuration: {0}")]
    Leptos(String),
    #[error("{name} must be {expected} (got {value:?})")]
    Invalid {
        name: &'static str,
        expected: &'static str,
        value: String,
    },
    #[error("production mode needs NIDAN_PUBLIC_URL set to the https:// address people use")]
    ProductionNeedsHttps,
    #[error(
        "production mode cannot send SMS to the development outbox: set NIDAN_SMS_BACKEND=http and its NIDAN_SMS_HTTP_* variables"
    )]
    ProductionNeedsSmsGateway,
    #[error(
        "production mode needs NIDAN_TRUSTED_PROXIES: the addresses of the proxies in front of the server, or `none` when clients connect directly"
    )]
    ProductionNeedsProxyDecision,
    #[error(
        "production mode with PostgreSQL needs NIDAN_SECRET_KEY (64 hex characters), the same for every process"
    )]
    ProductionNeedsSecretKey,
    #[error("{0} must be set when NIDAN_SMS_BACKEND=http")]
    Missing(&'static str),
    #[error("secret key file {path}: {source}")]
    SecretFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no randomness to generate a secret key: {0}")]
    Entropy(String),
}

/// Where SMS go.
pub enum SmsBackend {
    /// The development outbox (`/dev/sms`).
    Outbox,
    /// A Twilio-shaped HTTP gateway.
    Http(HttpGatewayConfig),
}

/// Everything the binary needs to start.
pub struct Config {
    pub leptos_options: LeptosOptions,
    pub database_url: String,
    pub data_dir: PathBuf,
    pub secret_key: [u8; 32],
    pub settings: Settings,
    pub sms: SmsBackend,
    /// Password hashes at once (`NIDAN_HASH_WORKERS`, default: the cores) and how many more
    /// may wait (`NIDAN_HASH_QUEUE`, default 8 per worker); past that, 503 (issue 11).
    pub hash_workers: usize,
    pub hash_queue: usize,
}

/// A whole number from the environment within `range`, or `default` when unset.
fn number(
    name: &'static str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, ConfigError> {
    match var(name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or(ConfigError::Invalid {
                name,
                expected: "a whole number in the allowed range (see the README)",
                value: v,
            }),
    }
}

fn limit(name: &'static str, default: u32) -> Result<u32, ConfigError> {
    // Bounded by u32 and at least 1: a limit of 0 would silently turn SMS off.
    Ok(u32::try_from(number(name, u64::from(default), 1..=1_000_000)?).unwrap_or(default))
}

fn sms_limits() -> Result<SmsLimits, ConfigError> {
    let d = SmsLimits::default();
    Ok(SmsLimits {
        per_number_hour: limit("NIDAN_SMS_LIMIT_PER_NUMBER_HOUR", d.per_number_hour)?,
        per_number_day: limit("NIDAN_SMS_LIMIT_PER_NUMBER_DAY", d.per_number_day)?,
        registrations_per_number_day: limit(
            "NIDAN_SMS_LIMIT_REGISTRATIONS_PER_NUMBER_DAY",
            d.registrations_per_number_day,
        )?,
        per_account_day: limit("NIDAN_SMS_LIMIT_PER_ACCOUNT_DAY", d.per_account_day)?,
        per_ip_hour: limit("NIDAN_SMS_LIMIT_PER_IP_HOUR", d.per_ip_hour)?,
        global_hour: limit("NIDAN_SMS_LIMIT_GLOBAL_HOUR", d.global_hour)?,
        resend_cooldown: Duration::from_secs(number(
            "NIDAN_SMS_RESEND_COOLDOWN_SECS",
            d.resend_cooldown.as_secs(),
            1..=3600,
        )?),
    })
}

fn sms_backend() -> Result<SmsBackend, ConfigError> {
    match var("NIDAN_SMS_BACKEND").as_deref() {
        None | Some("outbox") => Ok(SmsBackend::Outbox),
        Some("http") => {
            let need = |name: &'static str| var(name).ok_or(ConfigError::Missing(name));
            Ok(SmsBackend::Http(HttpGatewayConfig {
                base_url: var("NIDAN_SMS_HTTP_BASE_URL")
                    .unwrap_or_else(|| "https://api.twilio.com".to_owned()),
                account_sid: need("NIDAN_SMS_HTTP_ACCOUNT_SID")?,
                auth_token: SecretString::from(need("NIDAN_SMS_HTTP_AUTH_TOKEN")?),
                from: need("NIDAN_SMS_HTTP_FROM")?,
                timeout: Duration::from_secs(number("NIDAN_SMS_HTTP_TIMEOUT_SECS", 10, 1..=60)?),
            }))
        }
        Some(other) => Err(ConfigError::Invalid {
            name: "NIDAN_SMS_BACKEND",
            expected: "outbox or http",
            value: other.to_owned(),
        }),
    }
}

/// `NIDAN_TRUSTED_PROXIES` and `NIDAN_PROXY_HEADER` (SEC-7). `None` when the operator has
/// not said whether there is a proxy.
fn trusted_proxies() -> Result<Option<TrustedProxies>, ConfigError> {
    let header = match var("NIDAN_PROXY_HEADER").as_deref() {
        None | Some("x-forwarded-for") => ProxyHeader::XForwardedFor,
        Some("forwarded") => ProxyHeader::Forwarded,
        Some(other) => {
            return Err(ConfigError::Invalid {
                name: "NIDAN_PROXY_HEADER",
                expected: "x-forwarded-for or forwarded",
                value: other.to_owned(),
            });
        }
    };
    match var("NIDAN_TRUSTED_PROXIES") {
        None => Ok(None),
        Some(v) if v.trim() == "none" => Ok(Some(TrustedProxies::none())),
        Some(v) => TrustedProxies::parse(&v, header)
            .map(Some)
            .map_err(|_| ConfigError::Invalid {
                name: "NIDAN_TRUSTED_PROXIES",
                expected: "`none`, or comma-separated IP addresses and CIDR blocks",
                value: v,
            }),
    }
}

/// `NIDAN_SERVICE_NAME`: what the SMS calls the service; one line of at most
/// `sms::MAX_SERVICE_NAME` (10) characters, so that a code message stays one SMS.
fn service_name() -> Result<String, ConfigError> {
    match var("NIDAN_SERVICE_NAME") {
        None => Ok("二段".to_owned()),
        Some(name) => {
            let name = name.trim().to_owned();
            let max = app::server::sms::MAX_SERVICE_NAME;
            if name.encode_utf16().count() <= max && !name.chars().any(char::is_control) {
                Ok(name)
            } else {
                Err(ConfigError::Invalid {
                    name: "NIDAN_SERVICE_NAME",
                    expected: "one line of at most 10 characters (a code must fit one SMS)",
                    value: name,
                })
            }
        }
    }
}

/// Whether cargo-leptos wrote its list of content-hashed asset names (`hash.txt`, from
/// `hash-files = true` in Cargo.toml) beside this binary. The pages
/// (`app::server::page_assets`) only read it when `LEPTOS_HASH_FILES=true`, which `cargo
/// leptos watch` sets but a server started on its own would not; without this, such a server
/// would link `/pkg/nidan.wasm`, a file the hashed build does not have. `LEPTOS_HASH_FILES`
/// still decides when it is set.
fn hash_file_beside_binary(name: &str) -> bool {
    app::server::page_assets::hash_file(name).is_some_and(|path| path.is_file())
}

/// Reads a variable, treating empty as unset.
fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        // LEPTOS_SITE_ADDR, LEPTOS_SITE_ROOT and friends are read here, as in any
        // cargo-leptos app; the defaults come from Cargo.toml's [workspace.metadata.leptos].
        let conf = get_configuration(None).map_err(|e| ConfigError::Leptos(e.to_string()))?;

        let environment = match var("NIDAN_ENV").as_deref() {
            None | Some("development") => Environment::Development,
            Some("production") => Environment::Production,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "NIDAN_ENV",
                    expected: "development or production",
                    value: other.to_owned(),
                });
            }
        };
        let public_origin = match var("NIDAN_PUBLIC_URL") {
            Some(url) => Some(origin_of(&url)?),
            None => None,
        };
        let https = public_origin
            .as_deref()
            .is_some_and(|o| o.starts_with("https://"));
        if environment == Environment::Production && !https {
            return Err(ConfigError::ProductionNeedsHttps);
        }
        let webotp_host = public_origin
            .as_deref()
            .map_or("localhost", host_of)
            .to_owned();
        let trusted_proxies = trusted_proxies()?;
        if environment == Environment::Production && trusted_proxies.is_none() {
            return Err(ConfigError::ProductionNeedsProxyDecision);
        }
        let session_idle_hours = number("NIDAN_SESSION_IDLE_HOURS", 24 * 7, 1..=24 * 90)?;
        let sms = sms_backend()?;
        if environment == Environment::Production && matches!(sms, SmsBackend::Outbox) {
            return Err(ConfigError::ProductionNeedsSmsGateway);
        }

        let cores = std::thread::available_parallelism().map_or(1, usize::from) as u64;
        let hash_workers = number("NIDAN_HASH_WORKERS", cores, 1..=256)? as usize;
        let hash_queue = number(
            "NIDAN_HASH_QUEUE",
            (app::server::passwords::DEFAULT_QUEUE_PER_WORKER * hash_workers) as u64,
            0..=100_000,
        )? as usize;

        let data_dir = PathBuf::from(var("NIDAN_DATA_DIR").unwrap_or_else(|| "data".to_owned()));
        let database_url = var("DATABASE_URL")
            .unwrap_or_else(|| format!("sqlite://{}/nidan.db", data_dir.display()));
        let secret_key = match var("NIDAN_SECRET_KEY") {
            Some(hex_key) => parse_key(&hex_key)?,
            // Processes sharing a PostgreSQL must share the key too; one generated into
            // each machine's data folder would make every other process's codes useless.
            None if environment == Environment::Production
                && !database_url.starts_with("sqlite:") =>
            {
                return Err(ConfigError::ProductionNeedsSecretKey);
            }
            None => load_or_create_key(&data_dir.join("secret.key"), &OsEntropy)?,
        };

        let request_timeout =
            Duration::from_secs(number("NIDAN_REQUEST_TIMEOUT_SECS", 30, 1..=600)?);
        if let SmsBackend::Http(gateway) = &sms
            && request_timeout < gateway.timeout + Duration::from_secs(5)
        {
            // Cut off mid-send, a request could not kill the code of a failed SMS.
            return Err(ConfigError::Invalid {
                name: "NIDAN_REQUEST_TIMEOUT_SECS",
                expected: "at least 5 seconds more than NIDAN_SMS_HTTP_TIMEOUT_SECS",
                value: request_timeout.as_secs().to_string(),
            });
        }

        let mut leptos_options = conf.leptos_options;
        let hash_file_found = hash_file_beside_binary(&leptos_options.hash_file);
        if var("LEPTOS_HASH_FILES").is_none() {
            leptos_options.hash_files = hash_file_found;
        } else if leptos_options.hash_files && !hash_file_found {
            // The pages would link hashed names that are not there.
            return Err(ConfigError::Invalid {
                name: "LEPTOS_HASH_FILES",
                expected: "false, or the hash file cargo-leptos writes beside the server binary",
                value: format!("true, but there is no {}", leptos_options.hash_file),
            });
        }

        Ok(Self {
            leptos_options,
            database_url,
            data_dir,
            secret_key,
            settings: Settings {
                environment,
                public_origin,
                secure_cookies: https,
                session_idle: Duration::from_secs(session_idle_hours * 3600),
                sms_limits: sms_limits()?,
                login_free_failures_per_account: limit("NIDAN_LOGIN_FREE_FAILURES_PER_ACCOUNT", 5)?,
                login_free_failures_per_ip: limit("NIDAN_LOGIN_FREE_FAILURES_PER_IP", 20)?,
                login_account_ceiling: limit("NIDAN_LOGIN_ACCOUNT_CEILING", 50)?,
                signup_free_per_ip: limit("NIDAN_SIGNUP_FREE_PER_IP", 20)?,
                trusted_proxies: trusted_proxies.unwrap_or_default(),
                dev_outbox_open: var("NIDAN_DEV_OUTBOX").as_deref() == Some("1"),
                webotp_host,
                service_name: service_name()?,
                reauth_window: Duration::from_secs(number(
                    "NIDAN_REAUTH_WINDOW_SECS",
                    600,
                    5..=86_400,
                )?),
                // PH-6 says ten minutes; a test may shorten it to see a code expire.
                code_ttl: Duration::from_secs(number("NIDAN_CODE_TTL_SECS", 600, 5..=600)?),
                request_timeout,
            },
            sms,
            hash_workers,
            hash_queue,
        })
    }

    /// What the log may say about the database: the engine, never the credentials.
    pub fn database_label(&self) -> String {
        if self.database_url.starts_with("sqlite:") {
            format!(
                "SQLite ({})",
                self.database_url.trim_start_matches("sqlite://")
            )
        } else {
            "PostgreSQL".to_owned()
        }
    }
}

/// The host of an origin, without the port: `https://nidan.example:8443` → `nidan.example`,
/// `http://[::1]:3000` → `[::1]`.
fn host_of(origin: &str) -> &str {
    let host = origin.split_once("://").map_or(origin, |(_, h)| h);
    match host.find(']') {
        Some(end) => &host[..=end],
        None => host.split(':').next().unwrap_or(host),
    }
}

/// `https://nidan.example/some/path` → `https://nidan.example`.
fn origin_of(url: &str) -> Result<String, ConfigError> {
    let invalid = || ConfigError::Invalid {
        name: "NIDAN_PUBLIC_URL",
        expected: "an http:// or https:// URL",
        value: url.to_owned(),
    };
    let (scheme, rest) = url.split_once("://").ok_or_else(invalid)?;
    if scheme != "http" && scheme != "https" {
        return Err(invalid());
    }
    let host = rest
        .split('/')
        .next()
        .filter(|h| !h.is_empty())
        .ok_or_else(invalid)?;
    Ok(format!("{scheme}://{host}"))
}

fn parse_key(hex_key: &str) -> Result<[u8; 32], ConfigError> {
    let invalid = || ConfigError::Invalid {
        name: "NIDAN_SECRET_KEY",
        expected: "64 hexadecimal characters (32 bytes)",
        value: "(hidden)".to_owned(),
    };
    let bytes = hex::decode(hex_key.trim()).map_err(|_| invalid())?;
    bytes.try_into().map_err(|_| invalid())
}

/// Reads the key file, or creates it (mode 0600) with fresh random bytes.
fn load_or_create_key(path: &Path, entropy: &dyn Entropy) -> Result<[u8; 32], ConfigError> {
    let file_err = |source| ConfigError::SecretFile {
        path: path.to_owned(),
        source,
    };
    match std::fs::read_to_string(path) {
        Ok(contents) => parse_key(&contents),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(file_err)?;
            }
            let key = entropy
                .bytes::<32>()
                .map_err(|e| ConfigError::Entropy(e.to_string()))?;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(path).map_err(file_err)?;
            file.write_all(hex::encode(key).as_bytes())
                .map_err(file_err)?;
            tracing::info!(path = %path.display(), "generated a new secret key");
            Ok(key)
        }
        Err(e) => Err(file_err(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::server::SeededEntropy;

    #[test]
    fn origins_drop_the_path_and_refuse_other_schemes() {
        assert_eq!(
            origin_of("https://nidan.example/a/b").unwrap(),
            "https://nidan.example"
        );
        assert_eq!(
            origin_of("http://127.0.0.1:3000").unwrap(),
            "http://127.0.0.1:3000"
        );
        assert!(origin_of("ftp://x").is_err());
        assert!(origin_of("nidan.example").is_err());
    }

    #[test]
    fn webotp_hosts_drop_scheme_and_port() {
        assert_eq!(host_of("https://nidan.example"), "nidan.example");
        assert_eq!(host_of("http://127.0.0.1:3000"), "127.0.0.1");
        assert_eq!(host_of("http://[::1]:3000"), "[::1]");
    }

    #[test]
    fn keys_are_64_hex_characters() {
        assert_eq!(parse_key(&"ab".repeat(32)).unwrap(), [0xab; 32]);
        assert!(parse_key("abcd").is_err());
        assert!(parse_key(&"zz".repeat(32)).is_err());
    }

    #[test]
    fn a_generated_key_is_kept_and_reused() {
        let dir = std::env::temp_dir().join(format!("nidan-key-{}", std::process::id()));
        let path = dir.join("secret.key");
        let _ = std::fs::remove_file(&path);
        let first = load_or_create_key(&path, &SeededEntropy::new(1)).unwrap();
        let again = load_or_create_key(&path, &SeededEntropy::new(2)).unwrap();
        assert_eq!(first, again);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
