//! Scouts (スカウト): a tenant's coordinator invites a talent of the shared pool to
//! one of its open projects. The tenant sees its scouts (the talent's name only while
//! the talent is still in the pool or a member); the talent sees theirs across
//! regions through their own [`AccountTx`] and answers them.

use chrono::{DateTime, Utc};
use tracing::instrument;
use yui_domain::scout::{ScoutStatus, expires_at, scout_day};
use yui_domain::search::{QueryWord, fts5_match};
use yui_domain::{AccountId, ProjectId, ScoutId, TenantId};

use crate::scope::{AccountTx, TenantTx};
use crate::search::TalentHit;
use crate::{Result, StoreError, StoreTx, with_tx};

/// A bound value of the pool query, assembled at run time.
enum PoolArg {
    Text(String),
    Int(i64),
    Texts(Vec<String>),
}

/// A scout as its tenant's staff see it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Scout {
    pub id: ScoutId,
    pub tenant_id: TenantId,
    pub project_id: ProjectId,
    pub project_title: String,
    pub talent_id: AccountId,
    /// `None` once the talent left the pool without joining: the tenant then sees
    /// the scout's status only.
    pub talent_name: Option<String>,
    pub coordinator_id: Option<AccountId>,
    /// Like the name, only while the talent can be seen.
    pub message: Option<String>,
    /// A [`ScoutStatus`] code as stored.
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
}

impl Scout {
    /// The status as of `now` (an open scout past its time reads as expired).
    pub fn status(&self, now: DateTime<Utc>) -> ScoutStatus {
        ScoutStatus::parse(&self.status)
            .unwrap_or(ScoutStatus::Expired)
            .as_of(self.expires_at, now)
    }
}

/// A scout as the scouted talent sees it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MyScout {
    pub id: ScoutId,
    pub tenant_id: TenantId,
    pub tenant_slug: String,
    pub project_id: ProjectId,
    pub project_title: String,
    pub message: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
}

impl MyScout {
    pub fn status(&self, now: DateTime<Utc>) -> ScoutStatus {
        ScoutStatus::parse(&self.status)
            .unwrap_or(ScoutStatus::Expired)
            .as_of(self.expires_at, now)
    }
}

/// What became of a scout a coordinator tried to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScoutOutcome {
    /// Sent: the scout, and the talent's address, name and language for the mail.
    Sent {
        id: ScoutId,
        email: String,
        display_name: String,
        locale: String,
        project_title: String,
    },
    /// The project is not an open project of this tenant.
    ProjectNotOpen,
    /// The person is not in the shared pool, or is already a member of this tenant.
    NotInPool,
    /// An open scout for this talent and project exists.
    AlreadyOpen,
    /// The coordinator sent today's allowance of scouts.
    LimitReached,
}

const TENANT_COLUMNS: &str =
    "s.id, s.tenant_id, s.project_id, p.title AS project_title, s.talent_id,
        CASE WHEN tp.pool_opt_in_at IS NOT NULL OR (m.account_id IS NOT NULL AND m.left_at IS NULL)
             THEN a.display_name END AS talent_name,
        s.coordinator_id,
        CASE WHEN tp.pool_opt_in_at IS NOT NULL OR (m.account_id IS NOT NULL AND m.left_at IS NULL)
             THEN s.message END AS message,
        s.status, s.created_at, s.expires_at, s.answered_at
     FROM scouts s
     JOIN projects p ON p.tenant_id = s.tenant_id AND p.id = s.project_id
     JOIN accounts a ON a.id = s.talent_id
     LEFT JOIN talent_profiles tp ON tp.account_id = s.talent_id
     LEFT JOIN memberships m ON m.tenant_id = s.tenant_id AND m.account_id = s.talent_id";

const MY_COLUMNS: &str =
    "s.id, s.tenant_id, t.slug AS tenant_slug, s.project_id, p.title AS project_title,
        s.message, s.status, s.created_at, s.expires_at, s.answered_at
     FROM scouts s
     JOIN tenants t ON t.id = s.tenant_id
     JOIN projects p ON p.tenant_id = s.tenant_id AND p.id = s.project_id";

impl TenantTx {
    /// Sends a scout from `coordinator` to `talent` for `project`, counting it against
    /// the coordinator's `daily_limit` for the day (Asia/Tokyo) in the same
    /// transaction. The counter is one upsert that refuses to pass the limit, so
    /// parallel sends cannot exceed it: SQLite runs writing transactions one at a
    /// time, and PostgreSQL makes the second upsert of the same row wait for the first.
    #[instrument(skip_all, fields(tenant = %self.tenant, project = %project), err(level = "warn"))]
    pub async fn send_scout(
        &mut self,
        project: ProjectId,
        talent: AccountId,
        coordinator: AccountId,
        message: &str,
        daily_limit: u32,
        now: DateTime<Utc>,
    ) -> Result<ScoutOutcome> {
        let tenant = self.tenant;
        let title: Option<(String,)> = with_tx!(&mut self.tx, conn => {
            sqlx::query_as("SELECT title FROM projects WHERE tenant_id = $1 AND id = $2 AND status = 'open'")
                .bind(tenant)
                .bind(project)
                .fetch_optional(&mut **conn)
                .await?
        });
        let Some((project_title,)) = title else {
            return Ok(ScoutOutcome::ProjectNotOpen);
        };
        let person: Option<(String, String, String)> = with_tx!(&mut self.tx, conn => {
            sqlx::query_as(
                "SELECT a.email, a.display_name, a.locale FROM talent_profiles p JOIN accounts a ON a.id = p.account_id
                 WHERE p.account_id = $1 AND p.pool_opt_in_at IS NOT NULL AND a.deleted_at IS NULL
                   AND NOT EXISTS (SELECT 1 FROM memberships m
                                   WHERE m.tenant_id = $2 AND m.account_id = p.account_id AND m.left_at IS NULL)",
            )
            .bind(talent)
            .bind(tenant)
            .fetch_optional(&mut **conn)
            .await?
        });
        let Some((email, display_name, locale)) = person else {
            return Ok(ScoutOutcome::NotInPool);
        };
        let open: Option<(ScoutId,)> = with_tx!(&mut self.tx, conn => {
            sqlx::query_as(
                "SELECT id FROM scouts WHERE tenant_id = $1 AND project_id = $2 AND talent_id = $3 AND status = 'open'",
            )
            .bind(tenant)
            .bind(project)
            .bind(talent)
            .fetch_optional(&mut **conn)
            .await?
        });
        if open.is_some() {
            return Ok(ScoutOutcome::AlreadyOpen);
        }
        let day = scout_day(now);
        let counted: Option<(i32,)> = with_tx!(&mut self.tx, conn => {
            sqlx::query_as(
                "INSERT INTO scout_days (tenant_id, coordinator_id, day, sent) VALUES ($1, $2, $3, 1)
                 ON CONFLICT (tenant_id, coordinator_id, day) DO UPDATE SET sent = scout_days.sent + 1
                 WHERE scout_days.sent < $4
                 RETURNING sent",
            )
            .bind(tenant)
            .bind(coordinator)
            .bind(day)
            .bind(i64::from(daily_limit))
            .fetch_optional(&mut **conn)
            .await?
        });
        // A limit of 0 forbids even the first scout of the day.
        if counted.is_none_or(|(n,)| i64::from(n) > i64::from(daily_limit)) {
            return Ok(ScoutOutcome::LimitReached);
        }
        let inserted: std::result::Result<(ScoutId,), sqlx::Error> = with_tx!(&mut self.tx, conn => {
            sqlx::query_as(
                "INSERT INTO scouts (tenant_id, project_id, talent_id, coordinator_id, message, status, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5, 'open', $6, $7) RETURNING id",
            )
            .bind(tenant)
            .bind(project)
            .bind(talent)
            .bind(coordinator)
            .bind(message)
            .bind(now)
            .bind(expires_at(now))
            .fetch_one(&mut **conn)
            .await
        });
        match inserted {
            Ok((id,)) => Ok(ScoutOutcome::Sent {
                id,
                email,
                display_name,
                locale,
                project_title,
            }),
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                Err(StoreError::Conflict("scouts_open".to_owned()))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The name of a talent this tenant may scout: in the shared pool and not a live
    /// member. Anyone else is `None`.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "debug"))]
    pub async fn pool_talent(&mut self, talent: AccountId) -> Result<Option<String>> {
        with_tx!(&mut self.tx, conn => {
            let row: Option<(String,)> = sqlx::query_as(
                "SELECT a.display_name FROM talent_profiles p JOIN accounts a ON a.id = p.account_id
                 WHERE p.account_id = $1 AND p.pool_opt_in_at IS NOT NULL AND a.deleted_at IS NULL
                   AND NOT EXISTS (SELECT 1 FROM memberships m
                                   WHERE m.tenant_id = $2 AND m.account_id = p.account_id AND m.left_at IS NULL)",
            )
            .bind(talent)
            .bind(self.tenant)
            .fetch_optional(&mut **conn)
            .await?;
            Ok(row.map(|(n,)| n))
        })
    }

    /// Talents this tenant may scout — in the shared pool, not deleted, not a live
    /// member — whose profile text has every one of `words`, by ascending account id,
    /// at most `limit`. Members are left out in the query itself, before the limit,
    /// so a page of members can never hide the pool.
    ///
    /// The word match is the talent search's (see `search.rs`): an FTS5 phrase of
    /// bigrams on SQLite, GIN array containment and a substring recheck on PostgreSQL.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn search_pool(&mut self, words: &[QueryWord], limit: u32) -> Result<Vec<TalentHit>> {
        let mut args: Vec<PoolArg> = vec![PoolArg::Int(self.tenant.get())];
        let next = |args: &mut Vec<PoolArg>, arg: PoolArg| {
            args.push(arg);
            format!("${}", args.len())
        };
        let mut from = "talent_profiles p";
        let mut order = "p.account_id";
        let mut filter = String::new();
        if !words.is_empty() {
            match &self.tx {
                StoreTx::Sqlite(_) => {
                    let p = next(
                        &mut args,
                        PoolArg::Text(fts5_match(words).unwrap_or_default()),
                    );
                    from = "talent_search JOIN talent_profiles p ON p.account_id = talent_search.rowid";
                    order = "talent_search.rowid";
                    filter = format!(" AND talent_search MATCH {p}");
                }
                StoreTx::Postgres(_) => {
                    let mut tokens = Vec::new();
                    let mut rechecks = Vec::new();
                    for word in words {
                        let text = match word {
                            QueryWord::Phrase { text, bigrams } => {
                                tokens.extend(bigrams.iter().cloned());
                                text
                            }
                            QueryWord::Prefix(c) => c,
                        };
                        let p = next(&mut args, PoolArg::Text(text.clone()));
                        rechecks.push(format!("strpos(s.folded, {p}) > 0"));
                    }
                    tokens.sort_unstable();
                    tokens.dedup();
                    filter = String::from(
                        " AND p.account_id IN (SELECT s.account_id FROM talent_search s WHERE ",
                    );
                    if !tokens.is_empty() {
                        let p = next(&mut args, PoolArg::Texts(tokens));
                        filter.push_str(&format!("s.tokens @> {p} AND "));
                    }
                    filter.push_str(&rechecks.join(" AND "));
                    filter.push(')');
                }
            }
        }
        let limit = next(&mut args, PoolArg::Int(i64::from(limit.clamp(1, 200))));
        let sql = format!(
            "SELECT p.account_id, a.display_name, p.kana,
                    CAST(p.residence AS BIGINT) AS residence,
                    CAST(p.hours_per_month AS BIGINT) AS hours_per_month,
                    FALSE AS member
             FROM {from}
             JOIN accounts a ON a.id = p.account_id
             WHERE a.deleted_at IS NULL
               AND p.pool_opt_in_at IS NOT NULL
               AND (SELECT 1 FROM memberships m
                    WHERE m.tenant_id = $1 AND m.account_id = p.account_id AND m.left_at IS NULL) IS NULL{filter}
             ORDER BY {order} LIMIT {limit}"
        );
        match &mut self.tx {
            StoreTx::Sqlite(conn) => {
                let mut q = sqlx::query_as::<_, TalentHit>(&sql);
                for arg in args {
                    q = match arg {
                        PoolArg::Text(t) => q.bind(t),
                        PoolArg::Int(i) => q.bind(i),
                        PoolArg::Texts(v) => q.bind(v.join(" ")),
                    };
                }
                Ok(q.fetch_all(&mut **conn).await?)
            }
            StoreTx::Postgres(conn) => {
                let mut q = sqlx::query_as::<_, TalentHit>(&sql).persistent(false);
                for arg in args {
                    q = match arg {
                        PoolArg::Text(t) => q.bind(t),
                        PoolArg::Int(i) => q.bind(i),
                        PoolArg::Texts(v) => q.bind(v),
                    };
                }
                Ok(q.fetch_all(&mut **conn).await?)
            }
        }
    }

    /// How many scouts `coordinator` sent on the day of `now` (Asia/Tokyo).
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "debug"))]
    pub async fn scouts_sent_today(
        &mut self,
        coordinator: AccountId,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        with_tx!(&mut self.tx, conn => {
            let row: Option<(i32,)> = sqlx::query_as(
                "SELECT sent FROM scout_days WHERE tenant_id = $1 AND coordinator_id = $2 AND day = $3",
            )
            .bind(self.tenant)
            .bind(coordinator)
            .bind(scout_day(now))
            .fetch_optional(&mut **conn)
            .await?;
            Ok(row.map_or(0, |(n,)| i64::from(n)))
        })
    }

    /// The tenant's scouts, newest first.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "debug"))]
    pub async fn scouts(&mut self) -> Result<Vec<Scout>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!(
                "SELECT {TENANT_COLUMNS} WHERE s.tenant_id = $1 ORDER BY s.id DESC LIMIT 200"
            ))
            .bind(self.tenant)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// One scout of this tenant.
    #[instrument(skip_all, fields(tenant = %self.tenant, scout = %id), err(level = "debug"))]
    pub async fn scout(&mut self, id: ScoutId) -> Result<Option<Scout>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!(
                "SELECT {TENANT_COLUMNS} WHERE s.tenant_id = $1 AND s.id = $2"
            ))
            .bind(self.tenant)
            .bind(id)
            .fetch_optional(&mut **conn)
            .await?)
        })
    }
}

impl AccountTx {
    /// The person's scouts across regions, newest first.
    #[instrument(skip_all, fields(account = %self.account), err(level = "debug"))]
    pub async fn my_scouts(&mut self) -> Result<Vec<MyScout>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!(
                "SELECT {MY_COLUMNS} WHERE s.talent_id = $1 ORDER BY s.id DESC"
            ))
            .bind(self.account)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// One of the person's scouts; another person's is `None`.
    #[instrument(skip_all, fields(account = %self.account, scout = %id), err(level = "debug"))]
    pub async fn my_scout(&mut self, id: ScoutId) -> Result<Option<MyScout>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!(
                "SELECT {MY_COLUMNS} WHERE s.talent_id = $1 AND s.id = $2"
            ))
            .bind(self.account)
            .bind(id)
            .fetch_optional(&mut **conn)
            .await?)
        })
    }

    /// Answers one of the person's open scouts (accepted or declined). `false` when
    /// it is not theirs, no longer open, or expired.
    #[instrument(skip_all, fields(account = %self.account, scout = %id), err(level = "warn"))]
    pub async fn answer_scout(
        &mut self,
        id: ScoutId,
        to: ScoutStatus,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        if !ScoutStatus::Open.can_become(to) {
            return Ok(false);
        }
        with_tx!(&mut self.tx, conn => {
            let done = sqlx::query(
                "UPDATE scouts SET status = $1, answered_at = $2
                 WHERE talent_id = $3 AND id = $4 AND status = 'open' AND expires_at > $2",
            )
            .bind(to.code())
            .bind(now)
            .bind(self.account)
            .bind(id)
            .execute(&mut **conn)
            .await?
            .rows_affected();
            Ok(done == 1)
        })
    }
}
