//! Deterministic synthetic rounds for benchmarks and tests.
//!
//! The generator, for a [`Shape`] and a seed:
//! 1. gives projects a popularity order (a seeded shuffle) and weights
//!    `w(r) = 1 / sqrt(r + 1)` for popularity rank `r`, a Zipf-like skew in which the most
//!    popular project is listed about `sqrt(projects) / 2` times as often as the average;
//! 2. lets every talent draw `prefs_per_talent` distinct projects by weight, in draw
//!    order (so popular projects also tend to be ranked higher);
//! 3. gives every talent a quality `q` and every listed pair a noise `n` (both uniform
//!    30-bit values, the noise a hash of seed, talent and project), and lets every project
//!    rank exactly the talents that listed it by score `3q + n`, highest first, ties by
//!    talent index. Shared quality makes projects agree, so popular talents are contested
//!    and displacements are frequent, as in a real round.
//!
//! Every project has the same capacity. The output depends only on the shape and seed.

use crate::instance::Instance;

/// The size of a synthetic round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    pub talents: u32,
    pub projects: u32,
    pub prefs_per_talent: u32,
    pub capacity: u32,
}

impl Shape {
    /// 100,000 talents × 10 preferences over 10,000 projects of capacity 8.
    pub const REGIONAL_100K: Shape = Shape {
        talents: 100_000,
        projects: 10_000,
        prefs_per_talent: 10,
        capacity: 8,
    };
    /// The NRMP main match's shape: 44,853 applicants × 12 over 6,395 programs of 6.
    pub const NRMP: Shape = Shape {
        talents: 44_853,
        projects: 6_395,
        prefs_per_talent: 12,
        capacity: 6,
    };
    /// National scale: 1,000,000 talents × 10 over 100,000 projects of capacity 8.
    pub const NATIONAL_1M: Shape = Shape {
        talents: 1_000_000,
        projects: 100_000,
        prefs_per_talent: 10,
        capacity: 8,
    };
}

/// SplitMix64: a small, fast generator whose stream is fixed by the seed forever
/// (unlike library generators, whose streams may change between versions).
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in `0..n` (`n > 0`), by multiply-shift.
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Generates the round for `shape` and `seed` (see the module docs for the model).
pub fn generate(shape: &Shape, seed: u64) -> Instance {
    let mut rng = SplitMix64::new(seed);
    let n_t = shape.talents as usize;
    let n_p = shape.projects as usize;
    let k = shape.prefs_per_talent.min(shape.projects) as usize;

    // Popularity order and cumulative weights (scaled to integers for exact sampling).
    let mut order: Vec<u32> = (0..shape.projects).collect();
    for i in (1..n_p).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        order.swap(i, j);
    }
    let mut cumulative = Vec::with_capacity(n_p);
    let mut total = 0u64;
    for r in 0..n_p {
        total += (1e9 / ((r + 1) as f64).sqrt()) as u64;
        cumulative.push(total);
    }

    let mut talent_prefs = Vec::with_capacity(n_t * k);
    let mut talent_start = Vec::with_capacity(n_t + 1);
    talent_start.push(0u32);
    for _ in 0..n_t {
        let from = talent_prefs.len();
        let mut draws = 0;
        while talent_prefs.len() - from < k {
            let x = rng.below(total);
            let r = cumulative.partition_point(|&c| c <= x);
            let p = order[r.min(n_p - 1)];
            if !talent_prefs[from..].contains(&p) {
                talent_prefs.push(p);
            }
            draws += 1;
            if draws > 64 * k + 1000 {
                // A talent listing nearly every project: finish by popularity order.
                for &p in &order {
                    if talent_prefs.len() - from == k {
                        break;
                    }
                    if !talent_prefs[from..].contains(&p) {
                        talent_prefs.push(p);
                    }
                }
            }
        }
        talent_start.push(talent_prefs.len() as u32);
    }
    drop(cumulative);
    drop(order);

    let quality: Vec<u32> = (0..n_t).map(|_| (rng.next_u64() >> 34) as u32).collect();
    let noise_seed = rng.next_u64();
    let score = |t: u32, p: u32| -> u32 {
        let n = (mix(noise_seed ^ (u64::from(t) << 32 | u64::from(p))) >> 34) as u32;
        3 * quality[t as usize] + n
    };

    // Projects list the talents that listed them (counting sort by project), then sort
    // each list by descending score.
    let mut project_start = vec![0u32; n_p + 1];
    for &p in &talent_prefs {
        project_start[p as usize + 1] += 1;
    }
    for p in 0..n_p {
        project_start[p + 1] += project_start[p];
    }
    let mut fill = project_start.clone();
    let mut project_prefs = vec![0u32; talent_prefs.len()];
    for t in 0..n_t {
        for &p in &talent_prefs[talent_start[t] as usize..talent_start[t + 1] as usize] {
            project_prefs[fill[p as usize] as usize] = t as u32;
            fill[p as usize] += 1;
        }
    }
    drop(fill);
    let mut sort_keys: Vec<u64> = Vec::new();
    for p in 0..n_p {
        let list = &mut project_prefs[project_start[p] as usize..project_start[p + 1] as usize];
        sort_keys.clear();
        sort_keys.extend(
            list.iter()
                .map(|&t| (u64::from(!score(t, p as u32)) << 32) | u64::from(t)),
        );
        sort_keys.sort_unstable();
        for (slot, &key) in list.iter_mut().zip(&sort_keys) {
            *slot = key as u32;
        }
    }
    drop(quality);

    // Lists are unique and in range by construction (the tests validate this).
    Instance {
        talent_start,
        talent_prefs,
        project_start,
        project_prefs,
        capacity: vec![shape.capacity; n_p],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_instance() {
        let shape = Shape {
            talents: 300,
            projects: 40,
            prefs_per_talent: 5,
            capacity: 3,
        };
        let a = generate(&shape, 7);
        assert_eq!(a, generate(&shape, 7));
        let (ts, tp, ps, pp, cap) = a.clone().into_csr();
        assert_eq!(Instance::from_csr(ts, tp, ps, pp, cap), Ok(a.clone()));
        assert_ne!(a, generate(&shape, 8));
        assert_eq!(a.num_entries(), (1500, 1500));
        for t in 0..300 {
            assert_eq!(a.talent_prefs(t).len(), 5);
        }
    }

    #[test]
    fn small_shapes_clamp_list_length() {
        let shape = Shape {
            talents: 10,
            projects: 3,
            prefs_per_talent: 5,
            capacity: 1,
        };
        let inst = generate(&shape, 1);
        assert_eq!(inst.talent_prefs(0).len(), 3);
        let (ts, tp, ps, pp, cap) = inst.into_csr();
        assert!(Instance::from_csr(ts, tp, ps, pp, cap).is_ok());
    }
}
