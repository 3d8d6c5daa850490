//! Projects in the JSON API: the public list of a tenant's open public projects
//! (the contract in DESIGN.md), and for a staff token every project and creating
//! one. Another tenant's slug or ids answer 404.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yui_domain::project::{ProjectInput, check_project};
use yui_domain::{HostId, Permission};
use yui_store::Project;

use crate::error::{ApiError, ApiErrorBody};
use crate::extract::{Bearer, ClientIp, TenantPath};
use crate::features::hosts::api::{Created, audit_use, invalid, json_body, token_tenant};
use crate::{AppState, WebError};

/// A project's host as lists show it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectHost {
    pub id: i64,
    pub name: String,
}

/// An open public project.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicProject {
    pub id: i64,
    pub title: String,
    /// `business` or `fan_community`.
    pub kind: String,
    pub host: ProjectHost,
    /// Always `open` here.
    pub status: String,
}

/// A project as staff see it, drafts included.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffProject {
    pub id: i64,
    pub title: String,
    /// `business` or `fan_community`.
    pub kind: String,
    pub host: ProjectHost,
    /// `draft`, `open` or `closed`.
    pub status: String,
    /// `public` or `members`.
    pub visibility: String,
}

/// A project to create (it starts as a draft).
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewProject {
    pub host_id: i64,
    pub title: String,
    pub challenge: String,
    pub help_wanted: String,
    /// `business` or `fan_community`.
    pub kind: String,
    /// Skill codes of the taxonomy, e.g. `sns`.
    #[serde(default)]
    pub skills: Vec<String>,
    pub hours_per_month: Option<u64>,
    pub months: Option<u64>,
    /// Percent of the work done remotely, 0–100.
    pub remote_ratio: u64,
    /// `pro_bono`, `expenses`, `honorarium` or `contract`.
    pub compensation: String,
    /// Yen; only for an honorarium or a contract.
    pub amount_min: Option<u64>,
    pub amount_max: Option<u64>,
    #[serde(default)]
    pub location: String,
    /// `public` or `members`.
    pub visibility: String,
}

fn host_of(p: &Project) -> ProjectHost {
    ProjectHost {
        id: p.host_id.get(),
        name: p.host_name.clone(),
    }
}

/// The tenant's open public projects, newest first, 50 at a time (`before` pages on).
#[utoipa::path(
    get,
    path = "/api/v1/tenants/{slug}/projects",
    tag = "projects",
    params(
        ("slug" = String, Path, description = "Tenant slug"),
        ("before" = Option<i64>, Query, description = "Only projects older than this id (the last id of the previous page)")
    ),
    responses(
        (status = 200, body = [PublicProject]),
        (status = 404, body = ApiErrorBody, description = "No such tenant"),
        (status = 503, body = ApiErrorBody, description = "The tenant is suspended")
    )
)]
pub async fn public_list(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(page): Query<super::public::Before>,
) -> Result<Json<Vec<PublicProject>>, ApiError> {
    let tenant = TenantPath::load_listed(&state, &slug).await?;
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let projects = tx
        .open_public_projects(page.id(), super::public::LIST_LIMIT)
        .await?;
    tx.commit().await?;
    Ok(Json(
        projects
            .iter()
            .map(|p| PublicProject {
                id: p.id.get(),
                title: p.title.clone(),
                kind: p.kind.clone(),
                host: host_of(p),
                status: p.status.clone(),
            })
            .collect(),
    ))
}

/// Every project of the tenant, drafts and closed ones included.
#[utoipa::path(
    get,
    path = "/api/v1/tenants/{slug}/projects/all",
    tag = "projects",
    params(("slug" = String, Path, description = "Tenant slug")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = [StaffProject]),
        (status = 401, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody, description = "No such tenant, or not this token's tenant")
    )
)]
pub async fn staff_list(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    ClientIp(ip): ClientIp,
    Bearer(p): Bearer,
) -> Result<Json<Vec<StaffProject>>, ApiError> {
    let tenant = token_tenant(
        &state,
        &slug,
        &p,
        &[Permission::ProjectRead, Permission::ProjectManage],
    )
    .await?;
    let now = state.now();
    let mut tx = state.store.tenant(tenant.id).write().await?;
    audit_use(&mut tx, &p, "projects", ip, now).await?;
    let projects = tx.projects().await?;
    tx.commit().await?;
    Ok(Json(
        projects
            .iter()
            .map(|pr| StaffProject {
                id: pr.id.get(),
                title: pr.title.clone(),
                kind: pr.kind.clone(),
                host: host_of(pr),
                status: pr.status.clone(),
                visibility: pr.visibility.clone(),
            })
            .collect(),
    ))
}

/// Creates a draft project of one of the tenant's hosts.
#[utoipa::path(
    post,
    path = "/api/v1/tenants/{slug}/projects",
    tag = "projects",
    params(("slug" = String, Path, description = "Tenant slug")),
    request_body = NewProject,
    security(("bearer" = [])),
    responses(
        (status = 201, body = Created),
        (status = 400, body = ApiErrorBody, description = "Not JSON of this shape"),
        (status = 401, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody, description = "No such tenant or host, or not this token's tenant"),
        (status = 422, body = ApiErrorBody, description = "Fields not valid, named in `fields`")
    )
)]
pub async fn create(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    ClientIp(ip): ClientIp,
    Bearer(p): Bearer,
    body: Bytes,
) -> Result<Response, ApiError> {
    let tenant = token_tenant(&state, &slug, &p, &[Permission::ProjectManage]).await?;
    let new: NewProject = json_body(&body)?;
    let n = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
    let input = ProjectInput {
        title: new.title,
        challenge: new.challenge,
        help_wanted: new.help_wanted,
        kind: new.kind,
        skills: new.skills,
        hours_per_month: n(new.hours_per_month),
        months: n(new.months),
        remote_ratio: new.remote_ratio.to_string(),
        compensation: new.compensation,
        amount_min: n(new.amount_min),
        amount_max: n(new.amount_max),
        location: new.location,
        visibility: new.visibility,
    };
    let fields = match check_project(&input) {
        Ok(f) => f,
        Err(errors) => return Ok(invalid(&errors)),
    };
    let now = state.now();
    let mut tx = state.store.tenant(tenant.id).write().await?;
    // Another tenant's host id is no host of this tenant.
    let Some(host) = tx.host(HostId::new(new.host_id)).await? else {
        tx.rollback().await?;
        return Err(WebError::NotFound.into());
    };
    audit_use(&mut tx, &p, "projects.create", ip, now).await?;
    let id = tx
        .create_project(host.id, &fields, Some(p.account_id), now)
        .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(Created { id: id.get() })).into_response())
}
