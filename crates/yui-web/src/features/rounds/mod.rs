//! Matching rounds. So far the JSON API: a round's public facts and, for staff, its
//! result in the shape of `yui match solve`. The pages (entry, ranking, review,
//! publication, the second phase) build on the same store and domain rules.

use axum::Router;

use crate::AppState;

pub mod api;

pub(crate) const TEMPLATES: &[(&str, &str)] = &[];

pub(crate) fn router() -> Router<AppState> {
    api::router()
}
