//! The solver's index: for every talent-side entry, the project and the project's rank
//! of that talent, in flat arrays built in time linear in the number of entries.

use crate::instance::{Instance, NONE};

/// Top bit of a talent-side entry: set on the last entry of each talent's list, so the
/// solver never reads the talent offsets while proposing.
pub(crate) const LAST: u32 = 1 << 31;

/// Talents longer than this take the general (transposing) path when building keys.
const SCAN_LIMIT: usize = 32;

/// Talent-side entries per block when matching entries (see `scan_keys`): 1M entries
/// are 4 MB of lists and 2 MB of keys, which stay in the last-level cache while a
/// block sweeps the project lists, even with a block per core.
const BLOCK_ENTRIES: usize = 1 << 20;

/// Most blocks (sweeps of the project lists); larger instances get larger blocks, so
/// building the index stays linear in the number of entries.
const MAX_BLOCKS: usize = 16;

/// Below this many entries the engine runs on the calling thread alone: starting
/// threads would cost more than they save.
pub(crate) const PARALLEL_MIN_ENTRIES: usize = 1 << 18;

/// Most threads used to build the index or run the solver.
const MAX_THREADS: usize = 8;

/// Threads worth using on an instance of `entries` talent-side entries: one for small
/// rounds, else one per available core.
pub(crate) fn threads_for(entries: usize) -> usize {
    if entries < PARALLEL_MIN_ENTRIES {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_THREADS))
    }
}

/// Per-entry ranks, 16 bits wide when every project list is shorter than 65,535 talents
/// (halving the solver's hottest array), 32 bits otherwise.
#[derive(Clone, Debug)]
pub(crate) enum Keys {
    Narrow(Vec<u16>),
    Wide(Vec<u32>),
}

/// A rank as stored in [`Keys`]; `NO_KEY` marks a project that does not list the talent.
pub(crate) trait Key: Copy + Ord {
    const NO_KEY: Self;
    fn from_rank(rank: u32) -> Self;
    fn rank(self) -> u32;
}

impl Key for u16 {
    const NO_KEY: Self = u16::MAX;
    fn from_rank(rank: u32) -> Self {
        rank as u16
    }
    fn rank(self) -> u32 {
        u32::from(self)
    }
}

impl Key for u32 {
    const NO_KEY: Self = u32::MAX;
    fn from_rank(rank: u32) -> Self {
        rank
    }
    fn rank(self) -> u32 {
        self
    }
}

/// An instance compiled for [`Prepared::solve`]: the talent lists with, at each entry,
/// the 0-based rank the project gives that talent (or "not listed"), so a proposal
/// learns where it stands with one array read.
///
/// Building it is linear in the number of entries. [`Prepared::from_instance`] reuses the
/// instance's buffers: at 1M talents × 10 the index is the talent lists (40 MB), the
/// ranks (20 MB as `u16`) and the offsets, and building it needs the project lists on
/// top for a moment, with no other large temporary (unless some talent lists more than
/// 32 projects, where a linear but memory-hungrier path is taken).
#[derive(Clone, Debug)]
pub struct Prepared {
    pub(crate) talent_start: Vec<u32>,
    /// Project of each talent-side entry, with [`LAST`] on each list's final entry.
    pub(crate) entry_project: Vec<u32>,
    pub(crate) keys: Keys,
    pub(crate) project_start: Vec<u32>,
    pub(crate) capacity: Vec<u32>,
}

impl Prepared {
    /// Builds the index from a borrowed instance (copies the lists it needs).
    pub fn new(instance: &Instance) -> Self {
        Self::from_instance(instance.clone())
    }

    /// Builds the index, taking over the instance's buffers.
    pub fn from_instance(instance: Instance) -> Self {
        let Instance {
            talent_start,
            talent_prefs: mut entry_project,
            project_start,
            project_prefs,
            capacity,
        } = instance;
        let lists = Lists {
            talent_start: &talent_start,
            entry_project: &entry_project,
            project_start: &project_start,
            project_prefs: &project_prefs,
        };
        let keys = if longest(&project_start) < usize::from(u16::MAX) {
            Keys::Narrow(lists.keys())
        } else {
            Keys::Wide(lists.keys())
        };
        drop(project_prefs);
        for w in talent_start.windows(2) {
            if w[1] > w[0] {
                entry_project[w[1] as usize - 1] |= LAST;
            }
        }
        Self {
            talent_start,
            entry_project,
            keys,
            project_start,
            capacity,
        }
    }

    /// Number of talents.
    pub fn num_talents(&self) -> usize {
        self.talent_start.len() - 1
    }

    /// Number of projects.
    pub fn num_projects(&self) -> usize {
        self.project_start.len() - 1
    }

    /// Capacity of every project, indexed by project.
    pub fn capacities(&self) -> &[u32] {
        &self.capacity
    }

    /// Talent `t`'s list as `(project, rank the project gives t)`, most preferred first;
    /// the rank is 0-based and `None` when the project does not list `t`.
    pub fn talent_entries(&self, t: u32) -> impl Iterator<Item = (u32, Option<u32>)> + '_ {
        let t = t as usize;
        let range = self.talent_start[t] as usize..self.talent_start[t + 1] as usize;
        range.map(move |pos| {
            let project = self.entry_project[pos] & !LAST;
            (project, self.rank_at(pos))
        })
    }

    /// The 0-based rank stored at talent-side entry `pos`, `None` when not mutual.
    pub(crate) fn rank_at(&self, pos: usize) -> Option<u32> {
        fn get<K: Key>(keys: &[K], pos: usize) -> Option<u32> {
            let k = keys[pos];
            (k != K::NO_KEY).then(|| k.rank())
        }
        match &self.keys {
            Keys::Narrow(k) => get(k, pos),
            Keys::Wide(k) => get(k, pos),
        }
    }
}

/// Length of the longest list in a CSR offsets array.
fn longest(start: &[u32]) -> usize {
    start
        .windows(2)
        .map(|w| (w[1] - w[0]) as usize)
        .max()
        .unwrap_or(0)
}

/// The instance's lists, borrowed while the keys are built.
#[derive(Clone, Copy)]
struct Lists<'a> {
    talent_start: &'a [u32],
    entry_project: &'a [u32],
    project_start: &'a [u32],
    project_prefs: &'a [u32],
}

/// Talents `t0..t1`, whose entries start at talent-side position `base`, and their keys.
struct Block<'k, K> {
    t0: u32,
    t1: u32,
    base: u32,
    keys: &'k mut [K],
}

/// Lookups per batch in `Lists::scan_block`.
const BATCH: usize = 256;

/// Pending lookups: talent `t` holds rank `rank` in project `p`'s list; the position of
/// `p` in `t`'s list is still to be found.
struct Batch {
    t: [u32; BATCH],
    p: [u32; BATCH],
    rank: [u32; BATCH],
    range: [(u32, u32); BATCH],
    len: usize,
}

impl Default for Batch {
    fn default() -> Self {
        Self {
            t: [0; BATCH],
            p: [0; BATCH],
            rank: [0; BATCH],
            range: [(0, 0); BATCH],
            len: 0,
        }
    }
}

impl<'a> Lists<'a> {
    /// Every talent-side entry's key: the rank the project gives the talent, or
    /// `NO_KEY` when the project does not list the talent.
    fn keys<K: Key + Send>(self) -> Vec<K> {
        let entries = self.entry_project.len();
        let mut keys = vec![K::NO_KEY; entries];
        if longest(self.talent_start) <= SCAN_LIMIT {
            let threads = threads_for(entries);
            let blocks = entries.div_ceil(BLOCK_ENTRIES).max(threads).min(MAX_BLOCKS);
            self.scan_keys(&mut keys, entries.div_ceil(blocks.max(1)), threads);
        } else {
            self.transpose_keys(&mut keys);
        }
        keys
    }

    /// The usual round (every talent lists at most [`SCAN_LIMIT`] projects): each
    /// project-side entry finds its pair by scanning the talent's short list, so no
    /// memory is needed beyond the keys themselves.
    ///
    /// A lookup in a talent's list is a cache miss when the lists are large. Talents
    /// are therefore taken in blocks whose lists and keys fit in the last-level cache;
    /// each block sweeps the project lists (a sequential read) for entries naming its
    /// talents, and batches the lookups so that their loads overlap. Blocks write
    /// disjoint parts of `keys`, so `threads` threads take blocks from a shared queue.
    fn scan_keys<K: Key + Send>(self, keys: &mut [K], block_entries: usize, threads: usize) {
        let num_talents = self.talent_start.len() - 1;
        let mut blocks = Vec::new();
        let mut rest = keys;
        let mut t0 = 0usize;
        while t0 < num_talents {
            let base = self.talent_start[t0];
            let limit = base as usize + block_entries;
            let more = self.talent_start[t0 + 2..].partition_point(|&s| s as usize <= limit);
            let t1 = t0 + 1 + more;
            let len = (self.talent_start[t1] - base) as usize;
            let (head, tail) = std::mem::take(&mut rest).split_at_mut(len);
            rest = tail;
            blocks.push(Block {
                t0: t0 as u32,
                t1: t1 as u32,
                base,
                keys: head,
            });
            t0 = t1;
        }
        if threads <= 1 || blocks.len() <= 1 {
            for block in blocks {
                self.scan_block(block);
            }
            return;
        }
        let queue = std::sync::Mutex::new(blocks.into_iter());
        let next = || queue.lock().ok().and_then(|mut q| q.next());
        let work = || {
            while let Some(block) = next() {
                self.scan_block(block);
            }
        };
        std::thread::scope(|s| {
            for _ in 1..threads {
                s.spawn(work);
            }
            work();
        });
    }

    /// Writes the keys of one block of talents.
    fn scan_block<K: Key>(self, mut block: Block<'_, K>) {
        const LANES: usize = 16;
        let (lo, width) = (block.t0, block.t1 - block.t0);
        let mut batch = Batch::default();
        let mut p = 0usize;
        let mut visit = |q: usize, batch: &mut Batch, block: &mut Block<'_, K>| {
            // Entries are visited in order, so the project cursor only moves forward.
            while self.project_start[p + 1] as usize <= q {
                p += 1;
            }
            let i = batch.len;
            batch.t[i] = self.project_prefs[q];
            batch.p[i] = p as u32;
            batch.rank[i] = q as u32 - self.project_start[p];
            batch.len += 1;
            if batch.len == BATCH {
                self.flush(batch, block);
            }
        };
        // Most entries name talents of other blocks: test sixteen at a time (the test
        // compiles to vector compares) and visit only the entries that pass.
        let chunks = self.project_prefs.chunks_exact(LANES);
        let tail = chunks.remainder().len();
        for (c, chunk) in chunks.enumerate() {
            let mut mask = 0u32;
            for (i, &t) in chunk.iter().enumerate() {
                mask |= u32::from(t.wrapping_sub(lo) < width) << i;
            }
            while mask != 0 {
                visit(
                    c * LANES + mask.trailing_zeros() as usize,
                    &mut batch,
                    &mut block,
                );
                mask &= mask - 1;
            }
        }
        let len = self.project_prefs.len();
        for q in len - tail..len {
            if self.project_prefs[q].wrapping_sub(lo) < width {
                visit(q, &mut batch, &mut block);
            }
        }
        self.flush(&mut batch, &mut block);
    }

    /// Resolves the pending lookups in three short loops: the talents' list bounds,
    /// a touch of each list (so the cache lines arrive together), then the searches.
    fn flush<K: Key>(self, batch: &mut Batch, block: &mut Block<'_, K>) {
        let n = batch.len;
        for i in 0..n {
            let t = batch.t[i] as usize;
            batch.range[i] = (self.talent_start[t], self.talent_start[t + 1]);
        }
        let mut touched = 0u32;
        for &(s, e) in &batch.range[..n] {
            if s < e {
                touched ^= self.entry_project[s as usize] ^ self.entry_project[e as usize - 1];
            }
        }
        std::hint::black_box(touched);
        for i in 0..n {
            let (s, e) = batch.range[i];
            let p = batch.p[i];
            let mut found = NONE;
            for (pos, &x) in (s..e).zip(&self.entry_project[s as usize..e as usize]) {
                if x == p {
                    found = pos;
                }
            }
            if found != NONE {
                block.keys[(found - block.base) as usize] = K::from_rank(batch.rank[i]);
            }
        }
        batch.len = 0;
    }

    /// Some talent lists many projects: group the project-side entries by talent with
    /// a counting sort, then match them against each talent's list through a stamp per
    /// project. Linear, but needs eight bytes per entry for the grouping.
    fn transpose_keys<K: Key>(self, keys: &mut [K]) {
        let num_talents = self.talent_start.len() - 1;
        let mut bucket_start = vec![0u32; num_talents + 1];
        for &t in self.project_prefs {
            bucket_start[t as usize + 1] += 1;
        }
        for i in 0..num_talents {
            bucket_start[i + 1] += bucket_start[i];
        }
        let mut fill = bucket_start.clone();
        let mut pairs = vec![0u64; self.project_prefs.len()];
        for (p, w) in self.project_start.windows(2).enumerate() {
            for q in w[0]..w[1] {
                let t = self.project_prefs[q as usize] as usize;
                pairs[fill[t] as usize] = ((p as u64) << 32) | u64::from(q - w[0]);
                fill[t] += 1;
            }
        }
        drop(fill);
        let num_projects = self.project_start.len() - 1;
        let mut stamp = vec![NONE; num_projects];
        let mut slot = vec![0u32; num_projects];
        for t in 0..num_talents {
            let (s, e) = (self.talent_start[t], self.talent_start[t + 1]);
            for pos in s..e {
                let p = self.entry_project[pos as usize] as usize;
                stamp[p] = t as u32;
                slot[p] = pos;
            }
            for &pair in &pairs[bucket_start[t] as usize..bucket_start[t + 1] as usize] {
                let (p, rank) = ((pair >> 32) as usize, pair as u32);
                if stamp[p] == t as u32 {
                    keys[slot[p] as usize] = K::from_rank(rank);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Instance {
        let mut b = Instance::builder();
        b.talent(&[1, 0]); // t0
        b.talent(&[0]); // t1
        b.talent(&[1]); // t2: p1 does not list t2
        b.project(1, &[1, 0]); // p0
        b.project(1, &[0, 3]); // p1: t3 does not list p1
        b.talent(&[]); // t3
        b.build().unwrap()
    }

    #[test]
    fn ranks_follow_project_lists() {
        let prep = Prepared::new(&sample());
        assert_eq!(
            prep.talent_entries(0).collect::<Vec<_>>(),
            vec![(1, Some(0)), (0, Some(1))]
        );
        assert_eq!(
            prep.talent_entries(1).collect::<Vec<_>>(),
            vec![(0, Some(0))]
        );
        assert_eq!(prep.talent_entries(2).collect::<Vec<_>>(), vec![(1, None)]);
        assert_eq!(prep.talent_entries(3).count(), 0);
        assert!(matches!(prep.keys, Keys::Narrow(_)));
    }

    /// Every talent-side entry's key, by searching the project's list.
    fn naive_keys(inst: &Instance) -> Vec<u32> {
        let mut out = Vec::new();
        for t in 0..inst.num_talents() as u32 {
            for &p in inst.talent_prefs(t) {
                let rank = inst.project_prefs(p).iter().position(|&x| x == t);
                out.push(rank.map_or(u32::MAX, |r| r as u32));
            }
        }
        out
    }

    fn lists(inst: &Instance) -> Lists<'_> {
        Lists {
            talent_start: &inst.talent_start,
            entry_project: &inst.talent_prefs,
            project_start: &inst.project_start,
            project_prefs: &inst.project_prefs,
        }
    }

    #[test]
    fn every_block_size_and_thread_count_finds_every_key() {
        let shape = crate::synth::Shape {
            talents: 2_000,
            projects: 150,
            prefs_per_talent: 6,
            capacity: 2,
        };
        let mut inst = crate::synth::generate(&shape, 3);
        // Point some talents' last choice elsewhere, so that some entries on both
        // sides are not mutual.
        for t in (0..2_000).step_by(7) {
            let range = inst.talent_start[t] as usize..inst.talent_start[t + 1] as usize;
            let other = (0..150).find(|p| !inst.talent_prefs[range.clone()].contains(p));
            inst.talent_prefs[range.end - 1] = other.unwrap();
        }
        let (ts, tp, ps, pp, cap) = inst.into_csr();
        let inst = Instance::from_csr(ts, tp, ps, pp, cap).unwrap();
        let want = naive_keys(&inst);
        assert!(want.contains(&u32::MAX), "some entries are not mutual");
        for block in [1, 5, 64, 1 << 20] {
            for threads in [1, 2, 3] {
                let mut got = vec![u32::NO_KEY; want.len()];
                lists(&inst).scan_keys(&mut got, block, threads);
                assert_eq!(got, want, "block of {block} entries, {threads} threads");
            }
        }
        let mut got = vec![u32::NO_KEY; want.len()];
        lists(&inst).transpose_keys(&mut got);
        assert_eq!(got, want, "transposing path");
    }

    #[test]
    fn long_project_lists_get_wide_keys() {
        let n = 70_000u32;
        let mut b = Instance::builder();
        for _ in 0..n {
            b.talent(&[0]);
        }
        let all: Vec<u32> = (0..n).rev().collect();
        b.project(2, &all);
        let prep = Prepared::new(&b.build().unwrap());
        assert!(matches!(prep.keys, Keys::Wide(_)));
        assert_eq!(prep.rank_at(0), Some(n - 1));
        let m = prep.solve();
        let pairs: Vec<_> = m.pairs().collect();
        assert_eq!(pairs, vec![(n - 2, 0), (n - 1, 0)]);
    }

    #[test]
    fn general_path_agrees_with_scan_path() {
        // One talent ranks more projects than SCAN_LIMIT, forcing the transposing path.
        let n = SCAN_LIMIT as u32 + 5;
        let mut b = Instance::builder();
        let long: Vec<u32> = (0..n).rev().collect();
        b.talent(&long);
        b.talent(&[3, 1]);
        for p in 0..n {
            let prefs: Vec<u32> = if p % 2 == 0 { vec![1, 0] } else { vec![0] };
            b.project(1, &prefs);
        }
        let prep = Prepared::new(&b.build().unwrap());
        let got: Vec<_> = prep.talent_entries(0).collect();
        let want: Vec<_> = (0..n)
            .rev()
            .map(|p| (p, Some(if p % 2 == 0 { 1 } else { 0 })))
            .collect();
        assert_eq!(got, want);
        assert_eq!(
            prep.talent_entries(1).collect::<Vec<_>>(),
            vec![(3, None), (1, None)]
        );
    }
}
