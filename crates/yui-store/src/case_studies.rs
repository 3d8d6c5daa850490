//! Case studies (事例) of a tenant's engagements and their photos.
//!
//! Every change of text or photos goes through [`TenantTx::edit_case_study`]'s rule:
//! once a side approved, a change withdraws both approvals and the case waits for
//! them again, so what is public is what both sides last saw. The status moves are
//! single conditional updates (`WHERE status = …`), so two coordinators pressing
//! buttons at once cannot publish a case that is no longer approved.

use chrono::{DateTime, Utc};
use tracing::instrument;
use yui_domain::case_study::{CaseSide, CaseStatus, CaseStudyFields, PhotoFields, Text};
use yui_domain::ids::{CaseStudyId, EngagementId};
use yui_domain::{AccountId, FiscalYear, HostId};

use crate::scope::TenantTx;
use crate::{Result, with_tx};

/// A case study as stored, with what its pages show of the engagement.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CaseStudy {
    pub id: CaseStudyId,
    pub engagement_id: EngagementId,
    /// The engagement's talent.
    pub talent_id: AccountId,
    /// Empty when the talent left the tenant.
    pub talent_name: String,
    /// The talent is still a member of the tenant.
    pub talent_live: bool,
    /// The talent's prefecture of residence (1–47), if given.
    pub talent_residence: Option<i64>,
    pub host_id: HostId,
    pub host_name: String,
    pub host_municipality_code: String,
    pub project_title: String,
    pub title_ja: String,
    pub title_en: String,
    pub overview_ja: String,
    pub overview_en: String,
    pub challenge_ja: String,
    pub challenge_en: String,
    pub talent_skills_ja: String,
    pub talent_skills_en: String,
    pub proposal_ja: String,
    pub proposal_en: String,
    pub outcome_ja: String,
    pub outcome_en: String,
    pub status: String,
    pub talent_approved_at: Option<DateTime<Utc>>,
    pub host_approved_at: Option<DateTime<Utc>>,
    pub change_request: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl CaseStudy {
    pub fn status(&self) -> CaseStatus {
        CaseStatus::parse(&self.status).unwrap_or(CaseStatus::Draft)
    }

    pub fn fields(&self) -> CaseStudyFields {
        let t = |ja: &str, en: &str| Text {
            ja: ja.to_owned(),
            en: en.to_owned(),
        };
        CaseStudyFields {
            title: t(&self.title_ja, &self.title_en),
            overview: t(&self.overview_ja, &self.overview_en),
            challenge: t(&self.challenge_ja, &self.challenge_en),
            talent_skills: t(&self.talent_skills_ja, &self.talent_skills_en),
            proposal: t(&self.proposal_ja, &self.proposal_en),
            outcome: t(&self.outcome_ja, &self.outcome_en),
        }
    }
}

/// An engagement a case study can be written about, as the coordinator's select
/// names it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CaseEngagement {
    pub id: EngagementId,
    pub talent_name: String,
    pub host_name: String,
    pub project_title: String,
    pub status: String,
}

/// A photo's description, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CasePhoto {
    pub id: i64,
    pub content_type: String,
    pub size_bytes: i64,
    pub alt_ja: String,
    pub position: i64,
}

/// A photo's bytes and their type, to serve.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CasePhotoData {
    pub content_type: String,
    pub bytes: Vec<u8>,
    pub created_at: DateTime<Utc>,
}

/// What came of a photo upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoAdded {
    Added(i64),
    /// The case already holds the most photos (a parallel upload took the place).
    Full,
}

/// The case study with its engagement's names. `$1` is the tenant. The residence is
/// an INTEGER column, widened to match the field on PostgreSQL.
// Leaving a region hides the person at once, as engagements do: a talent who left
// keeps no name here and cannot see or approve the case.
const SELECT: &str = "SELECT c.id, c.engagement_id, e.account_id AS talent_id,
        CASE WHEN EXISTS (SELECT 1 FROM memberships lm WHERE lm.tenant_id = e.tenant_id
            AND lm.account_id = e.account_id AND lm.left_at IS NULL) THEN COALESCE(a.display_name, '') ELSE '' END AS talent_name,
        EXISTS (SELECT 1 FROM memberships lm WHERE lm.tenant_id = e.tenant_id
            AND lm.account_id = e.account_id AND lm.left_at IS NULL) AS talent_live,
        CAST(tp.residence AS BIGINT) AS talent_residence,
        e.host_id, h.name AS host_name, h.municipality_code AS host_municipality_code,
        p.title AS project_title,
        c.title_ja, c.title_en, c.overview_ja, c.overview_en, c.challenge_ja, c.challenge_en,
        c.talent_skills_ja, c.talent_skills_en, c.proposal_ja, c.proposal_en,
        c.outcome_ja, c.outcome_en, c.status, c.talent_approved_at, c.host_approved_at,
        c.change_request, c.published_at, c.created_at, c.updated_at
     FROM case_studies c
     JOIN engagements e ON e.tenant_id = c.tenant_id AND e.id = c.engagement_id
     JOIN hosts h ON h.tenant_id = e.tenant_id AND h.id = e.host_id
     JOIN projects p ON p.tenant_id = e.tenant_id AND p.id = e.project_id
     LEFT JOIN accounts a ON a.id = e.account_id
     LEFT JOIN talent_profiles tp ON tp.account_id = e.account_id
     WHERE c.tenant_id = $1";

/// The first instant of a fiscal year in Japan and of the next one.
fn fiscal_bounds(fy: FiscalYear) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let start = yui_domain::fiscal::after_day_in_tokyo(fy.first_day()?.pred_opt()?)?;
    let end = yui_domain::fiscal::after_day_in_tokyo(fy.last_day()?)?;
    Some((start, end))
}

impl TenantTx {
    /// The tenant's engagements, newest first, for the coordinator's select.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn case_engagements(&mut self) -> Result<Vec<CaseEngagement>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(
                "SELECT e.id, COALESCE(a.display_name, '') AS talent_name, h.name AS host_name,
                        p.title AS project_title, e.status
                 FROM engagements e
                 JOIN memberships m ON m.tenant_id = e.tenant_id AND m.account_id = e.account_id
                                   AND m.left_at IS NULL
                 JOIN hosts h ON h.tenant_id = e.tenant_id AND h.id = e.host_id
                 JOIN projects p ON p.tenant_id = e.tenant_id AND p.id = e.project_id
                 LEFT JOIN accounts a ON a.id = e.account_id
                 WHERE e.tenant_id = $1 ORDER BY e.id DESC LIMIT 500",
            )
            .bind(self.tenant)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// A draft about `engagement`; `None` when the tenant has no such engagement.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn create_case_study(
        &mut self,
        engagement: EngagementId,
        f: &CaseStudyFields,
        by: AccountId,
        now: DateTime<Utc>,
    ) -> Result<Option<CaseStudyId>> {
        with_tx!(&mut self.tx, conn => {
            let mut q = sqlx::query_scalar(
                "INSERT INTO case_studies (tenant_id, engagement_id, title_ja, title_en,
                     overview_ja, overview_en, challenge_ja, challenge_en, talent_skills_ja,
                     talent_skills_en, proposal_ja, proposal_en, outcome_ja, outcome_en,
                     status, created_by, created_at, updated_at)
                 SELECT e.tenant_id, e.id, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
                        'draft', $15, $16, $16
                 FROM engagements e
                 JOIN memberships m ON m.tenant_id = e.tenant_id AND m.account_id = e.account_id
                                   AND m.left_at IS NULL
                 WHERE e.tenant_id = $1 AND e.id = $2
                 RETURNING id",
            )
            .bind(self.tenant)
            .bind(engagement);
            for text in f.column_texts() {
                q = q.bind(text);
            }
            Ok(q.bind(by).bind(now).fetch_optional(&mut **conn).await?)
        })
    }

    /// Who approves a case: the engagement's talent and the members of its host.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn case_reviewers(&mut self, id: CaseStudyId) -> Result<Vec<crate::Recipient>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(
                "SELECT a.id AS account_id, a.display_name, a.email, a.locale
                 FROM case_studies c
                 JOIN engagements e ON e.tenant_id = c.tenant_id AND e.id = c.engagement_id
                 JOIN memberships ms ON ms.tenant_id = e.tenant_id AND ms.account_id = e.account_id
                                    AND ms.left_at IS NULL
                 JOIN accounts a ON a.id = e.account_id
                 WHERE c.tenant_id = $1 AND c.id = $2
                 UNION
                 SELECT a.id AS account_id, a.display_name, a.email, a.locale
                 FROM case_studies c
                 JOIN engagements e ON e.tenant_id = c.tenant_id AND e.id = c.engagement_id
                 JOIN host_members m ON m.tenant_id = e.tenant_id AND m.host_id = e.host_id
                 JOIN accounts a ON a.id = m.account_id
                 WHERE c.tenant_id = $1 AND c.id = $2
                 ORDER BY account_id",
            )
            .bind(self.tenant)
            .bind(id)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// A case study of this tenant, whatever its status.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn case_study(&mut self, id: CaseStudyId) -> Result<Option<CaseStudy>> {
        let sql = format!("{SELECT} AND c.id = $2");
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&sql)
                .bind(self.tenant)
                .bind(id)
                .fetch_optional(&mut **conn)
                .await?)
        })
    }

    /// Every case study of the tenant, latest changed first (the coordinator's list).
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn case_studies(&mut self) -> Result<Vec<CaseStudy>> {
        let sql = format!("{SELECT} ORDER BY c.updated_at DESC, c.id DESC LIMIT 500");
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&sql)
                .bind(self.tenant)
                .fetch_all(&mut **conn)
                .await?)
        })
    }

    /// The case studies in which `account` is a side: the engagement's talent or a
    /// member of its host. Drafts included: a side sees what is written about them.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn case_studies_of_side(&mut self, account: AccountId) -> Result<Vec<CaseStudy>> {
        let sql = format!(
            "{SELECT} AND ((e.account_id = $2 AND EXISTS (SELECT 1 FROM memberships sm WHERE sm.tenant_id = e.tenant_id
            AND sm.account_id = e.account_id AND sm.left_at IS NULL)) OR EXISTS (SELECT 1 FROM host_members m
                 WHERE m.tenant_id = e.tenant_id AND m.host_id = e.host_id AND m.account_id = $2))
             ORDER BY c.updated_at DESC, c.id DESC LIMIT 200"
        );
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&sql)
                .bind(self.tenant)
                .bind(account)
                .fetch_all(&mut **conn)
                .await?)
        })
    }

    /// The public case studies, latest published first.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn public_case_studies(&mut self) -> Result<Vec<CaseStudy>> {
        let sql = format!(
            "{SELECT} AND c.status = 'public' ORDER BY c.published_at DESC, c.id DESC LIMIT 200"
        );
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&sql)
                .bind(self.tenant)
                .fetch_all(&mut **conn)
                .await?)
        })
    }

    /// The public case studies about `talent`'s engagements published in fiscal year
    /// `fy` (Japan time), oldest first: what a certificate of participation can cite.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn talent_public_case_studies(
        &mut self,
        talent: AccountId,
        fy: FiscalYear,
    ) -> Result<Vec<CaseStudy>> {
        let Some((from, to)) = fiscal_bounds(fy) else {
            return Ok(Vec::new());
        };
        let sql = format!(
            "{SELECT} AND c.status = 'public' AND e.account_id = $2
               AND c.published_at >= $3 AND c.published_at < $4
             ORDER BY c.published_at, c.id"
        );
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&sql)
                .bind(self.tenant)
                .bind(talent)
                .bind(from)
                .bind(to)
                .fetch_all(&mut **conn)
                .await?)
        })
    }

    /// How many case studies are public now that were published in fiscal year `fy`
    /// (Japan time), for the year's report.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn count_public_case_studies(&mut self, fy: FiscalYear) -> Result<i64> {
        let Some((from, to)) = fiscal_bounds(fy) else {
            return Ok(0);
        };
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_scalar(
                "SELECT COUNT(*) FROM case_studies
                 WHERE tenant_id = $1 AND status = 'public' AND published_at >= $2 AND published_at < $3",
            )
            .bind(self.tenant)
            .bind(from)
            .bind(to)
            .fetch_one(&mut **conn)
            .await?)
        })
    }

    /// The case studies public now that were published in fiscal year `fy` (Japan
    /// time), oldest first: the year's report lists them. A case withdrawn since is
    /// left out, as it is from the public pages.
    #[instrument(skip_all, fields(tenant = %self.tenant, year = fy.0), err(level = "warn"))]
    pub async fn public_case_studies_of_year(&mut self, fy: FiscalYear) -> Result<Vec<CaseStudy>> {
        let Some((from, to)) = fiscal_bounds(fy) else {
            return Ok(Vec::new());
        };
        let sql = format!(
            "{SELECT} AND c.status = 'public' AND c.published_at >= $2 AND c.published_at < $3
             ORDER BY c.published_at, c.id"
        );
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&sql)
                .bind(self.tenant)
                .bind(from)
                .bind(to)
                .fetch_all(&mut **conn)
                .await?)
        })
    }

    /// Records a change of text or photos: both approvals withdrawn, and the case
    /// back to awaiting approval if anyone had approved or it was public.
    async fn after_edit(&mut self, id: CaseStudyId, now: DateTime<Utc>) -> Result<()> {
        with_tx!(&mut self.tx, conn => {
            sqlx::query(
                "UPDATE case_studies SET
                     status = CASE WHEN status = 'draft' AND talent_approved_at IS NULL
                                        AND host_approved_at IS NULL THEN 'draft'
                                   ELSE 'awaiting_approval' END,
                     talent_approved_at = NULL, talent_approved_by = NULL,
                     host_approved_at = NULL, host_approved_by = NULL,
                     published_at = NULL, updated_at = $3
                 WHERE tenant_id = $1 AND id = $2",
            )
            .bind(self.tenant)
            .bind(id)
            .bind(now)
            .execute(&mut **conn)
            .await?;
            Ok(())
        })
    }

    /// Rewrites the text; `false` when there is no such case study.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn edit_case_study(
        &mut self,
        id: CaseStudyId,
        f: &CaseStudyFields,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let done = with_tx!(&mut self.tx, conn => {
            let mut q = sqlx::query(
                "UPDATE case_studies SET title_ja = $3, title_en = $4, overview_ja = $5,
                     overview_en = $6, challenge_ja = $7, challenge_en = $8,
                     talent_skills_ja = $9, talent_skills_en = $10, proposal_ja = $11,
                     proposal_en = $12, outcome_ja = $13, outcome_en = $14
                 WHERE tenant_id = $1 AND id = $2",
            )
            .bind(self.tenant)
            .bind(id);
            for text in f.column_texts() {
                q = q.bind(text);
            }
            q.execute(&mut **conn).await?.rows_affected()
        });
        if done == 0 {
            return Ok(false);
        }
        self.after_edit(id, now).await?;
        Ok(true)
    }

    /// Moves a case from `from` to `to` (the coordinator's buttons). Publishing
    /// needs both approvals on record. `false` when the case was not in `from` (or
    /// lacked an approval): someone else moved it first.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn move_case_study(
        &mut self,
        id: CaseStudyId,
        from: CaseStatus,
        to: CaseStatus,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        if !from.can_move_to(to) {
            return Ok(false);
        }
        let publish = to == CaseStatus::Public;
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query(
                "UPDATE case_studies SET status = $4, updated_at = $5,
                     published_at = CASE WHEN $6 THEN COALESCE(published_at, $5) ELSE published_at END,
                     change_request = CASE WHEN $4 = 'awaiting_approval' THEN NULL ELSE change_request END
                 WHERE tenant_id = $1 AND id = $2 AND status = $3
                   AND (NOT $6 OR (talent_approved_at IS NOT NULL AND host_approved_at IS NOT NULL))",
            )
            .bind(self.tenant)
            .bind(id)
            .bind(from.as_str())
            .bind(to.as_str())
            .bind(now)
            .bind(publish)
            .execute(&mut **conn)
            .await?
            .rows_affected()
                == 1)
        })
    }

    /// `side` approves the case as it stands; `false` unless it awaits approval.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn approve_case_study(
        &mut self,
        id: CaseStudyId,
        side: CaseSide,
        by: AccountId,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let sql = match side {
            CaseSide::Talent => {
                "UPDATE case_studies SET talent_approved_at = $3, talent_approved_by = $4
                 WHERE tenant_id = $1 AND id = $2 AND status = 'awaiting_approval'"
            }
            CaseSide::Host => {
                "UPDATE case_studies SET host_approved_at = $3, host_approved_by = $4
                 WHERE tenant_id = $1 AND id = $2 AND status = 'awaiting_approval'"
            }
        };
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query(sql)
                .bind(self.tenant)
                .bind(id)
                .bind(now)
                .bind(by)
                .execute(&mut **conn)
                .await?
                .rows_affected()
                == 1)
        })
    }

    /// A side asks for changes: the case goes back to draft, both approvals
    /// withdrawn, with the comment for the coordinator. `false` unless it awaited
    /// approval.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn request_case_changes(
        &mut self,
        id: CaseStudyId,
        comment: &str,
        by: AccountId,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query(
                "UPDATE case_studies SET status = 'draft', change_request = $3,
                     change_requested_by = $4, updated_at = $5,
                     talent_approved_at = NULL, talent_approved_by = NULL,
                     host_approved_at = NULL, host_approved_by = NULL
                 WHERE tenant_id = $1 AND id = $2 AND status = 'awaiting_approval'",
            )
            .bind(self.tenant)
            .bind(id)
            .bind(comment)
            .bind(by)
            .bind(now)
            .execute(&mut **conn)
            .await?
            .rows_affected()
                == 1)
        })
    }

    /// The photos of a case study, in order, without their bytes.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn case_photos(&mut self, id: CaseStudyId) -> Result<Vec<CasePhoto>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(
                "SELECT id, content_type, size_bytes, alt_ja, position FROM case_study_photos
                 WHERE tenant_id = $1 AND case_study_id = $2 ORDER BY position, id",
            )
            .bind(self.tenant)
            .bind(id)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// One photo's bytes, if it belongs to case study `id`.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn case_photo(
        &mut self,
        id: CaseStudyId,
        photo: i64,
    ) -> Result<Option<CasePhotoData>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(
                "SELECT content_type, bytes, created_at FROM case_study_photos
                 WHERE tenant_id = $1 AND case_study_id = $2 AND id = $3",
            )
            .bind(self.tenant)
            .bind(id)
            .bind(photo)
            .fetch_optional(&mut **conn)
            .await?)
        })
    }

    /// Adds a photo after the others, if the case has room for it (counted with the
    /// case row locked, so two uploads at once cannot both take the last place).
    /// The caller checked that the case exists.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn add_case_photo(
        &mut self,
        id: CaseStudyId,
        photo: &PhotoFields,
        max: usize,
        now: DateTime<Utc>,
    ) -> Result<PhotoAdded> {
        let lock = self.tx.row_lock("FOR UPDATE");
        let sql = format!("SELECT id FROM case_studies WHERE tenant_id = $1 AND id = $2 {lock}");
        let added: Option<i64> = with_tx!(&mut self.tx, conn => {
            let _: i64 = sqlx::query_scalar(&sql)
                .bind(self.tenant)
                .bind(id)
                .fetch_one(&mut **conn)
                .await?;
            let (count, last): (i64, Option<i64>) = sqlx::query_as(
                "SELECT COUNT(*), MAX(position) FROM case_study_photos
                 WHERE tenant_id = $1 AND case_study_id = $2",
            )
            .bind(self.tenant)
            .bind(id)
            .fetch_one(&mut **conn)
            .await?;
            if count >= i64::try_from(max).unwrap_or(i64::MAX) {
                None
            } else {
                Some(
                    sqlx::query_scalar(
                        "INSERT INTO case_study_photos (tenant_id, case_study_id, content_type,
                             size_bytes, bytes, alt_ja, position, created_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                    )
                    .bind(self.tenant)
                    .bind(id)
                    .bind(photo.kind.content_type())
                    .bind(i64::try_from(photo.bytes.len()).unwrap_or(i64::MAX))
                    .bind(&photo.bytes)
                    .bind(&photo.alt)
                    .bind(last.unwrap_or(0) + 1)
                    .bind(now)
                    .fetch_one(&mut **conn)
                    .await?,
                )
            }
        });
        match added {
            Some(photo) => {
                self.after_edit(id, now).await?;
                Ok(PhotoAdded::Added(photo))
            }
            None => Ok(PhotoAdded::Full),
        }
    }

    /// Removes a photo of case study `id`; `false` when it has no such photo.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn remove_case_photo(
        &mut self,
        id: CaseStudyId,
        photo: i64,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let done = with_tx!(&mut self.tx, conn => {
            sqlx::query(
                "DELETE FROM case_study_photos WHERE tenant_id = $1 AND case_study_id = $2 AND id = $3",
            )
            .bind(self.tenant)
            .bind(id)
            .bind(photo)
            .execute(&mut **conn)
            .await?
            .rows_affected()
        });
        if done == 0 {
            return Ok(false);
        }
        self.after_edit(id, now).await?;
        Ok(true)
    }
}
