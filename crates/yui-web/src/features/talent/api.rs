//! `GET /api/v1/tenants/{slug}/talents`: the tenant's talents whose consent is live,
//! for a token of that tenant whose owner may read its talents. Leaving a region
//! removes the person from the next answer, as from the pages.

use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use utoipa::ToSchema;
use yui_domain::Permission;
use yui_domain::audit::AuditAction;
use yui_store::{AuditEntry, AuditTx};

use crate::error::{ApiError, ApiErrorBody};
use crate::extract::{Bearer, ClientIp};
use crate::{AppState, WebError};

/// A member as the API shows them.
#[derive(Debug, Serialize, ToSchema)]
pub struct TalentMemberJson {
    /// The account id, as in `/t/{slug}/talents/{id}`.
    pub id: i64,
    pub display_name: String,
    /// The reading in katakana; empty until the talent saved a profile.
    pub kana: String,
    /// The prefecture of residence by JIS code (`"13"`), if given.
    pub residence: Option<String>,
    /// The version of the consent text the talent agreed to.
    pub consent_version: i32,
    /// When they agreed (Japan time).
    pub consented_at: chrono::DateTime<chrono::FixedOffset>,
    /// Whether the consent covers the tenant's host organizations.
    pub hosts: bool,
}

/// The tenant's talents whose consent is live.
#[utoipa::path(
    get,
    path = "/api/v1/tenants/{slug}/talents",
    tag = "tenants",
    params(("slug" = String, Path, description = "Tenant slug")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = [TalentMemberJson]),
        (status = 401, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody, description = "No such tenant, or not this token's tenant"),
        (status = 503, body = ApiErrorBody, description = "The tenant is suspended")
    )
)]
pub async fn talents(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    ClientIp(ip): ClientIp,
    Bearer(p): Bearer,
) -> Result<Json<Vec<TalentMemberJson>>, ApiError> {
    let now = state.now();
    // A token works in its own tenant only; anywhere else the tenant does not exist.
    if !state
        .authz
        .check(p.account_id, &slug, Permission::TalentRead, now)
    {
        return Err(WebError::NotFound.into());
    }
    let tenant = crate::extract::TenantPath::load(&state, &slug).await?;
    if tenant.id != p.tenant_id {
        return Err(WebError::NotFound.into());
    }
    let mut tx = state.store.tenant(tenant.id).write().await?;
    let entry = AuditEntry {
        actor_id: Some(p.account_id),
        action: AuditAction::TokenUsed,
        detail: serde_json::json!({ "token": p.token_id, "route": "talents" }),
        ip,
    };
    tx.audit(&entry, now).await?;
    let members = tx.talent_members().await?;
    tx.commit().await?;
    let tokyo = yui_domain::fiscal::tokyo();
    Ok(Json(
        members
            .into_iter()
            .map(|m| TalentMemberJson {
                id: m.account_id.get(),
                display_name: m.display_name,
                kana: m.kana,
                residence: m.residence.map(|r| format!("{r:02}")),
                consent_version: m.consent_version,
                consented_at: m.consented_at.with_timezone(&tokyo),
                hosts: m.hosts,
            })
            .collect(),
    ))
}
