//! The audit trail.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use tracing::instrument;
use yui_domain::audit::{AuditAction, neutralise};

use crate::{Result, Store, StoreTx, TenantScope, with_tx};

/// One audit event to record.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub tenant_id: Option<i64>,
    pub actor_id: Option<i64>,
    pub action: AuditAction,
    pub detail: serde_json::Value,
    pub ip: String,
}

/// A recorded audit event.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AuditRecord {
    pub id: i64,
    pub tenant_id: Option<i64>,
    pub actor_id: Option<i64>,
    pub action: String,
    pub detail: Json<serde_json::Value>,
    pub ip: String,
    pub created_at: DateTime<Utc>,
}

impl AuditEntry {
    /// The same event, recorded in a tenant's log.
    pub fn in_tenant(mut self, tenant_id: i64) -> AuditEntry {
        self.tenant_id = Some(tenant_id);
        self
    }

    /// The event as one log line: every user-supplied part neutralised.
    fn log(&self) {
        tracing::info!(
            target: "audit",
            action = self.action.as_str(),
            tenant = self.tenant_id,
            actor = self.actor_id,
            ip = %neutralise(&self.ip),
            detail = %neutralise(&self.detail.to_string()),
            "audit"
        );
    }
}

impl Store {
    /// Records an event on its own.
    #[instrument(skip_all, fields(tenant = entry.tenant_id), err(level = "warn"))]
    pub async fn audit(&self, entry: &AuditEntry, now: DateTime<Utc>) -> Result<()> {
        let scope = entry
            .tenant_id
            .map_or(TenantScope::Platform, TenantScope::Tenant);
        let mut tx = self.begin_write_in(scope).await?;
        with_tx!(&mut tx, conn => {
            insert!(&mut **conn, entry, now);
        });
        tx.commit().await?;
        entry.log();
        Ok(())
    }

    /// Records an event in the caller's transaction: it exists only if the change does.
    #[instrument(skip_all, fields(tenant = entry.tenant_id), err(level = "warn"))]
    pub async fn audit_in(tx: &mut StoreTx, entry: &AuditEntry, now: DateTime<Utc>) -> Result<()> {
        with_tx!(tx, conn => {
            insert!(&mut **conn, entry, now);
        });
        entry.log();
        Ok(())
    }

    /// The newest events, of one tenant or (with `None`) of the whole platform.
    #[instrument(skip_all, fields(tenant = tenant_id), err(level = "warn"))]
    pub async fn audit_entries(
        &self,
        tenant_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AuditRecord>> {
        // The platform's log is every tenant's rows too: only operators get here.
        let scope = tenant_id.map_or(TenantScope::Platform, TenantScope::Tenant);
        let mut tx = self.begin_read_in(scope).await?;
        let rows = with_tx!(&mut tx, conn => {
            match tenant_id {
                Some(t) => sqlx::query_as(
                    "SELECT id, tenant_id, actor_id, action, detail, ip, created_at FROM audit_log
                     WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2",
                )
                .bind(t)
                .bind(limit)
                .fetch_all(&mut **conn)
                .await?,
                None => sqlx::query_as(
                    "SELECT id, tenant_id, actor_id, action, detail, ip, created_at FROM audit_log
                     ORDER BY id DESC LIMIT $1",
                )
                .bind(limit)
                .fetch_all(&mut **conn)
                .await?,
            }
        });
        tx.commit().await?;
        Ok(rows)
    }
}

/// The one INSERT, for either executor.
macro_rules! insert {
    ($exec:expr, $entry:expr, $now:expr) => {
        sqlx::query(
            "INSERT INTO audit_log (tenant_id, actor_id, action, detail, ip, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind($entry.tenant_id)
        .bind($entry.actor_id)
        .bind($entry.action.as_str())
        .bind(Json(&$entry.detail))
        .bind(&$entry.ip)
        .bind($now)
        .execute($exec)
        .await?
    };
}
use insert;
