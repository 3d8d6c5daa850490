//! The solver's index: for every talent-side entry, the project and the project's rank
//! of that talent, in flat arrays built in time linear in the number of entries.

use crate::instance::{Instance, NONE};

/// Top bit of a talent-side entry: set on the last entry of each talent's list, so the
/// solver never reads the talent offsets while proposing.
pub(crate) const LAST: u32 = 1 << 31;

/// Talents longer than this take the general (transposing) path when building keys.
const SCAN_LIMIT: usize = 32;

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

/// An instance compiled for [`Prepared::solve`]: talent lists with, in the same entry
/// position, the 0-based rank the project gives that talent (or "not listed").
///
/// Build it once per instance; solving reads only these arrays. [`Prepared::from_instance`]
/// reuses the instance's buffers, so the peak memory of building is the instance plus
/// one 16- or 32-bit array per talent-side entry.
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
        let t0 = std::time::Instant::now();
        let project_entry_pos =
            locate_project_entries(&talent_start, &entry_project, &project_start, project_prefs);
        eprintln!("locate {:?}", t0.elapsed());
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
        eprintln!("locate+scatter {:?}", t0.elapsed());
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
) -> Vec<u32> {
    let longest_talent = talent_start
        .windows(2)
        .map(|w| (w[1] - w[0]) as usize)
        .max()
        .unwrap_or(0);
    if longest_talent <= SCAN_LIMIT {
        // Each lookup misses the cache on the talent's list; touching the list
        // AHEAD entries early keeps many misses in flight instead of one at a time.
        const AHEAD: usize = 16;
        let len = project_prefs.len();
        let mut touched = 0u32;
        let mut p = 0usize;
        for q in 0..len {
            if q + AHEAD < len {
                let t = project_prefs[q + AHEAD] as usize;
                touched ^= entry_project[talent_start[t] as usize];
            }
            while project_start[p + 1] as usize <= q {
                p += 1;
            }
            let t = project_prefs[q] as usize;
            let (s, e) = (talent_start[t] as usize, talent_start[t + 1] as usize);
            let mut found = NONE;
            for (i, &x) in entry_project[s..e].iter().enumerate() {
                if x as usize == p {
                    found = (s + i) as u32;
                }
            }
            project_prefs[q] = found;
        }
        std::hint::black_box(touched);
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
