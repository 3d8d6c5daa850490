//! `GET /api/v1/tenants/{slug}/staff`: the staff of a tenant, for a token of that
//! tenant whose owner may read its staff.

use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use utoipa::ToSchema;
use yui_domain::Permission;
use yui_domain::audit::AuditAction;
use yui_store::{AccountsTx, AuditEntry, AuditTx};

use crate::error::{ApiError, ApiErrorBody};
use crate::extract::{Bearer, ClientIp};
use crate::{AppState, WebError};

/// A staff member as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffMember {
    pub email: String,
    /// e.g. `coordinator`
    pub role: String,
    /// When the role stops working, if it does.
    pub valid_until: Option<chrono::DateTime<chrono::Utc>>,
}

/// The staff of a tenant, for a token of that tenant whose owner may read its staff.
#[utoipa::path(
    get,
    path = "/api/v1/tenants/{slug}/staff",
    tag = "tenants",
    params(("slug" = String, Path, description = "Tenant slug")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = [StaffMember]),
        (status = 401, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody, description = "No such tenant, or not this token's tenant"),
        (status = 503, body = ApiErrorBody, description = "The tenant is suspended")
    )
)]
pub async fn staff(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    ClientIp(ip): ClientIp,
    Bearer(p): Bearer,
) -> Result<Json<Vec<StaffMember>>, ApiError> {
    let now = state.now();
    // A token works in its own tenant only; anywhere else the tenant does not exist.
    if !state
        .authz
        .check(p.account_id, &slug, Permission::StaffRead, now)
    {
        return Err(WebError::NotFound.into());
    }
    // Unknown → 404, suspended → 503, as for the pages.
    let tenant = crate::extract::TenantPath::load(&state, &slug).await?;
    if tenant.id != p.tenant_id {
        return Err(WebError::NotFound.into());
    }
    let mut tx = state.store.tenant(tenant.id).write().await?;
    let entry = AuditEntry {
        actor_id: Some(p.account_id),
        action: AuditAction::TokenUsed,
        detail: serde_json::json!({ "token": p.token_id, "route": "staff" }),
        ip,
    };
    tx.audit(&entry, now).await?;
    let mut out = Vec::new();
    for g in yui_authz::list_grants_in(&mut tx).await? {
        if g.live_at(now) && g.scope == yui_authz::Scope::Tenant {
            out.push(StaffMember {
                email: tx.account_by_id(g.account_id).await?.email,
                role: g.role.as_str().to_owned(),
                valid_until: g.valid_until,
            });
        }
    }
    tx.commit().await?;
    Ok(Json(out))
}
