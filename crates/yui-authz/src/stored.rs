//! The policy as yui-store keeps it: rows of names and ids, parsed here into typed
//! rules. A malformed row is logged and left out (it grants nothing).

use chrono::{DateTime, Utc};
use yui_domain::{AccountId, GrantId};
use yui_store::{GrantRow, PermissionRow, PlatformReason, PolicyTx, Store, TenantNode};

use crate::error::Result;
use crate::role::{Role, Scope};
use crate::rules::{GrantPlace, PermissionRule};

/// The current policy version.
pub async fn policy_version(store: &Store) -> Result<i64> {
    let mut tx = store.platform(PlatformReason::Policy).read().await?;
    let version = tx.policy_version().await?;
    tx.commit().await?;
    Ok(version)
}

/// Every tenant's place in the tree.
pub(crate) async fn tenant_nodes(store: &Store) -> Result<Vec<TenantNode>> {
    let mut tx = store.platform(PlatformReason::Policy).read().await?;
    let nodes = tx.tenant_nodes().await?;
    tx.commit().await?;
    Ok(nodes)
}

/// The tenant with this slug, if any.
pub(crate) async fn tenant_node(store: &Store, slug: &str) -> Result<Option<TenantNode>> {
    let mut tx = store.platform(PlatformReason::Policy).read().await?;
    let node = tx.tenant_node_by_slug(slug).await?;
    tx.commit().await?;
    Ok(node)
}

/// Every permission and every grant not revoked (ended ones included), oldest first,
/// read in one transaction.
pub(crate) async fn load_rules(store: &Store) -> Result<(Vec<PermissionRule>, Vec<StoredGrant>)> {
    let mut tx = store.platform(PlatformReason::Policy).read().await?;
    let permissions = tx.permission_rows().await?;
    let grants = tx.grant_rows().await?;
    tx.commit().await?;
    Ok((parse_permissions(permissions), parse_grants(&grants)))
}

/// Every permission row that parses.
pub(crate) fn parse_permissions(rows: Vec<PermissionRow>) -> Vec<PermissionRule> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let (Some(role), Some(scope)) = (Role::parse(&row.role), Scope::parse(&row.scope)) else {
            tracing::warn!(
                id = row.id,
                role = row.role,
                scope = row.scope,
                "role_permissions: unknown role or scope, ignored"
            );
            continue;
        };
        let rule = PermissionRule {
            role,
            scope,
            tenant_id: row.tenant_id,
            object: row.object,
            action: row.action,
        };
        if let Err(e) = rule.check() {
            tracing::warn!(id = row.id, "role_permissions: {e}, ignored");
            continue;
        }
        out.push(rule);
    }
    out
}

/// A grant row that has not been revoked, typed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StoredGrant {
    pub id: GrantId,
    pub account_id: AccountId,
    pub role: Role,
    pub place: GrantPlace,
    pub valid_until: Option<DateTime<Utc>>,
    pub granted_by: Option<AccountId>,
    pub created_at: DateTime<Utc>,
}

/// The grant of a row, or `None` (logged) when its role or place is malformed.
pub(crate) fn parse_grant(row: &GrantRow) -> Option<StoredGrant> {
    let role_scope = Role::parse(&row.role).zip(Scope::parse(&row.scope));
    let Some((role, place)) =
        role_scope.and_then(|(r, s)| GrantPlace::new(s, row.tenant_id).map(|p| (r, p)))
    else {
        tracing::warn!(
            id = row.id.get(),
            role = %row.role,
            scope = %row.scope,
            "role_grants: malformed grant, ignored"
        );
        return None;
    };
    Some(StoredGrant {
        id: row.id,
        account_id: row.account_id,
        role,
        place,
        valid_until: row.valid_until,
        granted_by: row.granted_by,
        created_at: row.created_at,
    })
}

/// Every grant row that parses.
pub(crate) fn parse_grants(rows: &[GrantRow]) -> Vec<StoredGrant> {
    rows.iter().filter_map(parse_grant).collect()
}
