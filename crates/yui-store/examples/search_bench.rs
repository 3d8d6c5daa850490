//! Talent search and recommendations at national scale, on one backend.
//!
//! ```text
//! search_bench --database-url sqlite:///tmp/b.db|postgres://… --talents N [--projects N]
//!              [--queries N] [--seed N]
//! ```
//! Fills a fresh database (generation is not timed) with N synthetic talents — every one
//! a member of tenant 1 or in the shared pool, with 1–4 skills, a Japanese summary built
//! from the seeds' themes, and the search index — and `--projects` open projects with
//! 1–3 desired skills across four tenants; then times, through the store's own API,
//! each kind of query `--queries` times with varied arguments and prints one line per
//! kind: `kind=… n=… p50_ms=… p99_ms=… max_ms=… rows_avg=…`.
//!
//! Kinds: `word` a two-character Japanese word (農業, 広報, 観光 …); `skill` one skill;
//! `word+skill` both; `recommend_projects` the top 10 projects for a talent;
//! `recommend_talents` the top 10 talents for a project; `project_word` the search of
//! open projects across regions by a two-character word.

use std::time::{Duration, Instant};

use chrono::Utc;
use yui_domain::search::{index_tokens, query_words};
use yui_domain::{AccountId, TenantId};
use yui_match::recommend::{score, top_k};
use yui_store::{ConnectSettings, PlatformReason, ProjectQuery, Reach, Store, TalentQuery};

const WORDS: [&str; 16] = [
    "農業", "広報", "観光", "事業", "販路", "承継", "デザ", "発信", "地域", "漁業", "焼酎", "移住",
    "写真", "教育", "採用", "商品",
];
const SKILLS: [&str; 20] = [
    "sns",
    "pr",
    "branding",
    "design",
    "photo_video",
    "web",
    "ec",
    "marketing",
    "sales",
    "product_development",
    "tourism",
    "events",
    "community",
    "it_dx",
    "finance",
    "succession",
    "hr",
    "translation",
    "agriculture",
    "education",
];
const FRAGMENTS: [&str; 24] = [
    "都内のメーカーで広報を担当しています",
    "農業法人の販路開拓を手伝った経験があります",
    "観光地のプロモーション動画を制作してきました",
    "事業承継の相談に税理士として関わっています",
    "地域の商品をECで販売する仕組みを作りました",
    "SNS運用とデザインで小さなお店を支援しています",
    "移住者のコミュニティづくりに興味があります",
    "漁業の六次産業化に関心があります",
    "黒糖焼酎のファンとして発信を続けています",
    "人事として採用広報を担当してきました",
    "教育の現場でICTの導入を進めてきました",
    "写真の撮影と編集が得意です",
    "地元の祭りやイベントを企画してきました",
    "財務と会計の知識で中小企業を支えています",
    "インバウンド向けの翻訳をしています",
    "Web制作会社でディレクターをしています",
    "商品開発のワークショップを開いてきました",
    "週末は実家の田んぼを手伝っています",
    "ブランディングの仕事を十年続けています",
    "IT導入でバックオフィスを効率化しました",
    "マーケティングの戦略づくりが専門です",
    "営業として地方の取引先を回ってきました",
    "ふるさとに恩返しがしたいと考えています",
    "オンラインで月に十時間ほど関われます",
];

struct Args {
    url: String,
    talents: u64,
    projects: u64,
    queries: usize,
    seed: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        url: String::new(),
        talents: 100_000,
        projects: 10_000,
        queries: 200,
        seed: 2026,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| format!("{flag}: not a number"))
        };
        match flag.as_str() {
            "--database-url" => args.url = value.clone(),
            "--talents" => args.talents = number()?,
            "--projects" => args.projects = number()?,
            "--queries" => args.queries = number()? as usize,
            "--seed" => args.seed = number()?,
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    if args.url.is_empty() {
        return Err("--database-url is required".into());
    }
    Ok(args)
}

/// A small deterministic generator (SplitMix64): the same seed gives the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One synthetic talent's rows.
struct Talent {
    id: i64,
    summary: String,
    skills: Vec<&'static str>,
    residence: i64,
    hours: i64,
    kind: &'static str,
    pool: bool,
    member: bool,
    tie: i64,
}

fn skill_mask(skills: &[&str]) -> i64 {
    skills
        .iter()
        .filter_map(|s| SKILLS.iter().position(|k| k == s))
        .fold(0, |m, i| m | 1 << i)
}

fn kind_bit(kind: &str) -> i64 {
    if kind == "business" { 1 } else { 2 }
}

fn talent(rng: &mut Rng, id: i64) -> Talent {
    let mut summary = String::new();
    for _ in 0..3 {
        summary.push_str(FRAGMENTS[rng.below(FRAGMENTS.len() as u64) as usize]);
        summary.push('。');
    }
    let mut skills = Vec::new();
    for _ in 0..=rng.below(4) {
        let s = SKILLS[rng.below(20) as usize];
        if !skills.contains(&s) {
            skills.push(s);
        }
    }
    let member = rng.below(2) == 0;
    Talent {
        id,
        summary,
        skills,
        // Most live in and around Tokyo, as the programs' talents do.
        residence: [13, 13, 13, 14, 11, 12, 27, 23, 3, 1][rng.below(10) as usize],
        hours: [5, 10, 10, 20, 30, 40][rng.below(6) as usize],
        kind: ["business", "fan_community"][rng.below(2) as usize],
        pool: !member || rng.below(2) == 0,
        member,
        tie: 1 << (1 + rng.below(47)),
    }
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("search_bench: {e}");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    if let Err(e) = runtime.block_on(run(args)) {
        eprintln!("search_bench: {e}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let settings = ConnectSettings {
        max_connections: 4,
        connect_timeout: Duration::from_secs(10),
    };
    let store = Store::connect(&args.url, &settings).await?;
    store.migrate().await?;
    let started = Instant::now();
    fill(&store, &args).await?;
    eprintln!(
        "filled {} talents and {} projects in {:.1} s",
        args.talents,
        args.projects,
        started.elapsed().as_secs_f64()
    );
    let tenant = TenantId::new(1);
    let mut rng = Rng(args.seed ^ 0x5eed);
    let kinds: [&str; 3] = ["word", "skill", "word+skill"];
    for kind in kinds {
        let mut times = Vec::with_capacity(args.queries);
        let mut rows = 0usize;
        for _ in 0..args.queries {
            let word = WORDS[rng.below(WORDS.len() as u64) as usize];
            let skill = SKILLS[rng.below(20) as usize];
            let query = TalentQuery {
                words: if kind == "skill" {
                    vec![]
                } else {
                    query_words(word)
                },
                skills: if kind == "word" {
                    vec![]
                } else {
                    vec![skill.to_owned()]
                },
                reach: Reach::MembersAndPool,
                limit: 20,
                ..TalentQuery::default()
            };
            let t = Instant::now();
            let mut tx = store.tenant(tenant).read().await?;
            let hits = tx.search_talents(&query).await?;
            tx.commit().await?;
            times.push(t.elapsed());
            rows += hits.len();
        }
        report(kind, &mut times, rows);
    }
    if args.projects > 0 {
        search_projects(&store, &args, &mut rng).await?;
        recommend(&store, &args, &mut rng).await?;
    }
    Ok(())
}

/// The cross-region search of open projects (`/projects`): a two-character word,
/// 31 a page as the page asks.
async fn search_projects(
    store: &Store,
    args: &Args,
    rng: &mut Rng,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut times = Vec::with_capacity(args.queries);
    let mut rows = 0usize;
    for _ in 0..args.queries {
        let word = WORDS[rng.below(WORDS.len() as u64) as usize];
        let query = ProjectQuery {
            words: query_words(word),
            limit: 31,
            ..ProjectQuery::default()
        };
        let t = Instant::now();
        let mut tx = store
            .platform(PlatformReason::PublicListings)
            .read()
            .await?;
        let hits = tx.search_open_projects(&query).await?;
        tx.commit().await?;
        times.push(t.elapsed());
        rows += hits.len();
    }
    report("project_word", &mut times, rows);
    Ok(())
}

/// Top 10 both ways, each as a page would do it: candidates from the store, the score
/// and the top 10 in the process.
async fn recommend(
    store: &Store,
    args: &Args,
    rng: &mut Rng,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut times = Vec::with_capacity(args.queries);
    let mut rows = 0;
    for _ in 0..args.queries {
        let account = AccountId::new(1 + rng.below(args.talents.max(1)) as i64);
        let t = Instant::now();
        let mut tx = store.account(account).read().await?;
        let me = tx.talent_facets().await?;
        let candidates = tx.recommendation_candidates().await?;
        tx.commit().await?;
        if let Some(me) = me {
            let me = me.side();
            let best = top_k(candidates.iter(), 10, |p| p.id, |p| score(&me, &p.side()));
            rows += best.len();
        }
        times.push(t.elapsed());
    }
    report("recommend_projects", &mut times, rows);
    let mut times = Vec::with_capacity(args.queries);
    let mut rows = 0;
    for _ in 0..args.queries {
        // Tenant 1's projects are the first quarter of the hosts.
        let project = 1 + rng.below(args.projects) as i64;
        let t = Instant::now();
        let mut tx = store.tenant(TenantId::new(1)).read().await?;
        let found = tx.recommendation_candidates(project).await?;
        tx.commit().await?;
        if let Some((p, talents)) = found {
            let p = p.side();
            let best = top_k(
                talents.iter(),
                10,
                |t| t.account_id.get(),
                |t| score(&t.side(), &p),
            );
            rows += best.len();
            times.push(t.elapsed());
        }
    }
    report("recommend_talents", &mut times, rows);
    Ok(())
}

fn report(kind: &str, times: &mut [Duration], rows: usize) {
    times.sort_unstable();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let at = |q: f64| times[((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1];
    println!(
        "kind={kind} n={} p50_ms={:.2} p99_ms={:.2} max_ms={:.2} rows_avg={:.1}",
        times.len(),
        ms(at(0.50)),
        ms(at(0.99)),
        ms(times[times.len() - 1]),
        rows as f64 / times.len() as f64
    );
}

/// Bulk rows straight into the tables (the store has no bulk API; generation is not
/// what is measured). Batches of 2,000 rows per statement.
async fn fill(store: &Store, args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    // A benchmark is an edge: it reads the clock once for its rows' times.
    #[allow(clippy::disallowed_methods)]
    let now = Utc::now();
    let ts = now.to_rfc3339();
    let mut rng = Rng(args.seed);
    let setup: &[&str] = &[
        "INSERT INTO tenants (id, slug, kind, name_ja, name_en, name_kana, default_locale, spec, logo_svg, created_at, updated_at)
         VALUES (1, 'bench', 'prefecture', 'ベンチ県', 'Bench', 'ベンチケン', 'ja', '{}', '', $1, $1) ON CONFLICT DO NOTHING",
        "INSERT INTO tenant_consents (tenant_id, version, text_ja, text_en, created_at) VALUES (1, 1, '同意', 'Consent', $1) ON CONFLICT DO NOTHING",
    ];
    for sql in setup {
        exec(store, sql, &ts).await?;
    }
    let batch = 2_000u64;
    let mut id = 1u64;
    while id <= args.talents {
        let end = (id + batch).min(args.talents + 1);
        let talents: Vec<Talent> = (id..end).map(|i| talent(&mut rng, i as i64)).collect();
        insert_talents(store, &talents, &ts).await?;
        id = end;
    }
    fill_projects(store, args, &ts, &mut rng).await?;
    // Migrating again indexes the projects written above for search (what start-up
    // does for projects older than their index).
    store.migrate().await?;
    analyze(store).await?;
    Ok(())
}

/// Four tenants (1 is the benchmark's), 100 hosts each, and `--projects` open public
/// projects spread over them with 1–3 skills.
async fn fill_projects(
    store: &Store,
    args: &Args,
    ts: &str,
    rng: &mut Rng,
) -> Result<(), Box<dyn std::error::Error>> {
    let pg = matches!(store, Store::Postgres(_));
    let over = if pg { "OVERRIDING SYSTEM VALUE" } else { "" };
    let t = if pg { "::timestamptz" } else { "" };
    let mut statements = Vec::new();
    for tenant in 2..=4 {
        statements.push(format!(
            "INSERT INTO tenants (id, slug, kind, name_ja, name_en, name_kana, default_locale, spec, logo_svg, created_at, updated_at)
             {over} VALUES ({tenant}, 'bench{tenant}', 'municipality', '市{tenant}', 'City', 'シ', 'ja', '{{}}', '', '{ts}'{t}, '{ts}'{t}) ON CONFLICT DO NOTHING"
        ));
    }
    for host in 1..=400 {
        let tenant = 1 + (host - 1) / 100;
        statements.push(format!(
            "INSERT INTO hosts (id, tenant_id, name, kana, municipality_code, industry, summary, status, created_at, updated_at)
             {over} VALUES ({host}, {tenant}, '事業者{host}', 'ジギョウシャ', '032018', 'agriculture', '', 'approved', '{ts}'{t}, '{ts}'{t}) ON CONFLICT DO NOTHING"
        ));
    }
    let mut project = 1;
    while project <= args.projects {
        let end = (project + 500).min(args.projects + 1);
        for id in project..end {
            let host = 1 + rng.below(400);
            let tenant = 1 + (host - 1) / 100;
            let mut skills: Vec<&str> = Vec::new();
            for _ in 0..=rng.below(3) {
                let s = SKILLS[rng.below(20) as usize];
                if !skills.contains(&s) {
                    skills.push(s);
                }
            }
            let kind = ["business", "fan_community"][rng.below(2) as usize];
            statements.push(format!(
                "INSERT INTO projects (id, tenant_id, host_id, title, challenge, help_wanted, kind, hours_per_month, months, remote_ratio,
                     compensation, location, status, visibility, created_at, updated_at, skill_mask)
                 {over} VALUES ({id}, {tenant}, {host}, '{}の案件{id}', '', '', '{kind}', {}, 6, {}, 'pro_bono', '', 'open', 'public', '{ts}'{t}, '{ts}'{t}, {})",
                FRAGMENTS[rng.below(FRAGMENTS.len() as u64) as usize],
                [5, 10, 20][rng.below(3) as usize],
                [0, 50, 80, 100][rng.below(4) as usize],
                skill_mask(&skills)
            ));
            for s in skills {
                statements.push(format!(
                    "INSERT INTO project_skills (tenant_id, project_id, skill) VALUES ({tenant}, {id}, '{s}')"
                ));
            }
        }
        run_batch(store, &statements).await?;
        statements.clear();
        project = end;
    }
    run_batch(store, &statements).await?;
    Ok(())
}

async fn run_batch(store: &Store, statements: &[String]) -> Result<(), sqlx::Error> {
    match store {
        Store::Sqlite(pool) => {
            let mut tx = pool.begin().await?;
            for sql in statements {
                sqlx::query(sql).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        }
        Store::Postgres(pool) => {
            let mut tx = pool.begin().await?;
            sqlx::query("SELECT set_config('app.tenant_id', '*', true)")
                .execute(&mut *tx)
                .await?;
            for sql in statements {
                sqlx::query(sql).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        }
    }
    Ok(())
}

async fn exec(store: &Store, sql: &str, ts: &str) -> Result<(), sqlx::Error> {
    match store {
        Store::Sqlite(pool) => {
            sqlx::query(sql).bind(ts).execute(pool).await?;
        }
        Store::Postgres(pool) => {
            // Ids are given, not generated, so the rows can refer to each other.
            let sql = sql.replace("$1", "$1::timestamptz").replace(
                "VALUES (1, 'bench'",
                "OVERRIDING SYSTEM VALUE VALUES (1, 'bench'",
            );
            sqlx::query(&sql).bind(ts).execute(pool).await?;
        }
    }
    Ok(())
}

async fn analyze(store: &Store) -> Result<(), sqlx::Error> {
    match store {
        Store::Sqlite(pool) => {
            sqlx::query("ANALYZE").execute(pool).await?;
        }
        Store::Postgres(pool) => {
            sqlx::query("ANALYZE").execute(pool).await?;
        }
    }
    Ok(())
}

async fn insert_talents(store: &Store, talents: &[Talent], ts: &str) -> Result<(), sqlx::Error> {
    match store {
        Store::Sqlite(pool) => {
            let mut tx = pool.begin().await?;
            for t in talents {
                sqlx::query("INSERT INTO accounts (id, email, email_lower, display_name, email_verified_at, created_at, updated_at) VALUES ($1, $2, $2, $3, $4, $4, $4)")
                    .bind(t.id).bind(format!("t{}@bench.example", t.id)).bind(format!("人材{}", t.id)).bind(ts)
                    .execute(&mut *tx).await?;
                sqlx::query("INSERT INTO talent_profiles (account_id, kana, residence, summary, hours_per_month, work_style, compensation, pool_opt_in_at, created_at, updated_at, skill_mask, kind_mask, tie_mask) VALUES ($1, 'ジンザイ', $2, $3, $4, 'either', 'honorarium', $5, $6, $6, $7, $8, $9)")
                    .bind(t.id).bind(t.residence).bind(&t.summary).bind(t.hours)
                    .bind(t.pool.then_some(ts)).bind(ts)
                    .bind(skill_mask(&t.skills)).bind(kind_bit(t.kind)).bind(t.tie)
                    .execute(&mut *tx).await?;
                for s in &t.skills {
                    sqlx::query("INSERT INTO talent_skills (skill, account_id) VALUES ($1, $2)")
                        .bind(s)
                        .bind(t.id)
                        .execute(&mut *tx)
                        .await?;
                }
                sqlx::query("INSERT INTO talent_interests (kind, code, account_id) VALUES ('project_kind', $1, $2)")
                    .bind(t.kind).bind(t.id).execute(&mut *tx).await?;
                if t.member {
                    sqlx::query("INSERT INTO memberships (tenant_id, account_id, consent_version, consented_at, joined_at) VALUES (1, $1, 1, $2, $2)")
                        .bind(t.id).bind(ts).execute(&mut *tx).await?;
                }
                sqlx::query("INSERT INTO talent_search (rowid, tokens) VALUES ($1, $2)")
                    .bind(t.id)
                    .bind(index_tokens(&t.summary).join(" "))
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        }
        Store::Postgres(pool) => {
            let ids: Vec<i64> = talents.iter().map(|t| t.id).collect();
            let emails: Vec<String> = ids.iter().map(|i| format!("t{i}@bench.example")).collect();
            let names: Vec<String> = ids.iter().map(|i| format!("人材{i}")).collect();
            let mut tx = pool.begin().await?;
            sqlx::query("INSERT INTO accounts (id, email, email_lower, display_name, email_verified_at, created_at, updated_at)
                         OVERRIDING SYSTEM VALUE SELECT id, e, e, n, $4::timestamptz, $4::timestamptz, $4::timestamptz FROM UNNEST($1::bigint[], $2::text[], $3::text[]) AS u(id, e, n)")
                .bind(&ids).bind(&emails).bind(&names).bind(ts).execute(&mut *tx).await?;
            let residence: Vec<i32> = talents.iter().map(|t| t.residence as i32).collect();
            let summary: Vec<&str> = talents.iter().map(|t| t.summary.as_str()).collect();
            let hours: Vec<i32> = talents.iter().map(|t| t.hours as i32).collect();
            let pool_at: Vec<Option<String>> = talents
                .iter()
                .map(|t| t.pool.then(|| ts.to_owned()))
                .collect();
            let masks: Vec<i64> = talents.iter().map(|t| skill_mask(&t.skills)).collect();
            let kinds_m: Vec<i64> = talents.iter().map(|t| kind_bit(t.kind)).collect();
            let ties: Vec<i64> = talents.iter().map(|t| t.tie).collect();
            sqlx::query("INSERT INTO talent_profiles (account_id, kana, residence, summary, hours_per_month, work_style, compensation, pool_opt_in_at, created_at, updated_at, skill_mask, kind_mask, tie_mask)
                         SELECT id, 'ジンザイ', r, s, h, 'either', 'honorarium', p::timestamptz, $6::timestamptz, $6::timestamptz, sm, km, tm
                         FROM UNNEST($1::bigint[], $2::int[], $3::text[], $4::int[], $5::text[], $7::bigint[], $8::bigint[], $9::bigint[]) AS u(id, r, s, h, p, sm, km, tm)")
                .bind(&ids).bind(&residence).bind(&summary).bind(&hours).bind(&pool_at).bind(ts)
                .bind(&masks).bind(&kinds_m).bind(&ties)
                .execute(&mut *tx).await?;
            let (skill_ids, skills): (Vec<i64>, Vec<&str>) = talents
                .iter()
                .flat_map(|t| t.skills.iter().map(move |s| (t.id, *s)))
                .unzip();
            sqlx::query("INSERT INTO talent_skills (skill, account_id) SELECT s, id FROM UNNEST($1::text[], $2::bigint[]) AS u(s, id)")
                .bind(&skills).bind(&skill_ids).execute(&mut *tx).await?;
            let kinds: Vec<&str> = talents.iter().map(|t| t.kind).collect();
            sqlx::query("INSERT INTO talent_interests (kind, code, account_id) SELECT 'project_kind', k, id FROM UNNEST($1::text[], $2::bigint[]) AS u(k, id)")
                .bind(&kinds).bind(&ids).execute(&mut *tx).await?;
            let members: Vec<i64> = talents.iter().filter(|t| t.member).map(|t| t.id).collect();
            sqlx::query("SELECT set_config('app.tenant_id', '*', true)")
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO memberships (tenant_id, account_id, consent_version, consented_at, joined_at) SELECT 1, id, 1, $2::timestamptz, $2::timestamptz FROM UNNEST($1::bigint[]) AS u(id)")
                .bind(&members).bind(ts).execute(&mut *tx).await?;
            let folded: Vec<String> = talents
                .iter()
                .map(|t| yui_domain::search::fold(&t.summary))
                .collect();
            let tokens: Vec<String> = talents
                .iter()
                .map(|t| {
                    let set = yui_domain::search::index_token_set(&t.summary);
                    // A PostgreSQL array literal; tokens hold word characters only.
                    format!("{{{}}}", set.join(","))
                })
                .collect();
            sqlx::query("INSERT INTO talent_search (account_id, tokens, folded) SELECT id, t::text[], f FROM UNNEST($1::bigint[], $2::text[], $3::text[]) AS u(id, t, f)")
                .bind(&ids).bind(&tokens).bind(&folded).execute(&mut *tx).await?;
            tx.commit().await?;
        }
    }
    Ok(())
}
