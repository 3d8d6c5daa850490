//! Text search: the bigram indexes (see `yui_domain::search`), the coordinator's query
//! over the tenant's members and the shared pool, the cross-region search of open
//! projects, and the candidates of recommendations.
//!
//! The index is the one place where the backends really differ: SQLite answers a word
//! with an FTS5 phrase of its bigrams, PostgreSQL with GIN array containment and a
//! substring recheck on the folded text. Everything else (who may be found, the
//! filters, the order) is one SQL text for both.

use tracing::instrument;
use yui_domain::project::search_text as project_search_text;
use yui_domain::search::{QueryWord, fold, fts5_match, index_token_set, index_tokens};
use yui_domain::talent::{ProjectKind, Skill};
use yui_domain::{AccountId, HostId, ProjectId, TenantId};
use yui_match::recommend::{ProjectSide, Style, TalentSide};

use crate::projects::SHOWN;
use crate::scope::{AccountTx, PlatformReason, PlatformTx, TenantTx};
use crate::{Result, Store, StoreTx, with_tx};

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
    /// Whom to look among.
    pub reach: Reach,
    /// Only talents with a larger account id (the next page).
    pub after: Option<AccountId>,
    pub limit: u32,
}

/// Whom a talent search looks among.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Reach {
    /// The tenant's live members.
    #[default]
    Members,
    /// The tenant's live members and everyone in the shared pool.
    MembersAndPool,
    /// Those in the shared pool who are not live members: whom the tenant may scout.
    PoolOutsiders,
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

/// What the cross-region project search looks for (talents and the public). Every
/// given criterion must hold (AND); only open public projects of approved hosts in
/// active regions are ever found.
#[derive(Debug, Clone, Default)]
pub struct ProjectQuery {
    /// Words of free text (`yui_domain::search::query_words`).
    pub words: Vec<QueryWord>,
    /// A skill code the project must want.
    pub skill: Option<String>,
    /// A project kind code (`business`, `fan_community`).
    pub kind: Option<String>,
    /// JIS prefecture number of the host's municipality.
    pub prefecture: Option<u8>,
    /// Only projects with a smaller id (the next page: newest first).
    pub before: Option<ProjectId>,
    pub limit: u32,
}

/// One project found across regions.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ProjectHit {
    pub id: ProjectId,
    pub tenant_slug: String,
    pub tenant_name_ja: String,
    pub tenant_name_en: String,
    pub host_name: String,
    pub title: String,
    /// A `ProjectKind` code.
    pub kind: String,
    pub location: String,
    pub hours_per_month: Option<i64>,
    pub remote_ratio: i64,
}

/// A search index: its table and, on PostgreSQL, the key column (on SQLite the rowid).
#[derive(Debug, Clone, Copy)]
enum Index {
    Talents,
    Projects,
}

impl Index {
    fn table(self) -> &'static str {
        match self {
            Index::Talents => "talent_search",
            Index::Projects => "project_search",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Index::Talents => "account_id",
            Index::Projects => "project_id",
        }
    }
}

/// A bound value of a query assembled at run time.
enum Arg {
    Text(String),
    Int(i64),
    Texts(Vec<String>),
}

/// The values of a query assembled at run time, numbered as they are added.
#[derive(Default)]
struct Args(Vec<Arg>);

impl Args {
    /// Adds a value and gives its placeholder.
    fn add(&mut self, arg: Arg) -> String {
        self.0.push(arg);
        format!("${}", self.0.len())
    }
}

/// Binds assembled values to a query, in order. Arrays belong to PostgreSQL's index;
/// SQLite's clauses have none, so there they are bound as text.
macro_rules! bind_all {
    ($query:expr, $args:expr, sqlite) => {
        bind_all!(@each $query, $args, |v: Vec<String>| v.join(" "))
    };
    ($query:expr, $args:expr, postgres) => {
        bind_all!(@each $query, $args, |v: Vec<String>| v)
    };
    (@each $query:expr, $args:expr, $texts:expr) => {{
        let mut q = $query;
        for arg in $args.0 {
            q = match arg {
                Arg::Text(t) => q.bind(t),
                Arg::Int(i) => q.bind(i),
                Arg::Texts(v) => q.bind($texts(v)),
            };
        }
        q
    }};
}

/// How a query's words narrow an index's rows.
enum WordFilter {
    /// SQLite: the index table joins in front with this `MATCH` condition; it yields
    /// rowids in order, so `LIMIT` stops after the first page instead of collecting
    /// every match of a common word.
    Fts5(String),
    /// PostgreSQL: keys of the index rows in this subquery (GIN containment of the
    /// bigrams, then the folded text confirms they stand in a row).
    Keys(String),
}

fn word_filter(tx: &StoreTx, index: Index, words: &[QueryWord], args: &mut Args) -> WordFilter {
    let table = index.table();
    match tx {
        StoreTx::Sqlite(_) => {
            let p = args.add(Arg::Text(fts5_match(words).unwrap_or_default()));
            WordFilter::Fts5(format!("{table} MATCH {p}"))
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
                let p = args.add(Arg::Text(text.clone()));
                rechecks.push(format!("strpos(s.folded, {p}) > 0"));
            }
            tokens.sort_unstable();
            tokens.dedup();
            let mut clause = format!("SELECT s.{} FROM {table} s WHERE ", index.key());
            if !tokens.is_empty() {
                let p = args.add(Arg::Texts(tokens));
                clause.push_str(&format!("s.tokens @> {p} AND "));
            }
            clause.push_str(&rechecks.join(" AND "));
            WordFilter::Keys(clause)
        }
    }
}

/// Runs a query assembled at run time with its values.
async fn fetch_all<T>(tx: &mut StoreTx, sql: &str, args: Args) -> Result<Vec<T>>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin,
{
    match tx {
        StoreTx::Sqlite(conn) => {
            let q = bind_all!(sqlx::query_as::<_, T>(sql), args, sqlite);
            Ok(q.fetch_all(&mut **conn).await?)
        }
        StoreTx::Postgres(conn) => {
            // Planned with its values every time: a cached generic plan cannot know
            // whether a word is rare (use the index) or common (walk by id).
            let q = bind_all!(
                sqlx::query_as::<_, T>(sql).persistent(false),
                args,
                postgres
            );
            Ok(q.fetch_all(&mut **conn).await?)
        }
    }
}

/// The plan of a query assembled at run time, one line per step. On PostgreSQL
/// sequential scans are switched off for this transaction first: on the small tables
/// of a test the planner would rightly read everything, and the question asked is
/// whether the index can answer the query at all.
async fn explain(tx: &mut StoreTx, sql: &str, args: Args) -> Result<String> {
    let lines: Vec<String> = match tx {
        StoreTx::Sqlite(conn) => {
            let sql = format!("EXPLAIN QUERY PLAN {sql}");
            let q = bind_all!(
                sqlx::query_as::<_, (i64, i64, i64, String)>(&sql),
                args,
                sqlite
            );
            let rows = q.fetch_all(&mut **conn).await?;
            rows.into_iter().map(|(_, _, _, detail)| detail).collect()
        }
        StoreTx::Postgres(conn) => {
            sqlx::query("SET LOCAL enable_seqscan = off")
                .execute(&mut **conn)
                .await?;
            let sql = format!("EXPLAIN {sql}");
            let q = bind_all!(
                sqlx::query_as::<_, (String,)>(&sql).persistent(false),
                args,
                postgres
            );
            let rows = q.fetch_all(&mut **conn).await?;
            rows.into_iter().map(|(line,)| line).collect()
        }
    };
    Ok(lines.join("\n"))
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
    put_row(tx, Index::Talents, account.get(), text).await
}

/// Writes one row of an index (replacing what was there).
async fn put_row(tx: &mut StoreTx, index: Index, key: i64, text: &str) -> Result<()> {
    remove_row(tx, index, key).await?;
    let table = index.table();
    match tx {
        StoreTx::Sqlite(conn) => {
            sqlx::query(&format!(
                "INSERT INTO {table} (rowid, tokens) VALUES ($1, $2)"
            ))
            .bind(key)
            .bind(index_tokens(text).join(" "))
            .execute(&mut **conn)
            .await?;
        }
        StoreTx::Postgres(conn) => {
            let key_column = index.key();
            sqlx::query(&format!(
                "INSERT INTO {table} ({key_column}, tokens, folded) VALUES ($1, $2, $3)"
            ))
            .bind(key)
            .bind(index_token_set(text))
            .bind(fold(text))
            .execute(&mut **conn)
            .await?;
        }
    }
    Ok(())
}

async fn remove_row(tx: &mut StoreTx, index: Index, key: i64) -> Result<()> {
    let table = index.table();
    let sql = match tx {
        StoreTx::Sqlite(_) => format!("DELETE FROM {table} WHERE rowid = $1"),
        StoreTx::Postgres(_) => format!("DELETE FROM {table} WHERE {} = $1", index.key()),
    };
    with_tx!(tx, conn => {
        sqlx::query(&sql).bind(key).execute(&mut **conn).await?;
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
    remove_row(tx, Index::Talents, account.get()).await?;
    if let StoreTx::Sqlite(conn) = tx {
        sqlx::query("INSERT INTO talent_search (talent_search) VALUES ('optimize')")
            .execute(&mut **conn)
            .await?;
    }
    Ok(())
}

/// Writes the search index rows of a tenant's projects: the one project `project`,
/// or every project of the host `host` (whose name is part of their text).
pub(crate) async fn index_projects(
    tx: &mut StoreTx,
    tenant: TenantId,
    project: Option<ProjectId>,
    host: Option<HostId>,
) -> Result<()> {
    type Row = (ProjectId, String, String, String, String, String);
    let rows: Vec<Row> = with_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT p.id, p.title, p.challenge, p.help_wanted, p.location, h.name
             FROM projects p JOIN hosts h ON h.tenant_id = p.tenant_id AND h.id = p.host_id
             WHERE p.tenant_id = $1 AND (p.id = $2 OR p.host_id = $3)",
        )
        .bind(tenant)
        .bind(project)
        .bind(host)
        .fetch_all(&mut **conn)
        .await?
    });
    for (id, title, challenge, help_wanted, location, host_name) in rows {
        let codes: Vec<(String,)> = with_tx!(tx, conn => {
            sqlx::query_as("SELECT skill FROM project_skills WHERE tenant_id = $1 AND project_id = $2")
                .bind(tenant)
                .bind(id)
                .fetch_all(&mut **conn)
                .await?
        });
        let skills: Vec<Skill> = codes.iter().filter_map(|(c,)| Skill::parse(c)).collect();
        let text = project_search_text(
            &title,
            &challenge,
            &help_wanted,
            &location,
            &host_name,
            &skills,
        );
        put_row(tx, Index::Projects, id.get(), &text).await?;
    }
    Ok(())
}

impl Store {
    /// Indexes the projects the project index lacks: those written before migration
    /// 0017 made it. One anti-join when nothing is missing.
    #[instrument(skip_all, err(level = "warn"))]
    pub(crate) async fn index_unindexed_projects(&self) -> Result<()> {
        let mut tx = self.platform(PlatformReason::SearchIndex).write().await?;
        let sql = match &tx.tx {
            StoreTx::Sqlite(_) => {
                "SELECT p.tenant_id, p.id FROM projects p
                 WHERE NOT EXISTS (SELECT 1 FROM project_search s WHERE s.rowid = p.id)"
            }
            StoreTx::Postgres(_) => {
                "SELECT p.tenant_id, p.id FROM projects p
                 WHERE NOT EXISTS (SELECT 1 FROM project_search s WHERE s.project_id = p.id)"
            }
        };
        let missing: Vec<(TenantId, ProjectId)> = with_tx!(&mut tx.tx, conn => {
            sqlx::query_as(sql).fetch_all(&mut **conn).await?
        });
        for (tenant, project) in missing {
            index_projects(&mut tx.tx, tenant, Some(project), None).await?;
        }
        tx.commit().await
    }
}

impl TenantTx {
    /// Talents this tenant's coordinators may find: its members whose consent is live,
    /// and everyone in the shared pool, filtered by `query`, by ascending account id.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn search_talents(&mut self, query: &TalentQuery) -> Result<Vec<TalentHit>> {
        let (sql, args) = self.talent_search_sql(query);
        fetch_all(&mut self.tx, &sql, args).await
    }

    /// How the database runs [`search_talents`](Self::search_talents) for `query`
    /// (a diagnostic: tests check that a word is looked up in the index).
    pub async fn explain_search_talents(&mut self, query: &TalentQuery) -> Result<String> {
        let (sql, args) = self.talent_search_sql(query);
        explain(&mut self.tx, &sql, args).await
    }

    fn talent_search_sql(&self, query: &TalentQuery) -> (String, Args) {
        let mut args = Args::default();
        args.add(Arg::Int(self.tenant.get()));
        let mut filters = Vec::new();
        let mut from = "talent_profiles p".to_owned();
        let mut order = "p.account_id";
        if !query.words.is_empty() {
            match word_filter(&self.tx, Index::Talents, &query.words, &mut args) {
                WordFilter::Fts5(condition) => {
                    from = "talent_search JOIN talent_profiles p ON p.account_id = talent_search.rowid".to_owned();
                    order = "talent_search.rowid";
                    filters.push(condition);
                }
                WordFilter::Keys(keys) => filters.push(format!("p.account_id IN ({keys})")),
            }
        }
        for skill in &query.skills {
            let p = args.add(Arg::Text(skill.clone()));
            filters.push(format!(
                "EXISTS (SELECT 1 FROM talent_skills k WHERE k.skill = {p} AND k.account_id = p.account_id)"
            ));
        }
        if let Some(kind) = &query.project_kind {
            let p = args.add(Arg::Text(kind.clone()));
            filters.push(format!(
                "EXISTS (SELECT 1 FROM talent_interests i WHERE i.kind = 'project_kind' AND i.code = {p} AND i.account_id = p.account_id)"
            ));
        }
        if let Some(r) = query.residence {
            let p = args.add(Arg::Int(i64::from(r)));
            filters.push(format!("p.residence = {p}"));
        }
        if let Some(h) = query.min_hours {
            let p = args.add(Arg::Int(i64::from(h)));
            filters.push(format!("p.hours_per_month >= {p}"));
        }
        if let Some(after) = query.after {
            let p = args.add(Arg::Int(after.get()));
            filters.push(format!("p.account_id > {p}"));
        }
        let limit = args.add(Arg::Int(i64::from(query.limit.clamp(1, 200))));
        let scope = match query.reach {
            Reach::Members => LIVE_MEMBER.to_owned(),
            Reach::MembersAndPool => format!("p.pool_opt_in_at IS NOT NULL OR {LIVE_MEMBER}"),
            Reach::PoolOutsiders => format!("p.pool_opt_in_at IS NOT NULL AND NOT {LIVE_MEMBER}"),
        };
        let mut sql = format!(
            "SELECT p.account_id, a.display_name, p.kana,
                    CAST(p.residence AS BIGINT) AS residence,
                    CAST(p.hours_per_month AS BIGINT) AS hours_per_month,
                    {LIVE_MEMBER} AS member
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
        (sql, args)
    }
}

/// Whether the talent `p.account_id` is a live member of the tenant `$1`.
///
/// A correlated scalar subquery (at most one row: the key is tenant and account)
/// rather than a join or EXISTS: SQLite would build a Bloom filter over all of the
/// tenant's memberships for a join, and PostgreSQL hashes an EXISTS in the select list
/// by reading them all — costs that grow with the tenant.
const LIVE_MEMBER: &str = "(SELECT 1 FROM memberships m
     WHERE m.tenant_id = $1 AND m.account_id = p.account_id AND m.left_at IS NULL) IS NOT NULL";

impl PlatformTx {
    /// Open public projects across every active region, newest first, narrowed by
    /// `query`: what talents and the public search.
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn search_open_projects(&mut self, query: &ProjectQuery) -> Result<Vec<ProjectHit>> {
        let (sql, args) = self.project_search_sql(query);
        if let StoreTx::Postgres(conn) = &mut self.tx
            && !query.words.is_empty()
        {
            // PostgreSQL prices a GIN lookup above reading a table of ten thousand
            // rows, but testing every row's array for the bigrams takes 20–40 ms there,
            // the index 1–8 ms (ops/bench/search.sh, project_word). This transaction
            // runs this one query.
            sqlx::query("SET LOCAL enable_seqscan = off")
                .execute(&mut **conn)
                .await?;
        }
        fetch_all(&mut self.tx, &sql, args).await
    }

    /// How the database runs [`search_open_projects`](Self::search_open_projects)
    /// for `query` (a diagnostic: tests check that a word is looked up in the index).
    pub async fn explain_search_open_projects(&mut self, query: &ProjectQuery) -> Result<String> {
        let (sql, args) = self.project_search_sql(query);
        explain(&mut self.tx, &sql, args).await
    }

    fn project_search_sql(&self, query: &ProjectQuery) -> (String, Args) {
        let mut args = Args::default();
        let mut filters = vec![format!("{SHOWN} AND t.status = 'active'")];
        let mut from = "projects p".to_owned();
        let mut order = "p.id DESC";
        if !query.words.is_empty() {
            match word_filter(&self.tx, Index::Projects, &query.words, &mut args) {
                WordFilter::Fts5(condition) => {
                    from =
                        "project_search JOIN projects p ON p.id = project_search.rowid".to_owned();
                    order = "project_search.rowid DESC";
                    filters.push(condition);
                }
                // `OFFSET 0` plans the word's lookup on its own, so it is always the
                // GIN index's: projects number in the thousands, so collecting every
                // match of even a common word is cheap, while walking the newest
                // projects for a rare one would read them all.
                WordFilter::Keys(keys) => filters.push(format!("p.id IN ({keys} OFFSET 0)")),
            }
        }
        if let Some(skill) = &query.skill {
            let p = args.add(Arg::Text(skill.clone()));
            filters.push(format!(
                "EXISTS (SELECT 1 FROM project_skills k WHERE k.tenant_id = p.tenant_id AND k.project_id = p.id AND k.skill = {p})"
            ));
        }
        if let Some(kind) = &query.kind {
            let p = args.add(Arg::Text(kind.clone()));
            filters.push(format!("p.kind = {p}"));
        }
        if let Some(prefecture) = query.prefecture {
            let p = args.add(Arg::Text(format!("{prefecture:02}")));
            filters.push(format!("substr(h.municipality_code, 1, 2) = {p}"));
        }
        if let Some(before) = query.before {
            let p = args.add(Arg::Int(before.get()));
            filters.push(format!("p.id < {p}"));
        }
        let limit = args.add(Arg::Int(i64::from(query.limit.clamp(1, 200))));
        let sql = format!(
            "SELECT p.id, t.slug AS tenant_slug, t.name_ja AS tenant_name_ja,
                    t.name_en AS tenant_name_en, h.name AS host_name, p.title, p.kind,
                    p.location, CAST(p.hours_per_month AS BIGINT) AS hours_per_month,
                    CAST(p.remote_ratio AS BIGINT) AS remote_ratio
             FROM {from}
             JOIN hosts h ON h.tenant_id = p.tenant_id AND h.id = p.host_id
             JOIN tenants t ON t.id = p.tenant_id
             WHERE {}
             ORDER BY {order} LIMIT {limit}",
            filters.join("\n AND ")
        );
        (sql, args)
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

impl TalentFacets {
    /// The talent as `yui_match::recommend` scores them.
    pub fn side(&self) -> TalentSide {
        TalentSide {
            id: self.account_id.get(),
            // The masks are bit sets stored in signed columns.
            skills: self.skill_mask.cast_unsigned(),
            kinds: u8::try_from(self.kind_mask).unwrap_or(0),
            hours_per_month: self.hours_per_month.and_then(|h| u16::try_from(h).ok()),
            style: match self.work_style.as_str() {
                "remote" => Style::Remote,
                "onsite" => Style::Onsite,
                _ => Style::Either,
            },
            ties: self.tie_mask.cast_unsigned(),
        }
    }
}

impl ProjectFacets {
    /// The project as `yui_match::recommend` scores it.
    pub fn side(&self) -> ProjectSide {
        ProjectSide {
            id: self.id,
            skills: self.skill_mask.cast_unsigned(),
            kind: ProjectKind::ALL
                .iter()
                .position(|k| k.code() == self.kind)
                .map_or(0, |i| 1 << i),
            hours_per_month: self.hours_per_month.and_then(|h| u16::try_from(h).ok()),
            remote_percent: u8::try_from(self.remote_ratio).unwrap_or(0),
            prefecture: self
                .municipality_code
                .get(..2)
                .and_then(|c| c.parse().ok())
                .unwrap_or(0),
        }
    }
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
            let member = LIVE_MEMBER;
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
                       AND p.visibility = 'public' AND h.status = 'approved' AND t.status = 'active' AND t.setting_up_since IS NULL
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
