//! Queries, written once for both databases.

use chrono::{DateTime, Utc};
use sqlx::{PgPool, SqlitePool};
use yui_store::Store;

use crate::error::Result;
use crate::role::{Role, Scope};
use crate::rules::{GrantPlace, PermissionRule, TenantNode};

/// Runs one body against whichever pool the store holds; the body is compiled once per
/// backend, so the same SQL text (with `$n` placeholders) serves both.
macro_rules! with_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            ::yui_store::Store::Sqlite($pool) => $body,
            ::yui_store::Store::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_pool;

/// Runs one read against the policy tables, which hold every tenant's rows: on
/// PostgreSQL inside a transaction in the platform scope (row-level security), with
/// `$conn` bound to its connection.
macro_rules! platform_read {
    ($store:expr, $conn:ident => $body:expr) => {{
        let mut tx = $store.begin_read_in(::yui_store::TenantScope::Platform).await?;
        let out = ::yui_store::with_tx!(&mut tx, c => {
            let $conn = &mut **c;
            $body
        });
        tx.commit().await?;
        out
    }};
}

/// Starting a transaction that will write: `BEGIN IMMEDIATE` on SQLite, so it waits for
/// the lock up front instead of failing with "database is locked" when it upgrades.
pub(crate) trait WritePool {
    type Db: sqlx::Database;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Self::Db>>;
}

impl WritePool for SqlitePool {
    type Db = sqlx::Sqlite;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        Ok(self.begin_with("BEGIN IMMEDIATE").await?)
    }
}

impl WritePool for PgPool {
    type Db = sqlx::Postgres;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>> {
        let mut tx = self.begin().await?;
        // Policy changes touch every tenant's rows: the platform scope of row-level security.
        sqlx::query("SELECT set_config('app.tenant_id', '*', true)")
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }
}

/// Bumps the policy version; the first statement of every policy-changing transaction.
/// On PostgreSQL the row lock it takes also queues concurrent policy writers, so each
/// sees the others' committed changes.
pub(crate) const BUMP_VERSION: &str =
    "UPDATE policy_version SET version = version + 1 WHERE id = 1 RETURNING version";

/// The current policy version.
pub async fn policy_version(store: &Store) -> Result<i64> {
    with_pool!(store, pool => {
        let (v,): (i64,) = sqlx::query_as("SELECT version FROM policy_version WHERE id = 1")
            .fetch_one(pool)
            .await?;
        Ok(v)
    })
}

pub(crate) async fn load_tenants(store: &Store) -> Result<Vec<TenantNode>> {
    let rows: Vec<(i64, String, Option<i64>)> = with_pool!(store, pool => {
        sqlx::query_as("SELECT id, slug, parent_id FROM tenants ORDER BY id")
            .fetch_all(pool)
            .await?
    });
    Ok(rows
        .into_iter()
        .map(|(id, slug, parent_id)| TenantNode {
            id,
            slug,
            parent_id,
        })
        .collect())
}

/// Every permission row that parses; a malformed one is logged and left out (it grants
/// nothing).
pub(crate) async fn load_permissions(store: &Store) -> Result<Vec<(i64, PermissionRule)>> {
    let rows: Vec<(i64, String, String, Option<i64>, String, String)> = platform_read!(store, pool => {
        sqlx::query_as("SELECT id, role, scope, tenant_id, object, action FROM role_permissions ORDER BY id")
            .fetch_all(pool)
            .await?
    });
    let mut out = Vec::with_capacity(rows.len());
    for (id, role, scope, tenant_id, object, action) in rows {
        let (Some(role), Some(scope)) = (Role::parse(&role), Scope::parse(&scope)) else {
            tracing::warn!(
                id,
                role,
                scope,
                "role_permissions: unknown role or scope, ignored"
            );
            continue;
        };
        let rule = PermissionRule {
            role,
            scope,
            tenant_id,
            object,
            action,
        };
        if let Err(e) = rule.check() {
            tracing::warn!(id, "role_permissions: {e}, ignored");
            continue;
        }
        out.push((id, rule));
    }
    Ok(out)
}

/// A grant row that has not been revoked.
#[derive(Debug, Clone)]
pub(crate) struct GrantRow {
    pub id: i64,
    pub account_id: i64,
    pub role: Role,
    pub place: GrantPlace,
    pub valid_until: Option<DateTime<Utc>>,
    pub granted_by: Option<i64>,
    pub created_at: DateTime<Utc>,
}

type RawGrant = (
    i64,
    i64,
    String,
    String,
    Option<i64>,
    Option<DateTime<Utc>>,
    Option<i64>,
    DateTime<Utc>,
);

const SELECT_GRANTS: &str =
    "SELECT id, account_id, role, scope, tenant_id, valid_until, granted_by, created_at
     FROM role_grants WHERE revoked_at IS NULL";

fn parse_grants(rows: Vec<RawGrant>) -> Vec<GrantRow> {
    let mut out = Vec::with_capacity(rows.len());
    for (id, account_id, role, scope, tenant_id, valid_until, granted_by, created_at) in rows {
        let role_scope = Role::parse(&role).zip(Scope::parse(&scope));
        let Some((role, place)) =
            role_scope.and_then(|(r, s)| GrantPlace::new(s, tenant_id).map(|p| (r, p)))
        else {
            tracing::warn!(id, role, scope, "role_grants: malformed grant, ignored");
            continue;
        };
        out.push(GrantRow {
            id,
            account_id,
            role,
            place,
            valid_until,
            granted_by,
            created_at,
        });
    }
    out
}

/// Every grant not revoked (ended ones included), oldest first.
pub(crate) async fn load_grants(store: &Store) -> Result<Vec<GrantRow>> {
    let rows: Vec<RawGrant> = platform_read!(store, pool => {
        sqlx::query_as(&format!("{SELECT_GRANTS} ORDER BY id"))
            .fetch_all(pool)
            .await?
    });
    Ok(parse_grants(rows))
}

/// The grants held in or on one tenant (`None`: the platform-wide ones), oldest first.
pub(crate) async fn load_grants_of(store: &Store, tenant_id: Option<i64>) -> Result<Vec<GrantRow>> {
    let rows: Vec<RawGrant> = platform_read!(store, pool => {
        sqlx::query_as(&format!("{SELECT_GRANTS} AND tenant_id IS NOT DISTINCT FROM $1 ORDER BY id"))
            .bind(tenant_id)
            .fetch_all(pool)
            .await?
    });
    Ok(parse_grants(rows))
}

/// The grants of one tenant, in the caller's transaction.
pub(crate) async fn grants_of_in(
    tx: &mut yui_store::StoreTx,
    tenant_id: i64,
) -> Result<Vec<GrantRow>> {
    let rows: Vec<RawGrant> = ::yui_store::with_tx!(tx, conn => {
        sqlx::query_as(&format!("{SELECT_GRANTS} AND tenant_id = $1 ORDER BY id"))
            .bind(tenant_id)
            .fetch_all(&mut **conn)
            .await?
    });
    Ok(parse_grants(rows))
}

/// One grant by id, if it has not been revoked.
pub(crate) async fn load_grant(store: &Store, id: i64) -> Result<Option<GrantRow>> {
    let rows: Vec<RawGrant> = platform_read!(store, pool => {
        sqlx::query_as(&format!("{SELECT_GRANTS} AND id = $1"))
            .bind(id)
            .fetch_all(pool)
            .await?
    });
    Ok(parse_grants(rows).into_iter().next())
}
