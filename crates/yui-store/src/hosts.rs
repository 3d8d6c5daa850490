//! Host organizations of a tenant and their members. Every query binds the
//! transaction's tenant; a host id of another tenant finds nothing.

use chrono::{DateTime, Utc};
use tracing::instrument;
use yui_domain::host::{HostFields, HostStatus};
use yui_domain::{AccountId, HostId, TenantId};

use crate::scope::TenantTx;
use crate::{Result, StoreError, with_tx};

/// A host as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Host {
    pub id: HostId,
    pub tenant_id: TenantId,
    pub name: String,
    pub kana: String,
    pub municipality_code: String,
    pub industry: String,
    pub summary: String,
    pub website: Option<String>,
    /// A [`HostStatus`] code.
    pub status: String,
    pub created_by: Option<AccountId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub approved_by: Option<AccountId>,
    pub approved_at: Option<DateTime<Utc>>,
}

impl Host {
    /// The status; a code the domain does not know (only a hand-edited row could
    /// hold one) reads as pending, which shows nothing to the public.
    pub fn status(&self) -> HostStatus {
        HostStatus::parse(&self.status).unwrap_or(HostStatus::Pending)
    }
}

/// A member of a host, with what staff need to recognise them.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct HostMember {
    pub account_id: AccountId,
    pub email: String,
    pub display_name: String,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, tenant_id, name, kana, municipality_code, industry, summary, website, \
     status, created_by, created_at, updated_at, approved_by, approved_at";

impl TenantTx {
    /// Registers a host. A name the tenant already has is `Conflict("name")`, so a
    /// form sent twice at once creates one host and names the field for the other.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn create_host(
        &mut self,
        host: &HostFields,
        status: HostStatus,
        created_by: Option<AccountId>,
        now: DateTime<Utc>,
    ) -> Result<HostId> {
        let approved = status == HostStatus::Approved;
        let result: std::result::Result<(HostId,), sqlx::Error> = with_tx!(&mut self.tx, conn => {
            sqlx::query_as(
                "INSERT INTO hosts (tenant_id, name, kana, municipality_code, industry, summary, website,
                                    status, created_by, created_at, updated_at, approved_by, approved_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12) RETURNING id",
            )
            .bind(self.tenant)
            .bind(&host.name)
            .bind(&host.kana)
            .bind(host.municipality_code.as_str())
            .bind(&host.industry)
            .bind(&host.summary)
            .bind(host.website.as_deref())
            .bind(status.code())
            .bind(created_by)
            .bind(now)
            .bind(created_by.filter(|_| approved))
            .bind(approved.then_some(now))
            .fetch_one(&mut **conn)
            .await
        });
        result.map(|(id,)| id).map_err(StoreError::taken("name"))
    }

    /// Changes a host's fields; `None` when this tenant has no such host.
    #[instrument(skip_all, fields(tenant = %self.tenant, host = %id), err(level = "warn"))]
    pub async fn update_host(
        &mut self,
        id: HostId,
        host: &HostFields,
        now: DateTime<Utc>,
    ) -> Result<Option<Host>> {
        let result: std::result::Result<Option<Host>, sqlx::Error> = with_tx!(&mut self.tx, conn => {
            sqlx::query_as(&format!(
                "UPDATE hosts SET name = $1, kana = $2, municipality_code = $3, industry = $4,
                                  summary = $5, website = $6, updated_at = $7
                 WHERE tenant_id = $8 AND id = $9 RETURNING {COLUMNS}"
            ))
            .bind(&host.name)
            .bind(&host.kana)
            .bind(host.municipality_code.as_str())
            .bind(&host.industry)
            .bind(&host.summary)
            .bind(host.website.as_deref())
            .bind(now)
            .bind(self.tenant)
            .bind(id)
            .fetch_optional(&mut **conn)
            .await
        });
        let host = result.map_err(StoreError::taken("name"))?;
        if host.is_some() {
            // Its projects are found by its name too.
            crate::search::index_projects(&mut self.tx, self.tenant, None, Some(id)).await?;
        }
        Ok(host)
    }

    /// Moves a host from `from` to `to` (the caller checked the move is allowed);
    /// `None` when there is no such host or it is no longer in `from` (someone else
    /// moved it first).
    #[instrument(skip_all, fields(tenant = %self.tenant, host = %id), err(level = "warn"))]
    pub async fn set_host_status(
        &mut self,
        id: HostId,
        from: HostStatus,
        to: HostStatus,
        actor: AccountId,
        now: DateTime<Utc>,
    ) -> Result<Option<Host>> {
        let approving = to == HostStatus::Approved;
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!(
                "UPDATE hosts SET status = $1, updated_at = $2,
                     approved_by = CASE WHEN $3 THEN $4 ELSE approved_by END,
                     approved_at = CASE WHEN $3 THEN $2 ELSE approved_at END
                 WHERE tenant_id = $5 AND id = $6 AND status = $7 RETURNING {COLUMNS}"
            ))
            .bind(to.code())
            .bind(now)
            .bind(approving)
            .bind(actor)
            .bind(self.tenant)
            .bind(id)
            .bind(from.code())
            .fetch_optional(&mut **conn)
            .await?)
        })
    }

    /// One host of this tenant.
    #[instrument(skip_all, fields(tenant = %self.tenant, host = %id), err(level = "debug"))]
    pub async fn host(&mut self, id: HostId) -> Result<Option<Host>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM hosts WHERE tenant_id = $1 AND id = $2"
            ))
            .bind(self.tenant)
            .bind(id)
            .fetch_optional(&mut **conn)
            .await?)
        })
    }

    /// Every host of this tenant, by reading.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "debug"))]
    pub async fn hosts(&mut self) -> Result<Vec<Host>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM hosts WHERE tenant_id = $1 ORDER BY kana, id"
            ))
            .bind(self.tenant)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// The hosts of this tenant that `account` is a member of.
    #[instrument(skip_all, fields(tenant = %self.tenant, account = %account), err(level = "debug"))]
    pub async fn hosts_of_member(&mut self, account: AccountId) -> Result<Vec<Host>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM hosts
                 WHERE tenant_id = $1
                   AND id IN (SELECT host_id FROM host_members WHERE tenant_id = $1 AND account_id = $2)
                 ORDER BY kana, id"
            ))
            .bind(self.tenant)
            .bind(account)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// Makes `account` a member of a host of this tenant (again: nothing changes).
    #[instrument(skip_all, fields(tenant = %self.tenant, host = %host), err(level = "warn"))]
    pub async fn add_host_member(
        &mut self,
        host: HostId,
        account: AccountId,
        now: DateTime<Utc>,
    ) -> Result<()> {
        with_tx!(&mut self.tx, conn => {
            sqlx::query(
                "INSERT INTO host_members (tenant_id, host_id, account_id, created_at)
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(self.tenant)
            .bind(host)
            .bind(account)
            .bind(now)
            .execute(&mut **conn)
            .await?;
        });
        Ok(())
    }

    /// The members of a host of this tenant, oldest first.
    #[instrument(skip_all, fields(tenant = %self.tenant, host = %host), err(level = "debug"))]
    pub async fn host_members(&mut self, host: HostId) -> Result<Vec<HostMember>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(
                "SELECT m.account_id, a.email, a.display_name, m.created_at
                 FROM host_members m JOIN accounts a ON a.id = m.account_id
                 WHERE m.tenant_id = $1 AND m.host_id = $2 ORDER BY m.created_at, m.account_id",
            )
            .bind(self.tenant)
            .bind(host)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// Whether `account` is a member of this tenant's host `host`: the ownership
    /// check on top of a host member's `write_own` permission.
    #[instrument(skip_all, fields(tenant = %self.tenant, host = %host), err(level = "debug"))]
    pub async fn is_host_member(&mut self, host: HostId, account: AccountId) -> Result<bool> {
        with_tx!(&mut self.tx, conn => {
            let found: Option<(AccountId,)> = sqlx::query_as(
                "SELECT account_id FROM host_members WHERE tenant_id = $1 AND host_id = $2 AND account_id = $3",
            )
            .bind(self.tenant)
            .bind(host)
            .bind(account)
            .fetch_optional(&mut **conn)
            .await?;
            Ok(found.is_some())
        })
    }
}
