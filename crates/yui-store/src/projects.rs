//! Projects (案件) of a tenant's hosts: their fields and desired skills, status
//! changes recorded with who and when, and the co-design comment thread.

use chrono::{DateTime, Utc};
use tracing::instrument;
use yui_domain::project::{ProjectFields, ProjectStatus};
use yui_domain::{AccountId, HostId, ProjectId, TenantId};

use crate::scope::TenantTx;
use crate::{Result, StoreTx, with_tx};

/// A project as stored, with its host's name and its desired skills' codes.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Project {
    pub id: ProjectId,
    pub tenant_id: TenantId,
    pub host_id: HostId,
    pub host_name: String,
    pub title: String,
    pub challenge: String,
    pub help_wanted: String,
    /// A `ProjectKind` code.
    pub kind: String,
    pub hours_per_month: Option<i32>,
    pub months: Option<i32>,
    pub remote_ratio: i32,
    /// A `Compensation` code.
    pub compensation: String,
    pub amount_min: Option<i64>,
    pub amount_max: Option<i64>,
    pub location: String,
    /// A [`ProjectStatus`] code.
    pub status: String,
    /// A `Visibility` code.
    pub visibility: String,
    pub created_by: Option<AccountId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[sqlx(skip)]
    pub skills: Vec<String>,
}

impl Project {
    /// The status; an unknown code (a hand-edited row) reads as draft, which shows
    /// nothing to the public.
    pub fn status(&self) -> ProjectStatus {
        ProjectStatus::parse(&self.status).unwrap_or(ProjectStatus::Draft)
    }

    /// Whether anyone, signed in or not, may read it.
    pub fn is_public(&self) -> bool {
        self.status == "open" && self.visibility == "public"
    }
}

/// One comment of a project's co-design thread.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ProjectComment {
    pub id: i64,
    pub author_id: Option<AccountId>,
    pub author_name: Option<String>,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// One recorded status change of a project.
pub type ProjectTransition = crate::transitions::Transition;

const COLUMNS: &str = "p.id, p.tenant_id, p.host_id, h.name AS host_name, p.title, p.challenge, \
     p.help_wanted, p.kind, p.hours_per_month, p.months, p.remote_ratio, p.compensation, \
     p.amount_min, p.amount_max, p.location, p.status, p.visibility, p.created_by, \
     p.created_at, p.updated_at";

const FROM: &str = "projects p JOIN hosts h ON h.tenant_id = p.tenant_id AND h.id = p.host_id";

/// Open, public, and of a host that is approved: what the public may read.
pub(crate) const SHOWN: &str =
    "p.status = 'open' AND p.visibility = 'public' AND h.status = 'approved'";

fn amount(a: Option<u64>) -> Option<i64> {
    a.and_then(|a| i64::try_from(a).ok())
}

async fn write_skills(
    tx: &mut StoreTx,
    tenant: TenantId,
    project: ProjectId,
    fields: &ProjectFields,
) -> Result<()> {
    with_tx!(tx, conn => {
        sqlx::query("DELETE FROM project_skills WHERE tenant_id = $1 AND project_id = $2")
            .bind(tenant)
            .bind(project)
            .execute(&mut **conn)
            .await?;
        for skill in &fields.skills {
            sqlx::query("INSERT INTO project_skills (tenant_id, project_id, skill) VALUES ($1, $2, $3)")
                .bind(tenant)
                .bind(project)
                .bind(skill.code())
                .execute(&mut **conn)
                .await?;
        }        sqlx::query("UPDATE projects SET skill_mask = $1 WHERE tenant_id = $2 AND id = $3")
            .bind(yui_domain::talent::skill_mask(&fields.skills))
            .bind(tenant)
            .bind(project)
            .execute(&mut **conn)
            .await?;
    });
    Ok(())
}

impl TenantTx {
    /// Creates a project of this tenant's host `host` as a draft.
    #[instrument(skip_all, fields(tenant = %self.tenant, host = %host), err(level = "warn"))]
    pub async fn create_project(
        &mut self,
        host: HostId,
        fields: &ProjectFields,
        created_by: Option<AccountId>,
        now: DateTime<Utc>,
    ) -> Result<ProjectId> {
        let (id,): (ProjectId,) = with_tx!(&mut self.tx, conn => {
            sqlx::query_as(
                "INSERT INTO projects (tenant_id, host_id, title, challenge, help_wanted, kind,
                     hours_per_month, months, remote_ratio, compensation, amount_min, amount_max,
                     location, status, visibility, created_by, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'draft', $14, $15, $16, $16)
                 RETURNING id",
            )
            .bind(self.tenant)
            .bind(host)
            .bind(&fields.title)
            .bind(&fields.challenge)
            .bind(&fields.help_wanted)
            .bind(fields.kind.code())
            .bind(fields.hours_per_month.map(i32::from))
            .bind(fields.months.map(i32::from))
            .bind(i32::from(fields.remote_ratio))
            .bind(fields.compensation.code())
            .bind(amount(fields.amount_min))
            .bind(amount(fields.amount_max))
            .bind(&fields.location)
            .bind(fields.visibility.code())
            .bind(created_by)
            .bind(now)
            .fetch_one(&mut **conn)
            .await?
        });
        write_skills(&mut self.tx, self.tenant, id, fields).await?;
        crate::search::index_projects(&mut self.tx, self.tenant, Some(id), None).await?;
        Ok(id)
    }

    /// Changes a project's fields and skills; `false` when this tenant has no such
    /// project.
    #[instrument(skip_all, fields(tenant = %self.tenant, project = %id), err(level = "warn"))]
    pub async fn update_project(
        &mut self,
        id: ProjectId,
        fields: &ProjectFields,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let done = with_tx!(&mut self.tx, conn => {
            sqlx::query(
                "UPDATE projects SET title = $1, challenge = $2, help_wanted = $3, kind = $4,
                     hours_per_month = $5, months = $6, remote_ratio = $7, compensation = $8,
                     amount_min = $9, amount_max = $10, location = $11, visibility = $12,
                     updated_at = $13
                 WHERE tenant_id = $14 AND id = $15",
            )
            .bind(&fields.title)
            .bind(&fields.challenge)
            .bind(&fields.help_wanted)
            .bind(fields.kind.code())
            .bind(fields.hours_per_month.map(i32::from))
            .bind(fields.months.map(i32::from))
            .bind(i32::from(fields.remote_ratio))
            .bind(fields.compensation.code())
            .bind(amount(fields.amount_min))
            .bind(amount(fields.amount_max))
            .bind(&fields.location)
            .bind(fields.visibility.code())
            .bind(now)
            .bind(self.tenant)
            .bind(id)
            .execute(&mut **conn)
            .await?
            .rows_affected()
        });
        if done == 0 {
            return Ok(false);
        }
        write_skills(&mut self.tx, self.tenant, id, fields).await?;
        crate::search::index_projects(&mut self.tx, self.tenant, Some(id), None).await?;
        Ok(true)
    }

    /// Moves a project from `from` to `to` and records who did it and when; `false`
    /// when there is no such project or it is no longer in `from` (a concurrent
    /// change won). The caller checked that the move is allowed.
    #[instrument(skip_all, fields(tenant = %self.tenant, project = %id), err(level = "warn"))]
    pub async fn transition_project(
        &mut self,
        id: ProjectId,
        from: ProjectStatus,
        to: ProjectStatus,
        actor: AccountId,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        crate::transitions::record_move(
            &mut self.tx,
            crate::transitions::PROJECTS,
            self.tenant,
            id.get(),
            from.code(),
            to.code(),
            actor,
            now,
        )
        .await
    }

    /// One project of this tenant, with its skills.
    #[instrument(skip_all, fields(tenant = %self.tenant, project = %id), err(level = "debug"))]
    pub async fn project(&mut self, id: ProjectId) -> Result<Option<Project>> {
        let project: Option<Project> = with_tx!(&mut self.tx, conn => {
            sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM {FROM} WHERE p.tenant_id = $1 AND p.id = $2"
            ))
            .bind(self.tenant)
            .bind(id)
            .fetch_optional(&mut **conn)
            .await?
        });
        let Some(mut project) = project else {
            return Ok(None);
        };
        project.skills = with_tx!(&mut self.tx, conn => {
            sqlx::query_scalar(
                "SELECT skill FROM project_skills WHERE tenant_id = $1 AND project_id = $2 ORDER BY skill",
            )
            .bind(self.tenant)
            .bind(id)
            .fetch_all(&mut **conn)
            .await?
        });
        Ok(Some(project))
    }

    /// Every project of this tenant (staff), newest first; skills not loaded.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "debug"))]
    pub async fn projects(&mut self) -> Result<Vec<Project>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM {FROM} WHERE p.tenant_id = $1 ORDER BY p.id DESC"
            ))
            .bind(self.tenant)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// Every (project, skill code) pair of this tenant, for exports that list each
    /// project's skills without a query per project.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "debug"))]
    pub async fn project_skill_codes(&mut self) -> Result<Vec<(ProjectId, String)>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(
                "SELECT project_id, skill FROM project_skills WHERE tenant_id = $1 ORDER BY project_id, skill",
            )
            .bind(self.tenant)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// The projects of one host of this tenant (its members' list), newest first.
    #[instrument(skip_all, fields(tenant = %self.tenant, host = %host), err(level = "debug"))]
    pub async fn projects_of_host(&mut self, host: HostId) -> Result<Vec<Project>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM {FROM} WHERE p.tenant_id = $1 AND p.host_id = $2 ORDER BY p.id DESC"
            ))
            .bind(self.tenant)
            .bind(host)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// The open public projects of this tenant whose host is approved, newest first:
    /// at most `limit`, older than `before` when given (keyset pages on the
    /// `projects_open_public` index).
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "debug"))]
    pub async fn open_public_projects(
        &mut self,
        before: Option<ProjectId>,
        limit: i64,
    ) -> Result<Vec<Project>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM {FROM}
                 WHERE p.tenant_id = $1 AND {SHOWN} AND ($2 IS NULL OR p.id < $2)
                 ORDER BY p.id DESC LIMIT $3"
            ))
            .bind(self.tenant)
            .bind(before)
            .bind(limit)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// Adds a comment to a project's co-design thread.
    #[instrument(skip_all, fields(tenant = %self.tenant, project = %project), err(level = "warn"))]
    pub async fn add_project_comment(
        &mut self,
        project: ProjectId,
        author: AccountId,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        with_tx!(&mut self.tx, conn => {
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO project_comments (tenant_id, project_id, author_id, body, created_at)
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(self.tenant)
            .bind(project)
            .bind(author)
            .bind(body)
            .bind(now)
            .fetch_one(&mut **conn)
            .await?;
            Ok(id)
        })
    }

    /// A project's co-design thread, oldest first.
    #[instrument(skip_all, fields(tenant = %self.tenant, project = %project), err(level = "debug"))]
    pub async fn project_comments(&mut self, project: ProjectId) -> Result<Vec<ProjectComment>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(
                "SELECT c.id, c.author_id, a.display_name AS author_name, c.body, c.created_at
                 FROM project_comments c LEFT JOIN accounts a ON a.id = c.author_id
                 WHERE c.tenant_id = $1 AND c.project_id = $2 ORDER BY c.id",
            )
            .bind(self.tenant)
            .bind(project)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// A project's recorded status changes, oldest first.
    #[instrument(skip_all, fields(tenant = %self.tenant, project = %project), err(level = "debug"))]
    pub async fn project_transitions(
        &mut self,
        project: ProjectId,
    ) -> Result<Vec<ProjectTransition>> {
        crate::transitions::moves(
            &mut self.tx,
            crate::transitions::PROJECTS,
            self.tenant,
            project.get(),
        )
        .await
    }
}
