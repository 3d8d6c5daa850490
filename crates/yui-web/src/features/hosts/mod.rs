//! Host organizations (受入企業・団体) of a tenant: staff list, register, approve
//! and edit them and invite their members by mail; a host member sees and edits
//! their own host (and gets 404 for any other). A CSV export for staff, and the
//! hosts in the JSON API.

mod access;
pub mod api;
pub(crate) mod form;
mod host;
mod list;

use axum::Router;
use axum::routing::{get, post};
use serde::Serialize;
use yui_domain::Locale;
use yui_domain::account::FieldError;
use yui_domain::host::{HostFields, HostInput, INDUSTRY_MAX, NAME_MAX, SUMMARY_MAX, WEBSITE_MAX};
use yui_domain::tenant::{Tenant, TenantKind};
use yui_store::Host;

use crate::AppState;
pub(crate) use access::Access;
use form::{Builder, Input, Kind};

pub(crate) const TEMPLATES: &[(&str, &str)] = &[
    ("hp_field.html", include_str!("templates/hp_field.html")),
    ("hosts.html", include_str!("templates/hosts.html")),
    ("host.html", include_str!("templates/host.html")),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/t/{slug}/hosts", get(list::page).post(list::create))
        .route("/t/{slug}/hosts.csv", get(list::csv))
        .route("/t/{slug}/hosts/{host}", get(host::page).post(host::edit))
        .route("/t/{slug}/hosts/{host}/status", post(host::status))
        .route("/t/{slug}/hosts/{host}/members", post(host::invite))
        .route(
            "/api/v1/tenants/{slug}/hosts",
            get(api::list).post(api::create),
        )
}

/// A host's status in the person's language.
pub(crate) fn status_text(state: &AppState, locale: Locale, code: &str) -> String {
    state
        .inner
        .catalogs
        .text(locale, &format!("hp_host_status_{code}"))
        .to_owned()
}

/// The municipalities a host of this tenant may be in, when the tenant lists them
/// (a union's members, a municipality itself); a prefecture's are typed as codes.
fn municipality_choices(tenant: &Tenant, locale: Locale) -> Option<Vec<(String, String)>> {
    match tenant.kind {
        TenantKind::Union => Some(
            tenant
                .members
                .iter()
                .map(|m| (m.code.to_string(), m.name.get(locale).to_owned()))
                .collect(),
        ),
        TenantKind::Municipality => tenant
            .code
            .as_ref()
            .map(|c| vec![(c.to_string(), tenant.name.get(locale).to_owned())]),
        TenantKind::Prefecture => None,
    }
}

/// The name of the municipality with `code` where the tenant knows it, else the code.
pub(crate) fn municipality_name(tenant: &Tenant, locale: Locale, code: &str) -> String {
    known_municipality(tenant, locale, code).unwrap_or_else(|| code.to_owned())
}

fn known_municipality(tenant: &Tenant, locale: Locale, code: &str) -> Option<String> {
    municipality_choices(tenant, locale)
        .and_then(|c| c.into_iter().find(|(v, _)| v == code).map(|(_, n)| n))
}

/// Where a host is, for readers outside the program: the municipality's name where
/// the tenant knows it; else (a prefecture's tenant lists no municipalities) the
/// prefecture its code's first two digits name, since a bare code means nothing
/// to a reader.
pub(crate) fn place_name(tenant: &Tenant, locale: Locale, code: &str) -> String {
    known_municipality(tenant, locale, code)
        .or_else(|| {
            code.get(..2)
                .and_then(|p| p.parse().ok())
                .and_then(yui_domain::talent::Prefecture::new)
                .map(|p| p.name(locale).to_owned())
        })
        .unwrap_or_else(|| code.to_owned())
}

/// The host form's inputs, filled with `input` and its errors.
fn host_inputs(
    state: &AppState,
    locale: Locale,
    tenant: &Tenant,
    input: &HostInput,
    errors: &[FieldError],
) -> Vec<Input> {
    let b = Builder {
        state,
        locale,
        errors,
    };
    let municipality = match municipality_choices(tenant, locale) {
        Some(options) => b.choices(
            "municipality_code",
            Kind::Select,
            options,
            std::slice::from_ref(&input.municipality_code),
            true,
        ),
        None => b.hint(
            b.input(
                "municipality_code",
                Kind::Number,
                &input.municipality_code,
                6,
                true,
            ),
            "hp_municipality_code_hint",
        ),
    };
    vec![
        b.input("name", Kind::Text, &input.name, NAME_MAX, true),
        b.hint(
            b.input("kana", Kind::Text, &input.kana, NAME_MAX, true),
            "hp_kana_hint",
        ),
        municipality,
        b.input("industry", Kind::Text, &input.industry, INDUSTRY_MAX, true),
        b.input(
            "summary",
            Kind::Textarea,
            &input.summary,
            SUMMARY_MAX,
            false,
        ),
        b.hint(
            b.input("website", Kind::Url, &input.website, WEBSITE_MAX, false),
            "hp_website_hint",
        ),
    ]
}

/// The form as it was stored, to edit.
fn input_of(host: &Host) -> HostInput {
    HostInput {
        name: host.name.clone(),
        kana: host.kana.clone(),
        municipality_code: host.municipality_code.clone(),
        industry: host.industry.clone(),
        summary: host.summary.clone(),
        website: host.website.clone().unwrap_or_default(),
    }
}

/// A host's row in lists.
#[derive(Debug, Serialize)]
pub(crate) struct HostRow {
    pub id: i64,
    pub name: String,
    pub kana: String,
    pub municipality: String,
    pub industry: String,
    pub status: String,
    pub status_code: String,
}

fn host_row(state: &AppState, locale: Locale, tenant: &Tenant, h: &Host) -> HostRow {
    HostRow {
        id: h.id.get(),
        name: h.name.clone(),
        kana: h.kana.clone(),
        municipality: municipality_name(tenant, locale, &h.municipality_code),
        industry: h.industry.clone(),
        status: status_text(state, locale, &h.status),
        status_code: h.status.clone(),
    }
}

/// A store conflict on the host's name as the field error a person can act on.
fn name_taken(e: &yui_store::StoreError) -> Option<Vec<FieldError>> {
    match e {
        yui_store::StoreError::Conflict(f) if f == "name" => Some(vec![FieldError {
            field: "name",
            problem: yui_domain::account::Problem::Taken,
        }]),
        _ => None,
    }
}

/// Checked fields or the errors, for `tenant`.
fn check(input: &HostInput, tenant: &Tenant) -> Result<HostFields, Vec<FieldError>> {
    yui_domain::host::check_host(input, tenant)
}
