//! The search of open projects across every region (`/projects`), for talents and
//! the public: free text (two-character Japanese words included, on the bigram
//! index), a skill, a project kind and the host's prefecture. Only open public
//! projects of approved hosts in active regions are ever found; a members-only
//! project stays in its region's pages.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use yui_domain::account::{FieldError, Problem};
use yui_domain::search::query_words;
use yui_domain::talent::{Prefecture, ProjectKind, Skill};
use yui_domain::{Locale, ProjectId};
use yui_store::{Account, PlatformReason, ProjectHit, ProjectQuery};

use super::text;
use crate::AppState;
use crate::error::PageError;
use crate::extract::{Lang, Viewer};
use crate::features::hosts::form::{Builder, Kind, error_lines};
use crate::render::{base_context, render};

/// How many projects a page shows.
const PAGE: u32 = 30;
/// The longest free text kept (the query itself keeps fewer words).
const Q_MAX: usize = 200;

/// The search form as typed: every field text, so a value that is no choice can be
/// named in an error instead of failing the request.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Params {
    #[serde(default)]
    q: String,
    #[serde(default)]
    skill: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    prefecture: String,
    #[serde(default)]
    before: String,
}

#[derive(Debug, Serialize)]
struct Row {
    /// Built from a stored slug and a numeric id only, so the template may print it
    /// unescaped (tera would escape its slashes).
    href: String,
    title: String,
    host: String,
    region: String,
    kind: String,
    location: String,
}

/// A choice value, or `None` for "any"; an unknown value is an error on `field`.
fn choice<T>(
    value: &str,
    field: &'static str,
    parse: impl Fn(&str) -> Option<T>,
    errors: &mut Vec<FieldError>,
) -> Option<T> {
    match value.trim() {
        "" => None,
        v => parse(v).or_else(|| {
            errors.push(FieldError {
                field,
                problem: Problem::InvalidChoice,
            });
            None
        }),
    }
}

fn row(locale: Locale, state: &AppState, p: ProjectHit) -> Row {
    Row {
        href: format!("/t/{}/projects/{}", p.tenant_slug, p.id),
        region: match locale {
            Locale::Ja => p.tenant_name_ja,
            Locale::En => p.tenant_name_en,
        },
        kind: text(state, locale, &format!("hp_kind_{}", p.kind)),
        title: p.title,
        host: p.host_name,
        location: p.location,
    }
}

pub(super) async fn page(
    State(state): State<AppState>,
    lang: Lang,
    Viewer(viewer): Viewer,
    Query(params): Query<Params>,
) -> Result<Response, PageError> {
    let locale = lang.or(viewer.as_ref().map_or(Locale::Ja, Account::locale));
    // Control characters are no part of a word and must not come back in the page.
    let params = Params {
        q: params.q.chars().filter(|c| !c.is_control()).collect(),
        ..params
    };
    let mut errors = Vec::new();
    if params.q.chars().count() > Q_MAX {
        errors.push(FieldError {
            field: "q",
            problem: Problem::TooLong { max: Q_MAX },
        });
    }
    let skill = choice(&params.skill, "skill", Skill::parse, &mut errors);
    let kind = choice(&params.kind, "kind", ProjectKind::parse, &mut errors);
    let prefecture = choice(
        &params.prefecture,
        "prefecture",
        Prefecture::parse,
        &mut errors,
    );
    let searched = [&params.q, &params.skill, &params.kind, &params.prefecture]
        .iter()
        .any(|v| !v.trim().is_empty());
    let mut hits = Vec::new();
    if errors.is_empty() {
        let query = ProjectQuery {
            words: query_words(&params.q),
            skill: skill.map(|s| s.code().to_owned()),
            kind: kind.map(|k| k.code().to_owned()),
            prefecture: prefecture.map(Prefecture::code),
            before: params.before.trim().parse::<ProjectId>().ok(),
            limit: PAGE + 1,
        };
        let mut tx = state
            .store
            .platform(PlatformReason::PublicListings)
            .read()
            .await?;
        hits = tx.search_open_projects(&query).await?;
        tx.commit().await?;
    }
    let more = hits.len() > PAGE as usize;
    hits.truncate(PAGE as usize);
    let older = more.then(|| hits.last().map(|p| p.id.get())).flatten();
    let rows: Vec<Row> = hits.into_iter().map(|p| row(locale, &state, p)).collect();

    let form = Builder {
        state: &state,
        locale,
        errors: &errors,
    };
    let any = || (String::new(), text(&state, locale, "search_any"));
    let skills = std::iter::once(any())
        .chain(
            Skill::ALL
                .iter()
                .map(|s| (s.code().to_owned(), s.name(locale).to_owned())),
        )
        .collect();
    let kinds = std::iter::once(any())
        .chain(
            ProjectKind::ALL
                .iter()
                .map(|k| (k.code().to_owned(), k.name(locale).to_owned())),
        )
        .collect();
    let prefectures = std::iter::once(any())
        .chain(Prefecture::all().map(|p| (p.code_text(), p.name(locale).to_owned())))
        .collect();
    let fields = vec![
        form.hint(
            form.input("q", Kind::Text, &params.q, Q_MAX, false),
            "ps_q_hint",
        ),
        form.choices(
            "skill",
            Kind::Select,
            skills,
            std::slice::from_ref(&params.skill),
            false,
        ),
        form.choices(
            "kind",
            Kind::Select,
            kinds,
            std::slice::from_ref(&params.kind),
            false,
        ),
        form.choices(
            "prefecture",
            Kind::Select,
            prefectures,
            std::slice::from_ref(&params.prefecture),
            false,
        ),
    ];
    // The next page keeps the criteria.
    let next = older.map(|before| {
        let mut url = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("q", params.q.as_str()),
            ("skill", params.skill.as_str()),
            ("kind", params.kind.as_str()),
            ("prefecture", params.prefecture.as_str()),
        ] {
            if !v.is_empty() {
                url.append_pair(k, v);
            }
        }
        url.append_pair("before", &before.to_string());
        format!("/projects?{}", url.finish())
    });
    let mut ctx = base_context(&state, locale, viewer.as_ref(), "/projects");
    ctx.insert("fields", &fields);
    ctx.insert("errors", &error_lines(&state, locale, &errors));
    ctx.insert("searched", &searched);
    ctx.insert("projects", &rows);
    ctx.insert("next", &next);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(render(&state, "projects_search.html", ctx, locale, status))
}
