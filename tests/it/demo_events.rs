//! The demo's programs and events (`yui serve --demo`): the seeds' schedules in Tokyo
//! time, registrations whose counters match their rows, a full seminar with a
//! waitlist, and a second load that changes nothing.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use yui_domain::event::TravelSubsidy;
use yui_domain::registration::RegistrationStatus;
use yui_domain::{FiscalYear, fiscal::tokyo};
use yui_store::{Event, Store};

use crate::support::{TestApp, on_both_backends};

on_both_backends!(TestApp::with_demo => demo_events_from_the_seeds_load_once);

pub(crate) async fn load_all(app: &TestApp, now: DateTime<Utc>) -> usize {
    let tenants = crate::support::repo_tenants();
    yui::demo::load_accounts(&app.store, now).await.unwrap();
    yui::demo::load_hosts(&app.store, &tenants, now)
        .await
        .unwrap();
    yui::demo::load_talents(&app.store, now).await.unwrap();
    yui::demo::load_events(&app.store, now).await.unwrap()
}

async fn events_of(store: &Store, slug: &str) -> Vec<Event> {
    let t = store.tenant_by_slug(slug).await.unwrap();
    let mut tx = store.tenant(t.id).read().await.unwrap();
    let events = tx.events(false, None, None, 1000).await.unwrap();
    tx.commit().await.unwrap();
    events
}

fn named<'a>(events: &'a [Event], title: &str) -> &'a Event {
    events
        .iter()
        .find(|e| e.title == title)
        .unwrap_or_else(|| panic!("{title} missing"))
}

fn tokyo_at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    tokyo()
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .unwrap()
        .with_timezone(&Utc)
}

/// Everything the demo's events hold, per tenant, for comparing two loads.
async fn snapshot(store: &Store) -> Vec<String> {
    let mut out = Vec::new();
    for slug in ["iwate", "ichinoseki", "kamaishi", "amami"] {
        let t = store.tenant_by_slug(slug).await.unwrap();
        let mut tx = store.tenant(t.id).read().await.unwrap();
        for p in tx.programs().await.unwrap() {
            out.push(format!("{slug} program {} {}", p.fiscal_year, p.title_ja));
        }
        for e in tx.events(false, None, None, 1000).await.unwrap() {
            let regs = tx.registrations(e.id).await.unwrap();
            let attendance = tx.attendance(e.id).await.unwrap();
            let statuses: Vec<_> = regs
                .iter()
                .map(|r| (r.account_id, r.status.clone()))
                .collect();
            out.push(format!(
                "{slug} {} {} {}/{}/{} {statuses:?} {}",
                e.title,
                e.starts_at,
                e.confirmed_onsite,
                e.confirmed_online,
                e.waitlisted,
                attendance.len()
            ));
        }
        tx.commit().await.unwrap();
    }
    out
}

async fn demo_events_from_the_seeds_load_once(app: &TestApp) {
    let now = app.now();
    let created = load_all(app, now).await;
    assert!(created >= 18, "{created}");

    // Iwate FY2025 (seed 001): the program and its three events, in Tokyo time.
    let iwate = app.store.tenant_by_slug("iwate").await.unwrap();
    let mut tx = app.store.tenant(iwate.id).read().await.unwrap();
    let fy2025 = tx
        .program_of_year(FiscalYear(2025))
        .await
        .unwrap()
        .expect("FY2025");
    tx.commit().await.unwrap();
    assert_eq!(fy2025.title_ja, "遠恋複業 2025年度");
    assert_eq!(fy2025.fieldwork_rule, "preferred");
    let events = events_of(&app.store, "iwate").await;
    let seminar = named(&events, "地方複業のはじめかた");
    assert_eq!(seminar.program_id, fy2025.id);
    assert_eq!(seminar.format, "online");
    assert_eq!(seminar.starts_at, tokyo_at(2025, 8, 25, 19, 0));
    assert_eq!(seminar.ends_at, tokyo_at(2025, 8, 25, 20, 0));
    let grapes = named(&events, "岩手・花巻で ブドウ収穫体験フィールドワーク");
    assert_eq!(
        grapes.starts_at.with_timezone(&tokyo()).date_naive(),
        NaiveDate::from_ymd_opt(2025, 10, 19).unwrap()
    );
    assert_eq!(
        (grapes.kind.as_str(), grapes.selection.as_str()),
        ("fieldwork", "screened")
    );
    let geto = named(
        &events,
        "地域と温泉を楽しみながら考える 遠恋複業フィールドワーク",
    );
    let fields = geto.fields().unwrap();
    let dates: Vec<_> = fields.days.iter().map(|d| d.date.to_string()).collect();
    assert_eq!(dates, ["2025-11-08", "2025-11-09"]);
    assert!(fields.days[0].itinerary.contains("鬼剣舞"));
    assert!(fields.days[1].itinerary.contains("グループワーク"));
    assert_eq!(fields.subsidy, TravelSubsidy::None);

    // Ichinoseki and Kamaishi FY2019 (seed 002).
    for (slug, lectures, practice) in [
        ("ichinoseki", [(9, 21), (11, 22)], [(11, 3), (11, 4)]),
        ("kamaishi", [(10, 16), (12, 11)], [(11, 10), (11, 11)]),
    ] {
        let events = events_of(&app.store, slug).await;
        assert!(
            events
                .iter()
                .all(|e| e.starts_at.with_timezone(&tokyo()).date_naive()
                    < NaiveDate::from_ymd_opt(2020, 4, 1).unwrap())
        );
        let open = named(&events, "オープンセミナー（首都圏説明会）");
        assert_eq!(open.starts_at, tokyo_at(2019, 9, 5, 19, 0));
        let mut days: Vec<(u32, u32)> = events
            .iter()
            .filter(|e| e.kind == "lecture")
            .map(|e| {
                use chrono::Datelike;
                let d = e.starts_at.with_timezone(&tokyo()).date_naive();
                (d.month(), d.day())
            })
            .collect();
        days.sort();
        assert_eq!(days, lectures, "{slug}");
        let tour = events.iter().find(|e| e.kind == "fieldwork").unwrap();
        let tour_days: Vec<(u32, u32)> = tour
            .fields()
            .unwrap()
            .days
            .iter()
            .map(|d| {
                use chrono::Datelike;
                (d.date.month(), d.date.day())
            })
            .collect();
        assert_eq!(tour_days, practice, "{slug}");
    }

    // Amami FY2024 (seed 003): hybrid, 16:30–18:00 and 15:00–16:30, free.
    let amami = events_of(&app.store, "amami").await;
    let first = named(&amami, "副業・兼業人材活用セミナー（第1回）");
    assert_eq!(first.starts_at, tokyo_at(2024, 11, 12, 16, 30));
    assert_eq!(first.ends_at, tokyo_at(2024, 11, 12, 18, 0));
    let second = named(&amami, "副業・兼業人材活用セミナー（第2回）");
    assert_eq!(second.starts_at, tokyo_at(2024, 12, 11, 15, 0));
    assert_eq!(second.ends_at, tokyo_at(2024, 12, 11, 16, 30));
    for e in [first, second] {
        assert_eq!(
            (e.format.as_str(), e.audience.as_str()),
            ("hybrid", "hosts")
        );
        assert_eq!((e.capacity_onsite, e.capacity_online), (Some(20), Some(20)));
        assert_eq!(e.fields().unwrap().fee, yui_domain::event::Fee::Free);
        assert!(e.fields().unwrap().venue.contains("アマホームPLAZA"));
    }

    // Upcoming in Iwate: published, after now; the full one has every seat taken
    // and three waiting.
    let upcoming: Vec<_> = events.iter().filter(|e| e.starts_at > now).collect();
    assert!(upcoming.iter().all(|e| e.status == "published"));
    for kind in ["online", "hybrid"] {
        assert!(
            upcoming
                .iter()
                .any(|e| e.kind == "seminar" && e.format == kind),
            "{kind}"
        );
    }
    assert!(upcoming.iter().any(|e| e.audience == "hosts"));
    let full = named(&events, "少人数座談会 先輩複業人材と話す");
    assert!(full.starts_at > now);
    assert_eq!(full.capacity_onsite, Some(5));
    assert_eq!((full.confirmed_onsite, full.waitlisted), (5, 3));
    let tour = named(&events, "遠恋複業フィールドワーク 受入企業を訪ねる2日間");
    let tour_fields = tour.fields().unwrap();
    assert_eq!(tour_fields.days.len(), 2);
    assert_eq!(tour_fields.subsidy, TravelSubsidy::UpTo(50_000));
    assert!(tour_fields.logistics_form && !tour_fields.logistics.is_empty());
    assert_eq!(tour.program_id, {
        let mut tx = app.store.tenant(iwate.id).read().await.unwrap();
        let year = FiscalYear::containing(tour_fields.days[0].date);
        let p = tx.program_of_year(year).await.unwrap().unwrap().id;
        tx.commit().await.unwrap();
        p
    });

    // Counters match rows everywhere; past events were attended, with no-shows and a
    // cancellation; the upcoming tour has people to screen, logistics and subsidy marks.
    let mut statuses = Vec::new();
    for slug in ["iwate", "ichinoseki", "kamaishi", "amami"] {
        let t = app.store.tenant_by_slug(slug).await.unwrap();
        let mut tx = app.store.tenant(t.id).read().await.unwrap();
        for e in tx.events(false, None, None, 1000).await.unwrap() {
            let regs = tx.registrations(e.id).await.unwrap();
            let held = |kind: &str| {
                regs.iter()
                    .filter(|r| r.seat_kind == kind && r.status().holds_seat())
                    .count() as i64
            };
            assert_eq!(e.confirmed_onsite, held("onsite"), "{}", e.title);
            assert_eq!(e.confirmed_online, held("online"), "{}", e.title);
            let waiting = regs
                .iter()
                .filter(|r| r.status() == RegistrationStatus::Waitlisted)
                .count() as i64;
            assert_eq!(e.waitlisted, waiting, "{}", e.title);
            assert!(
                e.confirmed_onsite <= e.capacity_onsite.unwrap_or(0),
                "{}",
                e.title
            );
            assert!(
                e.confirmed_online <= e.capacity_online.unwrap_or(0),
                "{}",
                e.title
            );
            let attendance = tx.attendance(e.id).await.unwrap();
            if e.ends_at < now && !regs.is_empty() {
                assert!(!attendance.is_empty(), "{}", e.title);
                assert!(
                    regs.iter().all(|r| !matches!(
                        r.status(),
                        RegistrationStatus::Confirmed | RegistrationStatus::Pending
                    )),
                    "{}: every registrant of a past event came or not",
                    e.title
                );
            } else {
                assert!(attendance.is_empty(), "{}", e.title);
            }
            if e.id == tour.id {
                assert!(
                    regs.iter()
                        .any(|r| r.status() == RegistrationStatus::Pending)
                );
                let approved: Vec<_> = regs
                    .iter()
                    .filter(|r| r.status() == RegistrationStatus::Confirmed)
                    .collect();
                assert!(!approved.is_empty());
                assert!(approved.iter().all(|r| r.logistics().is_some()));
                assert!(approved.iter().any(|r| r.subsidy_eligible));
            }
            statuses.extend(regs.iter().map(|r| r.status()));
        }
        tx.commit().await.unwrap();
    }
    for s in [
        RegistrationStatus::Attended,
        RegistrationStatus::NoShow,
        RegistrationStatus::Cancelled,
        RegistrationStatus::Waitlisted,
    ] {
        assert!(statuses.contains(&s), "{s:?}");
    }
    // The geto tour: someone left after the first day.
    let t = app.store.tenant_by_slug("iwate").await.unwrap();
    let mut tx = app.store.tenant(t.id).read().await.unwrap();
    let days = tx.attendance(geto.id).await.unwrap();
    tx.commit().await.unwrap();
    let first_day = days
        .iter()
        .filter(|d| d.day.to_string() == "2025-11-08")
        .count();
    let second_day = days
        .iter()
        .filter(|d| d.day.to_string() == "2025-11-09")
        .count();
    assert!(
        first_day > second_day && second_day > 0,
        "{first_day} {second_day}"
    );

    // A second load, a day later, changes nothing.
    let before = snapshot(&app.store).await;
    assert_eq!(load_all(app, now + chrono::Duration::days(1)).await, 0);
    assert_eq!(snapshot(&app.store).await, before);
}
