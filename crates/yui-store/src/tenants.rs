//! Tenants and their introductions.

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use tracing::instrument;
use yui_domain::tenant::Introduction;
use yui_domain::{Locale, Tenant, TenantId, TenantStatus};

use crate::scope::{PlatformReason, PlatformTx, TenantTx, sealed::Inner};
use crate::{Result, Store, StoreError, with_tx};

/// A tenant as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct TenantRecord {
    pub id: TenantId,
    /// The parent tenant (a municipality's prefecture).
    pub parent_id: Option<TenantId>,
    pub status: TenantStatus,
    pub tenant: Tenant,
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct TenantRow {
    id: TenantId,
    parent_id: Option<TenantId>,
    status: String,
    spec: Json<Tenant>,
    updated_at: DateTime<Utc>,
}

impl TenantRow {
    fn into_record(self) -> TenantRecord {
        TenantRecord {
            id: self.id,
            parent_id: self.parent_id,
            // The column has a CHECK constraint; an unknown value cannot be stored.
            status: TenantStatus::parse(&self.status).unwrap_or(TenantStatus::Suspended),
            tenant: self.spec.0,
            updated_at: self.updated_at,
        }
    }
}

/// What applying a tenant file did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyOutcome {
    Created,
    Updated,
    Unchanged,
}

/// Every change to a tenant row bumps the directory version in its transaction.
const BUMP_DIRECTORY: &str = "UPDATE directory_version SET version = version + 1 WHERE id = 1";

/// Changes to tenant rows written by this process, counted. A cache of tenant rows in
/// the process compares it with what it saw when it read them: a change made here is
/// seen on the next request, with no query to learn of it.
static LOCAL_TENANT_CHANGES: AtomicU64 = AtomicU64::new(0);

/// How many changes to tenant rows this process has written (see
/// [`LOCAL_TENANT_CHANGES`]); it only grows.
pub fn local_tenant_changes() -> u64 {
    LOCAL_TENANT_CHANGES.load(Ordering::Acquire)
}

fn count_local_tenant_change() {
    LOCAL_TENANT_CHANGES.fetch_add(1, Ordering::AcqRel);
}

const SELECT_TENANT: &str = "SELECT id, parent_id, status, spec, updated_at FROM tenants";

impl Store {
    /// Creates or updates a tenant from its validated file, in one transaction.
    /// Applying the same file twice changes nothing. The parent must exist.
    #[instrument(skip_all, fields(tenant = %tenant.slug), err(level = "warn"))]
    pub async fn apply_tenant(
        &self,
        tenant: &Tenant,
        logo_svg: &str,
        now: DateTime<Utc>,
    ) -> Result<ApplyOutcome> {
        let code = tenant.code.as_ref().map(|c| c.as_str().to_owned());
        let mut platform = self.platform(PlatformReason::TenantFiles).write().await?;
        let (outcome, id) = with_tx!(platform.inner(), tx => {
            let parent_id: Option<TenantId> = match &tenant.parent {
                None => None,
                Some(parent) => {
                    let row: Option<(TenantId,)> = sqlx::query_as("SELECT id FROM tenants WHERE slug = $1")
                        .bind(parent)
                        .fetch_optional(&mut **tx)
                        .await?;
                    match row {
                        Some((id,)) => Some(id),
                        None => return Err(StoreError::Invalid(format!(
                            "parent: tenant {parent:?} does not exist; apply it first"
                        ))),
                    }
                }
            };
            if let Some(code) = &code {
                let other: Option<(String,)> = sqlx::query_as("SELECT slug FROM tenants WHERE code = $1 AND slug <> $2")
                    .bind(code)
                    .bind(&tenant.slug)
                    .fetch_optional(&mut **tx)
                    .await?;
                if let Some((other,)) = other {
                    return Err(StoreError::Conflict(format!("code: {code} already belongs to tenant {other:?}")));
                }
            }
            let existing: Option<(TenantId, Json<Tenant>, String)> = sqlx::query_as("SELECT id, spec, logo_svg FROM tenants WHERE slug = $1")
                .bind(&tenant.slug)
                .fetch_optional(&mut **tx)
                .await?;
            match &existing {
                // Nothing of the tenant to write; its consent wording is made sure of below.
                Some((id, spec, logo)) if &spec.0 == tenant && logo == logo_svg => {
                    (ApplyOutcome::Unchanged, *id)
                }
                _ => {
                    let outcome = if existing.is_some() {
                        ApplyOutcome::Updated
                    } else {
                        ApplyOutcome::Created
                    };
                    let (id,): (TenantId,) = sqlx::query_as(
                        "INSERT INTO tenants (slug, kind, code, parent_id, name_ja, name_en, name_kana, default_locale, spec, logo_svg, created_at, updated_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
                         ON CONFLICT (slug) DO UPDATE SET
                            kind = excluded.kind, code = excluded.code, parent_id = excluded.parent_id,
                            name_ja = excluded.name_ja, name_en = excluded.name_en, name_kana = excluded.name_kana,
                            default_locale = excluded.default_locale, spec = excluded.spec, logo_svg = excluded.logo_svg,
                            updated_at = excluded.updated_at
                         RETURNING id",
                    )
                    .bind(&tenant.slug)
                    .bind(tenant.kind.as_str())
                    .bind(&code)
                    .bind(parent_id)
                    .bind(&tenant.name.ja)
                    .bind(&tenant.name.en)
                    .bind(&tenant.name.kana)
                    .bind(tenant.default_locale.tag())
                    .bind(Json(tenant))
                    .bind(logo_svg)
                    .bind(now)
                    .fetch_one(&mut **tx)
                    .await?;
                    sqlx::query(BUMP_DIRECTORY).execute(&mut **tx).await?;
                    count_local_tenant_change();
                    (outcome, id)
                }
            }
        });
        // Every wording members agree to is stored, also for a tenant applied before
        // consents existed (its file unchanged); the same version with a new text is
        // refused, and nothing of the file is applied.
        crate::talent::ensure_consent(platform.inner(), id, &tenant.consent, now).await?;
        platform.commit().await?;
        Ok(outcome)
    }

    /// Every tenant, ordered by local-government code (unions after the codes).
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn list_tenants(&self) -> Result<Vec<TenantRecord>> {
        let mut tx = self.platform(PlatformReason::Directory).read().await?;
        let rows: Vec<TenantRow> = with_tx!(tx.inner(), conn => {
            sqlx::query_as(&format!("{SELECT_TENANT} ORDER BY code IS NULL, code, slug"))
                .fetch_all(&mut **conn)
                .await?
        });
        tx.commit().await?;
        Ok(rows.into_iter().map(TenantRow::into_record).collect())
    }

    /// One tenant by slug: the directory entry a path names.
    #[instrument(skip_all, fields(tenant = %slug), err(level = "debug"))]
    pub async fn tenant_by_slug(&self, slug: &str) -> Result<TenantRecord> {
        let mut tx = self.platform(PlatformReason::Directory).read().await?;
        let row: TenantRow = with_tx!(tx.inner(), conn => {
            sqlx::query_as(&format!("{SELECT_TENANT} WHERE slug = $1"))
                .bind(slug)
                .fetch_one(&mut **conn)
                .await?
        });
        tx.commit().await?;
        Ok(row.into_record())
    }
}

impl TenantTx {
    /// Takes this tenant's turn for changes to its staff: until this transaction
    /// ends, another that also asks waits, so rules such as "the last administrator
    /// stays" are checked against what the other committed. (SQLite's writing
    /// transactions already run one at a time; PostgreSQL locks the tenant's row.)
    /// A suspended tenant is [`StoreError::Suspended`], checked in this transaction: a
    /// request that began before an operator suspended it changes nothing after.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn lock_staff(&mut self) -> Result<()> {
        self.active_status("FOR UPDATE").await
    }

    /// Holds the tenant as active until this transaction ends ([`StoreError::Suspended`]
    /// when it is not): a suspension waits for this change, or this change sees it.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn ensure_active(&mut self) -> Result<()> {
        self.active_status("FOR SHARE").await
    }

    async fn active_status(&mut self, lock: &'static str) -> Result<()> {
        let lock = self.tx.row_lock(lock);
        let row: Option<(String,)> = with_tx!(&mut self.tx, conn => {
            sqlx::query_as(&format!("SELECT status FROM tenants WHERE id = $1 {lock}"))
                .bind(self.tenant)
                .fetch_optional(&mut **conn)
                .await?
        });
        match row {
            Some((status,)) if status == TenantStatus::Active.as_str() => Ok(()),
            Some(_) => Err(StoreError::Suspended),
            None => Err(StoreError::NotFound),
        }
    }

    /// The tenant's logo (SVG text) and when it last changed.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "debug"))]
    pub async fn logo(&mut self) -> Result<(String, DateTime<Utc>)> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as("SELECT logo_svg, updated_at FROM tenants WHERE id = $1")
                .bind(self.tenant)
                .fetch_one(&mut **conn)
                .await?)
        })
    }

    /// Stores (or replaces) the tenant's introduction in one locale.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn put_introduction(
        &mut self,
        locale: Locale,
        intro: &Introduction,
        now: DateTime<Utc>,
    ) -> Result<()> {
        with_tx!(&mut self.tx, conn => {
            sqlx::query(
                "INSERT INTO tenant_introductions (tenant_id, locale, content, updated_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (tenant_id, locale) DO UPDATE SET content = excluded.content, updated_at = excluded.updated_at",
            )
            .bind(self.tenant)
            .bind(locale.tag())
            .bind(Json(intro))
            .bind(now)
            .execute(&mut **conn)
            .await?;
        });
        Ok(())
    }

    /// The tenant's introduction in one locale, if one was written.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn introduction(&mut self, locale: Locale) -> Result<Option<Introduction>> {
        let row: Option<(Json<Introduction>,)> = with_tx!(&mut self.tx, conn => {
            sqlx::query_as("SELECT content FROM tenant_introductions WHERE tenant_id = $1 AND locale = $2")
                .bind(self.tenant)
                .bind(locale.tag())
                .fetch_optional(&mut **conn)
                .await?
        });
        Ok(row.map(|(c,)| c.0))
    }
}

impl PlatformTx {
    /// Suspends or resumes a tenant. Nothing is deleted either way.
    #[instrument(skip_all, fields(tenant = %tenant), err(level = "warn"))]
    pub async fn set_tenant_status(
        &mut self,
        tenant: TenantId,
        status: TenantStatus,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let done = with_tx!(&mut self.tx, conn => {
            sqlx::query("UPDATE tenants SET status = $1, updated_at = $2 WHERE id = $3")
                .bind(status.as_str())
                .bind(now)
                .bind(tenant)
                .execute(&mut **conn)
                .await?
                .rows_affected()
        });
        with_tx!(&mut self.tx, conn => {
            sqlx::query(BUMP_DIRECTORY).execute(&mut **conn).await?;
        });
        count_local_tenant_change();
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Live staff grants per tenant, for the operator console.
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn staff_counts(&mut self) -> Result<Vec<(TenantId, i64)>> {
        Ok(with_tx!(&mut self.tx, conn => {
            sqlx::query_as(
                "SELECT tenant_id, CAST(COUNT(*) AS BIGINT) FROM role_grants
                 WHERE revoked_at IS NULL AND tenant_id IS NOT NULL GROUP BY tenant_id",
            )
            .fetch_all(&mut **conn)
            .await?
        }))
    }
}
