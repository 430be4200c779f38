//! The argon2 floor for `scripts/bench.sh`: how many password verifications per second
//! this machine does with nothing else running, with the parameters every stored hash uses
//! (`app::server::passwords::OWASP`), one thread per core, each verifying the way the
//! server's hashing threads do (`verify_with`, in memory the thread keeps). A sign-in cannot be faster than
//! one verification, so the server's sign-ins per second divided by this is the share of
//! the machine the rest of a sign-in (HTTP, database, session) costs (issue 11).
//!
//!     cargo run --release -p server --example argon2_floor -- [SECONDS] [THREADS]
//!
//! Prints one line: `verifications/s <rate> threads <n> seconds <s>`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use app::server::passwords::{Memory, verify_with};
use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let seconds: f64 = args.next().map_or(Ok(10.0), |s| s.parse())?;
    let threads: usize = match args.next() {
        Some(s) => s.parse()?,
        None => std::thread::available_parallelism().map_or(1, usize::from),
    };

    let (memory_kib, iterations, lanes) = app::server::passwords::OWASP;
    let params = Params::new(memory_kib, iterations, lanes, None)?;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let salt = SaltString::encode_b64(&[7; 16])?;
    let stored = argon2
        .hash_password(b"correct horse battery", &salt)?
        .to_string();

    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (done, stop, stored) = (done.clone(), stop.clone(), stored.clone());
            std::thread::spawn(move || {
                // The verification the server's hashing threads run, in memory kept by the
                // thread as they keep theirs: argon2 alone, nothing of a sign-in around it.
                let mut memory = Memory::new();
                while !stop.load(Ordering::Relaxed) {
                    if let Ok(true) = verify_with(&mut memory, &stored, b"correct horse battery") {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(seconds));
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().map_err(|_| "a verification thread panicked")?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let rate = done.load(Ordering::Relaxed) as f64 / elapsed;
    println!("verifications/s {rate:.1} threads {threads} seconds {elapsed:.1}");
    Ok(())
}
