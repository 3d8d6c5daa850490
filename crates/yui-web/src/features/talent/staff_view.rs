//! The region staff's view of its talents (`/t/{slug}/talents`): only members whose
//! consent is live, for staff holding the talent read permission. Another region's
//! member, someone who left, or an id that means nothing answer the same 404.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use yui_domain::AccountId;
use yui_domain::talent::Prefecture;

use super::profile_facts;
use crate::error::PageError;
use crate::extract::{Lang, Staff, TalentRead};
use crate::render::{base_context, datetime_text, render};
use crate::{AppState, WebError};

#[derive(Debug, Serialize)]
struct MemberRow {
    id: i64,
    name: String,
    kana: String,
    residence: Option<&'static str>,
    consented: String,
    hosts: bool,
}

pub(super) async fn list(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<TalentRead>,
) -> Result<Response, PageError> {
    let tenant = &staff.tenant;
    let locale = lang.or(tenant.record.tenant.default_locale);
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let members = tx.talent_members().await?;
    tx.commit().await?;
    let rows: Vec<MemberRow> = members
        .into_iter()
        .map(|m| MemberRow {
            id: m.account_id.get(),
            name: m.display_name,
            kana: m.kana,
            residence: m
                .residence
                .and_then(|r| u8::try_from(r).ok())
                .and_then(Prefecture::new)
                .map(|p| p.name(locale)),
            consented: datetime_text(locale, m.consented_at),
            hosts: m.hosts,
        })
        .collect();
    let slug = tenant.slug();
    let mut ctx = base_context(
        &state,
        locale,
        Some(&staff.account),
        &format!("/t/{slug}/talents"),
    );
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", tenant.record.tenant.name.get(locale));
    ctx.insert("members", &rows);
    Ok(render(&state, "talent_members.html", &ctx, locale, StatusCode::OK).into_response())
}

pub(super) async fn detail(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<TalentRead>,
    Path((_, account)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let tenant = &staff.tenant;
    let locale = lang.or(tenant.record.tenant.default_locale);
    let Ok(account) = account.parse::<AccountId>() else {
        return Err(WebError::NotFound.into());
    };
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let member = tx.talent_member(account).await?;
    tx.commit().await?;
    let Some(member) = member else {
        return Err(WebError::NotFound.into());
    };
    let slug = tenant.slug();
    let mut ctx = base_context(
        &state,
        locale,
        Some(&staff.account),
        &format!("/t/{slug}/talents/{account}"),
    );
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", tenant.record.tenant.name.get(locale));
    ctx.insert("name", &member.display_name);
    ctx.insert("account_id", &account.get());
    ctx.insert("email", &member.email);
    ctx.insert(
        "profile",
        &member
            .profile
            .as_ref()
            .map(|p| profile_facts(&state, locale, &p.profile)),
    );
    ctx.insert(
        "consented",
        &datetime_text(locale, member.membership.consented_at),
    );
    ctx.insert("version", &member.membership.consent_version);
    ctx.insert("hosts", &member.membership.hosts_since.is_some());
    ctx.insert(
        "can_hearings",
        &state.authz.check(
            staff.account.id,
            slug,
            yui_domain::Permission::HearingRead,
            state.now(),
        ),
    );
    Ok(render(&state, "talent_member.html", &ctx, locale, StatusCode::OK).into_response())
}
