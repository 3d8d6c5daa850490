//! Engagements and their follow-up (issue 13) through the rendered forms: a
//! coordinator registers one and runs it (terms kept as history, refused moves
//! that lose nothing, renewal, an end with its reason); a confirmed match's
//! engagement is started once its terms are in; both sides check in and reflect,
//! an assigned mentor writes notes and an unassigned one is refused; each cause of
//! being at risk, and the daily digest sent once from two nodes at once; every route
//! walled against other tenants, other talents and strangers.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use yui_authz::Role;
use yui_domain::engagement::{
    Checkin, CheckinSide, Compensation, Terms, WorkStyle, japan_day, japan_midnight, japan_month,
};
use yui_domain::ids::EngagementId;
use yui_domain::{AccountId, HostId, ProjectId, TenantId};
use yui_store::{EngagementRecord, NewEngagement};

use crate::hosts::{coordinator, host_member, make_host, status_form};
use crate::projects::make_project;
use crate::staff::{grant, person};
use crate::support::{Page, TestApp, audit_entries, on_both_backends};
use crate::talent::join;

on_both_backends!(
    TestApp::with_tenants =>
    a_coordinator_registers_runs_and_renews_an_engagement,
    a_confirmed_match_starts_once_its_terms_are_in,
    both_sides_check_in_and_reflect_and_the_assigned_mentor_writes_notes,
    each_cause_puts_an_engagement_at_risk_and_the_digest_goes_once_a_day,
    every_route_is_walled,
    parallel_creates_make_one_engagement_and_the_rest_are_told_why,
    parallel_terms_sends_renew_once_and_record_a_change_once,
    the_pages_fit_a_phone_and_read_in_either_language,
);

const HOSTILE: &str = "<script>alert('e')</script>販路";

async fn tenant_id(app: &TestApp, slug: &str) -> TenantId {
    app.store.tenant_by_slug(slug).await.unwrap().id
}

/// A talent who joined `slug`.
async fn member(
    app: &TestApp,
    slug: &str,
    name: &str,
    email: &str,
) -> (reqwest::Client, AccountId) {
    let (client, id) = person(app, name, email).await;
    assert_eq!(join(app, &client, slug, true).await.status(), 303);
    (client, id)
}

/// A host with an open project in `slug`.
async fn host_project(app: &TestApp, slug: &str, name: &str) -> (HostId, ProjectId) {
    let code = if slug == "iwate" { "032051" } else { "032115" };
    let host = make_host(app, slug, name, code, true).await;
    let project = make_project(app, slug, host, &format!("{name}の広報"), "public", true).await;
    (host, project)
}

async fn engagement(app: &TestApp, slug: &str, id: EngagementId) -> EngagementRecord {
    let mut tx = app
        .store
        .tenant(tenant_id(app, slug).await)
        .read()
        .await
        .unwrap();
    let e = tx.engagement(id).await.unwrap().unwrap();
    tx.commit().await.unwrap();
    e
}

async fn terms_count(app: &TestApp, slug: &str, id: EngagementId) -> usize {
    let mut tx = app
        .store
        .tenant(tenant_id(app, slug).await)
        .read()
        .await
        .unwrap();
    let n = tx.engagement_terms(id).await.unwrap().len();
    tx.commit().await.unwrap();
    n
}

fn pro_bono(starts_on: NaiveDate, ends_on: Option<NaiveDate>) -> Terms {
    Terms {
        starts_on,
        ends_on,
        hours_per_month: Some(8),
        work_style: WorkStyle::Remote,
        compensation: Compensation::ProBono,
        amount_yen: None,
        note: String::new(),
    }
}

/// An engagement made directly (the demo's way): active from `started_on` when given.
async fn make_engagement(
    app: &TestApp,
    slug: &str,
    talent: AccountId,
    project: ProjectId,
    started_on: Option<NaiveDate>,
    at: DateTime<Utc>,
) -> EngagementId {
    let terms = pro_bono(started_on.unwrap_or_else(|| japan_day(at)), None);
    let mut tx = app
        .store
        .tenant(tenant_id(app, slug).await)
        .write()
        .await
        .unwrap();
    let id = tx
        .create_engagement_with_terms(
            &NewEngagement {
                talent,
                project,
                round: None,
                created_by: None,
                terms: Some(&terms),
                started_on,
            },
            at,
        )
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    id
}

/// A check-in in iwate written at `at` (the demo's way).
async fn check_in(
    app: &TestApp,
    id: EngagementId,
    side: CheckinSide,
    author: AccountId,
    satisfaction: u8,
    concern: Option<&str>,
    at: DateTime<Utc>,
) {
    let mut tx = app
        .store
        .tenant(tenant_id(app, "iwate").await)
        .write()
        .await
        .unwrap();
    let c = Checkin {
        month: japan_month(at),
        progress: "進んでいます".into(),
        satisfaction,
        concern: concern.map(str::to_owned),
    };
    tx.save_checkin(id, side, author, &c, at).await.unwrap();
    tx.commit().await.unwrap();
}

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

fn today(app: &TestApp) -> NaiveDate {
    japan_day(app.now())
}

async fn a_coordinator_registers_runs_and_renews_an_engagement(app: &TestApp) {
    let coord = coordinator(app, "iwate", "coord-e@example.jp").await;
    let (_hana, hana_id) = member(app, "iwate", "山田 花子", "hana-e@example.jp").await;
    let (_host, project) = host_project(app, "iwate", "かんたはうす").await;
    let new = "/t/iwate/engagements/new";
    let list = "/t/iwate/engagements";
    assert!(app.page(&coord, list).await.contains(new));

    // Bad input: each field named, what was typed kept, hostile text escaped.
    let res = app
        .open(&coord, new)
        .await
        .form(list)
        .set("talent", &hana_id.to_string())
        .set("term_starts_on", "あした")
        .set("compensation", "contract")
        .set("hours_per_month", "800")
        .set("terms_note", HOSTILE)
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 422);
    let page = Page::read(res).await;
    let html = page.html();
    for label in [
        "案件：",
        "条件の開始日：",
        "関わり方：",
        "金額（円）：",
        "月あたりの時間",
    ] {
        assert!(html.contains(label), "{label}: {html}");
    }
    assert!(html.contains("あした"));
    assert!(!html.contains("<script>alert") && html.contains("&lt;script&gt;"));
    // English names the fields too.
    let res = app
        .open(&coord, &format!("{new}?lang=en"))
        .await
        .form(list)
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Talent") && html.contains("Terms from"),
        "{html}"
    );
    app.page(&coord, &format!("{list}?lang=ja")).await;

    // Corrected: proposed (no start date), pro bono.
    let res = page
        .form(list)
        .set("project", &project.to_string())
        .set("term_starts_on", "２０２６－１２－０１")
        .set("term_work_style", "remote")
        .set("compensation", "pro_bono")
        .set("hours_per_month", "１０")
        .set("amount_yen", "")
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 303);
    let path = location(&res).split('?').next().unwrap().to_owned();
    let id: EngagementId = path.rsplit('/').next().unwrap().parse().unwrap();
    assert_eq!(engagement(app, "iwate", id).await.status, "proposed");
    let html = app.page(&coord, &path).await;
    assert!(
        html.contains("山田 花子") && html.contains("プロボノ"),
        "{html}"
    );
    assert!(!html.contains("<script>alert"));

    // A move the machine does not allow (completing what never started): the page
    // says so, and nothing is lost.
    let page = app.open(&coord, &path).await;
    let mut f = status_form(&page, "active");
    f.forge("to", "completed");
    let res = f.submit(&coord).await;
    assert_eq!(res.status(), 409);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("いまの状態からは、この変更はできません"),
        "{html}"
    );
    assert_eq!(engagement(app, "iwate", id).await.status, "proposed");
    assert_eq!(terms_count(app, "iwate", id).await, 1);

    // Started with a date.
    let res = status_form(&page, "active")
        .set("started_on", "2026-12-01")
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 303);
    let e = engagement(app, "iwate", id).await;
    assert_eq!(e.status, "active");
    assert_eq!(e.started_on, NaiveDate::from_ymd_opt(2026, 12, 1));

    // From pro bono to a paid contract: recorded as history, the first row kept.
    let page = app.open(&coord, &path).await;
    let res = page
        .form(&format!("{path}/terms"))
        .set("term_change", "change")
        .set("compensation", "contract")
        .set("amount_yen", "")
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 422, "an amount is needed for a contract");
    let res = Page::read(res)
        .await
        .form(&format!("{path}/terms"))
        .set("amount_yen", "５０，０００")
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(terms_count(app, "iwate", id).await, 2);
    let html = app.page(&coord, &path).await;
    assert!(html.contains("プロボノ") && html.contains("業務委託") && html.contains("50,000円"));

    // Pause, resume, complete; then a renewal makes it active in a second term.
    for to in ["paused", "active", "completed"] {
        let page = app.open(&coord, &path).await;
        assert_eq!(
            status_form(&page, to).submit(&coord).await.status(),
            303,
            "{to}"
        );
    }
    assert_eq!(engagement(app, "iwate", id).await.status, "completed");
    let page = app.open(&coord, &path).await;
    let res = page
        .form(&format!("{path}/terms"))
        .set("term_change", "renewal")
        .set("term_starts_on", "2027-04-01")
        .set("term_ends_on", "2028-03-31")
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 303);
    let e = engagement(app, "iwate", id).await;
    assert_eq!((e.status.as_str(), e.term_no), ("active", 2));
    assert_eq!(terms_count(app, "iwate", id).await, 3);

    // Ending needs a reason from the list.
    let page = app.open(&coord, &path).await;
    let res = status_form(&page, "ended").submit(&coord).await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("終了の理由："));
    let res = status_form(&page, "ended")
        .set("end_reason", "host_circumstances")
        .set("end_note", "繁忙期のため")
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 303);
    let e = engagement(app, "iwate", id).await;
    assert_eq!(e.status, "ended");
    assert_eq!(e.end_reason.as_deref(), Some("host_circumstances"));
    assert_eq!(e.ended_on, Some(today(app)));

    let actions: Vec<String> = audit_entries(&app.store, Some(tenant_id(app, "iwate").await), 50)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    for a in [
        "engagement_created",
        "engagement_status_changed",
        "engagement_terms_changed",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a}: {actions:?}");
    }
}

async fn a_confirmed_match_starts_once_its_terms_are_in(app: &TestApp) {
    let coord = coordinator(app, "iwate", "coord-m@example.jp").await;
    let (_hana, hana_id) = member(app, "iwate", "佐藤 花", "hana-m@example.jp").await;
    let (_host, project) = host_project(app, "iwate", "さともり").await;
    // What a round does when both sides confirm a match.
    let mut tx = app
        .store
        .tenant(tenant_id(app, "iwate").await)
        .write()
        .await
        .unwrap();
    let id = tx
        .create_engagement(None, hana_id, project, app.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let html = app
        .page(&coord, "/t/iwate/engagements?status=proposed")
        .await;
    assert!(html.contains("佐藤 花"), "{html}");
    let path = format!("/t/iwate/engagements/{id}");

    // No terms yet: starting is refused, and says why.
    let page = app.open(&coord, &path).await;
    let res = status_form(&page, "active")
        .set("started_on", "2026-12-01")
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("先に条件を記録"));
    assert_eq!(engagement(app, "iwate", id).await.status, "proposed");

    let res = page
        .form(&format!("{path}/terms"))
        .set("term_starts_on", "2026-12-01")
        .set("term_work_style", "mixed")
        .set("compensation", "honorarium")
        .set("amount_yen", "30000")
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 303);
    let page = app.open(&coord, &path).await;
    let res = status_form(&page, "active").submit(&coord).await;
    assert_eq!(res.status(), 303);
    assert_eq!(engagement(app, "iwate", id).await.status, "active");
}

async fn both_sides_check_in_and_reflect_and_the_assigned_mentor_writes_notes(app: &TestApp) {
    let coord = coordinator(app, "iwate", "coord-c@example.jp").await;
    let (hana, hana_id) = member(app, "iwate", "鈴木 花", "hana-c@example.jp").await;
    let (host, project) = host_project(app, "iwate", "こびる").await;
    let member_client = host_member(app, "iwate", host, "kobiru-c@example.jp").await;
    let id = make_engagement(app, "iwate", hana_id, project, Some(today(app)), app.now()).await;
    let path = format!("/t/iwate/engagements/{id}");

    // Their region page and their host's page link to the list.
    assert!(
        app.page(&hana, "/t/iwate/me")
            .await
            .contains("/t/iwate/engagements")
    );
    assert!(
        app.page(&member_client, &format!("/t/iwate/hosts/{host}"))
            .await
            .contains("/t/iwate/engagements")
    );
    // A month before the engagement began is refused, naming the field: it would
    // otherwise count on the talent's certificate.
    let page = app.open(&hana, &path).await;
    let res = page
        .form(&format!("{path}/checkins"))
        .set("checkin_month", "2010-04")
        .set("progress", "昔の月")
        .set("satisfaction", "5")
        .submit(&hana)
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("対象の月：パートナーシップが始まった月から今月までの月を入力してください"),
        "{html}"
    );
    assert!(!app.page(&hana, "/me/activities").await.contains("2010"));
    // The talent's list and page; a check-in with a bad satisfaction first.
    assert!(
        app.page(&hana, "/t/iwate/engagements")
            .await
            .contains(&path)
    );
    let page = app.open(&hana, &path).await;
    let res = page
        .form(&format!("{path}/checkins"))
        .forge("satisfaction", "9")
        .set("progress", HOSTILE)
        .submit(&hana)
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("満足度：") && !html.contains("<script>alert"),
        "{html}"
    );
    for (progress, satisfaction) in [("TALENT-1 SNSを開始", "4"), ("TALENT-2 投稿を週3回", "5")]
    {
        let res = app
            .open(&hana, &path)
            .await
            .form(&format!("{path}/checkins"))
            .set("progress", progress)
            .set("satisfaction", satisfaction)
            .set("concern", "")
            .submit(&hana)
            .await;
        assert_eq!(res.status(), 303);
    }
    // The host's member, with a concern.
    let res = app
        .open(&member_client, &path)
        .await
        .form(&format!("{path}/checkins"))
        .set("progress", "HOST-1 助かっています")
        .set("satisfaction", "3")
        .set("concern", "HOST-CONCERN 連絡が遅れがち")
        .submit(&member_client)
        .await;
    assert_eq!(res.status(), 303);
    let mut tx = app
        .store
        .tenant(tenant_id(app, "iwate").await)
        .read()
        .await
        .unwrap();
    let all = tx.checkins(id, None).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(all.len(), 2, "one per side and month: {all:?}");
    // Each side reads its own; staff read both.
    let talent_view = app.page(&hana, &path).await;
    assert!(talent_view.contains("TALENT-2") && !talent_view.contains("TALENT-1"));
    assert!(!talent_view.contains("HOST-CONCERN"));
    let host_view = app.page(&member_client, &path).await;
    assert!(host_view.contains("HOST-CONCERN") && !host_view.contains("TALENT-2"));
    let staff_view = app.page(&coord, &path).await;
    assert!(staff_view.contains("TALENT-2") && staff_view.contains("HOST-CONCERN"));

    // Mentors: only holders of the role can be assigned.
    let (mentor, mentor_id) = person(app, "案内 人", "mentor-c@example.jp").await;
    grant(app, mentor_id, Role::Mentor, Some("iwate")).await;
    let (other_mentor, other_id) = person(app, "別の 案内人", "mentor-d@example.jp").await;
    grant(app, other_id, Role::Mentor, Some("iwate")).await;
    assert_eq!(app.status(&mentor, &path).await, 404, "not assigned yet");
    let page = app.open(&coord, &path).await;
    let res = page
        .form(&format!("{path}/mentor"))
        .forge("mentor", &hana_id.to_string())
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("関係案内人の役割を持つ方だけ")
    );
    let res = page
        .form(&format!("{path}/mentor"))
        .set("mentor", &mentor_id.to_string())
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        engagement(app, "iwate", id).await.mentor_id,
        Some(mentor_id)
    );
    // The mentor's list and page: both sides' check-ins; a note.
    assert!(
        app.page(&mentor, "/t/iwate/engagements")
            .await
            .contains(&path)
    );
    let page = app.open(&mentor, &path).await;
    assert!(page.html().contains("HOST-CONCERN"));
    let note_form = page.form(&format!("{path}/notes"));
    let res = note_form
        .clone()
        .set("note", "MENTOR-NOTE 現地で面談")
        .submit(&mentor)
        .await;
    assert_eq!(res.status(), 303);
    assert!(app.page(&coord, &path).await.contains("MENTOR-NOTE"));
    assert!(!app.page(&hana, &path).await.contains("MENTOR-NOTE"));
    // Another mentor, not assigned: 404 on the page and the post.
    assert_eq!(app.status(&other_mentor, &path).await, 404);
    let token = app
        .open(&other_mentor, "/me/profile")
        .await
        .form("/me/profile")
        .value("csrf")
        .unwrap();
    let mut f = note_form.clone();
    f.set("note", "INTRUDER");
    f.forge("csrf", &token);
    assert_eq!(f.submit(&other_mentor).await.status(), 404);

    // No reflection before the term is over; then both sides write one.
    assert!(
        !app.page(&hana, &path)
            .await
            .contains(&format!("{path}/reflections"))
    );
    let page = app.open(&coord, &path).await;
    assert_eq!(
        status_form(&page, "completed")
            .submit(&coord)
            .await
            .status(),
        303
    );
    for (client, text) in [(&hana, "REFLECT-T"), (&member_client, "REFLECT-H")] {
        let res = app
            .open(client, &path)
            .await
            .form(&format!("{path}/reflections"))
            .set("achieved", text)
            .set("learned", "地域の人とのつながり")
            .set("continue_wish", "yes")
            .submit(client)
            .await;
        assert_eq!(res.status(), 303);
    }
    let staff_view = app.page(&coord, &path).await;
    assert!(staff_view.contains("REFLECT-T") && staff_view.contains("REFLECT-H"));
    assert!(!app.page(&hana, &path).await.contains("REFLECT-H"));
    // Check-ins are closed once completed.
    assert!(
        !app.page(&hana, &path)
            .await
            .contains(&format!("{path}/checkins"))
    );
}

/// 09:00 in Japan on the day after today, plus `days`.
fn morning(app: &TestApp, days: i64) -> DateTime<Utc> {
    japan_midnight(today(app) + Duration::days(1 + days)) + Duration::hours(9)
}

async fn each_cause_puts_an_engagement_at_risk_and_the_digest_goes_once_a_day(app: &TestApp) {
    let coord = coordinator(app, "iwate", "coord-r@example.jp").await;
    let _second = coordinator(app, "iwate", "coord-s@example.jp").await;
    let _kamaishi = coordinator(app, "kamaishi", "coord-k@example.jp").await;
    let (host, project) = host_project(app, "iwate", "リスク").await;
    let _ = host;
    let day1 = morning(app, 0);
    let recent = day1 - Duration::days(5);
    let mut ids = Vec::new();
    for (name, email) in [
        ("SILENT 太郎", "silent@example.jp"),
        ("LOWSAT 次郎", "lowsat@example.jp"),
        ("CONCERN 三郎", "concern@example.jp"),
        ("FINE 四郎", "fine@example.jp"),
    ] {
        let (_, id) = member(app, "iwate", name, email).await;
        ids.push(id);
    }
    let started = japan_day(day1 - Duration::days(60));
    let silent = make_engagement(
        app,
        "iwate",
        ids[0],
        project,
        Some(started),
        day1 - Duration::days(61),
    )
    .await;
    let low = make_engagement(
        app,
        "iwate",
        ids[1],
        project,
        Some(started),
        day1 - Duration::days(61),
    )
    .await;
    let concern = make_engagement(
        app,
        "iwate",
        ids[2],
        project,
        Some(started),
        day1 - Duration::days(61),
    )
    .await;
    let fine = make_engagement(
        app,
        "iwate",
        ids[3],
        project,
        Some(started),
        day1 - Duration::days(61),
    )
    .await;
    // A check-in long ago does not keep the silent one off the list.
    check_in(
        app,
        silent,
        CheckinSide::Talent,
        ids[0],
        5,
        None,
        day1 - Duration::days(50),
    )
    .await;
    check_in(app, low, CheckinSide::Talent, ids[1], 2, None, recent).await;
    check_in(
        app,
        concern,
        CheckinSide::Talent,
        ids[2],
        4,
        Some("返信がない"),
        recent,
    )
    .await;
    check_in(app, fine, CheckinSide::Talent, ids[3], 4, None, recent).await;

    let mut tx = app
        .store
        .tenant(tenant_id(app, "iwate").await)
        .read()
        .await
        .unwrap();
    let risks = tx.at_risk_engagements(day1).await.unwrap();
    tx.commit().await.unwrap();
    let causes = |id: EngagementId| {
        risks
            .iter()
            .find(|r| r.engagement.id == id)
            .map(|r| r.causes.clone())
            .unwrap_or_default()
    };
    use yui_domain::engagement::RiskCause::*;
    assert_eq!(causes(silent), vec![Silent]);
    assert_eq!(causes(low), vec![LowSatisfaction]);
    assert_eq!(causes(concern), vec![Concern]);
    assert!(causes(fine).is_empty());
    let html = app.page(&coord, "/t/iwate/engagements?at_risk=1").await;
    for name in ["SILENT 太郎", "LOWSAT 次郎", "CONCERN 三郎"] {
        assert!(html.contains(name), "{name}: {html}");
    }
    assert!(!html.contains("FINE 四郎"));

    // Two nodes at once: each coordinator of the tenant once, not per engagement.
    let (a, b) = (crate::events_api::node(app), crate::events_api::node(app));
    let run = |node: &yui_web::AppState, now| {
        let node = node.clone();
        async move {
            yui_web::features::engagements::digest::send_due(&node, now)
                .await
                .unwrap()
        }
    };
    // Before the working morning, nothing.
    assert_eq!(run(&a, day1 - Duration::hours(3)).await, 0);
    let (x, y) = tokio::join!(run(&a, day1), run(&b, day1));
    assert_eq!(x + y, 2, "{x} + {y}");
    assert_eq!(
        run(&a, day1 + Duration::hours(8)).await,
        0,
        "never twice a day"
    );
    let (x, y) = tokio::join!(run(&a, morning(app, 1)), run(&b, morning(app, 1)));
    assert_eq!(x + y, 2, "again the next day");
    // The mails are queued for those mornings; let the clock reach them.
    app.advance(morning(app, 1) - app.now() + Duration::minutes(1));
    // The digest, not the address confirmation that went before it.
    let digest = || {
        app.sink.inbox().messages().into_iter().find(|m| {
            m.rcpt_to.iter().any(|r| r == "coord-r@example.jp")
                && m.text_body().unwrap_or_default().contains("SILENT")
        })
    };
    let mut waited = 0;
    while digest().is_none() && waited < 60 {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        waited += 1;
    }
    let text = digest().unwrap().text_body().unwrap_or_default();
    assert!(
        text.contains("SILENT 太郎") && text.contains("CONCERN 三郎"),
        "{text}"
    );
    assert!(!text.contains("FINE 四郎"));
    let subject = digest().unwrap().subject().unwrap_or_default();
    assert!(
        subject.contains("岩手県") && !subject.contains("SILENT"),
        "{subject}"
    );
    // Another tenant's coordinator hears nothing of this one's engagements.
    assert!(app.sink.inbox().messages().iter().all(|m| {
        !m.rcpt_to.iter().any(|r| r == "coord-k@example.jp")
            || !m.text_body().unwrap_or_default().contains("SILENT")
    }));
}

async fn every_route_is_walled(app: &TestApp) {
    let coord = coordinator(app, "iwate", "coord-w@example.jp").await;
    let kamaishi = coordinator(app, "kamaishi", "coord-kw@example.jp").await;
    let (hana, hana_id) = member(app, "iwate", "壁 花子", "hana-w@example.jp").await;
    let (other, _) = member(app, "iwate", "別の 人材", "other-w@example.jp").await;
    let (host, project) = host_project(app, "iwate", "壁の受入先").await;
    let other_host = make_host(app, "iwate", "別の受入先", "032051", true).await;
    let other_member = host_member(app, "iwate", other_host, "otherhost-w@example.jp").await;
    let _ = host;
    let id = make_engagement(app, "iwate", hana_id, project, Some(today(app)), app.now()).await;
    let (_k, k_project) = host_project(app, "kamaishi", "釜石の受入先").await;
    let (_kt, k_talent) = member(app, "kamaishi", "釜石 人材", "k-w@example.jp").await;
    let k_id = make_engagement(
        app,
        "kamaishi",
        k_talent,
        k_project,
        Some(today(app)),
        app.now(),
    )
    .await;
    let path = format!("/t/iwate/engagements/{id}");
    let actions = [
        "status",
        "terms",
        "mentor",
        "checkins",
        "notes",
        "reflections",
    ];
    let staff_page = app.open(&coord, &path).await;
    let talent_page = app.open(&hana, &path).await;

    // Another tenant's ids through either slug, and nonsense: 404 for everyone.
    for (client, p) in [
        (&coord, format!("/t/iwate/engagements/{k_id}")),
        (&kamaishi, format!("/t/kamaishi/engagements/{id}")),
        (&kamaishi, path.clone()),
        (&kamaishi, "/t/iwate/engagements".to_owned()),
        (&kamaishi, "/t/iwate/engagements/new".to_owned()),
        (&coord, "/t/iwate/engagements/x'1".to_owned()),
        (&other, path.clone()),
        (&other_member, path.clone()),
        (&hana, "/t/iwate/engagements/new".to_owned()),
    ] {
        assert_eq!(app.status(client, &p).await, 404, "{p}");
    }
    // Every post, by another tenant's coordinator, another talent, another host's
    // member: 404, nothing written.
    for client in [&kamaishi, &other, &other_member] {
        let token = app
            .open(client, "/me/profile")
            .await
            .form("/me/profile")
            .value("csrf")
            .unwrap();
        for a in actions {
            let action = format!("{path}/{a}");
            let source = if a == "checkins" {
                &talent_page
            } else {
                &staff_page
            };
            let mut f = source
                .forms()
                .into_iter()
                .find(|f| f.action().path() == action)
                .unwrap_or_else(|| {
                    let mut f = staff_page.form(&format!("{path}/notes"));
                    f.retarget(&action);
                    f
                });
            f.forge("csrf", &token);
            assert_eq!(f.submit(client).await.status(), 404, "{action}");
        }
        let mut f = staff_page.form(&format!("{path}/notes"));
        f.retarget(&format!("/t/kamaishi/engagements/{id}/notes"));
        f.forge("csrf", &token);
        assert_eq!(f.submit(client).await.status(), 404);
    }
    // The talent may not manage their own engagement.
    let token = talent_page
        .form(&format!("{path}/checkins"))
        .value("csrf")
        .unwrap();
    for a in ["status", "terms", "mentor", "notes"] {
        let mut f = staff_page.form(&format!("{path}/notes"));
        f.retarget(&format!("{path}/{a}"));
        f.forge("csrf", &token);
        assert_eq!(f.submit(&hana).await.status(), 404, "{a}");
    }
    let mut tx = app
        .store
        .tenant(tenant_id(app, "iwate").await)
        .read()
        .await
        .unwrap();
    assert!(tx.checkins(id, None).await.unwrap().is_empty());
    tx.commit().await.unwrap();

    // Strangers are sent to sign in.
    let stranger = app.client();
    for p in ["/t/iwate/engagements".to_owned(), path.clone()] {
        let res = stranger.get(app.url(&p)).send().await.unwrap();
        assert_eq!(res.status(), 303, "{p}");
        assert!(location(&res).starts_with("/signin"), "{p}");
    }
    for a in actions {
        let res = stranger
            .post(app.url(&format!("{path}/{a}")))
            .form(&[("csrf", "x")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "{a}");
        assert!(location(&res).starts_with("/signin"), "{a}");
    }
}

/// Engagements of the talent in iwate, whatever their status.
async fn engagements_of(app: &TestApp, talent: AccountId) -> Vec<EngagementRecord> {
    let mut tx = app
        .store
        .tenant(tenant_id(app, "iwate").await)
        .read()
        .await
        .unwrap();
    let found = tx
        .engagements(
            yui_store::EngagementFilter {
                talent: Some(talent),
                ..Default::default()
            },
            100,
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    found
}

async fn parallel_creates_make_one_engagement_and_the_rest_are_told_why(app: &TestApp) {
    let coord = coordinator(app, "iwate", "coord-p@example.jp").await;
    let (_hana, hana_id) = member(app, "iwate", "並行 花子", "hana-p@example.jp").await;
    let (_host, project) = host_project(app, "iwate", "ならびや").await;
    let (_k, k_project) = host_project(app, "kamaishi", "釜石ならびや").await;
    let new = "/t/iwate/engagements/new";
    let list = "/t/iwate/engagements";
    let mut form = app.open(&coord, new).await.form(list);
    form.set("talent", &hana_id.to_string())
        .set("project", &project.to_string())
        .set("term_starts_on", "2026-12-01")
        .set("term_work_style", "remote")
        .set("compensation", "pro_bono");

    // Another tenant's project names the project field, not the talent.
    let mut foreign = form.clone();
    foreign.forge("project", &k_project.to_string());
    let res = foreign.submit(&coord).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("案件：一覧から選んでください"), "{html}");
    assert!(!html.contains("人材：一覧から選んでください"), "{html}");

    // Ten identical submits at once: one engagement, the others get the form back
    // with the reason on the talent field.
    let burst: Vec<_> = (0..10)
        .map(|_| {
            let (c, f) = (coord.clone(), form.clone());
            tokio::spawn(async move {
                let res = f.submit(&c).await;
                (res.status().as_u16(), res.text().await.unwrap())
            })
        })
        .collect();
    let mut made = 0;
    for b in burst {
        let (status, html) = b.await.unwrap();
        match status {
            303 => made += 1,
            422 => assert!(
                html.contains("人材：この人材はこの案件ですでにパートナーシップ"),
                "{html}"
            ),
            other => panic!("{other}: {html}"),
        }
    }
    assert_eq!(made, 1);
    assert_eq!(engagements_of(app, hana_id).await.len(), 1);

    // In English too.
    let res = app
        .open(&coord, &format!("{new}?lang=en"))
        .await
        .form(list)
        .set("talent", &hana_id.to_string())
        .set("project", &project.to_string())
        .set("term_starts_on", "2026-12-01")
        .set("term_work_style", "remote")
        .set("compensation", "pro_bono")
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("already has a partnership on this project")
    );
    app.page(&coord, &format!("{list}?lang=ja")).await;

    // A match confirmed in a round for the same pair keeps the one engagement.
    let existing = engagements_of(app, hana_id).await[0].id;
    let mut tx = app
        .store
        .tenant(tenant_id(app, "iwate").await)
        .write()
        .await
        .unwrap();
    let confirmed = tx
        .create_engagement(None, hana_id, project, app.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(confirmed, existing);
    assert_eq!(engagements_of(app, hana_id).await.len(), 1);

    // Once it ended, a new partnership of the same pair may begin.
    let path = format!("/t/iwate/engagements/{existing}");
    let res = status_form(&app.open(&coord, &path).await, "ended")
        .set("end_reason", "mismatch")
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(form.submit(&coord).await.status(), 303);
    assert_eq!(engagements_of(app, hana_id).await.len(), 2);
}

async fn parallel_terms_sends_renew_once_and_record_a_change_once(app: &TestApp) {
    let coord = coordinator(app, "iwate", "coord-r@example.jp").await;
    let (_hana, hana_id) = member(app, "iwate", "更新 花子", "hana-r@example.jp").await;
    let (_host, project) = host_project(app, "iwate", "こうしんや").await;
    let id = make_engagement(app, "iwate", hana_id, project, Some(today(app)), app.now()).await;
    let path = format!("/t/iwate/engagements/{id}");
    let action = format!("{path}/terms");
    let page = app.open(&coord, &path).await;
    assert_eq!(page.form(&action).value("at_term").as_deref(), Some("1"));

    // Twenty renewals sent at once from the same page: one new term.
    let mut renewal = page.form(&action);
    renewal
        .set("term_change", "renewal")
        .set("term_starts_on", "2027-04-01");
    let burst: Vec<_> = (0..20)
        .map(|_| {
            let (c, f) = (coord.clone(), renewal.clone());
            tokio::spawn(async move {
                let res = f.submit(&c).await;
                (res.status().as_u16(), res.text().await.unwrap())
            })
        })
        .collect();
    let mut renewed = 0;
    for b in burst {
        let (status, html) = b.await.unwrap();
        match status {
            303 => renewed += 1,
            409 => assert!(html.contains("ほかの人が条件や期を変更しました"), "{html}"),
            other => panic!("{other}: {html}"),
        }
    }
    assert_eq!(renewed, 1);
    assert_eq!(engagement(app, "iwate", id).await.term_no, 2);
    assert_eq!(terms_count(app, "iwate", id).await, 2);

    // A change sent from the page of the first term is refused, what was typed kept.
    let mut stale = page.form(&action);
    stale
        .set("term_change", "change")
        .set("hours_per_month", "12");
    let res = stale.submit(&coord).await;
    assert_eq!(res.status(), 409);
    let again = Page::read(res).await;
    assert!(again.html().contains("ほかの人が条件や期を変更しました"));
    assert_eq!(
        again.form(&action).value("hours_per_month").as_deref(),
        Some("12")
    );
    assert_eq!(again.form(&action).value("at_term").as_deref(), Some("2"));
    assert_eq!(terms_count(app, "iwate", id).await, 2);

    // Ten identical changes at once: recorded once.
    let mut change = app.open(&coord, &path).await.form(&action);
    change
        .set("term_change", "change")
        .set("compensation", "honorarium")
        .set("amount_yen", "20000");
    let burst: Vec<_> = (0..10)
        .map(|_| {
            let (c, f) = (coord.clone(), change.clone());
            tokio::spawn(async move { f.submit(&c).await.status().as_u16() })
        })
        .collect();
    for b in burst {
        assert_eq!(b.await.unwrap(), 303);
    }
    assert_eq!(terms_count(app, "iwate", id).await, 3);
    assert_eq!(engagement(app, "iwate", id).await.term_no, 2);
}

async fn the_pages_fit_a_phone_and_read_in_either_language(app: &TestApp) {
    let coord = coordinator(app, "iwate", "coord-f@example.jp").await;
    let (_hana, hana_id) = member(app, "iwate", "電話 花子", "hana-f@example.jp").await;
    let (_host, project) = host_project(app, "iwate", "でんわや").await;
    let id = make_engagement(app, "iwate", hana_id, project, Some(today(app)), app.now()).await;
    // Low satisfaction and a concern: two causes to list.
    check_in(
        app,
        id,
        CheckinSide::Talent,
        hana_id,
        1,
        Some("不安"),
        app.now(),
    )
    .await;
    let month = japan_month(app.now());
    let (y, m) = month.split_once('-').unwrap();
    let ja_month = format!("{y}年{}月", m.trim_start_matches('0'));
    let list = "/t/iwate/engagements";
    let path = format!("{list}/{id}");

    let html = app.page(&coord, list).await;
    assert!(
        html.contains(r#"<div class="table-scroll" role="region" aria-labelledby="list-caption" tabindex="0">"#)
            && html.contains(r#"<table class="data">"#)
            && html.contains(r#"<caption id="list-caption">"#),
        "{html}"
    );
    assert!(html.contains("満足度が2以下、懸念が挙がっている"), "{html}");
    let html = app.page(&coord, &path).await;
    assert!(
        html.contains(r#"aria-labelledby="terms-caption" tabindex="0">"#)
            && html.contains(r#"<caption id="terms-caption">"#),
        "{html}"
    );
    assert!(
        html.contains("<th scope=\"col\">月あたりの時間</th>"),
        "{html}"
    );
    assert!(!html.contains("月あたりの時間（任意）</th>"));
    assert!(html.contains(&ja_month), "{ja_month}: {html}");
    assert!(!html.contains(&format!("· {month}")), "{html}");

    let en_month = chrono::NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
        .unwrap()
        .format("%B %Y")
        .to_string();
    for path in [list.to_owned(), path.clone()] {
        let html = app.page(&coord, &format!("{path}?lang=en")).await;
        assert!(
            !html.contains('（') && !html.contains('）'),
            "{path}: {html}"
        );
        assert!(!html.contains("(optional)</th>"), "{path}: {html}");
    }
    assert!(
        app.page(&coord, &format!("{path}?lang=en"))
            .await
            .contains(&en_month)
    );
    app.page(&coord, &format!("{list}?lang=ja")).await;
}
