//! The demo's life after matching in Iwate: the FY2025 round's confirmed matches
//! started as engagements, the seed hosts' partnerships that the secretariat entered
//! itself (the three of seed 001's case studies among them), monthly check-ins from
//! both sides, a mentor (関係案内人) with notes, a change from pro bono to a paid
//! contract, a completed term with its reflections, a renewal, a pause, an early end,
//! exactly one engagement at risk, the three case studies published with both sides'
//! approval, Iwate's years before the platform as history, and targets for this year.
//! Everything goes through the store's follow-up calls, dated back from the load day
//! (the round's engagements from its publication in December 2025).

use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveTime, TimeDelta, Utc};
use yui_authz::{NewGrant, Role, Scope};
use yui_domain::case_study::{CaseSide, CaseStatus, CaseStudyInput, check_case_study};
use yui_domain::engagement::{
    Checkin, CheckinSide, Compensation, ContinueWish, EndReason, EngagementStatus, Reflection,
    Terms, TermsChange, WorkStyle,
};
use yui_domain::event::tokyo_instant;
use yui_domain::fiscal::tokyo;
use yui_domain::ids::EngagementId;
use yui_domain::kpi::{History, KpiCode};
use yui_domain::{AccountId, FiscalYear, HostId};
use yui_store::{EngagementFilter, NewEngagement, Project, Store, TenantTx};

use super::events::{account, staff};
use super::{DEMO_PASSWORD, demo_account};

const SLUG: &str = "iwate";

/// The demo mentor (関係案内人), signed in with the demo password like every demo
/// account.
pub const DEMO_MENTOR: &str = "mentor@iwate.demo.yui.example";
const MENTOR_NAME: &str = "菊池 千尋";

/// Seed 001's reported figures: matches in FY2018, FY2024 and FY2025, and the totals
/// since FY2018 (158 matches with 81 organizations).
const REPORTED: [(i32, u64); 3] = [(2018, 5), (2024, 28), (2025, 32)];
const TOTAL_MATCHES: u64 = 158;
const TOTAL_HOSTS: u64 = 81;
/// The years seed 001 gives no figure for ("about 20 a year").
const UNREPORTED: std::ops::RangeInclusive<i32> = 2019..=2023;

/// This year's targets (a grant-funded project carries at most four).
const TARGETS: [(KpiCode, u64); 4] = [
    (KpiCode::Matches, 35),
    (KpiCode::HostsEngaged, 20),
    (KpiCode::Attendees, 120),
    (KpiCode::NewlyRelated, 80),
];

/// How an engagement's story runs.
#[derive(Debug, Clone, Copy)]
enum Course {
    /// Under way to this day.
    Active,
    /// Pro bono at first, a paid contract from `after` months in (a change of terms,
    /// the first terms kept as history).
    Paid { after: u32, amount: u64 },
    /// On hold from `after` months in.
    Paused { after: u32 },
    /// Broken off `after` months in.
    Ended {
        after: u32,
        reason: EndReason,
        note: &'static str,
    },
    /// A term of `months` that ran its course, reflected on by both sides.
    Completed { months: u32 },
    /// A completed term of `months`, reflected on, then a second term.
    Renewed { months: u32, amount: u64 },
    /// Last month the host rated it 2 and flagged a concern.
    AtRisk,
}

/// One engagement to bring to life.
struct Story {
    id: EngagementId,
    talent: AccountId,
    /// The host member who writes the host's check-ins; a host without members on
    /// the platform has the talent's alone.
    host: Option<AccountId>,
    started: NaiveDate,
    terms: Terms,
    course: Course,
    mentor: bool,
    progress: &'static [&'static str],
}

/// A partnership the secretariat entered itself (an individual 商談 rather than a
/// round): talent, project title, months before this one it started, its course.
struct Entered {
    talent: &'static str,
    project: &'static str,
    months_ago: u32,
    course: Course,
    compensation: Compensation,
    amount: Option<u64>,
    progress: &'static [&'static str],
    case: Option<&'static CaseText>,
}

/// A case study's text, ja and en: title, overview, challenge, skills, proposal,
/// outcome.
struct CaseText {
    ja: [&'static str; 6],
    en: [&'static str; 6],
}

const KANTA_PROGRESS: &[&str] = &[
    "ファン向けのオンライン交流会を開き、醸造の様子を写真で紹介しました。",
    "SNSの投稿計画を立て、ぶどう畑の季節ごとの作業を発信しました。",
    "首都圏のファンの集まりで試飲の場を設け、次回の収穫体験の参加者を募りました。",
    "ファンクラブの会員向けに、ラベルづくりの裏話をまとめたお便りを送りました。",
];

const SATOMORI_PROGRESS: &[&str] = &[
    "ツアーの行程案を作り、開墾する区画の下見に立ち会いました。",
    "参加者アンケートを作り、試行ツアーの感想をまとめました。",
    "申込みページの文面と写真を整え、首都圏向けの告知を始めました。",
    "収穫した野菜の配送方法を調べ、参加者への販売の仕組みを相談しました。",
];

const KOBIRU_PROGRESS: &[&str] = &[
    "薪ストーブの呼び名と説明文の案を三つ用意し、店主と話し合いました。",
    "ストーブを囲むイベントのチラシを作り、近隣の宿にも置いてもらいました。",
    "製品写真の撮影を手配し、紹介ページの構成を決めました。",
    "問い合わせへの返答例をまとめ、見学の受付方法を決めました。",
];

const ROUND_PROGRESS: &[&str] = &[
    "月1回のオンライン打合せで進め方を確認し、今月の作業を終えました。",
    "先方の担当者と現状を整理し、来月までの作業を決めました。",
    "提案書の初稿を送り、いただいた意見を反映しています。",
    "現地を訪ね、作業の様子と関係者の話を伺いました。",
];

const NEW_PROGRESS: &[&str] = &[
    "初回の打合せで目標と役割分担を確認しました。",
    "売り場と商品を見せていただき、改善点を一覧にしました。",
];

/// What the hosts write, month after month.
const HOST_PROGRESS: &[&str] = &[
    "提案を受けて社内でも話し合い、次の手を決めました。",
    "予定どおり進んでいます。外からの視点での指摘が参考になります。",
    "今月は繁忙期でしたが、オンラインでのやり取りで滞りなく進みました。",
];

const KANTA_CASE: CaseText = CaseText {
    ja: [
        "ぶどう畑とワインを応援するファンの輪づくり",
        "花巻市大迫町のかんたはうす運営組合は、地元で育ったぶどうを使ってワインを造っています。",
        "地域産ぶどうのワインをもっと多くの人に知ってもらい、売り先を広げてブランドとして育てることが課題でした。",
        "SNSの運用、イベントやコミュニティの運営、クリエイティブ制作、代理での販売。",
        "ワインを知ってもらうことと、繰り返し関わってくれるファンを増やすことを両立させる、ファンコミュニティの立ち上げ。",
        "首都圏の交流会とオンラインの発信を通じてファンの集まりができ、畑の作業やワインの新しい味を楽しみにする人が増えました。",
    ],
    en: [
        "A circle of fans for a vineyard and its wine",
        "Kanta House in Ohasama, Hanamaki, makes wine from grapes grown in the area.",
        "The group wanted more people to know its local wine, to sell it in more places and to grow it into a brand.",
        "Social media, running events and communities, creative work, selling on the group's behalf.",
        "A fan community that makes the wine known and, at the same time, brings people back again and again.",
        "Meet-ups in the Tokyo area and regular posts built a group of fans who follow the vineyard's seasons and look forward to each new wine.",
    ],
};

const SATOMORI_CASE: CaseText = CaseText {
    ja: [
        "畑を自分たちで開く、大槌のネイチャーツアー",
        "大槌町のさともり株式会社は、使われなくなった農地を整え、農業体験と野菜の販売を通じて地域と人を結んでいます。",
        "大槌の自然を生かし、外から人を呼べる観光の目玉をつくりたいと考えていました。",
        "お客さまへの対応、広報、コミュニティの運営（東京都と神奈川県に住む人材）。",
        "参加者が自ら畑を切り開き、野菜を育てるまでを体験するネイチャーツアー。",
        "試行ツアーを重ねて行程と申込みの仕組みが整い、参加者が収穫に合わせて再び訪れる流れが生まれつつあります。",
    ],
    en: [
        "A nature tour where visitors clear their own field in Otsuchi",
        "Satomori in Otsuchi brings unused farmland back into use and connects people with the town through farm experiences and vegetable sales.",
        "The company wanted a tourism offer that draws visitors with the area's nature.",
        "Customer care, publicity, community management (people living in Tokyo and Kanagawa).",
        "A nature tour in which the participants clear a plot themselves and grow vegetables on it.",
        "Trial tours settled the programme and the booking, and participants are starting to come back for the harvest.",
    ],
};

const KOBIRU_CASE: CaseText = CaseText {
    ja: [
        "古民家カフェの薪ストーブをブランドに",
        "北上市の夏油古民家カフェ kobiru は、改装した古民家で地元の食材を使ったカフェを営み、観光の案内もしています。",
        "地域の良さを外に伝える力が弱く、お客さまを呼び込むことに苦労していました。",
        "企画と提案、広報の計画づくり、ブランディングの実務、デザイン制作。",
        "店で仕立てた薪ストーブに名前と物語を与え、ブランドとして発信すること。",
        "ストーブを囲む催しと紹介ページが話題になり、ストーブを目当てに訪れるお客さまや問い合わせが増えました。",
    ],
    en: [
        "A wood stove that became a brand for an old-house café",
        "Geto Kominka Café kobiru in Kitakami runs a café with local food in a restored farmhouse and helps visitors find their way around the area.",
        "The café found it hard to make the area's appeal known and to bring in guests.",
        "Planning and proposals, publicity plans, branding work, design.",
        "Giving the café's own wood stove a name and a story, and telling it as a brand.",
        "Gatherings around the stove and a page about it caught people's attention: more guests come to see it, and enquiries have grown.",
    ],
};

/// The secretariat's own entries: the three seed cases (before the FY2025 round),
/// two started this year, and one agreed but not started.
const ENTERED: [Entered; 6] = [
    Entered {
        talent: "talent101@demo.yui.example",
        project: "大迫のぶどうとワインを応援するファンの輪を広げたい",
        months_ago: 20,
        course: Course::Paid {
            after: 8,
            amount: 30_000,
        },
        compensation: Compensation::ProBono,
        amount: None,
        progress: KANTA_PROGRESS,
        case: Some(&KANTA_CASE),
    },
    Entered {
        talent: "talent102@demo.yui.example",
        project: "参加者が畑を開墾するネイチャーツアーを形にしたい",
        months_ago: 19,
        course: Course::Renewed {
            months: 12,
            amount: 20_000,
        },
        compensation: Compensation::Expenses,
        amount: None,
        progress: SATOMORI_PROGRESS,
        case: Some(&SATOMORI_CASE),
    },
    Entered {
        talent: "talent105@demo.yui.example",
        project: "自社仕立ての薪ストーブをブランドとして育て、広めたい",
        months_ago: 17,
        course: Course::Completed { months: 12 },
        compensation: Compensation::Contract,
        amount: Some(50_000),
        progress: KOBIRU_PROGRESS,
        case: Some(&KOBIRU_CASE),
    },
    Entered {
        talent: "talent110@demo.yui.example",
        project: "ゆずと麹を使った新商品の企画と売り場づくり",
        months_ago: 4,
        course: Course::Active,
        compensation: Compensation::Honorarium,
        amount: Some(15_000),
        progress: NEW_PROGRESS,
        case: None,
    },
    Entered {
        talent: "talent111@demo.yui.example",
        project: "海外からのお客さまを迎える準備を整えたい",
        months_ago: 2,
        course: Course::Active,
        compensation: Compensation::Expenses,
        amount: None,
        progress: NEW_PROGRESS,
        case: None,
    },
    // Agreed at a 面談 last week; the start date is still being settled.
    Entered {
        talent: "talent112@demo.yui.example",
        project: "地域産ワインの首都圏での販路とブランドづくり",
        months_ago: 0,
        course: Course::Active,
        compensation: Compensation::Honorarium,
        amount: Some(20_000),
        progress: NEW_PROGRESS,
        case: None,
    },
];

/// The index in [`ENTERED`] of the one left proposed.
const PROPOSED: usize = 5;

fn bad(what: &str) -> anyhow::Error {
    anyhow::anyhow!("demo engagements: {what}")
}

/// `hour`:00 in Tokyo on `day`.
fn at(day: NaiveDate, hour: u32) -> anyhow::Result<DateTime<Utc>> {
    NaiveTime::from_hms_opt(hour, 0, 0)
        .and_then(|t| tokyo_instant(day, t))
        .ok_or_else(|| bad("time"))
}

fn plus_months(day: NaiveDate, n: u32) -> anyhow::Result<NaiveDate> {
    day.checked_add_months(Months::new(n))
        .ok_or_else(|| bad("date"))
}

fn plus_days(day: NaiveDate, n: i64) -> anyhow::Result<NaiveDate> {
    day.checked_add_signed(TimeDelta::days(n))
        .ok_or_else(|| bad("date"))
}

/// The first day of the month `n` months before `day`'s.
fn first_of_months_ago(day: NaiveDate, n: u32) -> anyhow::Result<NaiveDate> {
    day.with_day(1)
        .and_then(|d| d.checked_sub_months(Months::new(n)))
        .ok_or_else(|| bad("date"))
}

fn date(y: i32, m: u32, d: u32) -> anyhow::Result<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| bad("date"))
}

/// The terms a project's own conditions suggest.
fn project_terms(p: &Project, starts_on: NaiveDate) -> Terms {
    let compensation = Compensation::parse(&p.compensation).unwrap_or(Compensation::ProBono);
    let work_style = match p.remote_ratio {
        r if r >= 80 => WorkStyle::Remote,
        r if r <= 20 => WorkStyle::Onsite,
        _ => WorkStyle::Mixed,
    };
    Terms {
        starts_on,
        ends_on: None,
        hours_per_month: p.hours_per_month.and_then(|h| u32::try_from(h).ok()),
        work_style,
        compensation,
        amount_yen: compensation.has_amount().then(|| {
            p.amount_min
                .and_then(|a| u64::try_from(a).ok())
                .unwrap_or(10_000)
        }),
        note: String::new(),
    }
}

/// The first member of a host, who answers for it.
async fn host_member(tx: &mut TenantTx, host: HostId) -> anyhow::Result<Option<AccountId>> {
    Ok(tx.host_members(host).await?.first().map(|m| m.account_id))
}

/// The demo mentor: an account with the `mentor` role in Iwate (made once).
async fn mentor(store: &Store, now: DateTime<Utc>) -> anyhow::Result<AccountId> {
    let hash = yui_web::security::hash_password(DEMO_PASSWORD.to_owned()).await?;
    let (id, _) = demo_account(store, DEMO_MENTOR, MENTOR_NAME, &hash, now).await?;
    let grant = NewGrant {
        account_id: id,
        role: Role::Mentor,
        scope: Scope::Tenant,
        tenant: Some(SLUG.to_owned()),
        valid_until: None,
        granted_by: None,
    };
    yui_authz::grant(store, &grant, now).await?;
    Ok(id)
}

/// Loads Iwate's engagements after [`super::load_rounds`]: an engagement that
/// already has terms, a partnership already entered, history or targets already
/// there are left as they are, so loading twice adds nothing. Sends no mail.
/// Returns how many engagements were brought to life.
pub async fn load_engagements(store: &Store, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let Ok(tenant) = store.tenant_by_slug(SLUG).await else {
        return Ok(0);
    };
    let Some(actor) = staff(store, SLUG).await? else {
        return Ok(0);
    };
    let mentor = mentor(store, now).await?;
    let today = now.with_timezone(&tokyo()).date_naive();
    let mut done = 0;

    let mut tx = store.tenant(tenant.id).write().await?;
    let projects = tx.projects().await?;
    let existing = tx.engagements(EngagementFilter::default(), 10_000).await?;

    // The FY2025 round's matches, confirmed at Christmas, start in the new year.
    let mut waiting = Vec::new();
    for e in existing
        .iter()
        .filter(|e| e.round_id.is_some() && e.status() == EngagementStatus::Proposed)
    {
        if tx.engagement_terms(e.id).await?.is_empty() {
            waiting.push(e.clone());
        }
    }
    waiting.sort_by_key(|e| e.id);
    let mut members = Vec::with_capacity(waiting.len());
    for e in &waiting {
        members.push(host_member(&mut tx, e.host_id).await?);
    }
    // The last one at a host on the platform is the one at risk; those at hosts
    // without members pause, end early and complete, in that order.
    let at_risk = members.iter().rposition(Option::is_some);
    let mut memberless = 0;
    for (k, e) in waiting.iter().enumerate() {
        let Some(project) = projects.iter().find(|p| p.id == e.project_id) else {
            continue;
        };
        let started = [date(2026, 1, 15)?, date(2026, 2, 1)?, date(2026, 2, 16)?][k % 3].min(today);
        let course = if Some(k) == at_risk {
            Course::AtRisk
        } else if members[k].is_none() {
            memberless += 1;
            match memberless {
                1 => Course::Paused { after: 7 },
                2 => Course::Ended {
                    after: 3,
                    reason: EndReason::HostCircumstances,
                    note: "受入側の繁忙期と担当者の交代が重なり、受け入れの時間が取れなくなったため。",
                },
                3 => Course::Completed { months: 6 },
                _ => Course::Active,
            }
        } else {
            Course::Active
        };
        let mut terms = project_terms(project, started);
        if let Course::Completed { months } = course {
            terms.ends_on = Some(plus_days(plus_months(started, months)?, -1)?);
        }
        let start_at = at(started, 10)?;
        tx.record_terms(e.id, 1, TermsChange::Initial, &terms, Some(actor), start_at)
            .await?;
        tx.move_engagement(
            e.id,
            EngagementStatus::Proposed,
            EngagementStatus::Active,
            Some(started),
            None,
            actor,
            start_at,
        )
        .await?;
        let story = Story {
            id: e.id,
            talent: e.account_id,
            host: members[k],
            started,
            terms,
            course,
            mentor: course_needs_mentor(course) || k % 3 == 0,
            progress: ROUND_PROGRESS,
        };
        play(&mut tx, &story, actor, mentor, now).await?;
        done += 1;
    }
    tx.commit().await?;

    for (n, entry) in ENTERED.iter().enumerate() {
        let mut tx = store.tenant(tenant.id).write().await?;
        if let Some(id) = enter(
            &mut tx, store, entry, n, &projects, actor, mentor, today, now,
        )
        .await?
        {
            if let Some(case) = entry.case {
                // Seed 001's first case went public two months ago, the others after it.
                let age = 60 - 15 * n as i64;
                publish_case(&mut tx, id, case, age, actor, now).await?;
            }
            done += 1;
        }
        tx.commit().await?;
    }

    let mut tx = store.tenant(tenant.id).write().await?;
    history(&mut tx, actor, today, now).await?;
    let year = FiscalYear::containing(today);
    if tx.kpi_targets(year).await?.is_empty() {
        for (kpi, target) in TARGETS {
            tx.put_kpi_target(year, kpi, Some(target), actor, now)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(done)
}

fn course_needs_mentor(course: Course) -> bool {
    matches!(course, Course::AtRisk | Course::Paused { .. })
}

/// One of the secretariat's entries, unless the talent already has an engagement on
/// that project. Returns the engagement when it was made now.
#[allow(clippy::too_many_arguments)]
async fn enter(
    tx: &mut TenantTx,
    store: &Store,
    entry: &Entered,
    n: usize,
    projects: &[Project],
    actor: AccountId,
    mentor: AccountId,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<EngagementId>> {
    let Some(talent) = account(store, entry.talent).await? else {
        return Ok(None);
    };
    let Some(project) = projects.iter().find(|p| p.title == entry.project) else {
        return Ok(None);
    };
    let mine = tx
        .engagements(
            EngagementFilter {
                talent: Some(talent),
                ..EngagementFilter::default()
            },
            100,
        )
        .await?;
    if mine.iter().any(|e| e.project_id == project.id) {
        return Ok(None);
    }
    if n == PROPOSED {
        let made = now - TimeDelta::days(6);
        return Ok(tx
            .create_engagement_with_terms(
                &NewEngagement {
                    talent,
                    project: project.id,
                    round: None,
                    created_by: Some(actor),
                    terms: None,
                    started_on: None,
                },
                made,
            )
            .await?);
    }
    let started = first_of_months_ago(today, entry.months_ago)?;
    let mut terms = project_terms(project, started);
    terms.compensation = entry.compensation;
    terms.amount_yen = entry.amount;
    match entry.course {
        Course::Completed { months } | Course::Renewed { months, .. } => {
            terms.ends_on = Some(plus_days(plus_months(started, months)?, -1)?);
        }
        _ => {}
    }
    let Some(id) = tx
        .create_engagement_with_terms(
            &NewEngagement {
                talent,
                project: project.id,
                round: None,
                created_by: Some(actor),
                terms: Some(&terms),
                started_on: Some(started),
            },
            at(started, 10)?,
        )
        .await?
    else {
        return Ok(None);
    };
    let host = host_member(tx, project.host_id).await?;
    let story = Story {
        id,
        talent,
        host,
        started,
        terms,
        course: entry.course,
        mentor: n < 4,
        progress: entry.progress,
    };
    play(tx, &story, actor, mentor, now).await?;
    Ok(Some(id))
}

/// When the story stops (paused, ended or completed), if it does.
fn stop(story: &Story) -> anyhow::Result<Option<DateTime<Utc>>> {
    Ok(match story.course {
        Course::Paused { after } | Course::Ended { after, .. } => {
            let month = plus_months(story.started, after)?;
            Some(at(month.with_day(28).ok_or_else(|| bad("date"))?, 17)?)
        }
        Course::Completed { .. } => match story.terms.ends_on {
            Some(end) => Some(at(end, 18)?),
            None => None,
        },
        _ => None,
    })
}

/// The engagement's months: its moves, check-ins from both sides, the mentor's
/// notes and the reflections at the end of a term.
async fn play(
    tx: &mut TenantTx,
    story: &Story,
    actor: AccountId,
    mentor: AccountId,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let id = story.id;
    let stopped = stop(story)?;
    // Nothing written after the load itself, nor in the last hours before it.
    let latest = stopped.unwrap_or(now).min(now - TimeDelta::hours(3));
    let start_at = at(story.started, 12)?;

    // Each month's check-ins, the talent's on the 25th and the host's the day after.
    let mut months = Vec::new();
    let mut month = story.started.with_day(1).ok_or_else(|| bad("date"))?;
    while at(month, 0)? <= latest {
        let talent_at = at(month.with_day(25).ok_or_else(|| bad("date"))?, 20)?.min(latest);
        if talent_at >= start_at {
            months.push((month, talent_at));
        }
        month = plus_months(month, 1)?;
    }
    let count = months.len();
    for (i, (month, talent_at)) in months.into_iter().enumerate() {
        let host_at = (talent_at + TimeDelta::days(1)).min(latest);
        let key = format!("{:04}-{:02}", month.year(), month.month());
        let risky = i + 1 == count && matches!(story.course, Course::AtRisk);
        let (talent_says, host_says) = if risky {
            (3, 2)
        } else {
            (4 + (i % 2) as u8, if i % 3 == 0 { 4 } else { 5 })
        };
        let talent = Checkin {
            month: key.clone(),
            progress: if risky {
                "本業の繁忙期が続き、今月は予定の半分ほどしか作業できませんでした。".to_owned()
            } else {
                story.progress[i % story.progress.len()].to_owned()
            },
            satisfaction: talent_says,
            concern: None,
        };
        tx.save_checkin(id, CheckinSide::Talent, story.talent, &talent, talent_at)
            .await?;
        if let Some(host) = story.host {
            let said = Checkin {
                month: key,
                progress: if risky {
                    "約束していた作業の多くが来月に持ち越しになりました。".to_owned()
                } else {
                    HOST_PROGRESS[i % HOST_PROGRESS.len()].to_owned()
                },
                satisfaction: host_says,
                concern: risky.then(|| {
                    "ここ2か月、連絡が途切れがちです。役割と時間の見直しを相談したいです。"
                        .to_owned()
                }),
            };
            tx.save_checkin(id, CheckinSide::Host, host, &said, host_at)
                .await?;
        }
    }
    moves(tx, story, actor, mentor, now).await
}

/// The story's moves after its start, the mentor and the reflections.
async fn moves(
    tx: &mut TenantTx,
    story: &Story,
    actor: AccountId,
    mentor: AccountId,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let id = story.id;
    let latest = now - TimeDelta::hours(1);
    if story.mentor && tx.assign_mentor(id, Some(mentor), now).await? {
        let first = at(plus_days(story.started, 10)?, 15)?.min(latest);
        tx.add_mentor_note(
            id,
            mentor,
            "双方と顔合わせをし、最初の3か月の目標を一緒に確認しました。",
            None,
            first,
        )
        .await?;
        if matches!(story.course, Course::AtRisk) {
            tx.add_mentor_note(
                id,
                mentor,
                "人材の方の本業が忙しく、作業が滞っています。来週、三者で時間と役割を見直す場を設けます。",
                Some("受入側の満足度が下がっています。"),
                now - TimeDelta::days(2),
            )
            .await?;
        }
    }
    match story.course {
        Course::Active | Course::AtRisk => {}
        Course::Paid { after, amount } => {
            let from = plus_months(story.started, after)?;
            let terms = Terms {
                starts_on: from,
                compensation: Compensation::Contract,
                amount_yen: Some(amount),
                note: "ファンクラブの会費収入で運営費がまかなえるようになり、業務委託に切り替え。"
                    .to_owned(),
                ..story.terms.clone()
            };
            tx.record_terms(
                id,
                1,
                TermsChange::Change,
                &terms,
                Some(actor),
                at(from, 10)?.min(latest),
            )
            .await?;
        }
        Course::Paused { .. } | Course::Ended { .. } | Course::Completed { .. } => {
            let Some(when) = stop(story)? else {
                return Ok(());
            };
            let when = when.min(latest);
            let (to, end) = match story.course {
                Course::Paused { .. } => (EngagementStatus::Paused, None),
                Course::Ended { reason, note, .. } => {
                    (EngagementStatus::Ended, Some((reason, note)))
                }
                _ => (EngagementStatus::Completed, None),
            };
            tx.move_engagement(id, EngagementStatus::Active, to, None, end, actor, when)
                .await?;
            if to == EngagementStatus::Completed {
                reflect(tx, story, (when + TimeDelta::days(3)).min(latest)).await?;
            }
        }
        Course::Renewed { amount, .. } => {
            let Some(end) = story.terms.ends_on else {
                return Ok(());
            };
            let when = at(end, 18)?.min(latest);
            tx.move_engagement(
                id,
                EngagementStatus::Active,
                EngagementStatus::Completed,
                None,
                None,
                actor,
                when,
            )
            .await?;
            reflect(tx, story, (when + TimeDelta::days(3)).min(latest)).await?;
            let next = plus_days(end, 1)?;
            let terms = Terms {
                starts_on: next,
                ends_on: None,
                compensation: Compensation::Honorarium,
                amount_yen: Some(amount),
                note: "ツアーの運営を続けるため、2期目は謝礼ありで継続。".to_owned(),
                ..story.terms.clone()
            };
            tx.renew_engagement(
                id,
                EngagementStatus::Completed,
                1,
                &terms,
                actor,
                (when + TimeDelta::days(7)).min(latest),
            )
            .await?;
        }
    }
    Ok(())
}

/// Both sides' reflections on the first term (the talent's alone when the host has
/// no member on the platform).
async fn reflect(tx: &mut TenantTx, story: &Story, when: DateTime<Utc>) -> anyhow::Result<()> {
    let talent = Reflection {
        achieved: "当初の目標だった発信の仕組みづくりと、最初の成果物の公開まで進められました。"
            .to_owned(),
        learned: "現地を訪ねて話を聞くことで、オンラインだけでは分からない課題が見えました。"
            .to_owned(),
        continue_wish: ContinueWish::Yes,
    };
    tx.save_reflection(
        story.id,
        1,
        CheckinSide::Talent,
        story.talent,
        &talent,
        when,
    )
    .await?;
    if let Some(host) = story.host {
        let said = Reflection {
            achieved:
                "自分たちだけでは手が回らなかった企画が形になり、お客さまの反応も得られました。"
                    .to_owned(),
            learned: "外の視点で当たり前だと思っていた地域の良さに気づけました。".to_owned(),
            continue_wish: ContinueWish::Yes,
        };
        tx.save_reflection(story.id, 1, CheckinSide::Host, host, &said, when)
            .await?;
    }
    Ok(())
}

/// A case study about `id`, written by the secretariat, approved by the talent and
/// the host, and published: the three of seed 001 went public in the last months.
async fn publish_case(
    tx: &mut TenantTx,
    id: EngagementId,
    text: &CaseText,
    age: i64,
    actor: AccountId,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let Some(engagement) = tx.engagement(id).await? else {
        return Ok(());
    };
    let Some(host) = host_member(tx, engagement.host_id).await? else {
        return Ok(());
    };
    let [title, overview, challenge, skills, proposal, outcome] = text.ja;
    let [
        title_en,
        overview_en,
        challenge_en,
        skills_en,
        proposal_en,
        outcome_en,
    ] = text.en;
    let fields = check_case_study(&CaseStudyInput {
        title_ja: title.into(),
        title_en: title_en.into(),
        overview_ja: overview.into(),
        overview_en: overview_en.into(),
        challenge_ja: challenge.into(),
        challenge_en: challenge_en.into(),
        talent_skills_ja: skills.into(),
        talent_skills_en: skills_en.into(),
        proposal_ja: proposal.into(),
        proposal_en: proposal_en.into(),
        outcome_ja: outcome.into(),
        outcome_en: outcome_en.into(),
    })
    .map_err(|e| anyhow::anyhow!("demo case study {title}: {e:?}"))?;
    let written = now - TimeDelta::days(age + 14);
    let case = tx
        .create_case_study(id, &fields, actor, written)
        .await?
        .ok_or_else(|| bad("case study"))?;
    tx.move_case_study(
        case,
        CaseStatus::Draft,
        CaseStatus::AwaitingApproval,
        written + TimeDelta::days(1),
    )
    .await?;
    tx.approve_case_study(
        case,
        CaseSide::Talent,
        engagement.account_id,
        written + TimeDelta::days(4),
    )
    .await?;
    tx.approve_case_study(case, CaseSide::Host, host, written + TimeDelta::days(6))
        .await?;
    let published = tx
        .move_case_study(
            case,
            CaseStatus::AwaitingApproval,
            CaseStatus::Public,
            now - TimeDelta::days(age),
        )
        .await?;
    if !published {
        return Err(bad("case study not published"));
    }
    Ok(())
}

/// Iwate's years before and beside the platform, entered once (a tenant with any
/// history keeps it).
///
/// The dashboard adds a year entered as history to the platform's engagements
/// started in that year (the per-year chart sums both; the cumulative figures add
/// the history up to the year to every engagement started by its end, and the
/// history's hosts to the distinct hosts of those engagements). So a reported year
/// that also has engagements here is entered as the part the platform does not hold:
/// FY2025's 32 less the round's and the secretariat's engagements started in it, so
/// that the year still reads 32. The years seed 001 gives no figure for (FY2019 to
/// FY2023, "about 20 a year") take what is left of the 158 after the reported years
/// and every engagement up to this year, spread evenly; so the dashboard of the
/// current year reads 158 matches since FY2018. Hosts: 81 less the distinct hosts
/// of the platform's engagements, spread over the history years in proportion to
/// their matches (a host counted in the year it first took part).
async fn history(
    tx: &mut TenantTx,
    actor: AccountId,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    if !tx.kpi_history().await?.is_empty() {
        return Ok(());
    }
    let year = FiscalYear::containing(today);
    // Before any history, the cumulative figures are the platform's rows alone.
    let counted = tx.kpi_figures(year, today, None).await?;
    let mut per_year = std::collections::BTreeMap::<i32, u64>::new();
    for (day, n) in tx.engagement_starts(year).await? {
        *per_year.entry(FiscalYear::containing(day).0).or_default() += n;
    }
    let mut years: Vec<(i32, u64)> = REPORTED
        .iter()
        .map(|(y, m)| (*y, m.saturating_sub(per_year.get(y).copied().unwrap_or(0))))
        .collect();
    let reported: u64 = years.iter().map(|(_, m)| m).sum();
    let rest = TOTAL_MATCHES
        .checked_sub(reported + counted.cumulative_matches)
        .ok_or_else(|| bad("more engagements than the reported total"))?;
    let spread = UNREPORTED.count() as u64;
    for (k, y) in UNREPORTED.enumerate() {
        let extra = u64::from((k as u64) < rest % spread);
        years.push((y, rest / spread + extra));
    }
    years.sort_unstable();
    let hosts = TOTAL_HOSTS
        .checked_sub(counted.cumulative_hosts)
        .ok_or_else(|| bad("more hosts than the reported total"))?;
    let matches: u64 = years.iter().map(|(_, m)| m).sum();
    if hosts > matches {
        return Err(bad("more hosts than matches in the history"));
    }
    let mut shares: Vec<u64> = years
        .iter()
        .map(|(_, m)| hosts * m / matches.max(1))
        .collect();
    // What the rounding left goes to the busiest years, never past their matches.
    let mut left = hosts - shares.iter().sum::<u64>();
    let mut order: Vec<usize> = (0..years.len()).collect();
    order.sort_by_key(|k| std::cmp::Reverse(years[*k].1));
    while left > 0 {
        let mut gave = false;
        for &k in &order {
            if left > 0 && shares[k] < years[k].1 {
                shares[k] += 1;
                left -= 1;
                gave = true;
            }
        }
        if !gave {
            break;
        }
    }
    for ((y, m), h) in years.iter().zip(shares) {
        let entry = History {
            fiscal_year: FiscalYear(*y),
            matches: *m,
            hosts: h,
            participants: 0,
        };
        tx.put_kpi_history(FiscalYear(*y), Some(&entry), actor, now)
            .await?;
    }
    Ok(())
}
