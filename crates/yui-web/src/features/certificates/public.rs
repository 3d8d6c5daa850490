//! Checking a certificate without an account: its public page by code, and a form
//! where the downloaded file is pasted. They show only what the certificate states,
//! and only while it verifies and is not revoked.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use yui_domain::Locale;
use yui_domain::account::{FieldError, Problem};
use yui_domain::certificate::Verdict;

use super::{check_document, check_stored, sheet_view};
use crate::AppState;
use crate::error::PageError;
use crate::extract::{CsrfForm, Lang, Viewer};
use crate::render::{base_context, error_views, render};
use crate::security::csrf_token;

/// The most text the verification form reads: a certificate of a busy year is a
/// few kilobytes.
const DOCUMENT_MAX: usize = 64 * 1024;

fn verdict_context(state: &AppState, locale: Locale, ctx: &mut tera::Context, verdict: &Verdict) {
    ctx.insert("verdict", verdict.code());
    // Facts only for a certificate that holds: a revoked or altered one states nothing.
    if let Verdict::Valid(p) = verdict {
        ctx.insert("sheet", &sheet_view(state, locale, p));
    }
}

pub(super) async fn page(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let locale = lang.or(viewer.0.as_ref().map_or(Locale::Ja, |a| a.locale()));
    let checked = check_stored(&state, &raw).await?;
    let mut ctx = base_context(
        &state,
        locale,
        viewer.0.as_ref(),
        &format!("/certificates/{}", checked.stored.code),
    );
    verdict_context(&state, locale, &mut ctx, &checked.verdict);
    ctx.insert("code", &checked.stored.code);
    ctx.insert("checked", &true);
    Ok(render(
        &state,
        "cert_public.html",
        ctx,
        locale,
        StatusCode::OK,
    ))
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct VerifyForm {
    #[serde(default)]
    document: String,
}

fn verify_form(
    state: &AppState,
    locale: Locale,
    viewer: &Viewer,
    csrf: &str,
    document: &str,
    errors: &[FieldError],
) -> tera::Context {
    let mut ctx = base_context(state, locale, viewer.0.as_ref(), "/certificates/verify");
    ctx.insert("csrf", csrf);
    ctx.insert("document", document);
    ctx.insert("errors", &error_views(state, locale, errors));
    ctx.insert(
        "document_error",
        &errors
            .first()
            .map(|e| crate::render::field_message(state, locale, e)),
    );
    ctx
}

pub(super) async fn verify_page(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    jar: CookieJar,
) -> Result<Response, PageError> {
    let locale = lang.or(viewer.0.as_ref().map_or(Locale::Ja, |a| a.locale()));
    let (jar, csrf) = csrf_token(&state, jar);
    let ctx = verify_form(&state, locale, &viewer, &csrf, "", &[]);
    Ok((
        jar,
        render(&state, "cert_verify.html", ctx, locale, StatusCode::OK),
    )
        .into_response())
}

pub(super) async fn verify(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<VerifyForm>,
) -> Result<Response, PageError> {
    let locale = lang.or(viewer.0.as_ref().map_or(Locale::Ja, |a| a.locale()));
    let (jar, csrf) = csrf_token(&state, jar);
    let problem = if form.document.trim().is_empty() {
        Some(Problem::Required)
    } else if form.document.len() > DOCUMENT_MAX {
        Some(Problem::TooLong { max: DOCUMENT_MAX })
    } else {
        None
    };
    if let Some(problem) = problem {
        let errors = [FieldError {
            field: "document",
            problem,
        }];
        // An over-long paste is not sent back into the page.
        let echo = if form.document.len() > DOCUMENT_MAX {
            ""
        } else {
            form.document.as_str()
        };
        let ctx = verify_form(&state, locale, &viewer, &csrf, echo, &errors);
        return Ok((
            jar,
            render(
                &state,
                "cert_verify.html",
                ctx,
                locale,
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
        )
            .into_response());
    }
    let verdict = check_document(&state, &form.document).await?;
    let mut ctx = verify_form(&state, locale, &viewer, &csrf, &form.document, &[]);
    verdict_context(&state, locale, &mut ctx, &verdict);
    ctx.insert("checked", &true);
    Ok((
        jar,
        render(&state, "cert_verify.html", ctx, locale, StatusCode::OK),
    )
        .into_response())
}
