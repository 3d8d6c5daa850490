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
use yui_domain::talent::Skill;
use yui_match::recommend::{Reason, Score, score, top_k};

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
            let me = me.side();
            top_k(candidates, TOP, |p| p.id, |p| score(&me, &p.side()))
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
    Ok(render(&state, "recommendations.html", ctx, locale, StatusCode::OK).into_response())
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
    let side = project.side();
    let slug = tenant.slug();
    let suggestions: Vec<Suggestion> = top_k(
        talents,
        TOP,
        |t| t.account_id.get(),
        |t| score(&t.side(), &side),
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
    Ok(render(&state, "recommendations.html", ctx, locale, StatusCode::OK).into_response())
}
