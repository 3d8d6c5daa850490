//! Matching rounds: their set-up, the projects taking part, invitations, entries and
//! both sides' ranked lists.
//!
//! Lists are private to their side: a talent's list is read by that talent
//! ([`TenantTx::talent_preferences`]) and, for solving, by the coordinator's engine
//! ([`TenantTx::round_lists`]); a project's list by its host and the engine. No
//! query here joins one side's list to the other side's view.
//!
//! A list changes only while the round takes lists: [`TenantTx::lock_round_for_lists`]
//! reads the round in the writing transaction (`FOR SHARE` on PostgreSQL; SQLite's
//! writing transactions run one at a time) so that a change and the round's closing
//! are ordered: a list saved is in the round the engine solves, or refused.

use chrono::{DateTime, Utc};
use tracing::instrument;
use yui_domain::ids::{EngagementId, RoundId};
use yui_domain::locale::Localized;
use yui_domain::round::{
    Answer, EntryRule, MatchStatus, OfferRounds, RoundDates, RoundMode, RoundStatus,
};
use yui_domain::{AccountId, HostId, ProgramId, ProjectId};

use crate::scope::TenantTx;
use crate::transitions::{self, Machine};
use crate::{Result, StoreError, with_tx};

pub(crate) const ROUNDS: Machine = Machine {
    table: "rounds",
    log: "round_transitions",
    key: "round_id",
};

/// One side's ranked lists: the table, whose list a row belongs to, and what it ranks.
#[derive(Debug, Clone, Copy)]
struct PreferenceList {
    table: &'static str,
    owner_column: &'static str,
    item_column: &'static str,
}

/// Talents' lists of projects.
const TALENT_LIST: PreferenceList = PreferenceList {
    table: "talent_preferences",
    owner_column: "account_id",
    item_column: "project_id",
};

/// Projects' lists of entrants.
const HOST_LIST: PreferenceList = PreferenceList {
    table: "host_preferences",
    owner_column: "project_id",
    item_column: "account_id",
};

/// A round as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Round {
    pub id: RoundId,
    pub program_id: ProgramId,
    pub title_ja: String,
    pub title_en: String,
    status: String,
    mode: String,
    entry_rule: String,
    pub entry_opens_at: DateTime<Utc>,
    pub entry_closes_at: DateTime<Utc>,
    pub ranks_close_at: DateTime<Utc>,
    pub talent_rank_limit: i64,
    pub host_rank_limit: i64,
    pub interim_on: bool,
    offer_rounds: Option<i64>,
    offer_minutes: Option<i64>,
    pub second_phase_at: Option<DateTime<Utc>>,
    pub solved_at: Option<DateTime<Utc>>,
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Round {
    /// The second phase's timed offer rounds, once the coordinator started it.
    pub fn offer_rounds(&self) -> Option<OfferRounds> {
        Some(OfferRounds {
            started_at: self.second_phase_at?,
            rounds: u32::try_from(self.offer_rounds?).ok()?,
            minutes: u32::try_from(self.offer_minutes?).ok()?,
        })
    }

    pub fn status(&self) -> RoundStatus {
        // CHECK constraints keep the column within the codes.
        RoundStatus::parse(&self.status).unwrap_or(RoundStatus::Finished)
    }

    pub fn mode(&self) -> RoundMode {
        RoundMode::parse(&self.mode).unwrap_or(RoundMode::Manual)
    }

    pub fn entry_rule(&self) -> EntryRule {
        EntryRule::parse(&self.entry_rule).unwrap_or(EntryRule::Invited)
    }

    pub fn dates(&self) -> RoundDates {
        RoundDates {
            entry_opens_at: self.entry_opens_at,
            entry_closes_at: self.entry_closes_at,
            ranks_close_at: self.ranks_close_at,
        }
    }

    pub fn title(&self) -> Localized {
        Localized {
            ja: self.title_ja.clone(),
            en: self.title_en.clone(),
        }
    }

    /// The most projects a talent may rank.
    pub fn talent_limit(&self) -> u32 {
        u32::try_from(self.talent_rank_limit).unwrap_or(1)
    }

    /// The most entrants a project may rank.
    pub fn host_limit(&self) -> u32 {
        u32::try_from(self.host_rank_limit).unwrap_or(1)
    }
}

const ROUND_COLUMNS: &str = "id, program_id, title_ja, title_en, status, mode, entry_rule, \
     entry_opens_at, entry_closes_at, ranks_close_at, talent_rank_limit, host_rank_limit, \
     interim_on, offer_rounds, offer_minutes, second_phase_at, solved_at, published_at, \
     created_at, updated_at";

/// A round to create (in `draft`), checked by the domain.
#[derive(Debug, Clone)]
pub struct NewRound<'a> {
    pub program: ProgramId,
    pub title: &'a Localized,
    pub mode: RoundMode,
    pub entry_rule: EntryRule,
    pub dates: RoundDates,
    pub talent_limit: u32,
    pub host_limit: u32,
    pub interim_on: bool,
}

/// A project taking part in a round, with its seats, title, host and visibility
/// (what a round's pages and API show of it, read in the same query).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RoundProject {
    pub project_id: ProjectId,
    pub seats: i64,
    pub title: String,
    pub host_name: String,
    /// A `Visibility` code.
    pub visibility: String,
}

/// Why a talent was invited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationSource {
    /// By the coordinator.
    Staff,
    /// For attending the program's field work.
    Fieldwork,
}

impl InvitationSource {
    fn code(self) -> &'static str {
        match self {
            InvitationSource::Staff => "staff",
            InvitationSource::Fieldwork => "fieldwork",
        }
    }
}

/// A talent in a round.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RoundEntry {
    pub account_id: AccountId,
    pub entered_at: DateTime<Utc>,
    pub withdrawn_at: Option<DateTime<Utc>>,
}

impl RoundEntry {
    pub fn is_live(&self) -> bool {
        self.withdrawn_at.is_none()
    }
}

/// Both sides' lists of a round, for the engine: talents and projects in id order,
/// each list most preferred first. Talents who withdrew are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoundLists {
    pub talents: Vec<(AccountId, Vec<ProjectId>)>,
    /// Each project with its seats and list: the shape `yui_match::KeyedRound` takes.
    pub projects: Vec<(ProjectId, u32, Vec<AccountId>)>,
}

impl TenantTx {
    /// Creates a round in `draft` within one of the tenant's programs.
    #[instrument(skip_all, fields(tenant = %self.tenant, program = %new.program), err(level = "warn"))]
    pub async fn create_round(
        &mut self,
        new: &NewRound<'_>,
        actor: AccountId,
        now: DateTime<Utc>,
    ) -> Result<RoundId> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_scalar(
                "INSERT INTO rounds (tenant_id, program_id, title_ja, title_en, status, mode, entry_rule,
                    entry_opens_at, entry_closes_at, ranks_close_at, talent_rank_limit, host_rank_limit,
                    interim_on, created_by, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, 'draft', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)
                 RETURNING id",
            )
            .bind(self.tenant)
            .bind(new.program)
            .bind(&new.title.ja)
            .bind(&new.title.en)
            .bind(new.mode.code())
            .bind(new.entry_rule.code())
            .bind(new.dates.entry_opens_at)
            .bind(new.dates.entry_closes_at)
            .bind(new.dates.ranks_close_at)
            .bind(i64::from(new.talent_limit))
            .bind(i64::from(new.host_limit))
            .bind(new.interim_on)
            .bind(actor)
            .bind(now)
            .fetch_one(&mut **conn)
            .await?)
        })
    }

    #[instrument(skip_all, fields(tenant = %self.tenant, round = %id), err(level = "debug"))]
    pub async fn round(&mut self, id: RoundId) -> Result<Round> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!(
                "SELECT {ROUND_COLUMNS} FROM rounds WHERE tenant_id = $1 AND id = $2"
            ))
            .bind(self.tenant)
            .bind(id)
            .fetch_one(&mut **conn)
            .await?)
        })
    }

    /// A program's rounds, oldest first.
    #[instrument(skip_all, fields(tenant = %self.tenant, program = %program), err(level = "warn"))]
    pub async fn rounds_of_program(&mut self, program: ProgramId) -> Result<Vec<Round>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!(
                "SELECT {ROUND_COLUMNS} FROM rounds WHERE tenant_id = $1 AND program_id = $2 ORDER BY id"
            ))
            .bind(self.tenant)
            .bind(program)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// The round, read so that it cannot close before this transaction ends; lists
    /// and entries are written after this. The caller decides with the domain's
    /// `RoundPhase` whether the round still takes them.
    #[instrument(skip_all, fields(tenant = %self.tenant, round = %id), err(level = "debug"))]
    pub async fn lock_round_for_lists(&mut self, id: RoundId) -> Result<Round> {
        let lock = self.tx.row_lock("FOR SHARE");
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!(
                "SELECT {ROUND_COLUMNS} FROM rounds WHERE tenant_id = $1 AND id = $2 {lock}"
            ))
            .bind(self.tenant)
            .bind(id)
            .fetch_one(&mut **conn)
            .await?)
        })
    }

    /// Moves the round from `from` to `to` (the domain allowed it) and records who
    /// did it; [`StoreError::Conflict`] when it was no longer in `from`.
    #[instrument(skip_all, fields(tenant = %self.tenant, round = %id), err(level = "warn"))]
    pub async fn move_round(
        &mut self,
        id: RoundId,
        from: RoundStatus,
        to: RoundStatus,
        actor: AccountId,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let moved = transitions::record_move(
            &mut self.tx,
            ROUNDS,
            self.tenant,
            id.get(),
            from.code(),
            to.code(),
            actor,
            now,
        )
        .await?;
        if !moved {
            return Err(StoreError::Conflict("status".to_owned()));
        }
        if to == RoundStatus::Published {
            with_tx!(&mut self.tx, conn => {
                sqlx::query("UPDATE rounds SET published_at = $1 WHERE tenant_id = $2 AND id = $3")
                    .bind(now)
                    .bind(self.tenant)
                    .bind(id)
                    .execute(&mut **conn)
                    .await?;
            });
        }
        Ok(())
    }

    /// Replaces the projects taking part and their seats. A project of another
    /// tenant cannot be named: the key carries the tenant.
    #[instrument(skip_all, fields(tenant = %self.tenant, round = %round), err(level = "warn"))]
    pub async fn set_round_projects(
        &mut self,
        round: RoundId,
        projects: &[(ProjectId, u32)],
    ) -> Result<()> {
        with_tx!(&mut self.tx, conn => {
            let kept: Vec<i64> = projects.iter().map(|(p, _)| p.get()).collect();
            // Projects no longer taking part leave with their place in every list.
            let existing: Vec<ProjectId> = sqlx::query_scalar(
                "SELECT project_id FROM round_projects WHERE tenant_id = $1 AND round_id = $2",
            )
            .bind(self.tenant)
            .bind(round)
            .fetch_all(&mut **conn)
            .await?;
            for gone in existing.iter().filter(|p| !kept.contains(&p.get())) {
                sqlx::query(
                    "DELETE FROM round_projects WHERE tenant_id = $1 AND round_id = $2 AND project_id = $3",
                )
                .bind(self.tenant)
                .bind(round)
                .bind(*gone)
                .execute(&mut **conn)
                .await?;
            }
            for (project, seats) in projects {
                sqlx::query(
                    "INSERT INTO round_projects (tenant_id, round_id, project_id, seats)
                     VALUES ($1, $2, $3, $4)
                     ON CONFLICT (tenant_id, round_id, project_id) DO UPDATE SET seats = excluded.seats",
                )
                .bind(self.tenant)
                .bind(round)
                .bind(*project)
                .bind(i64::from(*seats))
                .execute(&mut **conn)
                .await?;
            }
        });
        self.renumber_lists(round).await
    }

    /// The projects taking part, in id order.
    #[instrument(skip_all, fields(tenant = %self.tenant, round = %round), err(level = "warn"))]
    pub async fn round_projects(&mut self, round: RoundId) -> Result<Vec<RoundProject>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(
                "SELECT rp.project_id, rp.seats, p.title, h.name AS host_name, p.visibility
                 FROM round_projects rp
                 JOIN projects p ON p.tenant_id = rp.tenant_id AND p.id = rp.project_id
                 JOIN hosts h ON h.tenant_id = p.tenant_id AND h.id = p.host_id
                 WHERE rp.tenant_id = $1 AND rp.round_id = $2 ORDER BY rp.project_id",
            )
            .bind(self.tenant)
            .bind(round)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// Invites a talent (again: nothing changes). Returns whether this was new.
    #[instrument(skip_all, fields(tenant = %self.tenant, round = %round), err(level = "warn"))]
    pub async fn invite_to_round(
        &mut self,
        round: RoundId,
        account: AccountId,
        source: InvitationSource,
        by: Option<AccountId>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query(
                "INSERT INTO round_invitations (tenant_id, round_id, account_id, source, invited_by, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (tenant_id, round_id, account_id) DO NOTHING",
            )
            .bind(self.tenant)
            .bind(round)
            .bind(account)
            .bind(source.code())
            .bind(by)
            .bind(now)
            .execute(&mut **conn)
            .await?
            .rows_affected()
                == 1)
        })
    }

    /// Invites everyone who attended the program's field work and is not invited
    /// yet; returns how many were new.
    #[instrument(skip_all, fields(tenant = %self.tenant, round = %round), err(level = "warn"))]
    pub async fn invite_fieldwork_attendees(
        &mut self,
        round: RoundId,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let program = self.round(round).await?.program_id;
        let mut new = 0;
        for account in self.fieldwork_attendees(program).await? {
            if self
                .invite_to_round(round, account, InvitationSource::Fieldwork, None, now)
                .await?
            {
                new += 1;
            }
        }
        Ok(new)
    }

    /// Whether a talent is invited.
    #[instrument(skip_all, fields(tenant = %self.tenant, round = %round), err(level = "debug"))]
    pub async fn is_invited(&mut self, round: RoundId, account: AccountId) -> Result<bool> {
        with_tx!(&mut self.tx, conn => {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM round_invitations
                 WHERE tenant_id = $1 AND round_id = $2 AND account_id = $3",
            )
            .bind(self.tenant)
            .bind(round)
            .bind(account)
            .fetch_one(&mut **conn)
            .await?;
            Ok(n > 0)
        })
    }

    /// Enters a talent (the caller checked the rule and the phase in this
    /// transaction). Entering again after withdrawing comes back with an empty list.
    #[instrument(skip_all, fields(tenant = %self.tenant, round = %round), err(level = "warn"))]
    pub async fn enter_round(
        &mut self,
        round: RoundId,
        account: AccountId,
        now: DateTime<Utc>,
    ) -> Result<()> {
        with_tx!(&mut self.tx, conn => {
            sqlx::query(
                "INSERT INTO round_entries (tenant_id, round_id, account_id, entered_at)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (tenant_id, round_id, account_id)
                 DO UPDATE SET withdrawn_at = NULL, entered_at = excluded.entered_at
                 WHERE round_entries.withdrawn_at IS NOT NULL",
            )
            .bind(self.tenant)
            .bind(round)
            .bind(account)
            .bind(now)
            .execute(&mut **conn)
            .await?;
        });
        Ok(())
    }

    /// Takes a talent out of the round: their list goes, and so does their place in
    /// every project's list.
    #[instrument(skip_all, fields(tenant = %self.tenant, round = %round), err(level = "warn"))]
    pub async fn withdraw_from_round(
        &mut self,
        round: RoundId,
        account: AccountId,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let done = with_tx!(&mut self.tx, conn => {
            let done = sqlx::query(
                "UPDATE round_entries SET withdrawn_at = $1
                 WHERE tenant_id = $2 AND round_id = $3 AND account_id = $4 AND withdrawn_at IS NULL",
            )
            .bind(now)
            .bind(self.tenant)
            .bind(round)
            .bind(account)
            .execute(&mut **conn)
            .await?
            .rows_affected();
            for table in ["talent_preferences", "host_preferences"] {
                sqlx::query(&format!(
                    "DELETE FROM {table} WHERE tenant_id = $1 AND round_id = $2 AND account_id = $3"
                ))
                .bind(self.tenant)
                .bind(round)
                .bind(account)
                .execute(&mut **conn)
                .await?;
            }
            done
        });
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// A talent's entry, withdrawn or not.
    #[instrument(skip_all, fields(tenant = %self.tenant, round = %round), err(level = "debug"))]
    pub async fn round_entry(
        &mut self,
        round: RoundId,
        account: AccountId,
    ) -> Result<Option<RoundEntry>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(
                "SELECT account_id, entered_at, withdrawn_at FROM round_entries
                 WHERE tenant_id = $1 AND round_id = $2 AND account_id = $3",
            )
            .bind(self.tenant)
            .bind(round)
            .bind(account)
            .fetch_optional(&mut **conn)
            .await?)
        })
    }

    /// The talents in the round (not withdrawn), in order of entry.
    #[instrument(skip_all, fields(tenant = %self.tenant, round = %round), err(level = "warn"))]
    pub async fn round_entries(&mut self, round: RoundId) -> Result<Vec<RoundEntry>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(
                "SELECT account_id, entered_at, withdrawn_at FROM round_entries
                 WHERE tenant_id = $1 AND round_id = $2 AND withdrawn_at IS NULL
                 ORDER BY entered_at, account_id",
            )
            .bind(self.tenant)
            .bind(round)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// Replaces a talent's list (most preferred first; checked by the domain).
    #[instrument(skip_all, fields(tenant = %self.tenant, round = %round), err(level = "warn"))]
    pub async fn set_talent_preferences(
        &mut self,
        round: RoundId,
        account: AccountId,
        projects: &[ProjectId],
    ) -> Result<()> {
        let items: Vec<i64> = projects.iter().map(|p| p.get()).collect();
        self.replace_list(TALENT_LIST, round, account.get(), &items)
            .await
    }

    /// A talent's own list, most preferred first.
    #[instrument(skip_all, fields(tenant = %self.tenant, round = %round), err(level = "debug"))]
    pub async fn talent_preferences(
        &mut self,
        round: RoundId,
        account: AccountId,
    ) -> Result<Vec<ProjectId>> {
        let items = self.read_list(TALENT_LIST, round, account.get()).await?;
        Ok(items.into_iter().map(ProjectId::new).collect())
    }

    /// Replaces a project's list of entrants (most preferred first; checked by the domain).
    #[instrument(skip_all, fields(tenant = %self.tenant, round = %round), err(level = "warn"))]
    pub async fn set_host_preferences(
        &mut self,
        round: RoundId,
        project: ProjectId,
        talents: &[AccountId],
    ) -> Result<()> {
        let items: Vec<i64> = talents.iter().map(|t| t.get()).collect();
        self.replace_list(HOST_LIST, round, project.get(), &items)
            .await
    }

    /// A project's own list, most preferred first.
    #[instrument(skip_all, fields(tenant = %self.tenant, round = %round), err(level = "debug"))]
    pub async fn host_preferences(
        &mut self,
        round: RoundId,
        project: ProjectId,
    ) -> Result<Vec<AccountId>> {
        let items = self.read_list(HOST_LIST, round, project.get()).await?;
        Ok(items.into_iter().map(AccountId::new).collect())
    }

    /// Replaces one side's list of `owner` with `items`, ranked 1, 2, … in order.
    async fn replace_list(
        &mut self,
        list: PreferenceList,
        round: RoundId,
        owner: i64,
        items: &[i64],
    ) -> Result<()> {
        let PreferenceList {
            table,
            owner_column,
            item_column,
        } = list;
        with_tx!(&mut self.tx, conn => {
            sqlx::query(&format!(
                "DELETE FROM {table} WHERE tenant_id = $1 AND round_id = $2 AND {owner_column} = $3"
            ))
            .bind(self.tenant)
            .bind(round)
            .bind(owner)
            .execute(&mut **conn)
            .await?;
            for (i, item) in items.iter().enumerate() {
                sqlx::query(&format!(
                    "INSERT INTO {table} (tenant_id, round_id, {owner_column}, rank, {item_column})
                     VALUES ($1, $2, $3, $4, $5)"
                ))
                .bind(self.tenant)
                .bind(round)
                .bind(owner)
                .bind(i as i64 + 1)
                .bind(*item)
                .execute(&mut **conn)
                .await?;
            }
        });
        Ok(())
    }

    /// One side's list of `owner`, most preferred first.
    async fn read_list(
        &mut self,
        list: PreferenceList,
        round: RoundId,
        owner: i64,
    ) -> Result<Vec<i64>> {
        let PreferenceList {
            table,
            owner_column,
            item_column,
        } = list;
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_scalar(&format!(
                "SELECT {item_column} FROM {table}
                 WHERE tenant_id = $1 AND round_id = $2 AND {owner_column} = $3 ORDER BY rank"
            ))
            .bind(self.tenant)
            .bind(round)
            .bind(owner)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// 中間公表: per project taking part, how many talents rank it first (0 included).
    #[instrument(skip_all, fields(tenant = %self.tenant, round = %round), err(level = "warn"))]
    pub async fn first_choice_counts(&mut self, round: RoundId) -> Result<Vec<(ProjectId, i64)>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(
                "SELECT rp.project_id, COUNT(tp.account_id) FROM round_projects rp
                 LEFT JOIN talent_preferences tp ON tp.tenant_id = rp.tenant_id
                   AND tp.round_id = rp.round_id AND tp.project_id = rp.project_id AND tp.rank = 1
                 WHERE rp.tenant_id = $1 AND rp.round_id = $2
                 GROUP BY rp.project_id ORDER BY rp.project_id",
            )
            .bind(self.tenant)
            .bind(round)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// Both sides' lists, for the engine.
    #[instrument(skip_all, fields(tenant = %self.tenant, round = %round), err(level = "warn"))]
    pub async fn round_lists(&mut self, round: RoundId) -> Result<RoundLists> {
        // One row per list entry, and one with no entry for an empty list.
        type TalentRow = (AccountId, Option<ProjectId>);
        type ProjectRow = (ProjectId, i64, Option<AccountId>);
        let (talent_rows, host_rows): (Vec<TalentRow>, Vec<ProjectRow>) = with_tx!(&mut self.tx, conn => {
            let talents = sqlx::query_as(
                "SELECT e.account_id, tp.project_id FROM round_entries e
                     LEFT JOIN talent_preferences tp ON tp.tenant_id = e.tenant_id
                       AND tp.round_id = e.round_id AND tp.account_id = e.account_id
                     WHERE e.tenant_id = $1 AND e.round_id = $2 AND e.withdrawn_at IS NULL
                     ORDER BY e.account_id, tp.rank",
            )
            .bind(self.tenant)
            .bind(round)
            .fetch_all(&mut **conn)
            .await?;
            let hosts = sqlx::query_as(
                "SELECT rp.project_id, rp.seats, hp.account_id FROM round_projects rp
                     LEFT JOIN host_preferences hp ON hp.tenant_id = rp.tenant_id
                       AND hp.round_id = rp.round_id AND hp.project_id = rp.project_id
                     WHERE rp.tenant_id = $1 AND rp.round_id = $2
                     ORDER BY rp.project_id, hp.rank",
            )
            .bind(self.tenant)
            .bind(round)
            .fetch_all(&mut **conn)
            .await?;
            (talents, hosts)
        });
        let mut lists = RoundLists::default();
        for (talent, project) in talent_rows {
            if lists.talents.last().is_none_or(|(t, _)| *t != talent) {
                lists.talents.push((talent, Vec::new()));
            }
            if let (Some(p), Some((_, list))) = (project, lists.talents.last_mut()) {
                list.push(p);
            }
        }
        for (project, seats, talent) in host_rows {
            if lists.projects.last().is_none_or(|(p, _, _)| *p != project) {
                // The column's CHECK keeps seats within 1..=50.
                let seats = u32::try_from(seats).unwrap_or(0);
                lists.projects.push((project, seats, Vec::new()));
            }
            if let (Some(t), Some((_, _, list))) = (talent, lists.projects.last_mut()) {
                list.push(t);
            }
        }
        Ok(lists)
    }

    /// After a project left, the lists that named it have a gap in their ranks:
    /// close it, keeping the order, so rank 1 is always the first choice (the
    /// interim count reads rank 1) and rank n the n-th.
    async fn renumber_lists(&mut self, round: RoundId) -> Result<()> {
        let gapped: Vec<AccountId> = with_tx!(&mut self.tx, conn => {
            sqlx::query_scalar(
                "SELECT account_id FROM talent_preferences WHERE tenant_id = $1 AND round_id = $2
                 GROUP BY account_id HAVING MAX(rank) <> COUNT(*)",
            )
            .bind(self.tenant)
            .bind(round)
            .fetch_all(&mut **conn)
            .await?
        });
        for talent in gapped {
            let list = self.talent_preferences(round, talent).await?;
            self.set_talent_preferences(round, talent, &list).await?;
        }
        Ok(())
    }
}

/// A pair of the round's result: a talent and a project, with each side's answer
/// once the result is published.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RoundPair {
    pub id: i64,
    pub account_id: AccountId,
    pub project_id: ProjectId,
    /// The talent's rank of the project; None for a pair off the talent's list.
    pub talent_rank: Option<i64>,
    origin: String,
    status: String,
    talent_answer: Option<String>,
    host_answer: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl RoundPair {
    pub fn origin(&self) -> PairOrigin {
        PairOrigin::parse(&self.origin).unwrap_or(PairOrigin::Manual)
    }

    pub fn status(&self) -> MatchStatus {
        MatchStatus::parse(&self.status).unwrap_or(MatchStatus::Declined)
    }

    pub fn talent_answer(&self) -> Option<Answer> {
        answer_of(self.talent_answer.as_deref())
    }

    pub fn host_answer(&self) -> Option<Answer> {
        answer_of(self.host_answer.as_deref())
    }
}

fn answer_of(code: Option<&str>) -> Option<Answer> {
    match code? {
        "confirmed" => Some(Answer::Confirmed),
        "declined" => Some(Answer::Declined),
        _ => None,
    }
}

fn answer_code(answer: Answer) -> &'static str {
    match answer {
        Answer::Confirmed => "confirmed",
        Answer::Declined => "declined",
    }
}

const PAIR_COLUMNS: &str = "id, account_id, project_id, talent_rank, origin, status, \
     talent_answer, host_answer, created_at, updated_at";

/// Where a pair came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairOrigin {
    /// The engine's stable matching.
    Engine,
    /// The coordinator paired them (manual mode, or an adjustment).
    Manual,
    /// An offer accepted in the second phase.
    SecondPhase,
}

impl PairOrigin {
    pub fn code(self) -> &'static str {
        match self {
            PairOrigin::Engine => "engine",
            PairOrigin::Manual => "manual",
            PairOrigin::SecondPhase => "second_phase",
        }
    }

    fn parse(code: &str) -> Option<PairOrigin> {
        [
            PairOrigin::Engine,
            PairOrigin::Manual,
            PairOrigin::SecondPhase,
        ]
        .into_iter()
        .find(|o| o.code() == code)
    }
}

/// A pair to write into the result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewPair {
    pub talent: AccountId,
    pub project: ProjectId,
    pub talent_rank: Option<u32>,
    pub origin: PairOrigin,
}

impl From<yui_match::KeyedPair<AccountId, ProjectId>> for NewPair {
    /// A pair of the engine's stable matching, as the result stores it.
    fn from(p: yui_match::KeyedPair<AccountId, ProjectId>) -> NewPair {
        NewPair {
            talent: p.talent,
            project: p.project,
            talent_rank: p.talent_rank,
            origin: PairOrigin::Engine,
        }
    }
}

/// A coordinator's change to the result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Adjustment {
    /// Pair this talent with this project (their other pair, if any, goes).
    Add,
    /// Undo this pair.
    Remove,
}

impl Adjustment {
    fn code(self) -> &'static str {
        match self {
            Adjustment::Add => "add",
            Adjustment::Remove => "remove",
        }
    }
}

/// A recorded adjustment, for the review page.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AdjustmentRecord {
    pub action: String,
    pub account_id: AccountId,
    pub project_id: ProjectId,
    pub reason: String,
    pub actor_id: Option<AccountId>,
    pub at: DateTime<Utc>,
}

/// Which side answers a published match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Talent,
    Host,
}

/// What an answer did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answered {
    pub status: MatchStatus,
    /// Set when this answer completed the match: the engagement it became.
    pub engagement: Option<EngagementId>,
}

impl TenantTx {
    /// Replaces the round's unpublished result with `pairs` (the engine's, or the
    /// coordinator's in manual mode). Adjustments recorded earlier stay in the log.
    #[instrument(skip_all, fields(tenant = %self.tenant, round = %round), err(level = "warn"))]
    pub async fn replace_result(
        &mut self,
        round: RoundId,
        pairs: &[NewPair],
        now: DateTime<Utc>,
    ) -> Result<()> {
        with_tx!(&mut self.tx, conn => {
            sqlx::query("DELETE FROM round_pairs WHERE tenant_id = $1 AND round_id = $2")
                .bind(self.tenant)
                .bind(round)
                .execute(&mut **conn)
                .await?;
        });
        for pair in pairs {
            self.insert_pair(round, *pair, now).await?;
        }
        with_tx!(&mut self.tx, conn => {
            sqlx::query("UPDATE rounds SET solved_at = $1, updated_at = $1 WHERE tenant_id = $2 AND id = $3")
                .bind(now)
                .bind(self.tenant)
                .bind(round)
                .execute(&mut **conn)
                .await?;
        });
        Ok(())
    }

    async fn insert_pair(
        &mut self,
        round: RoundId,
        pair: NewPair,
        now: DateTime<Utc>,
    ) -> Result<()> {
        with_tx!(&mut self.tx, conn => {
            sqlx::query(
                "INSERT INTO round_pairs (tenant_id, round_id, account_id, project_id, talent_rank,
                    origin, status, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, 'proposed', $7, $7)",
            )
            .bind(self.tenant)
            .bind(round)
            .bind(pair.talent)
            .bind(pair.project)
            .bind(pair.talent_rank.map(i64::from))
            .bind(pair.origin.code())
            .bind(now)
            .execute(&mut **conn)
            .await
            .map_err(StoreError::taken("talent"))?;
        });
        Ok(())
    }

    /// The round's result, declined pairs included, by talent.
    #[instrument(skip_all, fields(tenant = %self.tenant, round = %round), err(level = "warn"))]
    pub async fn round_pairs(&mut self, round: RoundId) -> Result<Vec<RoundPair>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!(
                "SELECT {PAIR_COLUMNS} FROM round_pairs WHERE tenant_id = $1 AND round_id = $2
                 ORDER BY account_id, id"
            ))
            .bind(self.tenant)
            .bind(round)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// A talent's own pairs in the round (the live one last).
    #[instrument(skip_all, fields(tenant = %self.tenant, round = %round), err(level = "debug"))]
    pub async fn pairs_of_talent(
        &mut self,
        round: RoundId,
        account: AccountId,
    ) -> Result<Vec<RoundPair>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!(
                "SELECT {PAIR_COLUMNS} FROM round_pairs
                 WHERE tenant_id = $1 AND round_id = $2 AND account_id = $3 ORDER BY id"
            ))
            .bind(self.tenant)
            .bind(round)
            .bind(account)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// Changes one pair of the unpublished result and records why.
    #[allow(clippy::too_many_arguments)]
    #[instrument(skip_all, fields(tenant = %self.tenant, round = %round), err(level = "warn"))]
    pub async fn adjust_pair(
        &mut self,
        round: RoundId,
        action: Adjustment,
        talent: AccountId,
        project: ProjectId,
        reason: &str,
        actor: AccountId,
        now: DateTime<Utc>,
    ) -> Result<()> {
        // Adding makes way first: the talent's current pair goes (one live pair each).
        let only_project = match action {
            Adjustment::Add => None,
            Adjustment::Remove => Some(project),
        };
        let removed = with_tx!(&mut self.tx, conn => {
            sqlx::query(
                "DELETE FROM round_pairs WHERE tenant_id = $1 AND round_id = $2 AND account_id = $3
                   AND status <> 'declined' AND ($4 IS NULL OR project_id = $4)",
            )
            .bind(self.tenant)
            .bind(round)
            .bind(talent)
            .bind(only_project)
            .execute(&mut **conn)
            .await?
            .rows_affected()
        });
        match action {
            Adjustment::Remove if removed == 0 => return Err(StoreError::NotFound),
            Adjustment::Remove => {}
            Adjustment::Add => {
                let rank = self
                    .talent_preferences(round, talent)
                    .await?
                    .iter()
                    .position(|p| *p == project)
                    .map(|i| i as u32 + 1);
                let pair = NewPair {
                    talent,
                    project,
                    talent_rank: rank,
                    origin: PairOrigin::Manual,
                };
                self.insert_pair(round, pair, now).await?;
            }
        }
        with_tx!(&mut self.tx, conn => {
            sqlx::query(
                "INSERT INTO round_adjustments (tenant_id, round_id, action, account_id, project_id, reason, actor_id, at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(self.tenant)
            .bind(round)
            .bind(action.code())
            .bind(talent)
            .bind(project)
            .bind(reason)
            .bind(actor)
            .bind(now)
            .execute(&mut **conn)
            .await?;
        });
        Ok(())
    }

    /// The adjustments made to the round's result, oldest first.
    #[instrument(skip_all, fields(tenant = %self.tenant, round = %round), err(level = "warn"))]
    pub async fn round_adjustments(&mut self, round: RoundId) -> Result<Vec<AdjustmentRecord>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(
                "SELECT action, account_id, project_id, reason, actor_id, at FROM round_adjustments
                 WHERE tenant_id = $1 AND round_id = $2 ORDER BY id",
            )
            .bind(self.tenant)
            .bind(round)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// One side's answer to a published pair. The pair's row is locked first, so the
    /// two sides answering at the same moment make one engagement, never two; an
    /// answer given before stays (a second click changes nothing). `NotFound` for a
    /// pair not in this round or already declined.
    #[instrument(skip_all, fields(tenant = %self.tenant, round = %round), err(level = "warn"))]
    pub async fn answer_pair(
        &mut self,
        round: RoundId,
        pair: i64,
        side: Side,
        answer: Answer,
        now: DateTime<Utc>,
    ) -> Result<Answered> {
        let lock = self.tx.row_lock("FOR UPDATE");
        let column = match side {
            Side::Talent => "talent_answer",
            Side::Host => "host_answer",
        };
        // SQLite's writing transaction already holds the database; PostgreSQL locks the row.
        let current: RoundPair = with_tx!(&mut self.tx, conn => {
            sqlx::query_as(&format!(
                "SELECT {PAIR_COLUMNS} FROM round_pairs
                 WHERE tenant_id = $1 AND round_id = $2 AND id = $3 AND status = 'proposed' {lock}"
            ))
            .bind(self.tenant)
            .bind(round)
            .bind(pair)
            .fetch_one(&mut **conn)
            .await?
        });
        let (talent, host) = match side {
            Side::Talent => (
                current.talent_answer().or(Some(answer)),
                current.host_answer(),
            ),
            Side::Host => (
                current.talent_answer(),
                current.host_answer().or(Some(answer)),
            ),
        };
        let status = MatchStatus::from_answers(talent, host);
        let given = match side {
            Side::Talent => talent,
            Side::Host => host,
        }
        .map(answer_code);
        with_tx!(&mut self.tx, conn => {
            sqlx::query(&format!(
                "UPDATE round_pairs SET {column} = $1, status = $2, updated_at = $3
                 WHERE tenant_id = $4 AND id = $5"
            ))
            .bind(given)
            .bind(status.code())
            .bind(now)
            .bind(self.tenant)
            .bind(pair)
            .execute(&mut **conn)
            .await?;
        });
        let engagement = if status == MatchStatus::Confirmed {
            Some(
                self.create_engagement(Some(round), current.account_id, current.project_id, now)
                    .await?,
            )
        } else {
            None
        };
        Ok(Answered { status, engagement })
    }

    /// An engagement in `proposed`, for a talent and a project of this tenant (its
    /// host is the project's). A pair that already has a live engagement (entered
    /// by a coordinator before the match was confirmed) keeps it: its id is returned
    /// rather than a second partnership counted.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn create_engagement(
        &mut self,
        round: Option<RoundId>,
        talent: AccountId,
        project: ProjectId,
        now: DateTime<Utc>,
    ) -> Result<EngagementId> {
        with_tx!(&mut self.tx, conn => {
            let made: Option<EngagementId> = sqlx::query_scalar(
                "INSERT INTO engagements (tenant_id, round_id, account_id, host_id, project_id, status, created_at, updated_at)
                 SELECT p.tenant_id, $2, $3, p.host_id, p.id, 'proposed', $5, $5
                 FROM projects p WHERE p.tenant_id = $1 AND p.id = $4
                 ON CONFLICT (tenant_id, account_id, project_id)
                    WHERE status IN ('proposed', 'active', 'paused') DO NOTHING
                 RETURNING id",
            )
            .bind(self.tenant)
            .bind(round)
            .bind(talent)
            .bind(project)
            .bind(now)
            .fetch_optional(&mut **conn)
            .await?;
            if let Some(id) = made {
                return Ok(id);
            }
            Ok(sqlx::query_scalar(
                "SELECT id FROM engagements
                 WHERE tenant_id = $1 AND account_id = $2 AND project_id = $3
                   AND status IN ('proposed', 'active', 'paused')",
            )
            .bind(self.tenant)
            .bind(talent)
            .bind(project)
            .fetch_one(&mut **conn)
            .await?)
        })
    }

    /// The engagements a round produced.
    #[instrument(skip_all, fields(tenant = %self.tenant, round = %round), err(level = "warn"))]
    pub async fn engagements_of_round(&mut self, round: RoundId) -> Result<Vec<Engagement>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(
                "SELECT id, round_id, account_id, host_id, project_id, status, created_at
                 FROM engagements WHERE tenant_id = $1 AND round_id = $2 ORDER BY id",
            )
            .bind(self.tenant)
            .bind(round)
            .fetch_all(&mut **conn)
            .await?)
        })
    }
}

/// A person as a page lists them and a mail addresses them: a round's entrant, or
/// a side asked to approve a case study.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Recipient {
    pub account_id: AccountId,
    pub display_name: String,
    pub email: String,
    pub locale: String,
}

/// A host member of a project in a round, for the publication mail.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RoundHostMember {
    pub project_id: ProjectId,
    pub display_name: String,
    pub email: String,
    pub locale: String,
}

impl TenantTx {
    /// The tenant's rounds, newest first.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn rounds(&mut self, limit: i64) -> Result<Vec<Round>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!(
                "SELECT {ROUND_COLUMNS} FROM rounds WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2"
            ))
            .bind(self.tenant)
            .bind(limit)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// The round's live entrants with their names and addresses, in order of entry.
    #[instrument(skip_all, fields(tenant = %self.tenant, round = %round), err(level = "warn"))]
    pub async fn round_people(&mut self, round: RoundId) -> Result<Vec<Recipient>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(
                "SELECT e.account_id, a.display_name, a.email, a.locale FROM round_entries e
                 JOIN accounts a ON a.id = e.account_id
                 WHERE e.tenant_id = $1 AND e.round_id = $2 AND e.withdrawn_at IS NULL
                 ORDER BY e.entered_at, e.account_id",
            )
            .bind(self.tenant)
            .bind(round)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// Invites the tenant's live member with this address; `None` when no member of
    /// the tenant has it (addresses of other tenants' people are never revealed),
    /// else whether the invitation is new.
    #[instrument(skip_all, fields(tenant = %self.tenant, round = %round), err(level = "warn"))]
    pub async fn invite_member_by_email(
        &mut self,
        round: RoundId,
        email: &str,
        by: AccountId,
        now: DateTime<Utc>,
    ) -> Result<Option<bool>> {
        let found: Option<AccountId> = with_tx!(&mut self.tx, conn => {
            sqlx::query_scalar(
                "SELECT a.id FROM accounts a
                 JOIN memberships m ON m.account_id = a.id AND m.tenant_id = $1 AND m.left_at IS NULL
                 WHERE a.email_lower = $2",
            )
            .bind(self.tenant)
            .bind(email.trim().to_lowercase())
            .fetch_optional(&mut **conn)
            .await?
        });
        match found {
            Some(account) => Ok(Some(
                self.invite_to_round(round, account, InvitationSource::Staff, Some(by), now)
                    .await?,
            )),
            None => Ok(None),
        }
    }

    /// How many talents are invited to the round.
    #[instrument(skip_all, fields(tenant = %self.tenant, round = %round), err(level = "debug"))]
    pub async fn invitation_count(&mut self, round: RoundId) -> Result<i64> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_scalar(
                "SELECT COUNT(*) FROM round_invitations WHERE tenant_id = $1 AND round_id = $2",
            )
            .bind(self.tenant)
            .bind(round)
            .fetch_one(&mut **conn)
            .await?)
        })
    }

    /// The members of the hosts of the round's projects, for the publication mail.
    #[instrument(skip_all, fields(tenant = %self.tenant, round = %round), err(level = "warn"))]
    pub async fn round_host_members(&mut self, round: RoundId) -> Result<Vec<RoundHostMember>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(
                "SELECT rp.project_id, a.display_name, a.email, a.locale FROM round_projects rp
                 JOIN projects p ON p.tenant_id = rp.tenant_id AND p.id = rp.project_id
                 JOIN host_members hm ON hm.tenant_id = p.tenant_id AND hm.host_id = p.host_id
                 JOIN accounts a ON a.id = hm.account_id
                 WHERE rp.tenant_id = $1 AND rp.round_id = $2
                 ORDER BY rp.project_id, a.id",
            )
            .bind(self.tenant)
            .bind(round)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// The second phase's offers in the round, oldest first, and how many
    /// applications were made.
    #[instrument(skip_all, fields(tenant = %self.tenant, round = %round), err(level = "warn"))]
    pub async fn round_offers(&mut self, round: RoundId) -> Result<(Vec<Offer>, i64)> {
        with_tx!(&mut self.tx, conn => {
            let offers = sqlx::query_as(&format!(
                "SELECT {OFFER_COLUMNS} FROM round_offers WHERE tenant_id = $1 AND round_id = $2 ORDER BY id"
            ))
            .bind(self.tenant)
            .bind(round)
            .fetch_all(&mut **conn)
            .await?;
            let applied = sqlx::query_scalar(
                "SELECT COUNT(*) FROM round_applications WHERE tenant_id = $1 AND round_id = $2",
            )
            .bind(self.tenant)
            .bind(round)
            .fetch_one(&mut **conn)
            .await?;
            Ok((offers, applied))
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Engagement {
    pub id: EngagementId,
    pub round_id: Option<RoundId>,
    pub account_id: AccountId,
    pub host_id: HostId,
    pub project_id: ProjectId,
    /// `proposed` until the follow-up issue's states.
    pub status: String,
    pub created_at: DateTime<Utc>,
}

/// A second-phase offer: a project's host offers a seat to a left-over talent who
/// applied to it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Offer {
    pub id: i64,
    pub account_id: AccountId,
    pub project_id: ProjectId,
    pub offer_round: i64,
    /// `offered`, `accepted`, `declined` or `expired`.
    pub status: String,
    pub made_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
}

const OFFER_COLUMNS: &str = "id, account_id, project_id, offer_round, status, made_at, answered_at";

impl TenantTx {
    /// Starts the second phase (二次募集) of a published round: `rounds` offer rounds
    /// of `minutes` each from `now`. [`StoreError::Conflict`] when the round was not
    /// published (or a second click found it started).
    #[instrument(skip_all, fields(tenant = %self.tenant, round = %round), err(level = "warn"))]
    pub async fn start_second_phase(
        &mut self,
        round: RoundId,
        rounds: u32,
        minutes: u32,
        actor: AccountId,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.move_round(
            round,
            RoundStatus::Published,
            RoundStatus::SecondPhase,
            actor,
            now,
        )
        .await?;
        with_tx!(&mut self.tx, conn => {
            sqlx::query(
                "UPDATE rounds SET offer_rounds = $1, offer_minutes = $2, second_phase_at = $3
                 WHERE tenant_id = $4 AND id = $5",
            )
            .bind(i64::from(rounds))
            .bind(i64::from(minutes))
            .bind(now)
            .bind(self.tenant)
            .bind(round)
            .execute(&mut **conn)
            .await?;
        });
        Ok(())
    }

    /// A left-over talent applies to a project with open seats (the caller checked
    /// both with the phase's rules). Applying twice changes nothing.
    #[instrument(skip_all, fields(tenant = %self.tenant, round = %round), err(level = "warn"))]
    pub async fn apply_in_second_phase(
        &mut self,
        round: RoundId,
        talent: AccountId,
        project: ProjectId,
        now: DateTime<Utc>,
    ) -> Result<()> {
        with_tx!(&mut self.tx, conn => {
            sqlx::query(
                "INSERT INTO round_applications (tenant_id, round_id, account_id, project_id, applied_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (tenant_id, round_id, account_id, project_id) DO NOTHING",
            )
            .bind(self.tenant)
            .bind(round)
            .bind(talent)
            .bind(project)
            .bind(now)
            .execute(&mut **conn)
            .await?;
        });
        Ok(())
    }

    /// The talents who applied to a project in the second phase, in order of applying.
    #[instrument(skip_all, fields(tenant = %self.tenant, round = %round), err(level = "warn"))]
    pub async fn second_phase_applicants(
        &mut self,
        round: RoundId,
        project: ProjectId,
    ) -> Result<Vec<AccountId>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_scalar(
                "SELECT account_id FROM round_applications
                 WHERE tenant_id = $1 AND round_id = $2 AND project_id = $3
                 ORDER BY applied_at, account_id",
            )
            .bind(self.tenant)
            .bind(round)
            .bind(project)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// Seats of a project not held by a live pair nor promised by an open offer.
    async fn seats_free(&mut self, round: RoundId, project: ProjectId) -> Result<i64> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_scalar(
                "SELECT rp.seats
                   - (SELECT COUNT(*) FROM round_pairs x WHERE x.tenant_id = rp.tenant_id
                        AND x.round_id = rp.round_id AND x.project_id = rp.project_id AND x.status <> 'declined')
                   - (SELECT COUNT(*) FROM round_offers o WHERE o.tenant_id = rp.tenant_id
                        AND o.round_id = rp.round_id AND o.project_id = rp.project_id AND o.status = 'offered')
                 FROM round_projects rp WHERE rp.tenant_id = $1 AND rp.round_id = $2 AND rp.project_id = $3",
            )
            .bind(self.tenant)
            .bind(round)
            .bind(project)
            .fetch_one(&mut **conn)
            .await?)
        })
    }

    /// A host offers a seat to an applicant in offer round `offer_round`. The
    /// project's row is locked first, so offers racing for its last seat make one.
    /// `Ok(None)` when no seat is free or the talent already holds a pair; an offer
    /// to someone who did not apply is refused by the keys.
    #[allow(clippy::too_many_arguments)]
    #[instrument(skip_all, fields(tenant = %self.tenant, round = %round), err(level = "warn"))]
    pub async fn make_offer(
        &mut self,
        round: RoundId,
        project: ProjectId,
        talent: AccountId,
        offer_round: u32,
        by: AccountId,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>> {
        let lock = self.tx.row_lock("FOR UPDATE");
        with_tx!(&mut self.tx, conn => {
            sqlx::query(&format!(
                "SELECT seats FROM round_projects WHERE tenant_id = $1 AND round_id = $2 AND project_id = $3 {lock}"
            ))
            .bind(self.tenant)
            .bind(round)
            .bind(project)
            .fetch_one(&mut **conn)
            .await?;
        });
        let paired = self
            .pairs_of_talent(round, talent)
            .await?
            .iter()
            .any(|p| p.status() != MatchStatus::Declined);
        if paired || self.seats_free(round, project).await? < 1 {
            return Ok(None);
        }
        with_tx!(&mut self.tx, conn => {
            Ok(Some(sqlx::query_scalar(
                "INSERT INTO round_offers (tenant_id, round_id, account_id, project_id, offer_round, status, made_by, made_at)
                 VALUES ($1, $2, $3, $4, $5, 'offered', $6, $7) RETURNING id",
            )
            .bind(self.tenant)
            .bind(round)
            .bind(talent)
            .bind(project)
            .bind(i64::from(offer_round))
            .bind(by)
            .bind(now)
            .fetch_one(&mut **conn)
            .await
            .map_err(StoreError::taken("offer"))?))
        })
    }

    /// A talent's offers in the second phase, newest last.
    #[instrument(skip_all, fields(tenant = %self.tenant, round = %round), err(level = "debug"))]
    pub async fn offers_to(&mut self, round: RoundId, talent: AccountId) -> Result<Vec<Offer>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!(
                "SELECT {OFFER_COLUMNS} FROM round_offers
                 WHERE tenant_id = $1 AND round_id = $2 AND account_id = $3 ORDER BY id"
            ))
            .bind(self.tenant)
            .bind(round)
            .bind(talent)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// The talent answers an open offer made to them. Accepting makes the match at
    /// once (the host offered, the talent took it): a confirmed pair, its engagement,
    /// and the talent's other open offers expire. `NotFound` for an offer that is not
    /// this talent's or no longer open.
    #[instrument(skip_all, fields(tenant = %self.tenant, round = %round), err(level = "warn"))]
    pub async fn answer_offer(
        &mut self,
        round: RoundId,
        offer: i64,
        talent: AccountId,
        accept: bool,
        now: DateTime<Utc>,
    ) -> Result<Option<EngagementId>> {
        let lock = self.tx.row_lock("FOR UPDATE");
        let found: Offer = with_tx!(&mut self.tx, conn => {
            sqlx::query_as(&format!(
                "SELECT {OFFER_COLUMNS} FROM round_offers
                 WHERE tenant_id = $1 AND round_id = $2 AND id = $3 AND account_id = $4
                   AND status = 'offered' {lock}"
            ))
            .bind(self.tenant)
            .bind(round)
            .bind(offer)
            .bind(talent)
            .fetch_one(&mut **conn)
            .await?
        });
        let to = if accept { "accepted" } else { "declined" };
        with_tx!(&mut self.tx, conn => {
            sqlx::query(
                "UPDATE round_offers SET status = $1, answered_at = $2 WHERE tenant_id = $3 AND id = $4",
            )
            .bind(to)
            .bind(now)
            .bind(self.tenant)
            .bind(offer)
            .execute(&mut **conn)
            .await?;
        });
        if !accept {
            return Ok(None);
        }
        with_tx!(&mut self.tx, conn => {
            sqlx::query(
                "UPDATE round_offers SET status = 'expired', answered_at = $1
                 WHERE tenant_id = $2 AND round_id = $3 AND account_id = $4 AND status = 'offered'",
            )
            .bind(now)
            .bind(self.tenant)
            .bind(round)
            .bind(talent)
            .execute(&mut **conn)
            .await?;
            sqlx::query(
                "INSERT INTO round_pairs (tenant_id, round_id, account_id, project_id, talent_rank,
                    origin, status, talent_answer, host_answer, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, NULL, 'second_phase', 'confirmed', 'confirmed', 'confirmed', $5, $5)",
            )
            .bind(self.tenant)
            .bind(round)
            .bind(talent)
            .bind(found.project_id)
            .bind(now)
            .execute(&mut **conn)
            .await
            .map_err(StoreError::taken("talent"))?;
        });
        Ok(Some(
            self.create_engagement(Some(round), talent, found.project_id, now)
                .await?,
        ))
    }

    /// Offers still open from offer rounds before `current` expire (their time ran
    /// out); returns how many.
    #[instrument(skip_all, fields(tenant = %self.tenant, round = %round), err(level = "warn"))]
    pub async fn expire_offers(
        &mut self,
        round: RoundId,
        current: u32,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query(
                "UPDATE round_offers SET status = 'expired', answered_at = $1
                 WHERE tenant_id = $2 AND round_id = $3 AND status = 'offered' AND offer_round < $4",
            )
            .bind(now)
            .bind(self.tenant)
            .bind(round)
            .bind(i64::from(current))
            .execute(&mut **conn)
            .await?
            .rows_affected())
        })
    }
}

/// A talent in a round as a project's host members see them: named only while the
/// talent's consent covers the tenant's host organizations (as for applications).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EntrantForHosts {
    pub account_id: AccountId,
    pub display_name: String,
}

/// The pages a talent and a host member use in a round.
impl TenantTx {
    /// The live entrants a host may see, in order of entry: those whose membership
    /// is live and whose consent covers host organizations. Hosts rank these alone.
    #[instrument(skip_all, fields(tenant = %self.tenant, round = %round), err(level = "warn"))]
    pub async fn entrants_for_hosts(&mut self, round: RoundId) -> Result<Vec<EntrantForHosts>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(
                "SELECT e.account_id, a.display_name FROM round_entries e
                 JOIN memberships m ON m.tenant_id = e.tenant_id AND m.account_id = e.account_id
                 JOIN accounts a ON a.id = e.account_id
                 WHERE e.tenant_id = $1 AND e.round_id = $2 AND e.withdrawn_at IS NULL
                   AND m.left_at IS NULL AND m.hosts_since IS NOT NULL
                 ORDER BY e.entered_at, e.account_id",
            )
            .bind(self.tenant)
            .bind(round)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// A talent's entry, locked for this transaction (`FOR UPDATE` on PostgreSQL;
    /// SQLite's writing transactions run one at a time): two saves of one talent's
    /// list run one after the other, so the list is one of them, never a mix.
    #[instrument(skip_all, fields(tenant = %self.tenant, round = %round), err(level = "debug"))]
    pub async fn lock_round_entry(
        &mut self,
        round: RoundId,
        account: AccountId,
    ) -> Result<Option<RoundEntry>> {
        let lock = self.tx.row_lock("FOR UPDATE");
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!(
                "SELECT account_id, entered_at, withdrawn_at FROM round_entries
                 WHERE tenant_id = $1 AND round_id = $2 AND account_id = $3 {lock}"
            ))
            .bind(self.tenant)
            .bind(round)
            .bind(account)
            .fetch_optional(&mut **conn)
            .await?)
        })
    }

    /// A project's place in a round, locked for this transaction the same way: its
    /// list's saves run one after the other. None when it does not take part.
    #[instrument(skip_all, fields(tenant = %self.tenant, round = %round), err(level = "debug"))]
    pub async fn lock_round_project(
        &mut self,
        round: RoundId,
        project: ProjectId,
    ) -> Result<Option<i64>> {
        let lock = self.tx.row_lock("FOR UPDATE");
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_scalar(&format!(
                "SELECT seats FROM round_projects
                 WHERE tenant_id = $1 AND round_id = $2 AND project_id = $3 {lock}"
            ))
            .bind(self.tenant)
            .bind(round)
            .bind(project)
            .fetch_optional(&mut **conn)
            .await?)
        })
    }

    /// The projects of a round whose host has `account` as a member, in id order.
    #[instrument(skip_all, fields(tenant = %self.tenant, round = %round), err(level = "debug"))]
    pub async fn round_projects_of_member(
        &mut self,
        round: RoundId,
        account: AccountId,
    ) -> Result<Vec<ProjectId>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_scalar(
                "SELECT rp.project_id FROM round_projects rp
                 JOIN projects p ON p.tenant_id = rp.tenant_id AND p.id = rp.project_id
                 JOIN host_members hm ON hm.tenant_id = p.tenant_id AND hm.host_id = p.host_id
                 WHERE rp.tenant_id = $1 AND rp.round_id = $2 AND hm.account_id = $3
                 ORDER BY rp.project_id",
            )
            .bind(self.tenant)
            .bind(round)
            .bind(account)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// The projects a talent applied to in the second phase, in id order.
    #[instrument(skip_all, fields(tenant = %self.tenant, round = %round), err(level = "debug"))]
    pub async fn second_phase_applications_of(
        &mut self,
        round: RoundId,
        talent: AccountId,
    ) -> Result<Vec<ProjectId>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_scalar(
                "SELECT project_id FROM round_applications
                 WHERE tenant_id = $1 AND round_id = $2 AND account_id = $3 ORDER BY project_id",
            )
            .bind(self.tenant)
            .bind(round)
            .bind(talent)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// The offers a project made in the second phase, oldest first.
    #[instrument(skip_all, fields(tenant = %self.tenant, round = %round), err(level = "debug"))]
    pub async fn offers_of_project(
        &mut self,
        round: RoundId,
        project: ProjectId,
    ) -> Result<Vec<Offer>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!(
                "SELECT {OFFER_COLUMNS} FROM round_offers
                 WHERE tenant_id = $1 AND round_id = $2 AND project_id = $3 ORDER BY id"
            ))
            .bind(self.tenant)
            .bind(round)
            .bind(project)
            .fetch_all(&mut **conn)
            .await?)
        })
    }
}

/// A project of a host member's in a round that people see, for their dashboard.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MemberRoundProject {
    pub round_id: RoundId,
    pub title_ja: String,
    pub title_en: String,
    pub project_id: ProjectId,
    pub project_title: String,
}

impl TenantTx {
    /// The rounds, not drafts nor finished, in which a project of a host that
    /// `account` is a member of takes part; newest round first.
    #[instrument(skip_all, fields(tenant = %self.tenant, account = %account), err(level = "debug"))]
    pub async fn rounds_of_host_member(
        &mut self,
        account: AccountId,
    ) -> Result<Vec<MemberRoundProject>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(
                "SELECT r.id AS round_id, r.title_ja, r.title_en, p.id AS project_id, p.title AS project_title
                 FROM rounds r
                 JOIN round_projects rp ON rp.tenant_id = r.tenant_id AND rp.round_id = r.id
                 JOIN projects p ON p.tenant_id = rp.tenant_id AND p.id = rp.project_id
                 JOIN host_members hm ON hm.tenant_id = p.tenant_id AND hm.host_id = p.host_id
                 WHERE r.tenant_id = $1 AND hm.account_id = $2 AND r.status NOT IN ('draft', 'finished')
                 ORDER BY r.id DESC, p.id",
            )
            .bind(self.tenant)
            .bind(account)
            .fetch_all(&mut **conn)
            .await?)
        })
    }
}
