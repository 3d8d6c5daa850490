use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

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

    /// A tenant whose public listings anyone may read: live, and not being set up
    /// (such a region is not found until its administrator puts it live).
    pub(crate) async fn load_listed(state: &AppState, slug: &str) -> Result<TenantPath, WebError> {
        let tenant = Self::load(state, slug).await?;
        if tenant.record.is_setting_up() {
            return Err(WebError::NotFound);
        }
        Ok(tenant)
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
        let cache = &state.inner.tenants;
        let record = match cache.get(slug) {
            Some(record) => record,
            None => {
                // Both taken before the read: the copy is as old as the moment asked.
                let seen = yui_store::local_tenant_changes();
                let asked_at = Instant::now();
                // One indexed query, whatever the number of tenants.
                let record = Arc::new(state.store.tenant_by_slug(slug).await?);
                cache.put(slug, Arc::clone(&record), seen, asked_at);
                record
            }
        };
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

/// Tenants read in the last second, by slug. Every page inside a tenant needs its
/// tenant, and reading it costs the database a transaction of its own: on the public
/// event page that was half of the page's round trips to the database.
///
/// A change written by this process (a suspension, `tenant apply`) is seen by the
/// requests that begin after it: the entry remembers [`yui_store::local_tenant_changes`]
/// as it was before the row was read. The store counts the change as it writes it,
/// before the commit, so a request that read the row in between keeps the old copy for
/// at most [`Self::FRESH`] — as long as a change written by another node takes.
/// Writes inside a tenant do not rely on this: their transactions check that the
/// tenant is active themselves.
#[derive(Default)]
pub(crate) struct TenantCache {
    entries: Mutex<HashMap<String, Cached>>,
}

struct Cached {
    record: Arc<TenantRecord>,
    changes_seen: u64,
    read_at: Instant,
}

impl TenantCache {
    const FRESH: Duration = Duration::from_secs(1);
    /// Above this many entries, stale ones are dropped when one is added: the cache
    /// holds the tenants of the last second, not all 1,788.
    const TIDY_ABOVE: usize = 256;

    fn get(&self, slug: &str) -> Option<Arc<TenantRecord>> {
        let changes = yui_store::local_tenant_changes();
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries
            .get(slug)
            .filter(|c| c.changes_seen == changes && c.read_at.elapsed() < Self::FRESH)
            .map(|c| Arc::clone(&c.record))
    }

    fn put(&self, slug: &str, record: Arc<TenantRecord>, changes_seen: u64, read_at: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() > Self::TIDY_ABOVE {
            entries.retain(|_, c| c.read_at.elapsed() < Self::FRESH);
        }
        // A slow reader does not replace a copy read after it.
        if entries
            .get(slug)
            .is_some_and(|c| c.read_at > read_at && c.changes_seen >= changes_seen)
        {
            return;
        }
        entries.insert(
            slug.to_owned(),
            Cached {
                record,
                changes_seen,
                read_at,
            },
        );
    }
}
