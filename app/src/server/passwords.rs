//! Password hashing with argon2id (ACC-1). Hashing runs on blocking threads, never on the
//! async workers, and at most `workers` at a time (each holds 19 MiB while it runs), with
//! at most `queue` more waiting for one: past that, [`HashError::Busy`] at once, which the
//! client gets as 503 with `Retry-After` (issue 11, SEC-8). A storm of sign-ins therefore
//! costs a fixed amount of memory and leaves the rest of the server its latency, instead of
//! piling up one 19 MiB buffer per waiting request. A place ([`PasswordHasher::reserve`])
//! is taken only once the sign-in throttle has let the attempt through, and given back as
//! soon as the hashing is done; an attempt turned away as busy is withdrawn from the
//! throttle, so it counts against no one. Verifying an unknown account still runs one full verification against a
//! dummy hash with the same parameters, so that "no such email" and "wrong password" take
//! the same time as well as giving the same message.

use std::{fmt, sync::Arc};

use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};

use argon2::password_hash::{
    PasswordHash as ParsedHash, PasswordHasher as _, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::domain::Password;

/// An encoded argon2 hash (PHC string). Not `Serialize`, and `Debug` shows nothing.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(***)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("argon2: {0}")]
    Argon2(String),
    #[error("hashing task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
    /// Every worker is hashing and the queue is full: try again in a moment.
    #[error("password hashing is at capacity")]
    Busy,
}

/// How long a client turned away by [`HashError::Busy`] is asked to wait.
pub const BUSY_RETRY_SECS: u64 = 1;

impl From<HashError> for crate::error::AppError {
    fn from(e: HashError) -> Self {
        match e {
            HashError::Busy => {
                tracing::warn!("password hashing at capacity: a request was asked to come back");
                Self::Unavailable {
                    retry_after_secs: BUSY_RETRY_SECS,
                }
            }
            other => {
                tracing::error!(error = %other, "password hashing failed");
                Self::Internal
            }
        }
    }
}

/// argon2id with fixed parameters. Cheap to clone.
#[derive(Clone)]
pub struct PasswordHasher {
    inner: Arc<Inner>,
}

struct Inner {
    params: Params,
    dummy: PasswordHash,
    /// Places for hashing work: running or waiting for a worker (`workers + queue`).
    admitted: Arc<Semaphore>,
    /// Hashes running at once.
    workers: Arc<Semaphore>,
}

/// A place among the hashing work, taken by [`PasswordHasher::reserve`] and held for one
/// request's hashes and verifications (one after the other); dropping it gives it back.
pub struct HashSlot {
    inner: Arc<Inner>,
    _admitted: OwnedSemaphorePermit,
}

impl PasswordHasher {
    /// OWASP's recommendation for argon2id: 19 MiB, 2 passes, 1 lane.
    pub fn owasp() -> Result<Self, HashError> {
        Self::with_params(19_456, 2, 1)
    }

    /// Cheap parameters for tests only.
    pub fn insecure_for_tests() -> Result<Self, HashError> {
        Self::with_params(64, 1, 1)
    }

    pub fn with_params(memory_kib: u32, iterations: u32, lanes: u32) -> Result<Self, HashError> {
        let params = Params::new(memory_kib, iterations, lanes, None)
            .map_err(|e| HashError::Argon2(e.to_string()))?;
        let dummy = hash_blocking(&params, "nidan dummy password", &[0x5a; 16])?;
        let workers = std::thread::available_parallelism().map_or(1, usize::from);
        Ok(Self::build(
            params,
            dummy,
            workers,
            DEFAULT_QUEUE_PER_WORKER * workers,
        ))
    }

    /// The same hasher with `workers` hashes at a time (at least one) and `queue` more
    /// waiting (`NIDAN_HASH_WORKERS`, `NIDAN_HASH_QUEUE`).
    pub fn with_pool(self, workers: usize, queue: usize) -> Self {
        Self::build(
            self.inner.params.clone(),
            self.inner.dummy.clone(),
            workers,
            queue,
        )
    }

    fn build(params: Params, dummy: PasswordHash, workers: usize, queue: usize) -> Self {
        let workers = workers.max(1);
        Self {
            inner: Arc::new(Inner {
                params,
                dummy,
                admitted: Arc::new(Semaphore::new(workers.saturating_add(queue))),
                workers: Arc::new(Semaphore::new(workers)),
            }),
        }
    }

    /// A place for one hash or verification, or [`HashError::Busy`] at once.
    pub fn reserve(&self) -> Result<HashSlot, HashError> {
        match self.inner.admitted.clone().try_acquire_owned() {
            Ok(permit) => Ok(HashSlot {
                inner: self.inner.clone(),
                _admitted: permit,
            }),
            Err(TryAcquireError::NoPermits | TryAcquireError::Closed) => Err(HashError::Busy),
        }
    }

    /// Hashes a password that passed the policy, with a fresh 16-byte salt. Tests only:
    /// the app takes its place with [`Self::reserve`] once the throttle lets it through.
    #[cfg(test)]
    pub async fn hash(
        &self,
        password: &Password,
        salt: [u8; 16],
    ) -> Result<PasswordHash, HashError> {
        self.reserve()?.hash(password, salt).await
    }

    /// Whether `password` matches `stored` (see [`HashSlot::verify`]). Tests only, as `hash`.
    #[cfg(test)]
    pub async fn verify(
        &self,
        password: String,
        stored: Option<PasswordHash>,
    ) -> Result<bool, HashError> {
        self.reserve()?.verify(password, stored).await
    }
}

/// Waiting places per worker by default: a sign-in waits at most this many hashes (about
/// 50 ms each) before its own runs.
pub const DEFAULT_QUEUE_PER_WORKER: usize = 8;

impl HashSlot {
    /// Hashes a password that passed the policy, with a fresh 16-byte salt.
    pub async fn hash(
        &self,
        password: &Password,
        salt: [u8; 16],
    ) -> Result<PasswordHash, HashError> {
        let password = password.expose().to_owned();
        self.run(move |inner| hash_blocking(&inner.params, &password, &salt))
            .await
    }

    /// Whether `password` matches `stored`. With `stored = None` (unknown account) the
    /// dummy hash is checked instead and the answer is always `false`.
    pub async fn verify(
        &self,
        password: String,
        stored: Option<PasswordHash>,
    ) -> Result<bool, HashError> {
        self.run(move |inner| {
            let known = stored.is_some();
            let hash = stored.unwrap_or_else(|| inner.dummy.clone());
            let parsed =
                ParsedHash::new(hash.as_str()).map_err(|e| HashError::Argon2(e.to_string()))?;
            let ok = Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok();
            Ok(known && ok)
        })
        .await
    }

    /// Runs `work` on a blocking thread once a worker is free; the place is given back when
    /// it is done (or when the request is dropped while it waits).
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Inner) -> Result<T, HashError> + Send + 'static,
    ) -> Result<T, HashError> {
        let worker = self
            .inner
            .workers
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| HashError::Busy)?;
        let inner = self.inner.clone();
        // The worker's permit goes with the work: a request dropped while its hash runs
        // (the time limit) does not free the worker before the hash is done.
        tokio::task::spawn_blocking(move || {
            let _worker = worker;
            work(&inner)
        })
        .await?
    }
}

fn hash_blocking(
    params: &Params,
    password: &str,
    salt: &[u8; 16],
) -> Result<PasswordHash, HashError> {
    let salt = SaltString::encode_b64(salt).map_err(|e| HashError::Argon2(e.to_string()))?;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let hash = argon2
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| HashError::Argon2(e.to_string()))?;
    Ok(PasswordHash(hash.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_unknown_accounts_never_match() {
        let hasher = PasswordHasher::insecure_for_tests().unwrap();
        let pw = Password::new("correct horse battery".into()).unwrap();
        let hash = hasher.hash(&pw, [1; 16]).await.unwrap();
        assert!(hash.as_str().starts_with("$argon2id$"));
        assert!(
            hasher
                .verify("correct horse battery".into(), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify("wrong horse battery".into(), Some(hash))
                .await
                .unwrap()
        );
        // The dummy's own password must not log anyone in.
        assert!(
            !hasher
                .verify("nidan dummy password".into(), None)
                .await
                .unwrap()
        );
    }

    /// With one worker and one waiting place, a burst of ten gets two through and eight
    /// told at once to come back; once the burst is over there is room again.
    #[tokio::test]
    async fn past_the_queue_hashing_is_refused_at_once() {
        let hasher = PasswordHasher::owasp().unwrap().with_pool(1, 1);
        let burst = (0..10).map(|_| hasher.verify("a password".into(), None));
        let results = futures_join_all(burst).await;
        let busy = results
            .iter()
            .filter(|r| matches!(r, Err(HashError::Busy)))
            .count();
        assert_eq!(busy, 8, "{results:?}");
        assert_eq!(results.iter().filter(|r| matches!(r, Ok(false))).count(), 2);
        assert!(matches!(
            hasher.verify("again".into(), None).await,
            Ok(false)
        ));
    }

    /// Polls every future in order before any finishes (what a burst of requests does).
    async fn futures_join_all<F: std::future::Future>(
        futures: impl Iterator<Item = F>,
    ) -> Vec<F::Output> {
        let mut handles: Vec<_> = futures.map(Box::pin).collect();
        let mut out: Vec<Option<F::Output>> = handles.iter().map(|_| None).collect();
        std::future::poll_fn(|cx| {
            let mut pending = false;
            for (h, o) in handles.iter_mut().zip(out.iter_mut()) {
                if o.is_none() {
                    match h.as_mut().poll(cx) {
                        std::task::Poll::Ready(v) => *o = Some(v),
                        std::task::Poll::Pending => pending = true,
                    }
                }
            }
            if pending {
                std::task::Poll::Pending
            } else {
                std::task::Poll::Ready(())
            }
        })
        .await;
        out.into_iter().flatten().collect()
    }

    #[test]
    fn owasp_parameters_are_argon2id_19mib() {
        let hasher = PasswordHasher::owasp().unwrap();
        assert!(
            hasher
                .inner
                .dummy
                .as_str()
                .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
        );
    }
}
