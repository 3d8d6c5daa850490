//! Placeholder, filled in by the rounds pages work.

use axum::Router;

use crate::AppState;

pub(crate) const TEMPLATES: &[(&str, &str)] = &[];

pub(crate) fn router() -> Router<AppState> {
    Router::new()
}
