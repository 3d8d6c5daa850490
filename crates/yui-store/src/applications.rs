//! Interest marks (「気になる」), applications with their status history and message
//! thread, and the pending notifications the hourly digest sends.
//!
//! Who may see an applicant is decided here, in SQL, from the membership every query
//! joins on ([`Audience`]): host members only while the talent's consent covers the
//! tenant's host organizations (`hosts_since`), staff while the membership is live.
//! Pages, CSV and any API call the same queries, so the rule holds everywhere.

use chrono::{DateTime, Utc};
use tracing::instrument;
use yui_domain::application::{ApplicationStatus, Proposal};
use yui_domain::{AccountId, ApplicationId, HostId, ProjectId, TenantId};

use crate::scope::{AccountTx, PlatformTx, TenantTx};
use crate::{Result, with_tx};

/// Whose eyes a listing of applicants is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The tenant's staff: applicants whose membership is live.
    Staff,
    /// The project's host members: applicants whose consent covers host organizations.
    Hosts,
}

impl Audience {
    /// The condition on the membership `m` of the applicant.
    fn condition(self) -> &'static str {
        match self {
            Audience::Staff => "m.left_at IS NULL",
            Audience::Hosts => "m.left_at IS NULL AND m.hosts_since IS NOT NULL",
        }
    }
}

/// An application as stored, with its project, host and applicant.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Application {
    pub id: ApplicationId,
    pub tenant_id: TenantId,
    pub project_id: ProjectId,
    pub project_title: String,
    pub host_id: HostId,
    pub host_name: String,
    pub account_id: AccountId,
    pub display_name: String,
    pub proposal: String,
    pub approach: String,
    pub frequency: String,
    /// A `WorkFormat` code.
    pub format: String,
    /// An [`ApplicationStatus`] code.
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Application {
    /// The status; an unknown code reads as withdrawn, which offers no move.
    pub fn status(&self) -> ApplicationStatus {
        ApplicationStatus::parse(&self.status).unwrap_or(ApplicationStatus::Withdrawn)
    }
}

/// One of a talent's own applications, across regions.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MyApplication {
    pub id: ApplicationId,
    pub tenant_slug: String,
    pub project_id: ProjectId,
    pub project_title: String,
    pub host_name: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
}

/// One message of an application's thread.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ApplicationMessage {
    pub id: i64,
    pub author_id: Option<AccountId>,
    pub author_name: Option<String>,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// One recorded status change of an application.
pub type ApplicationTransition = crate::transitions::Transition;

/// A person who marked a project as interesting.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct InterestMark {
    pub project_id: ProjectId,
    pub project_title: String,
    pub account_id: AccountId,
    pub display_name: String,
    pub created_at: DateTime<Utc>,
}

/// One person's digest: how many new messages on which applications, claimed and
/// marked sent by the transaction that returned it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    pub account_id: AccountId,
    pub email: String,
    pub display_name: String,
    /// `ja` or `en`.
    pub locale: String,
    /// (tenant slug, application id, new messages) in order.
    pub threads: Vec<(String, ApplicationId, i64)>,
}

const COLUMNS: &str = "ap.id, ap.tenant_id, ap.project_id, p.title AS project_title, p.host_id, \
     h.name AS host_name, ap.account_id, a.display_name, ap.proposal, ap.approach, \
     ap.frequency, ap.format, ap.status, ap.created_at, ap.updated_at";

const FROM: &str = "applications ap
     JOIN projects p ON p.tenant_id = ap.tenant_id AND p.id = ap.project_id
     JOIN hosts h ON h.tenant_id = p.tenant_id AND h.id = p.host_id
     JOIN accounts a ON a.id = ap.account_id
     JOIN memberships m ON m.tenant_id = ap.tenant_id AND m.account_id = ap.account_id";

impl TenantTx {
    /// Marks project `project` as interesting for `account`, or takes the mark back
    /// when there is one; returns whether the person is now interested.
    #[instrument(skip_all, fields(tenant = %self.tenant, project = %project), err(level = "warn"))]
    pub async fn toggle_interest(
        &mut self,
        project: ProjectId,
        account: AccountId,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        with_tx!(&mut self.tx, conn => {
            let gone = sqlx::query(
                "DELETE FROM project_interests WHERE tenant_id = $1 AND project_id = $2 AND account_id = $3",
            )
            .bind(self.tenant)
            .bind(project)
            .bind(account)
            .execute(&mut **conn)
            .await?
            .rows_affected();
            if gone > 0 {
                return Ok(false);
            }
            sqlx::query(
                "INSERT INTO project_interests (tenant_id, project_id, account_id, created_at)
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(self.tenant)
            .bind(project)
            .bind(account)
            .bind(now)
            .execute(&mut **conn)
            .await?;
            Ok(true)
        })
    }

    /// Whether `account` marked project `project` as interesting.
    #[instrument(skip_all, fields(tenant = %self.tenant, project = %project), err(level = "warn"))]
    pub async fn is_interested(&mut self, project: ProjectId, account: AccountId) -> Result<bool> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_scalar::<_, i64>(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM project_interests
                 WHERE tenant_id = $1 AND project_id = $2 AND account_id = $3",
            )
            .bind(self.tenant)
            .bind(project)
            .bind(account)
            .fetch_one(&mut **conn)
            .await? > 0)
        })
    }

    /// How many live members marked each project of this tenant (projects without a
    /// mark are absent). A count says nobody's name, so every live mark counts.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn interest_counts(&mut self) -> Result<Vec<(ProjectId, i64)>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(
                "SELECT i.project_id, CAST(COUNT(*) AS BIGINT) FROM project_interests i
                 JOIN memberships m ON m.tenant_id = i.tenant_id AND m.account_id = i.account_id
                 WHERE i.tenant_id = $1 AND m.left_at IS NULL
                 GROUP BY i.project_id ORDER BY i.project_id",
            )
            .bind(self.tenant)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// The people who marked projects as interesting whose consent covers
    /// `audience`, newest first, of one project or (with `None`) of every project.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn interest_marks(
        &mut self,
        audience: Audience,
        project: Option<ProjectId>,
        limit: i64,
    ) -> Result<Vec<InterestMark>> {
        let sql = format!(
            "SELECT i.project_id, p.title AS project_title, i.account_id, a.display_name, i.created_at
             FROM project_interests i
             JOIN projects p ON p.tenant_id = i.tenant_id AND p.id = i.project_id
             JOIN accounts a ON a.id = i.account_id
             JOIN memberships m ON m.tenant_id = i.tenant_id AND m.account_id = i.account_id
             WHERE i.tenant_id = $1 AND ($2 IS NULL OR i.project_id = $2) AND {}
             ORDER BY i.created_at DESC, i.account_id LIMIT $3",
            audience.condition()
        );
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&sql)
                .bind(self.tenant)
                .bind(project)
                .bind(limit)
                .fetch_all(&mut **conn)
                .await?)
        })
    }

    /// Files `account`'s application to `project`. A person has one live
    /// application per project: when there is one already (a double-submitted form),
    /// nothing is written and its id comes back with `false`.
    #[instrument(skip_all, fields(tenant = %self.tenant, project = %project), err(level = "warn"))]
    pub async fn create_application(
        &mut self,
        project: ProjectId,
        account: AccountId,
        proposal: &Proposal,
        now: DateTime<Utc>,
    ) -> Result<(ApplicationId, bool)> {
        with_tx!(&mut self.tx, conn => {
            let created: Option<ApplicationId> = sqlx::query_scalar(
                "INSERT INTO applications (tenant_id, project_id, account_id, proposal, approach,
                     frequency, format, status, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'submitted', $8, $8)
                 ON CONFLICT (tenant_id, project_id, account_id)
                     WHERE status NOT IN ('declined', 'withdrawn') DO NOTHING
                 RETURNING id",
            )
            .bind(self.tenant)
            .bind(project)
            .bind(account)
            .bind(&proposal.proposal)
            .bind(&proposal.approach)
            .bind(&proposal.frequency)
            .bind(proposal.format.code())
            .bind(now)
            .fetch_optional(&mut **conn)
            .await?;
            if let Some(id) = created {
                return Ok((id, true));
            }
            let id: ApplicationId = sqlx::query_scalar(
                "SELECT id FROM applications WHERE tenant_id = $1 AND project_id = $2
                 AND account_id = $3 AND status NOT IN ('declined', 'withdrawn')",
            )
            .bind(self.tenant)
            .bind(project)
            .bind(account)
            .fetch_one(&mut **conn)
            .await?;
            Ok((id, false))
        })
    }

    /// One application of this tenant, whoever the applicant's consent covers; the
    /// caller decides who may read it (see [`TenantTx::application_for`]).
    #[instrument(skip_all, fields(tenant = %self.tenant, application = %id), err(level = "debug"))]
    pub async fn application(&mut self, id: ApplicationId) -> Result<Option<Application>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM {FROM} WHERE ap.tenant_id = $1 AND ap.id = $2"
            ))
            .bind(self.tenant)
            .bind(id)
            .fetch_optional(&mut **conn)
            .await?)
        })
    }

    /// One application, only while its applicant's consent covers `audience`.
    #[instrument(skip_all, fields(tenant = %self.tenant, application = %id), err(level = "debug"))]
    pub async fn application_for(
        &mut self,
        audience: Audience,
        id: ApplicationId,
    ) -> Result<Option<Application>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM {FROM} WHERE ap.tenant_id = $1 AND ap.id = $2 AND {}",
            audience.condition()
        );
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&sql)
                .bind(self.tenant)
                .bind(id)
                .fetch_optional(&mut **conn)
                .await?)
        })
    }

    /// The applications whose applicant's consent covers `audience`, newest first:
    /// of one host's projects or (with `None`) of the whole tenant.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn applications(
        &mut self,
        audience: Audience,
        host: Option<HostId>,
        limit: i64,
    ) -> Result<Vec<Application>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM {FROM}
             WHERE ap.tenant_id = $1 AND ($2 IS NULL OR p.host_id = $2) AND {}
             ORDER BY ap.id DESC LIMIT $3",
            audience.condition()
        );
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&sql)
                .bind(self.tenant)
                .bind(host)
                .bind(limit)
                .fetch_all(&mut **conn)
                .await?)
        })
    }

    /// Moves an application from `from` to `to` and records who and when; `false`
    /// when it is no longer in `from`. The caller checked that `actor` may.
    #[instrument(skip_all, fields(tenant = %self.tenant, application = %id), err(level = "warn"))]
    pub async fn transition_application(
        &mut self,
        id: ApplicationId,
        from: ApplicationStatus,
        to: ApplicationStatus,
        actor: AccountId,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        crate::transitions::record_move(
            &mut self.tx,
            crate::transitions::APPLICATIONS,
            self.tenant,
            id.get(),
            from.code(),
            to.code(),
            actor,
            now,
        )
        .await
    }

    /// An application's recorded status changes, oldest first.
    #[instrument(skip_all, fields(tenant = %self.tenant, application = %id), err(level = "debug"))]
    pub async fn application_transitions(
        &mut self,
        id: ApplicationId,
    ) -> Result<Vec<ApplicationTransition>> {
        crate::transitions::moves(
            &mut self.tx,
            crate::transitions::APPLICATIONS,
            self.tenant,
            id.get(),
        )
        .await
    }

    /// An application's thread, oldest first.
    #[instrument(skip_all, fields(tenant = %self.tenant, application = %id), err(level = "debug"))]
    pub async fn application_messages(
        &mut self,
        id: ApplicationId,
    ) -> Result<Vec<ApplicationMessage>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(
                "SELECT c.id, c.author_id, a.display_name AS author_name, c.body, c.created_at
                 FROM application_messages c LEFT JOIN accounts a ON a.id = c.author_id
                 WHERE c.tenant_id = $1 AND c.application_id = $2 ORDER BY c.id",
            )
            .bind(self.tenant)
            .bind(id)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// Adds a message to an application's thread and a pending notification for
    /// each of `notify`, due at `due` (the digest hour).
    #[instrument(skip_all, fields(tenant = %self.tenant, application = %id), err(level = "warn"))]
    pub async fn add_application_message(
        &mut self,
        id: ApplicationId,
        author: AccountId,
        body: &str,
        notify: &[AccountId],
        due: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        with_tx!(&mut self.tx, conn => {
            let message: i64 = sqlx::query_scalar(
                "INSERT INTO application_messages (tenant_id, application_id, author_id, body, created_at)
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(self.tenant)
            .bind(id)
            .bind(author)
            .bind(body)
            .bind(now)
            .fetch_one(&mut **conn)
            .await?;
            for account in notify {
                sqlx::query(
                    "INSERT INTO application_notifications
                         (tenant_id, application_id, message_id, account_id, due_at, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                )
                .bind(self.tenant)
                .bind(id)
                .bind(message)
                .bind(account)
                .bind(due)
                .bind(now)
                .execute(&mut **conn)
                .await?;
            }
            Ok(message)
        })
    }
}

impl AccountTx {
    /// The person's own applications in every region, newest first.
    #[instrument(skip_all, fields(account = %self.account), err(level = "warn"))]
    pub async fn my_applications(&mut self) -> Result<Vec<MyApplication>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(
                "SELECT ap.id, t.slug AS tenant_slug, ap.project_id, p.title AS project_title,
                        h.name AS host_name, ap.status, ap.created_at
                 FROM applications ap
                 JOIN tenants t ON t.id = ap.tenant_id
                 JOIN projects p ON p.tenant_id = ap.tenant_id AND p.id = ap.project_id
                 JOIN hosts h ON h.tenant_id = p.tenant_id AND h.id = p.host_id
                 WHERE ap.account_id = $1 ORDER BY ap.id DESC",
            )
            .bind(self.account)
            .fetch_all(&mut **conn)
            .await?)
        })
    }
}

impl PlatformTx {
    /// Takes every notification due at `now` (at most `limit`), marks them sent and
    /// returns them grouped per person. Run it in a writing transaction that also
    /// queues the digest mails, and commit once: a concurrent run on another node
    /// waits for the rows' locks (PostgreSQL) or the write lock (SQLite) and then
    /// finds them sent, so each notification goes out in exactly one digest.
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn take_due_digests(
        &mut self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<Digest>> {
        type Row = (
            AccountId,
            String,
            String,
            String,
            String,
            ApplicationId,
            i64,
        );
        let rows: Vec<Row> = with_tx!(&mut self.tx, conn => {
            let taken: Vec<(i64,)> = sqlx::query_as(
                "UPDATE application_notifications SET sent_at = $1
                 WHERE id IN (SELECT id FROM application_notifications
                              WHERE sent_at IS NULL AND due_at <= $1
                              ORDER BY due_at, id LIMIT $2)
                   AND sent_at IS NULL
                 RETURNING id",
            )
            .bind(now)
            .bind(limit)
            .fetch_all(&mut **conn)
            .await?;
            if taken.is_empty() {
                return Ok(Vec::new());
            }
            let ids: Vec<String> = taken.iter().map(|(id,)| id.to_string()).collect();
            // Ids are numbers from the database; no text of anyone's reaches the SQL.
            sqlx::query_as(&format!(
                "SELECT n.account_id, a.email, a.display_name, a.locale, t.slug,
                        n.application_id, CAST(COUNT(*) AS BIGINT)
                 FROM application_notifications n
                 JOIN accounts a ON a.id = n.account_id
                 JOIN tenants t ON t.id = n.tenant_id
                 WHERE n.id IN ({}) AND a.deleted_at IS NULL
                 GROUP BY n.account_id, a.email, a.display_name, a.locale, t.slug, n.application_id
                 ORDER BY n.account_id, t.slug, n.application_id",
                ids.join(", ")
            ))
            .fetch_all(&mut **conn)
            .await?
        });
        let mut digests: Vec<Digest> = Vec::new();
        for (account, email, name, locale, slug, application, n) in rows {
            match digests.last_mut() {
                Some(d) if d.account_id == account => d.threads.push((slug, application, n)),
                _ => digests.push(Digest {
                    account_id: account,
                    email,
                    display_name: name,
                    locale,
                    threads: vec![(slug, application, n)],
                }),
            }
        }
        Ok(digests)
    }
}
