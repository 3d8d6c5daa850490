//! Programs and events: a tenant's program per fiscal year, its seminars, lectures,
//! field-work tours and matching events, registration that never oversells, the
//! waitlist, reminders, calendars and check-in.

mod across;
pub mod api;
mod calendar;
pub(crate) mod flow;
mod public;
mod qr;
mod register;
pub mod reminders;

use axum::Router;

use crate::AppState;

pub(crate) use public::my_event_rows;

pub(crate) const TEMPLATES: &[(&str, &str)] = &[
    ("evp_events.html", include_str!("templates/evp_events.html")),
    ("evp_event.html", include_str!("templates/evp_event.html")),
    ("evp_across.html", include_str!("templates/evp_across.html")),
    ("evp_card.html", include_str!("templates/evp_card.html")),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(public::router())
        .merge(register::router())
        .merge(across::router())
        .merge(api::router())
}
