//! Programs and events: a tenant's program per fiscal year, its seminars, lectures,
//! field-work tours and matching events, registration that never oversells, the
//! waitlist, reminders, calendars and check-in.

mod across;
pub mod api;
mod calendar;
mod checkin;
pub(crate) mod flow;
pub(crate) mod form;
mod manage;
mod programs;
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
    ("evs_field.html", include_str!("templates/evs_field.html")),
    (
        "evs_programs.html",
        include_str!("templates/evs_programs.html"),
    ),
    (
        "evs_program.html",
        include_str!("templates/evs_program.html"),
    ),
    (
        "evs_event_form.html",
        include_str!("templates/evs_event_form.html"),
    ),
    (
        "evs_registrants.html",
        include_str!("templates/evs_registrants.html"),
    ),
    (
        "evs_checkin.html",
        include_str!("templates/evs_checkin.html"),
    ),
    (
        "evs_checkin_typed.html",
        include_str!("templates/evs_checkin_typed.html"),
    ),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(public::router())
        .merge(register::router())
        .merge(across::router())
        .merge(api::router())
        .merge(programs::router())
        .merge(manage::router())
        .merge(checkin::router())
}
