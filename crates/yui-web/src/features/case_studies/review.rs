//! The two sides' pages: the case studies written about their engagements, and the
//! review of one — approve it as it stands, or ask for changes with a comment.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use yui_domain::Locale;
use yui_domain::account::FieldError;
use yui_domain::case_study::{COMMENT_MAX, CaseSide, CaseStatus, check_comment};
use yui_domain::ids::CaseStudyId;
use yui_store::{Account, CasePhoto, CaseStudy};

use super::{case_id, side_of, status_label, text, view};
use crate::error::PageError;
use crate::extract::{CsrfForm, Lang, SignedIn, TenantPath};
use crate::features::hosts::form::{Builder, Kind, error_lines};
use crate::render::{base_context, render};
use crate::security::csrf_token;
use crate::{AppState, WebError};

pub(super) fn router() -> Router<AppState> {
    use axum::routing::get;
    Router::new()
        .route("/t/{slug}/my-case-studies", get(mine))
        .route(
            "/t/{slug}/case-studies/{id}/review",
            get(review_page).post(review),
        )
}

#[derive(Debug, serde::Serialize)]
struct Row {
    id: i64,
    title: String,
    host: String,
    status_label: String,
    awaiting: bool,
}

async fn mine(
    State(state): State<AppState>,
    lang: Lang,
    tenant: TenantPath,
    SignedIn(account): SignedIn,
) -> Result<Response, PageError> {
    let locale = lang.or(account.locale());
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let cases = tx.case_studies_of_side(account.id).await?;
    tx.commit().await?;
    let rows: Vec<Row> = cases
        .iter()
        .map(|c| Row {
            id: c.id.get(),
            title: c.title_ja.clone(),
            host: c.host_name.clone(),
            status_label: status_label(&state, locale, c.status()),
            awaiting: c.status() == CaseStatus::AwaitingApproval,
        })
        .collect();
    let slug = tenant.slug();
    let mut ctx = base_context(
        &state,
        locale,
        Some(&account),
        &format!("/t/{slug}/my-case-studies"),
    );
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", tenant.record.tenant.name.get(locale));
    ctx.insert("cases", &rows);
    Ok(render(&state, "cs_mine.html", ctx, locale, StatusCode::OK))
}

/// The case, its photos and the viewer's side; 404 unless the viewer is a side.
async fn as_side(
    state: &AppState,
    tenant: &TenantPath,
    account: &Account,
    id: CaseStudyId,
) -> Result<(CaseStudy, Vec<CasePhoto>, CaseSide), PageError> {
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let Some(case) = tx.case_study(id).await? else {
        tx.commit().await?;
        return Err(WebError::NotFound.into());
    };
    let side = side_of(&mut tx, &case, account).await?;
    let photos = tx.case_photos(id).await?;
    tx.commit().await?;
    let side = side.ok_or(WebError::NotFound)?;
    Ok((case, photos, side))
}

#[derive(Debug, Default, Deserialize)]
struct DoneQuery {
    done: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ReviewForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    comment: String,
    /// The version of the text the person read (its last change, in microseconds):
    /// an approval is of that text, not of one changed since.
    #[serde(default)]
    seen: String,
}

#[allow(clippy::too_many_arguments)]
async fn render_review(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    tenant: &TenantPath,
    account: &Account,
    id: CaseStudyId,
    comment: &str,
    errors: &[FieldError],
    notice: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let (case, photos, side) = as_side(state, tenant, account, id).await?;
    let slug = tenant.slug();
    let path = format!("/t/{slug}/case-studies/{id}/review");
    let mine_approved = match side {
        CaseSide::Talent => case.talent_approved_at.is_some(),
        CaseSide::Host => case.host_approved_at.is_some(),
    };
    let b = Builder {
        state,
        locale,
        errors,
    };
    let (jar, csrf) = csrf_token(state, jar);
    let mut ctx = base_context(state, locale, Some(account), &path);
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", tenant.record.tenant.name.get(locale));
    ctx.insert("case", &view(state, locale, tenant, &case, &photos));
    ctx.insert(
        "side_label",
        &text(
            state,
            locale,
            match side {
                CaseSide::Talent => "cs_side_talent",
                CaseSide::Host => "cs_side_host",
            },
        ),
    );
    ctx.insert(
        "can_answer",
        &(case.status() == CaseStatus::AwaitingApproval && !mine_approved),
    );
    ctx.insert("mine_approved", &mine_approved);
    ctx.insert("seen", &case.updated_at.timestamp_micros());
    ctx.insert("action", &path);
    ctx.insert("csrf", &csrf);
    ctx.insert(
        "comment_input",
        &b.input("comment", Kind::Textarea, comment, COMMENT_MAX, true),
    );
    ctx.insert("errors", &error_lines(state, locale, errors));
    ctx.insert("notice", &notice);
    Ok((jar, render(state, "cs_review.html", ctx, locale, status)).into_response())
}

async fn review_page(
    State(state): State<AppState>,
    lang: Lang,
    tenant: TenantPath,
    SignedIn(account): SignedIn,
    jar: CookieJar,
    Path((_, id)): Path<(String, String)>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let locale = lang.or(account.locale());
    let id = case_id(&id)?;
    let notice = match q.done.as_deref() {
        Some(done @ ("approved" | "changes" | "stale")) => {
            Some(text(&state, locale, &format!("cs_review_done_{done}")))
        }
        _ => None,
    };
    render_review(
        &state,
        locale,
        jar,
        &tenant,
        &account,
        id,
        "",
        &[],
        notice,
        StatusCode::OK,
    )
    .await
}

async fn review(
    State(state): State<AppState>,
    lang: Lang,
    tenant: TenantPath,
    SignedIn(account): SignedIn,
    jar: CookieJar,
    Path((_, id)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<ReviewForm>,
) -> Result<Response, PageError> {
    let locale = lang.or(account.locale());
    let id = case_id(&id)?;
    let now = state.now();
    let mut tx = state.store.tenant(tenant.id).write().await?;
    let Some(case) = tx.case_study(id).await? else {
        tx.rollback().await?;
        return Err(WebError::NotFound.into());
    };
    let Some(side) = side_of(&mut tx, &case, &account).await? else {
        tx.rollback().await?;
        return Err(WebError::NotFound.into());
    };
    let seen = form.seen.trim().parse::<i64>().ok();
    let done = match form.decision.as_str() {
        "approve" if seen != Some(case.updated_at.timestamp_micros()) => "stale",
        "approve" => {
            if tx.approve_case_study(id, side, account.id, now).await? {
                "approved"
            } else {
                "stale"
            }
        }
        "changes" => match check_comment(&form.comment) {
            Ok(comment) => {
                if tx
                    .request_case_changes(id, &comment, account.id, now)
                    .await?
                {
                    "changes"
                } else {
                    "stale"
                }
            }
            Err(e) => {
                tx.rollback().await?;
                return render_review(
                    &state,
                    locale,
                    jar,
                    &tenant,
                    &account,
                    id,
                    &form.comment,
                    &[e],
                    None,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await;
            }
        },
        _ => {
            tx.rollback().await?;
            return Err(WebError::BadRequest("unknown decision".into()).into());
        }
    };
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "/t/{}/case-studies/{id}/review?done={done}",
        tenant.slug()
    ))
    .into_response())
}
