//! The engine on a round whose people and projects are named by keys (the app's
//! account and project ids) rather than by indices: [`KeyedRound::solve`] and
//! [`KeyedRound::check`] number them, run the engine, and name them again.
//!
//! A list entry naming a key the other side does not have is left out of the
//! round, as the engine leaves out any pair one side does not list: a project that
//! left, or a talent who withdrew after someone ranked them.

use std::collections::HashMap;
use std::hash::Hash;

use crate::check::{Violation, check};
use crate::instance::{Instance, InstanceError};
use crate::solve::solve;

/// A round with keyed talents `T` and projects `P`.
#[derive(Debug, Clone)]
pub struct KeyedRound<T, P> {
    talents: Vec<T>,
    projects: Vec<P>,
    instance: Instance,
    talent_index: HashMap<T, u32>,
    project_index: HashMap<P, u32>,
}

/// A pair of a keyed result, with the talent's rank of the project (1 = first
/// choice; None for a pair off the talent's list, as a coordinator may make).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyedPair<T, P> {
    pub talent: T,
    pub project: P,
    pub talent_rank: Option<u32>,
}

/// What [`KeyedRound::check`] found, by key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyedReport<T, P> {
    /// Pairs one side does not list (the talent's and the project's listing).
    pub unacceptable: Vec<(T, P, bool, bool)>,
    /// Talents in more than one pair.
    pub assigned_twice: Vec<T>,
    /// Projects given more talents than seats: (project, seats, assigned).
    pub over_capacity: Vec<(P, u32, u32)>,
    /// Pairs that would both rather be together: (talent, project, the talent's rank
    /// of the project, the project's rank of the talent).
    pub blocking_pairs: Vec<(T, P, u32, u32)>,
    /// Pairs naming a talent or project not in the round.
    pub unknown: Vec<(T, P)>,
}

impl<T, P> KeyedReport<T, P> {
    /// A stable matching that breaks no rule.
    pub fn is_ok(&self) -> bool {
        self.unacceptable.is_empty()
            && self.assigned_twice.is_empty()
            && self.over_capacity.is_empty()
            && self.blocking_pairs.is_empty()
            && self.unknown.is_empty()
    }
}

impl<T, P> KeyedRound<T, P>
where
    T: Copy + Eq + Hash,
    P: Copy + Eq + Hash,
{
    /// The round from each talent's list and each project's seats and list, most
    /// preferred first. A key listed twice in one list counts once, where first listed.
    pub fn new(
        talents: &[(T, Vec<P>)],
        projects: &[(P, u32, Vec<T>)],
    ) -> Result<KeyedRound<T, P>, InstanceError> {
        let talent_index: HashMap<T, u32> = talents
            .iter()
            .enumerate()
            .map(|(i, (t, _))| (*t, i as u32))
            .collect();
        let project_index: HashMap<P, u32> = projects
            .iter()
            .enumerate()
            .map(|(i, (p, _, _))| (*p, i as u32))
            .collect();
        let mut builder = Instance::builder();
        let mut list: Vec<u32> = Vec::new();
        for (_, prefs) in talents {
            list.clear();
            for i in prefs.iter().filter_map(|p| project_index.get(p)) {
                if !list.contains(i) {
                    list.push(*i);
                }
            }
            builder.talent(&list);
        }
        for (_, seats, prefs) in projects {
            list.clear();
            for i in prefs.iter().filter_map(|t| talent_index.get(t)) {
                if !list.contains(i) {
                    list.push(*i);
                }
            }
            builder.project(*seats, &list);
        }
        Ok(KeyedRound {
            talents: talents.iter().map(|(t, _)| *t).collect(),
            projects: projects.iter().map(|(p, _, _)| *p).collect(),
            instance: builder.build()?,
            talent_index,
            project_index,
        })
    }

    /// The talent-optimal stable matching, by talent in input order.
    pub fn solve(&self) -> Vec<KeyedPair<T, P>> {
        let matching = solve(&self.instance);
        matching
            .as_slice()
            .iter()
            .enumerate()
            .filter_map(|(t, a)| {
                a.map(|a| KeyedPair {
                    talent: self.talents[t],
                    project: self.projects[a.project as usize],
                    talent_rank: Some(a.rank.get()),
                })
            })
            .collect()
    }

    /// The talent's rank of the project in this round (1 = first choice).
    pub fn talent_rank(&self, talent: T, project: P) -> Option<u32> {
        let t = *self.talent_index.get(&talent)?;
        let p = *self.project_index.get(&project)?;
        self.instance
            .talent_prefs(t)
            .iter()
            .position(|x| *x == p)
            .map(|i| i as u32 + 1)
    }

    /// Checks pairs made or changed by hand: what rule they break and which pairs
    /// would rather be together (what a manual change costs).
    pub fn check(&self, pairs: &[(T, P)]) -> Result<KeyedReport<T, P>, InstanceError> {
        let mut unknown = Vec::new();
        let mut indexed = Vec::with_capacity(pairs.len());
        for &(t, p) in pairs {
            match (self.talent_index.get(&t), self.project_index.get(&p)) {
                (Some(ti), Some(pi)) => indexed.push((*ti, *pi)),
                _ => unknown.push((t, p)),
            }
        }
        let report = check(&self.instance, &indexed)?;
        let mut out = KeyedReport {
            unacceptable: Vec::new(),
            assigned_twice: Vec::new(),
            over_capacity: Vec::new(),
            blocking_pairs: report
                .blocking_pairs
                .iter()
                .map(|b| {
                    (
                        self.talents[b.talent as usize],
                        self.projects[b.project as usize],
                        b.talent_rank,
                        b.project_rank,
                    )
                })
                .collect(),
            unknown,
        };
        for v in report.violations {
            match v {
                Violation::Unacceptable {
                    talent,
                    project,
                    listed_by_talent,
                    listed_by_project,
                } => out.unacceptable.push((
                    self.talents[talent as usize],
                    self.projects[project as usize],
                    listed_by_talent,
                    listed_by_project,
                )),
                Violation::MultipleAssignments { talent, .. } => {
                    out.assigned_twice.push(self.talents[talent as usize]);
                }
                Violation::OverCapacity {
                    project,
                    capacity,
                    assigned,
                } => out
                    .over_capacity
                    .push((self.projects[project as usize], capacity, assigned)),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three projects (10, 20, 30) and four talents (1–4), keyed as the app keys them.
    fn round() -> KeyedRound<i64, i64> {
        KeyedRound::new(
            &[
                (1, vec![10, 20]),
                (2, vec![10, 30]),
                (3, vec![10, 10, 99]),
                (4, vec![]),
            ],
            &[
                (10, 1, vec![2, 1, 3]),
                (20, 1, vec![1]),
                (30, 2, vec![2, 7]),
            ],
        )
        .unwrap()
    }

    #[test]
    fn keys_in_and_out() {
        let pairs = round().solve();
        assert_eq!(
            pairs,
            [
                KeyedPair {
                    talent: 1,
                    project: 20,
                    talent_rank: Some(2)
                },
                KeyedPair {
                    talent: 2,
                    project: 10,
                    talent_rank: Some(1)
                },
            ]
        );
        let r = round();
        assert!(r.check(&[(1, 20), (2, 10)]).unwrap().is_ok());
        assert_eq!(r.talent_rank(3, 10), Some(1));
        assert_eq!(r.talent_rank(3, 99), None, "a project not in the round");
    }

    #[test]
    fn a_manual_change_shows_what_it_costs() {
        let r = round();
        // The coordinator gives project 10 to talent 1 instead of 2: 2 and 10 would
        // both rather be together.
        let report = r.check(&[(1, 10), (2, 30)]).unwrap();
        assert_eq!(report.blocking_pairs, [(2, 10, 1, 1)]);
        assert!(report.unacceptable.is_empty());
        // Talent 4 listed nothing; talent 9 is not in the round.
        let report = r.check(&[(4, 30), (4, 20), (9, 10)]).unwrap();
        assert_eq!(
            report.unacceptable,
            [(4, 30, false, false), (4, 20, false, false)]
        );
        assert_eq!(report.assigned_twice, [4]);
        assert_eq!(report.unknown, [(9, 10)]);
        assert!(!report.is_ok());
        let report = r.check(&[(1, 10), (2, 10)]).unwrap();
        assert_eq!(report.over_capacity, [(10, 1, 2)]);
    }
}
