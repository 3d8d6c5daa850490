//! Tenants and their introductions.

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use tracing::instrument;
use yui_domain::settings::{Logo, LogoKind, SettingsSection};
use yui_domain::tenant::Introduction;
use yui_domain::{AccountId, Locale, Tenant, TenantId, TenantStatus};

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
    /// Since when the tenant, onboarded from the console, is being set up; `None`
    /// once launched, and for tenants applied from files.
    pub setting_up_since: Option<DateTime<Utc>>,
}

impl TenantRecord {
    /// Whether the tenant is still being set up (not listed publicly yet).
    pub fn is_setting_up(&self) -> bool {
        self.setting_up_since.is_some()
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct TenantRow {
    id: TenantId,
    parent_id: Option<TenantId>,
    status: String,
    spec: Json<Tenant>,
    updated_at: DateTime<Utc>,
    setting_up_since: Option<DateTime<Utc>>,
}

impl TenantRow {
    pub(crate) fn into_record(self) -> TenantRecord {
        TenantRecord {
            id: self.id,
            parent_id: self.parent_id,
            // The column has a CHECK constraint; an unknown value cannot be stored.
            status: TenantStatus::parse(&self.status).unwrap_or(TenantStatus::Suspended),
            tenant: self.spec.0,
            updated_at: self.updated_at,
            setting_up_since: self.setting_up_since,
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

/// A stored tenant as its files hold it: id, spec, SVG text and PNG bytes.
type StoredFiles = (TenantId, Json<Tenant>, String, Option<Vec<u8>>);

/// Every change to a tenant row bumps the directory version in its transaction.
pub(crate) const BUMP_DIRECTORY: &str =
    "UPDATE directory_version SET version = version + 1 WHERE id = 1";

/// Changes to tenant rows written by this process, counted. A cache of tenant rows in
/// the process compares it with what it saw when it read them: a change made here is
/// seen on the next request, with no query to learn of it.
static LOCAL_TENANT_CHANGES: AtomicU64 = AtomicU64::new(0);

/// How many changes to tenant rows this process has written (see
/// [`LOCAL_TENANT_CHANGES`]); it only grows.
pub fn local_tenant_changes() -> u64 {
    LOCAL_TENANT_CHANGES.load(Ordering::Acquire)
}

pub(crate) fn count_local_tenant_change() {
    LOCAL_TENANT_CHANGES.fetch_add(1, Ordering::AcqRel);
}

pub(crate) const SELECT_TENANT: &str =
    "SELECT id, parent_id, status, spec, updated_at, setting_up_since FROM tenants";

impl Store {
    /// Creates or updates a tenant from its validated file with an SVG logo (see
    /// [`Store::apply_tenant_files`]).
    pub async fn apply_tenant(
        &self,
        tenant: &Tenant,
        logo_svg: &str,
        now: DateTime<Utc>,
    ) -> Result<ApplyOutcome> {
        let logo = Logo {
            kind: LogoKind::Svg,
            bytes: logo_svg.as_bytes().to_vec(),
        };
        self.apply_tenant_files(tenant, &logo, now).await
    }

    /// Creates or updates a tenant from its validated file and its checked logo, in
    /// one transaction. Applying the same file twice changes nothing. The parent must
    /// exist.
    #[instrument(skip_all, fields(tenant = %tenant.slug), err(level = "warn"))]
    pub async fn apply_tenant_files(
        &self,
        tenant: &Tenant,
        logo: &Logo,
        now: DateTime<Utc>,
    ) -> Result<ApplyOutcome> {
        let (logo_svg, logo_png) = logo_columns(logo)?;
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
            let existing: Option<StoredFiles> = sqlx::query_as(
                "SELECT id, spec, logo_svg, logo_png FROM tenants WHERE slug = $1",
            )
            .bind(&tenant.slug)
            .fetch_optional(&mut **tx)
            .await?;
            match &existing {
                // Nothing of the tenant to write; its consent wording is made sure of below.
                Some((id, spec, svg, png))
                    if &spec.0 == tenant && *svg == logo_svg && *png == logo_png =>
                {
                    (ApplyOutcome::Unchanged, *id)
                }
                _ => {
                    let outcome = if existing.is_some() {
                        ApplyOutcome::Updated
                    } else {
                        ApplyOutcome::Created
                    };
                    let (id,): (TenantId,) = sqlx::query_as(
                        "INSERT INTO tenants (slug, kind, code, parent_id, name_ja, name_en, name_kana, default_locale, spec, logo_svg, logo_png, created_at, updated_at, files_applied_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $12, $11, $11, $11)
                         ON CONFLICT (slug) DO UPDATE SET
                            kind = excluded.kind, code = excluded.code, parent_id = excluded.parent_id,
                            name_ja = excluded.name_ja, name_en = excluded.name_en, name_kana = excluded.name_kana,
                            default_locale = excluded.default_locale, spec = excluded.spec, logo_svg = excluded.logo_svg,
                            logo_png = excluded.logo_png, updated_at = excluded.updated_at,
                            files_applied_at = excluded.files_applied_at
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
                    .bind(&logo_svg)
                    .bind(now)
                    .bind(&logo_png)
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

    /// A tenant as its folder holds it: the stored tenant and its logo, for
    /// `yui tenant export`.
    #[instrument(skip_all, fields(tenant = %slug), err(level = "warn"))]
    pub async fn tenant_files(&self, slug: &str) -> Result<(TenantRecord, Logo)> {
        let mut tx = self.platform(PlatformReason::TenantFiles).read().await?;
        let row: TenantRow = with_tx!(tx.inner(), conn => {
            sqlx::query_as(&format!("{SELECT_TENANT} WHERE slug = $1"))
                .bind(slug)
                .fetch_one(&mut **conn)
                .await?
        });
        let logo: (String, Option<Vec<u8>>) = with_tx!(tx.inner(), conn => {
            sqlx::query_as("SELECT logo_svg, logo_png FROM tenants WHERE slug = $1")
                .bind(slug)
                .fetch_one(&mut **conn)
                .await?
        });
        tx.commit().await?;
        Ok((row.into_record(), logo_of(logo)))
    }

    /// The sections of a tenant's settings edited in pages after the last tenant-file
    /// apply that changed it (all edits when none did), with the latest time of each:
    /// what applying its file again would overwrite. A tenant not stored has none.
    #[instrument(skip_all, fields(tenant = %slug), err(level = "warn"))]
    pub async fn settings_edited_since_files(
        &self,
        slug: &str,
    ) -> Result<Vec<(SettingsSection, DateTime<Utc>)>> {
        let mut tx = self.platform(PlatformReason::TenantFiles).read().await?;
        let rows: Vec<(String, DateTime<Utc>)> = with_tx!(tx.inner(), conn => {
            sqlx::query_as(
                "SELECT e.section, e.edited_at FROM tenant_settings_edits e JOIN tenants t ON t.id = e.tenant_id
                 WHERE t.slug = $1 AND (t.files_applied_at IS NULL OR e.edited_at > t.files_applied_at)
                 ORDER BY e.section",
            )
            .bind(slug)
            .fetch_all(&mut **conn)
            .await?
        });
        tx.commit().await?;
        Ok(sections_of(rows))
    }
}

fn sections_of(rows: Vec<(String, DateTime<Utc>)>) -> Vec<(SettingsSection, DateTime<Utc>)> {
    // The column has a CHECK constraint; an unknown value cannot be stored.
    let mut out: Vec<(SettingsSection, DateTime<Utc>)> = rows
        .into_iter()
        .filter_map(|(s, at)| SettingsSection::parse(&s).map(|s| (s, at)))
        .collect();
    out.sort_by_key(|(s, _)| *s);
    out
}

/// The stored columns of a logo: SVG text, or PNG bytes with an empty text.
fn logo_columns(logo: &Logo) -> Result<(String, Option<Vec<u8>>)> {
    match logo.kind {
        LogoKind::Svg => String::from_utf8(logo.bytes.clone())
            .map(|svg| (svg, None))
            .map_err(|_| {
                StoreError::Invalid("branding.logo: an SVG must be UTF-8 text".to_owned())
            }),
        LogoKind::Png => Ok((String::new(), Some(logo.bytes.clone()))),
    }
}

fn logo_of((svg, png): (String, Option<Vec<u8>>)) -> Logo {
    match png {
        Some(bytes) => Logo {
            kind: LogoKind::Png,
            bytes,
        },
        None => Logo {
            kind: LogoKind::Svg,
            bytes: svg.into_bytes(),
        },
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

    /// The tenant's logo (SVG or PNG) and when the tenant last changed.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "debug"))]
    pub async fn logo_file(&mut self) -> Result<(Logo, DateTime<Utc>)> {
        let (svg, png, at): (String, Option<Vec<u8>>, DateTime<Utc>) = with_tx!(&mut self.tx, conn => {
            sqlx::query_as("SELECT logo_svg, logo_png, updated_at FROM tenants WHERE id = $1")
                .bind(self.tenant)
                .fetch_one(&mut **conn)
                .await?
        });
        Ok((logo_of((svg, png)), at))
    }

    /// The tenant's settings as stored now, held until this transaction ends so two
    /// saves of its settings take turns (each starts from what the other wrote).
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn settings_for_update(&mut self) -> Result<Tenant> {
        self.lock_staff().await?;
        let (spec,): (Json<Tenant>,) = with_tx!(&mut self.tx, conn => {
            sqlx::query_as("SELECT spec FROM tenants WHERE id = $1")
                .bind(self.tenant)
                .fetch_one(&mut **conn)
                .await?
        });
        Ok(spec.0)
    }

    /// The highest consent version members of this tenant were ever given (0 when none).
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn latest_consent_version(&mut self) -> Result<u32> {
        let (v,): (Option<i64>,) = with_tx!(&mut self.tx, conn => {
            sqlx::query_as("SELECT CAST(MAX(version) AS BIGINT) FROM tenant_consents WHERE tenant_id = $1")
                .bind(self.tenant)
                .fetch_one(&mut **conn)
                .await?
        });
        Ok(v.and_then(|v| u32::try_from(v).ok()).unwrap_or(0))
    }

    /// Stores the tenant's settings as a page edited them (`logo` when one was
    /// uploaded), records that `section` was edited in pages, by whom and when, and
    /// stores a new consent wording. The directory sees the change at once, on every
    /// node (its version) and in this process (its counter).
    #[instrument(skip_all, fields(tenant = %self.tenant, section = section.as_str()), err(level = "warn"))]
    pub async fn save_settings(
        &mut self,
        section: SettingsSection,
        tenant: &Tenant,
        logo: Option<&Logo>,
        by: AccountId,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let columns = logo.map(logo_columns).transpose()?;
        with_tx!(&mut self.tx, conn => {
            sqlx::query(
                "UPDATE tenants SET name_ja = $1, name_en = $2, name_kana = $3, default_locale = $4,
                     spec = $5, updated_at = $6 WHERE id = $7",
            )
            .bind(&tenant.name.ja)
            .bind(&tenant.name.en)
            .bind(&tenant.name.kana)
            .bind(tenant.default_locale.tag())
            .bind(Json(tenant))
            .bind(now)
            .bind(self.tenant)
            .execute(&mut **conn)
            .await?;
            if let Some((svg, png)) = &columns {
                sqlx::query("UPDATE tenants SET logo_svg = $1, logo_png = $2 WHERE id = $3")
                    .bind(svg)
                    .bind(png)
                    .bind(self.tenant)
                    .execute(&mut **conn)
                    .await?;
            }
            sqlx::query(
                "INSERT INTO tenant_settings_edits (tenant_id, section, edited_at, edited_by) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (tenant_id, section) DO UPDATE SET edited_at = excluded.edited_at, edited_by = excluded.edited_by",
            )
            .bind(self.tenant)
            .bind(section.as_str())
            .bind(now)
            .bind(by)
            .execute(&mut **conn)
            .await?;
            sqlx::query(BUMP_DIRECTORY).execute(&mut **conn).await?;
        });
        crate::talent::ensure_consent(&mut self.tx, self.tenant, &tenant.consent, now).await?;
        count_local_tenant_change();
        Ok(())
    }

    /// The sections of the tenant's settings edited in pages at least once, with the
    /// latest time of each, in [`SettingsSection::ALL`] order.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn edited_settings_sections(
        &mut self,
    ) -> Result<Vec<(SettingsSection, DateTime<Utc>)>> {
        let rows: Vec<(String, DateTime<Utc>)> = with_tx!(&mut self.tx, conn => {
            sqlx::query_as("SELECT section, edited_at FROM tenant_settings_edits WHERE tenant_id = $1")
                .bind(self.tenant)
                .fetch_all(&mut **conn)
                .await?
        });
        Ok(sections_of(rows))
    }

    /// Removes the tenant's introduction in one locale (the landing page then shows
    /// the one-paragraph intro).
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn remove_introduction(&mut self, locale: Locale) -> Result<()> {
        with_tx!(&mut self.tx, conn => {
            sqlx::query("DELETE FROM tenant_introductions WHERE tenant_id = $1 AND locale = $2")
                .bind(self.tenant)
                .bind(locale.tag())
                .execute(&mut **conn)
                .await?;
        });
        Ok(())
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
