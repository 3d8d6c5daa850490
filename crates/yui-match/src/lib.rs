//! Yui's matching engine: stable matching of talents to projects for a matching round.
//!
//! A round is the hospitals/residents problem: talents rank projects, projects rank
//! talents and have a capacity, and a pair is acceptable only when each side lists the
//! other. [`solve`] runs talent-proposing deferred acceptance and returns the
//! talent-optimal stable matching; [`check()`] lists every blocking pair and every
//! capacity or acceptability violation of a matching edited by hand. [`cli`] is the JSON
//! contract of `yui match solve` / `yui match check`. The crate does no I/O.
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod check;
pub mod cli;
mod instance;
mod prepare;
mod solve;
pub mod synth;

pub use check::{BlockingPair, Report, Violation, check};
pub use instance::{Instance, InstanceBuilder, InstanceError, MAX_ENTRIES, MAX_PARTICIPANTS, Side};
pub use prepare::Prepared;
pub use solve::{Assignment, Details, Matching, solve};
