use std::sync::Arc;

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use yui_domain::{TenantId, TenantStatus};
use yui_store::TenantRecord;

use crate::error::PageError;
use crate::{AppState, WebError};

/// The tenant a path names (`/t/{slug}/…`), active. An unknown slug answers 404, a
/// suspended tenant 503, a database outage 503 — once, here, for every route.
#[derive(Debug, Clone)]
pub struct TenantPath {
    pub id: TenantId,
    pub record: Arc<TenantRecord>,
}

impl TenantPath {
    pub fn slug(&self) -> &str {
        &self.record.tenant.slug
    }

    /// The slug in the request's path, if the route has one.
    pub(crate) async fn slug_of(parts: &mut Parts) -> Option<String> {
        let params = RawPathParams::from_request_parts(parts, &()).await.ok()?;
        params
            .iter()
            .find(|(name, _)| *name == "slug")
            .map(|(_, v)| v.to_owned())
    }

    pub(crate) async fn load(state: &AppState, slug: &str) -> Result<TenantPath, WebError> {
        let tenant = Self::load_even_suspended(state, slug).await?;
        if tenant.is_suspended() {
            return Err(WebError::Suspended);
        }
        Ok(tenant)
    }

    /// The tenant whatever its status: only for those who must see into a suspended
    /// tenant (platform operators reading its audit log), after their permission.
    pub(crate) async fn load_even_suspended(
        state: &AppState,
        slug: &str,
    ) -> Result<TenantPath, WebError> {
        // One indexed query, whatever the number of tenants.
        let record = Arc::new(state.store.tenant_by_slug(slug).await?);
        Ok(TenantPath {
            id: record.id,
            record,
        })
    }

    pub fn is_suspended(&self) -> bool {
        self.record.status == TenantStatus::Suspended
    }
}

impl FromRequestParts<AppState> for TenantPath {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let slug = Self::slug_of(parts).await.ok_or(WebError::NotFound)?;
        Ok(TenantPath::load(state, &slug).await?)
    }
}
