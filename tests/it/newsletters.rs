//! Newsletters (issue 13, item 8): members opt in on their region page; staff
//! compose in ja/en and send through the rendered form to exactly the opted-in
//! members of their tenant; each mail carries List-Unsubscribe with RFC 8058's
//! one-click; the link unsubscribes signed out from that tenant only, while other
//! tenants' newsletters and transactional mail keep coming; forged links, other
//! tenants' staff, talents and strangers get pages, not data; a double submit sends
//! once; a tenant's newsletters leave at its pace.

use std::time::Duration;

use yui_domain::ids::NewsletterId;
use yui_domain::{AccountId, Locale};
use yui_mail::testing::ReceivedMail;

use crate::hosts::coordinator;
use crate::staff::person;
use crate::support::{Backend, Page, Seed, TestApp, on_both_backends};
use crate::talent::join;

on_both_backends!(
    TestApp::with_tenants =>
    staff_send_to_the_opted_in_members_of_their_tenant_only,
    one_click_unsubscribes_signed_out_from_that_tenant_only,
    other_tenants_staff_talents_and_strangers_cannot_reach_the_compose_page,
    bad_input_is_named_and_a_subject_cannot_carry_headers,
    a_double_submit_sends_once,
);

on_both_backends!(paced => a_tenants_newsletters_leave_at_its_pace);

const HOSTILE: &str = "<script>alert('n')</script>交流会";

/// The app with the repository's tenants and a pace of two newsletter mails a minute.
async fn paced(backend: Backend) -> Option<TestApp> {
    TestApp::spawn(backend, Seed::Tenants, |s| s.newsletter_per_minute = 2).await
}

/// A talent who joined `slugs`: their client and id.
async fn member(app: &TestApp, email: &str, slugs: &[&str]) -> (reqwest::Client, AccountId) {
    let (client, id) = person(app, "便り 花子", email).await;
    for slug in slugs {
        assert_eq!(join(app, &client, slug, false).await.status(), 303);
    }
    (client, id)
}

/// Ticks or unticks the newsletter box on the member's region page.
async fn set_opt_in(app: &TestApp, client: &reqwest::Client, slug: &str, on: bool) {
    let page = app.open(client, &format!("/t/{slug}/me")).await;
    assert_eq!(page.status(), 200, "{}", page.html());
    let mut form = page.form(&format!("/t/{slug}/me/newsletter"));
    if on {
        form.check("newsletter");
    } else {
        form.uncheck("newsletter");
    }
    let res = form.submit(client).await;
    assert_eq!(res.status(), 303);
    let back = res.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(back, format!("/t/{slug}/me?newsletter=saved"));
    let html = app.page(client, &back).await;
    assert!(
        html.contains("ニュースレターの設定を保存しました"),
        "{html}"
    );
}

/// Sends a newsletter through the compose page; the response.
async fn send(
    app: &TestApp,
    client: &reqwest::Client,
    slug: &str,
    subject: &str,
    body: &str,
) -> reqwest::Response {
    let path = format!("/t/{slug}/newsletters");
    app.open(client, &path)
        .await
        .form(&path)
        .set("subject_ja", subject)
        .set("body_ja", body)
        .submit(client)
        .await
}

async fn newsletters(app: &TestApp, slug: &str) -> Vec<yui_store::Newsletter> {
    let tenant = app.store.tenant_by_slug(slug).await.unwrap();
    let mut tx = app.store.tenant(tenant.id).read().await.unwrap();
    let list = tx.newsletters(100).await.unwrap();
    tx.commit().await.unwrap();
    list
}

/// Who the newest newsletter of `slug` was queued to, and when each may leave.
async fn latest_deliveries(
    app: &TestApp,
    slug: &str,
) -> (
    NewsletterId,
    Vec<(AccountId, yui_domain::MailId, chrono::DateTime<chrono::Utc>)>,
) {
    let id = newsletters(app, slug).await[0].id;
    let tenant = app.store.tenant_by_slug(slug).await.unwrap();
    let mut tx = app.store.tenant(tenant.id).read().await.unwrap();
    let rows = tx.newsletter_deliveries(id).await.unwrap();
    tx.commit().await.unwrap();
    (id, rows)
}

fn recipients(
    rows: &[(AccountId, yui_domain::MailId, chrono::DateTime<chrono::Utc>)],
) -> Vec<AccountId> {
    let mut ids: Vec<AccountId> = rows.iter().map(|r| r.0).collect();
    ids.sort();
    ids
}

/// The first newsletter to `to` whose subject contains `subject`.
async fn newsletter_to(app: &TestApp, to: &str, subject: &str) -> ReceivedMail {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let found = app.sink.inbox().messages().into_iter().find(|m| {
            m.rcpt_to.iter().any(|r| r.eq_ignore_ascii_case(to))
                && m.subject().is_some_and(|s| s.contains(subject))
        });
        if let Some(m) = found {
            return m;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no newsletter {subject:?} to {to}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The link inside `<…>` of a List-Unsubscribe header.
fn unsubscribe_link(mail: &ReceivedMail) -> String {
    let header = mail.header("List-Unsubscribe").expect("List-Unsubscribe");
    header
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_owned()
}

async fn staff_send_to_the_opted_in_members_of_their_tenant_only(app: &TestApp) {
    let coord = coordinator(app, "iwate", "nl-coord@example.jp").await;
    let (a, a_id) = member(app, "nl-a@example.jp", &["iwate"]).await;
    let (_b, _) = member(app, "nl-b@example.jp", &["iwate"]).await;
    let (c, _) = member(app, "nl-c@example.jp", &["iwate"]).await;
    let (d, _) = member(app, "nl-d@example.jp", &["kamaishi"]).await;
    let (e, e_id) = member(app, "nl-e@example.jp", &["iwate"]).await;
    // Not opted in by default: the box is there, unticked.
    let page = app.open(&a, "/t/iwate/me").await;
    let form = page.form("/t/iwate/me/newsletter");
    assert_eq!(form.value("newsletter"), None, "{}", page.html());
    set_opt_in(app, &a, "iwate", true).await;
    let page = app.open(&a, "/t/iwate/me").await;
    assert_eq!(
        page.form("/t/iwate/me/newsletter")
            .value("newsletter")
            .as_deref(),
        Some("1")
    );
    // c opts in and out again; d opts in, but in another region.
    set_opt_in(app, &c, "iwate", true).await;
    set_opt_in(app, &c, "iwate", false).await;
    set_opt_in(app, &d, "kamaishi", true).await;
    set_opt_in(app, &e, "iwate", true).await;
    // e reads English.
    let mut tx = app.store.account(e_id).write().await.unwrap();
    tx.update_profile("Emma", Locale::En, app.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let path = "/t/iwate/newsletters";
    // The coordinator finds the page from their account page.
    let html = app.page(&coord, "/account").await;
    assert!(
        html.contains("&#x2F;t&#x2F;iwate&#x2F;newsletters\">ニュースレター</a>"),
        "{html}"
    );
    let page = app.open(&coord, path).await;
    assert_eq!(page.status(), 200);
    assert!(page.html().contains("2 人"), "{}", page.html());
    let res = page
        .form(path)
        .set("subject_ja", "秋の交流会<b>のお知らせ</b>")
        .set("body_ja", HOSTILE)
        .set("subject_en", "Autumn meet-up")
        .set("body_en", "See you in Morioka.")
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/t/iwate/newsletters?done=sent");
    let (_, rows) = latest_deliveries(app, "iwate").await;
    let mut expected = vec![a_id, e_id];
    expected.sort();
    assert_eq!(recipients(&rows), expected);
    assert!(newsletters(app, "kamaishi").await.is_empty());

    // The delivered message: the one-click headers, the same link in the body,
    // the staff's text escaped in HTML.
    let mail = newsletter_to(app, "nl-a@example.jp", "秋の交流会").await;
    assert_eq!(
        mail.subject().as_deref(),
        Some("【岩手県】秋の交流会<b>のお知らせ</b>"),
    );
    let link = unsubscribe_link(&mail);
    assert!(
        link.starts_with(&app.url("/t/iwate/unsubscribe/")),
        "{link}"
    );
    assert_eq!(
        mail.header("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    assert!(mail.text_body().unwrap().contains(&link));
    assert!(mail.text_body().unwrap().contains(HOSTILE));
    let html = mail.html_body().unwrap();
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(html.contains("&lt;script&gt;"));
    assert!(!html.contains("<b>のお知らせ"));
    let english = newsletter_to(app, "nl-e@example.jp", "Autumn meet-up").await;
    assert!(english.text_body().unwrap().contains("See you in Morioka."));
    assert_ne!(unsubscribe_link(&english), link, "a link per person");

    // The list shows it, with the audit entry written.
    let html = app.page(&coord, "/t/iwate/newsletters?done=sent").await;
    assert!(html.contains("ニュースレターを送信しました"));
    assert!(html.contains("秋の交流会&lt;b&gt;"), "{html}");
    let tenant = app.store.tenant_by_slug("iwate").await.unwrap();
    let entries = crate::support::audit_entries(&app.store, Some(tenant.id), 10)
        .await
        .unwrap();
    let sent = entries
        .iter()
        .find(|e| e.action == "newsletter_sent")
        .expect("audited");
    assert_eq!(sent.detail.0["recipients"], 2);
    // The page in English.
    let html = app.page(&coord, "/t/iwate/newsletters?lang=en").await;
    assert!(html.contains("Subject (English, optional)"), "{html}");

    // Leaving the region ends the newsletter; joining again starts without it.
    let res = app
        .open(&a, "/t/iwate/me")
        .await
        .form("/t/iwate/me/leave")
        .submit(&a)
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(join(app, &a, "iwate", false).await.status(), 303);
    let page = app.open(&a, "/t/iwate/me").await;
    assert_eq!(
        page.form("/t/iwate/me/newsletter").value("newsletter"),
        None
    );
    assert_eq!(
        send(app, &coord, "iwate", "第2号", "本文").await.status(),
        303
    );
    let (_, rows) = latest_deliveries(app, "iwate").await;
    assert_eq!(recipients(&rows), [e_id]);
}

async fn one_click_unsubscribes_signed_out_from_that_tenant_only(app: &TestApp) {
    let iwate = coordinator(app, "iwate", "nl-iwate@example.jp").await;
    let kamaishi = coordinator(app, "kamaishi", "nl-kamaishi@example.jp").await;
    let to = "nl-both@example.jp";
    let (m, m_id) = member(app, to, &["iwate", "kamaishi"]).await;
    set_opt_in(app, &m, "iwate", true).await;
    set_opt_in(app, &m, "kamaishi", true).await;
    assert_eq!(
        send(app, &iwate, "iwate", "第1号", "本文1").await.status(),
        303
    );
    let mail = newsletter_to(app, to, "第1号").await;
    let link = unsubscribe_link(&mail);

    // Opening the link signed out shows a page with a button and changes nothing.
    let stranger = app.client();
    let page = Page::get(&stranger, &link).await;
    assert_eq!(page.status(), 200);
    assert!(page.html().contains("配信を停止する"), "{}", page.html());
    assert!(page.html().contains("<h1>"));
    let en = Page::get(&stranger, &format!("{link}?lang=en")).await;
    assert!(en.html().contains("Unsubscribe"), "{}", en.html());
    let page_member = app.open(&m, "/t/iwate/me").await;
    assert_eq!(
        page_member
            .form("/t/iwate/me/newsletter")
            .value("newsletter")
            .as_deref(),
        Some("1")
    );

    // A mail client's one-click POST: no session, no CSRF token.
    for _ in 0..2 {
        let res = reqwest::Client::new()
            .post(&link)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let html = res.text().await.unwrap();
        assert!(html.contains("配信を停止しました"), "{html}");
    }
    // The button on the page works the same.
    let res = page.only_form().submit(&stranger).await;
    assert_eq!(res.status(), 200);
    // Opened again, the link says it is done instead of offering the button.
    let again = Page::get(&app.client(), &link).await;
    assert!(
        again.html().contains("配信を停止しました"),
        "{}",
        again.html()
    );
    assert!(again.forms().is_empty(), "{}", again.html());
    let page_member = app.open(&m, "/t/iwate/me").await;
    assert_eq!(
        page_member
            .form("/t/iwate/me/newsletter")
            .value("newsletter"),
        None
    );

    // The next iwate newsletter skips them; kamaishi's still reaches them.
    assert_eq!(
        send(app, &iwate, "iwate", "第2号", "本文2").await.status(),
        303
    );
    let (_, rows) = latest_deliveries(app, "iwate").await;
    assert!(!recipients(&rows).contains(&m_id));
    assert_eq!(
        send(app, &kamaishi, "kamaishi", "釜石便り", "本文")
            .await
            .status(),
        303
    );
    let (_, rows) = latest_deliveries(app, "kamaishi").await;
    assert_eq!(recipients(&rows), [m_id]);
    newsletter_to(app, to, "釜石便り").await;
    // Transactional mail is untouched: a sign-in link arrives.
    let browser = app.client();
    app.open(&browser, "/magic")
        .await
        .form("/magic")
        .set("email", to)
        .submit(&browser)
        .await;
    crate::accounts::mailed_link(app, to, "/magic/confirm?token=").await;
    let iwate_mails = app
        .sink
        .inbox()
        .messages()
        .into_iter()
        .filter(|m| m.subject().is_some_and(|s| s.contains("第2号")))
        .count();
    assert_eq!(iwate_mails, 0);

    // Forged or misplaced secrets: a friendly page, 404, in HTML.
    let secret = link.rsplit('/').next().unwrap().to_owned();
    let forged: String = secret.chars().rev().collect();
    assert_ne!(forged, secret);
    for path in [
        format!("/t/iwate/unsubscribe/{forged}"),
        format!("/t/kamaishi/unsubscribe/{secret}"),
        "/t/iwate/unsubscribe/x".to_owned(),
        format!("/t/nowhere/unsubscribe/{secret}"),
    ] {
        for post in [false, true] {
            let client = reqwest::Client::new();
            let req = if post {
                client
                    .post(app.url(&path))
                    .body("List-Unsubscribe=One-Click")
            } else {
                client.get(app.url(&path))
            };
            let res = req.send().await.unwrap();
            assert_eq!(res.status(), 404, "{path}");
            assert!(
                res.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("text/html"),
                "{path}"
            );
        }
    }
    // The misplaced secret did not unsubscribe them from kamaishi.
    let page_member = app.open(&m, "/t/kamaishi/me").await;
    assert_eq!(
        page_member
            .form("/t/kamaishi/me/newsletter")
            .value("newsletter")
            .as_deref(),
        Some("1")
    );
}

async fn other_tenants_staff_talents_and_strangers_cannot_reach_the_compose_page(app: &TestApp) {
    let iwate = coordinator(app, "iwate", "nl-staff-i@example.jp").await;
    let kamaishi = coordinator(app, "kamaishi", "nl-staff-k@example.jp").await;
    let (talent, _) = member(app, "nl-talent@example.jp", &["iwate"]).await;
    set_opt_in(app, &talent, "iwate", true).await;
    assert_eq!(
        send(app, &iwate, "iwate", "岩手だけ", "本文")
            .await
            .status(),
        303
    );
    // Tenant admins write newsletters too.
    let (admin, admin_id) = person(app, "管理 者", "nl-admin@example.jp").await;
    crate::staff::grant(app, admin_id, yui_authz::Role::TenantAdmin, Some("iwate")).await;
    assert_eq!(app.status(&admin, "/t/iwate/newsletters").await, 200);

    // Another tenant's coordinator: their own page is fine, iwate's is 404, and
    // their own form aimed at iwate sends nothing.
    assert_eq!(app.status(&kamaishi, "/t/kamaishi/newsletters").await, 200);
    let res = kamaishi
        .get(app.url("/t/iwate/newsletters"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let body = res.text().await.unwrap();
    assert!(body.contains("<html"), "a page, not JSON: {body}");
    assert!(!body.contains("岩手だけ"));
    let res = app
        .open(&kamaishi, "/t/kamaishi/newsletters")
        .await
        .form("/t/kamaishi/newsletters")
        .set("subject_ja", "なりすまし")
        .set("body_ja", "本文")
        .retarget("/t/iwate/newsletters")
        .submit(&kamaishi)
        .await;
    assert_eq!(res.status(), 404);
    // A talent, and a stranger.
    assert_eq!(app.status(&talent, "/t/iwate/newsletters").await, 404);
    assert_eq!(app.status(&app.client(), "/t/iwate/newsletters").await, 303);
    let res = app
        .client()
        .post(app.url("/t/iwate/newsletters"))
        .form(&[
            ("subject_ja", "x"),
            ("body_ja", "y"),
            ("send_key", "0123456789abcdef0123"),
        ])
        .send()
        .await
        .unwrap();
    assert!(
        res.status() == 303 || res.status() == 403,
        "{}",
        res.status()
    );
    assert_eq!(newsletters(app, "iwate").await.len(), 1);
    assert!(newsletters(app, "kamaishi").await.is_empty());
    // A member opting in elsewhere without joining: sent to join.
    let page = app.open(&talent, "/t/iwate/me").await;
    let res = page
        .form("/t/iwate/me/newsletter")
        .retarget("/t/kamaishi/me/newsletter")
        .submit(&talent)
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/t/kamaishi/join");
}

async fn bad_input_is_named_and_a_subject_cannot_carry_headers(app: &TestApp) {
    let coord = coordinator(app, "iwate", "nl-bad@example.jp").await;
    let (talent, _) = member(app, "nl-bad-t@example.jp", &["iwate"]).await;
    set_opt_in(app, &talent, "iwate", true).await;
    let path = "/t/iwate/newsletters";
    let res = app
        .open(&coord, path)
        .await
        .form(path)
        .forge("subject_ja", "お知らせ\r\nBcc: everyone@example.jp")
        .set("body_ja", HOSTILE)
        .set("subject_en", "Only a subject")
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 422);
    let page = Page::read(res).await;
    let html = page.html();
    assert!(
        html.contains("件名（日本語）：改行や制御文字は使えません"),
        "{html}"
    );
    assert!(
        html.contains("本文（英語・任意）：入力してください"),
        "{html}"
    );
    assert!(html.contains("Only a subject"), "kept");
    assert!(!html.contains("<script>alert"));
    assert!(html.contains("&lt;script&gt;"));
    // Corrected on the same page: sent once.
    let res = page
        .form(path)
        .set("subject_ja", "お知らせ")
        .set("subject_en", "")
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 303);
    let mail = newsletter_to(app, "nl-bad-t@example.jp", "お知らせ").await;
    assert_eq!(mail.subject().as_deref(), Some("【岩手県】お知らせ"));
    assert!(mail.header("Bcc").is_none());
    // In English, and an empty form.
    let res = app
        .open(&coord, &format!("{path}?lang=en"))
        .await
        .form(path)
        .forge("subject_ja", "x\ny")
        .set("body_ja", "")
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Subject (Japanese): must be one line"),
        "{html}"
    );
    assert!(html.contains("Text (Japanese)"), "{html}");
    assert_eq!(newsletters(app, "iwate").await.len(), 1);
}

async fn a_double_submit_sends_once(app: &TestApp) {
    let coord = coordinator(app, "iwate", "nl-double@example.jp").await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let (client, id) = member(app, &format!("nl-double{i}@example.jp"), &["iwate"]).await;
        set_opt_in(app, &client, "iwate", true).await;
        ids.push(id);
    }
    let path = "/t/iwate/newsletters";
    let mut form = app.open(&coord, path).await.form(path);
    form.set("subject_ja", "二重送信")
        .set("body_ja", "一度だけ");
    let (one, two, three) = tokio::join!(
        form.submit(&coord),
        form.submit(&coord),
        form.submit(&coord)
    );
    let mut outcomes: Vec<String> = [one, two, three]
        .iter()
        .map(|r| {
            assert_eq!(r.status(), 303);
            r.headers()["location"].to_str().unwrap().to_owned()
        })
        .collect();
    outcomes.sort();
    assert_eq!(
        outcomes,
        [
            "/t/iwate/newsletters?done=again",
            "/t/iwate/newsletters?done=again",
            "/t/iwate/newsletters?done=sent",
        ]
    );
    assert_eq!(newsletters(app, "iwate").await.len(), 1);
    let (_, rows) = latest_deliveries(app, "iwate").await;
    assert_eq!(recipients(&rows), ids);
    let html = app.page(&coord, "/t/iwate/newsletters?done=again").await;
    assert!(html.contains("二重には送信していません"), "{html}");
    // A fresh page is a fresh form: sending it again is a second newsletter.
    assert_eq!(
        send(app, &coord, "iwate", "二重送信", "二通目")
            .await
            .status(),
        303
    );
    assert_eq!(newsletters(app, "iwate").await.len(), 2);
}

async fn a_tenants_newsletters_leave_at_its_pace(app: &TestApp) {
    let coord = coordinator(app, "iwate", "nl-pace@example.jp").await;
    let (first, _) = member(app, "nl-pace0@example.jp", &["iwate"]).await;
    set_opt_in(app, &first, "iwate", true).await;
    for i in 1..5 {
        let (client, _) = member(app, &format!("nl-pace{i}@example.jp"), &["iwate"]).await;
        set_opt_in(app, &client, "iwate", true).await;
    }
    let before = app.now();
    assert_eq!(
        send(app, &coord, "iwate", "ペース1", "本文").await.status(),
        303
    );
    let (_, rows) = latest_deliveries(app, "iwate").await;
    assert_eq!(rows.len(), 5);
    let start = rows[0].2;
    assert!(start >= before - chrono::Duration::seconds(1) && start <= app.now());
    let offsets: Vec<i64> = rows.iter().map(|r| (r.2 - start).num_seconds()).collect();
    assert_eq!(offsets, [0, 30, 60, 90, 120], "two a minute");
    // A second newsletter queues behind the first, never beside it.
    assert_eq!(
        send(app, &coord, "iwate", "ペース2", "本文").await.status(),
        303
    );
    let (_, second) = latest_deliveries(app, "iwate").await;
    let offsets: Vec<i64> = second.iter().map(|r| (r.2 - start).num_seconds()).collect();
    assert_eq!(offsets, [150, 180, 210, 240, 270]);
    // Two sends at once (two staff, two forms) still share no slot.
    let path = "/t/iwate/newsletters";
    let other = coordinator(app, "iwate", "nl-pace-other@example.jp").await;
    let mut one = app.open(&coord, path).await.form(path);
    one.set("subject_ja", "同時1").set("body_ja", "本文");
    let mut two = app.open(&other, path).await.form(path);
    two.set("subject_ja", "同時2").set("body_ja", "本文");
    let (r1, r2) = tokio::join!(one.submit(&coord), two.submit(&other));
    assert_eq!((r1.status().as_u16(), r2.status().as_u16()), (303, 303));
    let sent = newsletters(app, "iwate").await;
    assert_eq!(sent.len(), 4);
    let mut all = Vec::new();
    let tenant = app.store.tenant_by_slug("iwate").await.unwrap();
    let mut tx = app.store.tenant(tenant.id).read().await.unwrap();
    for n in &sent {
        all.extend(
            tx.newsletter_deliveries(n.id)
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.2),
        );
    }
    tx.commit().await.unwrap();
    assert_eq!(all.len(), 20);
    all.sort();
    assert_eq!(
        (all[19] - all[0]).num_seconds(),
        19 * 30,
        "one after another"
    );
    for w in all.windows(3) {
        assert!(
            w[2] - w[0] >= chrono::Duration::seconds(60),
            "3 in a minute"
        );
    }
    // The outbox holds them until their slot.
    let later = yui_mail::Outbox::entry(&app.store, second[4].1)
        .await
        .unwrap();
    assert_eq!(later.status, yui_mail::MailStatus::Pending);
    assert_eq!(later.next_attempt_at, second[4].2);

    // The first slot's mail goes at once, and a sign-in link does not wait behind
    // the queue; the rest of the newsletters do.
    newsletter_to(app, "nl-pace0@example.jp", "ペース1").await;
    let browser = app.client();
    app.open(&browser, "/magic")
        .await
        .form("/magic")
        .set("email", "nl-pace4@example.jp")
        .submit(&browser)
        .await;
    crate::accounts::mailed_link(app, "nl-pace4@example.jp", "/magic/confirm?token=").await;
    let newsletters_sent = app
        .sink
        .inbox()
        .messages()
        .iter()
        .filter(|m| m.header("List-Unsubscribe").is_some())
        .count();
    assert_eq!(newsletters_sent, 1);

    // Unsubscribing drops the mails still waiting for their slot.
    let link = unsubscribe_link(&newsletter_to(app, "nl-pace0@example.jp", "ペース1").await);
    let res = reqwest::Client::new()
        .post(&link)
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let gone = yui_mail::Outbox::entry(&app.store, second[0].1).await;
    assert!(gone.is_err(), "{gone:?}");
}
