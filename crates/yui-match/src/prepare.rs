//! The solver's index: for every talent-side entry, the project and the project's rank
//! of that talent, in flat arrays built in time linear in the number of entries.

use crate::instance::{Instance, NONE};

/// Top bit of a talent-side entry: set on the last entry of each talent's list, so the
/// solver never reads the talent offsets while proposing.
pub(crate) const LAST: u32 = 1 << 31;

/// Talents longer than this take the general (transposing) path when building keys.
const SCAN_LIMIT: usize = 32;

/// Talent-side entries per block when matching entries (see `locate_project_entries`):
/// 8 MB of lists, which stay in the last-level cache during a sweep.
const BLOCK_ENTRIES: usize = 2 << 20;

/// Most sweeps of the project lists; larger instances get larger blocks, so building
/// the index stays linear in the number of entries.
const MAX_SWEEPS: usize = 8;

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
        let project_entry_pos = locate_project_entries(
            &talent_start,
            &entry_project,
            &project_start,
            project_prefs,
            BLOCK_ENTRIES.max(entry_project.len().div_ceil(MAX_SWEEPS)),
        );
        let longest_project = project_start
            .windows(2)
            .map(|w| w[1] - w[0])
            .max()
            .unwrap_or(0);
        let keys = if longest_project < u32::from(u16::MAX) {
            Keys::Narrow(scatter_ranks(
                &project_start,
                &project_entry_pos,
                entry_project.len(),
            ))
        } else {
            Keys::Wide(scatter_ranks(
                &project_start,
                &project_entry_pos,
                entry_project.len(),
            ))
        };
        drop(project_entry_pos);
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

/// Marks a project-side entry already rewritten into a talent-side position.
const DONE: u32 = 1 << 31;

/// Lookups per batch in `locate_project_entries`.
const BATCH: usize = 256;

/// Pending lookups: project-side entry `q` of project `p`, whose talent's list must be
/// searched for `p`.
struct Batch {
    q: [u32; BATCH + 1],
    p: [u32; BATCH + 1],
    range: [(u32, u32); BATCH],
    len: usize,
}

impl Default for Batch {
    fn default() -> Self {
        Self {
            q: [0; BATCH + 1],
            p: [0; BATCH + 1],
            range: [(0, 0); BATCH],
            len: 0,
        }
    }
}

impl Batch {
    /// Appends `(q, p)` when `keep`; writes the slot either way (there is one spare).
    #[inline]
    fn push_if(&mut self, q: u32, p: u32, keep: bool) {
        self.q[self.len] = q;
        self.p[self.len] = p;
        self.len += usize::from(keep);
    }

    /// Resolves the pending lookups in three short loops: the talents' list bounds,
    /// a touch of each list (so the cache lines arrive together), then the searches.
    fn flush(&mut self, talent_start: &[u32], entry_project: &[u32], project_prefs: &mut [u32]) {
        let n = self.len;
        for i in 0..n {
            let t = project_prefs[self.q[i] as usize] as usize;
            self.range[i] = (talent_start[t], talent_start[t + 1]);
        }
        let mut touched = 0u32;
        for &(s, e) in &self.range[..n] {
            if s < e {
                touched ^= entry_project[s as usize] ^ entry_project[e as usize - 1];
            }
        }
        std::hint::black_box(touched);
        for i in 0..n {
            let (s, e) = self.range[i];
            let p = self.p[i];
            let mut found = NONE;
            for (pos, &x) in (s..e).zip(&entry_project[s as usize..e as usize]) {
                if x == p {
                    found = pos | DONE;
                }
            }
            project_prefs[self.q[i] as usize] = found;
        }
        self.len = 0;
    }
}

/// Rewrites each project-side entry into the position of the same pair on the talent
/// side (or [`NONE`] when the talent does not list the project), in place.
///
/// When every talent list is short (the usual round: about ten choices) this scans the
/// talent's list, so it needs no memory beyond the project list itself; otherwise it
/// buckets project entries by talent, which is linear but needs a temporary array.
fn locate_project_entries(
    talent_start: &[u32],
    entry_project: &[u32],
    project_start: &[u32],
    mut project_prefs: Vec<u32>,
    block_entries: usize,
) -> Vec<u32> {
    let longest_talent = talent_start
        .windows(2)
        .map(|w| (w[1] - w[0]) as usize)
        .max()
        .unwrap_or(0);
    if longest_talent <= SCAN_LIMIT {
        // A lookup in a talent's list is a cache miss when the lists are large. Two
        // things keep the misses cheap: talents are taken in blocks whose lists fit in
        // the last-level cache (each block sweeps the project lists, a sequential read),
        // and lookups are batched so that their loads are issued back to back and
        // overlap, instead of each waiting behind the previous one's compare loop.
        let num_talents = talent_start.len() - 1;
        let mut batch = Batch::default();
        let mut t0 = 0usize;
        while t0 < num_talents {
            let limit = talent_start[t0] as usize + block_entries;
            let more = talent_start[t0 + 2..].partition_point(|&s| s as usize <= limit);
            let t1 = t0 + 1 + more;
            let (lo, width) = (t0 as u32, (t1 - t0) as u32);
            for (p, w) in project_start.windows(2).enumerate() {
                for q in w[0]..w[1] {
                    // Rewritten entries carry DONE, which puts them above any block.
                    // Branch-free: the entry is always written and kept only if in range.
                    let keep = project_prefs[q as usize].wrapping_sub(lo) < width;
                    batch.push_if(q, p as u32, keep);
                    if batch.len == BATCH {
                        batch.flush(talent_start, entry_project, &mut project_prefs);
                    }
                }
            }
            batch.flush(talent_start, entry_project, &mut project_prefs);
            t0 = t1;
        }
        for slot in &mut project_prefs {
            if *slot != NONE {
                *slot &= !DONE;
            }
        }
        return project_prefs;
    }

    // General path: group (project, project-side position) pairs by talent with a
    // counting sort, then match them against each talent's list through a stamp per
    // project.
    let num_talents = talent_start.len() - 1;
    let mut bucket_start = vec![0u32; num_talents + 1];
    for &t in &project_prefs {
        bucket_start[t as usize + 1] += 1;
    }
    for i in 0..num_talents {
        bucket_start[i + 1] += bucket_start[i];
    }
    let mut fill = bucket_start.clone();
    let mut pairs = vec![0u64; project_prefs.len()];
    for (p, w) in project_start.windows(2).enumerate() {
        for q in w[0]..w[1] {
            let t = project_prefs[q as usize] as usize;
            pairs[fill[t] as usize] = ((p as u64) << 32) | u64::from(q);
            fill[t] += 1;
        }
    }
    drop(fill);
    let num_projects = project_start.len() - 1;
    let mut stamp = vec![NONE; num_projects];
    let mut slot = vec![0u32; num_projects];
    for t in 0..num_talents {
        for pos in talent_start[t]..talent_start[t + 1] {
            let p = entry_project[pos as usize] as usize;
            stamp[p] = t as u32;
            slot[p] = pos;
        }
        for &pair in &pairs[bucket_start[t] as usize..bucket_start[t + 1] as usize] {
            let (p, q) = ((pair >> 32) as usize, pair as u32 as usize);
            project_prefs[q] = if stamp[p] == t as u32 { slot[p] } else { NONE };
        }
    }
    project_prefs
}

/// Writes, at each talent-side position, the 0-based rank the project gives the talent.
fn scatter_ranks<K: Key>(project_start: &[u32], project_entry_pos: &[u32], len: usize) -> Vec<K> {
    let mut keys = vec![K::NO_KEY; len];
    for w in project_start.windows(2) {
        for q in w[0]..w[1] {
            let pos = project_entry_pos[q as usize];
            if pos != NONE {
                keys[pos as usize] = K::from_rank(q - w[0]);
            }
        }
    }
    keys
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

    /// The talent-side position of every project-side entry, by searching each list.
    fn naive_positions(inst: &Instance) -> Vec<u32> {
        let mut out = Vec::new();
        for p in 0..inst.num_projects() as u32 {
            for &t in inst.project_prefs(p) {
                let start = inst.talent_start[t as usize];
                out.push(
                    inst.talent_prefs(t)
                        .iter()
                        .position(|&x| x == p)
                        .map_or(NONE, |i| start + i as u32),
                );
            }
        }
        out
    }

    #[test]
    fn small_blocks_and_batches_find_every_entry() {
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
        let want = naive_positions(&inst);
        for block in [1, 5, 64, 1 << 20] {
            let got = locate_project_entries(
                &inst.talent_start,
                &inst.talent_prefs,
                &inst.project_start,
                inst.project_prefs.clone(),
                block,
            );
            assert_eq!(got, want, "block of {block} entries");
        }
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
