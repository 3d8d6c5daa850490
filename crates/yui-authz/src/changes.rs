//! Policy changes: every change, whether it comes from the grant API or from casbin
//! through the adapter, is applied by yui-store in one batch that also bumps the
//! policy version, in a platform transaction of its own or in a tenant's transaction
//! of the caller's.

use chrono::{DateTime, Utc};
use yui_domain::{AccountId, GrantId};
use yui_store::{
    ChangeOutcome, GrantKey, PermissionSpec, PlatformReason, PlatformTx, PolicyChange, Store,
    TenantTx,
};

use crate::error::Result;
use crate::role::Role;
use crate::rules::{GrantPlace, PermissionRule};

/// One change to the policy, typed.
#[derive(Debug, Clone)]
pub(crate) enum Change {
    AddPermission(PermissionRule),
    RemovePermission(PermissionRule),
    /// Grants a role; an existing live grant of the same role and place with another end
    /// is revoked and replaced, so the history stays.
    Grant {
        account_id: AccountId,
        role: Role,
        place: GrantPlace,
        valid_until: Option<DateTime<Utc>>,
        granted_by: Option<AccountId>,
    },
    /// Revokes the live grant of a role and place, if any.
    RevokeRole {
        account_id: AccountId,
        role: Role,
        place: GrantPlace,
        revoked_by: Option<AccountId>,
    },
    /// Revokes one grant by id; it must be live.
    RevokeId {
        id: GrantId,
        revoked_by: Option<AccountId>,
    },
    /// Removes every permission and revokes every grant.
    Clear,
}

fn spec(p: &PermissionRule) -> PermissionSpec<'_> {
    PermissionSpec {
        role: p.role.as_str(),
        scope: p.scope.as_str(),
        tenant_id: p.tenant_id,
        object: &p.object,
        action: &p.action,
    }
}

fn key(account_id: AccountId, role: Role, place: GrantPlace) -> GrantKey<'static> {
    GrantKey {
        account_id,
        role: role.as_str(),
        scope: place.scope().as_str(),
        tenant_id: place.tenant_id(),
    }
}

impl Change {
    /// The change in the store's terms: names and ids.
    fn to_store(&self) -> PolicyChange<'_> {
        match self {
            Change::AddPermission(p) => PolicyChange::AddPermission(spec(p)),
            Change::RemovePermission(p) => PolicyChange::RemovePermission(spec(p)),
            Change::Grant {
                account_id,
                role,
                place,
                valid_until,
                granted_by,
            } => PolicyChange::Grant {
                key: key(*account_id, *role, *place),
                valid_until: *valid_until,
                granted_by: *granted_by,
            },
            Change::RevokeRole {
                account_id,
                role,
                place,
                revoked_by,
            } => PolicyChange::RevokeRole {
                key: key(*account_id, *role, *place),
                revoked_by: *revoked_by,
            },
            Change::RevokeId { id, revoked_by } => PolicyChange::RevokeId {
                id: *id,
                revoked_by: *revoked_by,
            },
            Change::Clear => PolicyChange::Clear,
        }
    }
}

/// Applies `changes` in a platform transaction of their own (the policy spans every
/// tenant), all or none. Returns the outcome of each.
pub(crate) async fn apply(
    store: &Store,
    changes: &[Change],
    now: DateTime<Utc>,
) -> Result<Vec<ChangeOutcome>> {
    let mut tx = store.platform(PlatformReason::Policy).write().await?;
    let outcomes = apply_platform(&mut tx, changes, now).await?;
    tx.commit().await?;
    Ok(outcomes)
}

/// Applies `changes` in the caller's platform transaction.
pub(crate) async fn apply_platform(
    tx: &mut PlatformTx,
    changes: &[Change],
    now: DateTime<Utc>,
) -> Result<Vec<ChangeOutcome>> {
    let changes: Vec<PolicyChange<'_>> = changes.iter().map(Change::to_store).collect();
    Ok(tx.apply_policy(&changes, now).await?)
}

/// Applies `changes`, all about the transaction's tenant, in the caller's transaction:
/// they commit with it, or not at all.
pub(crate) async fn apply_in(
    tx: &mut TenantTx,
    changes: &[Change],
    now: DateTime<Utc>,
) -> Result<Vec<ChangeOutcome>> {
    let changes: Vec<PolicyChange<'_>> = changes.iter().map(Change::to_store).collect();
    Ok(tx.apply_policy(&changes, now).await?)
}
