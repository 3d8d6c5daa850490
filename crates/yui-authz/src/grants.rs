//! Granting and revoking roles, and listing who holds what.
//!
//! The `_in` functions work in the caller's tenant transaction, so a grant commits
//! together with what belongs to it (the invited person's account, the invitation
//! mail, the audit entry). The others open a transaction of their own. Either way
//! the policy version is bumped in the same transaction; a node sees the change at
//! its next poll, or at once after [`SharedAuthz::refresh_if_changed`](crate::SharedAuthz::refresh_if_changed).

use chrono::{DateTime, Utc};
use tracing::instrument;
use yui_domain::{AccountId, GrantId};
use yui_store::{PlatformReason, PolicyTx, Store, TenantTx};

use crate::changes::{self, Change};
use crate::error::{AuthzError, Result};
use crate::role::{Role, Scope, scope_allowed};
use crate::rules::GrantPlace;
use crate::stored::{self, StoredGrant};

/// A role to grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGrant {
    pub account_id: AccountId,
    pub role: Role,
    /// `Tenant` or `Children` with a tenant; `Global` (platform operators) without.
    pub scope: Scope,
    /// The tenant's slug; `None` for a platform-wide grant.
    pub tenant: Option<String>,
    /// The grant stops working at this instant, e.g. the end of a fiscal year
    /// (2026-04-01T00:00:00+09:00 for FY2025). `None`: until revoked.
    pub valid_until: Option<DateTime<Utc>>,
    /// Who granted it, for the record.
    pub granted_by: Option<AccountId>,
}

/// A stored grant that has not been revoked (it may have ended).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub id: GrantId,
    pub account_id: AccountId,
    pub role: Role,
    pub scope: Scope,
    /// The tenant's slug; `None` for platform-wide grants.
    pub tenant: Option<String>,
    pub valid_until: Option<DateTime<Utc>>,
    pub granted_by: Option<AccountId>,
    pub created_at: DateTime<Utc>,
}

impl Grant {
    /// Whether the grant works at `now`.
    pub fn live_at(&self, now: DateTime<Utc>) -> bool {
        self.valid_until.is_none_or(|u| now < u)
    }

    /// `tenant` is the slug of the grant's tenant.
    fn new(stored: StoredGrant, tenant: Option<String>) -> Grant {
        Grant {
            id: stored.id,
            account_id: stored.account_id,
            role: stored.role,
            scope: stored.place.scope(),
            tenant,
            valid_until: stored.valid_until,
            granted_by: stored.granted_by,
            created_at: stored.created_at,
        }
    }
}

/// What can be checked of a new grant without the database: the role fits the scope,
/// and a tenant is named exactly when the scope needs one.
fn check_shape(new: &NewGrant) -> Result<()> {
    if !scope_allowed(new.role, new.scope) {
        return Err(AuthzError::Invalid(if new.role == Role::PlatformOperator {
            "scope: platform_operator is granted platform-wide only (scope global)".to_owned()
        } else {
            format!(
                "scope: {} is granted in a tenant (scope tenant or children)",
                new.role
            )
        }));
    }
    match (&new.tenant, new.scope) {
        (None, Scope::Global) | (Some(_), Scope::Tenant | Scope::Children) => Ok(()),
        (Some(_), Scope::Global) => Err(AuthzError::Invalid(
            "tenant: a platform-wide grant names no tenant".to_owned(),
        )),
        (None, _) => Err(AuthzError::Invalid(format!(
            "tenant: scope {} needs a tenant",
            new.scope
        ))),
    }
}

fn check_end(new: &NewGrant, now: DateTime<Utc>) -> Result<()> {
    if new.valid_until.is_some_and(|u| u <= now) {
        return Err(AuthzError::Invalid(
            "valid_until: the grant would already have ended".to_owned(),
        ));
    }
    Ok(())
}

fn no_tenant(slug: &str) -> AuthzError {
    AuthzError::Invalid(format!("tenant: no tenant {slug:?}"))
}

fn grant_change(new: &NewGrant, place: GrantPlace) -> Change {
    Change::Grant {
        account_id: new.account_id,
        role: new.role,
        place,
        valid_until: new.valid_until,
        granted_by: new.granted_by,
    }
}

/// Grants a role, in a transaction of its own with the policy-version bump: a
/// tenant's for a grant in or on a tenant (see [`grant_in`]), a platform one for a
/// platform-wide grant. Granting a role the account already holds there with another
/// end replaces that grant (the old row is kept, revoked); with the same end it
/// changes nothing. Returns the live grant.
#[instrument(skip_all, fields(account = %new.account_id, role = %new.role, tenant = new.tenant.as_deref()), err(level = "warn"))]
pub async fn grant(store: &Store, new: &NewGrant, now: DateTime<Utc>) -> Result<Grant> {
    check_shape(new)?;
    if let Some(slug) = &new.tenant {
        let tenant = stored::tenant_node(store, slug)
            .await?
            .ok_or_else(|| no_tenant(slug))?;
        let mut tx = store.tenant(tenant.id).write().await?;
        let granted = grant_in(&mut tx, new, now).await?;
        tx.commit().await?;
        return Ok(granted);
    }
    check_end(new, now)?;
    let mut tx = store.platform(PlatformReason::Policy).write().await?;
    let outcomes =
        changes::apply_platform(&mut tx, &[grant_change(new, GrantPlace::Global)], now).await?;
    let id = outcomes
        .first()
        .and_then(|o| o.grant_id)
        .ok_or(AuthzError::NotFound)?;
    let row = tx.grant_row(id).await?.ok_or(AuthzError::NotFound)?;
    tx.commit().await?;
    let stored = stored::parse_grant(&row).ok_or(AuthzError::NotFound)?;
    Ok(Grant::new(stored, None))
}

/// Grants a role in or on the transaction's tenant, inside the caller's transaction:
/// it takes effect when that commits, with everything else the transaction wrote.
/// As [`grant`] otherwise. A grant naming another tenant, or a platform-wide one, is
/// [`AuthzError::Invalid`] and changes nothing.
#[instrument(skip_all, fields(tenant = %tx.tenant_id(), account = %new.account_id, role = %new.role), err(level = "warn"))]
pub async fn grant_in(tx: &mut TenantTx, new: &NewGrant, now: DateTime<Utc>) -> Result<Grant> {
    check_shape(new)?;
    let Some(slug) = &new.tenant else {
        return Err(AuthzError::Invalid(
            "tenant: a platform-wide grant is not made in a tenant's transaction".to_owned(),
        ));
    };
    let tenant = tx
        .tenant_node_by_slug(slug)
        .await?
        .ok_or_else(|| no_tenant(slug))?;
    if tenant.id != tx.tenant_id() {
        return Err(AuthzError::Invalid(format!(
            "tenant: {slug:?} is not the tenant of this transaction"
        )));
    }
    check_end(new, now)?;
    let place = GrantPlace::new(new.scope, Some(tenant.id))
        .ok_or_else(|| AuthzError::Invalid("scope: does not fit the tenant".to_owned()))?;
    let outcomes = changes::apply_in(tx, &[grant_change(new, place)], now).await?;
    let id = outcomes
        .first()
        .and_then(|o| o.grant_id)
        .ok_or(AuthzError::NotFound)?;
    let row = tx.grant_row(id).await?.ok_or(AuthzError::NotFound)?;
    let stored = stored::parse_grant(&row).ok_or(AuthzError::NotFound)?;
    Ok(Grant::new(stored, Some(tenant.slug)))
}

/// Revokes a live grant of any tenant (or a platform-wide one), in a platform
/// transaction of its own with the policy-version bump.
/// [`AuthzError::NotFound`] when there is no such grant or it was already revoked.
#[instrument(skip_all, fields(grant = %grant_id), err(level = "warn"))]
pub async fn revoke(
    store: &Store,
    grant_id: GrantId,
    revoked_by: Option<AccountId>,
    now: DateTime<Utc>,
) -> Result<()> {
    changes::apply(
        store,
        &[Change::RevokeId {
            id: grant_id,
            revoked_by,
        }],
        now,
    )
    .await?;
    Ok(())
}

/// Revokes a live grant of the transaction's tenant, inside the caller's transaction.
/// [`AuthzError::NotFound`] when there is no such grant, it was already revoked, or it
/// is another tenant's (or platform-wide); nothing changes then.
#[instrument(skip_all, fields(tenant = %tx.tenant_id(), grant = %grant_id), err(level = "warn"))]
pub async fn revoke_in(
    tx: &mut TenantTx,
    grant_id: GrantId,
    revoked_by: Option<AccountId>,
    now: DateTime<Utc>,
) -> Result<()> {
    changes::apply_in(
        tx,
        &[Change::RevokeId {
            id: grant_id,
            revoked_by,
        }],
        now,
    )
    .await?;
    Ok(())
}

/// The grants held in or on a tenant (both scopes), or with `None` the platform-wide
/// ones; ended grants included (see [`Grant::live_at`]), revoked ones not. Oldest first.
/// An unknown tenant is [`AuthzError::NotFound`].
#[instrument(skip_all, fields(tenant = tenant), err(level = "warn"))]
pub async fn list_grants(store: &Store, tenant: Option<&str>) -> Result<Vec<Grant>> {
    match tenant {
        Some(slug) => {
            let node = stored::tenant_node(store, slug)
                .await?
                .ok_or(AuthzError::NotFound)?;
            let mut tx = store.tenant(node.id).read().await?;
            let grants = list_grants_in(&mut tx).await?;
            tx.commit().await?;
            Ok(grants)
        }
        None => {
            let mut tx = store.platform(PlatformReason::Policy).read().await?;
            let rows = tx.grant_rows_of(None).await?;
            tx.commit().await?;
            Ok(stored::parse_grants(&rows)
                .into_iter()
                .map(|g| Grant::new(g, None))
                .collect())
        }
    }
}

/// The grants held in or on the transaction's tenant (both scopes); ended ones
/// included, revoked ones not. Oldest first.
#[instrument(skip_all, fields(tenant = %tx.tenant_id()), err(level = "warn"))]
pub async fn list_grants_in(tx: &mut TenantTx) -> Result<Vec<Grant>> {
    let node = tx.node().await?;
    let rows = tx.grant_rows().await?;
    Ok(stored::parse_grants(&rows)
        .into_iter()
        .map(|g| Grant::new(g, Some(node.slug.clone())))
        .collect())
}
