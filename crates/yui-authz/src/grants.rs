//! Granting and revoking roles, and listing who holds what.

use chrono::{DateTime, Utc};
use tracing::instrument;
use yui_store::{Store, TenantTx, raw_tx, with_tx};

use crate::changes::{Change, apply, apply_in_tx};
use crate::db::{self, GrantRow, with_pool};
use crate::error::{AuthzError, Result};
use crate::role::{Role, Scope, scope_allowed};
use crate::rules::{GrantPlace, TenantTree};

/// A role to grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGrant {
    pub account_id: i64,
    pub role: Role,
    /// `Tenant` or `Children` with a tenant; `Global` (platform operators) without.
    pub scope: Scope,
    /// The tenant's slug; `None` for a platform-wide grant.
    pub tenant: Option<String>,
    /// The grant stops working at this instant, e.g. the end of a fiscal year
    /// (2026-04-01T00:00:00+09:00 for FY2025). `None`: until revoked.
    pub valid_until: Option<DateTime<Utc>>,
    /// Who granted it, for the record.
    pub granted_by: Option<i64>,
}

/// A stored grant that has not been revoked (it may have ended).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub id: i64,
    pub account_id: i64,
    pub role: Role,
    pub scope: Scope,
    /// The tenant's slug; `None` for platform-wide grants.
    pub tenant: Option<String>,
    pub valid_until: Option<DateTime<Utc>>,
    pub granted_by: Option<i64>,
    pub created_at: DateTime<Utc>,
}

impl Grant {
    /// Whether the grant works at `now`.
    pub fn live_at(&self, now: DateTime<Utc>) -> bool {
        self.valid_until.is_none_or(|u| now < u)
    }

    fn from_row(row: GrantRow, tenants: &TenantTree) -> Grant {
        Grant {
            id: row.id,
            account_id: row.account_id,
            role: row.role,
            scope: row.place.scope(),
            tenant: row
                .place
                .tenant_id()
                .and_then(|t| tenants.slug_of(t))
                .map(str::to_owned),
            valid_until: row.valid_until,
            granted_by: row.granted_by,
            created_at: row.created_at,
        }
    }
}

async fn tenant_id(store: &Store, slug: &str) -> Result<Option<i64>> {
    Ok(with_pool!(store, pool => {
        sqlx::query_as::<_, (i64,)>("SELECT id FROM tenants WHERE slug = $1")
            .bind(slug)
            .fetch_optional(pool)
            .await?
    })
    .map(|(id,)| id))
}

/// Checks a new grant's role, scope and end; the tenant is resolved by the caller.
fn check_new(new: &NewGrant, now: DateTime<Utc>) -> Result<()> {
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
    if new.valid_until.is_some_and(|u| u <= now) {
        return Err(AuthzError::Invalid(
            "valid_until: the grant would already have ended".to_owned(),
        ));
    }
    Ok(())
}

/// The tenant id and slug of a tenant transaction.
async fn own_tenant(tx: &mut TenantTx) -> Result<(i64, String)> {
    let id = tx.tenant_id().get();
    let row: Option<(String,)> = with_tx!(raw_tx(tx), conn => {
        sqlx::query_as("SELECT slug FROM tenants WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut **conn)
            .await?
    });
    Ok((id, row.ok_or(AuthzError::NotFound)?.0))
}

/// Grants a role in the tenant of `tx`, inside that transaction, so the grant
/// commits with what belongs to it (the invited account, the mail, the audit row).
/// A grant naming another tenant is refused. Returns the grant's id; reload the
/// [`SharedAuthz`](crate::SharedAuthz) after the commit.
#[instrument(skip_all, fields(account = new.account_id, role = %new.role), err(level = "warn"))]
pub async fn grant_in(tx: &mut TenantTx, new: &NewGrant, now: DateTime<Utc>) -> Result<i64> {
    check_new(new, now)?;
    let (id, slug) = own_tenant(tx).await?;
    if new.scope == Scope::Global || new.tenant.as_deref() != Some(slug.as_str()) {
        return Err(AuthzError::Invalid(
            "tenant: a tenant's transaction grants roles in that tenant only".to_owned(),
        ));
    }
    let place = GrantPlace::new(new.scope, Some(id))
        .ok_or_else(|| AuthzError::Invalid("scope: does not fit the tenant".to_owned()))?;
    let change = Change::Grant {
        account_id: new.account_id,
        role: new.role,
        place,
        valid_until: new.valid_until,
        granted_by: new.granted_by,
    };
    let applied = apply_in_tx(tx, &[change], now).await?;
    applied
        .outcomes
        .first()
        .and_then(|o| o.grant_id)
        .ok_or(AuthzError::NotFound)
}

/// Revokes a live grant of the tenant of `tx`, inside that transaction. Another
/// tenant's grant is [`AuthzError::NotFound`], exactly like a grant that does not exist.
#[instrument(skip_all, fields(grant = grant_id), err(level = "warn"))]
pub async fn revoke_in(
    tx: &mut TenantTx,
    grant_id: i64,
    revoked_by: Option<i64>,
    now: DateTime<Utc>,
) -> Result<()> {
    let own = tx.tenant_id().get();
    let row: Option<(Option<i64>,)> = with_tx!(raw_tx(tx), conn => {
        sqlx::query_as("SELECT tenant_id FROM role_grants WHERE id = $1 AND revoked_at IS NULL")
            .bind(grant_id)
            .fetch_optional(&mut **conn)
            .await?
    });
    if row.and_then(|(t,)| t) != Some(own) {
        return Err(AuthzError::NotFound);
    }
    let change = Change::RevokeId {
        id: grant_id,
        revoked_by,
    };
    apply_in_tx(tx, &[change], now).await?;
    Ok(())
}

/// The grants held in or on the tenant of `tx` (both scopes); ended grants included,
/// revoked ones not. Oldest first.
#[instrument(skip_all, err(level = "warn"))]
pub async fn list_grants_in(tx: &mut TenantTx) -> Result<Vec<Grant>> {
    let (id, slug) = own_tenant(tx).await?;
    let rows = db::grants_of_in(raw_tx(tx), id).await?;
    Ok(rows
        .into_iter()
        .map(|row| Grant {
            id: row.id,
            account_id: row.account_id,
            role: row.role,
            scope: row.place.scope(),
            tenant: Some(slug.clone()),
            valid_until: row.valid_until,
            granted_by: row.granted_by,
            created_at: row.created_at,
        })
        .collect())
}

/// Grants a role, in one transaction with the policy-version bump. Granting a role the
/// account already holds there with another end replaces that grant (the old row is
/// kept, revoked); with the same end it changes nothing. Returns the live grant.
#[instrument(skip_all, fields(account = new.account_id, role = %new.role, tenant = new.tenant.as_deref()), err(level = "warn"))]
pub async fn grant(store: &Store, new: &NewGrant, now: DateTime<Utc>) -> Result<Grant> {
    check_new(new, now)?;
    let tenant = match (&new.tenant, new.scope) {
        (None, Scope::Global) => None,
        (Some(_), Scope::Global) => {
            return Err(AuthzError::Invalid(
                "tenant: a platform-wide grant names no tenant".to_owned(),
            ));
        }
        (None, _) => {
            return Err(AuthzError::Invalid(format!(
                "tenant: scope {} needs a tenant",
                new.scope
            )));
        }
        (Some(slug), _) => Some(
            tenant_id(store, slug)
                .await?
                .ok_or_else(|| AuthzError::Invalid(format!("tenant: no tenant {slug:?}")))?,
        ),
    };
    let place = GrantPlace::new(new.scope, tenant)
        .ok_or_else(|| AuthzError::Invalid("scope: does not fit the tenant".to_owned()))?;
    let applied = apply(
        store,
        &[Change::Grant {
            account_id: new.account_id,
            role: new.role,
            place,
            valid_until: new.valid_until,
            granted_by: new.granted_by,
        }],
        now,
    )
    .await?;
    let id = applied
        .outcomes
        .first()
        .and_then(|o| o.grant_id)
        .ok_or(AuthzError::NotFound)?;
    let tenants = TenantTree::new(&db::load_tenants(store).await?);
    let row = db::load_grant(store, id)
        .await?
        .ok_or(AuthzError::NotFound)?;
    Ok(Grant::from_row(row, &tenants))
}

/// Revokes a live grant, in one transaction with the policy-version bump.
/// [`AuthzError::NotFound`] when there is no such grant or it was already revoked.
#[instrument(skip_all, fields(grant = grant_id), err(level = "warn"))]
pub async fn revoke(
    store: &Store,
    grant_id: i64,
    revoked_by: Option<i64>,
    now: DateTime<Utc>,
) -> Result<()> {
    apply(
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

/// The grants held in or on a tenant (both scopes), or with `None` the platform-wide
/// ones; ended grants included (see [`Grant::live_at`]), revoked ones not. Oldest first.
#[instrument(skip_all, fields(tenant = tenant), err(level = "warn"))]
pub async fn list_grants(store: &Store, tenant: Option<&str>) -> Result<Vec<Grant>> {
    let tenant_id = match tenant {
        None => None,
        Some(slug) => Some(tenant_id(store, slug).await?.ok_or(AuthzError::NotFound)?),
    };
    let tenants = TenantTree::new(&db::load_tenants(store).await?);
    Ok(db::load_grants_of(store, tenant_id)
        .await?
        .into_iter()
        .map(|row| Grant::from_row(row, &tenants))
        .collect())
}
