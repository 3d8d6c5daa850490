//! The region staff's view of its talents (`/t/{slug}/talents`): only members whose
//! consent is live, for staff holding the talent read permission, or the export
//! permission (what `talents.csv` gives them, they may also read here). Another region's
//! member, someone who left, or an id that means nothing answer the same 404.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use yui_domain::AccountId;
use yui_domain::search::query_words;
use yui_domain::talent::{HOURS_PER_MONTH_MAX, Prefecture, ProjectKind, Skill};
use yui_store::{Reach, TalentQuery};

use super::profile_facts;
use crate::error::PageError;
use crate::extract::{Lang, Staff, TalentList};
use crate::render::{base_context, datetime_text, render};
use crate::{AppState, WebError};

/// The search form as typed: every field text, so nothing a person types is refused
/// before it can be named in an error.
#[derive(Debug, Default, Deserialize)]
pub(super) struct SearchParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    skill: String,
    #[serde(default)]
    residence: String,
    #[serde(default)]
    min_hours: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    pool: Option<String>,
    #[serde(default)]
    after: String,
}

#[derive(Debug, Serialize)]
struct TalentRow {
    id: i64,
    name: String,
    kana: String,
    residence: Option<&'static str>,
    hours: Option<i64>,
    member: bool,
}

#[derive(Debug, Serialize)]
struct Choice {
    value: String,
    label: &'static str,
    selected: bool,
}

/// One page of results.
const PAGE: u32 = 50;

/// The region's talents, found by search: its live members, and the shared pool when
/// asked. Each page costs one indexed query whatever the number of talents.
pub(super) async fn list(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<TalentList>,
    Query(params): Query<SearchParams>,
) -> Result<Response, PageError> {
    let tenant = &staff.tenant;
    let locale = lang.or(tenant.record.tenant.default_locale);
    // Those who may only export the members (a tenant admin) see the members, not
    // the shared pool.
    let can_pool = state.authz.check(
        staff.account.id,
        tenant.slug(),
        yui_domain::Permission::TalentRead,
        state.now(),
    );
    let mut errors: Vec<(&'static str, String)> = Vec::new();
    let c = &state.inner.catalogs;
    // A field's error: its label, then what is wrong (by default, not a listed choice).
    let mut bad = |field: &'static str, label: &str, problem: Option<String>| {
        let problem = problem.unwrap_or_else(|| c.text(locale, "search_bad_value").to_owned());
        errors.push((field, format!("{label}: {problem}")));
    };
    let skill = match params.skill.trim() {
        "" => None,
        code => Skill::parse(code).or_else(|| {
            bad("skill", c.text(locale, "search_skill"), None);
            None
        }),
    };
    let residence = match params.residence.trim() {
        "" => None,
        code => Prefecture::parse(code).or_else(|| {
            bad("residence", c.text(locale, "field_residence"), None);
            None
        }),
    };
    let min_hours = match params.min_hours.trim() {
        "" => None,
        text => match text.parse::<u16>() {
            Ok(h) if h <= HOURS_PER_MONTH_MAX => Some(h),
            _ => {
                // A number field, not a list: say which numbers it takes.
                bad(
                    "min_hours",
                    c.text(locale, "search_min_hours"),
                    Some(
                        c.text(locale, "search_bad_hours")
                            .replace("{max}", &HOURS_PER_MONTH_MAX.to_string()),
                    ),
                );
                None
            }
        },
    };
    let kind = match params.kind.trim() {
        "" => None,
        code => ProjectKind::parse(code).or_else(|| {
            bad("kind", c.text(locale, "field_project_kinds"), None);
            None
        }),
    };
    let query = TalentQuery {
        words: query_words(&params.q),
        skills: skill.map(|s| vec![s.code().to_owned()]).unwrap_or_default(),
        residence: residence.map(Prefecture::code),
        min_hours,
        project_kind: kind.map(|k| k.code().to_owned()),
        reach: if can_pool && params.pool.is_some() {
            Reach::MembersAndPool
        } else {
            Reach::Members
        },
        after: params.after.trim().parse::<AccountId>().ok(),
        limit: PAGE + 1,
    };
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let mut hits = tx.search_talents(&query).await?;
    tx.commit().await?;
    let more = hits.len() > PAGE as usize;
    hits.truncate(PAGE as usize);
    let rows: Vec<TalentRow> = hits
        .into_iter()
        .map(|h| TalentRow {
            id: h.account_id.get(),
            name: h.display_name,
            kana: h.kana,
            residence: h
                .residence
                .and_then(|r| u8::try_from(r).ok())
                .and_then(Prefecture::new)
                .map(|p| p.name(locale)),
            hours: h.hours_per_month,
            member: h.member,
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
    ctx.insert("errors", &errors);
    let field_errors: std::collections::HashMap<&str, &str> =
        errors.iter().map(|(f, m)| (*f, m.as_str())).collect();
    ctx.insert("field_errors", &field_errors);
    ctx.insert("hours_max", &HOURS_PER_MONTH_MAX);
    ctx.insert("can_pool", &can_pool);
    ctx.insert(
        "can_export",
        &state.authz.check(
            staff.account.id,
            slug,
            yui_domain::Permission::ExportCreate,
            state.now(),
        ),
    );
    ctx.insert("q", &params.q);
    ctx.insert("min_hours", &params.min_hours);
    ctx.insert("pool", &params.pool.is_some());
    let skills: Vec<Choice> = Skill::ALL
        .iter()
        .map(|s| Choice {
            value: s.code().to_owned(),
            label: s.name(locale),
            selected: skill == Some(*s),
        })
        .collect();
    let prefectures: Vec<Choice> = Prefecture::all()
        .map(|p| Choice {
            value: p.code_text(),
            label: p.name(locale),
            selected: residence == Some(p),
        })
        .collect();
    let kinds: Vec<Choice> = ProjectKind::ALL
        .iter()
        .map(|k| Choice {
            value: k.code().to_owned(),
            label: k.name(locale),
            selected: kind == Some(*k),
        })
        .collect();
    ctx.insert("skills", &skills);
    ctx.insert("prefectures", &prefectures);
    ctx.insert("kinds", &kinds);
    if more && let Some(last) = rows.last() {
        let mut next = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("q", params.q.as_str()),
            ("skill", params.skill.as_str()),
            ("residence", params.residence.as_str()),
            ("min_hours", params.min_hours.as_str()),
            ("kind", params.kind.as_str()),
        ] {
            if !v.is_empty() {
                next.append_pair(k, v);
            }
        }
        if can_pool && params.pool.is_some() {
            next.append_pair("pool", "1");
        }
        next.append_pair("after", &last.id.to_string());
        ctx.insert("next", &format!("/t/{slug}/talents?{}", next.finish()));
    }
    Ok(render(&state, "talent_members.html", ctx, locale, StatusCode::OK).into_response())
}

pub(super) async fn detail(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<TalentList>,
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
    Ok(render(&state, "talent_member.html", ctx, locale, StatusCode::OK).into_response())
}
