//! Hearings (ヒアリング) of a tenant: intake interviews with its talents and hosts,
//! for its staff only. A talent's hearing is shown only while the talent's
//! membership of the tenant is live: every query joins on it, so leaving hides the
//! hearings from the next request on. Erasing an account deletes them
//! (`AccountTx::erase_account`).

use chrono::{DateTime, NaiveDate, Utc};
use tracing::instrument;
use yui_domain::hearing::HearingFields;
use yui_domain::{AccountId, HearingId, HostId, TenantId};

use crate::scope::TenantTx;
use crate::{Result, with_tx};

/// Whom a hearing is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HearingSubject {
    /// A talent who is a live member of the tenant.
    Talent(AccountId),
    /// A host organization of the tenant.
    Host(HostId),
}

/// A hearing as stored, with its subject's name.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Hearing {
    pub id: HearingId,
    pub tenant_id: TenantId,
    pub talent_id: Option<AccountId>,
    pub host_id: Option<HostId>,
    /// The talent's display name or the host's name.
    pub subject_name: String,
    pub held_on: NaiveDate,
    pub notes: String,
    pub needs: String,
    pub strengths: String,
    pub next_step: String,
    pub next_due_on: Option<NaiveDate>,
    pub recorded_by: Option<AccountId>,
    pub recorded_by_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Hearing {
    pub fn subject(&self) -> Option<HearingSubject> {
        match (self.talent_id, self.host_id) {
            (Some(t), None) => Some(HearingSubject::Talent(t)),
            (None, Some(h)) => Some(HearingSubject::Host(h)),
            _ => None,
        }
    }
}

/// The hearings visible to the tenant's staff: hosts' always, talents' while their
/// membership is live. `$1` is the tenant.
const VISIBLE: &str = "SELECT h.id, h.tenant_id, h.talent_id, h.host_id,
        COALESCE(a.display_name, ho.name, '') AS subject_name,
        h.held_on, h.notes, h.needs, h.strengths, h.next_step, h.next_due_on,
        h.recorded_by, r.display_name AS recorded_by_name, h.created_at, h.updated_at
     FROM hearings h
     LEFT JOIN memberships m ON m.tenant_id = h.tenant_id AND m.account_id = h.talent_id
     LEFT JOIN accounts a ON a.id = h.talent_id
     LEFT JOIN hosts ho ON ho.tenant_id = h.tenant_id AND ho.id = h.host_id
     LEFT JOIN accounts r ON r.id = h.recorded_by
     WHERE h.tenant_id = $1
       AND (h.host_id IS NOT NULL OR (m.account_id IS NOT NULL AND m.left_at IS NULL))";

impl TenantTx {
    /// Whether the subject exists for this tenant's staff: a live member, or a host.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn hearing_subject_name(
        &mut self,
        subject: HearingSubject,
    ) -> Result<Option<String>> {
        with_tx!(&mut self.tx, conn => {
            let row: Option<(String,)> = match subject {
                HearingSubject::Talent(account) => sqlx::query_as(
                    "SELECT a.display_name FROM memberships m JOIN accounts a ON a.id = m.account_id
                     WHERE m.tenant_id = $1 AND m.account_id = $2 AND m.left_at IS NULL",
                )
                .bind(self.tenant)
                .bind(account)
                .fetch_optional(&mut **conn)
                .await?,
                HearingSubject::Host(host) => sqlx::query_as(
                    "SELECT name FROM hosts WHERE tenant_id = $1 AND id = $2",
                )
                .bind(self.tenant)
                .bind(host)
                .fetch_optional(&mut **conn)
                .await?,
            };
            Ok(row.map(|(n,)| n))
        })
    }

    /// Records a hearing; `None` when the subject is not a live member or host of
    /// this tenant.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn create_hearing(
        &mut self,
        subject: HearingSubject,
        fields: &HearingFields,
        recorded_by: AccountId,
        now: DateTime<Utc>,
    ) -> Result<Option<HearingId>> {
        if self.hearing_subject_name(subject).await?.is_none() {
            return Ok(None);
        }
        let (talent, host) = match subject {
            HearingSubject::Talent(a) => (Some(a), None),
            HearingSubject::Host(h) => (None, Some(h)),
        };
        with_tx!(&mut self.tx, conn => {
            let (id,): (HearingId,) = sqlx::query_as(
                "INSERT INTO hearings (tenant_id, talent_id, host_id, held_on, notes, needs, strengths,
                                       next_step, next_due_on, recorded_by, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
            )
            .bind(self.tenant)
            .bind(talent)
            .bind(host)
            .bind(fields.held_on)
            .bind(&fields.notes)
            .bind(&fields.needs)
            .bind(&fields.strengths)
            .bind(&fields.next_step)
            .bind(fields.next_due_on)
            .bind(recorded_by)
            .bind(now)
            .fetch_one(&mut **conn)
            .await?;
            Ok(Some(id))
        })
    }

    /// Changes a visible hearing; `None` when there is none with this id.
    #[instrument(skip_all, fields(tenant = %self.tenant, hearing = %id), err(level = "warn"))]
    pub async fn update_hearing(
        &mut self,
        id: HearingId,
        fields: &HearingFields,
        now: DateTime<Utc>,
    ) -> Result<Option<Hearing>> {
        if self.hearing(id).await?.is_none() {
            return Ok(None);
        }
        with_tx!(&mut self.tx, conn => {
            sqlx::query(
                "UPDATE hearings SET held_on = $1, notes = $2, needs = $3, strengths = $4,
                     next_step = $5, next_due_on = $6, updated_at = $7
                 WHERE tenant_id = $8 AND id = $9",
            )
            .bind(fields.held_on)
            .bind(&fields.notes)
            .bind(&fields.needs)
            .bind(&fields.strengths)
            .bind(&fields.next_step)
            .bind(fields.next_due_on)
            .bind(now)
            .bind(self.tenant)
            .bind(id)
            .execute(&mut **conn)
            .await?;
        });
        self.hearing(id).await
    }

    /// One visible hearing of this tenant.
    #[instrument(skip_all, fields(tenant = %self.tenant, hearing = %id), err(level = "debug"))]
    pub async fn hearing(&mut self, id: HearingId) -> Result<Option<Hearing>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!("{VISIBLE} AND h.id = $2"))
                .bind(self.tenant)
                .bind(id)
                .fetch_optional(&mut **conn)
                .await?)
        })
    }

    /// The visible hearings about one subject, newest first.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "debug"))]
    pub async fn hearings_of(&mut self, subject: HearingSubject) -> Result<Vec<Hearing>> {
        let (column, id) = match subject {
            HearingSubject::Talent(a) => ("h.talent_id", a.get()),
            HearingSubject::Host(h) => ("h.host_id", h.get()),
        };
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!(
                "{VISIBLE} AND {column} = $2 ORDER BY h.held_on DESC, h.id DESC"
            ))
            .bind(self.tenant)
            .bind(id)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// Every visible hearing of this tenant, newest first (at most `limit`).
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "debug"))]
    pub async fn hearings(&mut self, limit: i64) -> Result<Vec<Hearing>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!(
                "{VISIBLE} ORDER BY h.held_on DESC, h.id DESC LIMIT $2"
            ))
            .bind(self.tenant)
            .bind(limit)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// Visible hearings whose next step is due on or before `until` (overdue ones
    /// included), soonest first: the coordinator inbox's "hearings due".
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "debug"))]
    pub async fn hearings_due(&mut self, until: NaiveDate) -> Result<Vec<Hearing>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!(
                "{VISIBLE} AND h.next_due_on IS NOT NULL AND h.next_due_on <= $2
                 ORDER BY h.next_due_on, h.id"
            ))
            .bind(self.tenant)
            .bind(until)
            .fetch_all(&mut **conn)
            .await?)
        })
    }
}
