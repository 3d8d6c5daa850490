//! The fiscal-year report (成果報告, issue 13 item 7) on both databases: the
//! printable page, the CSV and the Excel workbook show the hand-counted fixture of
//! `kpis.rs` (FY2025 in iwate), its events and the case studies published in the
//! year; each of them writes an export row to the audit log; another tenant's admin,
//! a coordinator, a talent and a stranger get nothing; a year that is not one is an
//! HTML page naming the mistake, never a 500.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use chrono::{TimeZone, Utc};
use yui_authz::Role;
use yui_domain::case_study::{CaseSide, CaseStatus, CaseStudyFields, Text};
use yui_domain::ids::CaseStudyId;
use yui_domain::kpi::KpiCode;
use yui_domain::program::fiscal_label_in;
use yui_domain::{AccountId, FiscalYear, Locale, TenantId};

use crate::kpis::{Fixture, figures, fixture};
use crate::support::{TestApp, audit_entries, on_both_backends};

on_both_backends!(
    TestApp::with_tenants =>
    the_printable_report_shows_the_figures_events_and_case_studies,
    the_workbook_holds_the_same_numbers_in_its_cells,
    the_csv_lists_the_case_studies_of_the_year,
    only_the_tenants_report_readers_get_the_report,
    a_year_that_is_not_one_is_an_html_page,
    events_still_to_come_are_not_among_those_held,
);

const FY: FiscalYear = FiscalYear(2025);

/// A case title a spreadsheet would run as a formula, were it not written as text.
const FORMULA_TITLE: &str = "=1+1 宿のファンが増えた";

fn text(ja: &str) -> Text {
    Text {
        ja: ja.to_owned(),
        en: String::new(),
    }
}

/// A case study about one of iwate's engagements, made public on `published` when
/// given (else left a draft).
async fn case(
    app: &TestApp,
    f: &Fixture,
    title: &str,
    published: Option<chrono::DateTime<Utc>>,
) -> CaseStudyId {
    let by: AccountId = f.people[0].id;
    let mut tx = app.store.tenant(f.iwate).write().await.unwrap();
    let engagement = tx
        .case_engagements()
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.host_name == "かんたはうす")
        .unwrap()
        .id;
    let fields = CaseStudyFields {
        title: text(title),
        overview: text("宿の発信を<b>SNS</b>で続けた"),
        challenge: text("発信する人がいない"),
        talent_skills: text("SNS運用"),
        proposal: text("毎週の投稿"),
        outcome: text("予約が増えた"),
    };
    let id = tx
        .create_case_study(engagement, &fields, by, app.now())
        .await
        .unwrap()
        .unwrap();
    if let Some(at) = published {
        assert!(
            tx.move_case_study(id, CaseStatus::Draft, CaseStatus::AwaitingApproval, at)
                .await
                .unwrap()
        );
        for side in [CaseSide::Talent, CaseSide::Host] {
            assert!(tx.approve_case_study(id, side, by, at).await.unwrap());
        }
        assert!(
            tx.move_case_study(id, CaseStatus::AwaitingApproval, CaseStatus::Public, at)
                .await
                .unwrap()
        );
    }
    tx.commit().await.unwrap();
    id
}

/// The fixture, a case published in FY2025, one published in FY2024 and a draft.
async fn report_fixture(app: &TestApp) -> (Fixture, CaseStudyId) {
    let f = fixture(app).await;
    let in_year = Utc.with_ymd_and_hms(2025, 11, 1, 3, 0, 0).unwrap();
    let before = Utc.with_ymd_and_hms(2025, 3, 31, 14, 0, 0).unwrap(); // 2025-03-31 23:00 JST
    let id = case(app, &f, FORMULA_TITLE, Some(in_year)).await;
    case(app, &f, "前の年度の事例", Some(before)).await;
    case(app, &f, "下書きの事例", None).await;
    // Targets of the year: 5 matches, 40 registrations.
    let mut tx = app.store.tenant(f.iwate).write().await.unwrap();
    for (kpi, target) in [(KpiCode::Matches, 5), (KpiCode::Registrations, 40)] {
        tx.put_kpi_target(FY, kpi, Some(target), f.people[0].id, app.now())
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    (f, id)
}

async fn signed_in(app: &TestApp, email: &str, role: Role, slug: &str) -> reqwest::Client {
    let (client, id) = crate::staff::person(app, "県 担当", email).await;
    crate::staff::grant(app, id, role, Some(slug)).await;
    client
}

/// The newest audit row of `tenant`, which must be the export of `format`.
async fn last_export(app: &TestApp, tenant: TenantId) -> serde_json::Value {
    let rows = audit_entries(&app.store, Some(tenant), 1).await.unwrap();
    let row = rows.first().expect("an audit row");
    assert_eq!(row.action, "export");
    row.detail.0.clone()
}

async fn audit_count(app: &TestApp, tenant: TenantId) -> usize {
    audit_entries(&app.store, Some(tenant), 1000)
        .await
        .unwrap()
        .len()
}

async fn the_printable_report_shows_the_figures_events_and_case_studies(app: &TestApp) {
    let (f, case_id) = report_fixture(app).await;
    let admin = signed_in(app, "report-page@example.jp", Role::TenantAdmin, "iwate").await;
    // The dashboard links to all three.
    let dashboard = app.page(&admin, "/t/iwate/kpis?fy=2025").await;
    for link in [
        "/t/iwate/kpis/report?fy=2025",
        "/t/iwate/kpis/report.csv?fy=2025",
        "/t/iwate/kpis/report.xlsx?fy=2025",
    ] {
        assert!(dashboard.contains(link), "{link}");
    }

    let page = app.open(&admin, "/t/iwate/kpis/report?fy=2025").await;
    assert_eq!(page.status(), 200, "{}", page.html());
    // Tera writes `/` in text as `&#x2F;`.
    let html = page.html().replace("&#x2F;", "/");
    assert!(html.contains("<h1>成果報告 <span class=\"meta\">2025年度（令和7年度）</span></h1>"));
    let tenant = app.store.tenant_by_slug("iwate").await.unwrap();
    assert!(html.contains(tenant.tenant.name.get(Locale::Ja)));
    assert!(!html.contains("<script"));
    // Figures with targets, splits, typology and totals: the hand count.
    let cell = |label: &str, values: &[&str]| {
        let cells: String = values
            .iter()
            .map(|v| format!("<td class=\"num\">{v}</td>"))
            .collect();
        format!("<th scope=\"row\">{label}</th>{cells}")
    };
    let want = [
        cell("マッチング数", &["4"]),
        cell("累計マッチング数", &["20"]),
        cell("参加者数（実人数）", &["2"]),
        cell("ビジネスマッチング型", &["2", "2"]),
        cell("ファンコミュニティ型", &["2", "2"]),
        cell("参加・交流型（イベントに出席）", &["2"]),
        cell("就労型（年度内に連携が継続）", &["4"]),
        cell(&fiscal_label_in(FiscalYear(2018), Locale::Ja), &["5"]),
    ];
    for w in &want {
        assert!(html.contains(w.as_str()), "{w}\n{html}");
    }
    // Target against actual: 4 of 5 matches, 5 of 40 registrations.
    assert!(html.contains(
        "<th scope=\"row\">マッチング数</th><td class=\"num\">4</td><td class=\"num\">5</td><td class=\"num\">80%</td>"
    ));
    assert!(html.contains(
        "<th scope=\"row\">申込数</th><td class=\"num\">5</td><td class=\"num\">40</td><td class=\"num\">13%</td>"
    ));
    // Years after the report's are not in it (FY2027 was entered as history).
    assert!(!html.contains(&fiscal_label_in(FiscalYear(2027), Locale::Ja)));
    let figures = figures(app, f.iwate, FY).await;
    assert_eq!(figures.matches.total, 4);
    assert!(html.contains("<caption id=\"report-summary-caption\">"));
    assert!(html.contains("<th scope=\"col\">目標</th>"));
    // The events held: date, kind, registrations and attendance.
    assert!(html.contains(
        "<th scope=\"row\">地方複業のはじめかた</th><td>2025-06-10</td><td>セミナー</td><td class=\"num\">3</td><td class=\"num\">2</td>"
    ), "{html}");
    // The case published in the year, linked to its public page; not the others.
    let public = format!("/t/iwate/cases/{case_id}");
    assert!(
        html.contains(&format!("{public}\">=1+1 宿のファンが増えた</a>")),
        "{html}"
    );
    assert!(
        html.contains("宿の発信を&lt;b&gt;SNS&lt;/b&gt;で続けた"),
        "{html}"
    );
    assert!(!html.contains("前の年度の事例"));
    assert!(!html.contains("下書きの事例"));
    assert_eq!(app.get(&public).await.status(), 200);
    // Printing needs no script: a plain instruction, the controls hidden in print,
    // each part on its own page.
    assert!(html.contains("Ctrl+P"));
    assert!(html.contains("class=\"no-print\""));
    assert!(html.contains("class=\"report-part\""));
    let css_href = html
        .split("rel=\"stylesheet\" href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap();
    let css = app.page(&admin, css_href).await;
    assert!(css.contains(".report-part { break-before: page; }"));
    assert!(css.contains("size: A4"));

    let detail = last_export(app, f.iwate).await;
    assert_eq!(detail["format"], "html");
    assert_eq!(detail["fiscal_year"], 2025);

    // In English.
    let en = app
        .page(&admin, "/t/iwate/kpis/report?fy=2025&lang=en")
        .await;
    assert!(en.contains("Annual report"), "{en}");
    assert!(en.contains("<th scope=\"row\">Matches</th><td class=\"num\">4</td>"));
    // The case has no English title: its Japanese one, marked as such.
    assert!(en.contains("<th scope=\"row\" lang=\"ja\">"));
}

/// The rows of a sheet, each cell as calamine read it.
fn sheet(book: &mut Xlsx<Cursor<Vec<u8>>>, name: &str) -> Vec<Vec<Data>> {
    book.worksheet_range(name)
        .unwrap()
        .rows()
        .map(<[Data]>::to_vec)
        .collect()
}

/// The cells after the row header `label`.
fn row_of<'a>(rows: &'a [Vec<Data>], label: &str) -> &'a [Data] {
    let row = rows
        .iter()
        .find(|r| r.first() == Some(&Data::String(label.to_owned())))
        .unwrap_or_else(|| panic!("no row {label}: {rows:?}"));
    // A range is as wide as its widest row: the rest is padding.
    let end = row
        .iter()
        .rposition(|c| c != &Data::Empty)
        .map_or(1, |i| i + 1);
    &row[1..end.max(1)]
}

#[allow(clippy::cast_precision_loss)]
fn num(n: u64) -> Data {
    Data::Float(n as f64)
}

async fn the_workbook_holds_the_same_numbers_in_its_cells(app: &TestApp) {
    let (f, case_id) = report_fixture(app).await;
    let admin = signed_in(app, "report-xlsx@example.jp", Role::TenantAdmin, "iwate").await;
    let res = admin
        .get(app.url("/t/iwate/kpis/report.xlsx?fy=2025"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert_eq!(
        res.headers()["content-disposition"],
        "attachment; filename=\"kpis-iwate-2025.xlsx\""
    );
    assert_eq!(res.headers()["cache-control"], "no-store");
    let bytes = res.bytes().await.unwrap().to_vec();
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    assert_eq!(book.sheet_names(), ["概要", "内訳", "開催イベント", "事例"]);

    let want = figures(app, f.iwate, FY).await;
    let summary = sheet(&mut book, "概要");
    assert_eq!(
        row_of(&summary, "マッチング数"),
        [num(4), num(5), Data::Float(0.8)]
    );
    assert_eq!(row_of(&summary, "マッチング数")[0], num(want.matches.total));
    assert_eq!(row_of(&summary, "申込数")[0], num(want.registrations.total));
    assert_eq!(row_of(&summary, "参加数")[0], num(want.attended.total));
    assert_eq!(
        row_of(&summary, "受入企業・団体数")[0],
        num(want.hosts_engaged.total)
    );
    assert_eq!(
        row_of(&summary, "新たな関係人口")[0],
        num(want.newly_related.total)
    );
    assert_eq!(row_of(&summary, "累計マッチング数")[0], num(20));
    assert_eq!(
        row_of(&summary, &fiscal_label_in(FiscalYear(2019), Locale::Ja))[0],
        num(10)
    );
    assert_eq!(
        row_of(&summary, "就労型（年度内に連携が継続）")[0],
        num(want.related_work.total)
    );
    let splits = sheet(&mut book, "内訳");
    assert_eq!(
        row_of(&splits, "ビジネスマッチング型"),
        [num(want.matches.business), num(want.hosts_engaged.business)]
    );
    assert_eq!(
        row_of(&splits, "マッチング数"),
        [
            num(want.matches.inside),
            num(want.matches.outside),
            num(want.matches.unknown),
            num(4)
        ]
    );
    let six = want.continuation.iter().find(|c| c.months == 6).unwrap();
    let rate = row_of(&splits, "6か月");
    assert_eq!(rate[..2], [num(six.eligible), num(six.continued)]);
    match (&rate[2], six.percent()) {
        (Data::Float(v), Some(p)) => assert!((v * 100.0 - p as f64).abs() < 1e-9),
        other => panic!("{other:?}"),
    }
    let events = sheet(&mut book, "開催イベント");
    assert_eq!(
        row_of(&events, "地方複業のはじめかた"),
        [
            Data::String("2025-06-10".into()),
            Data::String("セミナー".into()),
            num(3),
            num(2)
        ]
    );
    let cases = sheet(&mut book, "事例");
    let row = row_of(&cases, FORMULA_TITLE);
    assert_eq!(row[1], Data::String("かんたはうす".into()));
    assert!(
        matches!(&row[3], Data::String(u) if u.ends_with(&format!("/t/iwate/cases/{case_id}")))
    );
    assert!(
        !cases
            .iter()
            .flatten()
            .any(|c| c == &Data::String("前の年度の事例".into()))
    );
    // Text that starts like a formula stays text: no formula anywhere.
    for name in ["概要", "内訳", "開催イベント", "事例"] {
        let formulas = book.worksheet_formula(name).unwrap();
        assert!(
            formulas.used_cells().all(|(_, _, f)| f.is_empty()),
            "{name}"
        );
    }

    let detail = last_export(app, f.iwate).await;
    assert_eq!(detail["format"], "xlsx");

    // In English: English sheet names and headers.
    let bytes = admin
        .get(app.url("/t/iwate/kpis/report.xlsx?fy=2025&lang=en"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .to_vec();
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    assert_eq!(
        book.sheet_names(),
        ["Summary", "Breakdown", "Events held", "Case studies"]
    );
    let summary = sheet(&mut book, "Summary");
    assert_eq!(row_of(&summary, "Matches")[0], num(4));
}

async fn the_csv_lists_the_case_studies_of_the_year(app: &TestApp) {
    let (f, case_id) = report_fixture(app).await;
    let admin = signed_in(app, "report-csv@example.jp", Role::TenantAdmin, "iwate").await;
    let res = admin
        .get(app.url("/t/iwate/kpis/report.csv?fy=2025"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body = res.bytes().await.unwrap();
    assert!(body.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8(body[3..].to_vec()).unwrap();
    assert!(text.contains(",マッチング数,4,5\r\n"), "{text}");
    let url = format!("/t/iwate/cases/{case_id}\r\n");
    let line = text
        .lines()
        .find(|l| l.starts_with("事例,2025-11-01 =1+1"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains(",かんたはうす,"), "{line}");
    assert!(text.contains(&url), "{text}");
    assert!(!text.contains("前の年度の事例"));
    assert!(!text.contains("下書きの事例"));
    let detail = last_export(app, f.iwate).await;
    assert_eq!(detail["format"], "csv");
}

const PATHS: [&str; 3] = [
    "/t/iwate/kpis/report?fy=2025",
    "/t/iwate/kpis/report.csv?fy=2025",
    "/t/iwate/kpis/report.xlsx?fy=2025",
];

async fn only_the_tenants_report_readers_get_the_report(app: &TestApp) {
    let (f, _) = report_fixture(app).await;
    let other = signed_in(app, "report-k@example.jp", Role::TenantAdmin, "kamaishi").await;
    let coord = signed_in(app, "report-c@example.jp", Role::Coordinator, "iwate").await;
    let (talent, _) = crate::staff::person(app, "複業 太郎", "report-t@example.jp").await;
    assert_eq!(
        crate::talent::join(app, &talent, "iwate", false)
            .await
            .status(),
        303
    );
    let stranger = app.client();
    let before = audit_count(app, f.iwate).await;
    for path in PATHS {
        for (who, client) in [
            ("another tenant's admin", &other),
            ("a coordinator", &coord),
            ("a talent", &talent),
        ] {
            assert_eq!(app.status(client, path).await, 404, "{who}: {path}");
        }
        let res = stranger.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 303, "{path}");
        let to = res.headers()["location"].to_str().unwrap();
        assert!(to.starts_with("/signin"), "{to}");
    }
    assert_eq!(audit_count(app, f.iwate).await, before, "nothing exported");
    // The same admin reaches kamaishi's own report.
    assert_eq!(
        app.status(&other, "/t/kamaishi/kpis/report?fy=2025").await,
        200
    );
    // An admin of iwate gets each, and each is one more audit row.
    let admin = signed_in(app, "report-a@example.jp", Role::TenantAdmin, "iwate").await;
    for (i, path) in PATHS.iter().enumerate() {
        assert_eq!(app.status(&admin, path).await, 200, "{path}");
        assert_eq!(audit_count(app, f.iwate).await, before + i + 1, "{path}");
    }
}

async fn a_year_that_is_not_one_is_an_html_page(app: &TestApp) {
    let (f, _) = report_fixture(app).await;
    let admin = signed_in(app, "report-y@example.jp", Role::TenantAdmin, "iwate").await;
    let before = audit_count(app, f.iwate).await;
    for base in [
        "/t/iwate/kpis/report",
        "/t/iwate/kpis/report.csv",
        "/t/iwate/kpis/report.xlsx",
    ] {
        for fy in ["abc", "99999", "", "-1", "2025.5", "%E4%BB%A4%E5%92%8C7"] {
            let path = format!("{base}?fy={fy}");
            let res = admin.get(app.url(&path)).send().await.unwrap();
            assert_eq!(res.status(), 400, "{path}");
            assert!(
                res.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("text/html"),
                "{path}"
            );
            let html = res.text().await.unwrap();
            assert!(html.contains("role=\"alert\""), "{path}: {html}");
            assert!(html.contains("年度："), "{path}: {html}");
            assert!(html.contains("name=\"fy\""), "{path}");
        }
    }
    assert_eq!(audit_count(app, f.iwate).await, before, "nothing exported");
    // The year form on the error page leads to a report.
    let page = app.open(&admin, "/t/iwate/kpis/report?fy=abc").await;
    let res = page
        .form("/t/iwate/kpis/report")
        .set("fy", "2025")
        .submit(&admin)
        .await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("2025年度（令和7年度）"));
    // In English too (the language then sticks to this client).
    let en = app
        .page(&admin, "/t/iwate/kpis/report?fy=abc&lang=en")
        .await;
    assert!(en.contains("Annual report"));
    assert!(en.contains("Fiscal year"), "{en}");
    assert_eq!(
        audit_count(app, f.iwate).await,
        before + 1,
        "the one report"
    );
}

async fn events_still_to_come_are_not_among_those_held(app: &TestApp) {
    let iwate = app.store.tenant_by_slug("iwate").await.unwrap().id;
    let today = app
        .now()
        .with_timezone(&yui_domain::fiscal::tokyo())
        .date_naive();
    let year = FiscalYear::containing(today);
    // Days chosen inside the current fiscal year, one behind and one ahead when
    // the year allows it (never in its first or last days).
    let past = today - chrono::Duration::days(1);
    let coming = today + chrono::Duration::days(1);
    crate::kpis::titled_event(app, iwate, "seminar", "済んだ説明会", past, 1).await;
    crate::kpis::titled_event(app, iwate, "seminar", "これからの説明会", coming, 1).await;
    let admin = signed_in(app, "report-held@example.jp", Role::TenantAdmin, "iwate").await;
    let res = admin
        .get(app.url(&format!("/t/iwate/kpis/report.csv?fy={}", year.0)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    if FiscalYear::containing(past) == year {
        assert!(text.contains("済んだ説明会"), "{text}");
    }
    assert!(!text.contains("これからの説明会"), "{text}");
}
