//! Creating and editing projects, opening and closing them, and the co-design
//! comments: staff who co-design projects, or members of the project's host (a
//! member of another host gets 404). The list of every project and its CSV for staff.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use yui_domain::account::FieldError;
use yui_domain::audit::AuditAction;
use yui_domain::host::HostStatus;
use yui_domain::project::{ProjectInput, ProjectStatus, check_comment, check_project};
use yui_domain::talent::Skill;
use yui_domain::{HostId, Locale, ProjectId};
use yui_store::{AuditEntry, AuditTx, Host, Project};

use super::public::{Inside, render_project};
use super::{input_of, project_inputs, project_rows, text};
use crate::error::PageError;
use crate::extract::{ClientIp, CsrfForm, Lang};
use crate::features::hosts::Access;
use crate::features::hosts::form::error_lines;
use crate::render::csv::CsvDoc;
use crate::render::{base_context, datetime_text, render};
use crate::security::csrf_token;
use crate::{AppState, WebError};

/// The notice a page shows after a change (`?done=`).
#[derive(Debug, Default, Deserialize)]
pub(super) struct Notice {
    done: Option<String>,
}

impl Notice {
    pub(super) fn key(&self) -> Option<&'static str> {
        match self.done.as_deref() {
            Some("created") => Some("hp_project_created"),
            Some("saved") => Some("hp_saved"),
            Some("status") => Some("hp_status_changed"),
            Some("commented") => Some("hp_commented"),
            _ => None,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct HostQuery {
    host: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct StatusForm {
    #[serde(default)]
    to: String,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct CommentForm {
    #[serde(default)]
    body: String,
}

/// Every project of the tenant, drafts included (staff).
pub(super) async fn all(
    State(state): State<AppState>,
    lang: Lang,
    access: Access,
) -> Result<Response, PageError> {
    if !access.sees_all_projects() {
        return Err(WebError::NotFound.into());
    }
    let locale = lang.or(access.tenant.record.tenant.default_locale);
    let mut tx = state.store.tenant(access.tenant.id).read().await?;
    let projects = tx.projects().await?;
    tx.commit().await?;
    let slug = access.tenant.slug();
    let mut ctx = base_context(
        &state,
        locale,
        Some(&access.account),
        &format!("/t/{slug}/projects/all"),
    );
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", access.tenant.record.tenant.name.get(locale));
    ctx.insert("heading", &text(&state, locale, "hp_projects_all_title"));
    ctx.insert("public", &false);
    ctx.insert("projects", &project_rows(&state, locale, &projects));
    Ok(render(&state, "projects.html", ctx, locale, StatusCode::OK))
}

/// The host named by `?host=` if the person may add projects to it; else 404.
async fn host_for_new(state: &AppState, access: &Access, q: &HostQuery) -> Result<Host, PageError> {
    let id: HostId = q
        .host
        .as_deref()
        .and_then(|h| h.parse().ok())
        .ok_or(WebError::NotFound)?;
    let mut tx = state.store.tenant(access.tenant.id).read().await?;
    let host = tx.host(id).await?;
    let allowed = match &host {
        Some(h) => access.can_edit_projects_of(&mut tx, h.id).await?,
        None => false,
    };
    tx.commit().await?;
    match host {
        Some(h) if allowed => Ok(h),
        _ => Err(WebError::NotFound.into()),
    }
}

/// The form page for a new project (`project: None`) or an existing one.
#[allow(clippy::too_many_arguments)]
fn render_form(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    access: &Access,
    host: (HostId, &str),
    project: Option<ProjectId>,
    input: &ProjectInput,
    errors: &[FieldError],
    status: StatusCode,
) -> Response {
    let slug = access.tenant.slug();
    let (action, heading) = match project {
        None => (
            format!("/t/{slug}/projects/new?host={}", host.0),
            text(state, locale, "hp_project_new"),
        ),
        Some(id) => (
            format!("/t/{slug}/projects/{id}/edit"),
            text(state, locale, "hp_project_edit"),
        ),
    };
    let (jar, csrf) = csrf_token(state, jar);
    let mut ctx = base_context(state, locale, Some(&access.account), &action);
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", access.tenant.record.tenant.name.get(locale));
    ctx.insert("heading", &heading);
    ctx.insert("host_id", &host.0.get());
    ctx.insert("host_name", host.1);
    ctx.insert("project_id", &project.map(ProjectId::get));
    ctx.insert("action", &action);
    ctx.insert("csrf", &csrf);
    ctx.insert("inputs", &project_inputs(state, locale, input, errors));
    ctx.insert("errors", &error_lines(state, locale, errors));
    (jar, render(state, "project_form.html", ctx, locale, status)).into_response()
}

pub(super) async fn new_page(
    State(state): State<AppState>,
    lang: Lang,
    access: Access,
    jar: CookieJar,
    Query(q): Query<HostQuery>,
) -> Result<Response, PageError> {
    let locale = lang.or(access.tenant.record.tenant.default_locale);
    let host = host_for_new(&state, &access, &q).await?;
    let input = ProjectInput {
        kind: "business".to_owned(),
        compensation: "pro_bono".to_owned(),
        visibility: "public".to_owned(),
        remote_ratio: "50".to_owned(),
        ..ProjectInput::default()
    };
    Ok(render_form(
        &state,
        locale,
        jar,
        &access,
        (host.id, &host.name),
        None,
        &input,
        &[],
        StatusCode::OK,
    ))
}

/// Creates a project as a draft of the host named by `?host=`.
pub(super) async fn create(
    State(state): State<AppState>,
    lang: Lang,
    access: Access,
    jar: CookieJar,
    Query(q): Query<HostQuery>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let locale = lang.or(access.tenant.record.tenant.default_locale);
    let host = host_for_new(&state, &access, &q).await?;
    let input = ProjectInput::from_pairs(&pairs);
    let fields = match check_project(&input) {
        Ok(f) => f,
        Err(errors) => {
            return Ok(render_form(
                &state,
                locale,
                jar,
                &access,
                (host.id, &host.name),
                None,
                &input,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            ));
        }
    };
    let now = state.now();
    let mut tx = state.store.tenant(access.tenant.id).write().await?;
    // Checked again in the writing transaction: membership may have ended.
    if !access.can_edit_projects_of(&mut tx, host.id).await? {
        tx.rollback().await?;
        return Err(WebError::NotFound.into());
    }
    let id = tx
        .create_project(host.id, &fields, Some(access.account.id), now)
        .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "/t/{}/projects/{id}?done=created",
        access.tenant.slug()
    ))
    .into_response())
}

/// Project `id` of the path's tenant if the person may edit it; else 404.
async fn editable(state: &AppState, access: &Access, id: ProjectId) -> Result<Project, PageError> {
    let mut tx = state.store.tenant(access.tenant.id).read().await?;
    let project = tx.project(id).await?;
    let allowed = match &project {
        Some(p) => access.can_edit_projects_of(&mut tx, p.host_id).await?,
        None => false,
    };
    tx.commit().await?;
    match project {
        Some(p) if allowed => Ok(p),
        _ => Err(WebError::NotFound.into()),
    }
}

pub(super) async fn edit_page(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, i64)>,
    lang: Lang,
    access: Access,
    jar: CookieJar,
) -> Result<Response, PageError> {
    let locale = lang.or(access.tenant.record.tenant.default_locale);
    let p = editable(&state, &access, ProjectId::new(id)).await?;
    Ok(render_form(
        &state,
        locale,
        jar,
        &access,
        (p.host_id, &p.host_name),
        Some(p.id),
        &input_of(&p),
        &[],
        StatusCode::OK,
    ))
}

pub(super) async fn edit(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, i64)>,
    lang: Lang,
    access: Access,
    jar: CookieJar,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let locale = lang.or(access.tenant.record.tenant.default_locale);
    let p = editable(&state, &access, ProjectId::new(id)).await?;
    let input = ProjectInput::from_pairs(&pairs);
    let fields = match check_project(&input) {
        Ok(f) => f,
        Err(errors) => {
            return Ok(render_form(
                &state,
                locale,
                jar,
                &access,
                (p.host_id, &p.host_name),
                Some(p.id),
                &input,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            ));
        }
    };
    let now = state.now();
    let mut tx = state.store.tenant(access.tenant.id).write().await?;
    if !access.can_edit_projects_of(&mut tx, p.host_id).await?
        || !tx.update_project(p.id, &fields, now).await?
    {
        tx.rollback().await?;
        return Err(WebError::NotFound.into());
    }
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "/t/{}/projects/{}?done=saved",
        access.tenant.slug(),
        p.id
    ))
    .into_response())
}

/// The project page answering a refused change (status 409 or 422).
#[allow(clippy::too_many_arguments)]
async fn refuse(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    access: &Access,
    p: &Project,
    comment: &str,
    errors: Vec<FieldError>,
    problem: Option<&'static str>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let inside = Inside {
        access,
        can_edit: true,
        comment,
        errors,
        problem,
        notice: None,
    };
    render_project(
        state,
        locale,
        jar,
        Some(&access.account),
        &access.tenant,
        p,
        Some(inside),
        status,
    )
    .await
}

/// Opens, closes or takes back a project, recording who and when. A project opens
/// only when its host is approved.
pub(super) async fn status(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, i64)>,
    lang: Lang,
    access: Access,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    CsrfForm(form): CsrfForm<StatusForm>,
) -> Result<Response, PageError> {
    let locale = lang.or(access.tenant.record.tenant.default_locale);
    let p = editable(&state, &access, ProjectId::new(id)).await?;
    let from = p.status();
    let Some(to) = ProjectStatus::parse(&form.to).filter(|to| from.can_become(*to)) else {
        return refuse(
            &state,
            locale,
            jar,
            &access,
            &p,
            "",
            Vec::new(),
            Some("hp_err_status_move"),
            StatusCode::CONFLICT,
        )
        .await;
    };
    let now = state.now();
    let mut tx = state.store.tenant(access.tenant.id).write().await?;
    if to == ProjectStatus::Open {
        let approved = tx
            .host(p.host_id)
            .await?
            .is_some_and(|h| h.status() == HostStatus::Approved);
        if !approved {
            tx.rollback().await?;
            return refuse(
                &state,
                locale,
                jar,
                &access,
                &p,
                "",
                Vec::new(),
                Some("hp_err_host_not_approved"),
                StatusCode::CONFLICT,
            )
            .await;
        }
    }
    if !tx
        .transition_project(p.id, from, to, access.account.id, now)
        .await?
    {
        // Someone else changed it first: say so on the page as it is now.
        tx.rollback().await?;
        let p = editable(&state, &access, p.id).await?;
        return refuse(
            &state,
            locale,
            jar,
            &access,
            &p,
            "",
            Vec::new(),
            Some("hp_err_status_move"),
            StatusCode::CONFLICT,
        )
        .await;
    }
    let entry = AuditEntry {
        actor_id: Some(access.account.id),
        action: AuditAction::ProjectStatusChanged,
        detail: serde_json::json!({ "project": p.id, "from": from.code(), "to": to.code() }),
        ip,
    };
    tx.audit(&entry, now).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "/t/{}/projects/{}?done=status",
        access.tenant.slug(),
        p.id
    ))
    .into_response())
}

/// Adds a comment to the co-design thread.
pub(super) async fn comment(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, i64)>,
    lang: Lang,
    access: Access,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<CommentForm>,
) -> Result<Response, PageError> {
    let locale = lang.or(access.tenant.record.tenant.default_locale);
    let p = editable(&state, &access, ProjectId::new(id)).await?;
    let body = match check_comment(&form.body) {
        Ok(b) => b,
        Err(e) => {
            return refuse(
                &state,
                locale,
                jar,
                &access,
                &p,
                &form.body,
                vec![e],
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let now = state.now();
    let mut tx = state.store.tenant(access.tenant.id).write().await?;
    tx.add_project_comment(p.id, access.account.id, &body, now)
        .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "/t/{}/projects/{}?done=commented#comments",
        access.tenant.slug(),
        p.id
    ))
    .into_response())
}

/// Every project of the tenant as CSV, recorded in the audit log.
pub(super) async fn csv(
    State(state): State<AppState>,
    lang: Lang,
    access: Access,
    ClientIp(ip): ClientIp,
) -> Result<Response, PageError> {
    if !access.sees_all_projects() {
        return Err(WebError::NotFound.into());
    }
    let locale = lang.or(access.tenant.record.tenant.default_locale);
    let now = state.now();
    let mut tx = state.store.tenant(access.tenant.id).write().await?;
    let projects = tx.projects().await?;
    let mut skills: HashMap<ProjectId, Vec<&'static str>> = HashMap::new();
    for (id, code) in tx.project_skill_codes().await? {
        if let Some(s) = Skill::parse(&code) {
            skills.entry(id).or_default().push(s.name(locale));
        }
    }
    let header: Vec<String> = [
        "hp_col_id",
        "hp_col_host",
        "hp_field_title",
        "hp_field_kind",
        "hp_col_status",
        "hp_field_visibility",
        "hp_field_skills",
        "hp_field_hours_per_month",
        "hp_field_months",
        "hp_field_remote_ratio",
        "hp_field_compensation",
        "hp_field_amount_min",
        "hp_field_amount_max",
        "hp_field_location",
        "hp_field_challenge",
        "hp_field_help_wanted",
        "hp_col_created_at",
    ]
    .iter()
    .map(|k| text(&state, locale, k))
    .collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut doc = CsvDoc::new(&header)?;
    let sep = if locale == Locale::Ja { "、" } else { "; " };
    let num = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    for p in &projects {
        doc.row([
            p.id.to_string(),
            p.host_name.clone(),
            p.title.clone(),
            text(&state, locale, &format!("hp_kind_{}", p.kind)),
            text(&state, locale, &format!("hp_project_status_{}", p.status)),
            text(&state, locale, &format!("hp_visibility_{}", p.visibility)),
            skills.get(&p.id).map(|s| s.join(sep)).unwrap_or_default(),
            num(p.hours_per_month.map(i64::from)),
            num(p.months.map(i64::from)),
            p.remote_ratio.to_string(),
            text(&state, locale, &format!("hp_comp_{}", p.compensation)),
            num(p.amount_min),
            num(p.amount_max),
            p.location.clone(),
            p.challenge.clone(),
            p.help_wanted.clone(),
            datetime_text(locale, p.created_at),
        ])?;
    }
    let entry = AuditEntry {
        actor_id: Some(access.account.id),
        action: AuditAction::Export,
        detail: serde_json::json!({ "export": "projects", "rows": doc.rows() }),
        ip,
    };
    tx.audit(&entry, now).await?;
    tx.commit().await?;
    Ok(doc.into_response(&format!("projects-{}.csv", access.tenant.slug()))?)
}
