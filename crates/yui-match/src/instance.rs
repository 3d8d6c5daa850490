//! A round instance with index-based preference lists, stored as flat CSR arrays.

use thiserror::Error;

/// Index value that never names a talent, a project or an entry.
pub(crate) const NONE: u32 = u32::MAX;

/// Largest number of preference entries on either side.
///
/// The solver keeps a flag in the top bit of its per-entry keys, so each side's entry
/// count must stay below 2³¹ (about 2.1 billion, far beyond a national round).
pub const MAX_ENTRIES: usize = (1 << 31) - 2;

/// Largest number of talents or projects on each side (indices stay below 2³¹ for the
/// same reason).
pub const MAX_PARTICIPANTS: usize = (1 << 31) - 1;

/// Which side of the round a preference list belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// A talent's ranked list of projects.
    Talent,
    /// A project's ranked list of talents.
    Project,
}

/// Why index arrays do not form a valid instance.
///
/// Positions are 0-based, so callers can turn them into field paths such as
/// `talents[3].prefs[1]`.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum InstanceError {
    /// A preference list names an index that does not exist on the other side.
    #[error("{side:?} {owner}: entry {position} names {value}, which is out of range")]
    OutOfRange {
        side: Side,
        owner: u32,
        position: u32,
        value: u32,
    },
    /// A preference list names the same participant twice.
    #[error("{side:?} {owner}: entry {position} repeats {value} (first at entry {first})")]
    Duplicate {
        side: Side,
        owner: u32,
        position: u32,
        first: u32,
        value: u32,
    },
    /// CSR offsets that do not start at 0, decrease, or do not end at the entry count.
    #[error("{0:?} offsets are not a valid CSR layout")]
    BadOffsets(Side),
    /// More entries or participants than [`MAX_ENTRIES`] / [`MAX_PARTICIPANTS`].
    #[error("{0:?} side is too large for 32-bit indices")]
    TooLarge(Side),
    /// The capacity array does not have one value per project.
    #[error("expected {expected} capacities, got {got}")]
    CapacityCount { expected: usize, got: usize },
    /// A proposed assignment names a talent or project index that does not exist.
    #[error("assignment {index} names {side:?} {value}, which is out of range")]
    AssignmentOutOfRange {
        index: usize,
        side: Side,
        value: u32,
    },
}

/// A matching round: each talent ranks projects, each project ranks talents and has a
/// capacity. Talents and projects are the indices `0..num_talents()` and
/// `0..num_projects()`; lists are most preferred first.
///
/// A pair is acceptable only when each side lists the other. Lists are stored as CSR
/// (one offsets array and one flat entries array per side), which keeps a national-scale
/// round (1M talents × 10 preferences) to a few flat allocations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    pub(crate) talent_start: Vec<u32>,
    pub(crate) talent_prefs: Vec<u32>,
    pub(crate) project_start: Vec<u32>,
    pub(crate) project_prefs: Vec<u32>,
    pub(crate) capacity: Vec<u32>,
}

impl Instance {
    /// Builds an instance from CSR arrays, checking every index and list.
    ///
    /// `talent_start` has one offset per talent plus a final one equal to
    /// `talent_prefs.len()`; talent `t` ranks `talent_prefs[talent_start[t]..talent_start[t + 1]]`.
    /// The project side is laid out the same way, with one capacity per project.
    /// Work is linear in the number of entries.
    pub fn from_csr(
        talent_start: Vec<u32>,
        talent_prefs: Vec<u32>,
        project_start: Vec<u32>,
        project_prefs: Vec<u32>,
        capacity: Vec<u32>,
    ) -> Result<Self, InstanceError> {
        check_offsets(Side::Talent, &talent_start, talent_prefs.len())?;
        check_offsets(Side::Project, &project_start, project_prefs.len())?;
        let num_projects = project_start.len() - 1;
        if capacity.len() != num_projects {
            return Err(InstanceError::CapacityCount {
                expected: num_projects,
                got: capacity.len(),
            });
        }
        let num_talents = talent_start.len() - 1;
        let talents = || check_lists(Side::Talent, &talent_start, &talent_prefs, num_projects);
        let projects = || check_lists(Side::Project, &project_start, &project_prefs, num_talents);
        if crate::prepare::threads_for(talent_prefs.len()) > 1 {
            // The two sides are independent; the talent side's error is reported first
            // either way, so the answer does not depend on which thread finishes first.
            let (talents, projects) = std::thread::scope(|s| {
                let other = s.spawn(projects);
                (talents(), other.join())
            });
            talents?;
            projects.unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
        } else {
            talents()?;
            projects()?;
        }
        Ok(Self {
            talent_start,
            talent_prefs,
            project_start,
            project_prefs,
            capacity,
        })
    }

    /// Starts an instance built one participant at a time.
    pub fn builder() -> InstanceBuilder {
        InstanceBuilder::default()
    }

    /// Number of talents.
    pub fn num_talents(&self) -> usize {
        self.talent_start.len() - 1
    }

    /// Number of projects.
    pub fn num_projects(&self) -> usize {
        self.project_start.len() - 1
    }

    /// Talent `t`'s projects, most preferred first. Panics if `t` is out of range.
    pub fn talent_prefs(&self, t: u32) -> &[u32] {
        let t = t as usize;
        &self.talent_prefs[self.talent_start[t] as usize..self.talent_start[t + 1] as usize]
    }

    /// Project `p`'s talents, most preferred first. Panics if `p` is out of range.
    pub fn project_prefs(&self, p: u32) -> &[u32] {
        let p = p as usize;
        &self.project_prefs[self.project_start[p] as usize..self.project_start[p + 1] as usize]
    }

    /// Capacity of every project, indexed by project.
    pub fn capacities(&self) -> &[u32] {
        &self.capacity
    }

    /// Gives back the arrays in [`Instance::from_csr`] order.
    #[allow(clippy::type_complexity)]
    pub fn into_csr(self) -> (Vec<u32>, Vec<u32>, Vec<u32>, Vec<u32>, Vec<u32>) {
        (
            self.talent_start,
            self.talent_prefs,
            self.project_start,
            self.project_prefs,
            self.capacity,
        )
    }

    /// Total number of entries on the talent side and on the project side.
    pub fn num_entries(&self) -> (usize, usize) {
        (self.talent_prefs.len(), self.project_prefs.len())
    }
}

fn check_offsets(side: Side, start: &[u32], entries: usize) -> Result<(), InstanceError> {
    if entries > MAX_ENTRIES || start.len() > MAX_PARTICIPANTS + 1 {
        return Err(InstanceError::TooLarge(side));
    }
    let ok = start.first() == Some(&0)
        && start.last().is_some_and(|&end| end as usize == entries)
        && start.windows(2).all(|w| w[0] <= w[1]);
    if ok {
        Ok(())
    } else {
        Err(InstanceError::BadOffsets(side))
    }
}

/// Checks that every entry is in range and no list repeats a value, with one stamp per
/// value of the other side (the owner that last listed it), so the pass stays linear.
fn check_lists(
    side: Side,
    start: &[u32],
    prefs: &[u32],
    other_side: usize,
) -> Result<(), InstanceError> {
    let mut stamp = vec![NONE; other_side];
    for (owner, w) in start.windows(2).enumerate() {
        let list = &prefs[w[0] as usize..w[1] as usize];
        for (position, &value) in list.iter().enumerate() {
            let Some(seen) = stamp.get_mut(value as usize) else {
                return Err(InstanceError::OutOfRange {
                    side,
                    owner: owner as u32,
                    position: position as u32,
                    value,
                });
            };
            if *seen == owner as u32 {
                let first = list.iter().position(|&v| v == value).unwrap_or(0);
                return Err(InstanceError::Duplicate {
                    side,
                    owner: owner as u32,
                    position: position as u32,
                    first: first as u32,
                    value,
                });
            }
            *seen = owner as u32;
        }
    }
    Ok(())
}

/// Collects lists one participant at a time; indices are given in the order of the
/// `add_*` calls. Validation happens in [`InstanceBuilder::build`].
#[derive(Clone, Debug)]
pub struct InstanceBuilder {
    talent_start: Vec<u32>,
    talent_prefs: Vec<u32>,
    project_start: Vec<u32>,
    project_prefs: Vec<u32>,
    capacity: Vec<u32>,
    too_large: Option<Side>,
}

impl Default for InstanceBuilder {
    fn default() -> Self {
        Self {
            talent_start: vec![0],
            talent_prefs: Vec::new(),
            project_start: vec![0],
            project_prefs: Vec::new(),
            capacity: Vec::new(),
            too_large: None,
        }
    }
}

impl InstanceBuilder {
    /// Adds a talent with its ranked projects and returns its index.
    pub fn talent(&mut self, prefs: &[u32]) -> u32 {
        self.talent_prefs.extend_from_slice(prefs);
        let end = u32::try_from(self.talent_prefs.len()).unwrap_or(u32::MAX);
        if end as usize > MAX_ENTRIES {
            self.too_large = Some(Side::Talent);
        }
        self.talent_start.push(end);
        (self.talent_start.len() - 2) as u32
    }

    /// Adds a project with its capacity and ranked talents and returns its index.
    pub fn project(&mut self, capacity: u32, prefs: &[u32]) -> u32 {
        self.project_prefs.extend_from_slice(prefs);
        let end = u32::try_from(self.project_prefs.len()).unwrap_or(u32::MAX);
        if end as usize > MAX_ENTRIES {
            self.too_large = Some(Side::Project);
        }
        self.project_start.push(end);
        self.capacity.push(capacity);
        (self.project_start.len() - 2) as u32
    }

    /// Validates and returns the instance.
    pub fn build(self) -> Result<Instance, InstanceError> {
        if let Some(side) = self.too_large {
            return Err(InstanceError::TooLarge(side));
        }
        Instance::from_csr(
            self.talent_start,
            self.talent_prefs,
            self.project_start,
            self.project_prefs,
            self.capacity,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_round_trips_lists() {
        let mut b = Instance::builder();
        assert_eq!(b.talent(&[1, 0]), 0);
        assert_eq!(b.talent(&[]), 1);
        assert_eq!(b.project(2, &[0]), 0);
        assert_eq!(b.project(0, &[1, 0]), 1);
        let inst = b.build().unwrap();
        assert_eq!(inst.num_talents(), 2);
        assert_eq!(inst.num_projects(), 2);
        assert_eq!(inst.talent_prefs(0), &[1, 0]);
        assert!(inst.talent_prefs(1).is_empty());
        assert_eq!(inst.project_prefs(1), &[1, 0]);
        assert_eq!(inst.capacities(), &[2, 0]);
        assert_eq!(inst.num_entries(), (2, 3));
    }

    #[test]
    fn rejects_out_of_range_and_duplicates() {
        let mut b = Instance::builder();
        b.talent(&[0, 3]);
        b.project(1, &[0]);
        assert_eq!(
            b.build(),
            Err(InstanceError::OutOfRange {
                side: Side::Talent,
                owner: 0,
                position: 1,
                value: 3
            })
        );

        let mut b = Instance::builder();
        b.talent(&[0]);
        b.talent(&[0]);
        b.project(1, &[1, 0, 1]);
        assert_eq!(
            b.build(),
            Err(InstanceError::Duplicate {
                side: Side::Project,
                owner: 0,
                position: 2,
                first: 0,
                value: 1
            })
        );
    }

    #[test]
    fn rejects_bad_offsets_and_capacity_count() {
        let bad = Instance::from_csr(vec![0, 2], vec![0], vec![0, 0], vec![], vec![1]);
        assert_eq!(bad, Err(InstanceError::BadOffsets(Side::Talent)));
        let bad = Instance::from_csr(vec![0], vec![], vec![0, 0], vec![], vec![]);
        assert_eq!(
            bad,
            Err(InstanceError::CapacityCount {
                expected: 1,
                got: 0
            })
        );
        let bad = Instance::from_csr(vec![], vec![], vec![0], vec![], vec![]);
        assert_eq!(bad, Err(InstanceError::BadOffsets(Side::Talent)));
    }

    /// Large enough that both sides are checked at once.
    fn large() -> Instance {
        let shape = crate::synth::Shape {
            talents: 30_000,
            projects: 2_000,
            prefs_per_talent: 10,
            capacity: 4,
        };
        let instance = crate::synth::generate(&shape, 11);
        assert!(instance.num_entries().0 >= crate::prepare::PARALLEL_MIN_ENTRIES);
        instance
    }

    #[test]
    fn both_sides_checked_at_once_report_like_one_thread() {
        let (ts, tp, ps, pp, cap) = large().into_csr();
        assert!(
            Instance::from_csr(ts.clone(), tp.clone(), ps.clone(), pp.clone(), cap.clone()).is_ok()
        );

        // A project repeats a talent: reported with its position.
        let mut bad_pp = pp.clone();
        let (start, end) = (ps[7] as usize, ps[8] as usize);
        assert!(end - start >= 2);
        bad_pp[end - 1] = bad_pp[start];
        let err = Instance::from_csr(
            ts.clone(),
            tp.clone(),
            ps.clone(),
            bad_pp.clone(),
            cap.clone(),
        );
        assert_eq!(
            err,
            Err(InstanceError::Duplicate {
                side: Side::Project,
                owner: 7,
                position: (end - start - 1) as u32,
                first: 0,
                value: pp[start],
            })
        );

        // Both sides wrong: the talent side's error wins, whichever thread ends first.
        let mut bad_tp = tp;
        bad_tp[ts[5] as usize] = 2_000;
        for _ in 0..5 {
            let err = Instance::from_csr(
                ts.clone(),
                bad_tp.clone(),
                ps.clone(),
                bad_pp.clone(),
                cap.clone(),
            );
            assert_eq!(
                err,
                Err(InstanceError::OutOfRange {
                    side: Side::Talent,
                    owner: 5,
                    position: 0,
                    value: 2_000,
                })
            );
        }
    }
}
