//! The operator console: every tenant with its staff count, suspend and resume.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};
use yui_domain::audit::AuditAction;
use yui_domain::{Locale, TenantStatus};
use yui_store::{AuditEntry, PlatformReason};

use crate::error::PageError;
use crate::extract::{
    ClientIp, CsrfForm, CsrfOnly, Lang, Operator, TenantRead, TenantResume, TenantSuspend,
};
use crate::render::{base_context, render};
use crate::security::csrf_token;
use crate::{AppState, WebError};

pub(crate) const TEMPLATES: &[(&str, &str)] = &[("ops.html", include_str!("templates/ops.html"))];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ops/", get(console))
        .route("/ops/tenants/{slug}/suspend", post(suspend))
        .route("/ops/tenants/{slug}/resume", post(resume))
}

#[derive(Debug, Default, Deserialize)]
struct Notice {
    done: Option<String>,
}

async fn console(
    State(state): State<AppState>,
    lang: Lang,
    operator: Operator<TenantRead>,
    jar: CookieJar,
    Query(q): Query<Notice>,
) -> Result<Response, PageError> {
    let locale = lang.or(Locale::Ja);
    let c = &state.inner.catalogs;
    let mut tx = state
        .store
        .platform(PlatformReason::OperatorConsole)
        .read()
        .await?;
    let counts: std::collections::HashMap<_, _> = tx.staff_counts().await?.into_iter().collect();
    tx.commit().await?;
    #[derive(Serialize)]
    struct Row {
        slug: String,
        name: String,
        kind: String,
        staff: i64,
        suspended: bool,
        status_label: String,
    }
    let rows: Vec<Row> = state
        .store
        .list_tenants()
        .await?
        .into_iter()
        .map(|r| Row {
            staff: counts.get(&r.id).copied().unwrap_or(0),
            suspended: r.status == TenantStatus::Suspended,
            status_label: c
                .text(locale, &format!("status_{}", r.status.as_str()))
                .to_owned(),
            kind: c
                .text(locale, &format!("kind_{}", r.tenant.kind.as_str()))
                .to_owned(),
            name: r.tenant.name.get(locale).to_owned(),
            slug: r.tenant.slug,
        })
        .collect();
    let (jar, csrf) = csrf_token(&state, jar);
    let mut ctx = base_context(&state, locale, Some(&operator.account), "/ops/");
    ctx.insert("rows", &rows);
    ctx.insert("csrf", &csrf);
    ctx.insert("notice", &q.done.map(|_| c.text(locale, "ops_done")));
    Ok((jar, render(&state, "ops.html", ctx, locale, StatusCode::OK)).into_response())
}

/// Suspends or resumes the tenant `slug`, with its audit row, in one transaction.
async fn set_status(
    state: &AppState,
    slug: &str,
    operator: &yui_store::Account,
    ip: String,
    (status, action): (TenantStatus, AuditAction),
) -> Result<Response, PageError> {
    let now = state.now();
    let tenant = match state.store.tenant_by_slug(slug).await {
        Ok(t) => t,
        Err(yui_store::StoreError::NotFound) => return Err(WebError::NotFound.into()),
        Err(e) => return Err(e.into()),
    };
    let mut tx = state
        .store
        .platform(PlatformReason::OperatorConsole)
        .write()
        .await?;
    tx.set_tenant_status(tenant.id, status, now).await?;
    let entry = AuditEntry {
        actor_id: Some(operator.id),
        action,
        detail: serde_json::json!({ "tenant": slug }),
        ip,
    };
    tx.audit_in_tenant(tenant.id, &entry, now).await?;
    tx.commit().await?;
    Ok(Redirect::to("/ops/?done=1").into_response())
}

async fn suspend(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    operator: Operator<TenantSuspend>,
    ClientIp(ip): ClientIp,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let change = (TenantStatus::Suspended, AuditAction::TenantSuspended);
    set_status(&state, &slug, &operator.account, ip, change).await
}

async fn resume(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    operator: Operator<TenantResume>,
    ClientIp(ip): ClientIp,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let change = (TenantStatus::Active, AuditAction::TenantResumed);
    set_status(&state, &slug, &operator.account, ip, change).await
}
