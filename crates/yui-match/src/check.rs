//! Checking a matching edited by hand: violations and blocking pairs.

use crate::instance::{Instance, InstanceError, NONE, Side};
use crate::prepare::Prepared;

/// A rule of a matching that a proposed assignment list breaks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Violation {
    /// The pair is not acceptable: one side (or both) does not list the other.
    Unacceptable {
        talent: u32,
        project: u32,
        listed_by_talent: bool,
        listed_by_project: bool,
    },
    /// The talent appears in more than one assignment (projects in input order).
    MultipleAssignments { talent: u32, projects: Vec<u32> },
    /// More talents are assigned to the project than it has seats.
    OverCapacity {
        project: u32,
        capacity: u32,
        assigned: u32,
    },
}

/// An acceptable pair, not matched together, that would both rather be: the talent is
/// unmatched or prefers the project to its own, and the project has an open seat or
/// prefers the talent to the worst talent it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockingPair {
    pub talent: u32,
    pub project: u32,
    /// The project's place in the talent's list (1 = first choice).
    pub talent_rank: u32,
    /// The talent's place in the project's list (1 = first choice).
    pub project_rank: u32,
}

/// Everything wrong with a proposed matching; empty lists mean it is a stable matching.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Unacceptable pairs (input order), then talents assigned twice (by talent), then
    /// projects over capacity (by project).
    pub violations: Vec<Violation>,
    /// Blocking pairs by talent, then by the talent's preference.
    pub blocking_pairs: Vec<BlockingPair>,
}

impl Report {
    /// True when there are no violations and no blocking pairs.
    pub fn is_ok(&self) -> bool {
        self.violations.is_empty() && self.blocking_pairs.is_empty()
    }
}

/// Checks a proposed matching, given as `(talent, project)` pairs.
///
/// Where a talent is assigned more than once, blocking pairs are judged against the
/// assignment it likes best (a project it does not list counts below every listed
/// one); a project counts every talent assigned to it, and talents it does not list
/// count below every listed one. Work is linear in entries plus assignments.
pub fn check(instance: &Instance, assignments: &[(u32, u32)]) -> Result<Report, InstanceError> {
    let (num_talents, num_projects) = (instance.num_talents(), instance.num_projects());
    for (index, &(t, p)) in assignments.iter().enumerate() {
        if t as usize >= num_talents {
            return Err(InstanceError::AssignmentOutOfRange {
                index,
                side: Side::Talent,
                value: t,
            });
        }
        if p as usize >= num_projects {
            return Err(InstanceError::AssignmentOutOfRange {
                index,
                side: Side::Project,
                value: p,
            });
        }
    }

    // Position of each assigned project in its talent's list, and of each assigned
    // talent in its project's list (NONE when not listed), via one stamp per value.
    let (by_talent_start, by_talent) = group(num_talents, assignments.iter().map(|a| a.0));
    let mut talent_pos = vec![NONE; assignments.len()];
    let mut stamp = vec![NONE; num_projects];
    let mut at = vec![0u32; num_projects];
    for t in 0..num_talents as u32 {
        let group = &by_talent[by_talent_start[t as usize]..by_talent_start[t as usize + 1]];
        if group.is_empty() {
            continue;
        }
        for (i, &p) in instance.talent_prefs(t).iter().enumerate() {
            stamp[p as usize] = t;
            at[p as usize] = i as u32;
        }
        for &j in group {
            let p = assignments[j].1 as usize;
            if stamp[p] == t {
                talent_pos[j] = at[p];
            }
        }
    }
    let (by_project_start, by_project) = group(num_projects, assignments.iter().map(|a| a.1));
    let mut project_pos = vec![NONE; assignments.len()];
    let mut stamp = vec![NONE; num_talents];
    let mut at = vec![0u32; num_talents];
    for p in 0..num_projects as u32 {
        let group = &by_project[by_project_start[p as usize]..by_project_start[p as usize + 1]];
        if group.is_empty() {
            continue;
        }
        for (i, &t) in instance.project_prefs(p).iter().enumerate() {
            stamp[t as usize] = p;
            at[t as usize] = i as u32;
        }
        for &j in group {
            let t = assignments[j].0 as usize;
            if stamp[t] == p {
                project_pos[j] = at[t];
            }
        }
    }

    let mut report = Report::default();
    for (j, &(talent, project)) in assignments.iter().enumerate() {
        if talent_pos[j] == NONE || project_pos[j] == NONE {
            report.violations.push(Violation::Unacceptable {
                talent,
                project,
                listed_by_talent: talent_pos[j] != NONE,
                listed_by_project: project_pos[j] != NONE,
            });
        }
    }
    // The position each talent holds (NONE = unmatched or only unlisted projects).
    let mut held = vec![NONE; num_talents];
    for t in 0..num_talents {
        let group = &by_talent[by_talent_start[t]..by_talent_start[t + 1]];
        held[t] = group.iter().map(|&j| talent_pos[j]).min().unwrap_or(NONE);
        if group.len() > 1 {
            report.violations.push(Violation::MultipleAssignments {
                talent: t as u32,
                projects: group.iter().map(|&j| assignments[j].1).collect(),
            });
        }
    }
    // Each project's count and the rank of its worst assignee (NONE ranks below all).
    let mut worst: Vec<Option<u32>> = vec![None; num_projects];
    for p in 0..num_projects {
        let group = &by_project[by_project_start[p]..by_project_start[p + 1]];
        worst[p] = group.iter().map(|&j| project_pos[j]).max();
        let (capacity, assigned) = (instance.capacity[p], group.len() as u32);
        if assigned > capacity {
            report.violations.push(Violation::OverCapacity {
                project: p as u32,
                capacity,
                assigned,
            });
        }
    }

    let prepared = Prepared::new(instance);
    for t in 0..num_talents as u32 {
        let better = instance
            .talent_prefs(t)
            .len()
            .min(held[t as usize] as usize);
        for (i, (project, rank)) in prepared.talent_entries(t).take(better).enumerate() {
            let Some(rank) = rank else { continue };
            let p = project as usize;
            let assigned = (by_project_start[p + 1] - by_project_start[p]) as u32;
            let wants = assigned < instance.capacity[p] || worst[p].is_some_and(|w| rank < w);
            if wants {
                report.blocking_pairs.push(BlockingPair {
                    talent: t,
                    project,
                    talent_rank: i as u32 + 1,
                    project_rank: rank + 1,
                });
            }
        }
    }
    Ok(report)
}

/// Counting sort of assignment indices by a key in `0..n`: CSR offsets and indices
/// (input order within each key).
fn group(n: usize, keys: impl Iterator<Item = u32> + Clone) -> (Vec<usize>, Vec<usize>) {
    let mut start = vec![0usize; n + 1];
    for k in keys.clone() {
        start[k as usize + 1] += 1;
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut out = vec![0usize; start[n]];
    for (j, k) in keys.enumerate() {
        out[fill[k as usize]] = j;
        fill[k as usize] += 1;
    }
    (start, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solve;

    /// t0: p0 > p1, t1: p0, t2: p1 > p0; p0 (cap 1): t1 > t0 > t2; p1 (cap 1): t0 > t2.
    fn sample() -> Instance {
        let mut b = Instance::builder();
        b.talent(&[0, 1]);
        b.talent(&[0]);
        b.talent(&[1, 0]);
        b.project(1, &[1, 0, 2]);
        b.project(1, &[0, 2]);
        b.build().unwrap()
    }

    #[test]
    fn solved_matching_is_clean() {
        let inst = sample();
        let m = solve(&inst);
        let pairs: Vec<_> = m.pairs().collect();
        assert_eq!(pairs, vec![(0, 1), (1, 0)]);
        assert!(check(&inst, &pairs).unwrap().is_ok());
    }

    #[test]
    fn finds_blocking_pairs_and_violations() {
        let inst = sample();
        // t0 moved to p0 by hand, pushing out t1; t2 put on p1.
        let report = check(&inst, &[(0, 0), (2, 1)]).unwrap();
        assert!(report.violations.is_empty());
        assert_eq!(
            report.blocking_pairs,
            vec![BlockingPair {
                talent: 1,
                project: 0,
                talent_rank: 1,
                project_rank: 1
            }]
        );

        let report = check(&inst, &[(1, 1), (0, 0), (0, 1), (2, 1)]).unwrap();
        assert_eq!(
            report.violations,
            vec![
                Violation::Unacceptable {
                    talent: 1,
                    project: 1,
                    listed_by_talent: false,
                    listed_by_project: false
                },
                Violation::MultipleAssignments {
                    talent: 0,
                    projects: vec![0, 1]
                },
                Violation::OverCapacity {
                    project: 1,
                    capacity: 1,
                    assigned: 3
                },
            ]
        );
        // t1 (unmatched in effect: its only assignment is unlisted) blocks with p0,
        // which prefers t1 to t0.
        assert_eq!(report.blocking_pairs.len(), 1);
        assert_eq!(report.blocking_pairs[0].talent, 1);
        assert_eq!(report.blocking_pairs[0].project, 0);
    }

    #[test]
    fn out_of_range_is_an_error() {
        let inst = sample();
        assert_eq!(
            check(&inst, &[(0, 0), (9, 0)]),
            Err(InstanceError::AssignmentOutOfRange {
                index: 1,
                side: Side::Talent,
                value: 9
            })
        );
    }
}
