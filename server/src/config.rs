//! Configuration from environment variables, with safe defaults (README: Configuration).
//! Secrets are generated on first start and kept in the data folder when not given, and
//! never logged.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use app::server::{Entropy, Environment, OsEntropy, Settings};
use leptos::config::{LeptosOptions, get_configuration};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("leptos configuration: {0}")]
    Leptos(String),
    #[error("{name} must be {expected} (got {value:?})")]
    Invalid { name: &'static str, expected: &'static str, value: String },
    #[error("production mode needs NIDAN_PUBLIC_URL set to the https:// address people use")]
    ProductionNeedsHttps,
    #[error("secret key file {path}: {source}")]
    SecretFile { path: PathBuf, source: std::io::Error },
    #[error("no randomness to generate a secret key: {0}")]
    Entropy(String),
}

/// Everything the binary needs to start.
pub struct Config {
    pub leptos_options: LeptosOptions,
    pub database_url: String,
    pub data_dir: PathBuf,
    pub secret_key: [u8; 32],
    pub settings: Settings,
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
        let https = public_origin.as_deref().is_some_and(|o| o.starts_with("https://"));
        if environment == Environment::Production && !https {
            return Err(ConfigError::ProductionNeedsHttps);
        }
        let session_idle_hours = match var("NIDAN_SESSION_IDLE_HOURS") {
            Some(v) => v.parse::<u64>().ok().filter(|h| (1..=24 * 90).contains(h)).ok_or(ConfigError::Invalid {
                name: "NIDAN_SESSION_IDLE_HOURS",
                expected: "a whole number of hours from 1 to 2160",
                value: v,
            })?,
            None => 24 * 7,
        };

        let data_dir = PathBuf::from(var("NIDAN_DATA_DIR").unwrap_or_else(|| "data".to_owned()));
        let database_url =
            var("DATABASE_URL").unwrap_or_else(|| format!("sqlite://{}/nidan.db", data_dir.display()));
        let secret_key = match var("NIDAN_SECRET_KEY") {
            Some(hex_key) => parse_key(&hex_key)?,
            None => load_or_create_key(&data_dir.join("secret.key"), &OsEntropy)?,
        };

        Ok(Self {
            leptos_options: conf.leptos_options,
            database_url,
            data_dir,
            secret_key,
            settings: Settings {
                environment,
                public_origin,
                secure_cookies: https,
                session_idle: Duration::from_secs(session_idle_hours * 3600),
            },
        })
    }

    /// What the log may say about the database: the engine, never the credentials.
    pub fn database_label(&self) -> String {
        if self.database_url.starts_with("sqlite:") {
            format!("SQLite ({})", self.database_url.trim_start_matches("sqlite://"))
        } else {
            "PostgreSQL".to_owned()
        }
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
    let host = rest.split('/').next().filter(|h| !h.is_empty()).ok_or_else(invalid)?;
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
    let file_err = |source| ConfigError::SecretFile { path: path.to_owned(), source };
    match std::fs::read_to_string(path) {
        Ok(contents) => parse_key(&contents),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(file_err)?;
            }
            let key = entropy.bytes::<32>().map_err(|e| ConfigError::Entropy(e.to_string()))?;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(path).map_err(file_err)?;
            file.write_all(hex::encode(key).as_bytes()).map_err(file_err)?;
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
        assert_eq!(origin_of("https://nidan.example/a/b").unwrap(), "https://nidan.example");
        assert_eq!(origin_of("http://127.0.0.1:3000").unwrap(), "http://127.0.0.1:3000");
        assert!(origin_of("ftp://x").is_err());
        assert!(origin_of("nidan.example").is_err());
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
