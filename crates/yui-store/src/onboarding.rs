//! Onboarding regions from the console, their setup checklist, and the operator's
//! overview of the platform.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use tracing::instrument;
use yui_domain::{Tenant, TenantId, TenantKind};

use crate::scope::{PlatformReason, PlatformTx, TenantTx, sealed::Inner};
use crate::tenants::TenantRecord;
use crate::tenants::{BUMP_DIRECTORY, SELECT_TENANT, TenantRow, count_local_tenant_change};
use crate::{Result, Store, StoreError, with_tx};

/// A count per tenant, and the latest time per tenant.
type Counts = Vec<(TenantId, i64)>;
type Latest = Vec<(TenantId, Option<DateTime<Utc>>)>;

/// How far a tenant's setup has come.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupProgress {
    /// Since when the tenant is being set up; `None` once launched (or applied from
    /// a file, which is complete).
    pub setting_up_since: Option<DateTime<Utc>>,
    /// Whether a program (a fiscal year's) exists.
    pub has_program: bool,
}

/// Tenants of one group of the overview (a prefecture's code prefix, or unions) by
/// their state.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StateCounts {
    pub setting_up: i64,
    pub active: i64,
    pub suspended: i64,
}

/// One tenant's figures on the operator overview. Counts only: nobody's personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantActivity {
    pub tenant: TenantId,
    pub staff: i64,
    /// Talents who joined and have not left.
    pub members: i64,
    /// The latest audited action in the tenant.
    pub last_activity: Option<DateTime<Utc>>,
    /// Mail that could not be delivered (after every retry).
    pub mail_failures: i64,
}

/// Anonymous figures of the whole platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PlatformTotals {
    pub tenants: i64,
    pub accounts: i64,
    pub memberships: i64,
    pub engagements: i64,
    pub mail_pending: i64,
    pub mail_failed: i64,
}

impl PlatformTx {
    /// Creates a tenant from the onboarding form: being set up, not listed publicly
    /// until launched. A slug or code already on the platform is
    /// [`StoreError::Conflict`] naming the field (`slug`, `code`); a parent that is not
    /// on the platform is [`StoreError::Invalid`].
    #[instrument(skip_all, fields(tenant = %tenant.slug), err(level = "warn"))]
    pub async fn onboard_tenant(
        &mut self,
        tenant: &Tenant,
        logo_svg: &str,
        now: DateTime<Utc>,
    ) -> Result<TenantId> {
        let code = tenant.code.as_ref().map(|c| c.as_str().to_owned());
        let id = with_tx!(&mut self.tx, tx => {
            let parent_id: Option<TenantId> = match &tenant.parent {
                None => None,
                Some(parent) => {
                    let row: Option<(TenantId,)> = sqlx::query_as("SELECT id FROM tenants WHERE slug = $1")
                        .bind(parent)
                        .fetch_optional(&mut **tx)
                        .await?;
                    Some(row.ok_or_else(|| StoreError::Invalid(format!("parent: tenant {parent:?} does not exist")))?.0)
                }
            };
            // Asked first so that the error names the field, whichever index trips.
            let slug_taken: Option<(TenantId,)> = sqlx::query_as("SELECT id FROM tenants WHERE slug = $1")
                .bind(&tenant.slug)
                .fetch_optional(&mut **tx)
                .await?;
            if slug_taken.is_some() {
                return Err(StoreError::Conflict("slug".to_owned()));
            }
            let code_taken: Option<(TenantId,)> = sqlx::query_as("SELECT id FROM tenants WHERE code = $1")
                .bind(&code)
                .fetch_optional(&mut **tx)
                .await?;
            if code_taken.is_some() {
                return Err(StoreError::Conflict("code".to_owned()));
            }
            let inserted: std::result::Result<(TenantId,), sqlx::Error> = sqlx::query_as(
                "INSERT INTO tenants (slug, kind, code, parent_id, name_ja, name_en, name_kana, default_locale,
                                      spec, logo_svg, created_at, updated_at, setting_up_since)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $11) RETURNING id",
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
            .await;
            // Two operators onboarding the same region at once: the second is told so.
            let (id,) = inserted.map_err(StoreError::taken("slug"))?;
            sqlx::query(BUMP_DIRECTORY).execute(&mut **tx).await?;
            id
        });
        count_local_tenant_change();
        crate::talent::ensure_consent(&mut self.tx, id, &tenant.consent, now).await?;
        Ok(id)
    }

    /// Tenants by state, per prefecture (the first two digits of the code; unions
    /// under `None`). One pass over the tenants' own rows.
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn tenant_states_by_prefecture(
        &mut self,
    ) -> Result<Vec<(Option<String>, StateCounts)>> {
        let rows: Vec<(Option<String>, String, bool, i64)> = with_tx!(&mut self.tx, conn => {
            sqlx::query_as(
                "SELECT substr(code, 1, 2), status, setting_up_since IS NOT NULL, CAST(COUNT(*) AS BIGINT)
                 FROM tenants GROUP BY substr(code, 1, 2), status, setting_up_since IS NOT NULL",
            )
            .fetch_all(&mut **conn)
            .await?
        });
        let mut out: Vec<(Option<String>, StateCounts)> = Vec::new();
        for (prefix, status, setting_up, n) in rows {
            let i = match out.iter().position(|(p, _)| *p == prefix) {
                Some(i) => i,
                None => {
                    out.push((prefix, StateCounts::default()));
                    out.len() - 1
                }
            };
            let counts = &mut out[i].1;
            match (status.as_str(), setting_up) {
                ("suspended", _) => counts.suspended += n,
                (_, true) => counts.setting_up += n,
                _ => counts.active += n,
            }
        }
        out.sort_by(|a, b| (a.0.is_none(), &a.0).cmp(&(b.0.is_none(), &b.0)));
        Ok(out)
    }

    /// The tenants of one prefecture (by the first two digits of their code), or the
    /// unions when `prefix` is `None`.
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn tenants_of_prefecture(
        &mut self,
        prefix: Option<&str>,
    ) -> Result<Vec<TenantRecord>> {
        let rows: Vec<TenantRow> = with_tx!(&mut self.tx, conn => {
            match prefix {
                Some(p) => sqlx::query_as(&format!("{SELECT_TENANT} WHERE code LIKE $1 ORDER BY code"))
                    .bind(format!("{p}%"))
                    .fetch_all(&mut **conn)
                    .await?,
                None => sqlx::query_as(&format!("{SELECT_TENANT} WHERE code IS NULL ORDER BY slug"))
                    .fetch_all(&mut **conn)
                    .await?,
            }
        });
        Ok(rows.into_iter().map(TenantRow::into_record).collect())
    }

    /// The tenants of one kind (the prefectures on Yui, say), by code.
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn tenants_of_kind(&mut self, kind: TenantKind) -> Result<Vec<TenantRecord>> {
        let rows: Vec<TenantRow> = with_tx!(&mut self.tx, conn => {
            sqlx::query_as(&format!("{SELECT_TENANT} WHERE kind = $1 ORDER BY code IS NULL, code, slug"))
                .bind(kind.as_str())
                .fetch_all(&mut **conn)
                .await?
        });
        Ok(rows.into_iter().map(TenantRow::into_record).collect())
    }

    /// Staff, members, last activity and mail failures of the given tenants: each
    /// count is one indexed query per tenant list, whatever else is on the platform.
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn tenant_activity(&mut self, ids: &[TenantId]) -> Result<Vec<TenantActivity>> {
        let mut out: Vec<TenantActivity> = ids
            .iter()
            .map(|&tenant| TenantActivity {
                tenant,
                staff: 0,
                members: 0,
                last_activity: None,
                mail_failures: 0,
            })
            .collect();
        if ids.is_empty() {
            return Ok(out);
        }
        // Ids are numbers the store made; written into the text, no binding needed.
        let list = ids
            .iter()
            .map(|id| id.get().to_string())
            .collect::<Vec<_>>()
            .join(",");
        let counts = |sql: String| sql.replace("{ids}", &list);
        let (staff, members, failures, last): (Counts, Counts, Counts, Latest) = with_tx!(&mut self.tx, conn => {
            let staff = sqlx::query_as(&counts(
                "SELECT tenant_id, CAST(COUNT(*) AS BIGINT) FROM role_grants
                 WHERE revoked_at IS NULL AND tenant_id IN ({ids}) GROUP BY tenant_id".to_owned(),
            ))
            .fetch_all(&mut **conn)
            .await?;
            let members = sqlx::query_as(&counts(
                "SELECT tenant_id, CAST(COUNT(*) AS BIGINT) FROM memberships
                 WHERE left_at IS NULL AND tenant_id IN ({ids}) GROUP BY tenant_id".to_owned(),
            ))
            .fetch_all(&mut **conn)
            .await?;
            let failures = sqlx::query_as(&counts(
                "SELECT tenant_id, CAST(COUNT(*) AS BIGINT) FROM mail_outbox
                 WHERE status = 'failed' AND tenant_id IN ({ids}) GROUP BY tenant_id".to_owned(),
            ))
            .fetch_all(&mut **conn)
            .await?;
            let last = sqlx::query_as(&counts(
                "SELECT tenant_id, MAX(created_at) FROM audit_log
                 WHERE tenant_id IN ({ids}) GROUP BY tenant_id".to_owned(),
            ))
            .fetch_all(&mut **conn)
            .await?;
            (staff, members, failures, last)
        });
        for a in &mut out {
            let find = |rows: &[(TenantId, i64)]| {
                rows.iter()
                    .find(|(t, _)| *t == a.tenant)
                    .map_or(0, |(_, n)| *n)
            };
            a.staff = find(&staff);
            a.members = find(&members);
            a.mail_failures = find(&failures);
            a.last_activity = last
                .iter()
                .find(|(t, _)| *t == a.tenant)
                .and_then(|(_, at)| *at);
        }
        Ok(out)
    }

    /// Anonymous totals of the platform: counts, never a person.
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn platform_totals(&mut self) -> Result<PlatformTotals> {
        let (tenants, accounts, memberships, engagements, mail_pending, mail_failed): (
            i64,
            i64,
            i64,
            i64,
            i64,
            i64,
        ) = with_tx!(&mut self.tx, conn => {
            sqlx::query_as(
                "SELECT (SELECT CAST(COUNT(*) AS BIGINT) FROM tenants),
                        (SELECT CAST(COUNT(*) AS BIGINT) FROM accounts),
                        (SELECT CAST(COUNT(*) AS BIGINT) FROM memberships WHERE left_at IS NULL),
                        (SELECT CAST(COUNT(*) AS BIGINT) FROM engagements),
                        (SELECT CAST(COUNT(*) AS BIGINT) FROM mail_outbox WHERE status = 'pending'),
                        (SELECT CAST(COUNT(*) AS BIGINT) FROM mail_outbox WHERE status = 'failed')",
            )
            .fetch_one(&mut **conn)
            .await?
        });
        Ok(PlatformTotals {
            tenants,
            accounts,
            memberships,
            engagements,
            mail_pending,
            mail_failed,
        })
    }
}

impl Store {
    /// The tenant with this local-government code, if one is on the platform.
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn tenant_by_code(&self, code: &str) -> Result<Option<TenantRecord>> {
        let mut tx = self.platform(PlatformReason::Directory).read().await?;
        let row: Option<TenantRow> = with_tx!(tx.inner(), conn => {
            sqlx::query_as(&format!("{SELECT_TENANT} WHERE code = $1"))
                .bind(code)
                .fetch_optional(&mut **conn)
                .await?
        });
        tx.commit().await?;
        Ok(row.map(TenantRow::into_record))
    }
}

impl TenantTx {
    /// How far the tenant's setup has come.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn setup_progress(&mut self) -> Result<SetupProgress> {
        let (setting_up_since, programs): (Option<DateTime<Utc>>, i64) = with_tx!(&mut self.tx, conn => {
            sqlx::query_as(
                "SELECT setting_up_since, (SELECT CAST(COUNT(*) AS BIGINT) FROM programs WHERE tenant_id = $1)
                 FROM tenants WHERE id = $1",
            )
            .bind(self.tenant)
            .fetch_one(&mut **conn)
            .await?
        });
        Ok(SetupProgress {
            setting_up_since,
            has_program: programs > 0,
        })
    }

    /// Ends the tenant's setup: it is listed publicly from now on. False when it was
    /// not being set up (launched already).
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn launch(&mut self, now: DateTime<Utc>) -> Result<bool> {
        let done = with_tx!(&mut self.tx, conn => {
            let done = sqlx::query(
                "UPDATE tenants SET setting_up_since = NULL, updated_at = $1
                 WHERE id = $2 AND setting_up_since IS NOT NULL",
            )
            .bind(now)
            .bind(self.tenant)
            .execute(&mut **conn)
            .await?
            .rows_affected();
            if done > 0 {
                sqlx::query(BUMP_DIRECTORY).execute(&mut **conn).await?;
            }
            done
        });
        if done > 0 {
            count_local_tenant_change();
        }
        Ok(done > 0)
    }
}
