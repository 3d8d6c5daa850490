//! The demo's matching rounds (`yui serve --demo`): Iwate's FY2025 round solved by
//! the engine and published, its matches answered into engagements; the current
//! year's round open for entry, with lists and its interim count in the API; and a
//! second load that adds nothing.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;
use yui_domain::fiscal::tokyo;
use yui_domain::round::{MatchStatus, RoundPhase, RoundStatus};
use yui_domain::{FiscalYear, TenantId};
use yui_match::KeyedRound;
use yui_store::{PairOrigin, Round, Store};

use crate::demo_events::load_all;
use crate::support::{TestApp, on_both_backends};

on_both_backends!(TestApp::with_demo => demo_rounds_one_published_one_open_loaded_once);

async fn load(app: &TestApp, now: DateTime<Utc>) -> usize {
    load_all(app, now).await;
    yui::demo::load_rounds(&app.store, now).await.unwrap()
}

/// The round of `year`'s program with the demo's title for that year.
async fn round_of(store: &Store, tenant: TenantId, year: i32) -> Round {
    let mut tx = store.tenant(tenant).read().await.unwrap();
    let program = tx
        .program_of_year(FiscalYear(year))
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("FY{year}"));
    let rounds = tx.rounds_of_program(program.id).await.unwrap();
    tx.commit().await.unwrap();
    let title = format!("いわて遠恋複業課 マッチング {year}");
    rounds
        .into_iter()
        .find(|r| r.title_ja == title)
        .unwrap_or_else(|| panic!("{title} missing"))
}

fn tokyo_at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    tokyo()
        .with_ymd_and_hms(y, m, d, h, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn fiscal_year(at: DateTime<Utc>) -> FiscalYear {
    FiscalYear::containing(at.with_timezone(&tokyo()).date_naive())
}

/// Everything the tenant's rounds hold, for comparing two loads.
async fn snapshot(store: &Store, tenant: TenantId) -> Vec<String> {
    let mut out = Vec::new();
    let mut tx = store.tenant(tenant).read().await.unwrap();
    for program in tx.programs().await.unwrap() {
        for r in tx.rounds_of_program(program.id).await.unwrap() {
            out.push(format!("{r:?}"));
            for p in tx.round_projects(r.id).await.unwrap() {
                let list = tx.host_preferences(r.id, p.project_id).await.unwrap();
                out.push(format!("{} {} {list:?}", p.project_id, p.seats));
            }
            for e in tx.round_entries(r.id).await.unwrap() {
                let list = tx.talent_preferences(r.id, e.account_id).await.unwrap();
                out.push(format!("{e:?} {list:?}"));
            }
            out.push(format!("{:?}", tx.round_pairs(r.id).await.unwrap()));
            out.push(format!(
                "{:?}",
                tx.engagements_of_round(r.id).await.unwrap()
            ));
        }
    }
    tx.commit().await.unwrap();
    out
}

async fn facts(app: &TestApp, round: &Round) -> Value {
    let res = app
        .get(&format!("/api/v1/tenants/iwate/rounds/{}", round.id))
        .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn demo_rounds_one_published_one_open_loaded_once(app: &TestApp) {
    let now = app.now();
    assert_eq!(load(app, now).await, 2);
    let iwate = app.store.tenant_by_slug("iwate").await.unwrap().id;

    // FY2025: published, every date in the year, in Tokyo time.
    let done = round_of(&app.store, iwate, 2025).await;
    assert_eq!(done.status(), RoundStatus::Published);
    assert_eq!(done.title_en, "Iwate Enren Fukugyo matching 2025");
    assert_eq!(done.entry_opens_at, tokyo_at(2025, 11, 10, 10));
    assert_eq!(done.entry_closes_at, tokyo_at(2025, 12, 11, 0));
    assert_eq!(done.ranks_close_at, tokyo_at(2025, 12, 21, 0));
    let published_at = done.published_at.expect("published");
    let solved_at = done.solved_at.expect("solved");
    assert!(solved_at >= done.ranks_close_at && published_at > solved_at);
    for at in [
        done.created_at,
        done.entry_opens_at,
        done.ranks_close_at,
        published_at,
    ] {
        assert_eq!(fiscal_year(at), FiscalYear(2025));
    }
    let mut tx = app.store.tenant(iwate).read().await.unwrap();
    let projects = tx.round_projects(done.id).await.unwrap();
    for seed in [
        "かんたはうす運営組合",
        "さともり株式会社",
        "夏油古民家カフェ kobiru",
    ] {
        assert!(projects.iter().any(|p| p.host_name == seed), "{seed}");
    }
    // The field work's attendees, invited by it, entered and ranked; every project ranked.
    let attendees = tx.fieldwork_attendees(done.program_id).await.unwrap();
    let entries = tx.round_entries(done.id).await.unwrap();
    assert!(entries.len() >= 10, "{}", entries.len());
    assert_eq!(entries.len(), attendees.len());
    for e in &entries {
        assert!(tx.is_invited(done.id, e.account_id).await.unwrap());
        assert!(
            !tx.talent_preferences(done.id, e.account_id)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(e.entered_at >= done.entry_opens_at && e.entered_at < done.entry_closes_at);
    }
    // The engine's stable matching, each pair with the talent's rank of its project.
    let pairs = tx.round_pairs(done.id).await.unwrap();
    assert!(pairs.len() >= 5, "{}", pairs.len());
    for p in &pairs {
        assert_eq!(p.origin(), PairOrigin::Engine);
        let list = tx.talent_preferences(done.id, p.account_id).await.unwrap();
        let rank = list.iter().position(|x| *x == p.project_id).unwrap() as i64 + 1;
        assert_eq!(p.talent_rank, Some(rank));
    }
    let lists = tx.round_lists(done.id).await.unwrap();
    let engine = KeyedRound::new(&lists.talents, &lists.projects).unwrap();
    let solved: Vec<_> = pairs.iter().map(|p| (p.account_id, p.project_id)).collect();
    assert!(engine.check(&solved).unwrap().is_ok());
    // Most confirmed by both sides, one declined, one waiting for the talent.
    let count = |s: MatchStatus| pairs.iter().filter(|p| p.status() == s).count();
    assert_eq!(count(MatchStatus::Declined), 1);
    assert_eq!(count(MatchStatus::Proposed), 1);
    assert_eq!(count(MatchStatus::Confirmed), pairs.len() - 2);
    let engagements = tx.engagements_of_round(done.id).await.unwrap();
    assert_eq!(engagements.len(), pairs.len() - 2);
    assert!(engagements.iter().all(|e| e.status == "proposed"));
    tx.commit().await.unwrap();

    // The current year's round: open for entry now, with lists on both sides.
    let year = fiscal_year(now);
    let live = round_of(&app.store, iwate, year.0).await;
    assert_eq!(live.status(), RoundStatus::Open);
    assert_eq!(
        RoundPhase::at(live.status(), live.dates(), now),
        RoundPhase::Entry
    );
    assert!(live.interim_on);
    assert!(live.entry_opens_at < now - chrono::Duration::days(6));
    assert!(live.entry_closes_at > now + chrono::Duration::days(13));
    assert!(live.ranks_close_at > now + chrono::Duration::days(27));
    let mut tx = app.store.tenant(iwate).read().await.unwrap();
    let entries = tx.round_entries(live.id).await.unwrap();
    let mut ranking = 0;
    for e in &entries {
        assert!(e.entered_at < now);
        if !tx
            .talent_preferences(live.id, e.account_id)
            .await
            .unwrap()
            .is_empty()
        {
            ranking += 1;
        }
    }
    assert!(ranking >= 5 && ranking < entries.len(), "{ranking}");
    let projects = tx.round_projects(live.id).await.unwrap();
    let mut host_lists = 0;
    for p in &projects {
        if !tx
            .host_preferences(live.id, p.project_id)
            .await
            .unwrap()
            .is_empty()
        {
            host_lists += 1;
        }
    }
    assert!(
        host_lists >= 2 && host_lists < projects.len(),
        "{host_lists}"
    );
    assert!(tx.round_pairs(live.id).await.unwrap().is_empty());
    tx.commit().await.unwrap();

    // The API: the published round's facts without counts; the open one's with the
    // interim count of first choices, one per entrant who ranked.
    let body = facts(app, &done).await;
    assert_eq!(body["status"], "published");
    assert_eq!(body["interim"], false);
    let shown = body["projects"].as_array().unwrap();
    assert!(!shown.is_empty());
    assert!(shown.iter().all(|p| p.get("first_choices").is_none()));
    let body = facts(app, &live).await;
    assert_eq!(body["status"], "open");
    assert_eq!(body["interim"], true);
    assert_eq!(body["talent_rank_limit"], 5);
    let shown = body["projects"].as_array().unwrap();
    assert_eq!(shown.len(), projects.len());
    let firsts: u64 = shown
        .iter()
        .map(|p| p["first_choices"].as_u64().unwrap())
        .sum();
    assert_eq!(firsts, ranking as u64);

    // A second load, a day later, adds nothing.
    let before = snapshot(&app.store, iwate).await;
    assert_eq!(load(app, now + chrono::Duration::days(1)).await, 0);
    assert_eq!(snapshot(&app.store, iwate).await, before);
}
