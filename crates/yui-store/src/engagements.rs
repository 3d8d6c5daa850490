//! Engagements of a tenant and their follow-up: terms kept as history, the state
//! machine's moves (recorded through [`crate::transitions`]), monthly check-ins per
//! side and month, mentors' notes, reflections per term, the at-risk list and the
//! claim of a coordinator's daily digest.
//!
//! An engagement is shown only while its talent's membership of the tenant is
//! live: every query joins on it, as hearings do, so leaving hides it at once.

use chrono::{DateTime, NaiveDate, Utc};
use tracing::instrument;
use yui_domain::engagement::{
    Checkin, CheckinSide, EndReason, EngagementStatus, Reflection, RiskCause, RiskFacts, Terms,
    TermsChange, japan_midnight, risk_causes,
};
use yui_domain::ids::{EngagementId, RoundId};
use yui_domain::{AccountId, HostId, ProjectId};

use crate::scope::TenantTx;
use crate::transitions::{self, Machine, Transition};
use crate::{Result, StoreError, with_tx};

/// One recorded move of an engagement.
pub type EngagementTransition = Transition;

const ENGAGEMENTS: Machine = Machine {
    table: "engagements",
    log: "engagement_transitions",
    key: "engagement_id",
};

/// An engagement as the pages show it, with its people's and project's names.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EngagementRecord {
    pub id: EngagementId,
    pub round_id: Option<RoundId>,
    /// The talent.
    pub account_id: AccountId,
    pub talent_name: String,
    pub host_id: HostId,
    pub host_name: String,
    pub project_id: ProjectId,
    pub project_title: String,
    pub status: String,
    pub started_on: Option<NaiveDate>,
    pub ended_on: Option<NaiveDate>,
    pub end_reason: Option<String>,
    pub end_note: Option<String>,
    pub mentor_id: Option<AccountId>,
    pub mentor_name: Option<String>,
    pub term_no: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl EngagementRecord {
    pub fn status(&self) -> EngagementStatus {
        EngagementStatus::parse(&self.status).unwrap_or(EngagementStatus::Proposed)
    }
}

/// One row of an engagement's terms history; the last is the current terms.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TermsRecord {
    pub id: i64,
    pub term_no: i64,
    pub change: String,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub hours_per_month: Option<i64>,
    pub work_style: String,
    pub compensation: String,
    pub amount_yen: Option<i64>,
    pub note: Option<String>,
    pub recorded_by_name: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

/// A check-in or a mentor's note.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CheckinRecord {
    pub id: i64,
    pub side: String,
    pub account_id: Option<AccountId>,
    pub author_name: Option<String>,
    pub month: String,
    pub progress: String,
    pub satisfaction: Option<i64>,
    pub concern: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A reflection at the end of a term.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReflectionRecord {
    pub id: i64,
    pub term_no: i64,
    pub side: String,
    pub author_name: Option<String>,
    pub achieved: String,
    pub learned: String,
    pub continue_wish: String,
    pub created_at: DateTime<Utc>,
}

/// A staff member of the tenant holding a role (mentors to assign, coordinators to
/// mail).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RoleHolder {
    pub account_id: AccountId,
    pub display_name: String,
    pub email: String,
    pub locale: String,
}

/// Which engagements a list shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EngagementFilter {
    pub status: Option<EngagementStatus>,
    /// Those this mentor is assigned to.
    pub mentor: Option<AccountId>,
    /// Those of this talent.
    pub talent: Option<AccountId>,
    /// Those of the hosts this account is a member of.
    pub host_member: Option<AccountId>,
}

/// A new engagement entered by a coordinator (or the demo loader).
#[derive(Debug, Clone)]
pub struct NewEngagement<'a> {
    pub talent: AccountId,
    pub project: ProjectId,
    pub round: Option<RoundId>,
    pub created_by: Option<AccountId>,
    pub terms: Option<&'a Terms>,
    /// Set: the engagement starts at once (active), else it is proposed.
    pub started_on: Option<NaiveDate>,
}

/// An active engagement at risk, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtRisk {
    pub engagement: EngagementRecord,
    pub causes: Vec<RiskCause>,
    pub last_checkin_at: Option<DateTime<Utc>>,
}

/// What became of terms sent from the engagement's page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TermsOutcome {
    Recorded(TermsChange),
    /// The same as the latest terms: nothing recorded.
    Unchanged,
    /// The engagement moved on since the page was drawn: nothing recorded.
    Stale,
}

fn same_terms(latest: &TermsRecord, t: &Terms) -> bool {
    latest.starts_on == t.starts_on
        && latest.ends_on == t.ends_on
        && latest.hours_per_month == t.hours_per_month.map(i64::from)
        && latest.work_style == t.work_style.as_str()
        && latest.compensation == t.compensation.as_str()
        && latest.amount_yen == t.amount_yen.map(|a| a as i64)
        && latest.note.as_deref().unwrap_or("") == t.note
}

/// Visible engagements; `$1` is the tenant.
const VISIBLE: &str = "SELECT e.id, e.round_id, e.account_id, a.display_name AS talent_name,
        e.host_id, h.name AS host_name, e.project_id, p.title AS project_title, e.status,
        e.started_on, e.ended_on, e.end_reason, e.end_note, e.mentor_id,
        mt.display_name AS mentor_name, e.term_no, e.created_at, e.updated_at
     FROM engagements e
     JOIN memberships m ON m.tenant_id = e.tenant_id AND m.account_id = e.account_id
                       AND m.left_at IS NULL
     JOIN accounts a ON a.id = e.account_id
     JOIN hosts h ON h.tenant_id = e.tenant_id AND h.id = e.host_id
     JOIN projects p ON p.tenant_id = e.tenant_id AND p.id = e.project_id
     LEFT JOIN accounts mt ON mt.id = e.mentor_id
     WHERE e.tenant_id = $1";

/// Live grants of `role` in the tenant `$1` at `$2`; `$3` is the role.
const HOLDERS: &str = "SELECT DISTINCT a.id AS account_id, a.display_name, a.email, a.locale
     FROM role_grants g JOIN accounts a ON a.id = g.account_id
     WHERE g.tenant_id = $1 AND g.scope = 'tenant' AND g.role = $3 AND g.revoked_at IS NULL
       AND (g.valid_until IS NULL OR g.valid_until > $2) AND a.email_verified_at IS NOT NULL";

impl TenantTx {
    /// Creates an engagement for a live member talent and a project of this tenant
    /// (its host is the project's): proposed, or active from `started_on`, with
    /// its initial terms when given. `None` when the talent or project is not this
    /// tenant's; [`StoreError::Conflict`]`("engagement")` when the pair already has a
    /// live engagement (the unique index decides, so parallel submits make one).
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn create_engagement_with_terms(
        &mut self,
        new: &NewEngagement<'_>,
        now: DateTime<Utc>,
    ) -> Result<Option<EngagementId>> {
        let status = if new.started_on.is_some() && new.terms.is_some() {
            EngagementStatus::Active
        } else {
            EngagementStatus::Proposed
        };
        let id: Option<EngagementId> = with_tx!(&mut self.tx, conn => {
            sqlx::query_scalar(
                "INSERT INTO engagements (tenant_id, round_id, account_id, host_id, project_id, status,
                                          started_on, created_by, created_at, updated_at)
                 SELECT p.tenant_id, $2, m.account_id, p.host_id, p.id, $5, $6, $7, $8, $8
                 FROM projects p JOIN memberships m ON m.tenant_id = p.tenant_id
                      AND m.account_id = $3 AND m.left_at IS NULL
                 WHERE p.tenant_id = $1 AND p.id = $4
                 RETURNING id",
            )
            .bind(self.tenant)
            .bind(new.round)
            .bind(new.talent)
            .bind(new.project)
            .bind(status.as_str())
            .bind(new.started_on)
            .bind(new.created_by)
            .bind(now)
            .fetch_optional(&mut **conn)
            .await
            .map_err(StoreError::taken("engagement"))?
        });
        let Some(id) = id else { return Ok(None) };
        if let Some(terms) = new.terms {
            self.record_terms(id, 1, TermsChange::Initial, terms, new.created_by, now)
                .await?;
        }
        if status == EngagementStatus::Active {
            self.log_move(id, EngagementStatus::Proposed, status, new.created_by, now)
                .await?;
        }
        Ok(Some(id))
    }

    async fn log_move(
        &mut self,
        id: EngagementId,
        from: EngagementStatus,
        to: EngagementStatus,
        actor: Option<AccountId>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        with_tx!(&mut self.tx, conn => {
            sqlx::query(
                "INSERT INTO engagement_transitions (tenant_id, engagement_id, from_status, to_status, actor_id, at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(self.tenant)
            .bind(id)
            .bind(from.as_str())
            .bind(to.as_str())
            .bind(actor)
            .bind(now)
            .execute(&mut **conn)
            .await?;
        });
        Ok(())
    }

    /// One visible engagement.
    #[instrument(skip_all, fields(tenant = %self.tenant, engagement = %id), err(level = "debug"))]
    pub async fn engagement(&mut self, id: EngagementId) -> Result<Option<EngagementRecord>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!("{VISIBLE} AND e.id = $2"))
                .bind(self.tenant)
                .bind(id)
                .fetch_optional(&mut **conn)
                .await?)
        })
    }

    /// Visible engagements matching `filter`, newest first (at most `limit`).
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "debug"))]
    pub async fn engagements(
        &mut self,
        filter: EngagementFilter,
        limit: i64,
    ) -> Result<Vec<EngagementRecord>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!(
                "{VISIBLE}
                   AND ($2 IS NULL OR e.status = $2)
                   AND ($3 IS NULL OR e.mentor_id = $3)
                   AND ($4 IS NULL OR e.account_id = $4)
                   AND ($5 IS NULL OR EXISTS (SELECT 1 FROM host_members hm
                        WHERE hm.tenant_id = e.tenant_id AND hm.host_id = e.host_id AND hm.account_id = $5))
                 ORDER BY e.id DESC LIMIT $6"
            ))
            .bind(self.tenant)
            .bind(filter.status.map(EngagementStatus::as_str))
            .bind(filter.mentor)
            .bind(filter.talent)
            .bind(filter.host_member)
            .bind(limit)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// Adds a row of terms: a change keeps the term number, a renewal is a new term.
    #[instrument(skip_all, fields(tenant = %self.tenant, engagement = %id), err(level = "warn"))]
    pub async fn record_terms(
        &mut self,
        id: EngagementId,
        term_no: i64,
        change: TermsChange,
        terms: &Terms,
        by: Option<AccountId>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        with_tx!(&mut self.tx, conn => {
            sqlx::query(
                "INSERT INTO engagement_terms (tenant_id, engagement_id, term_no, change, starts_on, ends_on,
                     hours_per_month, work_style, compensation, amount_yen, note, recorded_by, recorded_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            )
            .bind(self.tenant)
            .bind(id)
            .bind(term_no)
            .bind(change.as_str())
            .bind(terms.starts_on)
            .bind(terms.ends_on)
            .bind(terms.hours_per_month.map(i64::from))
            .bind(terms.work_style.as_str())
            .bind(terms.compensation.as_str())
            .bind(terms.amount_yen.map(|a| a as i64))
            .bind((!terms.note.is_empty()).then_some(terms.note.as_str()))
            .bind(by)
            .bind(now)
            .execute(&mut **conn)
            .await?;
            sqlx::query("UPDATE engagements SET updated_at = $1 WHERE tenant_id = $2 AND id = $3")
                .bind(now)
                .bind(self.tenant)
                .bind(id)
                .execute(&mut **conn)
                .await?;
        });
        Ok(())
    }

    /// Terms sent from a page that showed term `at_term`: the first terms, or a
    /// change within the term. The engagement's row is locked first, so of parallel
    /// sends each sees what the one before recorded: a send from a page that is out
    /// of date is [`TermsOutcome::Stale`], and terms identical to the latest are
    /// [`TermsOutcome::Unchanged`] (a double click records one row).
    #[instrument(skip_all, fields(tenant = %self.tenant, engagement = %id), err(level = "warn"))]
    pub async fn change_terms(
        &mut self,
        id: EngagementId,
        at_term: i64,
        terms: &Terms,
        by: Option<AccountId>,
        now: DateTime<Utc>,
    ) -> Result<TermsOutcome> {
        let locked = with_tx!(&mut self.tx, conn => {
            sqlx::query(
                "UPDATE engagements SET updated_at = $1 WHERE tenant_id = $2 AND id = $3 AND term_no = $4",
            )
            .bind(now)
            .bind(self.tenant)
            .bind(id)
            .bind(at_term)
            .execute(&mut **conn)
            .await?
            .rows_affected()
        });
        if locked == 0 {
            return Ok(TermsOutcome::Stale);
        }
        let change = match self.engagement_terms(id).await?.last() {
            None => TermsChange::Initial,
            Some(latest) if same_terms(latest, terms) => return Ok(TermsOutcome::Unchanged),
            Some(_) => TermsChange::Change,
        };
        self.record_terms(id, at_term, change, terms, by, now)
            .await?;
        Ok(TermsOutcome::Recorded(change))
    }

    /// The terms history of an engagement, oldest first.
    #[instrument(skip_all, fields(tenant = %self.tenant, engagement = %id), err(level = "debug"))]
    pub async fn engagement_terms(&mut self, id: EngagementId) -> Result<Vec<TermsRecord>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(
                "SELECT t.id, t.term_no, t.change, t.starts_on, t.ends_on, t.hours_per_month,
                        t.work_style, t.compensation, t.amount_yen, t.note,
                        a.display_name AS recorded_by_name, t.recorded_at
                 FROM engagement_terms t LEFT JOIN accounts a ON a.id = t.recorded_by
                 WHERE t.tenant_id = $1 AND t.engagement_id = $2 ORDER BY t.id",
            )
            .bind(self.tenant)
            .bind(id)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// Moves an engagement from `from` to `to` (the domain checked the move) and
    /// records it; on activation sets the start date, on completion or end the end
    /// date (and the reason). `false` when it was no longer in `from`.
    #[allow(clippy::too_many_arguments)]
    #[instrument(skip_all, fields(tenant = %self.tenant, engagement = %id), err(level = "warn"))]
    pub async fn move_engagement(
        &mut self,
        id: EngagementId,
        from: EngagementStatus,
        to: EngagementStatus,
        started_on: Option<NaiveDate>,
        end: Option<(EndReason, &str)>,
        actor: AccountId,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let moved = transitions::record_move(
            &mut self.tx,
            ENGAGEMENTS,
            self.tenant,
            id.get(),
            from.as_str(),
            to.as_str(),
            actor,
            now,
        )
        .await?;
        if !moved {
            return Ok(false);
        }
        let ended_on = matches!(to, EngagementStatus::Completed | EngagementStatus::Ended)
            .then(|| yui_domain::engagement::japan_day(now));
        with_tx!(&mut self.tx, conn => {
            sqlx::query(
                "UPDATE engagements SET started_on = COALESCE($1, started_on),
                     ended_on = COALESCE($2, ended_on),
                     end_reason = COALESCE($3, end_reason), end_note = COALESCE($4, end_note)
                 WHERE tenant_id = $5 AND id = $6",
            )
            .bind(started_on)
            .bind(ended_on)
            .bind(end.map(|(r, _)| r.as_str()))
            .bind(end.map(|(_, n)| n))
            .bind(self.tenant)
            .bind(id)
            .execute(&mut **conn)
            .await?;
        });
        Ok(true)
    }

    /// A new term: the term number goes up, the terms are recorded as a renewal and
    /// the engagement is active again (its end cleared). `false` when it was no
    /// longer in `from` or no longer at term `at_term` (a renewal already made from
    /// the same page: parallel sends renew once).
    #[instrument(skip_all, fields(tenant = %self.tenant, engagement = %id), err(level = "warn"))]
    pub async fn renew_engagement(
        &mut self,
        id: EngagementId,
        from: EngagementStatus,
        at_term: i64,
        terms: &Terms,
        actor: AccountId,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let term_no: Option<i64> = with_tx!(&mut self.tx, conn => {
            sqlx::query_scalar(
                "UPDATE engagements SET term_no = term_no + 1, status = 'active', ended_on = NULL,
                     end_reason = NULL, end_note = NULL, updated_at = $1
                 WHERE tenant_id = $2 AND id = $3 AND status = $4 AND term_no = $5 RETURNING term_no",
            )
            .bind(now)
            .bind(self.tenant)
            .bind(id)
            .bind(from.as_str())
            .bind(at_term)
            .fetch_optional(&mut **conn)
            .await?
        });
        let Some(term_no) = term_no else {
            return Ok(false);
        };
        self.record_terms(id, term_no, TermsChange::Renewal, terms, Some(actor), now)
            .await?;
        if from != EngagementStatus::Active {
            self.log_move(id, from, EngagementStatus::Active, Some(actor), now)
                .await?;
        }
        Ok(true)
    }

    /// The recorded moves of an engagement, oldest first.
    pub async fn engagement_transitions(&mut self, id: EngagementId) -> Result<Vec<Transition>> {
        transitions::moves(&mut self.tx, ENGAGEMENTS, self.tenant, id.get()).await
    }

    /// The tenant's staff holding `role` now (verified addresses), by name.
    #[instrument(skip_all, fields(tenant = %self.tenant, role), err(level = "debug"))]
    pub async fn role_holders(
        &mut self,
        role: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<RoleHolder>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!("{HOLDERS} ORDER BY a.display_name, a.id"))
                .bind(self.tenant)
                .bind(now)
                .bind(role)
                .fetch_all(&mut **conn)
                .await?)
        })
    }

    /// Assigns `mentor` (or nobody) to an engagement. `false` when the account does
    /// not hold the `mentor` role in this tenant now, or there is no such engagement.
    #[instrument(skip_all, fields(tenant = %self.tenant, engagement = %id), err(level = "warn"))]
    pub async fn assign_mentor(
        &mut self,
        id: EngagementId,
        mentor: Option<AccountId>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        if let Some(m) = mentor
            && !self
                .role_holders("mentor", now)
                .await?
                .iter()
                .any(|h| h.account_id == m)
        {
            return Ok(false);
        }
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query(
                "UPDATE engagements SET mentor_id = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4",
            )
            .bind(mentor)
            .bind(now)
            .bind(self.tenant)
            .bind(id)
            .execute(&mut **conn)
            .await?
            .rows_affected()
                == 1)
        })
    }

    /// Saves the talent's or host's check-in for its month: a second one for the same
    /// side and month edits the first. `at` is when it was written (the demo passes
    /// earlier times).
    #[instrument(skip_all, fields(tenant = %self.tenant, engagement = %id), err(level = "warn"))]
    pub async fn save_checkin(
        &mut self,
        id: EngagementId,
        side: CheckinSide,
        author: AccountId,
        checkin: &Checkin,
        at: DateTime<Utc>,
    ) -> Result<()> {
        with_tx!(&mut self.tx, conn => {
            sqlx::query(
                "INSERT INTO engagement_checkins (tenant_id, engagement_id, account_id, side, month,
                     progress, satisfaction, concern, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
                 ON CONFLICT (tenant_id, engagement_id, side, month) WHERE side IN ('talent', 'host')
                 DO UPDATE SET account_id = excluded.account_id, progress = excluded.progress,
                     satisfaction = excluded.satisfaction, concern = excluded.concern,
                     updated_at = excluded.updated_at",
            )
            .bind(self.tenant)
            .bind(id)
            .bind(author)
            .bind(side.as_str())
            .bind(&checkin.month)
            .bind(&checkin.progress)
            .bind(i64::from(checkin.satisfaction))
            .bind(checkin.concern.as_deref())
            .bind(at)
            .execute(&mut **conn)
            .await?;
        });
        Ok(())
    }

    /// Adds a mentor's note (any number; no satisfaction), dated `at`.
    #[instrument(skip_all, fields(tenant = %self.tenant, engagement = %id), err(level = "warn"))]
    pub async fn add_mentor_note(
        &mut self,
        id: EngagementId,
        author: AccountId,
        note: &str,
        concern: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<()> {
        with_tx!(&mut self.tx, conn => {
            sqlx::query(
                "INSERT INTO engagement_checkins (tenant_id, engagement_id, account_id, side, month,
                     progress, satisfaction, concern, created_at, updated_at)
                 VALUES ($1, $2, $3, 'mentor', $4, $5, NULL, $6, $7, $7)",
            )
            .bind(self.tenant)
            .bind(id)
            .bind(author)
            .bind(yui_domain::engagement::japan_month(at))
            .bind(note)
            .bind(concern)
            .bind(at)
            .execute(&mut **conn)
            .await?;
        });
        Ok(())
    }

    /// Check-ins and notes of an engagement, newest first; only `side`'s when given.
    #[instrument(skip_all, fields(tenant = %self.tenant, engagement = %id), err(level = "debug"))]
    pub async fn checkins(
        &mut self,
        id: EngagementId,
        side: Option<CheckinSide>,
    ) -> Result<Vec<CheckinRecord>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(
                "SELECT c.id, c.side, c.account_id, a.display_name AS author_name, c.month, c.progress,
                        c.satisfaction, c.concern, c.created_at, c.updated_at
                 FROM engagement_checkins c LEFT JOIN accounts a ON a.id = c.account_id
                 WHERE c.tenant_id = $1 AND c.engagement_id = $2 AND ($3 IS NULL OR c.side = $3)
                 ORDER BY c.created_at DESC, c.id DESC",
            )
            .bind(self.tenant)
            .bind(id)
            .bind(side.map(CheckinSide::as_str))
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// Saves a side's reflection on a term (a second one edits it).
    #[instrument(skip_all, fields(tenant = %self.tenant, engagement = %id), err(level = "warn"))]
    pub async fn save_reflection(
        &mut self,
        id: EngagementId,
        term_no: i64,
        side: CheckinSide,
        author: AccountId,
        reflection: &Reflection,
        now: DateTime<Utc>,
    ) -> Result<()> {
        with_tx!(&mut self.tx, conn => {
            sqlx::query(
                "INSERT INTO engagement_reflections (tenant_id, engagement_id, term_no, side, account_id,
                     achieved, learned, continue_wish, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 ON CONFLICT (tenant_id, engagement_id, term_no, side)
                 DO UPDATE SET account_id = excluded.account_id, achieved = excluded.achieved,
                     learned = excluded.learned, continue_wish = excluded.continue_wish",
            )
            .bind(self.tenant)
            .bind(id)
            .bind(term_no)
            .bind(side.as_str())
            .bind(author)
            .bind(&reflection.achieved)
            .bind(&reflection.learned)
            .bind(reflection.continue_wish.as_str())
            .bind(now)
            .execute(&mut **conn)
            .await?;
        });
        Ok(())
    }

    /// Reflections of an engagement by term; only `side`'s when given.
    #[instrument(skip_all, fields(tenant = %self.tenant, engagement = %id), err(level = "debug"))]
    pub async fn reflections(
        &mut self,
        id: EngagementId,
        side: Option<CheckinSide>,
    ) -> Result<Vec<ReflectionRecord>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(
                "SELECT r.id, r.term_no, r.side, a.display_name AS author_name, r.achieved, r.learned,
                        r.continue_wish, r.created_at
                 FROM engagement_reflections r LEFT JOIN accounts a ON a.id = r.account_id
                 WHERE r.tenant_id = $1 AND r.engagement_id = $2 AND ($3 IS NULL OR r.side = $3)
                 ORDER BY r.term_no, r.side",
            )
            .bind(self.tenant)
            .bind(id)
            .bind(side.map(CheckinSide::as_str))
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// The tenant's active engagements at risk at `now`, in one query over this
    /// tenant's rows: each with its latest check-in time, each side's latest
    /// satisfaction and concern; the rule itself is the domain's.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn at_risk_engagements(&mut self, now: DateTime<Utc>) -> Result<Vec<AtRisk>> {
        type Row = (
            Option<DateTime<Utc>>,
            Option<i64>,
            Option<String>,
            Option<i64>,
            Option<String>,
        );
        let side = |column: &str, side: &str| {
            format!(
                "(SELECT c.{column} FROM engagement_checkins c
                  WHERE c.tenant_id = e.tenant_id AND c.engagement_id = e.id AND c.side = '{side}'
                  ORDER BY c.month DESC, c.id DESC LIMIT 1)"
            )
        };
        // The facts ride along the visible columns as correlated subqueries.
        let sql = VISIBLE.replacen(
            "\n     FROM engagements e",
            &format!(
                ", (SELECT MAX(c.updated_at) FROM engagement_checkins c
                    WHERE c.tenant_id = e.tenant_id AND c.engagement_id = e.id
                      AND c.side IN ('talent', 'host')) AS last_checkin_at,
                    {ts} AS talent_satisfaction, {tc} AS talent_concern,
                    {hs} AS host_satisfaction, {hc} AS host_concern
     FROM engagements e",
                ts = side("satisfaction", "talent"),
                tc = side("concern", "talent"),
                hs = side("satisfaction", "host"),
                hc = side("concern", "host"),
            ),
            1,
        ) + " AND e.status = 'active' ORDER BY e.id";
        let rows: Vec<(EngagementRecord, Row)> = with_tx!(&mut self.tx, conn => {
            use sqlx::Row as _;
            let raw = sqlx::query(&sql).bind(self.tenant).fetch_all(&mut **conn).await?;
            let mut out = Vec::with_capacity(raw.len());
            for r in &raw {
                let record = <EngagementRecord as sqlx::FromRow<_>>::from_row(r)?;
                let facts: Row = (
                    r.try_get("last_checkin_at")?,
                    r.try_get("talent_satisfaction")?,
                    r.try_get("talent_concern")?,
                    r.try_get("host_satisfaction")?,
                    r.try_get("host_concern")?,
                );
                out.push((record, facts));
            }
            out
        });
        Ok(rows
            .into_iter()
            .filter_map(|(engagement, (last, ts, tc, hs, hc))| {
                let since = engagement
                    .started_on
                    .map_or(engagement.created_at, japan_midnight);
                let sat = |s: Option<i64>| s.and_then(|s| u8::try_from(s).ok());
                let facts = RiskFacts {
                    last_checkin_at: last,
                    since,
                    satisfactions: [sat(ts), sat(hs)],
                    open_concern: tc.is_some() || hc.is_some(),
                };
                let causes = risk_causes(&facts, now);
                (!causes.is_empty()).then_some(AtRisk {
                    engagement,
                    causes,
                    last_checkin_at: last,
                })
            })
            .collect())
    }

    /// The accounts whose at-risk digest of `day` was already claimed.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn at_risk_digests_claimed(&mut self, day: NaiveDate) -> Result<Vec<AccountId>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_scalar(
                "SELECT account_id FROM at_risk_digests WHERE tenant_id = $1 AND day = $2",
            )
            .bind(self.tenant)
            .bind(day)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// Claims today's at-risk digest for `account`: `true` for the one transaction
    /// that inserted the row (it then queues the mail before committing).
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn claim_at_risk_digest(
        &mut self,
        account: AccountId,
        day: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query(
                "INSERT INTO at_risk_digests (tenant_id, account_id, day, sent_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (tenant_id, account_id, day) DO NOTHING",
            )
            .bind(self.tenant)
            .bind(account)
            .bind(day)
            .bind(now)
            .execute(&mut **conn)
            .await?
            .rows_affected()
                == 1)
        })
    }
}
