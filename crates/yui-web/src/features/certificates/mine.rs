//! The holder's own certificate: the printable page, the signed file, and revoking.
//! Another person's code is 404, exactly like a code that does not exist.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use yui_domain::audit::AuditAction;
use yui_domain::certificate::{CertificateCode, Verdict};
use yui_store::{Account, AuditEntry, AuditTx, Certificate};

use super::{check_stored, document_of, sheet_view};
use crate::error::PageError;
use crate::extract::{ClientIp, CsrfForm, CsrfOnly, Lang, SignedIn};
use crate::render::{base_context, datetime_text, render};
use crate::security::csrf_token;
use crate::{AppState, WebError};

async fn own(state: &AppState, account: &Account, raw: &str) -> Result<Certificate, WebError> {
    let code = CertificateCode::parse(raw).ok_or(WebError::NotFound)?;
    let mut tx = state.store.account(account.id).read().await?;
    let found = tx.my_certificate(&code).await?;
    tx.commit().await?;
    found.ok_or(WebError::NotFound)
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct MineQuery {
    issued: Option<String>,
    revoked: Option<String>,
}

pub(super) async fn page(
    State(state): State<AppState>,
    lang: Lang,
    SignedIn(account): SignedIn,
    jar: CookieJar,
    Path(raw): Path<String>,
    Query(q): Query<MineQuery>,
) -> Result<Response, PageError> {
    let locale = lang.or(account.locale());
    let mine = own(&state, &account, &raw).await?;
    // The holder sees what a third party would: the stored signature checked.
    let checked = check_stored(&state, &mine.code).await?;
    let c = &state.inner.catalogs;
    let (jar, csrf) = csrf_token(&state, jar);
    let mut ctx = base_context(
        &state,
        locale,
        Some(&account),
        &format!("/me/certificates/{}", mine.code),
    );
    match &checked.verdict {
        Verdict::Valid(p) | Verdict::Revoked(p) => {
            ctx.insert("sheet", &sheet_view(&state, locale, p));
        }
        Verdict::DoesNotVerify => {}
    }
    ctx.insert("verdict", checked.verdict.code());
    ctx.insert("code", &mine.code);
    ctx.insert("key_id", &mine.key_id);
    ctx.insert("csrf", &csrf);
    ctx.insert(
        "revoked_at",
        &mine.revoked_at.map(|at| datetime_text(locale, at)),
    );
    ctx.insert(
        "public_url",
        &state.link(&format!("/certificates/{}", mine.code)),
    );
    ctx.insert("verify_url", &state.link("/certificates/verify"));
    ctx.insert("keys_url", &state.link("/api/v1/certificates/keys"));
    let notice = if q.issued.is_some() {
        Some(c.text(locale, "cert_issued_notice"))
    } else {
        q.revoked.map(|_| c.text(locale, "cert_revoked_notice"))
    };
    ctx.insert("notice", &notice);
    Ok((
        jar,
        render(&state, "cert_mine.html", ctx, locale, StatusCode::OK),
    )
        .into_response())
}

/// The signed certificate as a file: the payload text, its signature and key id.
pub(super) async fn download(
    State(state): State<AppState>,
    SignedIn(account): SignedIn,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let mine = own(&state, &account, &raw).await?;
    let body = document_of(&state, &mine).to_json();
    let mut res = (StatusCode::OK, body).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    // The code is URL-safe base64, so the file name needs no quoting beyond this.
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"yui-certificate-{}.json\"",
        mine.code
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

pub(super) async fn revoke(
    State(state): State<AppState>,
    SignedIn(account): SignedIn,
    ClientIp(ip): ClientIp,
    Path(raw): Path<String>,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let mine = own(&state, &account, &raw).await?;
    let code = CertificateCode::parse(&mine.code).ok_or(WebError::NotFound)?;
    let now = state.now();
    let mut tx = state.store.tenant(mine.tenant_id).write().await?;
    if tx.revoke_certificate_of(account.id, &code, now).await? {
        // The code stays out of the log: it opens the public page with the name.
        let entry = AuditEntry {
            actor_id: Some(account.id),
            action: AuditAction::CertificateRevoked,
            detail: serde_json::json!({ "fiscal_year": mine.fiscal_year, "key_id": mine.key_id }),
            ip,
        };
        tx.audit(&entry, now).await?;
    }
    tx.commit().await?;
    Ok(Redirect::to(&format!("/me/certificates/{}?revoked=1", mine.code)).into_response())
}
