//! The settings index: every section with what it holds and when it was last
//! edited in pages.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use yui_domain::settings::SettingsSection;

use super::section_path;
use crate::AppState;
use crate::error::PageError;
use crate::extract::{Lang, Staff, TenantConfigure};
use crate::features::events::form::text;
use crate::render::{base_context, datetime_text, render};

#[derive(Serialize)]
struct SectionView {
    href: String,
    title: String,
    description: String,
    edited: Option<String>,
}

pub(super) async fn page(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<TenantConfigure>,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    let mut tx = state.store.tenant(staff.tenant.id).read().await?;
    let edited = tx.edited_settings_sections().await?;
    tx.commit().await?;
    let slug = staff.tenant.slug();
    let sections: Vec<SectionView> = SettingsSection::ALL
        .into_iter()
        .map(|s| SectionView {
            href: section_path(slug, s),
            title: text(&state, locale, &format!("set_section_{}", s.as_str())),
            description: text(&state, locale, &format!("set_section_{}_desc", s.as_str())),
            edited: edited.iter().find(|(e, _)| *e == s).map(|(_, at)| {
                text(&state, locale, "set_edited_at").replace("{at}", &datetime_text(locale, *at))
            }),
        })
        .collect();
    let path = format!("/t/{slug}/settings");
    let mut ctx = base_context(&state, locale, Some(&staff.account), &path);
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", staff.tenant.record.tenant.name.get(locale));
    ctx.insert("sections", &sections);
    Ok(render(
        &state,
        "settings_index.html",
        ctx,
        locale,
        StatusCode::OK,
    ))
}
