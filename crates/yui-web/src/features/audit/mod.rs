//! Audit logs: a tenant's, for those who may read it there, and the whole
//! platform's, for operators. Entries read as words: what happened, who did it, to
//! whom, in the person's language and Japan time.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde::Serialize;
use yui_domain::{AccountId, Locale};
use yui_store::{Account, AccountsTx, AuditRecord, Tx};

use crate::AppState;
use crate::error::PageError;
use crate::extract::{AuditRead, Lang, Operator, PlatformAuditRead, StaffOrOperator};
use crate::render::{base_context, datetime_text, render};

pub(crate) const TEMPLATES: &[(&str, &str)] =
    &[("audit.html", include_str!("templates/audit.html"))];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/t/{slug}/audit", get(tenant_audit))
        .route("/ops/audit", get(platform_audit))
}

/// How many entries a page shows.
const PAGE: i64 = 200;

#[derive(Serialize)]
struct Row {
    time: String,
    action: String,
    actor: String,
    ip: String,
    detail: String,
}

/// A person as the log names them: their name and address, or `#id` when gone.
async fn person<T: Tx>(tx: &mut T, id: AccountId) -> String {
    match tx.account_by_id(id).await {
        Ok(a) if a.display_name.is_empty() => a.email,
        Ok(a) => format!("{} <{}>", a.display_name, a.email),
        Err(_) => format!("#{id}"),
    }
}

/// The detail of an entry in words: known keys named in the person's language,
/// account ids as people, roles by their names.
async fn detail_text<T: Tx>(
    state: &AppState,
    locale: Locale,
    tx: &mut T,
    detail: &serde_json::Value,
) -> String {
    let c = &state.inner.catalogs;
    let Some(map) = detail.as_object() else {
        return String::new();
    };
    let mut parts = Vec::new();
    for (key, value) in map {
        let shown = match (key.as_str(), value) {
            ("account", serde_json::Value::Number(n)) => match n.as_i64() {
                Some(id) => person(tx, AccountId::new(id)).await,
                None => n.to_string(),
            },
            ("role", serde_json::Value::String(r)) => {
                c.text(locale, &format!("role_{r}")).to_owned()
            }
            (_, serde_json::Value::Null) => continue,
            (_, serde_json::Value::String(s)) => s.clone(),
            (_, other) => other.to_string(),
        };
        // A detail key without a label (a feature newer than this list) shows as
        // itself rather than failing the whole log.
        let label_key = format!("audit_key_{key}");
        let label = if c.has(&label_key) {
            c.text(locale, &label_key).to_owned()
        } else {
            key.clone()
        };
        let sep = if locale == Locale::Ja { "：" } else { ": " };
        parts.push(format!("{label}{sep}{shown}"));
    }
    parts.join(" / ")
}

async fn rows<T: Tx>(
    state: &AppState,
    locale: Locale,
    tx: &mut T,
    entries: Vec<AuditRecord>,
) -> Vec<Row> {
    let c = &state.inner.catalogs;
    let mut rows = Vec::with_capacity(entries.len());
    for e in entries {
        let actor = match e.actor_id {
            Some(id) => person(tx, id).await,
            None => "-".to_owned(),
        };
        rows.push(Row {
            time: datetime_text(locale, e.created_at),
            action: c
                .text(locale, &format!("audit_action_{}", e.action))
                .to_owned(),
            actor,
            ip: e.ip,
            detail: detail_text(state, locale, tx, &e.detail.0).await,
        });
    }
    rows
}

fn page_context(
    state: &AppState,
    locale: Locale,
    viewer: &Account,
    scope_name: &str,
    path: &str,
    rows: &[Row],
) -> tera::Context {
    let mut ctx = base_context(state, locale, Some(viewer), path);
    ctx.insert("scope_name", scope_name);
    ctx.insert("entries", rows);
    ctx.insert("suspended", &false);
    ctx
}

fn page(
    state: &AppState,
    locale: Locale,
    viewer: &Account,
    scope_name: &str,
    path: &str,
    rows: &[Row],
) -> Response {
    let ctx = page_context(state, locale, viewer, scope_name, path, rows);
    render(state, "audit.html", ctx, locale, StatusCode::OK)
}

async fn tenant_audit(
    State(state): State<AppState>,
    lang: Lang,
    staff: StaffOrOperator<AuditRead>,
) -> Result<Response, PageError> {
    let tenant = &staff.tenant;
    let locale = lang.or(tenant.record.tenant.default_locale);
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let entries = tx.audit_entries(PAGE).await?;
    let rows = rows(&state, locale, &mut tx, entries).await;
    tx.commit().await?;
    let path = format!("/t/{}/audit", tenant.slug());
    let name = tenant.record.tenant.name.get(locale);
    let mut ctx = page_context(&state, locale, &staff.account, name, &path, &rows);
    // Only an operator gets here for a suspended tenant; say so, so nobody takes the
    // quiet log for a quiet tenant.
    ctx.insert("suspended", &tenant.is_suspended());
    Ok(render(&state, "audit.html", ctx, locale, StatusCode::OK))
}

async fn platform_audit(
    State(state): State<AppState>,
    lang: Lang,
    operator: Operator<PlatformAuditRead>,
) -> Result<Response, PageError> {
    let locale = lang.or(Locale::Ja);
    let mut tx = state
        .store
        .platform(yui_store::PlatformReason::OperatorConsole)
        .read()
        .await?;
    let entries = tx.audit_entries(PAGE).await?;
    let rows = rows(&state, locale, &mut tx, entries).await;
    tx.commit().await?;
    let name = state.inner.catalogs.text(locale, "audit_platform");
    Ok(page(
        &state,
        locale,
        &operator.account,
        name,
        "/ops/audit",
        &rows,
    ))
}
