//! The demo after matching (`yui serve --demo`): Iwate's engagements with their
//! check-ins, one at risk, the three case studies of seed 001 in public, and the
//! history that makes the dashboard read 158 matches and 81 organizations since
//! FY2018, as the seed reports; and a second load that adds nothing.

use chrono::{DateTime, Utc};
use yui_domain::engagement::{CheckinSide, EngagementStatus, TermsChange};
use yui_domain::{FiscalYear, TenantId};
use yui_store::{EngagementFilter, Store};

use crate::accounts::sign_in;
use crate::demo_events::load_all;
use crate::support::{TestApp, on_both_backends};

on_both_backends!(TestApp::with_demo => demo_after_matching_reads_like_a_real_program);

const PASSWORD: &str = yui::demo::DEMO_PASSWORD;

async fn load(app: &TestApp, now: DateTime<Utc>) -> usize {
    load_all(app, now).await;
    yui::demo::load_rounds(&app.store, now).await.unwrap();
    let n = yui::demo::load_engagements(&app.store, now).await.unwrap();
    app.authz
        .refresh_if_changed(&app.store, app.now())
        .await
        .unwrap();
    n
}

async fn signed_in(app: &TestApp, email: &str) -> reqwest::Client {
    let client = app.client();
    let res = sign_in(app, &client, email, PASSWORD).await;
    assert_eq!(res.status(), 303, "{email}");
    client
}

/// Everything the follow-up holds in the tenant, for comparing two loads.
async fn snapshot(store: &Store, tenant: TenantId) -> Vec<String> {
    let mut out = Vec::new();
    let mut tx = store.tenant(tenant).read().await.unwrap();
    for e in tx
        .engagements(EngagementFilter::default(), 10_000)
        .await
        .unwrap()
    {
        out.push(format!("{e:?}"));
        out.push(format!("{:?}", tx.engagement_terms(e.id).await.unwrap()));
        out.push(format!("{:?}", tx.checkins(e.id, None).await.unwrap()));
        out.push(format!("{:?}", tx.reflections(e.id, None).await.unwrap()));
        out.push(format!(
            "{:?}",
            tx.engagement_transitions(e.id).await.unwrap()
        ));
    }
    out.push(format!("{:?}", tx.case_studies().await.unwrap()));
    out.push(format!("{:?}", tx.kpi_history().await.unwrap()));
    for y in 2018..2030 {
        out.push(format!(
            "{:?}",
            tx.kpi_targets(FiscalYear(y)).await.unwrap()
        ));
    }
    tx.commit().await.unwrap();
    out
}

async fn demo_after_matching_reads_like_a_real_program(app: &TestApp) {
    let now = app.now();
    let started = load(app, now).await;
    assert!(started >= 15, "{started}");
    let iwate = app.store.tenant_by_slug("iwate").await.unwrap().id;

    // The store's view: every status, a change of terms kept as history, a renewal,
    // check-ins from both sides, a mentor, reflections, exactly one at risk.
    let mut tx = app.store.tenant(iwate).read().await.unwrap();
    let all = tx
        .engagements(EngagementFilter::default(), 10_000)
        .await
        .unwrap();
    for s in EngagementStatus::ALL {
        assert!(all.iter().any(|e| e.status() == *s), "{s:?}");
    }
    assert!(all.iter().any(|e| e.end_reason.is_some()));
    let mut changed = 0;
    let mut renewed = 0;
    let mut both_sides = 0;
    let mut reflected = 0;
    for e in &all {
        let terms = tx.engagement_terms(e.id).await.unwrap();
        if terms
            .iter()
            .any(|t| t.change == TermsChange::Change.as_str())
        {
            changed += 1;
            assert_eq!(terms[0].compensation, "pro_bono");
            assert_eq!(terms.last().unwrap().compensation, "contract");
        }
        if e.term_no == 2 {
            renewed += 1;
        }
        let checkins = tx.checkins(e.id, None).await.unwrap();
        let months =
            |side: CheckinSide| checkins.iter().filter(|c| c.side == side.as_str()).count();
        if months(CheckinSide::Talent) >= 3 && months(CheckinSide::Host) >= 3 {
            both_sides += 1;
        }
        assert!(
            checkins
                .iter()
                .filter(|c| c.side != "mentor")
                .all(|c| c.satisfaction.is_some_and(|s| (1..=5).contains(&s)))
        );
        let reflections = tx.reflections(e.id, None).await.unwrap();
        if reflections.len() == 2 {
            reflected += 1;
        }
    }
    assert_eq!(changed, 1);
    assert_eq!(renewed, 1);
    assert!(both_sides >= 5, "{both_sides}");
    assert!(reflected >= 2, "{reflected}");
    assert!(
        all.iter()
            .any(|e| e.mentor_name.as_deref() == Some("菊池 千尋"))
    );
    let risks = tx.at_risk_engagements(now).await.unwrap();
    assert_eq!(risks.len(), 1, "{risks:?}");
    let risky = risks[0].engagement.clone();
    let cases = tx.public_case_studies().await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(cases.len(), 3);
    for c in &cases {
        assert!(c.talent_approved_at.is_some() && c.host_approved_at.is_some());
    }

    // The dashboard of this year, as the demo administrator sees it: 158 and 81.
    let admin = signed_in(app, "admin@iwate.demo.yui.example").await;
    let page = app.open(&admin, "/t/iwate/kpis").await;
    assert_eq!(page.status(), 200);
    let html = page.html();
    assert!(html.contains("累計マッチング数</th><td>158</td>"), "{html}");
    assert!(
        html.contains("累計受入企業・団体数</th><td>81</td>"),
        "{html}"
    );
    // Seed 001's years read as reported in the table of the chart of years.
    let years = &html[html
        .find("id=\"kpi-years-caption\"")
        .expect("chart of years")..];
    for (year, n) in [(2018, 5), (2024, 28), (2025, 32)] {
        let at = years
            .find(&format!("<th scope=\"row\">{year}年度"))
            .unwrap_or_else(|| panic!("FY{year}"));
        let row = &years[at..];
        let row = &row[..row.find("</tr>").unwrap()];
        assert!(row.ends_with(&format!("<td>{n}</td>")), "{row}");
    }

    // The year's report says the same, with this year's targets.
    let res = admin
        .get(app.url("/t/iwate/kpis/report.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let csv = res.text().await.unwrap();
    assert!(csv.contains(",累計マッチング数,158,\r\n"), "{csv}");
    assert!(csv.contains(",累計受入企業・団体数,81,\r\n"), "{csv}");
    assert!(
        csv.lines()
            .any(|l| l.contains(",マッチング数,") && l.ends_with(",35")),
        "{csv}"
    );

    // The three cases on the public pages, to anyone.
    let html = app.page(&app.client(), "/t/iwate/cases").await;
    for title in [
        "ぶどう畑とワインを応援するファンの輪づくり",
        "畑を自分たちで開く、大槌のネイチャーツアー",
        "古民家カフェの薪ストーブをブランドに",
    ] {
        assert!(html.contains(title), "{title}");
    }

    // The coordinator's list of those at risk holds the one engagement.
    let coordinator = signed_in(app, "coordinator@iwate.demo.yui.example").await;
    let html = app
        .page(&coordinator, "/t/iwate/engagements?at_risk=1")
        .await;
    assert!(
        html.contains(&format!("/t/iwate/engagements/{}\"", risky.id)),
        "{html}"
    );
    assert_eq!(
        html.matches("<td><a href=\"/t/iwate/engagements/").count(),
        1
    );

    // The mentor signs in and sees the engagements assigned.
    let mentor = signed_in(app, yui::demo::DEMO_MENTOR).await;
    let html = app.page(&mentor, "/t/iwate/engagements").await;
    assert!(html.contains(&risky.project_title), "{html}");

    // A talent's activity record lists the months of their engagement.
    let talent = signed_in(app, "talent101@demo.yui.example").await;
    let html = app.page(&talent, "/me/activities").await;
    let line = "大迫のぶどうとワインを応援するファンの輪を広げたい — かんたはうす運営組合";
    assert!(html.matches(line).count() >= 6, "{html}");

    // A second load, a day later, adds nothing.
    let before = snapshot(&app.store, iwate).await;
    assert_eq!(load(app, now + chrono::Duration::days(1)).await, 0);
    assert_eq!(snapshot(&app.store, iwate).await, before);
}
