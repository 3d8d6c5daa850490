//! Staff pages for programs and events: a program per fiscal year, events from the
//! tenant's templates, publishing, approvals and cancellations that move the
//! waitlist and mail people, travel subsidies, check-in at the door (by the QR
//! code's URL or a typed code, per day of a tour), the CSVs, and nobody outside the
//! tenant's staff reaching any of it.

use yui_authz::Role;
use yui_domain::checkin::CheckinCode;
use yui_domain::event::SeatKind;
use yui_domain::event::question::Answers;
use yui_domain::fiscal::tokyo;
use yui_domain::program::{default_fiscal_year, fiscal_label_in};
use yui_domain::registration::RegistrationStatus;
use yui_domain::{AccountId, EventId, Locale, TenantId};
use yui_store::NewRegistration;

use crate::hosts::{coordinator, status_form};
use crate::staff::{grant, person};
use crate::support::{Page, TestApp, on_both_backends};

on_both_backends!(
    TestApp::with_tenants =>
    a_program_per_year_and_events_from_its_templates,
    approvals_and_cancellations_move_the_waitlist_and_mail_people,
    check_in_by_code_url_and_typed_code_per_day,
    registrants_and_subsidies_csv_are_safe_and_audited,
    nobody_outside_the_tenants_staff_reaches_any_route,
);

async fn tenant_id(app: &TestApp, slug: &str) -> TenantId {
    app.store.tenant_by_slug(slug).await.unwrap().id
}

fn id_after(location: &str, marker: &str) -> i64 {
    location
        .split(marker)
        .nth(1)
        .unwrap()
        .split(['/', '?'])
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// Creates this year's program of `slug` from the list page's form; its id.
async fn make_program(app: &TestApp, client: &reqwest::Client, slug: &str) -> i64 {
    let path = format!("/t/{slug}/programs");
    let res = app
        .open(client, &path)
        .await
        .form(&path)
        .submit(client)
        .await;
    assert_eq!(res.status(), 303);
    id_after(res.headers()["location"].to_str().unwrap(), "/programs/")
}

/// Creates an event from a template through the program page's link and the form it
/// opens, with `set` applied to the prefilled form; the event's id.
async fn make_event(
    app: &TestApp,
    client: &reqwest::Client,
    slug: &str,
    program: i64,
    template: &str,
    set: &[(&str, &str)],
) -> i64 {
    let program_page = app
        .open(client, &format!("/t/{slug}/programs/{program}"))
        .await;
    let link = format!("/t/{slug}/events/new?program={program}&amp;template={template}");
    assert!(
        program_page.html().contains(&link),
        "{}",
        program_page.html()
    );
    let action = format!("/t/{slug}/events/new?program={program}");
    let page = app
        .open(
            client,
            &format!("/t/{slug}/events/new?program={program}&template={template}"),
        )
        .await;
    assert_eq!(page.status(), 200);
    let mut form = page.form(&action);
    for (k, v) in set {
        form.set(k, v);
    }
    let res = form.submit(client).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    id_after(res.headers()["location"].to_str().unwrap(), "/events/")
}

async fn publish(app: &TestApp, client: &reqwest::Client, slug: &str, event: i64) {
    let page = app
        .open(client, &format!("/t/{slug}/events/{event}/registrants"))
        .await;
    let res = status_form(&page, "published").submit(client).await;
    assert_eq!(res.status(), 303);
}

/// Registers `account` through the store (the public registration pages are not
/// this file's subject); the registration's id and check-in code.
async fn register(
    app: &TestApp,
    slug: &str,
    event: i64,
    account: AccountId,
    n: u8,
) -> (yui_domain::RegistrationId, CheckinCode) {
    let code = CheckinCode::from_random(&[n; 16]).unwrap();
    let answers = Answers::default();
    let new = NewRegistration {
        event: EventId::new(event),
        account,
        seat_kind: SeatKind::Onsite,
        answers: &answers,
        idempotency_key: None,
        checkin_code: &code,
        now: app.now(),
    };
    let mut tx = app
        .store
        .tenant(tenant_id(app, slug).await)
        .write()
        .await
        .unwrap();
    let r = tx.register(&new).await.unwrap();
    tx.commit().await.unwrap();
    (r.registration().id, code)
}

async fn status_of(app: &TestApp, id: yui_domain::RegistrationId) -> RegistrationStatus {
    let mut tx = app
        .store
        .tenant(tenant_id(app, "iwate").await)
        .read()
        .await
        .unwrap();
    let r = tx.registration(id).await.unwrap();
    tx.commit().await.unwrap();
    r.status()
}

async fn mails_to(app: &TestApp, address: &str, n: usize) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let found: Vec<String> = app
            .sink
            .inbox()
            .messages()
            .into_iter()
            .filter(|m| m.rcpt_to.iter().any(|a| a.eq_ignore_ascii_case(address)))
            .map(|m| m.data)
            .collect();
        if found.len() >= n || tokio::time::Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

fn today(app: &TestApp) -> chrono::NaiveDate {
    app.now().with_timezone(&tokyo()).date_naive()
}

async fn a_program_per_year_and_events_from_its_templates(app: &TestApp) {
    let coord = coordinator(app, "iwate", "coord-ev@iwate.example").await;
    let year = default_fiscal_year(today(app));

    // The form comes prefilled with the year programs are planned for.
    let page = app.open(&coord, "/t/iwate/programs").await;
    let form = page.form("/t/iwate/programs");
    assert_eq!(form.value("fiscal_year").unwrap(), year.0.to_string());
    let program = make_program(app, &coord, "iwate").await;
    let list = app.page(&coord, "/t/iwate/programs").await;
    assert!(list.contains(&fiscal_label_in(year, Locale::Ja)), "{list}");
    assert!(list.contains("令和"), "{list}");

    // A second program for the same year is refused on its field, the input kept.
    let res = app
        .open(&coord, "/t/iwate/programs")
        .await
        .form("/t/iwate/programs")
        .set("title", "二つ目のプログラム")
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("年度：この年度のプログラムはすでにあります"),
        "{html}"
    );
    assert!(html.contains("二つ目のプログラム"), "input kept");
    let res = app
        .open(&coord, "/t/iwate/programs?lang=en")
        .await
        .form("/t/iwate/programs")
        .set("title", "")
        .submit(&coord)
        .await;
    let html = res.text().await.unwrap();
    assert!(html.contains("Name: Please fill this in"), "{html}");
    app.open(&coord, "/t/iwate/programs?lang=ja").await;

    // The field-work rule, in plain words.
    let path = format!("/t/iwate/programs/{program}");
    let res = app
        .open(&coord, &path)
        .await
        .form(&path)
        .set("fieldwork_rule", "required")
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 303);
    assert!(
        app.page(&coord, &path)
            .await
            .contains("フィールドワークに参加した人だけが参加できる")
    );

    // Field errors name their fields, in Japanese and English; a date outside the
    // program's year is named by the year.
    let outside = year
        .last_day()
        .unwrap()
        .checked_add_days(chrono::Days::new(10))
        .unwrap()
        .format("%Y-%m-%d")
        .to_string();
    let action = format!("/t/iwate/events/new?program={program}");
    for (lang, messages) in [
        (
            "ja",
            ["名前：入力してください", "1日目の日付：プログラムの年度"],
        ),
        (
            "en",
            [
                "Name: Please fill this in",
                "Date of day 1: Please enter a date within the program",
            ],
        ),
    ] {
        let res = app
            .open(&coord, &format!("{action}&template=seminar&lang={lang}"))
            .await
            .form(&action)
            .set("title", "")
            .set("day1_date", &outside)
            .set("description", "残る説明")
            .submit(&coord)
            .await;
        assert_eq!(res.status(), 422);
        let html = res.text().await.unwrap();
        for m in messages {
            assert!(html.contains(m), "{m} in {html}");
        }
        assert!(html.contains("残る説明"), "input kept");
    }
    app.open(&coord, "/t/iwate/programs?lang=ja").await;

    // From the field-work template: two days prefilled; a hostile title is escaped.
    let event = make_event(
        app,
        &coord,
        "iwate",
        program,
        "fieldwork",
        &[
            ("title", "<script>alert(1)</script>釜石フィールドワーク"),
            ("venue", "釜石市民ホール"),
            ("subsidy", "flat"),
            ("subsidy_amount", "50000"),
        ],
    )
    .await;
    let page = app
        .open(&coord, &format!("/t/iwate/events/{event}/registrants"))
        .await;
    assert!(
        page.html().contains("&lt;script&gt;alert(1)"),
        "{}",
        page.html()
    );
    assert!(!page.html().contains("<script>alert(1)"));
    assert!(page.html().contains("下書き"));

    // Edited (two more seats), then published.
    let edit = format!("/t/iwate/events/{event}/edit");
    let page = app.open(&coord, &edit).await;
    let form = page.form(&edit);
    assert_eq!(form.value("subsidy_amount").unwrap(), "50000");
    assert!(
        !form.value("day2_date").unwrap().is_empty(),
        "a two-day tour"
    );
    let res = page
        .form(&edit)
        .set("capacity_onsite", "17")
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 303);
    publish(app, &coord, "iwate", event).await;
    let html = app
        .page(&coord, &format!("/t/iwate/events/{event}/registrants"))
        .await;
    assert!(html.contains("公開中") && html.contains("0/17"), "{html}");
    // Published twice is refused, not an error page.
    let page = app
        .open(&coord, &format!("/t/iwate/events/{event}/registrants"))
        .await;
    let mut form = status_form(&page, "cancelled");
    let res = form.forge("to", "published").submit(&coord).await;
    assert_eq!(res.status(), 409);

    let audit = crate::support::audit_entries(&app.store, Some(tenant_id(app, "iwate").await), 20)
        .await
        .unwrap();
    for action in [
        "program_created",
        "program_edited",
        "event_created",
        "event_edited",
        "event_status_changed",
    ] {
        assert!(audit.iter().any(|a| a.action == action), "{action} audited");
    }
}

async fn approvals_and_cancellations_move_the_waitlist_and_mail_people(app: &TestApp) {
    let coord = coordinator(app, "iwate", "coord-ap@iwate.example").await;
    let program = make_program(app, &coord, "iwate").await;
    // A screened tour with one seat.
    let event = make_event(
        app,
        &coord,
        "iwate",
        program,
        "fieldwork",
        &[("capacity_onsite", "1"), ("venue", "遠野")],
    )
    .await;
    publish(app, &coord, "iwate", event).await;
    let (_, a) = person(app, "青木 一郎", "aoki@example.jp").await;
    let (_, b) = person(app, "馬場 二郎", "baba@example.jp").await;
    let (_, c) = person(app, "千葉 三郎", "chiba@example.jp").await;
    let (ra, _) = register(app, "iwate", event, a, 1).await;
    let (rb, _) = register(app, "iwate", event, b, 2).await;
    let (rc, _) = register(app, "iwate", event, c, 3).await;
    assert_eq!(status_of(app, ra).await, RegistrationStatus::Pending);

    let registrants = format!("/t/iwate/events/{event}/registrants");
    let decide =
        |r: yui_domain::RegistrationId| format!("/t/iwate/events/{event}/registrants/{r}/decide");
    let choose = |page: &Page, r, decision: &str| {
        page.forms()
            .into_iter()
            .find(|f| {
                f.action().path() == decide(r) && f.value("decision").as_deref() == Some(decision)
            })
            .unwrap_or_else(|| panic!("no {decision} form: {}", page.html()))
    };
    // A takes the seat, B is approved onto the waitlist, C is declined.
    for (r, d) in [(ra, "approve"), (rb, "approve"), (rc, "decline")] {
        let page = app.open(&coord, &registrants).await;
        assert_eq!(choose(&page, r, d).submit(&coord).await.status(), 303);
    }
    assert_eq!(status_of(app, ra).await, RegistrationStatus::Confirmed);
    assert_eq!(status_of(app, rb).await, RegistrationStatus::Waitlisted);
    assert_eq!(status_of(app, rc).await, RegistrationStatus::Cancelled);
    let html = app.page(&coord, &registrants).await;
    assert!(
        html.contains("キャンセル待ちの順番") && html.contains("馬場 二郎（会場）"),
        "{html}"
    );
    // Each person also got the sign-up mail first.
    assert_eq!(mails_to(app, "aoki@example.jp", 2).await.len(), 2);
    assert_eq!(mails_to(app, "chiba@example.jp", 2).await.len(), 2);

    // Staff cancel A: B, first on the waitlist, takes the seat and is told.
    let page = app.open(&coord, &registrants).await;
    let cancel = format!("/t/iwate/events/{event}/registrants/{ra}/cancel");
    assert_eq!(page.form(&cancel).submit(&coord).await.status(), 303);
    assert_eq!(status_of(app, ra).await, RegistrationStatus::Cancelled);
    assert_eq!(status_of(app, rb).await, RegistrationStatus::Confirmed);
    let baba = mails_to(app, "baba@example.jp", 3).await;
    assert_eq!(baba.len(), 3, "signed up, waitlisted, promoted");
    assert!(
        baba.iter().any(|m| m.contains("text/calendar")),
        "the seat's .ics"
    );

    // A decision on a registration that moved meanwhile says so.
    let res = page.form(&cancel).submit(&coord).await;
    assert_eq!(res.status(), 409);

    // Another event's registration through this event's path: 404.
    let other = make_event(
        app,
        &coord,
        "iwate",
        program,
        "seminar",
        &[("venue", "盛岡")],
    )
    .await;
    publish(app, &coord, "iwate", other).await;
    let (rd, _) = register(app, "iwate", other, c, 4).await;
    let page = app.open(&coord, &registrants).await;
    let mut form = page.form(&format!("/t/iwate/events/{event}/registrants/{rb}/cancel"));
    form.retarget(&format!("/t/iwate/events/{event}/registrants/{rd}/cancel"));
    assert_eq!(form.submit(&coord).await.status(), 404);
    assert_eq!(status_of(app, rd).await, RegistrationStatus::Confirmed);

    // Calling the event off tells the live registrant.
    let page = app.open(&coord, &registrants).await;
    assert_eq!(
        status_form(&page, "cancelled")
            .submit(&coord)
            .await
            .status(),
        303
    );
    assert_eq!(mails_to(app, "baba@example.jp", 4).await.len(), 4);
}

async fn check_in_by_code_url_and_typed_code_per_day(app: &TestApp) {
    let coord = coordinator(app, "iwate", "coord-ci@iwate.example").await;
    let (helper, helper_id) = person(app, "市 職員", "city@iwate.example").await;
    grant(app, helper_id, Role::MunicipalStaff, Some("iwate")).await;
    let program = make_program(app, &coord, "iwate").await;
    let event = make_event(
        app,
        &coord,
        "iwate",
        program,
        "fieldwork",
        &[("selection", "first_come"), ("venue", "一関")],
    )
    .await;
    publish(app, &coord, "iwate", event).await;
    let (_, a) = person(app, "参加 花子", "hanako@example.jp").await;
    let (r, code) = register(app, "iwate", event, a, 5).await;
    assert_eq!(status_of(app, r).await, RegistrationStatus::Confirmed);

    // The QR code's URL: who, which event, a day to choose.
    let url = format!("/t/iwate/checkin/{}", code.as_str());
    let page = app.open(&helper, &url).await;
    assert_eq!(page.status(), 200);
    assert!(page.html().contains("参加 花子"), "{}", page.html());
    let res = page.form(&url).submit(&helper).await;
    assert_eq!(res.status(), 303);
    let html = app
        .page(&helper, res.headers()["location"].to_str().unwrap())
        .await;
    assert!(html.contains("のチェックインを記録しました"), "{html}");
    // A second scan the same day says so.
    let res = app
        .open(&helper, &url)
        .await
        .form(&url)
        .submit(&helper)
        .await;
    let html = app
        .page(&helper, res.headers()["location"].to_str().unwrap())
        .await;
    assert!(html.contains("すでにチェックイン済みです"), "{html}");
    // The second day of the tour.
    let page = app.open(&helper, &url).await;
    let mut form = page.form(&url);
    let days: Vec<String> = page
        .html()
        .match_indices("name=\"day\" value=\"")
        .map(|(i, m)| page.html()[i + m.len()..i + m.len() + 10].to_owned())
        .collect();
    assert_eq!(days.len(), 2, "{}", page.html());
    assert_eq!(
        form.set("day", &days[1]).submit(&helper).await.status(),
        303
    );
    let html = app
        .page(&coord, &format!("/t/iwate/events/{event}/registrants"))
        .await;
    assert!(html.contains("出席"), "{html}");
    let mut tx = app
        .store
        .tenant(tenant_id(app, "iwate").await)
        .read()
        .await
        .unwrap();
    let attendance = tx.attendance(EventId::new(event)).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(attendance.len(), 2, "one row per day");

    // Typed: full-width, lower case, with a hyphen.
    let typed = format!("/t/iwate/events/{event}/checkin");
    let wide: String = code
        .display()
        .to_lowercase()
        .chars()
        .map(|c| {
            if c == '-' {
                'ー'
            } else {
                char::from_u32(c as u32 + 0xFEE0).unwrap()
            }
        })
        .collect();
    let res = app
        .open(&helper, &typed)
        .await
        .form(&typed)
        .set("code", &wide)
        .submit(&helper)
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], url.as_str());
    for (bad, message) in [
        ("XYZ", "8文字のチェックインコード"),
        ("2222-2222", "このコードは見つかりません"),
    ] {
        let res = app
            .open(&helper, &typed)
            .await
            .form(&typed)
            .set("code", bad)
            .submit(&helper)
            .await;
        assert_eq!(res.status(), 422);
        assert!(res.text().await.unwrap().contains(message));
    }

    // Outsiders and other tenants: 404, whoever they are.
    let (talent, talent_id) = person(app, "一般 人材", "talent-ci@example.jp").await;
    grant(app, talent_id, Role::Talent, Some("iwate")).await;
    let other = coordinator(app, "kamaishi", "coord-ci@kamaishi.example").await;
    assert_eq!(app.status(&talent, &url).await, 404);
    assert_eq!(app.status(&other, &url).await, 404);
    assert_eq!(
        app.status(&other, &format!("/t/kamaishi/checkin/{}", code.as_str()))
            .await,
        404
    );
}

async fn registrants_and_subsidies_csv_are_safe_and_audited(app: &TestApp) {
    let coord = coordinator(app, "iwate", "coord-csv@iwate.example").await;
    let program = make_program(app, &coord, "iwate").await;
    let event = make_event(
        app,
        &coord,
        "iwate",
        program,
        "fieldwork",
        &[
            ("selection", "first_come"),
            ("venue", "大船渡"),
            ("subsidy", "up_to"),
            ("subsidy_amount", "30000"),
        ],
    )
    .await;
    publish(app, &coord, "iwate", event).await;
    let (_, a) = person(app, "=HYPERLINK(\"x\")", "formula@example.jp").await;
    let (r, _) = register(app, "iwate", event, a, 7).await;

    // Eligible and paid, recorded from the registrants page; too much is refused.
    let registrants = format!("/t/iwate/events/{event}/registrants");
    let subsidy = format!("/t/iwate/events/{event}/registrants/{r}/subsidy");
    let res = app
        .open(&coord, &registrants)
        .await
        .form(&subsidy)
        .check("eligible")
        .set("subsidy_paid", "40000")
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("1から30000まで"));
    let res = app
        .open(&coord, &registrants)
        .await
        .form(&subsidy)
        .check("eligible")
        .set("subsidy_paid", "１２，３４０")
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 303);

    for (path, header, export) in [
        (
            format!("{registrants}.csv"),
            "番号,氏名,メールアドレス,状況",
            "registrants",
        ),
        (
            format!("/t/iwate/events/{event}/subsidies.csv"),
            "番号,氏名,メールアドレス,イベント,ツアーの日程",
            "subsidies",
        ),
    ] {
        let res = coord.get(app.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv")
        );
        let bytes = res.bytes().await.unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "BOM");
        let body = String::from_utf8(bytes[3..].to_vec()).unwrap();
        assert!(body.starts_with(header), "{body}");
        assert!(body.contains("'=HYPERLINK"), "formula neutralised: {body}");
        assert!(!body.contains(",=HYPERLINK"), "{body}");
        if export == "subsidies" {
            assert!(body.contains("12340"), "{body}");
        }
        let audit =
            crate::support::audit_entries(&app.store, Some(tenant_id(app, "iwate").await), 10)
                .await
                .unwrap();
        assert!(
            audit
                .iter()
                .any(|e| e.action == "export" && e.detail.0["export"] == export),
            "{export} audited"
        );
    }
}

async fn nobody_outside_the_tenants_staff_reaches_any_route(app: &TestApp) {
    let coord = coordinator(app, "iwate", "coord-x@iwate.example").await;
    let program = make_program(app, &coord, "iwate").await;
    let event = make_event(
        app,
        &coord,
        "iwate",
        program,
        "seminar",
        &[("venue", "東京")],
    )
    .await;
    publish(app, &coord, "iwate", event).await;
    let (_, a) = person(app, "登録 者", "reg-x@example.jp").await;
    let (r, code) = register(app, "iwate", event, a, 8).await;

    let (talent, talent_id) = person(app, "人材 さん", "talent-x@example.jp").await;
    grant(app, talent_id, Role::Talent, Some("iwate")).await;
    let other = coordinator(app, "kamaishi", "coord-x@kamaishi.example").await;
    let other_program = make_program(app, &other, "kamaishi").await;
    let signed_out = app.client();

    let gets = [
        "/t/{slug}/programs".to_owned(),
        format!("/t/{{slug}}/programs/{program}"),
        format!("/t/{{slug}}/events/new?program={program}&template=seminar"),
        format!("/t/{{slug}}/events/{event}/edit"),
        format!("/t/{{slug}}/events/{event}/registrants"),
        format!("/t/{{slug}}/events/{event}/registrants.csv"),
        format!("/t/{{slug}}/events/{event}/subsidies.csv"),
        format!("/t/{{slug}}/events/{event}/checkin"),
        format!("/t/{{slug}}/checkin/{}", code.as_str()),
    ];
    for path in &gets {
        let own = path.replace("{slug}", "iwate");
        assert_eq!(app.status(&coord, &own).await, 200, "{own}");
        assert_eq!(app.status(&talent, &own).await, 404, "talent {own}");
        assert_eq!(app.status(&other, &own).await, 404, "other tenant {own}");
        let res = signed_out.get(app.url(&own)).send().await.unwrap();
        assert_eq!(res.status(), 303, "signed out {own}");
        assert!(
            res.headers()["location"]
                .to_str()
                .unwrap()
                .starts_with("/signin")
        );
        // Another tenant's staff, with this tenant's ids under their own slug.
        let cross = path.replace("{slug}", "kamaishi");
        if cross == "/t/kamaishi/programs" {
            continue;
        }
        assert_eq!(app.status(&other, &cross).await, 404, "cross {cross}");
    }
    // An event form for another tenant's program: 404.
    assert_eq!(
        app.status(
            &coord,
            &format!("/t/iwate/events/new?program={other_program}")
        )
        .await,
        404
    );

    // Posts: the forms iwate's coordinator sees, sent by everyone else.
    let registrants = app
        .open(&coord, &format!("/t/iwate/events/{event}/registrants"))
        .await;
    let posts = [
        registrants.form(&format!("/t/iwate/events/{event}/registrants/{r}/cancel")),
        status_form(&registrants, "cancelled"),
        app.open(&coord, "/t/iwate/programs")
            .await
            .form("/t/iwate/programs"),
        app.open(&coord, &format!("/t/iwate/events/{event}/edit"))
            .await
            .form(&format!("/t/iwate/events/{event}/edit")),
        app.open(&coord, &format!("/t/iwate/checkin/{}", code.as_str()))
            .await
            .form(&format!("/t/iwate/checkin/{}", code.as_str())),
    ];
    let other_csrf = app
        .open(&other, "/t/kamaishi/programs")
        .await
        .form("/t/kamaishi/programs")
        .value("csrf")
        .unwrap();
    for form in &posts {
        let path = form.action().path().to_owned();
        assert_eq!(form.submit(&talent).await.status(), 404, "talent {path}");
        assert_eq!(form.submit(&other).await.status(), 404, "other {path}");
        let res = form.submit(&signed_out).await;
        assert_eq!(res.status(), 303, "signed out {path}");
        // Their own CSRF token, so only the tenant boundary can refuse it.
        if path == "/t/iwate/programs" {
            // Under their own slug that is their own program list: not a boundary.
            continue;
        }
        let mut cross = form.clone();
        cross
            .retarget(&path.replace("/t/iwate/", "/t/kamaishi/"))
            .forge("csrf", &other_csrf);
        assert_eq!(cross.submit(&other).await.status(), 404, "cross {path}");
    }
    assert_eq!(status_of(app, r).await, RegistrationStatus::Confirmed);
}
