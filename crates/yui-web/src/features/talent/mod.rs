//! Talent (複業人材): the profile kept once across regions, joining a region with
//! consent (and leaving it), the shared pool, the talent's own data download and
//! account deletion, and the region staff's view of the members whose consent is live.

pub mod api;
mod data;
mod join;
mod me;
mod profile;
mod staff_view;

use axum::Router;
use axum::routing::{get, post};
use serde::Serialize;
use yui_domain::Locale;
use yui_domain::talent::TalentProfile;

use crate::AppState;

pub(crate) const TEMPLATES: &[(&str, &str)] = &[
    ("talent_me.html", include_str!("templates/talent_me.html")),
    (
        "talent_profile.html",
        include_str!("templates/talent_profile.html"),
    ),
    (
        "talent_join.html",
        include_str!("templates/talent_join.html"),
    ),
    (
        "talent_region.html",
        include_str!("templates/talent_region.html"),
    ),
    (
        "talent_delete.html",
        include_str!("templates/talent_delete.html"),
    ),
    (
        "talent_members.html",
        include_str!("templates/talent_members.html"),
    ),
    (
        "talent_member.html",
        include_str!("templates/talent_member.html"),
    ),
    (
        "talent_profile_facts.html",
        include_str!("templates/talent_profile_facts.html"),
    ),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me", get(me::dashboard))
        .route("/me/profile", get(profile::page).post(profile::save))
        .route("/me/pool", post(profile::pool))
        .route("/me/data.json", get(data::download))
        .route("/me/delete", get(data::delete_page).post(data::delete))
        .route("/t/{slug}/join", get(join::page).post(join::submit))
        .route("/t/{slug}/me", get(me::region))
        .route("/t/{slug}/me/hosts", post(me::hosts))
        .route("/t/{slug}/me/leave", post(me::leave))
        .route("/t/{slug}/talents", get(staff_view::list))
        .route("/t/{slug}/talents/{account}", get(staff_view::detail))
        .route("/api/v1/tenants/{slug}/talents", get(api::talents))
}

/// A profile as pages show it: every code as words in the reader's language.
#[derive(Debug, Serialize)]
pub(crate) struct ProfileFacts {
    display_name: String,
    kana: String,
    residence: Option<&'static str>,
    skills: Vec<&'static str>,
    tags: Vec<String>,
    summary: String,
    hours_per_month: Option<u16>,
    work_style: String,
    compensation: String,
    public_servant: bool,
    side_job_permission: Option<String>,
    ties: Vec<String>,
    industries: Vec<&'static str>,
    project_kinds: Vec<&'static str>,
}

pub(crate) fn profile_facts(state: &AppState, locale: Locale, p: &TalentProfile) -> ProfileFacts {
    let c = &state.inner.catalogs;
    ProfileFacts {
        display_name: p.display_name.clone(),
        kana: p.kana.clone(),
        residence: p.residence.map(|r| r.name(locale)),
        skills: p.skills.iter().map(|s| s.name(locale)).collect(),
        tags: p.tags.clone(),
        summary: p.summary.clone(),
        hours_per_month: p.hours_per_month,
        work_style: c
            .text(locale, &format!("work_style_{}", p.work_style.code()))
            .to_owned(),
        compensation: c
            .text(locale, &format!("compensation_{}", p.compensation.code()))
            .to_owned(),
        public_servant: p.side_job_permission.is_some(),
        side_job_permission: p
            .side_job_permission
            .map(|s| c.text(locale, &format!("side_job_{}", s.code())).to_owned()),
        ties: p
            .ties
            .iter()
            .map(|t| {
                let (open, close) = match locale {
                    Locale::Ja => ("（", "）"),
                    Locale::En => (" (", ")"),
                };
                format!(
                    "{}{open}{}{close}",
                    t.prefecture.name(locale),
                    c.text(locale, &format!("tie_{}", t.kind.code()))
                )
            })
            .collect(),
        industries: p.industries.iter().map(|i| i.name(locale)).collect(),
        project_kinds: p.project_kinds.iter().map(|k| k.name(locale)).collect(),
    }
}
