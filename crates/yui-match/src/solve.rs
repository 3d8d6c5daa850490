//! Talent-proposing deferred acceptance with project capacities.

use std::num::NonZeroU32;

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

/// A project's seats during the run: its slice of the shared heap array and the rank
/// of the worst talent held, cached so a rejection reads one 16-byte record.
#[derive(Clone, Copy, Debug)]
#[repr(C, align(16))]
struct Seats {
    off: u32,
    cap: u32,
    held: u32,
    worst: u32,
}

impl Prepared {
    /// Runs talent-proposing deferred acceptance and returns the talent-optimal stable
    /// matching (the unique stable matching every talent likes at least as well as any
    /// other stable one).
    ///
    /// Each talent-side entry is proposed at most once, and each proposal costs O(1) plus
    /// a heap step of O(log capacity), so the work is linear in the number of entries.
    /// Memory besides the index: one `u32` per talent, one 16-byte record per project,
    /// and one `u64` per seat (seats above a project's list length are never allocated).
    pub fn solve(&self) -> Matching {
        match &self.keys {
            Keys::Narrow(keys) => self.run(keys),
            Keys::Wide(keys) => self.run(keys),
        }
    }

    fn run<K: Key>(&self, keys: &[K]) -> Matching {
        let mut seats = Vec::with_capacity(self.num_projects());
        let mut total = 0u32;
        for (w, &cap) in self.project_start.windows(2).zip(&self.capacity) {
            // Never more seats than talents listed, so the heap array is at most the
            // number of project-side entries.
            let cap = cap.min(w[1] - w[0]);
            seats.push(Seats {
                off: total,
                cap,
                held: 0,
                worst: 0,
            });
            total += cap;
        }
        let mut heap = vec![0u64; total as usize];
        let mut run = Run {
            entry_project: &self.entry_project,
            seats: &mut seats,
            heap: &mut heap,
        };

        // Proposal chains in LANES interleaved lanes. A chain starts with a talent's first
        // choice and goes on with whoever is displaced, so it needs no queue; the talent
        // behind an entry is implied by the entry's position. Each lane loads its next
        // entry one round before using it, so the cache misses of all lanes overlap
        // instead of queueing. Deferred acceptance gives the same matching in any order.
        let starts = &self.talent_start;
        let mut next_talent = 0usize;
        let mut next_start = || -> u32 {
            while next_talent + 1 < starts.len() {
                let (s, e) = (starts[next_talent], starts[next_talent + 1]);
                next_talent += 1;
                if s < e {
                    return s;
                }
            }
            NONE
        };
        let mut lanes = [Lane::<K>::IDLE; LANES];
        for lane in &mut lanes {
            lane.load(next_start(), run.entry_project, keys);
        }
        loop {
            let mut busy = false;
            for lane in &mut lanes {
                if lane.pos == NONE {
                    continue;
                }
                busy = true;
                let mut pos = run.propose(lane.pos, lane.raw, lane.key);
                if pos == NONE {
                    pos = next_start();
                }
                lane.load(pos, run.entry_project, keys);
            }
            if !busy {
                break;
            }
        }

        // Read the matching off the heaps: mark held entries, then find each talent's.
        let mut held = vec![0u64; self.entry_project.len().div_ceil(64)];
        for s in &seats {
            for &entry in &heap[s.off as usize..(s.off + s.held) as usize] {
                let pos = (entry as u32) as usize;
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

/// The state of one deferred-acceptance run.
struct Run<'a> {
    entry_project: &'a [u32],
    seats: &'a mut [Seats],
    heap: &'a mut [u64],
}

impl Run<'_> {
    /// Entry `pos` (project word `raw`, key `key`) proposes. Returns the entry that
    /// proposes next in this chain (the same talent's next choice, or the displaced
    /// talent's), or NONE when the chain ends (accepted without displacing anyone, or
    /// a talent ran out of choices).
    #[inline]
    fn propose<K: Key>(&mut self, pos: u32, raw: u32, key: K) -> u32 {
        let last = raw & LAST != 0;
        if key != K::NO_KEY {
            let rank = key.rank();
            let s = &mut self.seats[(raw & !LAST) as usize];
            let entry = (u64::from(rank) << 33) | if last { HELD_LAST } else { 0 } | u64::from(pos);
            if s.held < s.cap {
                let h = &mut self.heap[s.off as usize..(s.off + s.cap) as usize];
                sift_up(h, s.held as usize, entry);
                s.held += 1;
                if s.held == s.cap {
                    s.worst = (h[0] >> 33) as u32;
                }
                return NONE;
            }
            if rank < s.worst {
                let h = &mut self.heap[s.off as usize..(s.off + s.cap) as usize];
                let out = h[0];
                sift_down(h, entry);
                s.worst = (h[0] >> 33) as u32;
                return if out & HELD_LAST != 0 {
                    NONE
                } else {
                    out as u32 + 1
                };
            }
        }
        if last { NONE } else { pos + 1 }
    }
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
fn sift_up(h: &mut [u64], mut i: usize, entry: u64) {
    while i > 0 {
        let parent = (i - 1) / 2;
        if h[parent] >= entry {
            break;
        }
        h[i] = h[parent];
        i = parent;
    }
    h[i] = entry;
}

/// Replaces the top of a full max-heap with `entry` (which is smaller than the top).
#[inline]
fn sift_down(h: &mut [u64], entry: u64) {
    let n = h.len();
    let mut i = 0;
    loop {
        let left = 2 * i + 1;
        if left >= n {
            break;
        }
        let right = left + 1;
        let child = if right < n && h[right] > h[left] {
            right
        } else {
            left
        };
        if h[child] <= entry {
            break;
        }
        h[i] = h[child];
        i = child;
    }
    h[i] = entry;
}
