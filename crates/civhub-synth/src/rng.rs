//! Deterministic randomness: one seed, many independent streams.
//!
//! Every stream (the population, each pipeline, each file) is a ChaCha8 RNG
//! seeded from the run's seed and a stable hash of a label, so pipelines can
//! run in any order on any number of threads and still write the same bytes.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use xxhash_rust::xxh3::xxh3_64_with_seed;

/// The RNG type used everywhere.
pub type Rand = ChaCha8Rng;

/// A stable 64-bit hash of `label` under `seed` (xxh3; fixed across platforms and versions).
pub fn stable_hash(seed: u64, label: &str) -> u64 {
    xxh3_64_with_seed(label.as_bytes(), seed)
}

/// An independent RNG stream for `label`.
pub fn stream(seed: u64, label: &str) -> Rand {
    ChaCha8Rng::seed_from_u64(stable_hash(seed, label))
}

/// A number in `[0, 1)` fixed by `seed` and `label`: per-pipeline parameters
/// that must not depend on how much randomness was drawn before.
pub fn unit(seed: u64, label: &str) -> f64 {
    (stable_hash(seed, label) >> 11) as f64 / (1u64 << 53) as f64
}

/// Weighted choice by binary search over cumulative weights.
#[derive(Debug, Clone)]
pub struct Weighted {
    cum: Vec<f64>,
}

impl Weighted {
    /// A table over `weights` (non-negative, not all zero).
    pub fn new(weights: impl IntoIterator<Item = f64>) -> Self {
        let mut total = 0.0;
        let cum = weights
            .into_iter()
            .map(|w| {
                total += w.max(0.0);
                total
            })
            .collect();
        Weighted { cum }
    }

    /// An index drawn with probability proportional to its weight.
    pub fn sample(&self, rng: &mut Rand) -> usize {
        let total = *self.cum.last().unwrap_or(&0.0);
        if total <= 0.0 {
            return 0;
        }
        let x = rng.random::<f64>() * total;
        self.cum
            .partition_point(|&c| c <= x)
            .min(self.cum.len() - 1)
    }
}

/// Picks one element of a non-empty slice.
pub fn pick<'a, T>(rng: &mut Rand, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// Picks one element, favouring the first ones (weight 1/(i+1)): the usual
/// shape of code lists, where the first value is the common one.
pub fn pick_skewed<'a, T>(rng: &mut Rand, items: &'a [T]) -> &'a T {
    let n = items.len();
    let h: f64 = (1..=n).map(|i| 1.0 / i as f64).sum();
    let mut x = rng.random::<f64>() * h;
    for (i, it) in items.iter().enumerate() {
        x -= 1.0 / (i + 1) as f64;
        if x <= 0.0 {
            return it;
        }
    }
    &items[n - 1]
}

/// True with probability `p`.
pub fn chance(rng: &mut Rand, p: f64) -> bool {
    p > 0.0 && rng.random::<f64>() < p
}

/// `k` distinct indices from `0..n`, in ascending order (Floyd's algorithm
/// for small `k`, a partial shuffle otherwise).
pub fn sample_indices(rng: &mut Rand, n: usize, k: usize) -> Vec<usize> {
    let k = k.min(n);
    if k * 4 < n {
        let mut set = std::collections::BTreeSet::new();
        for j in n - k..n {
            let t = rng.random_range(0..=j);
            if !set.insert(t) {
                set.insert(j);
            }
        }
        set.into_iter().collect()
    } else {
        let mut all: Vec<usize> = (0..n).collect();
        for i in 0..k {
            let j = rng.random_range(i..n);
            all.swap(i, j);
        }
        let mut v = all[..k].to_vec();
        v.sort_unstable();
        v
    }
}

/// A log-normal draw with the given median and spread (sigma of the log).
pub fn lognormal(rng: &mut Rand, median: f64, sigma: f64) -> f64 {
    // Box–Muller: enough for synthetic amounts.
    let u1: f64 = rng.random::<f64>().max(1e-12);
    let u2: f64 = rng.random::<f64>();
    let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
    median * (sigma * z).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_stable_and_independent() {
        let a: u64 = stream(7, "x").random();
        let b: u64 = stream(7, "x").random();
        let c: u64 = stream(7, "y").random();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn sample_indices_is_distinct_and_sorted() {
        let mut rng = stream(1, "t");
        for (n, k) in [(10, 3), (10, 10), (1000, 7), (5, 9)] {
            let v = sample_indices(&mut rng, n, k);
            assert_eq!(v.len(), k.min(n));
            assert!(v.windows(2).all(|w| w[0] < w[1]));
            assert!(v.iter().all(|&i| i < n));
        }
    }

    #[test]
    fn weighted_respects_zero_weights() {
        let w = Weighted::new([0.0, 1.0, 0.0]);
        let mut rng = stream(1, "w");
        assert!((0..100).all(|_| w.sample(&mut rng) == 1));
    }
}
