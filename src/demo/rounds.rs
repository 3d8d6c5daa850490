//! The demo's matching rounds in Iwate: FY2025's round as the season left it (the
//! field work's attendees entered, both sides ranked, the engine solved, the result
//! published, most matches confirmed by both sides and so engagements, one declined,
//! one still waiting for the talent), and a round of the current fiscal year taking
//! entries now, its interim count of first choices published. Made through the
//! store's round calls and the engine, step by step as the coordinator would.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
use yui_domain::event::tokyo_instant;
use yui_domain::fiscal::{after_day_in_tokyo, tokyo};
use yui_domain::ids::RoundId;
use yui_domain::locale::Localized;
use yui_domain::round::{Answer, EntryRule, RoundDates, RoundMode, RoundStatus, check_ranking};
use yui_domain::{AccountId, FiscalYear, ProjectId};
use yui_match::KeyedRound;
use yui_store::{NewPair, NewRound, Side, Store, TenantTx};

use super::events::{account, program, staff};

const SLUG: &str = "iwate";

/// The seed hosts (the real organizations of `demo_hosts.toml`): their projects
/// are the ones the field work visited, so most first choices go to them, and their
/// members (who can sign in) keep lists in the open round.
const SEED_HOSTS: [&str; 3] = [
    "かんたはうす運営組合",
    "さともり株式会社",
    "夏油古民家カフェ kobiru",
];

/// Talents `talent001` … of the open round: the first `RANKING` keep a list, the
/// others entered and have not ranked yet.
const OPEN_ENTRANTS: usize = 10;
const RANKING: usize = 8;

fn title(year: FiscalYear) -> Localized {
    Localized {
        ja: format!("いわて遠恋複業課 マッチング {}", year.0),
        en: format!("Iwate Enren Fukugyo matching {}", year.0),
    }
}

fn date(y: i32, m: u32, d: u32) -> anyhow::Result<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| anyhow::anyhow!("demo round date"))
}

/// 10:00 in Tokyo on `day`, when the secretariat does things.
fn morning(day: NaiveDate) -> anyhow::Result<DateTime<Utc>> {
    NaiveTime::from_hms_opt(10, 0, 0)
        .and_then(|t| tokyo_instant(day, t))
        .ok_or_else(|| anyhow::anyhow!("demo round time"))
}

/// The end of `day` in Tokyo: a deadline "until 12/10" runs through that day.
fn end_of(day: NaiveDate) -> anyhow::Result<DateTime<Utc>> {
    after_day_in_tokyo(day).ok_or_else(|| anyhow::anyhow!("demo round deadline"))
}

/// Loads Iwate's demo rounds; a round already in its program (by title) is left as
/// it is, so loading twice adds nothing. Runs after [`super::load_events`], whose
/// field work gives the FY2025 round its entrants. Sends no mail. Returns how many
/// rounds were created.
pub async fn load_rounds(store: &Store, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let Ok(tenant) = store.tenant_by_slug(SLUG).await else {
        return Ok(0);
    };
    let Some(actor) = staff(store, SLUG).await? else {
        return Ok(0);
    };
    let template = tenant.tenant.templates.matching_round;
    let limits = Limits {
        talent: template.talent_preference_limit,
        host: template.host_preference_limit,
        seats: template.project_capacity,
    };
    let mut created = 0;

    // FY2025: entry after the autumn field work, lists closed before the holidays,
    // the result out on Christmas Eve.
    let dates = RoundDates {
        entry_opens_at: morning(date(2025, 11, 10)?)?,
        entry_closes_at: end_of(date(2025, 12, 10)?)?,
        ranks_close_at: end_of(date(2025, 12, 20)?)?,
    };
    let mut tx = store.tenant(tenant.id).write().await?;
    if let Some(round) =
        new_round(&mut tx, FiscalYear(2025), dates, false, limits, actor, now).await?
    {
        published(&mut tx, round, limits, actor).await?;
        created += 1;
    }
    tx.commit().await?;

    // The current year: entry opened a week ago, closes in two weeks; lists close
    // two weeks after that, once hosts had their 面談.
    let today = now.with_timezone(&tokyo()).date_naive();
    let day = |from_today: i64| {
        today
            .checked_add_signed(TimeDelta::days(from_today))
            .ok_or_else(|| anyhow::anyhow!("demo round date"))
    };
    let dates = RoundDates {
        // From the start of the day a week ago.
        entry_opens_at: end_of(day(-8)?)?,
        entry_closes_at: end_of(day(14)?)?,
        ranks_close_at: end_of(day(28)?)?,
    };
    let year = FiscalYear::containing(today);
    let mut tx = store.tenant(tenant.id).write().await?;
    if let Some(round) = new_round(&mut tx, year, dates, true, limits, actor, now).await? {
        open(&mut tx, store, round, limits, now).await?;
        created += 1;
    }
    tx.commit().await?;
    Ok(created)
}

/// The tenant's `[templates.matching_round]`.
#[derive(Clone, Copy)]
struct Limits {
    talent: u32,
    host: u32,
    seats: u32,
}

/// A draft round of `year`'s program with its projects (open ones; for a past year
/// also those closed since), opened on its first day; None when the program has it.
async fn new_round(
    tx: &mut TenantTx,
    year: FiscalYear,
    dates: RoundDates,
    interim_on: bool,
    limits: Limits,
    actor: AccountId,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<RoundId>> {
    let title = title(year);
    let program = program(tx, SLUG, year, now).await?;
    if tx
        .rounds_of_program(program)
        .await?
        .iter()
        .any(|r| r.title_ja == title.ja)
    {
        return Ok(None);
    }
    let dates = dates
        .check()
        .map_err(|e| anyhow::anyhow!("demo round {}: {e:?}", title.ja))?;
    // Set up the week before entry opens.
    let made = now.min(dates.entry_opens_at - TimeDelta::days(7));
    let round = tx
        .create_round(
            &NewRound {
                program,
                title: &title,
                mode: RoundMode::Engine,
                entry_rule: EntryRule::Members,
                dates,
                talent_limit: limits.talent,
                host_limit: limits.host,
                interim_on,
            },
            actor,
            made,
        )
        .await?;
    let past = dates.ranks_close_at < now;
    let mut projects: Vec<(ProjectId, u32)> = tx
        .projects()
        .await?
        .into_iter()
        .filter(|p| p.status == "open" || (past && p.status == "closed"))
        .map(|p| {
            // The seed hosts take two people each; the others the template's number.
            let seats = if SEED_HOSTS.contains(&p.host_name.as_str()) {
                limits.seats.max(2)
            } else {
                limits.seats
            };
            (p.id, seats)
        })
        .collect();
    projects.sort_unstable();
    tx.set_round_projects(round, &projects).await?;
    // Opening invites those who came to the program's field work.
    let opened = dates.entry_opens_at.min(now);
    tx.invite_fieldwork_attendees(round, opened).await?;
    tx.move_round(round, RoundStatus::Draft, RoundStatus::Open, actor, opened)
        .await?;
    Ok(Some(round))
}

/// The round's projects, the seed hosts' first (in id order within each group).
async fn projects_in(tx: &mut TenantTx, round: RoundId) -> anyhow::Result<(Vec<ProjectId>, usize)> {
    let mut projects = tx.round_projects(round).await?;
    projects.sort_by_key(|p| (!SEED_HOSTS.contains(&p.host_name.as_str()), p.project_id));
    let popular = projects
        .iter()
        .filter(|p| SEED_HOSTS.contains(&p.host_name.as_str()))
        .count();
    Ok((
        projects.into_iter().map(|p| p.project_id).collect(),
        popular,
    ))
}

/// Entrant `i`'s list: three to five projects, the first one of the `popular`
/// first few, the rest spread over the round.
fn talent_list(i: usize, projects: &[ProjectId], popular: usize, limit: u32) -> Vec<ProjectId> {
    let len = projects.len();
    if len == 0 {
        return Vec::new();
    }
    let want = (3 + i % 3).min(limit as usize);
    let order = std::iter::once(i % popular.max(1)).chain((0..len).map(|k| (i * 5 + 1 + k) % len));
    let mut list = Vec::with_capacity(want);
    for at in order {
        if list.len() == want {
            break;
        }
        if !list.contains(&projects[at]) {
            list.push(projects[at]);
        }
    }
    list
}

/// Entrants enter one after another and rank; each project in `ranking_projects`
/// ranks those who listed it, in an order of its own (its impressions from 面談).
async fn enter_and_rank(
    tx: &mut TenantTx,
    round: RoundId,
    entrants: &[AccountId],
    ranking: usize,
    ranking_projects: &dyn Fn(ProjectId) -> bool,
    limits: Limits,
    first_entry: DateTime<Utc>,
) -> anyhow::Result<()> {
    let (projects, popular) = projects_in(tx, round).await?;
    let in_round = projects.iter().copied().collect();
    let mut lists = Vec::new();
    for (i, &talent) in entrants.iter().enumerate() {
        // Entrants are the tenant's members and the program's field work is
        // preferred, not required: everyone may enter a members' round.
        tx.enter_round(round, talent, first_entry + TimeDelta::hours(5 * i as i64))
            .await?;
        if i < ranking {
            let list = talent_list(i, &projects, popular, limits.talent);
            check_ranking(&list, &in_round, limits.talent)
                .map_err(|e| anyhow::anyhow!("demo talent list: {e:?}"))?;
            tx.set_talent_preferences(round, talent, &list).await?;
            lists.push((i, talent, list));
        }
    }
    let entered = entrants.iter().copied().collect();
    for (p, &project) in projects.iter().enumerate() {
        if !ranking_projects(project) {
            continue;
        }
        let mut ranked: Vec<(usize, AccountId)> = lists
            .iter()
            .filter(|(_, _, list)| list.contains(&project))
            .map(|(i, t, _)| (*i, *t))
            .collect();
        ranked.sort_by_key(|(i, _)| ((i * 7 + p * 3) % 5, *i));
        let list: Vec<AccountId> = ranked
            .into_iter()
            .map(|(_, t)| t)
            .take(limits.host as usize)
            .collect();
        check_ranking(&list, &entered, limits.host)
            .map_err(|e| anyhow::anyhow!("demo host list: {e:?}"))?;
        tx.set_host_preferences(round, project, &list).await?;
    }
    Ok(())
}

/// FY2025's round to the end: the field work's attendees enter and rank, every
/// project ranks, the lists close, the engine solves, the result is published and
/// answered.
async fn published(
    tx: &mut TenantTx,
    round: RoundId,
    limits: Limits,
    actor: AccountId,
) -> anyhow::Result<()> {
    let r = tx.round(round).await?;
    let attendees = tx.fieldwork_attendees(r.program_id).await?;
    enter_and_rank(
        tx,
        round,
        &attendees,
        attendees.len(),
        &|_| true,
        limits,
        r.entry_opens_at,
    )
    .await?;
    tx.move_round(
        round,
        RoundStatus::Open,
        RoundStatus::Closed,
        actor,
        r.ranks_close_at,
    )
    .await?;

    let lists = tx.round_lists(round).await?;
    let engine = KeyedRound::new(&lists.talents, &lists.projects)?;
    let pairs: Vec<NewPair> = engine.solve().into_iter().map(NewPair::from).collect();
    let solved = morning(date(2025, 12, 22)?)?;
    tx.replace_result(round, &pairs, solved).await?;
    let out = morning(date(2025, 12, 24)?)?;
    tx.move_round(
        round,
        RoundStatus::Closed,
        RoundStatus::Published,
        actor,
        out,
    )
    .await?;

    // Hosts answer first; of the talents, the second declines and the last has not
    // answered yet.
    let pairs = tx.round_pairs(round).await?;
    let last = pairs.len().saturating_sub(1);
    for (k, pair) in pairs.iter().enumerate() {
        let at = out + TimeDelta::hours(20 + k as i64);
        if k == 1 {
            tx.answer_pair(round, pair.id, Side::Talent, Answer::Declined, at)
                .await?;
            continue;
        }
        tx.answer_pair(round, pair.id, Side::Host, Answer::Confirmed, at)
            .await?;
        if k != last {
            let later = at + TimeDelta::days(1);
            tx.answer_pair(round, pair.id, Side::Talent, Answer::Confirmed, later)
                .await?;
        }
    }
    Ok(())
}

/// The current year's round while entry is open: `talent001` … enter over the first
/// days, most of them have ranked, and the seed hosts' projects have lists.
async fn open(
    tx: &mut TenantTx,
    store: &Store,
    round: RoundId,
    limits: Limits,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let mut entrants = Vec::new();
    for n in 1..=OPEN_ENTRANTS {
        if let Some(id) = account(store, &format!("talent{n:03}@demo.yui.example")).await? {
            entrants.push(id);
        }
    }
    let seeded: HashSet<ProjectId> = tx
        .round_projects(round)
        .await?
        .into_iter()
        .filter(|p| SEED_HOSTS.contains(&p.host_name.as_str()))
        .map(|p| p.project_id)
        .collect();
    let r = tx.round(round).await?;
    let first = r.entry_opens_at.min(now) + TimeDelta::hours(1);
    enter_and_rank(
        tx,
        round,
        &entrants,
        RANKING,
        &|p| seeded.contains(&p),
        limits,
        first,
    )
    .await
}
