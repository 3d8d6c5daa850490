//! Key figures (issue 13, items 4, 6 and 10) on both databases: one test per KPI
//! against a hand-counted fixture made through the store, the targets' limit, the
//! JSON API's contract and walls, the dashboard and its forms, and the roll-up.
//!
//! The fixture, in iwate (prefecture 03), fiscal year 2025 (2025-04-01 … 2026-03-31),
//! judged on 2026-12-01. People: A (Tokyo, 13), B (Iwate, 03), C (Tokyo), D (no
//! residence), E (Osaka, 27).
//!
//! | what | rows |
//! |---|---|
//! | seminar 2025-06-10 | A attended, B attended, C registered, D cancelled |
//! | field work 2025-09-01–02 | A attended both days, E registered |
//! | seminar 2024-10-01 (FY2024) | C attended |
//! | round of FY2025 | A, B, D, E entered |
//! | round of FY2024 | C entered |
//! | E1 A × H1 business | active since 2025-05-01 |
//! | E2 B × H2 fan community | 2025-07-01, ended 2025-09-15 |
//! | E3 D × H3 business | 2025-10-01, completed 2026-03-31 |
//! | E4 A × H1 fan community | active since 2026-03-01 |
//! | E5 C × H3 business | 2025-01-10, ended 2025-05-20 |
//! | E6 E × H1 business | active since 2026-04-15 (FY2026) |
//! | E7 B × H2 | proposed, never started |
//! | history | FY2018 5 matches 4 hosts; FY2019 10 and 6; FY2027 100 and 50 |
//!
//! Kamaishi holds an attended seminar and a started engagement of A's that iwate must
//! never count.

use chrono::{Duration, NaiveDate};
use yui_domain::checkin::CheckinCode;
use yui_domain::event::question::Answers;
use yui_domain::event::{EventInput, EventStatus, SeatKind, check_event_edit};
use yui_domain::kpi::{Figures, History, KpiCode};
use yui_domain::locale::Localized;
use yui_domain::program::{FieldworkRule, ProgramFields};
use yui_domain::round::{EntryRule, RoundDates, RoundMode};
use yui_domain::{AccountId, EventId, FiscalYear, HostId, ProjectId, TenantId};
use yui_store::{NewRegistration, NewRound, StoreError};

use serde_json::Value;
use yui_authz::Role;

use crate::events_api::{Person, coordinator, people};
use crate::hosts::make_host;
use crate::projects::make_project_of_kind;
use crate::support::{TestApp, on_both_backends};

on_both_backends!(
    TestApp::with_tenants =>
    registrations_count_by_event_kind_and_residence,
    attendance_counts_registrations_with_a_day_checked_in,
    attendees_are_distinct_people,
    round_entries_count_the_years_rounds,
    matches_are_engagements_started_in_the_year,
    hosts_engaged_are_distinct_per_year_and_cumulative,
    continuation_counts_only_engagements_past_their_mark,
    newly_related_people_had_their_first_activity_in_the_year,
    related_people_by_the_national_typology,
    cumulative_matches_add_the_entered_history,
    targets_are_at_most_four_a_year,
    the_api_answers_the_contract_to_staff_tokens_of_the_tenant,
    the_dashboard_draws_the_figures_and_the_admin_enters_targets_and_history,
    a_prefectures_admin_sees_its_municipalities_summed_and_no_one_else_does,
    a_union_sees_its_member_municipalities,
    the_report_downloads_as_csv_and_is_audited,
    operators_see_anonymous_statistics_with_small_cells_suppressed,
);

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

const FY: FiscalYear = FiscalYear(2025);

fn today() -> NaiveDate {
    d(2026, 12, 1)
}

async fn tenant_id(app: &TestApp, slug: &str) -> TenantId {
    app.store.tenant_by_slug(slug).await.unwrap().id
}

/// Members of `slug` (with a token of it) and the given residences.
async fn residents(app: &TestApp, slug: &str, prefix: &str, homes: &[Option<&str>]) -> Vec<Person> {
    let made = people(app, slug, prefix, homes.len()).await;
    let tenant = app.store.tenant_by_slug(slug).await.unwrap();
    for p in &made {
        let mut tx = app.store.account(p.id).write().await.unwrap();
        tx.join_tenant(tenant.id, &tenant.tenant.consent, true, app.now())
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    for (p, home) in made.iter().zip(homes) {
        let Some(home) = home else { continue };
        let profile = yui_domain::talent::check_profile(&yui_domain::talent::ProfileInput {
            display_name: format!("{prefix} {home}"),
            kana: "ジンザイ".into(),
            residence: (*home).to_owned(),
            work_style: "remote".into(),
            compensation: "honorarium".into(),
            ..Default::default()
        })
        .unwrap();
        let mut tx = app.store.account(p.id).write().await.unwrap();
        tx.save_talent_profile(&profile, app.now()).await.unwrap();
        tx.commit().await.unwrap();
    }
    made
}

/// The program of `year` (made when missing).
async fn program(app: &TestApp, tenant: TenantId, year: FiscalYear) -> yui_domain::ProgramId {
    let mut tx = app.store.tenant(tenant).write().await.unwrap();
    let id = match tx.program_of_year(year).await.unwrap() {
        Some(p) => p.id,
        None => tx
            .create_program(
                &ProgramFields {
                    fiscal_year: year,
                    title: Localized {
                        ja: format!("遠恋複業 {}年度", year.0),
                        en: format!("Enren {year}"),
                    },
                },
                FieldworkRule::Open,
                app.now(),
            )
            .await
            .unwrap(),
    };
    tx.commit().await.unwrap();
    id
}

/// A published event of `kind` on `days` consecutive days from `first`.
async fn event(
    app: &TestApp,
    tenant: TenantId,
    kind: &str,
    first: NaiveDate,
    days: u32,
) -> EventId {
    titled_event(app, tenant, kind, "地方複業のはじめかた", first, days).await
}

/// A published event of `kind` titled `title` on `days` consecutive days from `first`.
pub(crate) async fn titled_event(
    app: &TestApp,
    tenant: TenantId,
    kind: &str,
    title: &str,
    first: NaiveDate,
    days: u32,
) -> EventId {
    let mut pairs: Vec<(String, String)> = [
        ("kind", kind),
        ("audience", "talent"),
        ("title", title),
        ("format", "onsite"),
        ("selection", "first_come"),
        ("capacity_onsite", "30"),
        ("venue", "アイーナ"),
        ("address", "盛岡市盛岡駅西通"),
        ("subsidy", "none"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    for n in 0..days {
        let day = first + Duration::days(i64::from(n));
        let i = n + 1;
        pairs.push((format!("day{i}_date"), day.format("%Y-%m-%d").to_string()));
        pairs.push((format!("day{i}_starts"), "10:00".to_owned()));
        pairs.push((format!("day{i}_ends"), "16:00".to_owned()));
    }
    let fields = check_event_edit(&EventInput::from_pairs(&pairs)).unwrap();
    let program = program(app, tenant, FiscalYear::containing(first)).await;
    let mut tx = app.store.tenant(tenant).write().await.unwrap();
    let id = tx
        .create_event(program, &fields, EventStatus::Published, None, app.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

/// Registers `who`; checks them in on each of `days`; cancels when `cancel`.
pub(crate) async fn attend(
    app: &TestApp,
    tenant: TenantId,
    event: EventId,
    who: AccountId,
    days: &[NaiveDate],
    cancel: bool,
) {
    let code = CheckinCode::from_random(&rand::random::<[u8; 16]>()).unwrap();
    let answers = Answers::default();
    let mut tx = app.store.tenant(tenant).write().await.unwrap();
    let r = tx
        .register(&NewRegistration {
            event,
            account: who,
            seat_kind: SeatKind::Onsite,
            answers: &answers,
            idempotency_key: None,
            checkin_code: &code,
            now: app.now(),
        })
        .await
        .unwrap();
    let id = r.registration().id;
    for day in days {
        tx.check_in(id, *day, who, app.now()).await.unwrap();
    }
    if cancel {
        tx.cancel_registration(id, who, app.now()).await.unwrap();
    }
    tx.commit().await.unwrap();
}

/// A round of `year`'s program that `entrants` entered.
async fn round(app: &TestApp, tenant: TenantId, year: FiscalYear, entrants: &[AccountId]) {
    let program = program(app, tenant, year).await;
    let now = app.now();
    let mut tx = app.store.tenant(tenant).write().await.unwrap();
    let title = Localized {
        ja: "マッチング".into(),
        en: "Matching".into(),
    };
    let id = tx
        .create_round(
            &NewRound {
                program,
                title: &title,
                mode: RoundMode::Engine,
                entry_rule: EntryRule::Members,
                dates: RoundDates {
                    entry_opens_at: now - Duration::days(1),
                    entry_closes_at: now + Duration::days(1),
                    ranks_close_at: now + Duration::days(2),
                },
                talent_limit: 3,
                host_limit: 5,
                interim_on: false,
            },
            entrants[0],
            now,
        )
        .await
        .unwrap();
    for who in entrants {
        tx.enter_round(id, *who, now).await.unwrap();
    }
    tx.commit().await.unwrap();
}

/// An engagement of `who` on `project`, started and (maybe) ended as given.
async fn engagement(
    app: &TestApp,
    tenant: TenantId,
    who: AccountId,
    project: ProjectId,
    status: &str,
    dates: Option<(NaiveDate, Option<NaiveDate>)>,
) {
    use yui_domain::engagement::{EndReason, EngagementStatus};
    // The moves are recorded at noon in Japan on their days, as the pages would
    // record them on those days: the end date is the day of the move.
    let noon = |day: NaiveDate| {
        day.and_hms_opt(12, 0, 0)
            .unwrap()
            .and_local_timezone(yui_domain::fiscal::tokyo())
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    let mut tx = app.store.tenant(tenant).write().await.unwrap();
    let id = tx
        .create_engagement(None, who, project, app.now())
        .await
        .unwrap();
    if let Some((from, to)) = dates {
        let (active, proposed) = (EngagementStatus::Active, EngagementStatus::Proposed);
        assert!(
            tx.move_engagement(id, proposed, active, Some(from), None, who, noon(from))
                .await
                .unwrap()
        );
        if let Some(to) = to {
            let (end, reason) = match status {
                "completed" => (EngagementStatus::Completed, EndReason::TermOver),
                _ => (EngagementStatus::Ended, EndReason::Mismatch),
            };
            assert!(
                tx.move_engagement(id, active, end, None, Some((reason, "")), who, noon(to))
                    .await
                    .unwrap()
            );
        }
    }
    tx.commit().await.unwrap();
}

pub(crate) struct Fixture {
    pub(crate) iwate: TenantId,
    pub(crate) people: Vec<Person>,
}

/// The table at the top of this file.
pub(crate) async fn fixture(app: &TestApp) -> Fixture {
    let iwate = tenant_id(app, "iwate").await;
    let kamaishi = tenant_id(app, "kamaishi").await;
    let p = residents(
        app,
        "iwate",
        "kpi",
        &[Some("13"), Some("03"), Some("13"), None, Some("27")],
    )
    .await;
    let [a, b, c, dd, e] = [p[0].id, p[1].id, p[2].id, p[3].id, p[4].id];

    let seminar = event(app, iwate, "seminar", d(2025, 6, 10), 1).await;
    attend(app, iwate, seminar, a, &[d(2025, 6, 10)], false).await;
    attend(app, iwate, seminar, b, &[d(2025, 6, 10)], false).await;
    attend(app, iwate, seminar, c, &[], false).await;
    attend(app, iwate, seminar, dd, &[], true).await;
    let tour = event(app, iwate, "fieldwork", d(2025, 9, 1), 2).await;
    attend(app, iwate, tour, a, &[d(2025, 9, 1), d(2025, 9, 2)], false).await;
    attend(app, iwate, tour, e, &[], false).await;
    let earlier = event(app, iwate, "seminar", d(2024, 10, 1), 1).await;
    attend(app, iwate, earlier, c, &[d(2024, 10, 1)], false).await;

    round(app, iwate, FY, &[a, b, dd, e]).await;
    round(app, iwate, FiscalYear(2024), &[c]).await;

    let h1 = make_host(app, "iwate", "かんたはうす", "032115", true).await;
    let h2 = make_host(app, "iwate", "さともり", "032093", true).await;
    let h3 = make_host(app, "iwate", "kobiru", "032115", true).await;
    let project = |host: HostId, kind: &'static str, title: &'static str| {
        make_project_of_kind(app, "iwate", host, title, kind)
    };
    let p1 = project(h1, "business", "宿の発信").await;
    let p1b = project(h1, "fan_community", "宿のファンづくり").await;
    let p2 = project(h2, "fan_community", "里山の会").await;
    let p3 = project(h3, "business", "直売所の改善").await;
    let running = |from| Some((from, None));
    engagement(app, iwate, a, p1, "active", running(d(2025, 5, 1))).await;
    engagement(
        app,
        iwate,
        b,
        p2,
        "ended",
        Some((d(2025, 7, 1), Some(d(2025, 9, 15)))),
    )
    .await;
    engagement(
        app,
        iwate,
        dd,
        p3,
        "completed",
        Some((d(2025, 10, 1), Some(d(2026, 3, 31)))),
    )
    .await;
    engagement(app, iwate, a, p1b, "active", running(d(2026, 3, 1))).await;
    engagement(
        app,
        iwate,
        c,
        p3,
        "ended",
        Some((d(2025, 1, 10), Some(d(2025, 5, 20)))),
    )
    .await;
    engagement(app, iwate, e, p1, "active", running(d(2026, 4, 15))).await;
    engagement(app, iwate, b, p2, "proposed", None).await;

    let admin = p[0].id;
    let mut tx = app.store.tenant(iwate).write().await.unwrap();
    for (year, matches, hosts) in [(2018, 5, 4), (2019, 10, 6), (2027, 100, 50)] {
        let h = History {
            fiscal_year: FiscalYear(year),
            matches,
            hosts,
            participants: 0,
        };
        tx.put_kpi_history(FiscalYear(year), Some(&h), admin, app.now())
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();

    // Another tenant's rows of the same person.
    let k_seminar = event(app, kamaishi, "seminar", d(2025, 6, 20), 1).await;
    attend(app, kamaishi, k_seminar, a, &[d(2025, 6, 20)], false).await;
    let kh = make_host(app, "kamaishi", "釜石の宿", "032115", true).await;
    let kp = make_project_of_kind(app, "kamaishi", kh, "釜石の発信", "business").await;
    engagement(app, kamaishi, a, kp, "active", running(d(2025, 6, 1))).await;

    Fixture { iwate, people: p }
}

pub(crate) async fn figures(app: &TestApp, tenant: TenantId, year: FiscalYear) -> Figures {
    let mut tx = app.store.tenant(tenant).read().await.unwrap();
    let f = tx.kpi_figures(year, today(), Some(3)).await.unwrap();
    tx.commit().await.unwrap();
    f
}

async fn fy2025(app: &TestApp) -> Figures {
    let f = fixture(app).await;
    figures(app, f.iwate, FY).await
}

/// (total, inside, outside, unknown)
fn residence(t: &yui_domain::kpi::Tally) -> (u64, u64, u64, u64) {
    (t.total, t.inside, t.outside, t.unknown)
}

fn kind_counts(f: &Figures, kind: &str) -> (u64, u64) {
    let k = f
        .by_event_kind
        .iter()
        .find(|k| k.kind.code() == kind)
        .unwrap();
    (k.registrations, k.attended)
}

async fn registrations_count_by_event_kind_and_residence(app: &TestApp) {
    let f = fy2025(app).await;
    // Seminar A, B, C (D cancelled); field work A, E.
    assert_eq!(residence(&f.registrations), (5, 1, 4, 0));
    assert_eq!(kind_counts(&f, "seminar").0, 3);
    assert_eq!(kind_counts(&f, "fieldwork").0, 2);
    assert_eq!(kind_counts(&f, "lecture"), (0, 0));
    assert_eq!(f.registrations.prefectures.get(&13), Some(&3));
    assert_eq!(f.registrations.prefectures.get(&27), Some(&1));
}

async fn attendance_counts_registrations_with_a_day_checked_in(app: &TestApp) {
    let f = fy2025(app).await;
    // Seminar A, B; field work A (two days, one registration).
    assert_eq!(residence(&f.attended), (3, 1, 2, 0));
    assert_eq!(kind_counts(&f, "seminar").1, 2);
    assert_eq!(kind_counts(&f, "fieldwork").1, 1);
}

async fn attendees_are_distinct_people(app: &TestApp) {
    let f = fy2025(app).await;
    // A and B; C attended in FY2024 only, A's kamaishi seminar is not iwate's.
    assert_eq!(residence(&f.attendees), (2, 1, 1, 0));
}

async fn round_entries_count_the_years_rounds(app: &TestApp) {
    let f = fy2025(app).await;
    assert_eq!(residence(&f.round_entries), (4, 1, 2, 1));
}

async fn matches_are_engagements_started_in_the_year(app: &TestApp) {
    let f = fy2025(app).await;
    // E1, E2, E3, E4: not E5 (FY2024), E6 (FY2026), E7 (proposed), kamaishi's.
    assert_eq!(residence(&f.matches), (4, 1, 2, 1));
    assert_eq!((f.matches.business, f.matches.fan_community), (2, 2));
    assert_eq!(f.matches.municipalities.get("032115"), Some(&3));
    assert_eq!(f.matches.municipalities.get("032093"), Some(&1));
}

async fn hosts_engaged_are_distinct_per_year_and_cumulative(app: &TestApp) {
    let f = fy2025(app).await;
    assert_eq!(f.hosts_engaged.total, 3);
    // Business: H1, H3; fan community: H1, H2 (a host counted once per kind).
    assert_eq!(
        (f.hosts_engaged.business, f.hosts_engaged.fan_community),
        (2, 2)
    );
    assert_eq!(f.hosts_engaged.municipalities.get("032115"), Some(&2));
    // H1–H3 on the platform, plus 4 + 6 entered for FY2018 and FY2019.
    assert_eq!(f.cumulative_hosts, 13);
}

async fn continuation_counts_only_engagements_past_their_mark(app: &TestApp) {
    let f = fy2025(app).await;
    let at = |m: u32| {
        let c = f.continuation.iter().find(|c| c.months == m).unwrap();
        (c.eligible, c.continued, c.percent())
    };
    // E2 ended before 3 months; E4's 12-month mark (2027-03-01) is still ahead.
    assert_eq!(at(3), (4, 3, Some(75)));
    assert_eq!(at(6), (4, 3, Some(75)));
    assert_eq!(at(12), (3, 2, Some(67)));
}

async fn newly_related_people_had_their_first_activity_in_the_year(app: &TestApp) {
    let f = fy2025(app).await;
    // A (engagement 2025-05-01), B (seminar), D (engagement); C began in FY2024, E in
    // FY2026 (registering without attending is no activity).
    assert_eq!(residence(&f.newly_related), (3, 1, 1, 1));
    let fixture_2024 = figures(app, tenant_id(app, "iwate").await, FiscalYear(2024)).await;
    assert_eq!(fixture_2024.newly_related.total, 1);
}

async fn related_people_by_the_national_typology(app: &TestApp) {
    let f = fy2025(app).await;
    // 参加・交流型: A, B. 就労型: A, B, D and C (E5 ran into the year); A in both.
    assert_eq!(f.attendees.total, 2);
    assert_eq!(residence(&f.related_work), (4, 1, 2, 1));
}

async fn cumulative_matches_add_the_entered_history(app: &TestApp) {
    let f = fy2025(app).await;
    // E1–E5 started by 2026-03-31, plus 5 + 10 entered; FY2027's entry is later.
    assert_eq!(f.cumulative_matches, 20);
    let iwate = tenant_id(app, "iwate").await;
    let later = figures(app, iwate, FiscalYear(2026)).await;
    assert_eq!(later.matches.total, 1);
    assert_eq!(later.cumulative_matches, 21);
    let earliest = figures(app, iwate, FiscalYear(2018)).await;
    assert_eq!(
        (earliest.cumulative_matches, earliest.cumulative_hosts),
        (5, 4)
    );
}

async fn targets_are_at_most_four_a_year(app: &TestApp) {
    let f = fixture(app).await;
    let admin = f.people[0].id;
    let put = |kpi: KpiCode, target: Option<u64>| {
        let store = app.store.clone();
        let now = app.now();
        async move {
            let mut tx = store.tenant(f.iwate).write().await.unwrap();
            let r = tx.put_kpi_target(FY, kpi, target, admin, now).await;
            tx.commit().await.unwrap();
            r
        }
    };
    for (kpi, n) in [
        (KpiCode::Matches, 30),
        (KpiCode::HostsEngaged, 20),
        (KpiCode::Attendees, 100),
        (KpiCode::NewlyRelated, 50),
    ] {
        put(kpi, Some(n)).await.unwrap();
    }
    // A fifth is refused; changing one of the four is not.
    assert!(matches!(
        put(KpiCode::RoundEntries, Some(10)).await,
        Err(StoreError::Conflict(f)) if f == "kpi"
    ));
    put(KpiCode::Matches, Some(35)).await.unwrap();
    put(KpiCode::Attendees, None).await.unwrap();
    put(KpiCode::RoundEntries, Some(10)).await.unwrap();
    let mut tx = app.store.tenant(f.iwate).read().await.unwrap();
    let targets = tx.kpi_targets(FY).await.unwrap();
    tx.commit().await.unwrap();
    let got: Vec<(KpiCode, u64)> = targets.iter().map(|t| (t.kpi, t.target)).collect();
    assert_eq!(
        got,
        [
            (KpiCode::RoundEntries, 10),
            (KpiCode::Matches, 35),
            (KpiCode::HostsEngaged, 20),
            (KpiCode::NewlyRelated, 50),
        ]
    );
    let figures = figures(app, f.iwate, FY).await;
    assert_eq!(figures.actual(KpiCode::Matches), Some(4));
    // Another tenant sees none of them.
    let mut tx = app
        .store
        .tenant(tenant_id(app, "kamaishi").await)
        .read()
        .await
        .unwrap();
    assert!(tx.kpi_targets(FY).await.unwrap().is_empty());
    tx.commit().await.unwrap();
}

async fn api_get(app: &TestApp, path: &str, token: Option<&str>) -> (u16, Value) {
    let mut req = reqwest::Client::new().get(app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn the_api_answers_the_contract_to_staff_tokens_of_the_tenant(app: &TestApp) {
    let f = fixture(app).await;
    let staff = coordinator(app, "iwate", "kpi-coord").await;
    let path = "/api/v1/tenants/iwate/kpis?fiscal_year=2025";
    let (status, body) = api_get(app, path, Some(&staff.token)).await;
    assert_eq!(status, 200, "{body}");
    for (key, want) in [
        ("fiscal_year", 2025),
        ("registrations", 5),
        ("attended", 3),
        ("attendees", 2),
        ("round_entries", 4),
        ("matches", 4),
        ("hosts_engaged", 3),
        ("cumulative_matches", 20),
        ("cumulative_hosts", 13),
        ("newly_related", 3),
    ] {
        assert_eq!(body[key], want, "{key}: {body}");
    }
    assert_eq!(body["related_people"]["exchange"], 2);
    assert_eq!(body["related_people"]["work"], 4);
    assert_eq!(body["breakdown"]["matches"]["business"], 2);
    assert_eq!(body["breakdown"]["matches"]["inside_prefecture"], 1);
    assert_eq!(body["breakdown"]["matches"]["prefectures"]["13"], 2);
    let seminar = body["by_event_kind"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kind"] == "seminar")
        .unwrap();
    assert_eq!(
        (
            seminar["registrations"].clone(),
            seminar["attended"].clone()
        ),
        (3.into(), 2.into())
    );
    assert_eq!(body["fiscal_year_label"]["ja"], "2025年度（令和7年度）");

    // A mistake names the field; full-width digits are read as digits.
    for bad in ["abc", "1999", "2025.5", ""] {
        let (status, body) = api_get(
            app,
            &format!("/api/v1/tenants/iwate/kpis?fiscal_year={bad}"),
            Some(&staff.token),
        )
        .await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["fields"]["fiscal_year"], "invalid", "{bad}");
    }
    let (status, body) = api_get(
        app,
        "/api/v1/tenants/iwate/kpis?fiscal_year=%EF%BC%92%EF%BC%90%EF%BC%92%EF%BC%95",
        Some(&staff.token),
    )
    .await;
    assert_eq!((status, body["matches"].clone()), (200, 4.into()));

    // Another tenant's staff, a talent of this one, nobody: nothing of iwate.
    let other = coordinator(app, "kamaishi", "kpi-other").await;
    assert_eq!(api_get(app, path, Some(&other.token)).await.0, 404);
    assert_eq!(
        api_get(
            app,
            "/api/v1/tenants/kamaishi/kpis?fiscal_year=2025",
            Some(&staff.token)
        )
        .await
        .0,
        404
    );
    assert_eq!(api_get(app, path, Some(&f.people[0].token)).await.0, 404);
    assert_eq!(api_get(app, path, None).await.0, 401);
    assert_eq!(
        api_get(app, "/api/v1/tenants/nowhere/kpis", Some(&staff.token))
            .await
            .0,
        404
    );

    // Kamaishi's own figures hold its own rows only.
    let (status, body) = api_get(
        app,
        "/api/v1/tenants/kamaishi/kpis?fiscal_year=2025",
        Some(&other.token),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        (body["matches"].clone(), body["attended"].clone()),
        (1.into(), 1.into())
    );

    let (_, doc) = api_get(app, "/api/v1/openapi.json", None).await;
    assert!(doc["paths"]["/api/v1/tenants/{slug}/kpis"]["get"].is_object());
    assert!(doc["components"]["schemas"]["KpiFigures"].is_object());
}

async fn signed_in(app: &TestApp, email: &str, role: Role, slug: &str) -> reqwest::Client {
    let (client, id) = crate::staff::person(app, "県 担当", email).await;
    crate::staff::grant(app, id, role, Some(slug)).await;
    client
}

async fn the_dashboard_draws_the_figures_and_the_admin_enters_targets_and_history(app: &TestApp) {
    fixture(app).await;
    let admin = signed_in(app, "kpi-admin@example.jp", Role::TenantAdmin, "iwate").await;
    let page = app.open(&admin, "/t/iwate/kpis?fy=2025").await;
    assert_eq!(page.status(), 200, "{}", page.html());
    let html = page.html().to_owned();
    assert!(html.contains("2025年度（令和7年度）"));
    assert!(html.contains("<svg"));
    assert!(!html.contains("<script"));
    // Every chart has its table with a caption.
    assert_eq!(
        html.matches("<svg").count(),
        html.matches("class=\"kpi-chart\"").count()
    );
    assert!(html.contains("<caption id=\"kpi-continuation-caption\">継続率</caption>"));
    assert!(html.contains("<th scope=\"row\">セミナー</th><td>3</td><td>2</td>"));

    // A target, then a historical year; both show, and both are audited.
    let res = page
        .form("/t/iwate/kpis/targets")
        .set("kpi", "matches")
        .set("target", "８")
        .submit(&admin)
        .await;
    assert_eq!(res.status(), 303);
    let html = app.page(&admin, "/t/iwate/kpis?fy=2025").await;
    assert!(
        html.contains("<th scope=\"row\">マッチング数</th><td>4</td><td>8</td><td>50%</td>"),
        "{html}"
    );
    let page = app.open(&admin, "/t/iwate/kpis?fy=2025").await;
    let res = page
        .form("/t/iwate/kpis/history")
        .set("history_year", "2020")
        .set("matches", "7")
        .set("hosts", "3")
        .submit(&admin)
        .await;
    assert_eq!(res.status(), 303);
    let html = app.page(&admin, "/t/iwate/kpis?fy=2025").await;
    assert!(html.contains("累計マッチング数</th><td>27</td>"), "{html}");
    let audit = crate::support::audit_entries(&app.store, Some(tenant_id(app, "iwate").await), 10)
        .await
        .unwrap();
    assert_eq!(
        audit
            .iter()
            .filter(|e| e.action == "kpi_figures_edited")
            .count(),
        2
    );

    // Mistakes re-render with the typed values and the field named, in Japanese.
    let page = app.open(&admin, "/t/iwate/kpis?fy=2025").await;
    let res = page
        .form("/t/iwate/kpis/targets")
        .set("fiscal_year", "<script>")
        .set("kpi", "matches")
        .set("target", "-3")
        .submit(&admin)
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("年度") && html.contains("目標値"));
    assert!(!html.contains("<script>"));
    // The fifth KPI with a target is refused on its field.
    for kpi in [
        "registrations",
        "attendees",
        "newly_related",
        "round_entries",
    ] {
        let page = app.open(&admin, "/t/iwate/kpis?fy=2025").await;
        let res = page
            .form("/t/iwate/kpis/targets")
            .set("kpi", kpi)
            .set("target", "1")
            .submit(&admin)
            .await;
        let status = res.status().as_u16();
        if kpi == "round_entries" {
            assert_eq!(status, 422);
            let html = res.text().await.unwrap();
            assert!(html.contains("f-kpi-error"), "{html}");
        } else {
            assert_eq!(status, 303);
        }
    }
    // Figures for the year the platform counts itself, or one to come, would be
    // counted twice: refused on the year's field, nothing saved.
    let current = yui_domain::FiscalYear::containing(today()).0;
    for year in [current, current + 3] {
        let page = app.open(&admin, "/t/iwate/kpis?fy=2025").await;
        let res = page
            .form("/t/iwate/kpis/history")
            .set("history_year", &year.to_string())
            .set("matches", "1000")
            .submit(&admin)
            .await;
        assert_eq!(res.status(), 422, "{year}");
        assert!(res.text().await.unwrap().contains("f-history_year-error"));
    }
    let html = app.page(&admin, "/t/iwate/kpis?fy=2025").await;
    assert!(html.contains("累計マッチング数</th><td>27</td>"), "{html}");
    // A rate's target is at most 100 %.
    let page = app.open(&admin, "/t/iwate/kpis?fy=2025").await;
    let res = page
        .form("/t/iwate/kpis/targets")
        .set("kpi", "continuation_6")
        .set("target", "150")
        .submit(&admin)
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("f-target-error"));
    // A year that is not one: the page for this year, the field named.
    let res = admin
        .get(app.url("/t/iwate/kpis?fy=abc"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("f-fy-error"));
    // In English.
    let en = app.page(&admin, "/t/iwate/kpis?fy=2025&lang=en").await;
    assert!(en.contains("FY2025") || en.contains("Key figures"), "{en}");

    // A coordinator reads but has no forms; posting is refused. A talent and a
    // stranger see nothing.
    let coord = signed_in(app, "kpi-coord@example.jp", Role::Coordinator, "iwate").await;
    let page = app.open(&coord, "/t/iwate/kpis?fy=2025").await;
    assert_eq!(page.status(), 200);
    assert!(!page.html().contains("/t/iwate/kpis/targets"));
    let csrf_page = app.open(&admin, "/t/iwate/kpis?fy=2025").await;
    let res = csrf_page
        .form("/t/iwate/kpis/targets")
        .set("kpi", "matches")
        .set("target", "1")
        .submit(&coord)
        .await;
    assert_ne!(res.status(), 303);
    let (talent, _) = crate::staff::person(app, "人材", "kpi-talent@example.jp").await;
    assert_eq!(app.status(&talent, "/t/iwate/kpis").await, 404);
    let stranger = app.client();
    assert_ne!(app.status(&stranger, "/t/iwate/kpis").await, 200);
    // Another tenant's admin: 404.
    let other = signed_in(
        app,
        "kpi-kamaishi@example.jp",
        Role::TenantAdmin,
        "kamaishi",
    )
    .await;
    assert_eq!(app.status(&other, "/t/iwate/kpis").await, 404);
}

async fn a_prefectures_admin_sees_its_municipalities_summed_and_no_one_else_does(app: &TestApp) {
    fixture(app).await;
    let (admin, id) = crate::staff::person(app, "県 管理者", "kpi-pref@example.jp").await;
    crate::staff::grant(app, id, Role::TenantAdmin, Some("iwate")).await;
    // The prefecture's admin also holds the aggregates of its municipalities.
    let children = yui_authz::NewGrant {
        account_id: id,
        role: Role::TenantAdmin,
        scope: yui_authz::Scope::Children,
        tenant: Some("iwate".to_owned()),
        valid_until: None,
        granted_by: None,
    };
    app.authz
        .grant(&app.store, &children, app.now())
        .await
        .unwrap();
    let html = app.page(&admin, "/t/iwate/kpis?fy=2025").await;
    assert!(html.contains("rollup-caption"), "{html}");
    // Iwate 4 matches, Ichinoseki 0, Kamaishi 1: summed 5.
    assert!(
        html.contains(
            "<th scope=\"row\">マッチング数</th><td>4</td><td>0</td><td>1</td><td>5</td>"
        ),
        "{html}"
    );
    // The children's pages answer the prefecture's admin too (aggregates).
    assert_eq!(app.status(&admin, "/t/kamaishi/kpis").await, 200);
    // A coordinator of the prefecture: no roll-up, no children.
    let coord = signed_in(app, "kpi-pref-coord@example.jp", Role::Coordinator, "iwate").await;
    let html = app.page(&coord, "/t/iwate/kpis?fy=2025").await;
    assert!(!html.contains("rollup-caption"));
    assert_eq!(app.status(&coord, "/t/kamaishi/kpis").await, 404);
    // A municipality's admin: neither the prefecture nor a sibling.
    let child = signed_in(app, "kpi-child@example.jp", Role::TenantAdmin, "kamaishi").await;
    assert_eq!(app.status(&child, "/t/kamaishi/kpis").await, 200);
    assert_eq!(app.status(&child, "/t/iwate/kpis").await, 404);
    assert_eq!(app.status(&child, "/t/ichinoseki/kpis").await, 404);
    let html = app.page(&child, "/t/kamaishi/kpis?fy=2025").await;
    assert!(!html.contains("rollup-caption"));
}

async fn a_union_sees_its_member_municipalities(app: &TestApp) {
    let amami = tenant_id(app, "amami").await;
    let p = residents(app, "amami", "kpi-amami", &[Some("46"), Some("13")]).await;
    let h1 = make_host(app, "amami", "名瀬の宿", "462225", true).await;
    let h2 = make_host(app, "amami", "徳之島の畑", "465305", true).await;
    let p1 = make_project_of_kind(app, "amami", h1, "宿の発信", "business").await;
    let p2 = make_project_of_kind(app, "amami", h2, "畑の発信", "fan_community").await;
    engagement(
        app,
        amami,
        p[0].id,
        p1,
        "active",
        Some((d(2025, 6, 1), None)),
    )
    .await;
    engagement(
        app,
        amami,
        p[1].id,
        p1,
        "active",
        Some((d(2025, 7, 1), None)),
    )
    .await;
    engagement(
        app,
        amami,
        p[1].id,
        p2,
        "active",
        Some((d(2025, 8, 1), None)),
    )
    .await;
    let f = figures(app, amami, FY).await;
    assert_eq!(f.matches.municipalities.get("462225"), Some(&2));
    assert_eq!(f.matches.municipalities.get("465305"), Some(&1));
    // Kagoshima (46) is the union's own prefecture.
    let mut tx = app.store.tenant(amami).read().await.unwrap();
    let home = tx.kpi_figures(FY, today(), Some(46)).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!((home.matches.inside, home.matches.outside), (1, 2));
    let admin = signed_in(app, "kpi-union@example.jp", Role::TenantAdmin, "amami").await;
    let html = app.page(&admin, "/t/amami/kpis?fy=2025").await;
    assert!(html.contains("kpi-members-caption"), "{html}");
    assert!(
        html.contains("<th scope=\"row\">奄美市</th><td>2</td><td>1</td>"),
        "{html}"
    );
}

async fn the_report_downloads_as_csv_and_is_audited(app: &TestApp) {
    fixture(app).await;
    let admin = signed_in(app, "kpi-report@example.jp", Role::TenantAdmin, "iwate").await;
    let html = app.page(&admin, "/t/iwate/kpis?fy=2025").await;
    assert!(html.contains("/t/iwate/kpis/report.csv?fy=2025"));
    let res = admin
        .get(app.url("/t/iwate/kpis/report.csv?fy=2025"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let body = res.bytes().await.unwrap();
    assert!(body.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8(body.to_vec()).unwrap();
    assert!(text.contains(",マッチング数,4,\r\n"), "{text}");
    assert!(text.contains(",累計マッチング数,20,\r\n"), "{text}");
    assert!(
        text.contains("2025-06-10 セミナー 地方複業のはじめかた,3,2\r\n"),
        "{text}"
    );
    let audit = crate::support::audit_entries(&app.store, Some(tenant_id(app, "iwate").await), 5)
        .await
        .unwrap();
    assert!(audit.iter().any(|e| e.action == "export"));
    // A bad year is the person's mistake, not a server error.
    assert_eq!(
        app.status(&admin, "/t/iwate/kpis/report.csv?fy=x").await,
        400
    );
    // A coordinator (no report read), another tenant's admin: nothing.
    let coord = signed_in(app, "kpi-report-c@example.jp", Role::Coordinator, "iwate").await;
    assert_eq!(app.status(&coord, "/t/iwate/kpis/report.csv").await, 404);
    let other = signed_in(
        app,
        "kpi-report-k@example.jp",
        Role::TenantAdmin,
        "kamaishi",
    )
    .await;
    assert_eq!(app.status(&other, "/t/iwate/kpis/report.csv").await, 404);
}

async fn operators_see_anonymous_statistics_with_small_cells_suppressed(app: &TestApp) {
    // Iwate: 2 attendees and 4 people engaged in FY2025 (the fixture); Amami: 6
    // attendees of one seminar.
    fixture(app).await;
    let amami = tenant_id(app, "amami").await;
    let crowd = residents(app, "amami", "kpi-crowd", &[Some("46"); 6]).await;
    let seminar = event(app, amami, "seminar", d(2025, 7, 1), 1).await;
    for p in &crowd {
        attend(app, amami, seminar, p.id, &[d(2025, 7, 1)], false).await;
    }
    let (operator, id) = crate::staff::person(app, "運営", "kpi-ops@example.jp").await;
    crate::staff::grant(app, id, Role::PlatformOperator, None).await;
    let html = app.page(&operator, "/ops/statistics?fy=2025").await;
    assert!(
        html.contains("<th scope=\"row\">奄美群島広域事務組合</th><td>6</td><td>&lt;5</td>"),
        "{html}"
    );
    assert!(
        html.contains("<th scope=\"row\">岩手県</th><td>&lt;5</td><td>&lt;5</td>"),
        "{html}"
    );
    // A total that would give a hidden cell back is hidden too.
    assert!(
        html.contains("<tfoot><tr><th scope=\"row\">合計</th><td>&lt;5</td><td>&lt;5</td>"),
        "{html}"
    );
    // No digit below five stands alone in a cell.
    for n in 1..5 {
        assert!(!html.contains(&format!("<td>{n}</td>")), "{n}: {html}");
    }
    // A year that is not one is said so on an HTML page, not swapped for another.
    let res = operator
        .get(app.url("/ops/statistics?fy=abc"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("<html"));
    // Staff of a tenant are not operators.
    let admin = signed_in(app, "kpi-stat-admin@example.jp", Role::TenantAdmin, "iwate").await;
    assert_ne!(app.status(&admin, "/ops/statistics").await, 200);
}
