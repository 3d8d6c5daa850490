//! Case studies (事例). A coordinator writes one about an engagement
//! (`/t/{slug}/case-studies`), adds photos and sends it for approval; the
//! engagement's talent and a member of its host read the draft and approve it or ask
//! for changes (`/t/{slug}/case-studies/{id}/review`); once both approved, the
//! coordinator publishes it — publication is a deliberate step of the secretariat,
//! who picks the moment (a press release, the year's report), not a side effect of
//! the second approval. The public reads `/t/{slug}/cases`.
//!
//! Another tenant's ids, a case of which one is not a side, and a case not public
//! (to the public) all answer 404.

mod manage;
mod public;
mod review;

use axum::Router;
use serde::Serialize;
use yui_domain::Locale;
use yui_domain::case_study::{CaseSide, CaseStatus};
use yui_domain::ids::CaseStudyId;
use yui_domain::talent::Prefecture;
use yui_store::{Account, CasePhoto, CaseStudy, TenantTx};

use crate::AppState;
use crate::error::PageError;
use crate::features::hosts::place_name;
use crate::render::{date_text, datetime_text};
use crate::{WebError, extract::TenantPath};

pub(crate) const TEMPLATES: &[(&str, &str)] = &[
    ("cs_body.html", include_str!("templates/cs_body.html")),
    ("cs_list.html", include_str!("templates/cs_list.html")),
    ("cs_new.html", include_str!("templates/cs_new.html")),
    ("cs_manage.html", include_str!("templates/cs_manage.html")),
    ("cs_mine.html", include_str!("templates/cs_mine.html")),
    ("cs_review.html", include_str!("templates/cs_review.html")),
    (
        "cs_public_list.html",
        include_str!("templates/cs_public_list.html"),
    ),
    ("cs_public.html", include_str!("templates/cs_public.html")),
];

pub fn router() -> Router<AppState> {
    manage::router()
        .merge(review::router())
        .merge(public::router())
}

/// A case study id from the path; anything else is a page that does not exist.
fn case_id(raw: &str) -> Result<CaseStudyId, PageError> {
    raw.parse().map_err(|_| WebError::NotFound.into())
}

/// Which side of the case's engagement `account` is, if any: its talent, or a
/// member of its host.
async fn side_of(
    tx: &mut TenantTx,
    case: &CaseStudy,
    account: &Account,
) -> Result<Option<CaseSide>, PageError> {
    // A talent who left the region has no part in it any more.
    if case.talent_id == account.id {
        return Ok(case.talent_live.then_some(CaseSide::Talent));
    }
    if tx.is_host_member(case.host_id, account.id).await? {
        return Ok(Some(CaseSide::Host));
    }
    Ok(None)
}

/// The talent's name for staff pages; a talent who left is not named.
pub(super) fn talent_name(state: &AppState, locale: Locale, case: &CaseStudy) -> String {
    if case.talent_live {
        case.talent_name.clone()
    } else {
        text(state, locale, "cs_talent_left")
    }
}

/// One section of a case as a page shows it, in the reader's language when
/// written in it (else in Japanese, marked as such for screen readers).
#[derive(Debug, Serialize)]
struct Section {
    heading: String,
    text: String,
    lang: &'static str,
}

#[derive(Debug, Serialize)]
struct PhotoView {
    id: i64,
    src: String,
    alt: String,
}

/// A case study as its pages show it.
#[derive(Debug, Serialize)]
struct CaseView {
    id: i64,
    title: String,
    title_lang: &'static str,
    host: String,
    place: String,
    project: String,
    talent_name: String,
    /// "複業人材（東京都在住）": the talent as the public sees them, without a name.
    talent_line: String,
    sections: Vec<Section>,
    photos: Vec<PhotoView>,
    status: &'static str,
    status_label: String,
    published: Option<String>,
    talent_approved: Option<String>,
    host_approved: Option<String>,
    change_request: Option<String>,
    updated: String,
}

/// `ja`, or `en` when the reader reads English and there is an English text.
fn pick<'a>(locale: Locale, ja: &'a str, en: &'a str) -> (&'a str, &'static str) {
    if locale == Locale::En && !en.is_empty() {
        (en, "en")
    } else {
        (ja, "ja")
    }
}

fn status_label(state: &AppState, locale: Locale, status: CaseStatus) -> String {
    text(state, locale, &format!("cs_status_{}", status.as_str()))
}

fn text(state: &AppState, locale: Locale, key: &str) -> String {
    state.inner.catalogs.text(locale, key).to_owned()
}

fn view(
    state: &AppState,
    locale: Locale,
    tenant: &TenantPath,
    case: &CaseStudy,
    photos: &[CasePhoto],
) -> CaseView {
    let slug = tenant.slug();
    let f = case.fields();
    let sections = [
        ("cs_overview", &f.overview),
        ("cs_challenge", &f.challenge),
        ("cs_talent_skills", &f.talent_skills),
        ("cs_proposal", &f.proposal),
        ("cs_outcome", &f.outcome),
    ]
    .into_iter()
    .map(|(key, t)| {
        let (body, lang) = pick(locale, &t.ja, &t.en);
        Section {
            heading: text(state, locale, key),
            text: body.to_owned(),
            lang,
        }
    })
    .collect();
    let (title, title_lang) = pick(locale, &f.title.ja, &f.title.en);
    let residence = case
        .talent_residence
        .and_then(|r| u8::try_from(r).ok())
        .and_then(Prefecture::new);
    let talent_line = match residence {
        Some(p) => text(state, locale, "cs_talent_from").replace("{place}", p.name(locale)),
        None => text(state, locale, "cs_talent"),
    };
    let status = case.status();
    CaseView {
        id: case.id.get(),
        title: title.to_owned(),
        title_lang,
        host: case.host_name.clone(),
        place: place_name(&tenant.record.tenant, locale, &case.host_municipality_code),
        project: case.project_title.clone(),
        talent_name: talent_name(state, locale, case),
        talent_line,
        sections,
        photos: photos
            .iter()
            .map(|p| PhotoView {
                id: p.id,
                src: format!("/t/{slug}/cases/{}/photos/{}", case.id, p.id),
                alt: p.alt_ja.clone(),
            })
            .collect(),
        status: status.as_str(),
        status_label: status_label(state, locale, status),
        published: case.published_at.map(|at| {
            date_text(
                locale,
                at.with_timezone(&yui_domain::fiscal::tokyo()).date_naive(),
            )
        }),
        talent_approved: case.talent_approved_at.map(|at| datetime_text(locale, at)),
        host_approved: case.host_approved_at.map(|at| datetime_text(locale, at)),
        change_request: case.change_request.clone(),
        updated: datetime_text(locale, case.updated_at),
    }
}
