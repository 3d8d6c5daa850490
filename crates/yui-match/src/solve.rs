//! Talent-proposing deferred acceptance with project capacities.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};

use crate::instance::{Instance, NONE};
use crate::prepare::{Key, Keys, LAST, Prepared};

/// Where one talent was placed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Assignment {
    /// The project index.
    pub project: u32,
    /// The project's place in the talent's list: 1 = first choice.
    pub rank: NonZeroU32,
}

/// A matching: at most one project per talent, indexed by talent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Matching {
    assigned: Vec<Option<Assignment>>,
}

/// What a coordinator reads off a matching.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Details {
    /// Number of talents with a project.
    pub matched: usize,
    /// Talents without a project, ascending.
    pub unmatched: Vec<u32>,
    /// `by_rank[i]` talents got their choice number `i + 1`.
    pub by_rank: Vec<u32>,
    /// Capacity minus assigned talents, per project (0 if over capacity).
    pub open_seats: Vec<u32>,
}

impl Details {
    /// Number of talents matched to their choice number `rank` (1-based).
    pub fn at_rank(&self, rank: usize) -> u32 {
        rank.checked_sub(1)
            .and_then(|i| self.by_rank.get(i))
            .copied()
            .unwrap_or(0)
    }
}

impl Matching {
    /// Wraps one optional assignment per talent (for hand-made matchings and tests).
    pub fn from_assignments(assigned: Vec<Option<Assignment>>) -> Self {
        Self { assigned }
    }

    /// Talent `t`'s assignment, `None` when unmatched or out of range.
    pub fn get(&self, t: u32) -> Option<Assignment> {
        self.assigned.get(t as usize).copied().flatten()
    }

    /// One entry per talent.
    pub fn as_slice(&self) -> &[Option<Assignment>] {
        &self.assigned
    }

    /// Matched `(talent, project)` pairs in talent order.
    pub fn pairs(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.assigned
            .iter()
            .enumerate()
            .filter_map(|(t, a)| a.map(|a| (t as u32, a.project)))
    }

    /// Ranks, unmatched talents and open seats, given each project's capacity.
    pub fn details(&self, capacity: &[u32]) -> Details {
        let mut open_seats = capacity.to_vec();
        let mut by_rank = Vec::new();
        let mut unmatched = Vec::new();
        for (t, a) in self.assigned.iter().enumerate() {
            match a {
                Some(a) => {
                    if let Some(seats) = open_seats.get_mut(a.project as usize) {
                        *seats = seats.saturating_sub(1);
                    }
                    let i = a.rank.get() as usize - 1;
                    if by_rank.len() <= i {
                        by_rank.resize(i + 1, 0);
                    }
                    by_rank[i] += 1;
                }
                None => unmatched.push(t as u32),
            }
        }
        Details {
            matched: self.assigned.len() - unmatched.len(),
            unmatched,
            by_rank,
            open_seats,
        }
    }
}

/// Solves a round: the talent-optimal stable matching.
///
/// Builds a [`Prepared`] index from a copy of the lists and solves it; use
/// [`Prepared::from_instance`] to avoid the copy for very large rounds.
pub fn solve(instance: &Instance) -> Matching {
    Prepared::new(instance).solve()
}

/// Heap entries are `rank << 33 | HELD_LAST? | entry position`: ordered by the project's
/// rank of the talent; a displaced talent's next choice is the following position unless
/// the entry was the last of its list.
const HELD_LAST: u64 = 1 << 32;

impl Prepared {
    /// Runs talent-proposing deferred acceptance and returns the talent-optimal stable
    /// matching (the unique stable matching every talent likes at least as well as any
    /// other stable one).
    ///
    /// Each talent-side entry is proposed at most once, and each proposal costs O(1) plus
    /// a heap step of O(log capacity), so the work is linear in the number of entries.
    /// Memory besides the index: one `u32` per talent, one 16-byte record per project,
    /// and one `u64` per seat (seats above a project's list length are never allocated).
    /// Large rounds run on every available core: threads take talents in chunks, and
    /// each proposal is placed under its project's lock, except rejections by a full
    /// project, which read its bar without one.
    pub fn solve(&self) -> Matching {
        self.solve_on(crate::prepare::threads_for(self.entry_project.len()))
    }

    /// [`Prepared::solve`] on `threads` threads.
    pub(crate) fn solve_on(&self, threads: usize) -> Matching {
        match &self.keys {
            Keys::Narrow(keys) => self.run(keys, threads),
            Keys::Wide(keys) => self.run(keys, threads),
        }
    }

    fn run<K: Key + Sync>(&self, keys: &[K], threads: usize) -> Matching {
        let mut seats = Vec::with_capacity(self.num_projects());
        let mut total = 0u32;
        for (w, &cap) in self.project_start.windows(2).zip(&self.capacity) {
            // Never more seats than talents listed, so the heap array is at most the
            // number of project-side entries.
            let cap = cap.min(w[1] - w[0]);
            seats.push(Seats {
                off: total,
                cap,
                held: AtomicU32::new(0),
                bar: AtomicU32::new(if cap == 0 { 0 } else { u32::MAX }),
            });
            total += cap;
        }
        let run = Run {
            entry_project: &self.entry_project,
            seats,
            heap: (0..total).map(|_| AtomicU64::new(0)).collect(),
        };

        // Deferred acceptance gives the same matching whatever the order of proposals,
        // so threads may take talents in any order as long as each proposal is placed
        // atomically (under the project's lock).
        let next_talent = AtomicUsize::new(0);
        let work = || run.chains(&self.talent_start, keys, &next_talent);
        if threads <= 1 {
            work();
        } else {
            std::thread::scope(|s| {
                for _ in 1..threads {
                    s.spawn(work);
                }
                work();
            });
        }
        let Run { seats, heap, .. } = run;

        // Read the matching off the heaps: mark held entries, then find each talent's.
        let mut held = vec![0u64; self.entry_project.len().div_ceil(64)];
        for s in &seats {
            let n = s.held.load(Ordering::Relaxed);
            for entry in &heap[s.off as usize..(s.off + n) as usize] {
                let pos = (entry.load(Ordering::Relaxed) as u32) as usize;
                held[pos / 64] |= 1 << (pos % 64);
            }
        }
        drop(heap);
        let assigned = self
            .talent_start
            .windows(2)
            .map(|w| {
                first_set(&held, w[0] as usize, w[1] as usize).map(|pos| Assignment {
                    project: self.entry_project[pos] & !LAST,
                    rank: NonZeroU32::MIN.saturating_add(pos as u32 - w[0]),
                })
            })
            .collect();
        Matching { assigned }
    }
}

/// Number of proposal chains run side by side (see [`Prepared::run`]).
const LANES: usize = 8;

/// One proposal chain: the entry it proposes next, with that entry's project and key
/// already loaded.
#[derive(Clone, Copy)]
struct Lane<K> {
    pos: u32,
    raw: u32,
    key: K,
}

impl<K: Key> Lane<K> {
    const IDLE: Self = Self {
        pos: NONE,
        raw: 0,
        key: K::NO_KEY,
    };

    #[inline]
    fn load(&mut self, pos: u32, entry_project: &[u32], keys: &[K]) {
        self.pos = pos;
        if pos != NONE {
            self.raw = entry_project[pos as usize];
            self.key = keys[pos as usize];
        }
    }
}

/// A project's seats during the run: its slice of the shared heap array, the talents
/// held, and the bar a proposal must pass, so most rejections read one 16-byte record
/// and take no lock.
#[derive(Debug)]
#[repr(C, align(16))]
struct Seats {
    off: u32,
    cap: u32,
    /// Number of talents held, with [`LOCKED`] set while a proposal is being placed.
    held: AtomicU32,
    /// Proposals the project ranks at `bar` or worse are rejected: `u32::MAX` until the
    /// seats are full, then the rank of the worst talent held. It only ever falls, so a
    /// stale read can let a proposal through to the locked check but never rejects one
    /// wrongly.
    bar: AtomicU32,
}

/// Set in [`Seats::held`] while one thread changes the project's heap.
const LOCKED: u32 = 1 << 31;

impl Seats {
    /// Takes the project's lock and returns the number of talents held.
    #[inline]
    fn lock(&self) -> u32 {
        loop {
            let held = self.held.fetch_or(LOCKED, Ordering::Acquire);
            if held & LOCKED == 0 {
                return held;
            }
            let mut spins = 0u32;
            while self.held.load(Ordering::Relaxed) & LOCKED != 0 {
                // The holder may have been descheduled (more threads than cores):
                // give way rather than spin through its time slice.
                spins += 1;
                if spins < 64 {
                    std::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
            }
        }
    }

    /// Releases the lock, recording `held` talents.
    #[inline]
    fn unlock(&self, held: u32) {
        self.held.store(held, Ordering::Release);
    }
}

/// The shared state of one deferred-acceptance run.
struct Run<'a> {
    entry_project: &'a [u32],
    seats: Vec<Seats>,
    /// Every project's seats as a max-heap by rank, `cap` slots from `off`. Read and
    /// written only under the project's lock, so relaxed atomics suffice.
    heap: Vec<AtomicU64>,
}

impl Run<'_> {
    /// Runs proposal chains in [`LANES`] interleaved lanes until no talent is left to
    /// start. A chain starts with a talent's first choice and goes on with whoever is
    /// displaced, so it needs no queue; the talent behind an entry is implied by the
    /// entry's position. Each lane loads its next entry one round before using it, so
    /// the cache misses of all lanes overlap instead of queueing. Talents are taken from
    /// `next_talent` in chunks, which several threads may share.
    fn chains<K: Key>(&self, talent_start: &[u32], keys: &[K], next_talent: &AtomicUsize) {
        const CHUNK: usize = 1024;
        let num_talents = talent_start.len() - 1;
        let (mut t, mut end) = (0usize, 0usize);
        let mut next_start = || -> u32 {
            loop {
                if t == end {
                    t = next_talent.fetch_add(CHUNK, Ordering::Relaxed);
                    if t >= num_talents {
                        end = t;
                        return NONE;
                    }
                    end = (t + CHUNK).min(num_talents);
                }
                let (s, e) = (talent_start[t], talent_start[t + 1]);
                t += 1;
                if s < e {
                    return s;
                }
            }
        };
        let mut lanes = [Lane::<K>::IDLE; LANES];
        for lane in &mut lanes {
            lane.load(next_start(), self.entry_project, keys);
        }
        loop {
            let mut busy = false;
            for lane in &mut lanes {
                if lane.pos == NONE {
                    continue;
                }
                busy = true;
                let mut pos = self.propose(lane.pos, lane.raw, lane.key);
                if pos == NONE {
                    pos = next_start();
                }
                lane.load(pos, self.entry_project, keys);
            }
            if !busy {
                break;
            }
        }
    }

    /// Entry `pos` (project word `raw`, key `key`) proposes. Returns the entry that
    /// proposes next in this chain (the same talent's next choice, or the displaced
    /// talent's), or NONE when the chain ends (accepted without displacing anyone, or
    /// a talent ran out of choices).
    #[inline]
    fn propose<K: Key>(&self, pos: u32, raw: u32, key: K) -> u32 {
        let last = raw & LAST != 0;
        let rejected = if last { NONE } else { pos + 1 };
        if key == K::NO_KEY {
            return rejected;
        }
        let rank = key.rank();
        let s = &self.seats[(raw & !LAST) as usize];
        if rank >= s.bar.load(Ordering::Relaxed) {
            return rejected;
        }
        let held = s.lock();
        let h = &self.heap[s.off as usize..(s.off + s.cap) as usize];
        let entry = (u64::from(rank) << 33) | if last { HELD_LAST } else { 0 } | u64::from(pos);
        if held < s.cap {
            sift_up(h, held as usize, entry);
            if held + 1 == s.cap {
                s.bar.store(top_rank(h), Ordering::Relaxed);
            }
            s.unlock(held + 1);
            return NONE;
        }
        // Full: under the lock the bar is exact.
        if rank < s.bar.load(Ordering::Relaxed) {
            let out = h[0].load(Ordering::Relaxed);
            sift_down(h, entry);
            s.bar.store(top_rank(h), Ordering::Relaxed);
            s.unlock(held);
            return if out & HELD_LAST != 0 {
                NONE
            } else {
                out as u32 + 1
            };
        }
        s.unlock(held);
        rejected
    }
}

/// The rank of the worst talent in a non-empty heap.
#[inline]
fn top_rank(h: &[AtomicU64]) -> u32 {
    (h[0].load(Ordering::Relaxed) >> 33) as u32
}

/// The first set bit in `from..to` of a bitmap, if any.
fn first_set(bits: &[u64], from: usize, to: usize) -> Option<usize> {
    let mut i = from;
    while i < to {
        let word = bits[i / 64] >> (i % 64);
        if word != 0 {
            let pos = i + word.trailing_zeros() as usize;
            return (pos < to).then_some(pos);
        }
        i = (i / 64 + 1) * 64;
    }
    None
}

/// Inserts `entry` at the end of a max-heap of `len` entries.
#[inline]
fn sift_up(h: &[AtomicU64], mut i: usize, entry: u64) {
    while i > 0 {
        let parent = (i - 1) / 2;
        let above = h[parent].load(Ordering::Relaxed);
        if above >= entry {
            break;
        }
        h[i].store(above, Ordering::Relaxed);
        i = parent;
    }
    h[i].store(entry, Ordering::Relaxed);
}

/// Replaces the top of a full max-heap with `entry` (which is smaller than the top).
#[inline]
fn sift_down(h: &[AtomicU64], entry: u64) {
    let n = h.len();
    let mut i = 0;
    loop {
        let left = 2 * i + 1;
        if left >= n {
            break;
        }
        let mut child = left;
        let mut below = h[left].load(Ordering::Relaxed);
        if left + 1 < n {
            let right = h[left + 1].load(Ordering::Relaxed);
            if right > below {
                (child, below) = (left + 1, right);
            }
        }
        if below <= entry {
            break;
        }
        h[i].store(below, Ordering::Relaxed);
        i = child;
    }
    h[i].store(entry, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::{Shape, generate};

    /// Threads race for the same few projects here; any lost update or wrong rejection
    /// would change the matching, which deferred acceptance fixes whatever the order.
    #[test]
    fn threads_find_the_same_matching_as_one_thread() {
        let shapes = [
            Shape {
                talents: 4_000,
                projects: 12,
                prefs_per_talent: 8,
                capacity: 3,
            },
            Shape {
                talents: 6_000,
                projects: 700,
                prefs_per_talent: 10,
                capacity: 1,
            },
            Shape {
                talents: 3_000,
                projects: 300,
                prefs_per_talent: 5,
                capacity: 20,
            },
        ];
        for shape in &shapes {
            for seed in 0..4 {
                let prepared = Prepared::new(&generate(shape, seed));
                let one = prepared.solve_on(1);
                assert!(one.pairs().count() > 0);
                for threads in [2, 3, 8] {
                    for _ in 0..3 {
                        assert_eq!(prepared.solve_on(threads), one, "{shape:?} seed {seed}");
                    }
                }
            }
        }
    }

    /// Irregular rounds: lists that are not mutual, empty lists, capacity 0 and
    /// capacities far above the list length.
    #[test]
    fn threads_agree_on_irregular_rounds() {
        let mut rng = crate::synth::SplitMix64::new(99);
        for round in 0..40 {
            let talents = 200 + rng.below(1_800) as u32;
            let projects = 1 + rng.below(60) as u32;
            let mut listed: Vec<Vec<u32>> = vec![Vec::new(); projects as usize];
            let mut b = Instance::builder();
            for t in 0..talents {
                let len = rng.below(u64::from(projects.min(8)) + 1);
                let mut prefs = Vec::new();
                while (prefs.len() as u64) < len {
                    let p = rng.below(u64::from(projects)) as u32;
                    if !prefs.contains(&p) {
                        prefs.push(p);
                    }
                }
                for &p in &prefs {
                    listed[p as usize].push(t);
                }
                b.talent(&prefs);
            }
            for list in &mut listed {
                // Drop some who listed the project, add some who did not, shuffle.
                list.retain(|_| rng.below(5) != 0);
                for _ in 0..rng.below(20) {
                    let t = rng.below(u64::from(talents)) as u32;
                    if !list.contains(&t) {
                        list.push(t);
                    }
                }
                for i in (1..list.len()).rev() {
                    list.swap(i, rng.below(i as u64 + 1) as usize);
                }
                let capacity = [0, 1, 2, 5, 1_000][rng.below(5) as usize];
                b.project(capacity, list);
            }
            let instance = b.build().unwrap();
            let prepared = Prepared::new(&instance);
            let one = prepared.solve_on(1);
            let pairs: Vec<(u32, u32)> = one.pairs().collect();
            assert!(
                crate::check(&instance, &pairs).unwrap().is_ok(),
                "round {round}"
            );
            for threads in [2, 4, 8] {
                assert_eq!(
                    prepared.solve_on(threads),
                    one,
                    "round {round}, {threads} threads"
                );
            }
        }
    }
}
