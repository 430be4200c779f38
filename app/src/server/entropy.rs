//! Randomness is a parameter too. Production draws from the operating system's CSPRNG;
//! tests may use a seeded generator so that a failing case can be replayed.

use std::sync::Mutex;

use rand::{RngCore, SeedableRng, TryRngCore, rngs::OsRng, rngs::StdRng};

/// The OS refused to give us random bytes. Nothing secret can be made without them.
#[derive(Debug, thiserror::Error)]
#[error("no randomness available: {0}")]
pub struct EntropyError(String);

/// A source of cryptographically secure random bytes.
pub trait Entropy: Send + Sync + 'static {
    fn fill(&self, buf: &mut [u8]) -> Result<(), EntropyError>;
}

impl dyn Entropy {
    /// `N` random bytes.
    pub fn bytes<const N: usize>(&self) -> Result<[u8; N], EntropyError> {
        let mut buf = [0u8; N];
        self.fill(&mut buf)?;
        Ok(buf)
    }

    /// A uniformly distributed integer in `0..bound` (rejection sampling, no modulo bias).
    pub fn below(&self, bound: u32) -> Result<u32, EntropyError> {
        if bound == 0 {
            return Ok(0);
        }
        let zone = u32::MAX - (u32::MAX % bound);
        loop {
            let v = u32::from_le_bytes(self.bytes::<4>()?);
            if v < zone {
                return Ok(v % bound);
            }
        }
    }
}

/// The operating system's CSPRNG (getrandom).
#[derive(Debug, Default, Clone, Copy)]
pub struct OsEntropy;

impl Entropy for OsEntropy {
    fn fill(&self, buf: &mut [u8]) -> Result<(), EntropyError> {
        OsRng
            .try_fill_bytes(buf)
            .map_err(|e| EntropyError(e.to_string()))
    }
}

/// A seeded generator, for tests only: reproducible, not secret.
#[derive(Debug)]
pub struct SeededEntropy(Mutex<StdRng>);

impl SeededEntropy {
    pub fn new(seed: u64) -> Self {
        Self(Mutex::new(StdRng::seed_from_u64(seed)))
    }
}

impl Entropy for SeededEntropy {
    fn fill(&self, buf: &mut [u8]) -> Result<(), EntropyError> {
        let mut rng = self.0.lock().map_err(|e| EntropyError(e.to_string()))?;
        rng.fill_bytes(buf);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let e: &dyn Entropy = &SeededEntropy::new(7);
        let mut seen = [false; 10];
        for _ in 0..1_000 {
            let v = e.below(10).unwrap();
            assert!(v < 10);
            seen[v as usize] = true;
        }
        assert!(seen.iter().all(|s| *s), "every digit appears in 1000 draws");
    }

    #[test]
    fn os_entropy_gives_different_bytes() {
        let e: &dyn Entropy = &OsEntropy;
        assert_ne!(e.bytes::<16>().unwrap(), e.bytes::<16>().unwrap());
    }
}
