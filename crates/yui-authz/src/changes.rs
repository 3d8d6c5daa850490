//! Policy changes: every change, whether it comes from the grant API or from casbin
//! through the adapter, is applied here, in one transaction that also bumps the policy
//! version.

use chrono::{DateTime, Utc};
use yui_store::Store;

use yui_store::{PlatformReason, StoreTx, Tx, raw_tx, with_tx};

use crate::db::BUMP_VERSION;
use crate::error::{AuthzError, Result};
use crate::role::Role;
use crate::rules::{GrantPlace, PermissionRule};

/// One change to the policy.
#[derive(Debug, Clone)]
pub(crate) enum Change {
    AddPermission(PermissionRule),
    RemovePermission(PermissionRule),
    /// Grants a role; an existing live grant of the same role and place with another end
    /// is revoked and replaced, so the history stays.
    Grant {
        account_id: i64,
        role: Role,
        place: GrantPlace,
        valid_until: Option<DateTime<Utc>>,
        granted_by: Option<i64>,
    },
    /// Revokes the live grant of a role and place, if any.
    RevokeRole {
        account_id: i64,
        role: Role,
        place: GrantPlace,
        revoked_by: Option<i64>,
    },
    /// Revokes one grant by id; it must be live.
    RevokeId {
        id: i64,
        revoked_by: Option<i64>,
    },
    /// Removes every permission and revokes every grant.
    Clear,
}

/// What one change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub changed: bool,
    /// The grant concerned, for grants.
    pub grant_id: Option<i64>,
}

/// What a batch did: the outcome of each change.
#[derive(Debug)]
pub(crate) struct Applied {
    pub outcomes: Vec<Outcome>,
}

/// Applies changes in the caller's transaction, bumping the policy version first.
pub(crate) async fn apply_in(
    stx: &mut StoreTx,
    changes: &[Change],
    now: DateTime<Utc>,
) -> Result<(i64, Applied)> {
    with_tx!(stx, tx => {
        let (version,): (i64,) = sqlx::query_as(BUMP_VERSION).fetch_one(&mut **tx).await?;
        let mut outcomes = Vec::with_capacity(changes.len());
        for change in changes {
            let outcome = match change {
                Change::AddPermission(p) => {
                    let done = sqlx::query(
                        "INSERT INTO role_permissions (role, scope, tenant_id, object, action)
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                    )
                    .bind(p.role.as_str())
                    .bind(p.scope.as_str())
                    .bind(p.tenant_id)
                    .bind(&p.object)
                    .bind(&p.action)
                    .execute(&mut **tx)
                    .await?;
                    Outcome { changed: done.rows_affected() > 0, grant_id: None }
                }
                Change::RemovePermission(p) => {
                    let done = sqlx::query(
                        "DELETE FROM role_permissions WHERE role = $1 AND scope = $2
                         AND tenant_id IS NOT DISTINCT FROM $3 AND object = $4 AND action = $5",
                    )
                    .bind(p.role.as_str())
                    .bind(p.scope.as_str())
                    .bind(p.tenant_id)
                    .bind(&p.object)
                    .bind(&p.action)
                    .execute(&mut **tx)
                    .await?;
                    Outcome { changed: done.rows_affected() > 0, grant_id: None }
                }
                Change::Grant { account_id, role, place, valid_until, granted_by } => {
                    let live: Option<(i64, Option<DateTime<Utc>>)> = sqlx::query_as(
                        "SELECT id, valid_until FROM role_grants WHERE account_id = $1 AND role = $2
                         AND scope = $3 AND tenant_id IS NOT DISTINCT FROM $4 AND revoked_at IS NULL",
                    )
                    .bind(account_id)
                    .bind(role.as_str())
                    .bind(place.scope().as_str())
                    .bind(place.tenant_id())
                    .fetch_optional(&mut **tx)
                    .await?;
                    match live {
                        Some((id, until)) if until == *valid_until => {
                            Outcome { changed: false, grant_id: Some(id) }
                        }
                        _ => {
                            if let Some((id, _)) = live {
                                sqlx::query("UPDATE role_grants SET revoked_at = $1, revoked_by = $2 WHERE id = $3")
                                    .bind(now)
                                    .bind(granted_by)
                                    .bind(id)
                                    .execute(&mut **tx)
                                    .await?;
                            }
                            let (id,): (i64,) = sqlx::query_as(
                                "INSERT INTO role_grants (account_id, role, scope, tenant_id, valid_until, granted_by, created_at)
                                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                            )
                            .bind(account_id)
                            .bind(role.as_str())
                            .bind(place.scope().as_str())
                            .bind(place.tenant_id())
                            .bind(valid_until)
                            .bind(granted_by)
                            .bind(now)
                            .fetch_one(&mut **tx)
                            .await?;
                            Outcome { changed: true, grant_id: Some(id) }
                        }
                    }
                }
                Change::RevokeRole { account_id, role, place, revoked_by } => {
                    let row: Option<(i64,)> = sqlx::query_as(
                        "UPDATE role_grants SET revoked_at = $1, revoked_by = $2
                         WHERE account_id = $3 AND role = $4 AND scope = $5
                         AND tenant_id IS NOT DISTINCT FROM $6 AND revoked_at IS NULL RETURNING id",
                    )
                    .bind(now)
                    .bind(revoked_by)
                    .bind(account_id)
                    .bind(role.as_str())
                    .bind(place.scope().as_str())
                    .bind(place.tenant_id())
                    .fetch_optional(&mut **tx)
                    .await?;
                    Outcome { changed: row.is_some(), grant_id: row.map(|(id,)| id) }
                }
                Change::RevokeId { id, revoked_by } => {
                    let done = sqlx::query(
                        "UPDATE role_grants SET revoked_at = $1, revoked_by = $2 WHERE id = $3 AND revoked_at IS NULL",
                    )
                    .bind(now)
                    .bind(revoked_by)
                    .bind(id)
                    .execute(&mut **tx)
                    .await?;
                    if done.rows_affected() == 0 {
                        return Err(AuthzError::NotFound);
                    }
                    Outcome { changed: true, grant_id: Some(*id) }
                }
                Change::Clear => {
                    let perms = sqlx::query("DELETE FROM role_permissions").execute(&mut **tx).await?;
                    let grants = sqlx::query("UPDATE role_grants SET revoked_at = $1 WHERE revoked_at IS NULL")
                        .bind(now)
                        .execute(&mut **tx)
                        .await?;
                    Outcome {
                        changed: perms.rows_affected() + grants.rows_affected() > 0,
                        grant_id: None,
                    }
                }
            };
            outcomes.push(outcome);
        }
        Ok((version, Applied { outcomes }))
    })
}

/// Applies changes in a transaction of their own (platform-wide: policy rows of
/// every tenant), committed only when something changed.
pub(crate) async fn apply(
    store: &Store,
    changes: &[Change],
    now: DateTime<Utc>,
) -> Result<Applied> {
    let mut tx = store.platform(PlatformReason::Policy).write().await?;
    let (version, applied) = apply_in(raw_tx(&mut tx), changes, now).await?;
    if applied.outcomes.iter().any(|o| o.changed) {
        tx.commit().await?;
        tracing::debug!(version, "policy changed");
    } else {
        // Nothing changed: the version stays, and no node reloads for nothing.
        tx.rollback().await?;
    }
    Ok(applied)
}

/// [`apply_in`] in a handle's transaction.
pub(crate) async fn apply_in_tx<T: Tx>(
    tx: &mut T,
    changes: &[Change],
    now: DateTime<Utc>,
) -> Result<Applied> {
    let (version, applied) = apply_in(raw_tx(tx), changes, now).await?;
    tracing::debug!(version, "policy changed in the caller's transaction");
    Ok(applied)
}
