//! Programs and events: a tenant's program per fiscal year, its seminars, lectures,
//! field-work tours and matching events, registration that never oversells, the
//! waitlist, reminders, calendars and check-in.

pub(crate) mod flow;
pub mod reminders;

use axum::Router;

use crate::AppState;

pub(crate) const TEMPLATES: &[(&str, &str)] = &[];

pub fn router() -> Router<AppState> {
    Router::new()
}
