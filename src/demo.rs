//! Demo content for `yui serve --demo`, loaded idempotently: running it twice leaves
//! the same data as running it once. Later features add their demo data here.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use yui_domain::{Introduction, Locale};
use yui_store::{AccountsTx, NewAccount, PlatformReason, Store};

mod engagements;
mod events;
mod rounds;
pub use engagements::{DEMO_MENTOR, load_engagements};
pub use events::load_events;
pub use rounds::load_rounds;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoFile {
    intro: Intros,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Intros {
    ja: Introduction,
    en: Introduction,
}

/// Loads `tenants/<slug>/demo.toml` for every stored tenant that has one.
/// Returns how many tenants got demo content.
pub async fn load(store: &Store, tenants_dir: &Path, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let mut loaded = 0;
    for record in store.list_tenants().await? {
        let file = tenants_dir.join(&record.tenant.slug).join("demo.toml");
        if !file.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&file)?;
        let demo: DemoFile = toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{}: {}", file.display(), e.message()))?;
        let mut tx = store.tenant(record.id).write().await?;
        for (locale, intro) in [(Locale::Ja, &demo.intro.ja), (Locale::En, &demo.intro.en)] {
            tx.put_introduction(locale, intro, now).await?;
        }
        tx.commit().await?;
        loaded += 1;
    }
    Ok(loaded)
}

/// The password of every demo account. Demo data is for trying Yui out, never for a
/// deployment that holds real people's data.
pub const DEMO_PASSWORD: &str = "yui-demo-2026";

/// Demo accounts: a platform operator and an administrator per tenant, plus a
/// contracted coordinator in Amami whose role ends with the fiscal year. Returns
/// the addresses. Existing accounts and grants are left as they are.
pub async fn load_accounts(store: &Store, now: DateTime<Utc>) -> anyhow::Result<Vec<String>> {
    use yui_authz::{NewGrant, Role, Scope};
    use yui_domain::account::Email;
    let fy_end = yui_domain::fiscal::after_day_in_tokyo(
        yui_domain::FiscalYear::containing(
            now.with_timezone(&yui_domain::fiscal::tokyo()).date_naive(),
        )
        .last_day()
        .ok_or_else(|| anyhow::anyhow!("fiscal year out of range"))?,
    );
    // (address, display name, role, tenant, last instant)
    type Person = (String, String, Role, Option<String>, Option<DateTime<Utc>>);
    let mut people: Vec<Person> = vec![(
        "operator@demo.yui.example".into(),
        "運営 太郎".into(),
        Role::PlatformOperator,
        None,
        None,
    )];
    for record in store.list_tenants().await? {
        let slug = record.tenant.slug.clone();
        let name = format!("{} 管理者", record.tenant.name.ja);
        people.push((
            format!("admin@{slug}.demo.yui.example"),
            name,
            Role::TenantAdmin,
            Some(slug),
            None,
        ));
    }
    people.push((
        "coordinator@amami.demo.yui.example".into(),
        "奄美 事務局".into(),
        Role::Coordinator,
        Some("amami".into()),
        fy_end,
    ));
    // Iwate's program is run by a contracted operator since FY2024 (seed 001).
    people.push((
        "coordinator@iwate.demo.yui.example".into(),
        "岩手 事務局".into(),
        Role::Coordinator,
        Some("iwate".into()),
        fy_end,
    ));
    let hash = yui_web::security::hash_password(DEMO_PASSWORD.to_owned()).await?;
    let mut emails = Vec::new();
    for (address, name, role, tenant, until) in people {
        if let Some(t) = &tenant
            && store.tenant_by_slug(t).await.is_err()
        {
            continue;
        }
        let email = Email::parse("email", &address).map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut tx = store.platform(PlatformReason::TenantFiles).write().await?;
        let id = match tx.account_by_email(&email).await? {
            Some(a) => a.id,
            None => {
                let new = NewAccount {
                    email: &email,
                    display_name: &name,
                    password_hash: Some(&hash),
                    locale: Locale::Ja,
                };
                tx.create_account(new, now).await?
            }
        };
        tx.commit().await?;
        let mut tx = store.account(id).write().await?;
        tx.mark_email_verified(now).await?;
        tx.commit().await?;
        let scope = if role == Role::PlatformOperator {
            Scope::Global
        } else {
            Scope::Tenant
        };
        let grant = NewGrant {
            account_id: id,
            role,
            scope,
            tenant,
            valid_until: until,
            granted_by: None,
        };
        yui_authz::grant(store, &grant, now).await?;
        // A prefecture's admin reads its municipalities' aggregates (the KPI roll-up).
        if role == Role::TenantAdmin
            && let Some(t) = &grant.tenant
            && store.tenant_by_slug(t).await?.tenant.kind == yui_domain::TenantKind::Prefecture
        {
            let children = NewGrant {
                scope: Scope::Children,
                ..grant
            };
            yui_authz::grant(store, &children, now).await?;
        }
        emails.push(address);
    }
    Ok(emails)
}

/// `tenants/<slug>/demo_hosts.toml`: host organizations and their projects.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoHosts {
    hosts: Vec<DemoHost>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoHost {
    key: String,
    name: String,
    kana: String,
    municipality: String,
    industry: String,
    summary: String,
    #[allow(dead_code)]
    summary_en: String,
    #[serde(default)]
    website: Option<String>,
    #[serde(default)]
    members: Vec<String>,
    status: String,
    #[serde(default)]
    projects: Vec<DemoProject>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoProject {
    #[allow(dead_code)]
    key: String,
    title: String,
    #[allow(dead_code)]
    title_en: String,
    challenge: String,
    help_wanted: String,
    kind: String,
    skills: Vec<String>,
    hours_per_month: u32,
    months: u32,
    remote_percent: u32,
    compensation: String,
    #[serde(default)]
    amount_min: Option<u64>,
    #[serde(default)]
    amount_max: Option<u64>,
    location: String,
    status: String,
    visibility: String,
}

/// The demo file's industry codes, read as the words a host's industry is written in.
fn industry_words(code: &str) -> &str {
    match code {
        "agriculture" => "農業",
        "fishery" => "漁業・水産業",
        "forestry" => "林業",
        "food" => "食品製造",
        "manufacturing" => "製造業",
        "retail" => "小売業",
        "tourism" => "観光",
        "hospitality" => "宿泊・飲食",
        "construction" => "建設業",
        "it" => "情報通信",
        "services" => "サービス業",
        "welfare" => "医療・福祉",
        "education" => "教育",
        "culture" => "文化・伝統工芸",
        "community" => "地域づくり",
        "finance" => "金融",
        other => other,
    }
}

/// One demo account with a verified address (created once; later runs find it).
async fn demo_account(
    store: &Store,
    address: &str,
    name: &str,
    hash: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<(yui_domain::AccountId, bool)> {
    use yui_domain::account::Email;
    let email = Email::parse("email", address).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut tx = store.platform(PlatformReason::TenantFiles).write().await?;
    let (id, created) = match tx.account_by_email(&email).await? {
        Some(a) => (a.id, false),
        None => {
            let new = NewAccount {
                email: &email,
                display_name: name,
                password_hash: Some(hash),
                locale: Locale::Ja,
            };
            (tx.create_account(new, now).await?, true)
        }
    };
    tx.commit().await?;
    if created {
        let mut tx = store.account(id).write().await?;
        tx.mark_email_verified(now).await?;
        tx.commit().await?;
    }
    Ok((id, created))
}

/// Loads every tenant's `demo_hosts.toml`: hosts (approved or pending), their members
/// (a verified account with the host member role), and their projects moved to the
/// file's status. A host or project already there (by name, by title) is left as it is.
/// Returns how many hosts the files hold.
pub async fn load_hosts(
    store: &Store,
    tenants_dir: &Path,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    use yui_authz::{NewGrant, Role, Scope};
    use yui_domain::host::{HostInput, HostStatus, check_host};
    use yui_domain::project::{ProjectInput, ProjectStatus, check_project};
    let hash = yui_web::security::hash_password(DEMO_PASSWORD.to_owned()).await?;
    let mut count = 0;
    for record in store.list_tenants().await? {
        let file = tenants_dir
            .join(&record.tenant.slug)
            .join("demo_hosts.toml");
        if !file.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&file)?;
        let demo: DemoHosts = toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{}: {}", file.display(), e.message()))?;
        let bad = |what: &str, errors: Vec<yui_domain::account::FieldError>| {
            anyhow::anyhow!("{}: {what}: {errors:?}", file.display())
        };
        for host in demo.hosts {
            count += 1;
            let fields = check_host(
                &HostInput {
                    name: host.name.clone(),
                    kana: host.kana.clone(),
                    municipality_code: host.municipality.clone(),
                    industry: industry_words(&host.industry).to_owned(),
                    summary: host.summary.clone(),
                    website: host.website.clone().unwrap_or_default(),
                },
                &record.tenant,
            )
            .map_err(|e| bad(&host.key, e))?;
            let status = HostStatus::parse(&host.status)
                .ok_or_else(|| anyhow::anyhow!("{}: {}: status", file.display(), host.key))?;
            let mut tx = store.tenant(record.id).write().await?;
            let id = match tx
                .hosts()
                .await?
                .into_iter()
                .find(|h| h.name == fields.name)
            {
                Some(h) => h.id,
                None => tx.create_host(&fields, status, None, now).await?,
            };
            tx.commit().await?;
            for address in &host.members {
                let name = format!("{} 担当", host.name);
                let (account, _) = demo_account(store, address, &name, &hash, now).await?;
                let grant = NewGrant {
                    account_id: account,
                    role: Role::HostMember,
                    scope: Scope::Tenant,
                    tenant: Some(record.tenant.slug.clone()),
                    valid_until: None,
                    granted_by: None,
                };
                yui_authz::grant(store, &grant, now).await?;
                let mut tx = store.tenant(record.id).write().await?;
                tx.add_host_member(id, account, now).await?;
                tx.commit().await?;
            }
            for project in host.projects {
                let fields = check_project(&ProjectInput {
                    title: project.title.clone(),
                    challenge: project.challenge,
                    help_wanted: project.help_wanted,
                    kind: project.kind,
                    skills: project.skills,
                    hours_per_month: project.hours_per_month.to_string(),
                    months: project.months.to_string(),
                    remote_ratio: project.remote_percent.to_string(),
                    compensation: project.compensation,
                    amount_min: project
                        .amount_min
                        .map(|a| a.to_string())
                        .unwrap_or_default(),
                    amount_max: project
                        .amount_max
                        .map(|a| a.to_string())
                        .unwrap_or_default(),
                    location: project.location,
                    visibility: project.visibility,
                })
                .map_err(|e| bad(&project.title, e))?;
                let target = ProjectStatus::parse(&project.status).ok_or_else(|| {
                    anyhow::anyhow!("{}: {}: status", file.display(), project.title)
                })?;
                let mut tx = store.tenant(record.id).write().await?;
                let existing = tx
                    .projects_of_host(id)
                    .await?
                    .into_iter()
                    .any(|p| p.title == fields.title);
                if !existing {
                    let pid = tx.create_project(id, &fields, None, now).await?;
                    // Through the state machine, as people would move it.
                    let path: &[ProjectStatus] = match target {
                        ProjectStatus::Draft => &[],
                        ProjectStatus::Open => &[ProjectStatus::Open],
                        ProjectStatus::Closed => &[ProjectStatus::Open, ProjectStatus::Closed],
                    };
                    let mut from = ProjectStatus::Draft;
                    for &to in path {
                        tx.transition_project(pid, from, to, demo_actor(store).await?, now)
                            .await?;
                        from = to;
                    }
                }
                tx.commit().await?;
            }
        }
    }
    Ok(count)
}

/// Who the demo's project moves are recorded as: the platform operator of the demo.
async fn demo_actor(store: &Store) -> anyhow::Result<yui_domain::AccountId> {
    use yui_domain::account::Email;
    let email =
        Email::parse("email", "operator@demo.yui.example").map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut tx = store.platform(PlatformReason::TenantFiles).read().await?;
    let id = tx
        .account_by_email(&email)
        .await?
        .map(|a| a.id)
        .ok_or_else(|| anyhow::anyhow!("the demo operator is loaded first"))?;
    tx.commit().await?;
    Ok(id)
}

/// Family and given names the synthetic talents are made of (common ones, in kanji
/// and in katakana).
const FAMILY: [(&str, &str); 12] = [
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("高橋", "タカハシ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"),
    ("山本", "ヤマモト"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
    ("吉田", "ヨシダ"),
    ("山田", "ヤマダ"),
];
const GIVEN: [(&str, &str); 10] = [
    ("花子", "ハナコ"),
    ("太郎", "タロウ"),
    ("美咲", "ミサキ"),
    ("健太", "ケンタ"),
    ("陽子", "ヨウコ"),
    ("大輔", "ダイスケ"),
    ("由美", "ユミ"),
    ("翔", "ショウ"),
    ("真理", "マリ"),
    ("誠", "マコト"),
];
const CAREERS: [&str; 10] = [
    "都内のメーカーで広報を10年担当し、地域の事業者の発信を手伝ってきました。",
    "IT企業でWeb制作とEC構築のディレクターをしています。",
    "食品商社で販路開拓の営業を続けてきました。地方の産品に関心があります。",
    "税理士として事業承継の相談に乗っています。",
    "観光プロモーションの企画会社でイベントと旅行商品を作ってきました。",
    "デザイナーとしてブランディングとパッケージを手がけています。",
    "人事として採用広報と研修を担当しています。",
    "週末は実家の農業を手伝いながら、マーケティングの仕事をしています。",
    "写真と動画の制作を仕事にしています。地域の魅力を撮るのが好きです。",
    "インバウンド向けの翻訳と通訳をしています。",
];

/// The 300 demo talents of the demo contract: `talent001@demo.yui.example` …
/// `talent300@…`, each with a profile, a member of iwate with consent (most also for
/// host organizations), many also of another region, a third in the shared pool.
/// Deterministic: the same run gives the same people. Returns how many were created.
pub async fn load_talents(store: &Store, now: DateTime<Utc>) -> anyhow::Result<usize> {
    use yui_domain::talent::{ProfileInput, Skill, check_profile};
    let hash = yui_web::security::hash_password(DEMO_PASSWORD.to_owned()).await?;
    let tenants = store.list_tenants().await?;
    let Some(iwate) = tenants.iter().find(|t| t.tenant.slug == "iwate") else {
        return Ok(0);
    };
    let others: Vec<_> = tenants
        .iter()
        .filter(|t| t.tenant.slug != "iwate")
        .collect();
    // Iwate's open projects, for the talents' marks and applications.
    let mut tx = store.tenant(iwate.id).read().await?;
    let open: Vec<yui_domain::ProjectId> = tx
        .projects()
        .await?
        .into_iter()
        .filter(|p| p.status == "open" && p.visibility == "public")
        .map(|p| p.id)
        .collect();
    tx.commit().await?;
    let admin = {
        use yui_domain::account::Email;
        let email = Email::parse("email", "coordinator@iwate.demo.yui.example")
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut tx = store.platform(PlatformReason::TenantFiles).read().await?;
        let found = tx.account_by_email(&email).await?.map(|a| a.id);
        tx.commit().await?;
        found.ok_or_else(|| anyhow::anyhow!("the demo coordinator is loaded first"))?
    };
    let mut created = 0;
    for n in 1..=300_usize {
        let (family, family_kana) = FAMILY[n % FAMILY.len()];
        let (given, given_kana) = GIVEN[(n / FAMILY.len()) % GIVEN.len()];
        let name = format!("{family} {given}");
        let address = format!("talent{n:03}@demo.yui.example");
        let (id, new) = demo_account(store, &address, &name, &hash, now).await?;
        if !new {
            continue;
        }
        created += 1;
        let skills: Vec<String> = [n % 20, (n * 7 + 3) % 20, (n * 13 + 5) % 20]
            .iter()
            .take(1 + n % 3)
            .map(|&i| Skill::ALL[i].code().to_owned())
            .collect();
        // Mostly the Tokyo area, as the programs' talents are; some from Iwate itself.
        let residence = ["13", "13", "14", "11", "12", "13", "27", "03", "04", "23"][n % 10];
        let tie = ["03", "03", "46", "04", "13"][n % 5];
        let profile = check_profile(&ProfileInput {
            display_name: name.clone(),
            kana: format!("{family_kana} {given_kana}"),
            residence: residence.into(),
            skills,
            tags: ["地域おこし", "ワーケーション、移住", "", "副業歴3年", ""][n % 5].into(),
            summary: CAREERS[n % CAREERS.len()].into(),
            hours_per_month: ["5", "10", "20", "30", "10"][n % 5].into(),
            work_style: ["remote", "either", "either", "onsite"][n % 4].into(),
            compensation: ["pro_bono", "expenses", "honorarium", "contract"][n % 4].into(),
            public_servant: (n % 17 == 0).then(|| "1".to_owned()),
            side_job_permission: if n % 17 == 0 {
                "granted".into()
            } else {
                String::new()
            },
            ties: vec![(
                ["hometown", "former_resident", "connection", "fan"][n % 4].into(),
                tie.into(),
            )],
            industries: vec![
                ["agriculture", "hospitality", "retail", "manufacturing"][n % 4].into(),
            ],
            project_kinds: match n % 3 {
                0 => vec!["business".into()],
                1 => vec!["fan_community".into()],
                _ => vec!["business".into(), "fan_community".into()],
            },
        })
        .map_err(|e| anyhow::anyhow!("demo talent {n}: {e:?}"))?;
        let mut tx = store.account(id).write().await?;
        tx.save_talent_profile(&profile, now).await?;
        tx.join_tenant(iwate.id, &iwate.tenant.consent, n % 5 != 0, now)
            .await?;
        if n % 2 == 0 && !others.is_empty() {
            let other = others[n / 2 % others.len()];
            tx.join_tenant(other.id, &other.tenant.consent, n % 4 == 0, now)
                .await?;
        }
        if n % 3 == 0 {
            tx.set_pool_opt_in(true, now).await?;
        }
        tx.commit().await?;
        activity(store, iwate.id, id, n, &open, admin, now).await?;
    }
    Ok(created)
}

/// A new demo talent's activity in iwate: the first 60 mark a project as interesting,
/// the first 36 apply to another (their applications in every state, some with a
/// message), and the first 20 had an intake hearing with the secretariat, the next
/// step due in the coming days.
async fn activity(
    store: &Store,
    tenant: yui_domain::TenantId,
    talent: yui_domain::AccountId,
    n: usize,
    open: &[yui_domain::ProjectId],
    admin: yui_domain::AccountId,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    use yui_domain::application::{ApplicationStatus as S, ProposalInput, check_proposal};
    use yui_domain::hearing::{HearingInput, check_hearing};
    if open.is_empty() || n > 60 {
        return Ok(());
    }
    let mut tx = store.tenant(tenant).write().await?;
    tx.toggle_interest(open[n % open.len()], talent, now)
        .await?;
    if n <= 36 {
        let proposal = check_proposal(&ProposalInput {
            proposal: "これまでの経験を生かし、発信と販路づくりを一緒に進めたいと考えています。"
                .into(),
            approach: "最初の1か月で現状を伺い、月1回の訪問とオンラインの打合せで進めます。".into(),
            frequency: ["月2回", "週1回", "月1回の訪問と随時オンライン"][n % 3].into(),
            format: ["online", "both", "onsite"][n % 3].into(),
        })
        .map_err(|e| anyhow::anyhow!("demo proposal: {e:?}"))?;
        let (application, new) = tx
            .create_application(open[(n + 1) % open.len()], talent, &proposal, now)
            .await?;
        if new {
            let path: &[S] = match n % 6 {
                0 => &[],
                1 => &[S::InReview],
                2 => &[S::InReview, S::Meeting],
                3 => &[S::InReview, S::Meeting, S::Accepted],
                4 => &[S::InReview, S::Declined],
                _ => &[S::Withdrawn],
            };
            let mut from = S::Submitted;
            for &to in path {
                let actor = if to == S::Withdrawn { talent } else { admin };
                tx.transition_application(application, from, to, actor, now)
                    .await?;
                from = to;
            }
            if n % 3 == 1 {
                // No digest: the demo sends no mail of its own.
                tx.add_application_message(
                    application,
                    admin,
                    "ご応募ありがとうございます。面談の日程を調整させてください。",
                    &[],
                    now,
                    now,
                )
                .await?;
            }
        }
    }
    if n <= 20 {
        let today = now.with_timezone(&yui_domain::fiscal::tokyo()).date_naive();
        let day = |d: i64| {
            today
                .checked_add_signed(chrono::TimeDelta::days(d))
                .map(|d| d.to_string())
                .unwrap_or_default()
        };
        let fields = check_hearing(&HearingInput {
            held_on: day(-(n as i64)),
            notes: "首都圏在住。地域の事業者と長く関わりたいという希望。".into(),
            needs: "週末中心、オンラインでの協働".into(),
            strengths: "発信と企画の経験".into(),
            next_step: "受入企業との面談を設定する".into(),
            next_due_on: day((n % 10) as i64 + 1),
        })
        .map_err(|e| anyhow::anyhow!("demo hearing: {e:?}"))?;
        tx.create_hearing(
            yui_store::HearingSubject::Talent(talent),
            &fields,
            admin,
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
