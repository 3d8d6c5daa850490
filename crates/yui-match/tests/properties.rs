//! Property tests of the engine against naive definitions and brute force.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeSet, HashMap};

use proptest::prelude::*;
use yui_match::{BlockingPair, Instance, Prepared, Violation, check, cli, solve};

/// A round as plain lists: `talents[t]` ranks projects, `projects[p] = (capacity, list)`.
#[derive(Clone, Debug)]
struct Spec {
    talents: Vec<Vec<u32>>,
    projects: Vec<(u32, Vec<u32>)>,
}

impl Spec {
    fn instance(&self) -> Instance {
        let mut b = Instance::builder();
        for prefs in &self.talents {
            b.talent(prefs);
        }
        for (cap, prefs) in &self.projects {
            b.project(*cap, prefs);
        }
        b.build().unwrap()
    }

    fn talent_rank(&self, t: u32, p: u32) -> Option<usize> {
        self.talents[t as usize].iter().position(|&x| x == p)
    }

    fn project_rank(&self, p: u32, t: u32) -> Option<usize> {
        self.projects[p as usize].1.iter().position(|&x| x == t)
    }

    fn acceptable(&self, t: u32, p: u32) -> bool {
        self.talent_rank(t, p).is_some() && self.project_rank(p, t).is_some()
    }

    /// Blocking pairs of a valid matching (`of[t]` = project), straight from the definition.
    fn blocking_pairs(&self, of: &[Option<u32>]) -> BTreeSet<(u32, u32)> {
        let mut out = BTreeSet::new();
        for t in 0..self.talents.len() as u32 {
            for p in 0..self.projects.len() as u32 {
                if !self.acceptable(t, p) || of[t as usize] == Some(p) {
                    continue;
                }
                let talent_wants = match of[t as usize] {
                    None => true,
                    Some(q) => self.talent_rank(t, p) < self.talent_rank(t, q).or(Some(usize::MAX)),
                };
                let held: Vec<u32> = (0..of.len() as u32)
                    .filter(|&u| of[u as usize] == Some(p))
                    .collect();
                let project_wants = (held.len() as u32) < self.projects[p as usize].0
                    || held.iter().any(|&u| {
                        self.project_rank(p, t).unwrap()
                            < self.project_rank(p, u).unwrap_or(usize::MAX)
                    });
                if talent_wants && project_wants {
                    out.insert((t, p));
                }
            }
        }
        out
    }

    /// Every stable matching, by enumerating all assignments of talents to acceptable
    /// projects within capacity.
    fn stable_matchings(&self) -> Vec<Vec<Option<u32>>> {
        fn go(
            spec: &Spec,
            t: usize,
            of: &mut Vec<Option<u32>>,
            load: &mut [u32],
            out: &mut Vec<Vec<Option<u32>>>,
        ) {
            if t == spec.talents.len() {
                if spec.blocking_pairs(of).is_empty() {
                    out.push(of.clone());
                }
                return;
            }
            of.push(None);
            go(spec, t + 1, of, load, out);
            of.pop();
            for &p in &spec.talents[t] {
                if spec.acceptable(t as u32, p) && load[p as usize] < spec.projects[p as usize].0 {
                    load[p as usize] += 1;
                    of.push(Some(p));
                    go(spec, t + 1, of, load, out);
                    of.pop();
                    load[p as usize] -= 1;
                }
            }
        }
        let mut out = Vec::new();
        let mut load = vec![0; self.projects.len()];
        go(self, 0, &mut Vec::new(), &mut load, &mut out);
        out
    }

    fn json(&self, talent_order: &[usize], project_order: &[usize]) -> String {
        let ids = |prefix: char, list: &[u32]| -> Vec<String> {
            list.iter().map(|i| format!("{prefix}{i}")).collect()
        };
        let talents: Vec<_> = talent_order
            .iter()
            .map(|&t| serde_json::json!({"id": format!("t{t}"), "prefs": ids('p', &self.talents[t])}))
            .collect();
        let projects: Vec<_> = project_order
            .iter()
            .map(|&p| {
                let (cap, list) = &self.projects[p];
                serde_json::json!({"id": format!("p{p}"), "capacity": cap, "prefs": ids('t', list)})
            })
            .collect();
        serde_json::json!({"talents": talents, "projects": projects}).to_string()
    }
}

/// Lists drawn as "each candidate listed with probability `density`, in random order";
/// ids may be listed by one side only, so unacceptable pairs are common.
fn spec(
    max_talents: usize,
    max_projects: usize,
    max_cap: u32,
    density: f64,
) -> impl Strategy<Value = Spec> {
    (0..=max_talents, 1..=max_projects).prop_flat_map(move |(nt, np)| {
        let list = move |n: usize| {
            proptest::collection::vec(proptest::option::weighted(density, any::<u16>()), n)
                .prop_map(|keys| {
                    let mut listed: Vec<(u16, u32)> = keys
                        .iter()
                        .enumerate()
                        .filter_map(|(i, k)| k.map(|k| (k, i as u32)))
                        .collect();
                    listed.sort_unstable();
                    listed.into_iter().map(|(_, i)| i).collect::<Vec<u32>>()
                })
        };
        (
            proptest::collection::vec(list(np), nt),
            proptest::collection::vec((0..=max_cap, list(nt)), np),
        )
            .prop_map(|(talents, projects)| Spec { talents, projects })
    })
}

fn as_vec(m: &yui_match::Matching) -> Vec<Option<u32>> {
    m.as_slice().iter().map(|a| a.map(|a| a.project)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, ..ProptestConfig::default() })]

    /// The result is a valid matching (capacities, acceptability) with no blocking pair,
    /// and ranks are the talents' own positions of their projects.
    #[test]
    fn solution_is_stable_and_valid(spec in spec(14, 8, 3, 0.6)) {
        let inst = spec.instance();
        let m = solve(&inst);
        let of = as_vec(&m);
        let mut load = vec![0u32; spec.projects.len()];
        for (t, a) in m.as_slice().iter().enumerate() {
            if let Some(a) = a {
                prop_assert!(spec.acceptable(t as u32, a.project));
                prop_assert_eq!(spec.talent_rank(t as u32, a.project), Some(a.rank.get() as usize - 1));
                load[a.project as usize] += 1;
            }
        }
        for (p, (cap, _)) in spec.projects.iter().enumerate() {
            prop_assert!(load[p] <= *cap);
        }
        prop_assert!(spec.blocking_pairs(&of).is_empty());
        let pairs: Vec<_> = m.pairs().collect();
        prop_assert!(check(&inst, &pairs).unwrap().is_ok());
        prop_assert_eq!(solve(&inst), m, "deterministic");
    }

    /// On small rounds, the result is the talent-optimal one among all stable matchings.
    #[test]
    fn equals_talent_optimal_by_brute_force(spec in spec(6, 4, 2, 0.7)) {
        let ours = as_vec(&solve(&spec.instance()));
        let stable = spec.stable_matchings();
        prop_assert!(stable.contains(&ours));
        for other in &stable {
            for t in 0..spec.talents.len() {
                let rank = |m: &[Option<u32>]| m[t].and_then(|p| spec.talent_rank(t as u32, p)).unwrap_or(usize::MAX);
                prop_assert!(rank(&ours) <= rank(other), "talent {} does better in {:?} than in {:?}", t, other, ours);
            }
        }
    }

    /// Relabelling talents and projects (the order they are given in) changes nothing.
    #[test]
    fn order_of_participants_does_not_matter(
        (spec, talent_order, project_order) in spec(12, 6, 3, 0.6).prop_flat_map(|s| {
            let nt: Vec<usize> = (0..s.talents.len()).collect();
            let np: Vec<usize> = (0..s.projects.len()).collect();
            (Just(s), Just(nt).prop_shuffle(), Just(np).prop_shuffle())
        })
    ) {
        let base = as_vec(&solve(&spec.instance()));
        // new index of old talent t / project p
        let mut t_new = vec![0u32; talent_order.len()];
        for (new, &old) in talent_order.iter().enumerate() { t_new[old] = new as u32; }
        let mut p_new = vec![0u32; project_order.len()];
        for (new, &old) in project_order.iter().enumerate() { p_new[old] = new as u32; }
        let shuffled = Spec {
            talents: talent_order.iter().map(|&t| spec.talents[t].iter().map(|&p| p_new[p as usize]).collect()).collect(),
            projects: project_order.iter().map(|&p| {
                let (cap, list) = &spec.projects[p];
                (*cap, list.iter().map(|&t| t_new[t as usize]).collect())
            }).collect(),
        };
        let got = as_vec(&solve(&shuffled.instance()));
        for t in 0..base.len() {
            prop_assert_eq!(got[t_new[t] as usize], base[t].map(|p| p_new[p as usize]));
        }
        // The JSON contract: identical output text.
        let identity_t: Vec<usize> = (0..spec.talents.len()).collect();
        let identity_p: Vec<usize> = (0..spec.projects.len()).collect();
        prop_assert_eq!(
            cli::solve_json(&spec.json(&identity_t, &identity_p)).unwrap(),
            cli::solve_json(&spec.json(&talent_order, &project_order)).unwrap()
        );
    }

    /// `check` agrees with the definitions on arbitrary hand-edited assignment lists.
    #[test]
    fn check_matches_definitions(
        (spec, raw) in spec(10, 5, 2, 0.6).prop_flat_map(|s| {
            let nt = s.talents.len().max(1) as u32;
            let np = s.projects.len() as u32;
            (Just(s), proptest::collection::vec((0..nt, 0..np), 0..8))
        })
    ) {
        let inst = spec.instance();
        let assignments: Vec<(u32, u32)> =
            raw.into_iter().filter(|&(t, _)| (t as usize) < spec.talents.len()).collect();
        let report = check(&inst, &assignments).unwrap();

        let mut want = Vec::new();
        for &(t, p) in &assignments {
            if !spec.acceptable(t, p) {
                want.push(Violation::Unacceptable {
                    talent: t, project: p,
                    listed_by_talent: spec.talent_rank(t, p).is_some(),
                    listed_by_project: spec.project_rank(p, t).is_some(),
                });
            }
        }
        let mut by_talent: HashMap<u32, Vec<u32>> = HashMap::new();
        for &(t, p) in &assignments { by_talent.entry(t).or_default().push(p); }
        let mut multiple: Vec<_> = by_talent.iter().filter(|(_, ps)| ps.len() > 1).collect();
        multiple.sort();
        for (&t, ps) in multiple {
            want.push(Violation::MultipleAssignments { talent: t, projects: ps.clone() });
        }
        for (p, (cap, _)) in spec.projects.iter().enumerate() {
            let n = assignments.iter().filter(|a| a.1 == p as u32).count() as u32;
            if n > *cap {
                want.push(Violation::OverCapacity { project: p as u32, capacity: *cap, assigned: n });
            }
        }
        prop_assert_eq!(&report.violations, &want);

        // With one assignment per talent and no violation, blocking pairs follow the
        // textbook definition exactly.
        if want.is_empty() {
            let mut of = vec![None; spec.talents.len()];
            for &(t, p) in &assignments { of[t as usize] = Some(p); }
            let got: BTreeSet<_> = report.blocking_pairs.iter().map(|b| (b.talent, b.project)).collect();
            prop_assert_eq!(got, spec.blocking_pairs(&of));
            for b in &report.blocking_pairs {
                let BlockingPair { talent, project, talent_rank, project_rank } = *b;
                prop_assert_eq!(spec.talent_rank(talent, project), Some(talent_rank as usize - 1));
                prop_assert_eq!(spec.project_rank(project, talent), Some(project_rank as usize - 1));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Talents with more than 32 choices take the index's general path; results must be
    /// just as stable.
    #[test]
    fn long_lists_take_the_general_path(spec in spec(40, 45, 4, 0.9)) {
        let inst = spec.instance();
        let m = Prepared::new(&inst).solve();
        prop_assert!(spec.blocking_pairs(&as_vec(&m)).is_empty());
    }
}

#[test]
fn synthetic_rounds_are_stable() {
    let shape = yui_match::synth::Shape {
        talents: 3_000,
        projects: 300,
        prefs_per_talent: 10,
        capacity: 8,
    };
    let inst = yui_match::synth::generate(&shape, 99);
    let m = Prepared::from_instance(inst.clone()).solve();
    assert_eq!(m, solve(&inst));
    let pairs: Vec<_> = m.pairs().collect();
    assert!(check(&inst, &pairs).unwrap().is_ok());
    let d = m.details(inst.capacities());
    assert_eq!(d.matched + d.unmatched.len(), 3_000);
    assert!(d.matched <= 2_400);
}
