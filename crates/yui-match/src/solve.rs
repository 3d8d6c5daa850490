//! Talent-proposing deferred acceptance with project capacities.

use std::num::NonZeroU32;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};

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
    /// Memory besides the index: one 16-byte record per project and one `u64` per seat
    /// (seats above a project's list length are never allocated), plus the batches in
    /// flight between threads.
    ///
    /// Large rounds run on every available core. Each thread owns a range of projects
    /// (balanced by list entries) with their seats, and places only proposals to its own
    /// projects; a proposal to another thread's project is rejected on the spot when
    /// that project's published bar already excludes it, else handed over, already
    /// read, in a batch. Each word is written by one thread only (the batches under a
    /// lock), so the threads neither lock nor contend per proposal.
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
        let threads = threads.clamp(1, MAX_PARTS);
        let num_projects = self.num_projects() as u32;
        // Parts are balanced by the entries their projects list.
        let total = self.project_start.last().map_or(0, |&n| n as usize);
        let mut bounds = vec![0u32; threads + 1];
        for (k, bound) in bounds.iter_mut().enumerate().skip(1) {
            let target = total * k / threads;
            *bound = self
                .project_start
                .partition_point(|&s| (s as usize) < target)
                .min(num_projects as usize) as u32;
        }
        bounds[threads] = num_projects;
        let bar: Vec<AtomicU32> = (0..num_projects)
            .map(|_| AtomicU32::new(u32::MAX))
            .collect();
        let mut parts: Vec<Part> = bounds
            .windows(2)
            .map(|w| Part::new(self, w[0], w[1], &bar[w[0] as usize..w[1] as usize]))
            .collect();
        let shared = Shared {
            talent_start: &self.talent_start,
            entry_project: &self.entry_project,
            keys,
            bounds: &bounds,
            bar: &bar,
            inbox: (0..threads).map(|_| Mutex::new(Vec::new())).collect(),
            mail: (0..threads).map(|_| AtomicBool::new(false)).collect(),
            next_talent: AtomicUsize::new(0),
            live: AtomicUsize::new(0),
        };
        // Deferred acceptance gives the same matching whatever the order of proposals.
        std::thread::scope(|s| {
            let mut parts = parts.iter_mut().enumerate();
            let first = parts.next();
            for (k, part) in parts {
                let shared = &shared;
                s.spawn(move || shared.work(k, part));
            }
            if let Some((k, part)) = first {
                shared.work(k, part);
            }
        });

        // Read the matching off the heaps: mark held entries, then find each talent's.
        let mut held = vec![0u64; self.entry_project.len().div_ceil(64)];
        for part in &parts {
            for s in &part.seats {
                for &entry in &part.heap[s.off as usize..(s.off + s.held) as usize] {
                    let pos = (entry as u32) as usize;
                    held[pos / 64] |= 1 << (pos % 64);
                }
            }
        }
        drop(parts);
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

/// Number of proposal chains a thread runs side by side (see [`Shared::work`]).
const LANES: usize = 8;

/// Most threads the solver splits projects among.
const MAX_PARTS: usize = 8;

/// Proposals handed to another thread go in batches of this many.
const BATCH: usize = 512;

/// Talents a thread takes at a time.
const CHUNK: usize = 1024;

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

/// A mutual entry proposing, as handed to the thread that owns its project.
#[derive(Clone, Copy, Debug)]
struct Proposal {
    pos: u32,
    raw: u32,
    rank: u32,
}

/// A project's seats during the run: its slice of its part's heap array, and the rank
/// of the worst talent held, cached so a rejection reads one 16-byte record.
#[derive(Clone, Copy, Debug)]
#[repr(C, align(16))]
struct Seats {
    off: u32,
    cap: u32,
    held: u32,
    worst: u32,
}

/// The projects `first..` one thread owns: their seats and heaps.
struct Part<'a> {
    first: u32,
    seats: Vec<Seats>,
    /// Every owned project's seats as a max-heap by rank, `cap` slots from `off`.
    heap: Vec<u64>,
    /// The owned projects' bars (see [`Shared::bar`]), published here.
    bar: &'a [AtomicU32],
}

impl<'a> Part<'a> {
    fn new(prepared: &Prepared, first: u32, end: u32, bar: &'a [AtomicU32]) -> Self {
        let mut seats = Vec::with_capacity((end - first) as usize);
        let mut total = 0u32;
        for p in first as usize..end as usize {
            // Never more seats than talents listed, so the heap array is at most the
            // number of project-side entries.
            let listed = prepared.project_start[p + 1] - prepared.project_start[p];
            let cap = prepared.capacity[p].min(listed);
            if cap == 0 {
                bar[p - first as usize].store(0, Ordering::Relaxed);
            }
            seats.push(Seats {
                off: total,
                cap,
                held: 0,
                worst: 0,
            });
            total += cap;
        }
        Self {
            first,
            seats,
            heap: vec![0; total as usize],
            bar,
        }
    }

    /// A mutual entry proposes to a project of this part. Returns the entry that
    /// proposes next in this chain (the same talent's next choice, or the displaced
    /// talent's), or NONE when the chain ends (accepted without displacing anyone, or
    /// a talent ran out of choices).
    #[inline]
    fn propose(&mut self, Proposal { pos, raw, rank }: Proposal) -> u32 {
        let last = raw & LAST != 0;
        let i = ((raw & !LAST) - self.first) as usize;
        let s = &mut self.seats[i];
        let entry = (u64::from(rank) << 33) | if last { HELD_LAST } else { 0 } | u64::from(pos);
        if s.held < s.cap {
            let h = &mut self.heap[s.off as usize..(s.off + s.cap) as usize];
            sift_up(h, s.held as usize, entry);
            s.held += 1;
            if s.held == s.cap {
                s.worst = (h[0] >> 33) as u32;
                self.bar[i].store(s.worst, Ordering::Relaxed);
            }
            return NONE;
        }
        if rank < s.worst {
            let h = &mut self.heap[s.off as usize..(s.off + s.cap) as usize];
            let out = h[0];
            sift_down(h, entry);
            s.worst = (h[0] >> 33) as u32;
            self.bar[i].store(s.worst, Ordering::Relaxed);
            return if out & HELD_LAST != 0 {
                NONE
            } else {
                out as u32 + 1
            };
        }
        next_choice(pos, raw)
    }
}

/// The entry after `pos` (whose project word is `raw`) in its talent's list, or NONE
/// after the list's last entry: where a chain goes on after a rejection.
#[inline]
fn next_choice(pos: u32, raw: u32) -> u32 {
    if raw & LAST != 0 { NONE } else { pos + 1 }
}

/// What the threads of one run share.
struct Shared<'a, K> {
    talent_start: &'a [u32],
    entry_project: &'a [u32],
    keys: &'a [K],
    /// Thread `k` owns projects `bounds[k]..bounds[k + 1]`.
    bounds: &'a [u32],
    /// Per project, the rank from which proposals are rejected: `u32::MAX` until the
    /// project is full, then the rank of the worst talent it holds, published by its
    /// owner. A bar only ever falls, so a proposal at or above any value read is
    /// rejected whatever happens later: other threads reject it on the spot instead of
    /// handing it over (a stale read only hands over one that will be rejected there).
    bar: &'a [AtomicU32],
    /// Proposals handed to each thread, and whether any are waiting.
    inbox: Vec<Mutex<Vec<Proposal>>>,
    mail: Vec<AtomicBool>,
    next_talent: AtomicUsize,
    /// Chains that may still be running anywhere: counted before their talents are
    /// taken, uncounted (lazily) when they end, so 0 means every thread is done.
    live: AtomicUsize,
}

impl<K: Key + Sync> Shared<'_, K> {
    /// The thread that owns project `p`.
    #[inline]
    fn owner(&self, p: u32) -> usize {
        self.bounds[1..self.bounds.len() - 1]
            .iter()
            .filter(|&&b| p >= b)
            .count()
    }

    /// Runs thread `me` until no chain is left on any thread.
    ///
    /// Proposal chains run in [`LANES`] interleaved lanes. A chain starts with a
    /// talent's first choice and goes on with whoever is displaced, so it needs no
    /// queue; the talent behind an entry is implied by the entry's position. Each lane
    /// loads its next entry one round before using it, so the cache misses of all
    /// lanes overlap instead of queueing. A chain that reaches another thread's project
    /// is handed over; chains handed here are placed as their batches arrive, and go on
    /// in a lane.
    fn work(&self, me: usize, part: &mut Part<'_>) {
        let mut w = Worker {
            shared: self,
            me,
            resume: Vec::new(),
            received: Vec::new(),
            out: (0..self.inbox.len()).map(|_| Vec::new()).collect(),
            ended: 0,
            talent: 0,
            talent_end: 0,
            no_more_talents: false,
        };
        let mut lanes = [Lane::<K>::IDLE; LANES];
        loop {
            w.take_mail(part);
            let mut busy = false;
            for lane in &mut lanes {
                if lane.pos == NONE {
                    // A dry lane takes a chain handed here or a new talent, if any.
                    lane.load(w.next_start(), self.entry_project, self.keys);
                    busy |= lane.pos != NONE;
                    continue;
                }
                busy = true;
                let project = lane.raw & !LAST;
                let rejected = next_choice(lane.pos, lane.raw);
                let mut next = if lane.key == K::NO_KEY {
                    // Not mutual: the project is never asked.
                    rejected
                } else {
                    let proposal = Proposal {
                        pos: lane.pos,
                        raw: lane.raw,
                        rank: lane.key.rank(),
                    };
                    let owner = self.owner(project);
                    if owner == me {
                        part.propose(proposal)
                    } else if proposal.rank >= self.bar[project as usize].load(Ordering::Relaxed) {
                        rejected
                    } else {
                        w.send(owner, proposal);
                        HANDED
                    }
                };
                if next == NONE {
                    w.ended += 1;
                }
                if next == NONE || next == HANDED {
                    next = w.next_start();
                }
                lane.load(next, self.entry_project, self.keys);
            }
            if busy {
                continue;
            }
            // Nothing to run here (every lane's `next_start` came back empty, which has
            // handed over what was batched): stop once no chain is left on any thread.
            self.live.fetch_sub(w.ended, Ordering::SeqCst);
            w.ended = 0;
            if self.live.load(Ordering::SeqCst) == 0 {
                return;
            }
            std::thread::yield_now();
        }
    }
}

/// Marks a chain handed to another thread (it neither ends nor goes on here).
const HANDED: u32 = NONE - 1;

/// One thread's side of a run.
struct Worker<'s, 'a, K> {
    shared: &'s Shared<'a, K>,
    me: usize,
    /// Entries that go on with chains handed here, to be loaded in a lane.
    resume: Vec<u32>,
    /// A drained inbox (kept for its allocation).
    received: Vec<Proposal>,
    /// Proposals to hand to each thread.
    out: Vec<Vec<Proposal>>,
    /// Chains ended here and not yet uncounted from `live`.
    ended: usize,
    talent: usize,
    talent_end: usize,
    no_more_talents: bool,
}

impl<K> Worker<'_, '_, K> {
    /// Places the proposals handed to this thread.
    fn take_mail(&mut self, part: &mut Part<'_>) {
        let shared = self.shared;
        if !shared.mail[self.me].load(Ordering::Acquire) {
            return;
        }
        {
            let mut inbox = lock(&shared.inbox[self.me]);
            shared.mail[self.me].store(false, Ordering::Relaxed);
            std::mem::swap(&mut *inbox, &mut self.received);
        }
        for &proposal in &self.received {
            match part.propose(proposal) {
                NONE => self.ended += 1,
                next => self.resume.push(next),
            }
        }
        self.received.clear();
    }

    /// The next entry to load in a lane: one that goes on with a chain handed here,
    /// else a new talent's first choice, else NONE.
    fn next_start(&mut self) -> u32 {
        if let Some(pos) = self.resume.pop() {
            return pos;
        }
        let starts = self.shared.talent_start;
        let num_talents = starts.len() - 1;
        while !self.no_more_talents {
            if self.talent == self.talent_end {
                // Counted before they are taken, so `live` never reads 0 while a thread
                // holds talents it has not started.
                self.shared.live.fetch_add(CHUNK, Ordering::SeqCst);
                let t = self.shared.next_talent.fetch_add(CHUNK, Ordering::SeqCst);
                let end = (t + CHUNK).min(num_talents);
                self.ended += CHUNK - end.saturating_sub(t);
                if t >= num_talents {
                    self.no_more_talents = true;
                    break;
                }
                (self.talent, self.talent_end) = (t, end);
            }
            let (s, e) = (starts[self.talent], starts[self.talent + 1]);
            self.talent += 1;
            if s < e {
                return s;
            }
            self.ended += 1;
        }
        // Running dry: whatever is batched for other threads may be all they wait for.
        self.flush();
        NONE
    }

    /// Hands a proposal to thread `owner`.
    #[inline]
    fn send(&mut self, owner: usize, proposal: Proposal) {
        self.out[owner].push(proposal);
        if self.out[owner].len() >= BATCH {
            self.deliver(owner);
        }
    }

    /// Hands over every batch, full or not.
    fn flush(&mut self) {
        for owner in 0..self.out.len() {
            if !self.out[owner].is_empty() {
                self.deliver(owner);
            }
        }
    }

    fn deliver(&mut self, owner: usize) {
        let mut inbox = lock(&self.shared.inbox[owner]);
        inbox.append(&mut self.out[owner]);
        self.shared.mail[owner].store(true, Ordering::Release);
    }
}

/// Locks an inbox; a panic elsewhere cannot leave a batch half written.
fn lock(inbox: &Mutex<Vec<Proposal>>) -> std::sync::MutexGuard<'_, Vec<Proposal>> {
    inbox
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::{Shape, generate};
    use std::sync::Arc;
    use std::time::Duration;

    /// Solves on `threads` threads, failing (instead of hanging) if the threads never
    /// agree that they are done.
    fn solve_on(prepared: &Arc<Prepared>, threads: usize) -> Matching {
        let (tx, rx) = std::sync::mpsc::channel();
        let prepared = Arc::clone(prepared);
        std::thread::spawn(move || tx.send(prepared.solve_on(threads)));
        rx.recv_timeout(Duration::from_secs(60))
            .expect("the solver's threads finish")
    }

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
                let prepared = Arc::new(Prepared::new(&generate(shape, seed)));
                let instance = generate(shape, seed);
                let one = solve_on(&prepared, 1);
                let pairs: Vec<(u32, u32)> = one.pairs().collect();
                assert!(!pairs.is_empty());
                assert!(crate::check(&instance, &pairs).unwrap().is_ok());
                for threads in [2, 3, 8] {
                    for _ in 0..3 {
                        assert_eq!(solve_on(&prepared, threads), one, "{shape:?} seed {seed}");
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
            let prepared = Arc::new(Prepared::new(&instance));
            let one = solve_on(&prepared, 1);
            let pairs: Vec<(u32, u32)> = one.pairs().collect();
            assert!(
                crate::check(&instance, &pairs).unwrap().is_ok(),
                "round {round}"
            );
            for threads in [2, 4, 8] {
                assert_eq!(
                    solve_on(&prepared, threads),
                    one,
                    "round {round}, {threads} threads"
                );
            }
        }
    }

    /// Edge shapes: nothing at all, only empty lists, and a project listing 70,000
    /// talents (wide keys).
    #[test]
    fn threads_agree_on_empty_and_wide_rounds() {
        let mut rounds = vec![Instance::builder().build().unwrap()];
        let mut b = Instance::builder();
        for _ in 0..3_000 {
            b.talent(&[]);
        }
        b.project(2, &[]);
        rounds.push(b.build().unwrap());
        let mut b = Instance::builder();
        let n = 70_000u32;
        for t in 0..n {
            b.talent(if t % 3 == 0 { &[1, 0] } else { &[0, 2] });
        }
        let all: Vec<u32> = (0..n).rev().collect();
        b.project(5, &all);
        b.project(7, &(0..n).step_by(3).collect::<Vec<_>>());
        b.project(0, &[1, 2]);
        rounds.push(b.build().unwrap());
        for (i, instance) in rounds.iter().enumerate() {
            let prepared = Arc::new(Prepared::new(instance));
            let one = solve_on(&prepared, 1);
            let pairs: Vec<(u32, u32)> = one.pairs().collect();
            assert!(crate::check(instance, &pairs).unwrap().is_ok(), "round {i}");
            for threads in [2, 3, 8] {
                assert_eq!(
                    solve_on(&prepared, threads),
                    one,
                    "round {i}, {threads} threads"
                );
            }
        }
        assert!(matches!(
            Prepared::new(&rounds[2]).keys,
            crate::prepare::Keys::Wide(_)
        ));
    }

    /// `solve` itself picks threads for a round this large (on a machine with more
    /// than one core) and agrees with one thread.
    #[test]
    fn large_rounds_solve_on_every_core_alike() {
        let shape = Shape {
            talents: 30_000,
            projects: 2_000,
            prefs_per_talent: 10,
            capacity: 4,
        };
        let prepared = Arc::new(Prepared::new(&generate(&shape, 5)));
        assert!(prepared.entry_project.len() >= crate::prepare::PARALLEL_MIN_ENTRIES);
        assert_eq!(prepared.solve(), solve_on(&prepared, 1));
    }
}
