//! Projects (案件) of a tenant's hosts: the public list and page (open public
//! projects only; anything else is 404 to the public), and for staff and the host's
//! members the drafts, creating and editing, opening and closing, and the co-design
//! comment thread. A CSV export for staff, and projects in the JSON API.

pub mod api;
mod manage;
pub mod public;
mod search;

use axum::Router;
use axum::routing::{get, post};
use serde::Serialize;
use yui_domain::Locale;
use yui_domain::account::FieldError;
use yui_domain::project::{
    LOCATION_MAX, ProjectInput, ProjectKind, TEXT_MAX, TITLE_MAX, Visibility,
};
use yui_domain::talent::{Compensation, Skill};
use yui_store::Project;

use crate::AppState;
use crate::features::hosts::form::{Builder, Input, Kind};

pub(crate) const TEMPLATES: &[(&str, &str)] = &[
    ("projects.html", include_str!("templates/projects.html")),
    ("project.html", include_str!("templates/project.html")),
    (
        "project_form.html",
        include_str!("templates/project_form.html"),
    ),
    (
        "project_table.html",
        include_str!("templates/project_table.html"),
    ),
    (
        "projects_search.html",
        include_str!("templates/projects_search.html"),
    ),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/projects", get(search::page))
        .route("/t/{slug}/projects", get(public::list))
        .route("/t/{slug}/projects.csv", get(manage::csv))
        .route("/t/{slug}/projects/all", get(manage::all))
        .route(
            "/t/{slug}/projects/new",
            get(manage::new_page).post(manage::create),
        )
        .route("/t/{slug}/projects/{project}", get(public::detail))
        .route(
            "/t/{slug}/projects/{project}/edit",
            get(manage::edit_page).post(manage::edit),
        )
        .route("/t/{slug}/projects/{project}/status", post(manage::status))
        .route(
            "/t/{slug}/projects/{project}/comments",
            post(manage::comment),
        )
        .route(
            "/api/v1/tenants/{slug}/projects",
            get(api::public_list).post(api::create),
        )
        .route("/api/v1/tenants/{slug}/projects/all", get(api::staff_list))
}

fn text(state: &AppState, locale: Locale, key: &str) -> String {
    state.inner.catalogs.text(locale, key).to_owned()
}

/// A project's row in lists.
#[derive(Debug, Serialize)]
pub(crate) struct ProjectRow {
    pub id: i64,
    pub title: String,
    pub host: String,
    pub kind: String,
    pub status: String,
    pub visibility: String,
}

pub(crate) fn project_rows(
    state: &AppState,
    locale: Locale,
    projects: &[Project],
) -> Vec<ProjectRow> {
    projects
        .iter()
        .map(|p| ProjectRow {
            id: p.id.get(),
            title: p.title.clone(),
            host: p.host_name.clone(),
            kind: text(state, locale, &format!("hp_kind_{}", p.kind)),
            status: text(state, locale, &format!("hp_project_status_{}", p.status)),
            visibility: text(state, locale, &format!("hp_visibility_{}", p.visibility)),
        })
        .collect()
}

/// An amount of yen as people read it.
pub(crate) fn yen(locale: Locale, amount: i64) -> String {
    let digits = amount.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match locale {
        Locale::Ja => format!("{grouped}円"),
        Locale::En => format!("¥{grouped}"),
    }
}

/// The project's facts as (label, value) lines, in the person's language.
pub(crate) fn facts(state: &AppState, locale: Locale, p: &Project) -> Vec<(String, String)> {
    let mut out = vec![
        (text(state, locale, "hp_col_host"), p.host_name.clone()),
        (
            text(state, locale, "hp_field_kind"),
            text(state, locale, &format!("hp_kind_{}", p.kind)),
        ),
    ];
    if !p.skills.is_empty() {
        let names: Vec<&str> = p
            .skills
            .iter()
            .filter_map(|c| Skill::parse(c))
            .map(|s| s.name(locale))
            .collect();
        let sep = if locale == Locale::Ja { "、" } else { ", " };
        out.push((text(state, locale, "hp_field_skills"), names.join(sep)));
    }
    if let Some(h) = p.hours_per_month {
        out.push((
            text(state, locale, "hp_field_hours_per_month"),
            text(state, locale, "hp_hours_value").replace("{n}", &h.to_string()),
        ));
    }
    if let Some(m) = p.months {
        out.push((
            text(state, locale, "hp_field_months"),
            text(state, locale, "hp_months_value").replace("{n}", &m.to_string()),
        ));
    }
    out.push((
        text(state, locale, "hp_field_remote_ratio"),
        format!("{}%", p.remote_ratio),
    ));
    let mut pay = text(state, locale, &format!("hp_comp_{}", p.compensation));
    match (p.amount_min, p.amount_max) {
        (Some(lo), Some(hi)) => pay = format!("{pay} {}–{}", yen(locale, lo), yen(locale, hi)),
        (Some(lo), None) => pay = format!("{pay} {}–", yen(locale, lo)),
        (None, Some(hi)) => pay = format!("{pay} –{}", yen(locale, hi)),
        (None, None) => {}
    }
    out.push((text(state, locale, "hp_field_compensation"), pay));
    if !p.location.is_empty() {
        out.push((text(state, locale, "hp_field_location"), p.location.clone()));
    }
    out
}

/// The project form as stored, to edit.
fn input_of(p: &Project) -> ProjectInput {
    let n = |v: Option<i32>| v.map(|v| v.to_string()).unwrap_or_default();
    let a = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    ProjectInput {
        title: p.title.clone(),
        challenge: p.challenge.clone(),
        help_wanted: p.help_wanted.clone(),
        kind: p.kind.clone(),
        skills: p.skills.clone(),
        hours_per_month: n(p.hours_per_month),
        months: n(p.months),
        remote_ratio: p.remote_ratio.to_string(),
        compensation: p.compensation.clone(),
        amount_min: a(p.amount_min),
        amount_max: a(p.amount_max),
        location: p.location.clone(),
        visibility: p.visibility.clone(),
    }
}

/// The project form's inputs, filled with `input` and its errors.
fn project_inputs(
    state: &AppState,
    locale: Locale,
    input: &ProjectInput,
    errors: &[FieldError],
) -> Vec<Input> {
    let b = Builder {
        state,
        locale,
        errors,
    };
    let options = |prefix: &str, codes: Vec<&'static str>| -> Vec<(String, String)> {
        codes
            .into_iter()
            .map(|c| (c.to_owned(), text(state, locale, &format!("{prefix}{c}"))))
            .collect()
    };
    let one = |v: &str| vec![v.to_owned()];
    vec![
        b.input("title", Kind::Text, &input.title, TITLE_MAX, true),
        b.input(
            "challenge",
            Kind::Textarea,
            &input.challenge,
            TEXT_MAX,
            true,
        ),
        b.input(
            "help_wanted",
            Kind::Textarea,
            &input.help_wanted,
            TEXT_MAX,
            true,
        ),
        b.choices(
            "kind",
            Kind::Select,
            options(
                "hp_kind_",
                ProjectKind::ALL.iter().map(|k| k.code()).collect(),
            ),
            &one(&input.kind),
            true,
        ),
        b.choices(
            "skills",
            Kind::Checkboxes,
            Skill::ALL
                .iter()
                .map(|s| (s.code().to_owned(), s.name(locale).to_owned()))
                .collect(),
            &input.skills,
            false,
        ),
        b.hint(
            b.input(
                "hours_per_month",
                Kind::Number,
                &input.hours_per_month,
                10,
                false,
            ),
            "hp_hours_hint",
        ),
        b.hint(
            b.input("months", Kind::Number, &input.months, 10, false),
            "hp_months_hint",
        ),
        b.hint(
            b.input("remote_ratio", Kind::Number, &input.remote_ratio, 10, true),
            "hp_remote_ratio_hint",
        ),
        b.choices(
            "compensation",
            Kind::Select,
            options(
                "hp_comp_",
                Compensation::ALL.iter().map(|c| c.code()).collect(),
            ),
            &one(&input.compensation),
            true,
        ),
        b.hint(
            b.input("amount_min", Kind::Number, &input.amount_min, 20, false),
            "hp_amount_hint",
        ),
        b.input("amount_max", Kind::Number, &input.amount_max, 20, false),
        b.input("location", Kind::Text, &input.location, LOCATION_MAX, false),
        b.choices(
            "visibility",
            Kind::Select,
            options(
                "hp_visibility_",
                Visibility::ALL.iter().map(|v| v.code()).collect(),
            ),
            &one(&input.visibility),
            true,
        ),
    ]
}
