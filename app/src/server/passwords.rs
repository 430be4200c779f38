//! Password hashing with argon2id (ACC-1), on a pool of its own (issue 11).
//!
//! Hashing runs on `workers` threads of its own (`NIDAN_HASH_WORKERS`, default the cores),
//! never on the async workers, with at most `queue` more requests waiting for one: past
//! that, [`HashError::Busy`] at once, which the client gets as 503 with `Retry-After` (SEC-8).
//! Each thread keeps its 19 MiB of argon2 memory while work keeps coming and hands it back to
//! the operating system after [`IDLE_RELEASE`] without any; the memory is mapped straight
//! from the OS ([`Memory`]), so giving it back does not depend on what the allocator keeps.
//! A storm of sign-ins therefore costs `workers` × 19 MiB whatever its size, no page of that
//! is faulted in twice while it lasts, and nothing of it stays once it is over.
//!
//! A place ([`PasswordHasher::reserve`]) is taken only once the sign-in throttle has let the
//! attempt through, and given back as soon as the hashing is done; an attempt turned away as
//! busy is withdrawn from the throttle, so it counts against no one. Verifying an unknown
//! account still runs one full verification against a dummy hash with the same parameters,
//! so that "no such email" and "wrong password" take the same time as well as giving the
//! same message.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use std::{fmt, sync::Arc};

use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError, oneshot};

use argon2::password_hash::{Output, ParamsString, PasswordHash as ParsedHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

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
    /// A hashing thread could not be started, or its work panicked.
    #[error("hashing worker failed: {0}")]
    Worker(String),
    /// The operating system would not give a worker its argon2 memory.
    #[error("argon2 memory: {0}")]
    Memory(#[from] std::io::Error),
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
                note_busy();
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

/// The argon2id parameters every stored hash uses: memory in KiB, passes, lanes (OWASP's
/// recommendation). `scripts/bench.sh` measures its floor with the same ones.
pub const OWASP: (u32, u32, u32) = (19_456, 2, 1);

/// Logs that hashing is at capacity: every refusal at DEBUG, and a WARN with the count at
/// most once per [`BUSY_WARN_EVERY`], so that a storm of thousands of refusals a second does
/// not become a storm of log lines (and of the CPU they cost).
fn note_busy() {
    static REFUSED: AtomicUsize = AtomicUsize::new(0);
    static WARNED: std::sync::Mutex<Option<std::time::Instant>> = std::sync::Mutex::new(None);
    let refused = REFUSED.fetch_add(1, Ordering::Relaxed) + 1;
    tracing::debug!("password hashing at capacity: a request was asked to come back");
    let mut warned = WARNED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if warned.is_none_or(|at| at.elapsed() >= BUSY_WARN_EVERY) {
        *warned = Some(std::time::Instant::now());
        REFUSED.fetch_sub(refused, Ordering::Relaxed);
        tracing::warn!(
            refused,
            "password hashing at capacity: {refused} request(s) asked to come back since the last warning"
        );
    }
}

/// How often at most a storm of refusals is logged at WARN.
const BUSY_WARN_EVERY: Duration = Duration::from_secs(10);

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
    /// Hashes running at once: one permit per pool thread, so the pool's queue never holds
    /// more than it has threads.
    workers: Arc<Semaphore>,
    pool: flume::Sender<Job>,
    /// argon2 memory the pool's threads hold now, in bytes.
    held: Arc<AtomicUsize>,
}

/// One piece of hashing work, run on a pool thread with that thread's memory.
type Job = Box<dyn FnOnce(&mut Memory) + Send>;

/// How long a pool thread keeps its argon2 memory without work before giving it back.
pub const IDLE_RELEASE: Duration = Duration::from_secs(2);

/// argon2's working memory, mapped from the operating system (an anonymous map), grown to
/// the largest hash it has served and unmapped when dropped or released: it never passes
/// through the allocator, which would keep the 19 MiB after a burst.
pub struct Memory {
    map: Option<memmap2::MmapMut>,
    /// Bytes mapped now by every `Memory` of one pool (what [`PasswordHasher::memory_held`]
    /// reports).
    held: Arc<AtomicUsize>,
}

impl Memory {
    pub fn new() -> Self {
        Self::counted(Arc::default())
    }

    fn counted(held: Arc<AtomicUsize>) -> Self {
        Self { map: None, held }
    }

    /// Gives the memory back to the operating system.
    pub fn release(&mut self) {
        if let Some(map) = self.map.take() {
            self.held.fetch_sub(map.len(), Ordering::Relaxed);
        }
    }

    /// Whether memory is held now.
    pub fn is_held(&self) -> bool {
        self.map.is_some()
    }

    /// `count` blocks, mapping (more) memory first if fewer are held.
    fn blocks(&mut self, count: usize) -> Result<&mut [Block], HashError> {
        let bytes = count
            .checked_mul(Block::SIZE)
            .ok_or_else(|| HashError::Argon2("memory size overflows".into()))?;
        if self.map.as_ref().is_some_and(|map| map.len() < bytes) {
            self.release();
        }
        let map = match &mut self.map {
            Some(map) => map,
            slot => {
                let map = memmap2::MmapMut::map_anon(bytes)?;
                self.held.fetch_add(map.len(), Ordering::Relaxed);
                slot.insert(map)
            }
        };
        // SAFETY: the map is page-aligned (Block needs 64 bytes), at least `count` blocks
        // long, and writable; the OS fills it with zeros, and a Block is 128 plain u64s, for
        // which every bit pattern (zeros included) is a valid value. The slice borrows
        // `self` mutably, so nothing else can touch the map while it lives.
        Ok(unsafe { std::slice::from_raw_parts_mut(map.as_mut_ptr().cast::<Block>(), count) })
    }
}

impl Default for Memory {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Memory {
    fn drop(&mut self) {
        self.release();
    }
}

/// Starts `workers` hashing threads; they end when every sender is dropped.
fn start_pool(workers: usize, held: &Arc<AtomicUsize>) -> Result<flume::Sender<Job>, HashError> {
    let (sender, jobs) = flume::unbounded::<Job>();
    for n in 0..workers {
        let jobs = jobs.clone();
        let memory = Memory::counted(held.clone());
        std::thread::Builder::new()
            .name(format!("argon2-{n}"))
            .spawn(move || pool_thread(&jobs, memory))
            .map_err(|e| HashError::Worker(e.to_string()))?;
    }
    Ok(sender)
}

/// How far below the rest of the server the hashing threads run, in nice steps (Linux
/// caps the result at 19). A hash is batch work of ~30 ms; a page request, or a sign-in's
/// next database step, that wakes up meanwhile should get the CPU at once rather than after
/// a hash's time slice. The hashes still get every cycle nothing else wants, so a storm of
/// sign-ins alone runs as fast as before; what changes is who waits when both want the CPU
/// (issue 11: a page's latency during a sign-in storm). Relative, not absolute: a server
/// started under `nice` keeps its hashes below itself, and lowering a priority never
/// needs a privilege.
pub const HASH_NICE: i32 = 10;

/// Lowers the calling thread's scheduling priority by [`HASH_NICE`]. On Linux the nice
/// value belongs to each thread (`setpriority(2)`, "BUGS"), so this touches no other
/// thread. Elsewhere, and if the call fails, the thread keeps the server's priority
/// (logged): hashing is then only less polite.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: getpriority and setpriority take plain integers and touch no memory of
        // ours; `who` = 0 is the calling thread. getpriority cannot fail for it (its -1 is
        // then a real nice value).
        let now = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
        let lower = now.saturating_add(HASH_NICE).min(19);
        // SAFETY: as above.
        if unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, lower) } != 0 {
            tracing::warn!(
                error = %std::io::Error::last_os_error(),
                "a hashing thread keeps the server's priority"
            );
        }
    }
}

fn pool_thread(jobs: &flume::Receiver<Job>, mut memory: Memory) {
    lower_priority();
    loop {
        match jobs.recv_timeout(IDLE_RELEASE) {
            Ok(job) => {
                // A panic ends that one piece of work (its caller hears of it), not the thread.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut memory)));
            }
            Err(flume::RecvTimeoutError::Timeout) => memory.release(),
            Err(flume::RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// A place among the hashing work, taken by [`PasswordHasher::reserve`] and held for one
/// request's hashes and verifications (one after the other); dropping it gives it back.
pub struct HashSlot {
    inner: Arc<Inner>,
    _admitted: OwnedSemaphorePermit,
}

impl PasswordHasher {
    /// OWASP's recommendation for argon2id: 19 MiB, 2 passes, 1 lane ([`OWASP`]).
    pub fn owasp() -> Result<Self, HashError> {
        let (memory_kib, iterations, lanes) = OWASP;
        Self::with_params(memory_kib, iterations, lanes)
    }

    /// Cheap parameters for tests only.
    pub fn insecure_for_tests() -> Result<Self, HashError> {
        Self::with_params(64, 1, 1)
    }

    pub fn with_params(memory_kib: u32, iterations: u32, lanes: u32) -> Result<Self, HashError> {
        let params = Params::new(memory_kib, iterations, lanes, None)
            .map_err(|e| HashError::Argon2(e.to_string()))?;
        // Its memory is unmapped as soon as it is made.
        let dummy = hash_with(
            &mut Memory::new(),
            &params,
            "nidan dummy password",
            &[0x5a; 16],
        )?;
        let workers = std::thread::available_parallelism().map_or(1, usize::from);
        Self::build(params, dummy, workers, DEFAULT_QUEUE_PER_WORKER * workers)
    }

    /// The same hasher with `workers` hashing threads (at least one) and `queue` more
    /// waiting (`NIDAN_HASH_WORKERS`, `NIDAN_HASH_QUEUE`); the old pool's threads end.
    pub fn with_pool(self, workers: usize, queue: usize) -> Result<Self, HashError> {
        Self::build(
            self.inner.params.clone(),
            self.inner.dummy.clone(),
            workers,
            queue,
        )
    }

    fn build(
        params: Params,
        dummy: PasswordHash,
        workers: usize,
        queue: usize,
    ) -> Result<Self, HashError> {
        let workers = workers.max(1);
        let held = Arc::new(AtomicUsize::new(0));
        Ok(Self {
            inner: Arc::new(Inner {
                params,
                dummy,
                admitted: Arc::new(Semaphore::new(workers.saturating_add(queue))),
                workers: Arc::new(Semaphore::new(workers)),
                pool: start_pool(workers, &held)?,
                held,
            }),
        })
    }

    /// The argon2 memory the hashing threads hold now, in bytes: `workers` × 19 MiB at most
    /// during a storm, nothing [`IDLE_RELEASE`] after it.
    pub fn memory_held(&self) -> usize {
        self.inner.held.load(Ordering::Relaxed)
    }

    /// Whether a place is free now: a cheap look before anything else (the throttle, the
    /// database) is spent on an attempt that would be turned away anyway. It promises
    /// nothing; [`Self::reserve`] decides.
    pub fn has_room(&self) -> bool {
        self.inner.admitted.available_permits() > 0
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
        self.run(move |inner, memory| hash_with(memory, &inner.params, &password, &salt))
            .await
    }

    /// Whether `password` matches `stored`. With `stored = None` (unknown account) the
    /// dummy hash is checked instead and the answer is always `false`.
    pub async fn verify(
        &self,
        password: String,
        stored: Option<PasswordHash>,
    ) -> Result<bool, HashError> {
        self.run(move |inner, memory| {
            let known = stored.is_some();
            let hash = stored.unwrap_or_else(|| inner.dummy.clone());
            let ok = verify_with(memory, hash.as_str(), password.as_bytes())?;
            Ok(known && ok)
        })
        .await
    }

    /// Runs `work` on a pool thread once one is free; the place is given back when it is
    /// done (or when the request is dropped while it waits).
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Inner, &mut Memory) -> Result<T, HashError> + Send + 'static,
    ) -> Result<T, HashError> {
        let worker = self
            .inner
            .workers
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| HashError::Busy)?;
        let inner = self.inner.clone();
        let (answer, result) = oneshot::channel();
        // The worker's permit goes with the work: a request dropped while its hash runs
        // (the time limit) does not free the worker before the hash is done.
        let job: Job = Box::new(move |memory| {
            let _worker = worker;
            let _ = answer.send(work(&inner, memory));
        });
        self.inner
            .pool
            .send(job)
            .map_err(|_| HashError::Worker("the hashing threads are gone".into()))?;
        result
            .await
            .map_err(|_| HashError::Worker("the hashing work panicked".into()))?
    }
}

fn argon2_error(e: impl fmt::Display) -> HashError {
    HashError::Argon2(e.to_string())
}

/// The PHC string of argon2id(`password`, `salt`) with `params`, computed in `memory`:
/// what argon2's own `hash_password` gives, without allocating 19 MiB each time.
pub fn hash_with(
    memory: &mut Memory,
    params: &Params,
    password: &str,
    salt: &[u8; 16],
) -> Result<PasswordHash, HashError> {
    let salt_string = SaltString::encode_b64(salt).map_err(argon2_error)?;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let blocks = memory.blocks(params.block_count())?;
    let output = Output::init_with(
        params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN),
        |out| {
            argon2
                .hash_password_into_with_memory(password.as_bytes(), salt, out, &mut *blocks)
                .map_err(argon2::password_hash::Error::from)
        },
    )
    .map_err(argon2_error)?;
    let phc = ParsedHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(argon2_error)?,
        salt: Some(salt_string.as_salt()),
        hash: Some(output),
    };
    Ok(PasswordHash(phc.to_string()))
}

/// Whether `password` gives the PHC string `stored`, computed in `memory` with the
/// parameters `stored` names (argon2's own `verify_password`, without the allocation). The
/// comparison of the two outputs takes the same time wherever they differ.
pub fn verify_with(memory: &mut Memory, stored: &str, password: &[u8]) -> Result<bool, HashError> {
    let parsed = ParsedHash::new(stored).map_err(argon2_error)?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(HashError::Argon2(
            "stored hash without salt or output".into(),
        ));
    };
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(argon2_error)?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(argon2_error)?
        .unwrap_or_default();
    let params = Params::try_from(&parsed).map_err(argon2_error)?;
    let mut salt_bytes = [0u8; 64];
    let salt = salt.decode_b64(&mut salt_bytes).map_err(argon2_error)?;
    let argon2 = Argon2::new(algorithm, version, params.clone());
    let blocks = memory.blocks(params.block_count())?;
    let computed = Output::init_with(expected.len(), |out| {
        argon2
            .hash_password_into_with_memory(password, salt, out, &mut *blocks)
            .map_err(argon2::password_hash::Error::from)
    })
    .map_err(argon2_error)?;
    // `Output`'s equality is constant-time.
    Ok(computed == expected)
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

    /// A hash runs below the rest of the server: the pool thread's nice value is HASH_NICE
    /// above the one it started with (the test's own, whatever `nice` the tests run
    /// under), and the thread that asked keeps its own.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn hashing_threads_run_at_a_lower_priority_than_the_rest() {
        fn nice() -> i32 {
            // SAFETY: plain integers in and out; for the calling thread it cannot fail.
            unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) }
        }
        let before = nice();
        let hasher = PasswordHasher::insecure_for_tests().unwrap();
        let on_the_pool = hasher
            .reserve()
            .unwrap()
            .run(|_, _| Ok(nice()))
            .await
            .unwrap();
        assert_eq!(on_the_pool, (before + HASH_NICE).min(19));
        assert_eq!(nice(), before, "the caller's thread is not lowered");
    }

    /// With one worker and one waiting place, a burst of ten gets two through and eight
    /// told at once to come back; once the burst is over there is room again.
    #[tokio::test]
    async fn past_the_queue_hashing_is_refused_at_once() {
        let hasher = PasswordHasher::owasp().unwrap().with_pool(1, 1).unwrap();
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

    /// Our hashes are argon2's own: each side verifies the other's, for the parameters we
    /// use and for others (a hash stored under older parameters still verifies), in one
    /// memory reused across sizes.
    #[test]
    fn hashes_are_interchangeable_with_argon2s_own() {
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
        let mut memory = Memory::new();
        let (m, t, p) = OWASP;
        for params in [
            Params::new(m, t, p, None).unwrap(),
            Params::new(64, 1, 1, None).unwrap(),
            Params::new(4096, 3, 2, Some(16)).unwrap(),
        ] {
            let ours = hash_with(&mut memory, &params, "パスワード one", &[9; 16]).unwrap();
            let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
            let salt = SaltString::encode_b64(&[9; 16]).unwrap();
            let theirs = argon2
                .hash_password("パスワード one".as_bytes(), &salt)
                .unwrap();
            assert_eq!(ours.as_str(), theirs.to_string());
            assert!(
                Argon2::default()
                    .verify_password(
                        "パスワード one".as_bytes(),
                        &ParsedHash::new(ours.as_str()).unwrap()
                    )
                    .is_ok()
            );
            let theirs = theirs.to_string();
            assert!(verify_with(&mut memory, &theirs, "パスワード one".as_bytes()).unwrap());
            assert!(!verify_with(&mut memory, &theirs, "パスワード two".as_bytes()).unwrap());
            assert!(!verify_with(&mut memory, &theirs, b"").unwrap());
        }
        // Other algorithms named in a stored string are verified as they say.
        let argon2i = Argon2::new(
            Algorithm::Argon2i,
            Version::V0x10,
            Params::new(64, 1, 1, None).unwrap(),
        );
        let salt = SaltString::encode_b64(&[3; 16]).unwrap();
        let stored = argon2i
            .hash_password(b"old scheme", &salt)
            .unwrap()
            .to_string();
        assert!(verify_with(&mut memory, &stored, b"old scheme").unwrap());
        assert!(!verify_with(&mut memory, &stored, b"old schemf").unwrap());
        assert!(verify_with(&mut memory, "not a hash", b"x").is_err());
    }

    /// A storm holds one 19 MiB per thread however many wait, and once it is over the
    /// threads give it all back to the operating system.
    #[tokio::test]
    async fn the_pool_holds_its_memory_only_while_work_comes() {
        let hasher = PasswordHasher::owasp().unwrap().with_pool(2, 30).unwrap();
        assert_eq!(hasher.memory_held(), 0);
        let storm = (0..20).map(|_| hasher.verify("a password".into(), None));
        let results = futures_join_all(storm).await;
        assert!(
            results.iter().all(|r| matches!(r, Ok(false))),
            "{results:?}"
        );
        let one = 19_456 * 1024;
        let held = hasher.memory_held();
        assert!(held >= one && held <= 2 * one, "{held} bytes held");
        tokio::time::sleep(IDLE_RELEASE + Duration::from_secs(1)).await;
        assert_eq!(hasher.memory_held(), 0);
    }

    /// A released memory holds nothing and can be used again (the pool threads release
    /// theirs when idle: `the_pool_holds_its_memory_only_while_work_comes`).
    #[test]
    fn memory_is_given_back_when_released() {
        let mut memory = Memory::new();
        assert!(!memory.is_held());
        let params = Params::new(64, 1, 1, None).unwrap();
        hash_with(&mut memory, &params, "pw", &[1; 16]).unwrap();
        assert!(memory.is_held());
        memory.release();
        assert!(!memory.is_held());
        // And it can be used again.
        let again = hash_with(&mut memory, &params, "pw", &[1; 16]).unwrap();
        assert!(verify_with(&mut memory, again.as_str(), b"pw").unwrap());
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
