//! The audit trail.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use tracing::instrument;
use yui_domain::audit::{AuditAction, neutralise};
use yui_domain::{AccountId, AuditId, TenantId};

use crate::scope::{AccountTx, PlatformTx, TenantTx, Tx, sealed::Inner};
use crate::{Result, StoreTx, with_tx};

/// One audit event to record. Which tenant's log it goes to is the transaction's:
/// a tenant transaction records in its tenant, others in the platform's log.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub actor_id: Option<AccountId>,
    pub action: AuditAction,
    pub detail: serde_json::Value,
    pub ip: String,
}

/// A recorded audit event.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AuditRecord {
    pub id: AuditId,
    pub tenant_id: Option<TenantId>,
    pub actor_id: Option<AccountId>,
    pub action: String,
    pub detail: Json<serde_json::Value>,
    pub ip: String,
    pub created_at: DateTime<Utc>,
}

impl AuditEntry {
    /// The event as one log line: every user-supplied part neutralised.
    fn log(&self, tenant: Option<TenantId>) {
        tracing::info!(
            target: "audit",
            action = self.action.as_str(),
            tenant = tenant.map(TenantId::get),
            actor = self.actor_id.map(AccountId::get),
            ip = %neutralise(&self.ip),
            detail = %neutralise(&self.detail.to_string()),
            "audit"
        );
    }
}

async fn insert(
    tx: &mut StoreTx,
    tenant: Option<TenantId>,
    entry: &AuditEntry,
    now: DateTime<Utc>,
) -> Result<()> {
    with_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO audit_log (tenant_id, actor_id, action, detail, ip, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(tenant)
        .bind(entry.actor_id)
        .bind(entry.action.as_str())
        .bind(Json(&entry.detail))
        .bind(&entry.ip)
        .bind(now)
        .execute(&mut **conn)
        .await?;
    });
    entry.log(tenant);
    Ok(())
}

/// Recording an event in the transaction of the change it describes: it exists only
/// if the change does.
pub trait AuditTx: Tx + Sized {
    fn audit(
        &mut self,
        entry: &AuditEntry,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<()>> + Send {
        let tenant = self.tenant();
        insert(self.inner(), tenant, entry, now)
    }
}

impl<T: Tx + Sized> AuditTx for T {}

async fn newest(
    tx: &mut StoreTx,
    tenant: Option<TenantId>,
    limit: i64,
) -> Result<Vec<AuditRecord>> {
    Ok(with_tx!(tx, conn => {
        match tenant {
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
    }))
}

impl TenantTx {
    /// The tenant's newest events.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn audit_entries(&mut self, limit: i64) -> Result<Vec<AuditRecord>> {
        newest(&mut self.tx, Some(self.tenant), limit).await
    }
}

impl PlatformTx {
    /// Records an operator's action on a tenant in that tenant's log.
    #[instrument(skip_all, fields(tenant = %tenant), err(level = "warn"))]
    pub async fn audit_in_tenant(
        &mut self,
        tenant: TenantId,
        entry: &AuditEntry,
        now: DateTime<Utc>,
    ) -> Result<()> {
        insert(self.inner(), Some(tenant), entry, now).await
    }

    /// The newest events of the whole platform, every tenant's included.
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn audit_entries(&mut self, limit: i64) -> Result<Vec<AuditRecord>> {
        newest(&mut self.tx, None, limit).await
    }
}

impl AccountTx {
    /// Records the person's own action on their rows in one tenant (revoking their
    /// API token of that tenant) in that tenant's log, with the change.
    #[instrument(skip_all, fields(tenant = %tenant), err(level = "warn"))]
    pub async fn audit_in_tenant(
        &mut self,
        tenant: TenantId,
        entry: &AuditEntry,
        now: DateTime<Utc>,
    ) -> Result<()> {
        insert(self.inner(), Some(tenant), entry, now).await
    }
}
