//! Checks of the second wall between tenants. [`Store::row_security_report`] is what
//! an operator (and the test suite) asks PostgreSQL about its row-level security; the
//! `probe_*` methods run the queries the handles never run — an unfiltered read, a
//! write into another tenant — so tests can show that the database itself refuses
//! them.

use yui_domain::TenantId;

use crate::scope::{PlatformTx, TenantTx};
use crate::{Result, Store, StoreTx, with_tx};

/// Row-level security as PostgreSQL reports it for the connected role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowSecurityReport {
    /// Tables with a `tenant_id` column.
    pub tenant_tables: Vec<String>,
    /// Those without row-level security enabled, forced, and with a policy.
    pub unprotected: Vec<String>,
    /// The role the application connects as.
    pub role: String,
    /// Whether that role is a superuser or may bypass row-level security.
    pub role_bypasses: bool,
    /// How many tables that role owns (an owner is exempt unless forced).
    pub owned_tables: i64,
}

impl Store {
    /// `None` on SQLite, which has no row-level security (its queries filter by
    /// tenant id alone).
    pub async fn row_security_report(&self) -> Result<Option<RowSecurityReport>> {
        let Store::Postgres(pool) = self else {
            return Ok(None);
        };
        let tables: Vec<(String, bool, bool, i64)> = sqlx::query_as(
            "SELECT c.relname::text, c.relrowsecurity, c.relforcerowsecurity,
                    (SELECT COUNT(*) FROM pg_policy p WHERE p.polrelid = c.oid)
             FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
             WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
             ORDER BY 1",
        )
        .fetch_all(pool)
        .await?;
        let (role, superuser, bypass): (String, bool, bool) = sqlx::query_as(
            "SELECT rolname::text, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user",
        )
        .fetch_one(pool)
        .await?;
        let (owned_tables,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user",
        )
        .fetch_one(pool)
        .await?;
        Ok(Some(RowSecurityReport {
            unprotected: tables
                .iter()
                .filter(|(_, on, forced, policies)| !(*on && *forced && *policies > 0))
                .map(|t| t.0.clone())
                .collect(),
            tenant_tables: tables.into_iter().map(|t| t.0).collect(),
            role,
            role_bypasses: superuser || bypass,
            owned_tables,
        }))
    }

    /// The tenants whose introductions a transaction with NO scope sees, with no
    /// tenant filter in the query (PostgreSQL: none).
    #[doc(hidden)]
    pub async fn probe_unscoped_introductions(&self) -> Result<Vec<TenantId>> {
        let mut tx = self.begin_write().await?;
        let seen = unfiltered_introductions(&mut tx).await;
        tx.rollback().await?;
        seen
    }

    /// `app.tenant_id` as a fresh pooled connection has it (a scope must end with
    /// its transaction).
    #[doc(hidden)]
    pub async fn probe_scope_setting(&self) -> Result<Option<String>> {
        let Store::Postgres(pool) = self else {
            return Ok(None);
        };
        let (setting,): (Option<String>,) =
            sqlx::query_as("SELECT NULLIF(current_setting('app.tenant_id', true), '')")
                .fetch_one(pool)
                .await?;
        Ok(setting)
    }
}

async fn unfiltered_introductions(tx: &mut StoreTx) -> Result<Vec<TenantId>> {
    let rows: Vec<(TenantId,)> = with_tx!(tx, conn => {
        sqlx::query_as("SELECT DISTINCT tenant_id FROM tenant_introductions ORDER BY 1")
            .fetch_all(&mut **conn)
            .await?
    });
    Ok(rows.into_iter().map(|(t,)| t).collect())
}

impl TenantTx {
    /// The tenants whose introductions this transaction sees when the query forgets
    /// its tenant filter (PostgreSQL: its own only).
    #[doc(hidden)]
    pub async fn probe_unfiltered_introductions(&mut self) -> Result<Vec<TenantId>> {
        unfiltered_introductions(&mut self.tx).await
    }

    /// Writes an audit row into ANOTHER tenant from this transaction, as a buggy
    /// query would (PostgreSQL refuses it).
    #[doc(hidden)]
    pub async fn probe_write_audit_into(&mut self, other: TenantId) -> Result<()> {
        with_tx!(&mut self.tx, conn => {
            sqlx::query(
                "INSERT INTO audit_log (tenant_id, action, detail, ip, created_at) VALUES ($1, 'probe', '{}', '', $2)",
            )
            .bind(other)
            .bind(chrono::DateTime::<chrono::Utc>::UNIX_EPOCH)
            .execute(&mut **conn)
            .await?;
        });
        Ok(())
    }
}

impl PlatformTx {
    /// The tenants whose introductions the platform scope sees, unfiltered.
    #[doc(hidden)]
    pub async fn probe_unfiltered_introductions(&mut self) -> Result<Vec<TenantId>> {
        unfiltered_introductions(&mut self.tx).await
    }
}
