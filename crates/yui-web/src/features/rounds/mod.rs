//! Matching rounds (マッチング): the coordinator's pages that set a round up, open
//! and close it, solve, review, adjust and publish it and run its second phase
//! (`manage`); the talent's and the host's pages that enter, rank, answer and take
//! part in the second phase (`participate`); and the JSON API (`api`).

use axum::Router;

use crate::AppState;

pub mod api;
pub(crate) mod manage;
pub(crate) mod participate;

pub(crate) const TEMPLATES: &[(&str, &str)] = &[];

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .merge(api::router())
        .merge(manage::router())
        .merge(participate::router())
}
