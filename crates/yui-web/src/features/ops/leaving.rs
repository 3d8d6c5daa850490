//! A region leaving the platform. An operator asks for an export of its whole data
//! (for a region that moves elsewhere) or for its deletion, with a reason; a second
//! operator confirms. A confirmed export can be downloaded for a week, as a ZIP
//! archive: `README.txt`, one JSON file per table, the members' summaries and the
//! logo. A deletion waits [`DELETION_WAIT_DAYS`] after the request; then either
//! operator erases the region's data, keeping its anonymous yearly figures. Every
//! step is audited on the platform.

use std::io::Write;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Duration, Utc};
use serde::Deserialize;
use yui_domain::FiscalYear;
use yui_domain::audit::AuditAction;
use yui_domain::kpi::History;
use yui_store::{
    AuditEntry, AuditTx, LeavingKind, LeavingRequest, PlatformReason, PlatformTx, StoreError,
};

use crate::error::PageError;
use crate::extract::{ClientIp, CsrfForm, CsrfOnly, Lang, Operator, TenantOffboard, TenantPath};
use crate::{AppState, WebError};

/// Days between asking for a deletion and carrying it out: time for the region to
/// take its export and for a mistaken request to be cancelled.
pub(crate) const DELETION_WAIT_DAYS: i64 = 30;

/// Days a confirmed export stays downloadable.
const EXPORT_DAYS: i64 = 7;

/// Fiscal years whose figures are kept when a region is deleted, counted back from
/// the current one (the platform began in FY2018's programs).
const YEARS_KEPT: i32 = 12;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct RequestForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    reason: String,
}

/// The longest reason kept.
const REASON_MAX: usize = 500;

/// Writes a step's audit row on the platform's own trail (it outlives the tenant's
/// erasure) and commits it with the step.
async fn audited_commit(
    mut tx: PlatformTx,
    actor: &yui_store::Account,
    ip: String,
    (action, detail): (AuditAction, serde_json::Value),
    now: chrono::DateTime<Utc>,
) -> Result<(), PageError> {
    let entry = AuditEntry {
        actor_id: Some(actor.id),
        action,
        detail,
        ip,
    };
    tx.audit(&entry, now).await?;
    tx.commit().await?;
    Ok(())
}

/// The notice for a step the store refused: by the requester themselves, or on a
/// request no longer open. Anything else is a failure.
fn refusal(e: StoreError) -> Result<&'static str, PageError> {
    match e {
        StoreError::Invalid(_) => Ok("leaving_second_operator"),
        StoreError::NotFound => Ok("leaving_not_open"),
        e => Err(e.into()),
    }
}

fn back(slug: &str, done: &str) -> Response {
    Redirect::to(&format!("/ops/tenants/{slug}?done={done}#leaving")).into_response()
}

/// `POST /ops/tenants/{slug}/leaving`: asks for an export or a deletion.
pub(super) async fn request(
    State(state): State<AppState>,
    lang: Lang,
    operator: Operator<TenantOffboard>,
    ClientIp(ip): ClientIp,
    jar: axum_extra::extract::CookieJar,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<RequestForm>,
) -> Result<Response, PageError> {
    let locale = lang.or(yui_domain::Locale::Ja);
    let tenant = TenantPath::load_even_suspended(&state, &slug).await?;
    let now = state.now();
    let kind = LeavingKind::parse(&form.kind);
    let reason = form.reason.trim();
    let mut errors = Vec::new();
    if kind.is_none() {
        errors.push(yui_domain::account::FieldError {
            field: "kind",
            problem: yui_domain::account::Problem::InvalidChoice,
        });
    }
    match reason.chars().count() {
        0 => errors.push(yui_domain::account::FieldError {
            field: "reason",
            problem: yui_domain::account::Problem::Required,
        }),
        n if n > REASON_MAX => errors.push(yui_domain::account::FieldError {
            field: "reason",
            problem: yui_domain::account::Problem::TooLong { max: REASON_MAX },
        }),
        _ => {}
    }
    let (Some(kind), true) = (kind, errors.is_empty()) else {
        let forms = super::Forms {
            leaving: Some((&form.kind, &form.reason)),
            errors,
            ..super::Forms::default()
        };
        return super::show_tenant(&state, locale, &operator.account, jar, &slug, forms).await;
    };
    let not_before = match kind {
        LeavingKind::Export => now,
        LeavingKind::Delete => now + Duration::days(DELETION_WAIT_DAYS),
    };
    let mut tx = state
        .store
        .platform(PlatformReason::OperatorConsole)
        .write()
        .await?;
    let id = match tx
        .request_leaving(
            tenant.id,
            kind,
            reason,
            operator.account.id,
            (now, not_before),
        )
        .await
    {
        Ok(id) => id,
        // The same request is already open: nothing to add.
        Err(StoreError::Conflict(_)) => {
            tx.rollback().await?;
            return Ok(back(&slug, "leaving_open"));
        }
        Err(e) => return Err(e.into()),
    };
    audited_commit(
        tx,
        &operator.account,
        ip,
        (
            AuditAction::TenantLeavingRequested,
            serde_json::json!({
                "tenant": slug, "request": id, "kind": kind.as_str(), "reason": reason,
                "not_before": not_before,
            }),
        ),
        now,
    )
    .await?;
    Ok(back(&slug, "leaving_requested"))
}

/// The request `id` of tenant `slug`, or 404.
async fn find(
    state: &AppState,
    slug: &str,
    id: i64,
) -> Result<(TenantPath, LeavingRequest), PageError> {
    let tenant = TenantPath::load_even_suspended(state, slug).await?;
    let mut tx = state
        .store
        .platform(PlatformReason::OperatorConsole)
        .read()
        .await?;
    let found = tx
        .leaving_requests(tenant.id)
        .await?
        .into_iter()
        .find(|r| r.id == id);
    tx.commit().await?;
    match found {
        Some(r) => Ok((tenant, r)),
        None => Err(WebError::NotFound.into()),
    }
}

/// `POST /ops/tenants/{slug}/leaving/{id}/confirm`: a second operator confirms.
pub(super) async fn confirm(
    State(state): State<AppState>,
    operator: Operator<TenantOffboard>,
    ClientIp(ip): ClientIp,
    Path((slug, id)): Path<(String, i64)>,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let (tenant, _) = find(&state, &slug, id).await?;
    let now = state.now();
    let mut tx = state
        .store
        .platform(PlatformReason::OperatorConsole)
        .write()
        .await?;
    let confirmed = tx
        .confirm_leaving(tenant.id, id, operator.account.id, now)
        .await;
    if let Err(e) = confirmed {
        tx.rollback().await?;
        return Ok(back(&slug, refusal(e)?));
    }
    audited_commit(
        tx,
        &operator.account,
        ip,
        (
            AuditAction::TenantLeavingConfirmed,
            serde_json::json!({ "tenant": slug, "request": id }),
        ),
        now,
    )
    .await?;
    Ok(back(&slug, "leaving_confirmed"))
}

/// `POST /ops/tenants/{slug}/leaving/{id}/cancel`.
pub(super) async fn cancel(
    State(state): State<AppState>,
    operator: Operator<TenantOffboard>,
    ClientIp(ip): ClientIp,
    Path((slug, id)): Path<(String, i64)>,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let (tenant, _) = find(&state, &slug, id).await?;
    let now = state.now();
    let mut tx = state
        .store
        .platform(PlatformReason::OperatorConsole)
        .write()
        .await?;
    if let Err(e) = tx.cancel_leaving(tenant.id, id, now).await {
        tx.rollback().await?;
        return Ok(back(&slug, refusal(e)?));
    }
    audited_commit(
        tx,
        &operator.account,
        ip,
        (
            AuditAction::TenantLeavingCancelled,
            serde_json::json!({ "tenant": slug, "request": id }),
        ),
        now,
    )
    .await?;
    Ok(back(&slug, "leaving_cancelled"))
}

const README: &str = "Yui: a region's whole data, exported when it leaves the platform.\n\
\n\
tables/<table>.json  every row of each table that carries the region's tenant_id, as\n\
                     a JSON array of objects (column name: value). Times are UTC.\n\
                     Binary columns are hexadecimal text. Password, token and link\n\
                     hashes are left out, and so are the mail as sent (its links\n\
                     still work) and API tokens.\n\
members.json         the region's talent members whose consent is live: account id,\n\
                     name, reading, prefecture of residence (1-47), consent version\n\
                     and time, and whether hosts may see them. Profiles stay with\n\
                     their owners: members are asked to join the new platform.\n\
tenant.toml          the region's settings in the tenant-file format of Yui.\n\
logo.svg / logo.png  the region's logo.\n\
\n\
Ids are Yui's; rows refer to each other by them (tenant_id, id).\n";

/// `GET /ops/tenants/{slug}/leaving/{id}/archive.zip`: the export, while confirmed
/// and fresh. Each download is audited.
pub(super) async fn archive(
    State(state): State<AppState>,
    operator: Operator<TenantOffboard>,
    ClientIp(ip): ClientIp,
    Path((slug, id)): Path<(String, i64)>,
) -> Result<Response, PageError> {
    let (tenant, request) = find(&state, &slug, id).await?;
    let now = state.now();
    let usable = request.kind == LeavingKind::Export
        && request.is_open()
        && request
            .confirmed_at
            .is_some_and(|at| now < at + Duration::days(EXPORT_DAYS));
    if !usable {
        return Err(WebError::NotFound.into());
    }
    let mut tx = state
        .store
        .platform(PlatformReason::OperatorConsole)
        .read()
        .await?;
    let tables = tx.export_tenant_tables(tenant.id).await?;
    tx.commit().await?;
    let mut ttx = state.store.tenant(tenant.id).read().await?;
    let members = ttx.talent_members().await?;
    let (logo, _) = ttx.logo_file().await?;
    ttx.commit().await?;
    let members: Vec<serde_json::Value> = members
        .iter()
        .map(|m| {
            serde_json::json!({
                "account_id": m.account_id,
                "display_name": m.display_name,
                "kana": m.kana,
                "residence": m.residence,
                "consented_at": m.consented_at,
                "consent_version": m.consent_version,
                "hosts": m.hosts,
            })
        })
        .collect();
    let tenant_file = yui_domain::settings::tenant_file_text(&tenant.record.tenant);
    let bytes = zip_archive(&tables, &members, &tenant_file, &logo)
        .map_err(|e| WebError::Internal(format!("writing the archive: {e}")))?;
    let tx = state
        .store
        .platform(PlatformReason::OperatorConsole)
        .write()
        .await?;
    audited_commit(
        tx,
        &operator.account,
        ip,
        (
            AuditAction::TenantExported,
            serde_json::json!({ "tenant": slug, "request": id, "bytes": bytes.len() }),
        ),
        now,
    )
    .await?;
    let name = format!(
        "yui-{slug}-{}.zip",
        now.with_timezone(&yui_domain::fiscal::tokyo())
            .format("%Y%m%d")
    );
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .map_err(|e| WebError::Internal(e.to_string()))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/zip"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        bytes,
    )
        .into_response())
}

fn zip_archive(
    tables: &[(String, String)],
    members: &[serde_json::Value],
    tenant_file: &str,
    logo: &yui_domain::settings::Logo,
) -> zip::result::ZipResult<Vec<u8>> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("README.txt", opts)?;
    zip.write_all(README.as_bytes())?;
    for (table, json) in tables {
        zip.start_file(format!("tables/{table}.json"), opts)?;
        zip.write_all(json.as_bytes())?;
    }
    zip.start_file("members.json", opts)?;
    let members = serde_json::to_vec_pretty(members).unwrap_or_default();
    zip.write_all(&members)?;
    zip.start_file("tenant.toml", opts)?;
    zip.write_all(tenant_file.as_bytes())?;
    zip.start_file(logo.kind.file_name(), opts)?;
    zip.write_all(&logo.bytes)?;
    Ok(zip.finish()?.into_inner())
}

/// `POST /ops/tenants/{slug}/leaving/{id}/erase`: carries out a confirmed deletion
/// whose waiting period is over. The region's yearly figures go to its history
/// first, then its data is erased, in one transaction per step.
pub(super) async fn erase(
    State(state): State<AppState>,
    operator: Operator<TenantOffboard>,
    ClientIp(ip): ClientIp,
    Path((slug, id)): Path<(String, i64)>,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let (tenant, request) = find(&state, &slug, id).await?;
    let now = state.now();
    if request.kind != LeavingKind::Delete || !request.is_open() {
        return Ok(back(&slug, "leaving_not_open"));
    }
    if request.confirmed_at.is_none() || now < request.not_before {
        return Ok(back(&slug, "leaving_not_yet"));
    }
    keep_statistics(&state, &tenant, &operator.account, now).await?;
    let mut tx = state
        .store
        .platform(PlatformReason::OperatorConsole)
        .write()
        .await?;
    // Two operators pressing at once: the second finds it done.
    if !tx.finish_leaving(tenant.id, id, now).await? {
        tx.rollback().await?;
        return Ok(back(&slug, "leaving_not_open"));
    }
    tx.erase_tenant(tenant.id, now).await?;
    audited_commit(
        tx,
        &operator.account,
        ip,
        (
            AuditAction::TenantDeleted,
            serde_json::json!({ "tenant": slug, "request": id }),
        ),
        now,
    )
    .await?;
    // Its roles are gone: every node reloads who may do what.
    yui_authz::bump_policy_version(&state.store).await?;
    state.authz.refresh_if_changed(&state.store, now).await?;
    Ok(back(&slug, "leaving_erased"))
}

/// Puts each recent fiscal year's anonymous figures (matches, newly engaged hosts,
/// attendees) into the tenant's history, where it has none: they survive erasure.
async fn keep_statistics(
    state: &AppState,
    tenant: &TenantPath,
    actor: &yui_store::Account,
    now: chrono::DateTime<Utc>,
) -> Result<(), PageError> {
    let today = now.with_timezone(&yui_domain::fiscal::tokyo()).date_naive();
    let current = FiscalYear::containing(today);
    let home = tenant
        .record
        .tenant
        .code
        .as_ref()
        .and_then(|c| c.prefecture_prefix().parse::<u8>().ok());
    let mut tx = state.store.tenant(tenant.id).write().await?;
    let recorded: Vec<i32> = tx
        .kpi_history()
        .await?
        .iter()
        .map(|h| h.fiscal_year.0)
        .collect();
    for year in (current.0 - YEARS_KEPT + 1..=current.0).map(FiscalYear) {
        if recorded.contains(&year.0) {
            continue;
        }
        let f = tx.kpi_figures(year, today, home).await?;
        let kept = History {
            fiscal_year: year,
            matches: f.matches.total,
            hosts: f.hosts_engaged.total,
            participants: f.attendees.total,
        };
        if kept.matches + kept.hosts + kept.participants > 0 {
            tx.put_kpi_history(year, Some(&kept), actor.id, now).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}
