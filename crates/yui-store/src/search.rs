//! Talent search: the bigram index (see `yui_domain::search`) and the coordinator's
//! query over the tenant's members and the shared pool.
//!
//! The index is the one place where the backends really differ: SQLite answers a word
//! with an FTS5 phrase of its bigrams, PostgreSQL with GIN array containment and a
//! substring recheck on the folded text. Everything else (who may be found, the
//! filters, the order) is one SQL text for both.

use tracing::instrument;
use yui_domain::AccountId;
use yui_domain::search::{QueryWord, fold, fts5_match, index_token_set, index_tokens};

use crate::scope::{AccountTx, TenantTx};
use crate::{Result, StoreTx, with_tx};

/// What a coordinator looks for. Every given criterion must hold (AND).
#[derive(Debug, Clone, Default)]
pub struct TalentQuery {
    /// Words of free text (`yui_domain::search::query_words`).
    pub words: Vec<QueryWord>,
    /// Skill codes the talent must all have.
    pub skills: Vec<String>,
    /// JIS prefecture number of residence.
    pub residence: Option<u8>,
    /// At least this many hours a month available.
    pub min_hours: Option<u16>,
    /// A project kind (`business`, `fan_community`) the talent is interested in.
    pub project_kind: Option<String>,
    /// Also the shared pool (else the tenant's live members only).
    pub include_pool: bool,
    /// Only talents with a larger account id (the next page).
    pub after: Option<AccountId>,
    pub limit: u32,
}

/// One talent found.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TalentHit {
    pub account_id: AccountId,
    pub display_name: String,
    pub kana: String,
    pub residence: Option<i64>,
    pub hours_per_month: Option<i64>,
    /// A member of the searching tenant with live consent (else found in the pool).
    pub member: bool,
}

/// A bound value of a query assembled at run time.
enum Arg {
    Text(String),
    Int(i64),
    Texts(Vec<String>),
}

impl AccountTx {
    /// Puts the account's profile text into the search index (replacing what was there).
    #[instrument(skip_all, fields(account = %self.account), err(level = "warn"))]
    pub async fn index_for_search(&mut self, text: &str) -> Result<()> {
        put_index(&mut self.tx, self.account, text).await
    }

    /// Takes the account out of the search index (erasure).
    #[instrument(skip_all, fields(account = %self.account), err(level = "warn"))]
    pub async fn drop_from_search(&mut self) -> Result<()> {
        drop_index(&mut self.tx, self.account).await
    }
}

pub(crate) async fn put_index(tx: &mut StoreTx, account: AccountId, text: &str) -> Result<()> {
    remove_row(tx, account).await?;
    match tx {
        StoreTx::Sqlite(conn) => {
            sqlx::query("INSERT INTO talent_search (rowid, tokens) VALUES ($1, $2)")
                .bind(account)
                .bind(index_tokens(text).join(" "))
                .execute(&mut **conn)
                .await?;
        }
        StoreTx::Postgres(conn) => {
            sqlx::query(
                "INSERT INTO talent_search (account_id, tokens, folded) VALUES ($1, $2, $3)",
            )
            .bind(account)
            .bind(index_token_set(text))
            .bind(fold(text))
            .execute(&mut **conn)
            .await?;
        }
    }
    Ok(())
}

async fn remove_row(tx: &mut StoreTx, account: AccountId) -> Result<()> {
    let sql = match tx {
        StoreTx::Sqlite(_) => "DELETE FROM talent_search WHERE rowid = $1",
        StoreTx::Postgres(_) => "DELETE FROM talent_search WHERE account_id = $1",
    };
    with_tx!(tx, conn => {
        sqlx::query(sql).bind(account).execute(&mut **conn).await?;
    });
    Ok(())
}

/// Takes an erased person out of the index, leaving no trace of their text.
///
/// FTS5 deletes by appending a delete marker: the old tokens stay in their segment
/// until segments are merged. So erasure merges the whole index (`optimize`) at once,
/// a cost that grows with the index — fine at the scale of the embedded SQLite
/// default (one prefecture), and erasure is rare. On PostgreSQL the row and its GIN
/// entries go like any deleted row (VACUUM reclaims the space; see the README).
pub(crate) async fn drop_index(tx: &mut StoreTx, account: AccountId) -> Result<()> {
    remove_row(tx, account).await?;
    if let StoreTx::Sqlite(conn) = tx {
        sqlx::query("INSERT INTO talent_search (talent_search) VALUES ('optimize')")
            .execute(&mut **conn)
            .await?;
    }
    Ok(())
}

impl TenantTx {
    /// Talents this tenant's coordinators may find: its members whose consent is live,
    /// and everyone in the shared pool, filtered by `query`, by ascending account id.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn search_talents(&mut self, query: &TalentQuery) -> Result<Vec<TalentHit>> {
        let mut args = vec![Arg::Int(self.tenant.get())];
        let next = |args: &mut Vec<Arg>, arg: Arg| {
            args.push(arg);
            format!("${}", args.len())
        };
        let mut filters = Vec::new();
        // On SQLite the FTS5 table drives the query when there are words: it yields
        // matches in rowid (= account id) order, so LIMIT stops after the first page
        // instead of collecting every match of a common word.
        let mut from = "talent_profiles p";
        let mut order = "p.account_id";
        if !query.words.is_empty() {
            filters.push(match &self.tx {
                StoreTx::Sqlite(_) => {
                    let expr = fts5_match(&query.words).unwrap_or_default();
                    let p = next(&mut args, Arg::Text(expr));
                    from = "talent_search JOIN talent_profiles p ON p.account_id = talent_search.rowid";
                    order = "talent_search.rowid";
                    format!("talent_search MATCH {p}")
                }
                StoreTx::Postgres(_) => {
                    let mut tokens = Vec::new();
                    let mut rechecks = Vec::new();
                    for word in &query.words {
                        match word {
                            QueryWord::Phrase { text, bigrams } => {
                                tokens.extend(bigrams.iter().cloned());
                                let p = next(&mut args, Arg::Text(text.clone()));
                                rechecks.push(format!("strpos(s.folded, {p}) > 0"));
                            }
                            QueryWord::Prefix(c) => {
                                let p = next(&mut args, Arg::Text(c.clone()));
                                rechecks.push(format!("strpos(s.folded, {p}) > 0"));
                            }
                        }
                    }
                    tokens.sort_unstable();
                    tokens.dedup();
                    let mut clause = String::from("p.account_id IN (SELECT s.account_id FROM talent_search s WHERE ");
                    if !tokens.is_empty() {
                        let p = next(&mut args, Arg::Texts(tokens));
                        clause.push_str(&format!("s.tokens @> {p} AND "));
                    }
                    clause.push_str(&rechecks.join(" AND "));
                    clause.push(')');
                    clause
                }
            });
        }
        for skill in &query.skills {
            let p = next(&mut args, Arg::Text(skill.clone()));
            filters.push(format!(
                "EXISTS (SELECT 1 FROM talent_skills k WHERE k.skill = {p} AND k.account_id = p.account_id)"
            ));
        }
        if let Some(kind) = &query.project_kind {
            let p = next(&mut args, Arg::Text(kind.clone()));
            filters.push(format!(
                "EXISTS (SELECT 1 FROM talent_interests i WHERE i.kind = 'project_kind' AND i.code = {p} AND i.account_id = p.account_id)"
            ));
        }
        if let Some(r) = query.residence {
            let p = next(&mut args, Arg::Int(i64::from(r)));
            filters.push(format!("p.residence = {p}"));
        }
        if let Some(h) = query.min_hours {
            let p = next(&mut args, Arg::Int(i64::from(h)));
            filters.push(format!("p.hours_per_month >= {p}"));
        }
        if let Some(after) = query.after {
            let p = next(&mut args, Arg::Int(after.get()));
            filters.push(format!("p.account_id > {p}"));
        }
        let limit = next(&mut args, Arg::Int(i64::from(query.limit.clamp(1, 200))));
        // A correlated scalar subquery (at most one row: the key is tenant and account)
        // rather than a join or EXISTS: SQLite would build a Bloom filter over all of
        // the tenant's memberships for a join, and PostgreSQL hashes an EXISTS in the
        // select list by reading them all — costs that grow with the tenant.
        let member = "(SELECT 1 FROM memberships m
                       WHERE m.tenant_id = $1 AND m.account_id = p.account_id AND m.left_at IS NULL) IS NOT NULL";
        let scope = if query.include_pool {
            format!("p.pool_opt_in_at IS NOT NULL OR {member}")
        } else {
            member.to_owned()
        };
        let mut sql = format!(
            "SELECT p.account_id, a.display_name, p.kana,
                    CAST(p.residence AS BIGINT) AS residence,
                    CAST(p.hours_per_month AS BIGINT) AS hours_per_month,
                    {member} AS member
             FROM {from}
             JOIN accounts a ON a.id = p.account_id
             WHERE a.deleted_at IS NULL
               AND ({scope})",
        );
        for f in &filters {
            sql.push_str("\n AND ");
            sql.push_str(f);
        }
        sql.push_str(&format!("\n ORDER BY {order} LIMIT {limit}"));
        match &mut self.tx {
            StoreTx::Sqlite(conn) => {
                let mut q = sqlx::query_as::<_, TalentHit>(&sql);
                for arg in args {
                    q = match arg {
                        Arg::Text(t) => q.bind(t),
                        Arg::Int(i) => q.bind(i),
                        // Arrays are the PostgreSQL index's; SQLite's clause has none.
                        Arg::Texts(v) => q.bind(v.join(" ")),
                    };
                }
                Ok(q.fetch_all(&mut **conn).await?)
            }
            StoreTx::Postgres(conn) => {
                // Planned with its values every time: a cached generic plan cannot know
                // whether a word is rare (use the index) or common (walk by id).
                let mut q = sqlx::query_as::<_, TalentHit>(&sql).persistent(false);
                for arg in args {
                    q = match arg {
                        Arg::Text(t) => q.bind(t),
                        Arg::Int(i) => q.bind(i),
                        Arg::Texts(v) => q.bind(v),
                    };
                }
                Ok(q.fetch_all(&mut **conn).await?)
            }
        }
    }
}

/// The most candidates read per skill (and per tie kind) for a recommendation: the
/// newest profiles or projects that have it. The score then ranks a bounded set, so a
/// recommendation costs the same with a thousand talents or a million.
pub const CANDIDATES_PER_SKILL: i64 = 300;

/// A talent as the recommendation score reads it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TalentFacets {
    pub account_id: AccountId,
    pub display_name: String,
    pub skill_mask: i64,
    pub kind_mask: i64,
    pub tie_mask: i64,
    pub hours_per_month: Option<i64>,
    pub work_style: String,
    pub member: bool,
}

/// A project as the recommendation score reads it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ProjectFacets {
    pub id: i64,
    pub tenant_id: i64,
    /// The region's slug, for links.
    pub tenant_slug: String,
    pub title: String,
    pub host_name: String,
    pub kind: String,
    pub skill_mask: i64,
    pub hours_per_month: Option<i64>,
    pub remote_ratio: i64,
    /// The host's local-government code; its first two digits are the prefecture.
    pub municipality_code: String,
}

const PROJECT_FACETS: &str =
    "SELECT p.id, p.tenant_id, t.slug AS tenant_slug, p.title, h.name AS host_name, p.kind, p.skill_mask,
        CAST(p.hours_per_month AS BIGINT) AS hours_per_month,
        CAST(p.remote_ratio AS BIGINT) AS remote_ratio, h.municipality_code
     FROM projects p JOIN hosts h ON h.tenant_id = p.tenant_id AND h.id = p.host_id
     JOIN tenants t ON t.id = p.tenant_id";

impl TenantTx {
    /// Candidates for a project of this tenant: for each skill it wants, the newest
    /// [`CANDIDATES_PER_SKILL`] talents the tenant may see (live members and the
    /// shared pool) who have it. Another tenant's project id gives nothing.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn recommendation_candidates(
        &mut self,
        project: i64,
    ) -> Result<Option<(ProjectFacets, Vec<TalentFacets>)>> {
        let tenant = self.tenant;
        with_tx!(&mut self.tx, conn => {
            let facets: Option<ProjectFacets> = sqlx::query_as(&format!(
                "{PROJECT_FACETS} WHERE p.tenant_id = $1 AND p.id = $2"
            ))
            .bind(tenant)
            .bind(project)
            .fetch_optional(&mut **conn)
            .await?;
            let Some(facets) = facets else { return Ok(None) };
            let skills: Vec<(String,)> = sqlx::query_as(
                "SELECT skill FROM project_skills WHERE tenant_id = $1 AND project_id = $2",
            )
            .bind(tenant)
            .bind(project)
            .fetch_all(&mut **conn)
            .await?;
            let member = "(SELECT 1 FROM memberships m
                           WHERE m.tenant_id = $1 AND m.account_id = p.account_id AND m.left_at IS NULL) IS NOT NULL";
            let mut talents: Vec<TalentFacets> = Vec::new();
            for (skill,) in skills {
                let rows: Vec<TalentFacets> = sqlx::query_as(&format!(
                    "SELECT p.account_id, a.display_name, p.skill_mask, p.kind_mask, p.tie_mask,
                            CAST(p.hours_per_month AS BIGINT) AS hours_per_month, p.work_style,
                            {member} AS member
                     FROM talent_skills k
                     JOIN talent_profiles p ON p.account_id = k.account_id
                     JOIN accounts a ON a.id = p.account_id
                     WHERE k.skill = $2 AND a.deleted_at IS NULL
                       AND (p.pool_opt_in_at IS NOT NULL OR {member})
                     ORDER BY k.account_id DESC LIMIT $3"
                ))
                .bind(tenant)
                .bind(&skill)
                .bind(CANDIDATES_PER_SKILL)
                .fetch_all(&mut **conn)
                .await?;
                talents.extend(rows);
            }
            talents.sort_unstable_by_key(|t| t.account_id);
            talents.dedup_by_key(|t| t.account_id);
            Ok(Some((facets, talents)))
        })
    }
}

impl AccountTx {
    /// The talent's own profile as the recommendation score reads it.
    #[instrument(skip_all, fields(account = %self.account), err(level = "warn"))]
    pub async fn talent_facets(&mut self) -> Result<Option<TalentFacets>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(
                "SELECT p.account_id, a.display_name, p.skill_mask, p.kind_mask, p.tie_mask,
                        CAST(p.hours_per_month AS BIGINT) AS hours_per_month, p.work_style,
                        FALSE AS member
                 FROM talent_profiles p JOIN accounts a ON a.id = p.account_id
                 WHERE p.account_id = $1",
            )
            .bind(self.account)
            .fetch_optional(&mut **conn)
            .await?)
        })
    }

    /// Candidates for this talent: for each of their skills, the newest
    /// [`CANDIDATES_PER_SKILL`] open projects that want it, in any region when public
    /// and in the regions they are a member of when for members only.
    #[instrument(skip_all, fields(account = %self.account), err(level = "warn"))]
    pub async fn recommendation_candidates(&mut self) -> Result<Vec<ProjectFacets>> {
        let account = self.account;
        with_tx!(&mut self.tx, conn => {
            let skills: Vec<(String,)> =
                sqlx::query_as("SELECT skill FROM talent_skills WHERE account_id = $1")
                    .bind(account)
                    .fetch_all(&mut **conn)
                    .await?;
            let mut projects: Vec<ProjectFacets> = Vec::new();
            for (skill,) in skills {
                let rows: Vec<ProjectFacets> = sqlx::query_as(&format!(
                    "{PROJECT_FACETS}
                     JOIN (SELECT s.tenant_id, s.project_id FROM project_skills s
                           JOIN projects q ON q.tenant_id = s.tenant_id AND q.id = s.project_id
                           JOIN hosts qh ON qh.tenant_id = q.tenant_id AND qh.id = q.host_id
                           JOIN tenants qt ON qt.id = q.tenant_id
                           WHERE s.skill = $1 AND q.status = 'open' AND qh.status = 'approved'
                             AND qt.status = 'active'
                             AND (q.visibility = 'public'
                                  OR (SELECT 1 FROM memberships m WHERE m.tenant_id = q.tenant_id
                                        AND m.account_id = $2 AND m.left_at IS NULL) IS NOT NULL)
                           ORDER BY s.project_id DESC LIMIT $3) c
                       ON c.tenant_id = p.tenant_id AND c.project_id = p.id"
                ))
                .bind(&skill)
                .bind(account)
                .bind(CANDIDATES_PER_SKILL)
                .fetch_all(&mut **conn)
                .await?;
                projects.extend(rows);
            }
            // And the newest open public projects of the prefectures they have ties to
            // (a tie alone is a reason to suggest a project).
            let ties: Vec<(i64,)> = sqlx::query_as(
                "SELECT DISTINCT CAST(prefecture AS BIGINT) FROM talent_ties WHERE account_id = $1",
            )
            .bind(account)
            .fetch_all(&mut **conn)
            .await?;
            for (prefecture,) in ties {
                let rows: Vec<ProjectFacets> = sqlx::query_as(&format!(
                    "{PROJECT_FACETS}
                     WHERE substr(h.municipality_code, 1, 2) = $1 AND p.status = 'open'
                       AND p.visibility = 'public' AND h.status = 'approved' AND t.status = 'active'
                     ORDER BY p.id DESC LIMIT $2"
                ))
                .bind(format!("{prefecture:02}"))
                .bind(CANDIDATES_PER_SKILL)
                .fetch_all(&mut **conn)
                .await?;
                projects.extend(rows);
            }
            projects.sort_unstable_by_key(|p| p.id);
            projects.dedup_by_key(|p| p.id);
            Ok(projects)
        })
    }
}
