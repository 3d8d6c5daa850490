//! The authorization policy's tables: `role_permissions` (casbin's p rules),
//! `role_grants` (its g rules) and `policy_version`, bumped with every change so each
//! node knows when to reload.
//!
//! Here they are rows of names and ids; yui-authz gives the names their meaning
//! (roles, scopes, casbin). Reading every tenant's rules is platform work
//! ([`PlatformReason::Policy`](crate::PlatformReason::Policy)); a tenant's
//! transaction reads and changes its own tenant's grants only.

use chrono::{DateTime, Utc};
use sqlx::Connection;
use tracing::instrument;
use yui_domain::{AccountId, GrantId, TenantId};

use crate::scope::{PlatformTx, TenantTx, Tx};
use crate::{Result, StoreError, StoreTx, with_tx};

/// A tenant's place in the tree, as authorization sees it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, sqlx::FromRow)]
pub struct TenantNode {
    pub id: TenantId,
    pub slug: String,
    pub parent_id: Option<TenantId>,
}

/// A stored permission (casbin's p rule): `role` held with `scope` may do `action` on
/// `object`, in every tenant (`tenant_id` `None`) or in one.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PermissionRow {
    pub id: i64,
    pub role: String,
    pub scope: String,
    pub tenant_id: Option<TenantId>,
    pub object: String,
    pub action: String,
}

/// A stored grant (casbin's g rule): `account_id` holds `role` with `scope` in
/// `tenant_id` (`None`: platform-wide), until `valid_until` or until revoked.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct GrantRow {
    pub id: GrantId,
    pub account_id: AccountId,
    pub role: String,
    pub scope: String,
    pub tenant_id: Option<TenantId>,
    pub valid_until: Option<DateTime<Utc>>,
    pub granted_by: Option<AccountId>,
    pub created_at: DateTime<Utc>,
    /// Set once revoked; revoked rows stay for the record.
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<AccountId>,
}

/// A permission by its names, to add or remove.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PermissionSpec<'a> {
    pub role: &'a str,
    pub scope: &'a str,
    /// `None`: in every tenant.
    pub tenant_id: Option<TenantId>,
    pub object: &'a str,
    pub action: &'a str,
}

/// Who holds which role where: at most one live grant exists per key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GrantKey<'a> {
    pub account_id: AccountId,
    pub role: &'a str,
    pub scope: &'a str,
    /// `None`: platform-wide.
    pub tenant_id: Option<TenantId>,
}

/// One change to the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyChange<'a> {
    AddPermission(PermissionSpec<'a>),
    RemovePermission(PermissionSpec<'a>),
    /// Grants a role; an existing live grant of the same key with another end is
    /// revoked and replaced, so the history stays. With the same end nothing changes.
    Grant {
        key: GrantKey<'a>,
        valid_until: Option<DateTime<Utc>>,
        granted_by: Option<AccountId>,
    },
    /// Revokes the live grant of a key, if any.
    RevokeRole {
        key: GrantKey<'a>,
        revoked_by: Option<AccountId>,
    },
    /// Revokes one grant by id; it must be live ([`StoreError::NotFound`] otherwise).
    RevokeId {
        id: GrantId,
        revoked_by: Option<AccountId>,
    },
    /// Removes every permission and revokes every grant.
    Clear,
}

/// What one change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeOutcome {
    pub changed: bool,
    /// The grant concerned, for grants and revocations.
    pub grant_id: Option<GrantId>,
}

const TENANT_NODES: &str = "SELECT id, slug, parent_id FROM tenants";
const PERMISSIONS: &str = "SELECT id, role, scope, tenant_id, object, action FROM role_permissions";
const GRANTS: &str = "SELECT id, account_id, role, scope, tenant_id, valid_until, granted_by, created_at, revoked_at, revoked_by FROM role_grants";
const LIVE_GRANTS: &str = "SELECT id, account_id, role, scope, tenant_id, valid_until, granted_by, created_at, revoked_at, revoked_by FROM role_grants WHERE revoked_at IS NULL";

/// Bumps the policy version; the first statement of every policy-changing batch.
/// On PostgreSQL the row lock it takes also queues concurrent policy writers, so each
/// sees the others' committed changes.
const BUMP_VERSION: &str =
    "UPDATE policy_version SET version = version + 1 WHERE id = 1 RETURNING version";

/// Reading and bumping the policy version and reading the tenant tree, in any
/// transaction: neither `policy_version` nor `tenants` holds a tenant's private rows.
pub trait PolicyTx: Tx + Sized {
    /// The current policy version.
    fn policy_version(&mut self) -> impl Future<Output = Result<i64>> + Send {
        version(self.inner())
    }

    /// Bumps the policy version without changing the policy, so every node reloads
    /// (after re-parenting a tenant, for example). Returns the new version.
    fn bump_policy_version(&mut self) -> impl Future<Output = Result<i64>> + Send {
        bump(self.inner())
    }

    /// Every tenant's place in the tree, by id.
    fn tenant_nodes(&mut self) -> impl Future<Output = Result<Vec<TenantNode>>> + Send {
        nodes(self.inner())
    }

    /// The tenant with this slug, if there is one.
    fn tenant_node_by_slug(
        &mut self,
        slug: &str,
    ) -> impl Future<Output = Result<Option<TenantNode>>> + Send {
        node_by_slug(self.inner(), slug)
    }
}

impl<T: Tx + Sized> PolicyTx for T {}

async fn version(tx: &mut StoreTx) -> Result<i64> {
    with_tx!(tx, conn => {
        let (v,): (i64,) = sqlx::query_as("SELECT version FROM policy_version WHERE id = 1")
            .fetch_one(&mut **conn)
            .await?;
        Ok(v)
    })
}

#[instrument(skip_all, err(level = "warn"))]
async fn bump(tx: &mut StoreTx) -> Result<i64> {
    with_tx!(tx, conn => {
        let (v,): (i64,) = sqlx::query_as(BUMP_VERSION).fetch_one(&mut **conn).await?;
        Ok(v)
    })
}

async fn nodes(tx: &mut StoreTx) -> Result<Vec<TenantNode>> {
    with_tx!(tx, conn => {
        Ok(sqlx::query_as(&format!("{TENANT_NODES} ORDER BY id"))
            .fetch_all(&mut **conn)
            .await?)
    })
}

async fn node_by_slug(tx: &mut StoreTx, slug: &str) -> Result<Option<TenantNode>> {
    with_tx!(tx, conn => {
        Ok(sqlx::query_as(&format!("{TENANT_NODES} WHERE slug = $1"))
            .bind(slug)
            .fetch_optional(&mut **conn)
            .await?)
    })
}

impl PlatformTx {
    /// Every stored permission, oldest first.
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn permission_rows(&mut self) -> Result<Vec<PermissionRow>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!("{PERMISSIONS} ORDER BY id"))
                .fetch_all(&mut **conn)
                .await?)
        })
    }

    /// Every grant not revoked (ended ones included), oldest first.
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn grant_rows(&mut self) -> Result<Vec<GrantRow>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!("{LIVE_GRANTS} ORDER BY id"))
                .fetch_all(&mut **conn)
                .await?)
        })
    }

    /// The grants not revoked held in or on one tenant (`None`: the platform-wide
    /// ones), oldest first.
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn grant_rows_of(&mut self, tenant: Option<TenantId>) -> Result<Vec<GrantRow>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!("{LIVE_GRANTS} AND tenant_id IS NOT DISTINCT FROM $1 ORDER BY id"))
                .bind(tenant)
                .fetch_all(&mut **conn)
                .await?)
        })
    }

    /// One grant by id, if it has not been revoked.
    #[instrument(skip_all, fields(grant = %id), err(level = "warn"))]
    pub async fn grant_row(&mut self, id: GrantId) -> Result<Option<GrantRow>> {
        live_grant(&mut self.tx, id, None).await
    }

    /// Every grant ever made, revoked ones included, oldest first: the record of who
    /// held what.
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn grant_history(&mut self) -> Result<Vec<GrantRow>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!("{GRANTS} ORDER BY id"))
                .fetch_all(&mut **conn)
                .await?)
        })
    }

    /// Applies `changes` in order, all or none, with one policy-version bump; see
    /// [`TenantTx::apply_policy`] for one tenant's changes.
    #[instrument(skip_all, fields(changes = changes.len()), err(level = "warn"))]
    pub async fn apply_policy(
        &mut self,
        changes: &[PolicyChange<'_>],
        now: DateTime<Utc>,
    ) -> Result<Vec<ChangeOutcome>> {
        apply(&mut self.tx, None, changes, now).await
    }
}

impl TenantTx {
    /// The tenant's own place in the tree.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn node(&mut self) -> Result<TenantNode> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!("{TENANT_NODES} WHERE id = $1"))
                .bind(self.tenant)
                .fetch_one(&mut **conn)
                .await?)
        })
    }

    /// The grants not revoked held in or on this tenant (ended ones included),
    /// oldest first.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn grant_rows(&mut self) -> Result<Vec<GrantRow>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!("{LIVE_GRANTS} AND tenant_id = $1 ORDER BY id"))
                .bind(self.tenant)
                .fetch_all(&mut **conn)
                .await?)
        })
    }

    /// One of this tenant's grants by id, if it has not been revoked; another
    /// tenant's is `None`.
    #[instrument(skip_all, fields(tenant = %self.tenant, grant = %id), err(level = "warn"))]
    pub async fn grant_row(&mut self, id: GrantId) -> Result<Option<GrantRow>> {
        live_grant(&mut self.tx, id, Some(self.tenant)).await
    }

    /// Applies changes to this tenant's policy inside this transaction, all or none,
    /// with one policy-version bump, so they commit with the rest of it (an invited
    /// person's account, grant, mail and audit entry at once). Every change must be
    /// about this tenant: another tenant's, a platform-wide one or `Clear` is
    /// [`StoreError::Invalid`], and revoking another tenant's grant by id is
    /// [`StoreError::NotFound`].
    #[instrument(skip_all, fields(tenant = %self.tenant, changes = changes.len()), err(level = "warn"))]
    pub async fn apply_policy(
        &mut self,
        changes: &[PolicyChange<'_>],
        now: DateTime<Utc>,
    ) -> Result<Vec<ChangeOutcome>> {
        apply(&mut self.tx, Some(self.tenant), changes, now).await
    }
}

async fn live_grant(
    tx: &mut StoreTx,
    id: GrantId,
    tenant: Option<TenantId>,
) -> Result<Option<GrantRow>> {
    with_tx!(tx, conn => {
        Ok(sqlx::query_as(&format!("{LIVE_GRANTS} AND id = $1 AND ($2 IS NULL OR tenant_id = $2)"))
            .bind(id)
            .bind(tenant)
            .fetch_optional(&mut **conn)
            .await?)
    })
}

/// Refuses, before anything is written, a change a transaction of `tenant` may not make.
fn check_tenant(tenant: TenantId, changes: &[PolicyChange<'_>]) -> Result<()> {
    let refuse = |what: &str, other: Option<TenantId>| {
        let place = other.map_or_else(|| "the platform".to_owned(), |t| format!("tenant {t}"));
        Err(StoreError::Invalid(format!(
            "tenant: {what} of {place} cannot change in a transaction of tenant {tenant}"
        )))
    };
    for change in changes {
        match change {
            PolicyChange::AddPermission(p) | PolicyChange::RemovePermission(p)
                if p.tenant_id != Some(tenant) =>
            {
                return refuse("a permission", p.tenant_id);
            }
            PolicyChange::Grant { key, .. } | PolicyChange::RevokeRole { key, .. }
                if key.tenant_id != Some(tenant) =>
            {
                return refuse("a grant", key.tenant_id);
            }
            PolicyChange::Clear => return refuse("the whole policy", None),
            _ => {}
        }
    }
    Ok(())
}

/// A broken reference (an account or tenant that does not exist) is the caller's
/// mistake, not the database's.
/// Why a grant to an account whose address nobody proved is refused.
pub const UNVERIFIED: &str =
    "account: its address is not verified; a role attaches only once the person has confirmed it";

fn referenced(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::Database(ref db) if db.is_foreign_key_violation() => {
            StoreError::Invalid(format!(
                "a referenced account or tenant does not exist ({})",
                db.constraint().unwrap_or("foreign key")
            ))
        }
        other => other.into(),
    }
}

/// Applies a batch in a savepoint of `tx`: the version bump first, then each change;
/// undone as a whole when a change fails or none changed anything. `only` restricts
/// every change to one tenant (a tenant's transaction).
async fn apply(
    tx: &mut StoreTx,
    only: Option<TenantId>,
    changes: &[PolicyChange<'_>],
    now: DateTime<Utc>,
) -> Result<Vec<ChangeOutcome>> {
    if let Some(tenant) = only {
        check_tenant(tenant, changes)?;
    }
    with_tx!(tx, conn => {
        // A savepoint, so the batch is all or nothing even inside a caller's larger
        // transaction, which stays usable when the batch fails.
        let mut batch = Connection::begin(&mut **conn).await?;
        let result: Result<(i64, Vec<ChangeOutcome>)> = async {
            let (version,): (i64,) = sqlx::query_as(BUMP_VERSION).fetch_one(&mut *batch).await?;
            let mut outcomes = Vec::with_capacity(changes.len());
            for change in changes {
                let outcome = match change {
                    PolicyChange::AddPermission(p) => {
                        let done = sqlx::query(
                            "INSERT INTO role_permissions (role, scope, tenant_id, object, action)
                             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                        )
                        .bind(p.role)
                        .bind(p.scope)
                        .bind(p.tenant_id)
                        .bind(p.object)
                        .bind(p.action)
                        .execute(&mut *batch)
                        .await
                        .map_err(referenced)?;
                        ChangeOutcome { changed: done.rows_affected() > 0, grant_id: None }
                    }
                    PolicyChange::RemovePermission(p) => {
                        let done = sqlx::query(
                            "DELETE FROM role_permissions WHERE role = $1 AND scope = $2
                             AND tenant_id IS NOT DISTINCT FROM $3 AND object = $4 AND action = $5",
                        )
                        .bind(p.role)
                        .bind(p.scope)
                        .bind(p.tenant_id)
                        .bind(p.object)
                        .bind(p.action)
                        .execute(&mut *batch)
                        .await?;
                        ChangeOutcome { changed: done.rows_affected() > 0, grant_id: None }
                    }
                    PolicyChange::Grant { key, valid_until, granted_by } => {
                        let live: Option<(GrantId, Option<DateTime<Utc>>)> = sqlx::query_as(
                            "SELECT id, valid_until FROM role_grants WHERE account_id = $1 AND role = $2
                             AND scope = $3 AND tenant_id IS NOT DISTINCT FROM $4 AND revoked_at IS NULL",
                        )
                        .bind(key.account_id)
                        .bind(key.role)
                        .bind(key.scope)
                        .bind(key.tenant_id)
                        .fetch_optional(&mut *batch)
                        .await?;
                        match live {
                            Some((id, until)) if until == *valid_until => {
                                ChangeOutcome { changed: false, grant_id: Some(id) }
                            }
                            _ => {
                                if let Some((id, _)) = live {
                                    sqlx::query("UPDATE role_grants SET revoked_at = $1, revoked_by = $2 WHERE id = $3")
                                        .bind(now)
                                        .bind(granted_by)
                                        .bind(id)
                                        .execute(&mut *batch)
                                        .await?;
                                }
                                // A role attaches only to an account whose address was
                                // proved: whoever registered an address without reading
                                // its mail gets nothing by it.
                                let inserted: Option<(GrantId,)> = sqlx::query_as(
                                    "INSERT INTO role_grants (account_id, role, scope, tenant_id, valid_until, granted_by, created_at)
                                     SELECT $1, $2, $3, $4, $5, $6, $7
                                     WHERE EXISTS (SELECT 1 FROM accounts WHERE id = $1 AND email_verified_at IS NOT NULL)
                                     RETURNING id",
                                )
                                .bind(key.account_id)
                                .bind(key.role)
                                .bind(key.scope)
                                .bind(key.tenant_id)
                                .bind(valid_until)
                                .bind(granted_by)
                                .bind(now)
                                .fetch_optional(&mut *batch)
                                .await
                                .map_err(referenced)?;
                                let Some((id,)) = inserted else {
                                    return Err(StoreError::Invalid(UNVERIFIED.to_owned()));
                                };
                                ChangeOutcome { changed: true, grant_id: Some(id) }
                            }
                        }
                    }
                    PolicyChange::RevokeRole { key, revoked_by } => {
                        let row: Option<(GrantId,)> = sqlx::query_as(
                            "UPDATE role_grants SET revoked_at = $1, revoked_by = $2
                             WHERE account_id = $3 AND role = $4 AND scope = $5
                             AND tenant_id IS NOT DISTINCT FROM $6 AND revoked_at IS NULL RETURNING id",
                        )
                        .bind(now)
                        .bind(revoked_by)
                        .bind(key.account_id)
                        .bind(key.role)
                        .bind(key.scope)
                        .bind(key.tenant_id)
                        .fetch_optional(&mut *batch)
                        .await
                        .map_err(referenced)?;
                        ChangeOutcome { changed: row.is_some(), grant_id: row.map(|(id,)| id) }
                    }
                    PolicyChange::RevokeId { id, revoked_by } => {
                        // In a tenant's transaction, another tenant's grant is not found.
                        let done = sqlx::query(
                            "UPDATE role_grants SET revoked_at = $1, revoked_by = $2
                             WHERE id = $3 AND revoked_at IS NULL AND ($4 IS NULL OR tenant_id = $4)",
                        )
                        .bind(now)
                        .bind(revoked_by)
                        .bind(id)
                        .bind(only)
                        .execute(&mut *batch)
                        .await
                        .map_err(referenced)?;
                        if done.rows_affected() == 0 {
                            return Err(StoreError::NotFound);
                        }
                        ChangeOutcome { changed: true, grant_id: Some(*id) }
                    }
                    PolicyChange::Clear => {
                        let perms = sqlx::query("DELETE FROM role_permissions").execute(&mut *batch).await?;
                        let grants = sqlx::query("UPDATE role_grants SET revoked_at = $1 WHERE revoked_at IS NULL")
                            .bind(now)
                            .execute(&mut *batch)
                            .await?;
                        ChangeOutcome {
                            changed: perms.rows_affected() + grants.rows_affected() > 0,
                            grant_id: None,
                        }
                    }
                };
                outcomes.push(outcome);
            }
            Ok((version, outcomes))
        }
        .await;
        match result {
            Ok((version, outcomes)) if outcomes.iter().any(|o| o.changed) => {
                batch.commit().await?;
                tracing::debug!(version, "policy changed");
                Ok(outcomes)
            }
            Ok((_, outcomes)) => {
                // Nothing changed: the version stays, and no node reloads for nothing.
                batch.rollback().await?;
                Ok(outcomes)
            }
            Err(e) => {
                if let Err(undo) = batch.rollback().await {
                    tracing::warn!(error = %undo, "undoing a failed policy change failed");
                }
                Err(e)
            }
        }
    })
}
