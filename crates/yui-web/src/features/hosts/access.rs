//! Who may do what with a tenant's hosts and projects: the casbin permissions of the
//! person in the path's tenant, and on top of `write_own` the ownership check (a
//! member of that host).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use yui_domain::{HostId, Permission};
use yui_store::{Account, TenantTx};

use crate::error::PageError;
use crate::extract::{SignedIn, TenantPath};
use crate::{AppState, WebError};

/// A signed-in person holding at least one host or project permission in the path's
/// tenant. Anyone else gets 404 with nothing of the tenant, as with `Staff<P>`.
#[derive(Debug, Clone)]
pub(crate) struct Access {
    pub account: Account,
    pub tenant: TenantPath,
    pub host_read: bool,
    pub host_manage: bool,
    pub host_own: bool,
    pub project_read: bool,
    pub project_manage: bool,
    pub project_own: bool,
}

impl FromRequestParts<AppState> for Access {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let SignedIn(account) = SignedIn::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let not_found = || PageError(WebError::NotFound).into_response();
        let slug = TenantPath::slug_of(parts).await.ok_or_else(not_found)?;
        Access::of(state, account, &slug)
            .await
            .map_err(|e| PageError(e).into_response())
    }
}

impl Access {
    /// The permissions of `account` in the tenant `slug`: 404 without any, the
    /// tenant's state (suspended: 503) only after.
    pub(crate) async fn of(
        state: &AppState,
        account: Account,
        slug: &str,
    ) -> Result<Access, WebError> {
        let now = state.now();
        let can = |p| state.authz.check(account.id, slug, p, now);
        let (host_read, host_manage, host_own) = (
            can(Permission::HostRead),
            can(Permission::HostManage),
            can(Permission::HostWriteOwn),
        );
        let (project_read, project_manage, project_own) = (
            can(Permission::ProjectRead),
            can(Permission::ProjectManage),
            can(Permission::ProjectWriteOwn),
        );
        if !(host_read || host_manage || host_own || project_read || project_manage || project_own)
        {
            return Err(WebError::NotFound);
        }
        let tenant = TenantPath::load(state, slug).await?;
        Ok(Access {
            account,
            tenant,
            host_read,
            host_manage,
            host_own,
            project_read,
            project_manage,
            project_own,
        })
    }

    /// Whether the person sees every host of the tenant (staff).
    pub(crate) fn sees_all_hosts(&self) -> bool {
        self.host_read || self.host_manage
    }

    /// Whether the person sees every project of the tenant, drafts included.
    pub(crate) fn sees_all_projects(&self) -> bool {
        self.project_read || self.project_manage
    }

    async fn member(&self, tx: &mut TenantTx, host: HostId) -> yui_store::Result<bool> {
        tx.is_host_member(host, self.account.id).await
    }

    /// Whether the person may see host `host`: staff, or a member of it.
    pub(crate) async fn can_see_host(
        &self,
        tx: &mut TenantTx,
        host: HostId,
    ) -> yui_store::Result<bool> {
        Ok(self.sees_all_hosts()
            || ((self.host_own || self.project_own) && self.member(tx, host).await?))
    }

    /// Whether the person may edit host `host`: staff who manage hosts, or a
    /// member of it holding `write_own`.
    pub(crate) async fn can_edit_host(
        &self,
        tx: &mut TenantTx,
        host: HostId,
    ) -> yui_store::Result<bool> {
        Ok(self.host_manage || (self.host_own && self.member(tx, host).await?))
    }

    /// Whether the person may see the projects of host `host` (drafts included).
    pub(crate) async fn can_see_projects_of(
        &self,
        tx: &mut TenantTx,
        host: HostId,
    ) -> yui_store::Result<bool> {
        Ok(self.sees_all_projects()
            || ((self.project_own || self.host_own) && self.member(tx, host).await?))
    }

    /// Whether the person may create and edit the projects of host `host`: staff
    /// who co-design projects, or a member of it holding `write_own`.
    pub(crate) async fn can_edit_projects_of(
        &self,
        tx: &mut TenantTx,
        host: HostId,
    ) -> yui_store::Result<bool> {
        Ok(self.project_manage || (self.project_own && self.member(tx, host).await?))
    }
}
