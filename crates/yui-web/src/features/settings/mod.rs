//! The tenant admin's settings pages (`/t/{slug}/settings`): what `tenant.toml`
//! describes — names, introduction, branding and logo, consent wording, mail sender,
//! program templates — edited in plain forms instead of files. Only those who hold
//! `tenant configure` in the tenant see them (anyone else: 404; not signed in: the
//! sign-in page). The rules are the file validator's (`yui_domain::settings`).
//!
//! Each save writes the tenant's spec, tells every cache of the directory, records
//! the section as edited in pages (a later file apply warns before overwriting it)
//! and an audit entry.

mod index;
mod logo;
mod sections;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use serde::Serialize;
use tera::Context;
use yui_domain::Locale;
use yui_domain::Tenant;
use yui_domain::account::FieldError;
use yui_domain::audit::AuditAction;
use yui_domain::settings::{Logo, SettingsSection, changed_keys};
use yui_store::{AuditEntry, AuditTx, TenantTx};

use crate::AppState;
use crate::error::PageError;
use crate::extract::{Staff, TenantConfigure};
use crate::features::events::form::{Choice, Field, text};
use crate::features::hosts::form::ErrorLine;
use crate::render::{base_context, labelled_message, render};
use crate::security::csrf_token;

pub(crate) const TEMPLATES: &[(&str, &str)] = &[
    (
        "settings_index.html",
        include_str!("templates/settings_index.html"),
    ),
    (
        "settings_form.html",
        include_str!("templates/settings_form.html"),
    ),
];

/// The largest logo upload request: the logo's limit and room for the form around it.
const LOGO_BODY_MAX: usize = 4 * yui_domain::settings::LOGO_MAX_BYTES;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/t/{slug}/settings", get(index::page))
        .route(
            "/t/{slug}/settings/names",
            get(sections::names_page).post(sections::save_names),
        )
        .route(
            "/t/{slug}/settings/introduction",
            get(sections::introduction_page).post(sections::save_introduction),
        )
        .route(
            "/t/{slug}/settings/branding",
            get(sections::branding_page).post(sections::save_branding),
        )
        .route(
            "/t/{slug}/settings/branding/logo",
            post(logo::upload).layer(DefaultBodyLimit::max(LOGO_BODY_MAX)),
        )
        .route(
            "/t/{slug}/settings/consent",
            get(sections::consent_page).post(sections::save_consent),
        )
        .route(
            "/t/{slug}/settings/mail",
            get(sections::mail_page).post(sections::save_mail),
        )
        .route(
            "/t/{slug}/settings/templates",
            get(sections::templates_page).post(sections::save_templates),
        )
}

/// The path of a section's page.
fn section_path(slug: &str, section: SettingsSection) -> String {
    format!("/t/{slug}/settings/{}", section.as_str())
}

/// A set of inputs under one legend (or none).
#[derive(Debug, Serialize)]
struct Group {
    legend: Option<String>,
    fields: Vec<Field>,
}

/// The label of input `name`: the event templates' inputs (`seminar_days`) name
/// their kind first, so an error in the summary says which template it is about.
fn label(state: &AppState, locale: Locale, name: &str) -> String {
    for kind in ["seminar", "lecture", "fieldwork"] {
        if let Some(rest) = name.strip_prefix(kind).and_then(|r| r.strip_prefix('_')) {
            let sep = if locale == Locale::Ja { " " } else { ": " };
            return format!(
                "{}{sep}{}",
                text(state, locale, &format!("set_group_{kind}")),
                text(state, locale, &format!("set_field_{rest}"))
            );
        }
    }
    text(state, locale, &format!("set_field_{name}"))
}

/// What a form shows again of a value sent: the value, cut at twice the longest
/// valid one so a huge post does not come back as a huge page.
fn keep(value: &str, max: usize) -> String {
    match value.char_indices().nth(max) {
        Some((i, _)) => value[..i].to_owned(),
        None => value.to_owned(),
    }
}

/// Builds one section's inputs in the person's language.
struct Inputs<'a> {
    state: &'a AppState,
    locale: Locale,
    errors: &'a [FieldError],
}

impl Inputs<'_> {
    fn field(
        &self,
        name: &'static str,
        input_type: &'static str,
        value: &str,
        max: usize,
    ) -> Field {
        let label = label(self.state, self.locale, name);
        let error = self
            .errors
            .iter()
            .find(|e| e.field == name)
            .map(|e| labelled_message(self.state, self.locale, &label, e.problem));
        let hint_key = format!("set_hint_{name}");
        let hint = self
            .state
            .inner
            .catalogs
            .has(&hint_key)
            .then(|| text(self.state, self.locale, &hint_key));
        Field {
            name,
            label,
            input_type,
            value: keep(value, 2 * max),
            error,
            required: true,
            hint,
            choices: Vec::new(),
            checked: false,
        }
    }

    fn select(&self, name: &'static str, value: &str, choices: &[(&str, String)]) -> Field {
        let mut f = self.field(name, "select", value, 40);
        f.choices = choices
            .iter()
            .map(|(v, label)| Choice {
                value: (*v).to_owned(),
                label: label.clone(),
                selected: *v == value.trim(),
            })
            .collect();
        f
    }

    fn summary(&self) -> Vec<ErrorLine> {
        self.errors
            .iter()
            .map(|e| ErrorLine {
                field: e.field,
                message: labelled_message(
                    self.state,
                    self.locale,
                    &label(self.state, self.locale, e.field),
                    e.problem,
                ),
            })
            .collect()
    }
}

/// A section's page: its groups of inputs, and for the branding page the logo and
/// its upload form.
struct SectionPage {
    section: SettingsSection,
    groups: Vec<Group>,
    summary: Vec<ErrorLine>,
    notice: Option<String>,
    status: StatusCode,
    /// Extra context (the current logo, the consent version).
    extra: Context,
}

fn render_section(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    staff: &Staff<TenantConfigure>,
    page: SectionPage,
) -> Response {
    let slug = staff.tenant.slug();
    let path = section_path(slug, page.section);
    let (jar, csrf) = csrf_token(state, jar);
    let mut ctx = base_context(state, locale, Some(&staff.account), &path);
    ctx.extend(page.extra);
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", staff.tenant.record.tenant.name.get(locale));
    ctx.insert(
        "heading",
        &text(
            state,
            locale,
            &format!("set_section_{}", page.section.as_str()),
        ),
    );
    ctx.insert(
        "lead",
        &text(
            state,
            locale,
            &format!("set_section_{}_desc", page.section.as_str()),
        ),
    );
    ctx.insert("section", page.section.as_str());
    ctx.insert("action", &path);
    ctx.insert("index_href", &format!("/t/{slug}/settings"));
    ctx.insert("csrf", &csrf);
    ctx.insert("groups", &page.groups);
    ctx.insert("errors", &page.summary);
    ctx.insert("notice", &page.notice);
    (
        jar,
        render(state, "settings_form.html", ctx, locale, page.status),
    )
        .into_response()
}

/// A section's save: the tenant before and after, and the logo uploaded, if any.
struct Change<'a> {
    section: SettingsSection,
    before: &'a Tenant,
    after: &'a Tenant,
    logo: Option<&'a Logo>,
}

/// Saves a section's new spec in the open transaction, records the edit and an
/// audit entry naming the keys that changed, commits, and sends the admin back to
/// the section's page with a notice.
async fn commit_section(
    state: &AppState,
    staff: &Staff<TenantConfigure>,
    ip: String,
    mut tx: TenantTx,
    change: Change<'_>,
) -> Result<Response, PageError> {
    let Change {
        section,
        before,
        after,
        logo,
    } = change;
    let now = state.now();
    let mut keys: Vec<String> = changed_keys(Some(before), after)
        .into_iter()
        .map(|c| c.key)
        .collect();
    if logo.is_some() {
        keys.push("branding.logo (file contents)".to_owned());
    }
    tx.save_settings(section, after, logo, staff.account.id, now)
        .await?;
    let entry = AuditEntry {
        actor_id: Some(staff.account.id),
        action: AuditAction::TenantSettingsChanged,
        detail: serde_json::json!({ "section": section.as_str(), "keys": keys }),
        ip,
    };
    tx.audit(&entry, now).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "{}?done=1",
        section_path(staff.tenant.slug(), section)
    ))
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Catalogs;

    /// Every input the section pages render, by name.
    const FIELDS: &[&str] = &[
        "name_ja",
        "name_en",
        "name_kana",
        "default_locale",
        "intro_ja",
        "intro_en",
        "heading_ja",
        "paragraphs_ja",
        "facts_ja",
        "heading_en",
        "paragraphs_en",
        "facts_en",
        "primary",
        "accent",
        "logo",
        "consent_ja",
        "consent_en",
        "sender_name",
        "sender_address",
        "seminar_title_ja",
        "lecture_title_en",
        "fieldwork_format",
        "seminar_capacity",
        "lecture_days",
        "talent_preference_limit",
        "host_preference_limit",
        "project_capacity",
        "scouting_daily_limit",
        "event_reminders",
    ];

    /// The keys these pages build from names are in both catalogs.
    #[test]
    fn every_label_and_section_has_its_messages() {
        let c = Catalogs::load().unwrap();
        let mut keys: Vec<String> = Vec::new();
        for s in SettingsSection::ALL {
            keys.push(format!("set_section_{}", s.as_str()));
            keys.push(format!("set_section_{}_desc", s.as_str()));
        }
        for name in FIELDS {
            match ["seminar", "lecture", "fieldwork"].iter().find_map(|k| {
                name.strip_prefix(k)
                    .and_then(|r| r.strip_prefix('_'))
                    .map(|r| (k, r))
            }) {
                Some((kind, rest)) => {
                    keys.push(format!("set_group_{kind}"));
                    keys.push(format!("set_field_{rest}"));
                }
                None => keys.push(format!("set_field_{name}")),
            }
        }
        for k in [
            "set_group_intro",
            "set_group_story_ja",
            "set_group_story_en",
            "set_group_round",
            "set_group_other",
            "set_locale_ja",
            "set_locale_en",
            "set_saved",
            "set_edited_at",
            "set_consent_version",
            "set_hint_logo",
            "audit_action_tenant_settings_changed",
        ] {
            keys.push(k.to_owned());
        }
        for k in keys {
            assert!(c.has(&k), "{k} is missing from a catalog");
        }
    }
}
