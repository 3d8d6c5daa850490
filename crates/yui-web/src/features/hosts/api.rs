//! Hosts in the JSON API, for a token of the tenant whose owner may read (list) or
//! manage (create) its hosts. Another tenant's slug or ids answer 404.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yui_domain::Permission;
use yui_domain::account::FieldError;
use yui_domain::audit::AuditAction;
use yui_domain::host::{HostInput, HostStatus};
use yui_store::{AuditEntry, AuditTx, TenantTx, TokenPrincipal};

use crate::error::{ApiError, ApiErrorBody};
use crate::extract::{Bearer, ClientIp, TenantPath};
use crate::{AppState, WebError};

/// The tenant of the path, if the token belongs to it and its owner holds one of
/// `needs` there; anything else is 404, as if the tenant did not exist.
pub(crate) async fn token_tenant(
    state: &AppState,
    slug: &str,
    p: &TokenPrincipal,
    needs: &[Permission],
) -> Result<TenantPath, ApiError> {
    let now = state.now();
    if !needs
        .iter()
        .any(|n| state.authz.check(p.account_id, slug, *n, now))
    {
        return Err(WebError::NotFound.into());
    }
    let tenant = TenantPath::load(state, slug).await?;
    if tenant.id != p.tenant_id {
        return Err(WebError::NotFound.into());
    }
    Ok(tenant)
}

/// Records the token's use in the tenant's audit log, in `tx`.
pub(crate) async fn audit_use(
    tx: &mut TenantTx,
    p: &TokenPrincipal,
    route: &str,
    ip: String,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), ApiError> {
    let entry = AuditEntry {
        actor_id: Some(p.account_id),
        action: AuditAction::TokenUsed,
        detail: serde_json::json!({ "token": p.token_id, "route": route }),
        ip,
    };
    tx.audit(&entry, now).await?;
    Ok(())
}

/// A field problem's stable code in the API (`required`, `too_long`, …).
pub(crate) fn problem_code(e: &FieldError) -> String {
    match serde_json::to_value(e.problem) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(serde_json::Value::Object(o)) => o.keys().next().cloned().unwrap_or_default(),
        _ => "invalid".to_owned(),
    }
}

/// 422 naming every bad field: `{"error": "invalid", "message", "fields"}`.
pub(crate) fn invalid(errors: &[FieldError]) -> Response {
    let mut body = ApiErrorBody::new("invalid", "Some fields are not valid.");
    for e in errors {
        body.fields.insert(e.field.to_owned(), problem_code(e));
    }
    (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
}

/// A JSON body, or 400 in the API's error shape.
pub(crate) fn json_body<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| WebError::BadRequest(e.to_string()).into())
}

/// A host as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiHost {
    pub id: i64,
    pub name: String,
    /// Reading in katakana.
    pub kana: String,
    /// The municipality's local-government code.
    pub municipality_code: String,
    pub industry: String,
    pub summary: String,
    pub website: Option<String>,
    /// `pending`, `approved` or `archived`.
    pub status: String,
}

/// A host to register (it starts `pending`). A missing field reads as empty, so it
/// is named in a 422 (`required`) like any other bad field, not refused as 400.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewHost {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub kana: String,
    #[serde(default)]
    pub municipality_code: String,
    #[serde(default)]
    pub industry: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub website: String,
}

/// The id of what was created.
#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
}

/// Every host of the tenant.
#[utoipa::path(
    get,
    path = "/api/v1/tenants/{slug}/hosts",
    tag = "hosts",
    params(("slug" = String, Path, description = "Tenant slug")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = [ApiHost]),
        (status = 401, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody, description = "No such tenant, or not this token's tenant"),
        (status = 503, body = ApiErrorBody, description = "The tenant is suspended")
    )
)]
pub async fn list(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    ClientIp(ip): ClientIp,
    Bearer(p): Bearer,
) -> Result<Json<Vec<ApiHost>>, ApiError> {
    let tenant = token_tenant(
        &state,
        &slug,
        &p,
        &[Permission::HostRead, Permission::HostManage],
    )
    .await?;
    let now = state.now();
    let mut tx = state.store.tenant(tenant.id).write().await?;
    audit_use(&mut tx, &p, "hosts", ip, now).await?;
    let hosts = tx.hosts().await?;
    tx.commit().await?;
    Ok(Json(
        hosts
            .into_iter()
            .map(|h| ApiHost {
                id: h.id.get(),
                name: h.name,
                kana: h.kana,
                municipality_code: h.municipality_code,
                industry: h.industry,
                summary: h.summary,
                website: h.website,
                status: h.status,
            })
            .collect(),
    ))
}

/// Registers a host of the tenant, pending approval.
#[utoipa::path(
    post,
    path = "/api/v1/tenants/{slug}/hosts",
    tag = "hosts",
    params(("slug" = String, Path, description = "Tenant slug")),
    request_body = NewHost,
    security(("bearer" = [])),
    responses(
        (status = 201, body = Created),
        (status = 400, body = ApiErrorBody, description = "Not JSON of this shape"),
        (status = 401, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody, description = "No such tenant, or not this token's tenant"),
        (status = 409, body = ApiErrorBody, description = "The region already has a host of this name"),
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
    let tenant = token_tenant(&state, &slug, &p, &[Permission::HostManage]).await?;
    let new: NewHost = json_body(&body)?;
    let input = HostInput {
        name: new.name,
        kana: new.kana,
        municipality_code: new.municipality_code,
        industry: new.industry,
        summary: new.summary,
        website: new.website,
    };
    let fields = match yui_domain::host::check_host(&input, &tenant.record.tenant) {
        Ok(f) => f,
        Err(errors) => return Ok(invalid(&errors)),
    };
    let now = state.now();
    let mut tx = state.store.tenant(tenant.id).write().await?;
    audit_use(&mut tx, &p, "hosts.create", ip, now).await?;
    let id = match tx
        .create_host(&fields, HostStatus::Pending, Some(p.account_id), now)
        .await
    {
        Ok(id) => id,
        Err(e) => {
            tx.rollback().await?;
            return Err(e.into());
        }
    };
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(Created { id: id.get() })).into_response())
}
