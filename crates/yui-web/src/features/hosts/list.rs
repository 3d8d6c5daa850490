//! The hosts page: staff see every host of the tenant and register new ones; a host
//! member sees their own. The CSV export of every host for staff.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use yui_domain::Locale;
use yui_domain::account::FieldError;
use yui_domain::audit::AuditAction;
use yui_domain::host::{HostInput, HostStatus};
use yui_store::{AuditEntry, AuditTx};

use super::form::error_lines;
use super::{Access, check, host_inputs, host_row, municipality_name, name_taken, status_text};
use crate::error::PageError;
use crate::extract::{ClientIp, CsrfForm, Lang};
use crate::render::csv::CsvDoc;
use crate::render::{base_context, datetime_text, render};
use crate::security::csrf_token;
use crate::{AppState, WebError};

#[derive(Debug, Default, Deserialize)]
pub(super) struct Notice {
    done: Option<String>,
}

async fn render_hosts(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    access: &Access,
    input: &HostInput,
    errors: &[FieldError],
    status: StatusCode,
) -> Result<Response, PageError> {
    let tenant = &access.tenant;
    let slug = tenant.slug();
    let t = &tenant.record.tenant;
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let hosts = if access.sees_all_hosts() {
        tx.hosts().await?
    } else {
        tx.hosts_of_member(access.account.id).await?
    };
    tx.commit().await?;
    let rows: Vec<_> = hosts
        .iter()
        .map(|h| host_row(state, locale, t, h))
        .collect();
    let (jar, csrf) = csrf_token(state, jar);
    let mut ctx = base_context(
        state,
        locale,
        Some(&access.account),
        &format!("/t/{slug}/hosts"),
    );
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", t.name.get(locale));
    ctx.insert("hosts", &rows);
    ctx.insert("staff", &access.sees_all_hosts());
    ctx.insert("can_create", &access.host_manage);
    ctx.insert("can_see_projects", &access.sees_all_projects());
    ctx.insert("csrf", &csrf);
    ctx.insert("inputs", &host_inputs(state, locale, t, input, errors));
    ctx.insert("errors", &error_lines(state, locale, errors));
    Ok((jar, render(state, "hosts.html", ctx, locale, status)).into_response())
}

pub(super) async fn page(
    State(state): State<AppState>,
    lang: Lang,
    access: Access,
    jar: CookieJar,
) -> Result<Response, PageError> {
    if !(access.sees_all_hosts() || access.host_own || access.project_own) {
        return Err(WebError::NotFound.into());
    }
    let locale = lang.or(access.tenant.record.tenant.default_locale);
    render_hosts(
        &state,
        locale,
        jar,
        &access,
        &HostInput::default(),
        &[],
        StatusCode::OK,
    )
    .await
}

/// Registers a host (pending until approved). Bad input answers the page again with
/// every problem named and what was typed kept; a name the region already has too.
pub(super) async fn create(
    State(state): State<AppState>,
    lang: Lang,
    access: Access,
    jar: CookieJar,
    CsrfForm(input): CsrfForm<HostInput>,
) -> Result<Response, PageError> {
    if !access.host_manage {
        return Err(WebError::NotFound.into());
    }
    let locale = lang.or(access.tenant.record.tenant.default_locale);
    let refuse = |errors: Vec<FieldError>| {
        let (state, access, input) = (&state, &access, &input);
        let jar = jar.clone();
        async move {
            render_hosts(
                state,
                locale,
                jar,
                access,
                input,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    };
    let fields = match check(&input, &access.tenant.record.tenant) {
        Ok(f) => f,
        Err(errors) => return refuse(errors).await,
    };
    let now = state.now();
    let mut tx = state.store.tenant(access.tenant.id).write().await?;
    let id = match tx
        .create_host(&fields, HostStatus::Pending, Some(access.account.id), now)
        .await
    {
        Ok(id) => id,
        Err(e) => {
            tx.rollback().await?;
            return match name_taken(&e) {
                Some(errors) => refuse(errors).await,
                None => Err(e.into()),
            };
        }
    };
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "/t/{}/hosts/{id}?done=created",
        access.tenant.slug()
    ))
    .into_response())
}

/// Every host of the tenant as CSV, recorded in the audit log.
pub(super) async fn csv(
    State(state): State<AppState>,
    lang: Lang,
    access: Access,
    ClientIp(ip): ClientIp,
) -> Result<Response, PageError> {
    if !access.sees_all_hosts() {
        return Err(WebError::NotFound.into());
    }
    let locale = lang.or(access.tenant.record.tenant.default_locale);
    let t = &access.tenant.record.tenant;
    let c = &state.inner.catalogs;
    let now = state.now();
    let mut tx = state.store.tenant(access.tenant.id).write().await?;
    let hosts = tx.hosts().await?;
    let header: Vec<String> = [
        "hp_col_id",
        "hp_field_name",
        "hp_field_kana",
        "hp_field_municipality_code",
        "hp_col_municipality",
        "hp_field_industry",
        "hp_field_summary",
        "hp_field_website",
        "hp_col_status",
        "hp_col_created_at",
    ]
    .iter()
    .map(|k| c.text(locale, k).to_owned())
    .collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut doc = CsvDoc::new(&header)?;
    for h in &hosts {
        doc.row([
            h.id.to_string(),
            h.name.clone(),
            h.kana.clone(),
            h.municipality_code.clone(),
            municipality_name(t, locale, &h.municipality_code),
            h.industry.clone(),
            h.summary.clone(),
            h.website.clone().unwrap_or_default(),
            status_text(&state, locale, &h.status),
            datetime_text(locale, h.created_at),
        ])?;
    }
    let entry = AuditEntry {
        actor_id: Some(access.account.id),
        action: AuditAction::Export,
        detail: serde_json::json!({ "export": "hosts", "rows": doc.rows() }),
        ip,
    };
    tx.audit(&entry, now).await?;
    tx.commit().await?;
    Ok(doc.into_response(&format!("hosts-{}.csv", access.tenant.slug()))?)
}

impl Notice {
    pub(super) fn key(&self) -> Option<&'static str> {
        match self.done.as_deref() {
            Some("created") => Some("hp_host_created"),
            Some("saved") => Some("hp_saved"),
            Some("status") => Some("hp_status_changed"),
            Some("invited") => Some("hp_member_invited"),
            _ => None,
        }
    }
}

pub(super) type NoticeQuery = Query<Notice>;
