//! Yui's matching engine: stable matching of talents to projects for a matching round.
//!
//! A round is the hospitals/residents problem: talents rank projects, projects rank
//! talents and have a capacity, and a pair is acceptable only when each side lists the
//! other. [`solve`] runs talent-proposing deferred acceptance and returns the
//! talent-optimal stable matching; [`check()`] lists every blocking pair and every
//! capacity or acceptability violation of a matching edited by hand; [`Matching::details`]
//! gives each talent's rank, counts per rank, unmatched talents and open seats. [`cli`]
//! is the JSON contract of `yui match solve` / `yui match check`. The crate does no I/O.
//!
//! ```
//! use yui_match::{Instance, check, solve};
//!
//! let mut round = Instance::builder();
//! round.talent(&[1, 0]); // talent 0: project 1, then project 0
//! round.talent(&[1]); //    talent 1: project 1 only
//! round.project(1, &[0, 1]); // project 0: one seat, ranks talent 0 then 1
//! round.project(1, &[1, 0]); // project 1: one seat, ranks talent 1 then 0
//! let round = round.build()?;
//!
//! let matching = solve(&round);
//! let pairs: Vec<(u32, u32)> = matching.pairs().collect();
//! assert_eq!(pairs, [(0, 0), (1, 1)]);
//! assert_eq!(matching.get(0).map(|a| a.rank.get()), Some(2)); // second choice
//!
//! // A coordinator swaps the two by hand; talent 1 does not list project 0.
//! let report = check(&round, &[(0, 1), (1, 0)])?;
//! assert!(!report.is_ok());
//! # Ok::<(), yui_match::InstanceError>(())
//! ```
//!
//! Large rounds: build a [`Prepared`] index once ([`Prepared::from_instance`] reuses the
//! instance's memory) and call [`Prepared::solve`]. The engine works on flat `u32`
//! arrays, allocates nothing per proposal, and its work is linear in the number of
//! preference entries; the result does not depend on the order of talents or projects.
//! Rounds of 262,144 entries or more are validated, indexed and solved on every available
//! core (scoped std threads, at most eight); deferred acceptance reaches the same
//! matching in any order of proposals, so the result is the same as on one core.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod check;
pub mod cli;
mod ids;
mod instance;
pub mod keyed;
mod prepare;
pub mod recommend;
mod solve;
pub mod synth;

pub use check::{BlockingPair, Report, Violation, check};
pub use instance::{Instance, InstanceBuilder, InstanceError, MAX_ENTRIES, MAX_PARTICIPANTS, Side};
pub use keyed::{KeyedPair, KeyedReport, KeyedRound};
pub use prepare::Prepared;
pub use solve::{Assignment, Details, Matching, solve};
