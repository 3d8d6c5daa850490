//! Recommendations (issue 10, item 7): for a talent the ten open projects that suit
//! them best (`/me/recommendations`), for a project the ten talents (`/t/{slug}/
//! projects/{id}/recommendations`, staff who may read talents). The score is
//! `yui_match::recommend`'s, documented there; every suggestion shows its reasons.
//! Candidates come from the store's skill indexes, bounded per skill, so a page costs
//! the same with a thousand talents or a million.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use yui_domain::Locale;
use yui_domain::talent::{ProjectKind, Skill};
use yui_match::recommend::{ProjectSide, Reason, Score, Style, TalentSide, score, top_k};
use yui_store::{ProjectFacets, TalentFacets};

use crate::error::PageError;
use crate::extract::{Lang, SignedIn, Staff, TalentRead};
use crate::render::{base_context, render};
use crate::{AppState, WebError};

pub(crate) const TEMPLATES: &[(&str, &str)] = &[(
    "recommendations.html",
    include_str!("templates/recommendations.html"),
)];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me/recommendations", get(for_talent))
        .route("/t/{slug}/projects/{id}/recommendations", get(for_project))
}

/// How many suggestions a page shows.
const TOP: usize = 10;

fn style(code: &str) -> Style {
    match code {
        "remote" => Style::Remote,
        "onsite" => Style::Onsite,
        _ => Style::Either,
    }
}

fn kind_bit(code: &str) -> u8 {
    ProjectKind::ALL
        .iter()
        .position(|k| k.code() == code)
        .map_or(0, |i| 1 << i)
}

fn project_side(p: &ProjectFacets) -> ProjectSide {
    ProjectSide {
        id: p.id,
        skills: p.skill_mask as u64,
        kind: kind_bit(&p.kind),
        hours_per_month: p.hours_per_month.and_then(|h| u16::try_from(h).ok()),
        remote_percent: u8::try_from(p.remote_ratio).unwrap_or(0),
        prefecture: p
            .municipality_code
            .get(..2)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0),
    }
}

fn talent_side(t: &TalentFacets) -> TalentSide {
    TalentSide {
        id: t.account_id.get(),
        skills: t.skill_mask as u64,
        kinds: u8::try_from(t.kind_mask).unwrap_or(0),
        hours_per_month: t.hours_per_month.and_then(|h| u16::try_from(h).ok()),
        style: style(&t.work_style),
        ties: t.tie_mask as u64,
    }
}

/// The reasons of a score in the person's language.
fn reasons(state: &AppState, locale: Locale, s: &Score) -> Vec<String> {
    let c = &state.inner.catalogs;
    s.reasons
        .iter()
        .map(|r| match r {
            Reason::Skills(mask) => {
                let names: Vec<&str> = Skill::ALL
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| mask & (1 << i) != 0)
                    .map(|(_, s)| s.name(locale))
                    .collect();
                let sep = if locale == Locale::Ja { "、" } else { ", " };
                c.text(locale, "recommend_reason_skills")
                    .replace("{skills}", &names.join(sep))
            }
            Reason::Kind => c.text(locale, "recommend_reason_kind").to_owned(),
            Reason::Hours => c.text(locale, "recommend_reason_hours").to_owned(),
            Reason::Tie => c.text(locale, "recommend_reason_tie").to_owned(),
            Reason::WorkStyle => c.text(locale, "recommend_reason_work_style").to_owned(),
        })
        .collect()
}

#[derive(Debug, Serialize)]
struct Suggestion {
    title: String,
    /// Built from a validated slug and numeric ids only, so the template may print it
    /// unescaped (tera would escape its slashes).
    href: Option<String>,
    meta: String,
    points: String,
    reasons: Vec<String>,
}

fn points(state: &AppState, locale: Locale, s: &Score) -> String {
    state
        .inner
        .catalogs
        .text(locale, "recommend_points")
        .replace("{points}", &s.points.to_string())
}

async fn for_talent(
    State(state): State<AppState>,
    lang: Lang,
    SignedIn(account): SignedIn,
) -> Result<Response, PageError> {
    let locale = lang.or(account.locale());
    let mut tx = state.store.account(account.id).read().await?;
    let me = tx.talent_facets().await?;
    let candidates = match &me {
        Some(_) => tx.recommendation_candidates().await?,
        None => Vec::new(),
    };
    tx.commit().await?;
    let suggestions: Vec<Suggestion> = match &me {
        None => Vec::new(),
        Some(me) => {
            let me = talent_side(me);
            top_k(candidates, TOP, |p| p.id, |p| score(&me, &project_side(p)))
                .into_iter()
                .map(|(p, s)| Suggestion {
                    href: Some(format!("/t/{}/projects/{}", p.tenant_slug, p.id)),
                    meta: p.host_name.clone(),
                    title: p.title,
                    points: points(&state, locale, &s),
                    reasons: reasons(&state, locale, &s),
                })
                .collect()
        }
    };
    let mut ctx = base_context(&state, locale, Some(&account), "/me/recommendations");
    ctx.insert("heading_key", "recommend_projects_heading");
    ctx.insert("suggestions", &suggestions);
    ctx.insert("lead", &true);
    Ok(render(&state, "recommendations.html", &ctx, locale, StatusCode::OK).into_response())
}

async fn for_project(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<TalentRead>,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let tenant = &staff.tenant;
    let locale = lang.or(tenant.record.tenant.default_locale);
    let Ok(id) = id.parse::<i64>() else {
        return Err(WebError::NotFound.into());
    };
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let found = tx.recommendation_candidates(id).await?;
    tx.commit().await?;
    // Another region's project, or none: the same 404.
    let Some((project, talents)) = found else {
        return Err(WebError::NotFound.into());
    };
    let side = project_side(&project);
    let slug = tenant.slug();
    let suggestions: Vec<Suggestion> = top_k(
        talents,
        TOP,
        |t| t.account_id.get(),
        |t| score(&talent_side(t), &side),
    )
    .into_iter()
    .map(|(t, s)| Suggestion {
        // Members open their profile; a pool talent is reached by scouting.
        href: t
            .member
            .then(|| format!("/t/{slug}/talents/{}", t.account_id)),
        meta: state
            .inner
            .catalogs
            .text(
                locale,
                if t.member {
                    "search_member"
                } else {
                    "search_in_pool"
                },
            )
            .to_owned(),
        title: t.display_name,
        points: points(&state, locale, &s),
        reasons: reasons(&state, locale, &s),
    })
    .collect();
    let mut ctx = base_context(
        &state,
        locale,
        Some(&staff.account),
        &format!("/t/{slug}/projects/{id}/recommendations"),
    );
    ctx.insert("heading_key", "recommend_talents_heading");
    ctx.insert("subject", &project.title);
    ctx.insert("back", &format!("/t/{slug}/projects/{id}"));
    ctx.insert("suggestions", &suggestions);
    ctx.insert("lead", &false);
    Ok(render(&state, "recommendations.html", &ctx, locale, StatusCode::OK).into_response())
}
