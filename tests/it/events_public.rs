//! Events for the public and talents: a tenant's list and an event's page with
//! seats left, registering through the form the page rendered (once, however often
//! it is sent), the waitlist and its promotion mail, cancelling only one's own,
//! the check-in code and QR code, calendar files in Tokyo time, the list across
//! regions with its filters, and the walls: drafts and other tenants' slugs are 404.

use std::time::Duration;

use chrono::{Duration as Days, NaiveDate, Utc};
use yui_domain::event::{EventInput, EventStatus, check_event_edit};
use yui_domain::fiscal::tokyo;
use yui_domain::program::{FieldworkRule, ProgramInput, check_program};
use yui_domain::registration::RegistrationStatus;
use yui_domain::{EventId, FiscalYear, TenantId, TenantStatus};
use yui_store::PlatformReason;

use crate::staff::person;
use crate::support::{Page, TestApp, on_both_backends};

on_both_backends!(
    TestApp::with_tenants =>
    register_waitlist_cancel_and_promote,
    twenty_parallel_submits_of_one_form_register_once,
    drafts_and_other_tenants_are_404_on_every_route,
    hybrid_seats_online_url_screening_and_logistics,
    calendar_files_are_in_tokyo_time,
    events_across_regions_filter_and_drop_suspended_regions,
);

async fn tenant_id(app: &TestApp, slug: &str) -> TenantId {
    app.store.tenant_by_slug(slug).await.unwrap().id
}

/// A day `n` days from today in Tokyo.
fn day(app: &TestApp, n: i64) -> NaiveDate {
    (app.now() + Days::days(n))
        .with_timezone(&tokyo())
        .date_naive()
}

/// Creates a published (or `status`) event of `slug` from event-form pairs.
async fn make_event(
    app: &TestApp,
    slug: &str,
    status: EventStatus,
    pairs: &[(&str, &str)],
) -> EventId {
    let date = day(app, 20).format("%Y-%m-%d").to_string();
    let mut all: Vec<(String, String)> = [
        ("kind", "seminar"),
        ("audience", "talent"),
        ("title", "地方複業のはじめかた"),
        ("format", "onsite"),
        ("selection", "first_come"),
        ("day1_date", date.as_str()),
        ("day1_starts", "19:00"),
        ("day1_ends", "20:30"),
        ("capacity_onsite", "1"),
        ("venue", "アマホームPLAZA"),
        ("address", "奄美市名瀬"),
        ("subsidy", "none"),
    ]
    .iter()
    .filter(|(k, _)| !pairs.iter().any(|(p, _)| p == k))
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    all.extend(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let fields = check_event_edit(&EventInput::from_pairs(&all)).unwrap();
    let tenant = tenant_id(app, slug).await;
    let today = day(app, 0);
    let year = FiscalYear::containing(today);
    let mut tx = app.store.tenant(tenant).write().await.unwrap();
    let program = match tx.program_of_year(year).await.unwrap() {
        Some(p) => p.id,
        None => {
            let name = yui_domain::locale::Localized {
                ja: "遠恋複業".into(),
                en: "Enren".into(),
            };
            let p = check_program(&ProgramInput::for_year(&name, year), today).unwrap();
            tx.create_program(&p, FieldworkRule::Open, app.now())
                .await
                .unwrap()
        }
    };
    let id = tx
        .create_event(program, &fields, status, None, app.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

async fn registrations(app: &TestApp, slug: &str, event: EventId) -> Vec<yui_store::Registration> {
    let mut tx = app
        .store
        .tenant(tenant_id(app, slug).await)
        .read()
        .await
        .unwrap();
    let r = tx.registrations(event).await.unwrap();
    tx.commit().await.unwrap();
    r
}

/// Mails to `to` whose raw text contains `needle`, after the outbox had time.
async fn mails_with(app: &TestApp, to: &str, needle: &str, at_least: usize) -> Vec<String> {
    let start = std::time::Instant::now();
    loop {
        let found: Vec<String> = app
            .sink
            .inbox()
            .messages()
            .into_iter()
            .filter(|m| m.rcpt_to.iter().any(|r| r.eq_ignore_ascii_case(to)))
            .filter(|m| m.data.contains(needle) || m.subject().is_some_and(|s| s.contains(needle)))
            .map(|m| m.data)
            .collect();
        if found.len() >= at_least || start.elapsed() > Duration::from_secs(15) {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn calendar_attachment(raw: &str) -> Option<String> {
    use mail_parser::MimeHeaders;
    let parsed = mail_parser::MessageParser::default().parse(raw.as_bytes())?;
    (0..parsed.attachment_count()).find_map(|i| {
        let a = parsed.attachment(i as u32)?;
        let ct = a.content_type()?;
        (ct.ctype() == "text" && ct.subtype() == Some("calendar"))
            .then(|| String::from_utf8(a.contents().to_vec()).unwrap())
    })
}

async fn register_waitlist_cancel_and_promote(app: &TestApp) {
    let id = make_event(
        app,
        "iwate",
        EventStatus::Published,
        &[
            ("title", "<script>alert(1)</script>説明会"),
            ("q1_label", "ご所属<img src=x>"),
            ("q1_kind", "text"),
            ("q1_required", "on"),
            ("q2_label", "懇親会に参加しますか"),
            ("q2_kind", "yes_no"),
        ],
    )
    .await;
    let detail = format!("/t/iwate/events/{id}");

    // The public sees the event, escaped, with a way to sign in that comes back.
    let anon = app.client();
    let html = app.page(&anon, &detail).await;
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;説明会"),
        "{html}"
    );
    assert!(!html.contains("<script>alert"));
    assert!(html.contains(&format!("/signin?next=%2Ft%2Fiwate%2Fevents%2F{id}")));
    assert!(!html.contains("idempotency_key"));
    let list = app.page(&anon, "/t/iwate/events").await;
    assert!(list.contains("残り1席（定員1）"), "{list}");
    assert!(list.contains(&format!("/t/iwate/events/{id}")));

    let (a, _) = person(app, "一関 花子", "hanako@example.jp").await;
    let (b, _) = person(app, "釜石 太郎", "taro@example.jp").await;

    // A required answer left empty is named by the question's own label, escaped;
    // what was typed stays.
    let page = app.open(&a, &detail).await;
    assert!(
        page.html()
            .contains("お名前とメールアドレスが主催する地域の事務局に伝わります")
    );
    let register = format!("/t/iwate/events/{id}/register");
    let res = page
        .form(&register)
        .set("q1", " ")
        .set("q2", "yes")
        .submit(&a)
        .await;
    assert_eq!(res.status(), 422);
    let again = Page::read(res).await;
    assert!(
        again
            .html()
            .contains("ご所属&lt;img src=x&gt;：入力してください"),
        "{}",
        again.html()
    );
    assert!(!again.html().contains("<img src=x>"));
    assert_eq!(again.form(&register).value("q2").as_deref(), Some("yes"));
    // A forged answer to a yes/no question is named too.
    let res = again
        .form(&register)
        .set("q1", "株式会社<b>A</b>")
        .forge("q2", "maybe")
        .submit(&a)
        .await;
    assert_eq!(res.status(), 422);

    // Registered: confirmed, once, however often the same form is sent.
    let page = app.open(&a, &detail).await;
    let mut form = page.form(&register);
    form.set("q1", "株式会社<b>A</b>").set("q2", "no");
    let res = form.submit(&a).await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"].to_str().unwrap(),
        format!("/t/iwate/events/{id}?done=registered#registration")
    );
    assert_eq!(form.submit(&a).await.status(), 303);
    let rows = registrations(app, "iwate", id).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status(), RegistrationStatus::Confirmed);
    let code = yui_domain::checkin::CheckinCode::parse(&rows[0].checkin_code).unwrap();

    let mine = app.page(&a, &format!("{detail}?done=registered")).await;
    assert!(mine.contains("参加確定"), "{mine}");
    assert!(mine.contains(&code.display()));
    let checkin = format!("http://{}/t/iwate/checkin/{}", app.addr, code.as_str());
    assert!(
        mine.contains(&format!(
            "id=\"checkin-url\" href=\"{checkin}\">{checkin}</a>"
        )),
        "{mine}"
    );
    let svg_start = mine.find("<svg").expect("an inline QR code");
    let svg = &mine[svg_start..mine.find("</svg>").unwrap() + 6];
    assert!(
        svg.contains("role=\"img\"") && svg.contains("<path"),
        "{svg}"
    );
    assert_eq!(svg.matches("<svg").count(), 1);
    assert!(mine.contains("株式会社&lt;b&gt;A&lt;&#x2F;b&gt;"));
    assert!(
        !mine.contains(&format!("action=\"{register}\"")),
        "no second form"
    );

    // The confirmation arrives with the event's calendar file.
    let confirmed = mails_with(app, "hanako@example.jp", "text/calendar", 1).await;
    assert_eq!(confirmed.len(), 1);
    let ics = calendar_attachment(&confirmed[0]).expect("an .ics attachment");
    assert!(ics.starts_with("BEGIN:VCALENDAR"));
    assert!(ics.contains("TZID=Asia/Tokyo"));

    // The seat is gone: the next person joins the waitlist, first in line.
    let list = app.page(&anon, "/t/iwate/events").await;
    assert!(list.contains("満席・キャンセル待ち（0名）"), "{list}");
    let res = app
        .open(&b, &detail)
        .await
        .form(&register)
        .set("q1", "釜石市役所")
        .submit(&b)
        .await;
    assert_eq!(res.status(), 303);
    let waiting = app.page(&b, &detail).await;
    assert!(
        waiting.contains("キャンセル待ち") && waiting.contains("1番目"),
        "{waiting}"
    );
    assert!(!waiting.contains("<svg"), "no check-in code while waiting");
    assert!(
        app.page(&anon, "/t/iwate/events")
            .await
            .contains("満席・キャンセル待ち（1名）")
    );
    let b_id = registrations(app, "iwate", id)
        .await
        .into_iter()
        .find(|r| r.status() == RegistrationStatus::Waitlisted)
        .unwrap()
        .id;

    // Nobody cancels another person's registration: that id is not theirs, 404.
    let a_page = app.open(&a, &detail).await;
    let a_cancel = a_page
        .forms()
        .into_iter()
        .find(|f| f.action().path().ends_with("/cancel"))
        .unwrap();
    let mut forged = a_cancel.clone();
    forged.retarget(&format!("/t/iwate/registrations/{b_id}/cancel"));
    assert_eq!(forged.submit(&a).await.status(), 404);
    // Signed out, the button leads to sign in, and nothing moves.
    let res = a_cancel.submit(&anon).await;
    assert!(res.status().is_redirection());
    assert!(
        res.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/signin")
    );

    // The holder cancels; the first in line is promoted and told exactly once.
    let res = a_cancel.submit(&a).await;
    assert_eq!(res.status(), 303);
    let rows = registrations(app, "iwate", id).await;
    assert_eq!(
        rows.iter().map(|r| r.status()).collect::<Vec<_>>(),
        [RegistrationStatus::Cancelled, RegistrationStatus::Confirmed]
    );
    let promoted = mails_with(app, "taro@example.jp", "text/calendar", 1).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        mails_with(app, "taro@example.jp", "text/calendar", 1)
            .await
            .len(),
        1,
        "one promotion mail"
    );
    assert!(calendar_attachment(&promoted[0]).is_some());
    assert!(app.page(&b, &detail).await.contains("参加確定"));
    // A second click on the cancelled registration changes nothing: it shows the
    // result again, and nobody else is promoted.
    let again = a_cancel.submit(&a).await;
    assert_eq!(again.status(), 303);
    assert!(
        again.headers()["location"]
            .to_str()
            .unwrap()
            .contains("done=cancelled")
    );

    // My events lists it; in English the labels follow.
    let me = app.page(&b, "/me").await;
    assert!(
        me.contains("申し込んだイベント") && me.contains("&lt;script&gt;"),
        "{me}"
    );
    let en = app.page(&b, &format!("{detail}?lang=en")).await;
    assert!(
        en.contains("Your registration") && en.contains("Confirmed"),
        "{en}"
    );
    app.page(&b, &format!("{detail}?lang=ja")).await;
}

async fn twenty_parallel_submits_of_one_form_register_once(app: &TestApp) {
    let id = make_event(
        app,
        "iwate",
        EventStatus::Published,
        &[("capacity_onsite", "5")],
    )
    .await;
    let detail = format!("/t/iwate/events/{id}");
    let (a, _) = person(app, "並列 さん", "burst@example.jp").await;
    let form = app
        .open(&a, &detail)
        .await
        .form(&format!("/t/iwate/events/{id}/register"));
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (form, a) = (form.clone(), a.clone());
        tasks.push(tokio::spawn(async move { form.submit(&a).await.status() }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 303);
    }
    let rows = registrations(app, "iwate", id).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status(), RegistrationStatus::Confirmed);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        mails_with(app, "burst@example.jp", "text/calendar", 1)
            .await
            .len(),
        1
    );
    // A fresh rendering shows the registration, not a second form.
    let html = app.page(&a, &detail).await;
    assert!(!html.contains("idempotency_key"));
}

async fn drafts_and_other_tenants_are_404_on_every_route(app: &TestApp) {
    let id = make_event(
        app,
        "iwate",
        EventStatus::Published,
        &[
            ("capacity_onsite", "5"),
            ("logistics_form", "on"),
            ("l1_label", "宿泊"),
            ("l1_kind", "yes_no"),
        ],
    )
    .await;
    let draft = make_event(
        app,
        "iwate",
        EventStatus::Draft,
        &[("title", "下書きの講座")],
    )
    .await;
    let (a, _) = person(app, "壁 さん", "wall@example.jp").await;
    let anon = app.client();
    for path in [
        format!("/t/iwate/events/{draft}"),
        format!("/t/iwate/events/{draft}.ics"),
        format!("/t/kamaishi/events/{id}"),
        format!("/t/kamaishi/events/{id}.ics"),
        "/t/iwate/events/abc".to_owned(),
        "/t/iwate/events/99999".to_owned(),
    ] {
        assert_eq!(app.status(&anon, &path).await, 404, "{path}");
        assert_eq!(app.status(&a, &path).await, 404, "{path}");
    }
    assert!(
        !app.page(&anon, "/t/iwate/events")
            .await
            .contains("下書きの講座")
    );
    assert!(
        !app.page(&anon, "/t/iwate/events.ics")
            .await
            .contains("下書きの講座")
    );
    assert!(!app.page(&anon, "/events").await.contains("下書きの講座"));

    let detail = format!("/t/iwate/events/{id}");
    let page = app.open(&a, &detail).await;
    let register = page.form(&format!("/t/iwate/events/{id}/register"));
    for target in [
        format!("/t/iwate/events/{draft}/register"),
        format!("/t/kamaishi/events/{id}/register"),
    ] {
        let mut f = register.clone();
        f.retarget(&target);
        assert_eq!(f.submit(&a).await.status(), 404, "{target}");
    }
    assert!(registrations(app, "iwate", id).await.is_empty());
    assert_eq!(register.submit(&a).await.status(), 303);
    let rid = registrations(app, "iwate", id).await[0].id;
    let page = app.open(&a, &detail).await;
    for action in ["cancel", "logistics"] {
        let mut f = page.form(&format!("/t/iwate/registrations/{rid}/{action}"));
        f.retarget(&format!("/t/kamaishi/registrations/{rid}/{action}"));
        assert_eq!(f.submit(&a).await.status(), 404, "{action}");
        f.retarget(&format!(
            "/t/iwate/registrations/{}/{action}",
            rid.get() + 1000
        ));
        assert_eq!(f.submit(&a).await.status(), 404, "{action}");
    }
    assert_eq!(
        registrations(app, "iwate", id).await[0].status(),
        RegistrationStatus::Confirmed
    );
}

async fn hybrid_seats_online_url_screening_and_logistics(app: &TestApp) {
    let id = make_event(
        app,
        "amami",
        EventStatus::Published,
        &[
            ("format", "hybrid"),
            ("capacity_onsite", "20"),
            ("capacity_online", "30"),
            ("fee", "3000"),
            ("online_url", "https://meet.example/amami"),
            ("logistics_form", "on"),
            ("l1_label", "食事の制限"),
            ("l1_kind", "text"),
            ("l1_required", "on"),
        ],
    )
    .await;
    let detail = format!("/t/amami/events/{id}");
    let register = format!("/t/amami/events/{id}/register");
    let anon = app.client();
    let html = app.page(&anon, &detail).await;
    assert!(
        html.contains("3,000円")
            && html.contains("会場 残り20席（定員20）")
            && html.contains("オンライン 残り30席（定員30）"),
        "{html}"
    );
    assert!(
        !html.contains("meet.example"),
        "the URL is for confirmed online registrants"
    );

    // The attendance choice is required of a hybrid event, and named.
    let (on, _) = person(app, "オンライン さん", "online@example.jp").await;
    let page = app.open(&on, &detail).await;
    let res = page.form(&register).submit(&on).await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("参加方法：入力してください")
    );
    let res = page
        .form(&register)
        .set("attendance", "online")
        .submit(&on)
        .await;
    assert_eq!(res.status(), 303);
    let html = app.page(&on, &detail).await;
    assert!(
        html.contains("https:&#x2F;&#x2F;meet.example&#x2F;amami"),
        "{html}"
    );

    let (site, _) = person(app, "会場 さん", "onsite@example.jp").await;
    let res = app
        .open(&site, &detail)
        .await
        .form(&register)
        .set("attendance", "onsite")
        .submit(&site)
        .await;
    assert_eq!(res.status(), 303);
    let page = app.open(&site, &detail).await;
    assert!(!page.html().contains("meet.example"));
    assert!(page.html().contains("会場 残り19席（定員20）"));

    // Approved people fill in the logistics form; a required answer is named.
    let rid = registrations(app, "amami", id)
        .await
        .into_iter()
        .find(|r| r.email == "onsite@example.jp")
        .unwrap()
        .id;
    let logistics = format!("/t/amami/registrations/{rid}/logistics");
    let res = page.form(&logistics).set("l1", "").submit(&site).await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("食事の制限：入力してください")
    );
    let res = page
        .form(&logistics)
        .set("l1", "<script>卵</script>")
        .submit(&site)
        .await;
    assert_eq!(res.status(), 303);
    let html = app.page(&site, &detail).await;
    assert!(html.contains("&lt;script&gt;卵"), "{html}");

    // A screened tour: pending until a coordinator decides; no logistics yet.
    let tour = make_event(
        app,
        "amami",
        EventStatus::Published,
        &[
            ("kind", "fieldwork"),
            ("selection", "screened"),
            ("subsidy", "flat"),
            ("subsidy_amount", "50000"),
        ],
    )
    .await;
    let tour_page = format!("/t/amami/events/{tour}");
    let html = app.page(&anon, &tour_page).await;
    assert!(html.contains("1人あたり50,000円"), "{html}");
    let res = app
        .open(&site, &tour_page)
        .await
        .form(&format!("/t/amami/events/{tour}/register"))
        .submit(&site)
        .await;
    assert_eq!(res.status(), 303);
    let html = app.page(&site, &tour_page).await;
    assert!(
        html.contains("選考中") && html.contains("申込を取り下げる"),
        "{html}"
    );
    // Cancelled events show as called off, with no form.
    let off = make_event(
        app,
        "amami",
        EventStatus::Published,
        &[("title", "中止の回")],
    )
    .await;
    let mut tx = app
        .store
        .tenant(tenant_id(app, "amami").await)
        .write()
        .await
        .unwrap();
    assert!(
        tx.set_event_status(
            off,
            EventStatus::Published,
            EventStatus::Cancelled,
            app.now()
        )
        .await
        .unwrap()
    );
    tx.commit().await.unwrap();
    let html = app.page(&site, &format!("/t/amami/events/{off}")).await;
    assert!(
        html.contains("中止") && !html.contains("idempotency_key"),
        "{html}"
    );
}

async fn calendar_files_are_in_tokyo_time(app: &TestApp) {
    let id = make_event(
        app,
        "iwate",
        EventStatus::Published,
        &[("title", "夜のセミナー, 盛岡")],
    )
    .await;
    let date = day(app, 20).format("%Y%m%d").to_string();
    for path in [
        format!("/t/iwate/events/{id}.ics"),
        "/t/iwate/events.ics".to_owned(),
    ] {
        let res = app.get(&path).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(
            res.headers()["content-type"].to_str().unwrap(),
            "text/calendar; charset=utf-8"
        );
        let body = res.text().await.unwrap();
        assert!(body.starts_with("BEGIN:VCALENDAR\r\n"), "{body}");
        assert!(body.contains("TZID:Asia/Tokyo"));
        assert!(
            body.contains(&format!("DTSTART;TZID=Asia/Tokyo:{date}T190000\r\n")),
            "{body}"
        );
        assert!(body.contains(&format!("DTEND;TZID=Asia/Tokyo:{date}T203000\r\n")));
        assert!(body.contains("SUMMARY:夜のセミナー\\, 盛岡"));
    }
    // The pages link them.
    let html = app.page(&app.client(), "/t/iwate/events").await;
    assert!(html.contains("/t/iwate/events.ics"));
    let html = app
        .page(&app.client(), &format!("/t/iwate/events/{id}"))
        .await;
    assert!(html.contains(&format!("/t/iwate/events/{id}.ics")));
    assert_eq!(
        app.status(&app.client(), "/t/kamaishi/events.ics").await,
        200
    );
    assert!(
        !app.page(&app.client(), "/t/kamaishi/events.ics")
            .await
            .contains("夜のセミナー")
    );
}

async fn events_across_regions_filter_and_drop_suspended_regions(app: &TestApp) {
    let in_month = |n: i64| day(app, n).format("%Y-%m-%d").to_string();
    let (d1, d2, d3) = (in_month(3), in_month(40), in_month(75));
    let seminar = make_event(
        app,
        "iwate",
        EventStatus::Published,
        &[
            ("title", "岩手オンラインセミナー"),
            ("format", "online"),
            ("capacity_onsite", ""),
            ("capacity_online", "100"),
            ("venue", ""),
            ("day1_date", &d1),
        ],
    )
    .await;
    let tour = make_event(
        app,
        "kamaishi",
        EventStatus::Published,
        &[
            ("title", "釜石フィールドワーク"),
            ("kind", "fieldwork"),
            ("day1_date", &d2),
        ],
    )
    .await;
    let lecture = make_event(
        app,
        "amami",
        EventStatus::Published,
        &[
            ("title", "奄美ハイブリッド講座"),
            ("kind", "lecture"),
            ("format", "hybrid"),
            ("capacity_online", "10"),
            ("day1_date", &d3),
        ],
    )
    .await;
    let titles = |html: &str| {
        [
            "岩手オンラインセミナー",
            "釜石フィールドワーク",
            "奄美ハイブリッド講座",
        ]
        .into_iter()
        .filter(|t| html.contains(t))
        .collect::<Vec<_>>()
    };
    let anon = app.client();
    let home = app.page(&anon, "/").await;
    assert!(home.contains("href=\"/events\""));
    let page = app.open(&anon, "/events").await;
    assert_eq!(
        titles(page.html()),
        [
            "岩手オンラインセミナー",
            "釜石フィールドワーク",
            "奄美ハイブリッド講座"
        ]
    );
    assert!(page.html().contains(&format!("/t/kamaishi/events/{tour}")));
    let search = |f: &mut yui_testkit::form::Form, k: &str, v: &str| {
        f.set(k, v);
    };
    let mut cases: Vec<(&str, &str, Vec<&str>)> = vec![
        (
            "region",
            "iwate",
            vec!["岩手オンラインセミナー", "釜石フィールドワーク"],
        ),
        ("region", "kamaishi", vec!["釜石フィールドワーク"]),
        ("region", "amami", vec!["奄美ハイブリッド講座"]),
        ("kind", "fieldwork", vec!["釜石フィールドワーク"]),
        (
            "attendance",
            "online",
            vec!["岩手オンラインセミナー", "奄美ハイブリッド講座"],
        ),
        (
            "attendance",
            "onsite",
            vec!["釜石フィールドワーク", "奄美ハイブリッド講座"],
        ),
    ];
    let month = d2[..7].to_owned();
    cases.push(("month", &month, vec!["釜石フィールドワーク"]));
    for (k, v, want) in &cases {
        let mut f = page.form("/events");
        search(&mut f, k, v);
        let res = f.submit(&anon).await;
        assert_eq!(res.status(), 200, "{k}={v}");
        let html = res.text().await.unwrap();
        assert_eq!(&titles(&html), want, "{k}={v}");
    }
    // Bad values name their field and keep the rest.
    for (k, v, message) in [
        ("region", "atlantis", "地域：一覧から選んでください"),
        ("kind", "party", "イベントの種類：一覧から選んでください"),
        (
            "attendance",
            "telepathy",
            "参加方法：一覧から選んでください",
        ),
        ("month", "2026-13", "開催月："),
    ] {
        let mut f = page.form("/events");
        f.forge(k, v);
        if k != "kind" {
            f.set("kind", "lecture");
        }
        let res = f.submit(&anon).await;
        assert_eq!(res.status(), 422, "{k}");
        let html = res.text().await.unwrap();
        assert!(html.contains(message), "{k}: {html}");
        assert!(titles(&html).is_empty());
    }
    let res = app.get("/events?kind=party&lang=en").await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("Kind of event: "));

    // A suspended region drops out of the list and of the region choice.
    let mut tx = app
        .store
        .platform(PlatformReason::OperatorConsole)
        .write()
        .await
        .unwrap();
    tx.set_tenant_status(
        tenant_id(app, "amami").await,
        TenantStatus::Suspended,
        Utc::now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let html = app.page(&anon, "/events?lang=ja").await;
    assert_eq!(
        titles(&html),
        ["岩手オンラインセミナー", "釜石フィールドワーク"]
    );
    assert!(!html.contains("value=\"amami\""));
    let _ = (seminar, lecture);
}
