//! Interest and applications (issue 10 item 5): the 「気になる」 toggle and its
//! count, applying through the rendered proposal form (fields named in ja/en), the
//! status flow and withdrawal, who reads an application (its talent, the host's
//! members while consent covers hosts, the staff while the membership is live; 404
//! for everyone else, other tenants included), a double-submitted proposal, hostile
//! text, the CSV exports, and one digest mail per person per hour.

use std::time::Duration;

use yui_authz::Role;
use yui_domain::{AccountId, HostId, ProjectId, TenantId};

use crate::hosts::{coordinator, host_member, make_host, status_form};
use crate::staff::{grant, person};
use crate::support::{Page, TestApp, on_both_backends};

on_both_backends!(
    TestApp::with_tenants =>
    interest_toggles_and_the_host_sees_a_count,
    apply_through_the_form_then_review_and_withdraw,
    nobody_else_reads_an_application,
    consent_withdrawal_hides_from_the_host_and_leaving_from_staff,
    a_double_submitted_application_is_filed_once,
    the_exports_are_safe_and_audited,
    many_messages_make_one_digest_an_hour,
    applying_without_host_consent_says_who_reads_it,
);

async fn tenant_id(app: &TestApp, slug: &str) -> TenantId {
    app.store.tenant_by_slug(slug).await.unwrap().id
}

/// An open public project of `host` in `slug`, made in the store (set-up).
async fn open_project(app: &TestApp, slug: &str, host: HostId, title: &str) -> ProjectId {
    crate::projects::make_project(app, slug, host, title, "public", true).await
}

/// A signed-in talent who joined `slug` through its join page.
async fn talent(
    app: &TestApp,
    name: &str,
    email: &str,
    slug: &str,
    hosts: bool,
) -> (reqwest::Client, AccountId) {
    let (client, id) = person(app, name, email).await;
    let page = app.open(&client, &format!("/t/{slug}/join")).await;
    let mut form = page.form(&format!("/t/{slug}/join"));
    form.check("consent_staff");
    if hosts {
        form.check("consent_hosts");
    }
    assert_eq!(form.submit(&client).await.status(), 303);
    (client, id)
}

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// Applies to `project` through the rendered form; the application's path.
async fn apply(
    app: &TestApp,
    client: &reqwest::Client,
    slug: &str,
    project: ProjectId,
    what: &str,
) -> String {
    let path = format!("/t/{slug}/projects/{project}/apply");
    let res = app
        .open(client, &path)
        .await
        .form(&path)
        .set("proposal", what)
        .set("approach", "週1回のオンライン会議で進めます。")
        .set("frequency", "月2回")
        .set("format", "both")
        .submit(client)
        .await;
    assert_eq!(res.status(), 303);
    let to = location(&res);
    assert!(to.starts_with(&format!("/t/{slug}/applications/")), "{to}");
    to.split('?').next().unwrap().to_owned()
}

async fn interest_toggles_and_the_host_sees_a_count(app: &TestApp) {
    let host = make_host(app, "iwate", "かんたはうす", "032051", true).await;
    let project = open_project(app, "iwate", host, "直売所のSNS").await;
    let member = host_member(app, "iwate", host, "kanta@host.example").await;
    let (hana, _) = talent(app, "花子", "hana@example.com", "iwate", true).await;
    let (taro, _) = talent(app, "太郎", "taro@example.com", "iwate", false).await;
    let path = format!("/t/iwate/projects/{project}");

    // The public sees no button; a member does.
    let public = app.page(&app.client(), &path).await;
    assert!(!public.contains("/interest"), "{public}");
    // A member sees the apply link as the page's primary button.
    let html = app.page(&hana, &path).await;
    assert!(
        html.contains(&format!(r#"<a class="button" href="{path}/apply">"#)),
        "{html}"
    );
    for (client, on) in [(&hana, true), (&taro, true)] {
        let page = app.open(client, &path).await;
        let res = page.form(&format!("{path}/interest")).submit(client).await;
        assert_eq!(res.status(), 303);
        let again = app.page(client, &path).await;
        assert_eq!(again.contains("aria-pressed=\"true\""), on);
    }
    // The host's member sees the count, and only the name whose consent covers hosts.
    let page = app.page(&member, &path).await;
    assert!(page.contains("気になる: 2"), "{page}");
    assert!(page.contains("花子") && !page.contains("太郎"), "{page}");
    // Staff see both names (live membership).
    let coord = coordinator(app, "iwate", "coord@iwate.example").await;
    let page = app.page(&coord, &path).await;
    assert!(page.contains("花子") && page.contains("太郎"), "{page}");
    // The host dashboard says how many it does not name (in both languages).
    let dash = app.page(&member, "/t/iwate/host").await;
    assert!(dash.contains("2 (花子 ほか 1 名)"), "{dash}");
    assert!(!dash.contains("太郎"), "{dash}");
    let dash = app.page(&member, "/t/iwate/host?lang=en").await;
    assert!(dash.contains("2 (花子 and 1 other)"), "{dash}");
    app.page(&member, "/t/iwate/host?lang=ja").await;
    // Toggling again takes the mark back.
    let page = app.open(&hana, &path).await;
    page.form(&format!("{path}/interest")).submit(&hana).await;
    let page = app.page(&member, &path).await;
    assert!(page.contains("気になる: 1"), "{page}");
    assert!(!page.contains("花子"), "{page}");
    // The host dashboard lists the project with its count.
    let dash = app.page(&member, "/t/iwate/host").await;
    assert!(dash.contains("直売所のSNS"), "{dash}");
    // A talent of another region is sent to join first.
    let (stranger, _) = person(app, "他所", "other@example.com").await;
    let res = stranger
        .get(app.url(&format!("{path}/apply")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/t/iwate/join");
}

async fn apply_through_the_form_then_review_and_withdraw(app: &TestApp) {
    let host = make_host(app, "iwate", "さともり", "034614", true).await;
    let project = open_project(app, "iwate", host, "森の案内").await;
    let member = host_member(app, "iwate", host, "satomori@host.example").await;
    let (hana, _) = talent(app, "花子", "hana@example.com", "iwate", true).await;
    let path = format!("/t/iwate/projects/{project}/apply");

    // Bad input names every field, in Japanese and English, and keeps the rest.
    let res = app
        .open(&hana, &path)
        .await
        .form(&path)
        .set("proposal", "SNSの発信を立て直します。")
        .forge("format", "moon")
        .submit(&hana)
        .await;
    assert_eq!(res.status(), 422);
    let html = Page::read(res).await.html().to_owned();
    for m in [
        "進め方（どのように）：入力してください",
        "頻度（どのくらいの頻度で）：入力してください",
        "実施形態：一覧から選んでください",
    ] {
        assert!(html.contains(m), "{m} in {html}");
    }
    assert!(html.contains("SNSの発信を立て直します。"), "input kept");
    let en = format!("{path}?lang=en");
    let res = app
        .open(&hana, &en)
        .await
        .form(&path)
        .set("proposal", "")
        .submit(&hana)
        .await;
    assert_eq!(res.status(), 422);
    let html = Page::read(res).await.html().to_owned();
    assert!(html.contains("Proposal (what you would do)"), "{html}");
    // Back to Japanese for the rest.
    app.page(&hana, "/me?lang=ja").await;

    // A good proposal, with hostile text, is filed and shown escaped.
    let thread = apply(app, &hana, "iwate", project, "<script>alert(1)</script>").await;
    let page = app.page(&hana, &thread).await;
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;")
            || page.contains("&lt;script&gt;"),
        "{page}"
    );
    assert!(!page.contains("<script>alert(1)"), "{page}");
    // The talent's dashboard lists it.
    let me = app.page(&hana, "/me").await;
    assert!(me.contains("森の案内") && me.contains("応募済み"), "{me}");

    // The host's member reviews it, meets, and may not accept from submitted in one go.
    let page = app.open(&member, &thread).await;
    assert!(page.html().contains("花子"));
    assert_eq!(
        status_form(&page, "in_review")
            .submit(&member)
            .await
            .status(),
        303
    );
    let page = app.open(&member, &thread).await;
    assert_eq!(
        status_form(&page, "meeting").submit(&member).await.status(),
        303
    );
    // A forged move the page does not offer is refused, not a 500.
    let page = app.open(&member, &thread).await;
    let mut forged = status_form(&page, "accepted");
    forged.forge("to", "withdrawn");
    assert_eq!(forged.submit(&member).await.status(), 409);
    // The host replies; the talent reads it.
    let page = app.open(&member, &thread).await;
    let res = page
        .form(&format!("{thread}/messages"))
        .set("message", "来週お話ししましょう。")
        .submit(&member)
        .await;
    assert_eq!(res.status(), 303);
    assert!(
        app.page(&hana, &thread)
            .await
            .contains("来週お話ししましょう。")
    );
    // An empty message names its field.
    let page = app.open(&hana, &thread).await;
    let res = page
        .form(&format!("{thread}/messages"))
        .set("message", " ")
        .submit(&hana)
        .await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("メッセージ：入力してください")
    );

    // The talent withdraws from the dashboard.
    let me = app.open(&hana, "/me").await;
    let res = status_form(&me, "withdrawn").submit(&hana).await;
    assert_eq!(res.status(), 303);
    let page = app.page(&hana, &thread).await;
    assert!(page.contains("取り下げ"), "{page}");
    assert!(page.contains("→"), "history shown: {page}");
    // After withdrawing, applying again is possible.
    let again = apply(app, &hana, "iwate", project, "もう一度").await;
    assert_ne!(again, thread);
}

async fn nobody_else_reads_an_application(app: &TestApp) {
    let host = make_host(app, "iwate", "かんたはうす", "032051", true).await;
    let other_host = make_host(app, "iwate", "別の団体", "032051", true).await;
    let project = open_project(app, "iwate", host, "直売所のSNS").await;
    let (hana, _) = talent(app, "花子", "hana@example.com", "iwate", true).await;
    let thread = apply(app, &hana, "iwate", project, "提案").await;
    let id = thread.rsplit('/').next().unwrap().to_owned();

    let (taro, _) = talent(app, "太郎", "taro@example.com", "iwate", true).await;
    let other_member = host_member(app, "iwate", other_host, "other@host.example").await;
    let amami_host = make_host(app, "amami", "奄美の団体", "462225", true).await;
    let amami_member = host_member(app, "amami", amami_host, "amami@host.example").await;
    let amami_coord = coordinator(app, "amami", "coord@amami.example").await;
    let (amami_admin, admin_id) = person(app, "管理", "admin@amami.example").await;
    grant(app, admin_id, Role::TenantAdmin, Some("amami")).await;

    let routes = [
        format!("/t/iwate/applications/{id}"),
        format!("/t/amami/applications/{id}"),
    ];
    for (who, client) in [
        ("another talent", &taro),
        ("another host's member", &other_member),
        ("amami host member", &amami_member),
        ("amami coordinator", &amami_coord),
        ("amami admin", &amami_admin),
    ] {
        for r in &routes {
            assert_eq!(app.status(client, r).await, 404, "{who} GET {r}");
        }
        // Posting with a valid CSRF token of their own still finds nothing.
        let page = app.open(client, "/me").await;
        let csrf = page
            .forms()
            .into_iter()
            .find_map(|f| f.value("csrf"))
            .unwrap_or_default();
        for r in &routes {
            for (action, field, value) in
                [("messages", "message", "x"), ("status", "to", "in_review")]
            {
                let res = client
                    .post(app.url(&format!("{r}/{action}")))
                    .form(&[("csrf", csrf.as_str()), (field, value)])
                    .send()
                    .await
                    .unwrap();
                assert!(
                    res.status() == 404 || res.status() == 403,
                    "{who} POST {r}/{action}: {}",
                    res.status()
                );
            }
        }
    }
    for (who, client) in [
        ("amami coordinator", &amami_coord),
        ("amami admin", &amami_admin),
    ] {
        for r in [
            "/t/amami/applications.csv",
            "/t/amami/talents.csv",
            "/t/amami/inbox",
        ] {
            let body = app.page(client, r).await;
            assert!(!body.contains("花子"), "{who} {r}");
        }
        assert_eq!(app.status(client, "/t/iwate/inbox").await, 404, "{who}");
        assert_eq!(
            app.status(client, "/t/iwate/applications.csv").await,
            404,
            "{who}"
        );
        assert_eq!(
            app.status(client, "/t/iwate/talents.csv").await,
            404,
            "{who}"
        );
    }
    assert_eq!(app.status(&other_member, "/t/iwate/inbox").await, 404);
    let dash = app.page(&other_member, "/t/iwate/host").await;
    assert!(!dash.contains("花子"), "{dash}");
    assert_eq!(
        app.status(&app.client(), &routes[0]).await,
        303,
        "strangers sign in"
    );
}

async fn consent_withdrawal_hides_from_the_host_and_leaving_from_staff(app: &TestApp) {
    let host = make_host(app, "iwate", "かんたはうす", "032051", true).await;
    let project = open_project(app, "iwate", host, "直売所のSNS").await;
    let member = host_member(app, "iwate", host, "kanta@host.example").await;
    let coord = coordinator(app, "iwate", "coord@iwate.example").await;
    let (hana, hana_id) = talent(app, "花子", "hana@example.com", "iwate", true).await;
    let thread = apply(app, &hana, "iwate", project, "提案").await;
    assert_eq!(app.status(&member, &thread).await, 200);
    assert!(app.page(&member, "/t/iwate/host").await.contains("花子"));

    // Withdrawing the hosts' part hides the applicant from the host at once …
    let tenant = tenant_id(app, "iwate").await;
    let mut tx = app.store.account(hana_id).write().await.unwrap();
    tx.set_hosts_consent(tenant, false, app.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(app.status(&member, &thread).await, 404);
    assert!(!app.page(&member, "/t/iwate/host").await.contains("花子"));
    // … but not from staff.
    assert_eq!(app.status(&coord, &thread).await, 200);
    assert!(app.page(&coord, "/t/iwate/inbox").await.contains("花子"));

    // Leaving hides them from staff too, on every page.
    let mut tx = app.store.account(hana_id).write().await.unwrap();
    tx.leave_tenant(tenant, app.now()).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(app.status(&coord, &thread).await, 404);
    assert!(!app.page(&coord, "/t/iwate/inbox").await.contains("花子"));
    // The talent still reads their own application.
    assert_eq!(app.status(&hana, &thread).await, 200);
}

async fn a_double_submitted_application_is_filed_once(app: &TestApp) {
    let host = make_host(app, "iwate", "かんたはうす", "032051", true).await;
    let project = open_project(app, "iwate", host, "直売所のSNS").await;
    let (hana, _) = talent(app, "花子", "hana@example.com", "iwate", true).await;
    let path = format!("/t/iwate/projects/{project}/apply");
    let mut form = app.open(&hana, &path).await.form(&path);
    form.set("proposal", "提案")
        .set("approach", "進め方")
        .set("frequency", "月1回")
        .set("format", "online");
    let (a, b) = tokio::join!(form.submit(&hana), form.submit(&hana));
    assert_eq!(a.status(), 303);
    assert_eq!(b.status(), 303);
    assert_eq!(
        location(&a).split('?').next(),
        location(&b).split('?').next()
    );
    let me = app.page(&hana, "/me").await;
    assert_eq!(
        me.matches("href=\"/t/iwate/applications/").count(),
        1,
        "{me}"
    );
}

async fn the_exports_are_safe_and_audited(app: &TestApp) {
    let host = make_host(app, "iwate", "かんたはうす", "032051", true).await;
    let project = open_project(app, "iwate", host, "直売所のSNS").await;
    let (hana, _) = talent(
        app,
        "=HYPERLINK(\"http://evil\")",
        "hana@example.com",
        "iwate",
        true,
    )
    .await;
    apply(app, &hana, "iwate", project, "@SUM(1+1)").await;
    let (admin, admin_id) = person(app, "管理", "admin@iwate.example").await;
    grant(app, admin_id, Role::TenantAdmin, Some("iwate")).await;
    for (path, export) in [
        ("/t/iwate/applications.csv", "applications"),
        ("/t/iwate/talents.csv", "talents"),
    ] {
        let res = admin.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let bytes = res.bytes().await.unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "{path}");
        let text = std::str::from_utf8(&bytes[3..]).unwrap();
        assert!(text.contains("'=HYPERLINK"), "{path}: {text}");
        if export == "applications" {
            assert!(text.contains("'@SUM(1+1)"), "{text}");
        }
        let audit =
            crate::support::audit_entries(&app.store, Some(tenant_id(app, "iwate").await), 10)
                .await
                .unwrap();
        let entry = audit
            .iter()
            .find(|a| a.action == "export" && a.detail.0["export"] == export)
            .expect("audited");
        assert_eq!(entry.detail.0["rows"], 1);
    }
    // What the admin may export, they may also read: the members' list (not the
    // shared pool) and a member's page.
    let page = app.open(&admin, "/t/iwate/talents").await;
    assert_eq!(page.status(), 200, "{}", page.html());
    assert!(!page.html().contains(r#"name="pool""#), "{}", page.html());
    assert!(
        page.html().contains(r#"href="/t/iwate/talents.csv""#),
        "the export is linked where the admin reads the members: {}",
        page.html()
    );
    let res = page
        .form("/t/iwate/talents")
        .set("q", "広報")
        .submit(&admin)
        .await;
    assert_eq!(res.status(), 200);
    let hana_id = hana_id(app).await;
    assert_eq!(
        app.status(&admin, &format!("/t/iwate/talents/{hana_id}"))
            .await,
        200
    );
    // A coordinator without the export permission gets 404.
    let coord = coordinator(app, "iwate", "coord@iwate.example").await;
    assert_eq!(app.status(&coord, "/t/iwate/applications.csv").await, 404);
}

/// The id of hana@example.com.
async fn hana_id(app: &TestApp) -> AccountId {
    let e = yui_domain::account::Email::parse("email", "hana@example.com").unwrap();
    crate::support::account_by_email(&app.store, &e)
        .await
        .unwrap()
        .id
}

async fn many_messages_make_one_digest_an_hour(app: &TestApp) {
    // Messages are due at the top of the next hour: start well clear of one, so
    // that "nothing before the hour" cannot cross it by chance of the wall clock.
    let minute = chrono::Timelike::minute(&app.now());
    if minute >= 50 {
        app.advance(chrono::Duration::minutes(i64::from(65 - minute)));
    }
    let host = make_host(app, "iwate", "かんたはうす", "032051", true).await;
    let project = open_project(app, "iwate", host, "直売所のSNS").await;
    let member = host_member(app, "iwate", host, "kanta@host.example").await;
    let (hana, _) = talent(app, "花子", "hana@example.com", "iwate", true).await;
    let thread = apply(app, &hana, "iwate", project, "提案").await;
    for i in 0..3 {
        let page = app.open(&member, &thread).await;
        let res = page
            .form(&format!("{thread}/messages"))
            .set("message", &format!("返信 {i}"))
            .submit(&member)
            .await;
        assert_eq!(res.status(), 303);
        let page = app.open(&hana, &thread).await;
        let res = page
            .form(&format!("{thread}/messages"))
            .set("message", &format!("質問 {i}"))
            .submit(&hana)
            .await;
        assert_eq!(res.status(), 303);
    }
    let digests = |who: &'static str| {
        let inbox = app.sink.inbox();
        move || {
            inbox
                .messages()
                .into_iter()
                .filter(|m| m.rcpt_to.iter().any(|a| a == who))
                .filter(|m| m.text_body().unwrap_or_default().contains("/applications/"))
                .count()
        }
    };
    // Nothing before the hour is up.
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(digests("hana@example.com")(), 0);
    // After it, one mail to each side, however many messages.
    app.advance(chrono::Duration::hours(1));
    let mail = app
        .sink
        .inbox()
        .wait_for_mail_to("hana@example.com", Duration::from_secs(20))
        .await;
    assert!(mail.is_ok(), "{mail:?}");
    let mut waited = 0;
    while digests("kanta@host.example")() == 0 && waited < 40 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        waited += 1;
    }
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(digests("hana@example.com")(), 1);
    assert_eq!(digests("kanta@host.example")(), 1);
    let text = app
        .sink
        .inbox()
        .messages()
        .into_iter()
        .find(|m| {
            m.rcpt_to.iter().any(|a| a == "hana@example.com")
                && m.text_body().unwrap_or_default().contains("/applications/")
        })
        .unwrap()
        .text_body()
        .unwrap();
    assert!(text.contains('3'), "three messages told: {text}");
}

/// Without consent for host organizations, the proposal form says that only the
/// secretariat will read the application, and links to where consent is changed.
async fn applying_without_host_consent_says_who_reads_it(app: &TestApp) {
    let host = make_host(app, "iwate", "かんたはうす", "032051", true).await;
    let project = open_project(app, "iwate", host, "ぶどう畑のファンづくり").await;
    let (staff_only, _) = talent(
        app,
        "職員のみ 花子",
        "staff-only@example.jp",
        "iwate",
        false,
    )
    .await;
    let html = app
        .page(&staff_only, &format!("/t/iwate/projects/{project}/apply"))
        .await;
    assert!(html.contains("受入団体には届きません"), "{html}");
    assert!(html.contains(r#"href="/t/iwate/me""#));
    let (both, _) = talent(app, "両方 太郎", "both@example.jp", "iwate", true).await;
    let html = app
        .page(&both, &format!("/t/iwate/projects/{project}/apply"))
        .await;
    assert!(!html.contains("受入団体には届きません"));
}
