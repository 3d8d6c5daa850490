//! Hearings (ヒアリング): coordinators record and edit them through the rendered
//! forms for a member talent and for a host; bad input names its field in ja and en
//! and is kept; the list of hearings due; another tenant's staff, the talent, host
//! members and strangers get 404; leaving hides them.

use yui_domain::{AccountId, HearingId};
use yui_store::HearingSubject;

use crate::hosts::{coordinator, host_member, make_host};
use crate::staff::person;
use crate::support::{Page, TestApp, on_both_backends};
use crate::talent::join;

on_both_backends!(
    TestApp::with_tenants =>
    coordinators_record_and_edit_hearings_of_talents_and_hosts,
    other_tenants_talents_and_host_members_get_404,
    leaving_hides_the_talents_hearings,
    dates_far_off_are_refused_and_the_list_reads_well,
);

const HOSTILE: &str = "<script>alert('h')</script>販路開拓";

/// A talent who joined `slug`: their client and id.
async fn member(app: &TestApp, slug: &str, email: &str) -> (reqwest::Client, AccountId) {
    let (client, id) = person(app, "面談 花子", email).await;
    assert_eq!(join(app, &client, slug, false).await.status(), 303);
    (client, id)
}

/// Records a hearing through the page's form; the response.
async fn record(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    notes: &str,
    due: &str,
) -> reqwest::Response {
    app.open(client, path)
        .await
        .form(path)
        .set("held_on", "2026-11-30")
        .set("notes", notes)
        .set("needs", HOSTILE)
        .set("next_step", "提案書を送る")
        .set("next_due_on", due)
        .submit(client)
        .await
}

async fn hearing_ids(app: &TestApp, slug: &str, subject: HearingSubject) -> Vec<HearingId> {
    let tenant = app.store.tenant_by_slug(slug).await.unwrap();
    let mut tx = app.store.tenant(tenant.id).read().await.unwrap();
    let ids = tx
        .hearings_of(subject)
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.id)
        .collect();
    tx.commit().await.unwrap();
    ids
}

fn due_soon(app: &TestApp) -> String {
    let today = app
        .now()
        .with_timezone(&yui_domain::fiscal::tokyo())
        .date_naive();
    (today + chrono::Duration::days(3)).to_string()
}

async fn coordinators_record_and_edit_hearings_of_talents_and_hosts(app: &TestApp) {
    let coord = coordinator(app, "iwate", "coord-h@example.jp").await;
    let (_talent, talent_id) = member(app, "iwate", "talent-h@example.jp").await;
    let path = format!("/t/iwate/talents/{talent_id}/hearings");
    // The talent's staff page links to the hearings.
    let html = app
        .page(&coord, &format!("/t/iwate/talents/{talent_id}"))
        .await;
    assert!(html.contains(&path), "{html}");

    // Bad input: each field named, what was typed kept, hostile text escaped.
    let res = app
        .open(&coord, &path)
        .await
        .form(&path)
        .set("held_on", "きのう")
        .set("notes", " ")
        .set("needs", HOSTILE)
        .set("next_due_on", "2026-13-40")
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 422);
    let page = Page::read(res).await;
    let html = page.html();
    assert!(html.contains("実施日："), "held_on named: {html}");
    assert!(html.contains("記録："), "notes named");
    assert!(
        html.contains("次の対応の期日（任意）："),
        "next_due_on named"
    );
    assert!(html.contains("きのう"), "kept");
    assert!(!html.contains("<script>alert"), "escaped");
    assert!(html.contains("&lt;script&gt;"));
    // Corrected on the page that named the problems.
    let res = page
        .form(&path)
        .set("held_on", "2026-11-30")
        .set("notes", "HEARING-NOTE-1 東京在住、広報の経験10年")
        .set("next_due_on", &due_soon(app))
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 303);
    let html = app.page(&coord, &path).await;
    assert!(html.contains("HEARING-NOTE-1"));
    assert!(!html.contains("<script>alert"));

    // The same in English.
    let en = format!("{path}?lang=en");
    let res = app
        .open(&coord, &en)
        .await
        .form(&path)
        .set("held_on", "yesterday")
        .set("notes", "")
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("Date held"), "{html}");
    assert!(html.contains("Notes"));

    // Editing through the hearing's page.
    let ids = hearing_ids(app, "iwate", HearingSubject::Talent(talent_id)).await;
    assert_eq!(ids.len(), 1);
    let edit = format!("/t/iwate/hearings/{}", ids[0]);
    let res = app
        .open(&coord, &edit)
        .await
        .form(&edit)
        .set("notes", "HEARING-NOTE-2 edited")
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 303);
    let html = app.page(&coord, &path).await;
    assert!(html.contains("HEARING-NOTE-2 edited"));
    assert!(!html.contains("HEARING-NOTE-1"));

    // A host's hearing, linked from the host's page.
    let host = make_host(app, "iwate", "かんたはうす", "032069", true).await;
    let host_path = format!("/t/iwate/hosts/{host}/hearings");
    assert!(
        app.page(&coord, &format!("/t/iwate/hosts/{host}"))
            .await
            .contains(&host_path)
    );
    let res = record(app, &coord, &host_path, "HOST-NOTE-1 冬の客足", "").await;
    assert_eq!(res.status(), 303);
    assert!(app.page(&coord, &host_path).await.contains("HOST-NOTE-1"));

    // Hearings due: the talent's (due in 3 days), not the host's (no due date).
    let index = app.page(&coord, "/t/iwate/hearings").await;
    let due = index.split("最近のヒアリング").next().unwrap();
    assert!(due.contains("HEARING-NOTE-2"), "{index}");
    let tenant = app.store.tenant_by_slug("iwate").await.unwrap();
    let mut tx = app.store.tenant(tenant.id).read().await.unwrap();
    let today = app
        .now()
        .with_timezone(&yui_domain::fiscal::tokyo())
        .date_naive();
    let due = tx
        .hearings_due(today + chrono::Duration::days(14))
        .await
        .unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].talent_id, Some(talent_id));
    assert!(
        tx.hearings_due(today + chrono::Duration::days(1))
            .await
            .unwrap()
            .is_empty()
    );
    tx.commit().await.unwrap();
}

async fn other_tenants_talents_and_host_members_get_404(app: &TestApp) {
    let coord = coordinator(app, "iwate", "coord-a@example.jp").await;
    let other = coordinator(app, "kamaishi", "coord-b@example.jp").await;
    let (talent, talent_id) = member(app, "iwate", "talent-x@example.jp").await;
    let host = make_host(app, "iwate", "さともり", "032069", true).await;
    let talent_path = format!("/t/iwate/talents/{talent_id}/hearings");
    let host_path = format!("/t/iwate/hosts/{host}/hearings");
    assert_eq!(
        record(app, &coord, &talent_path, "SECRET-T", "")
            .await
            .status(),
        303
    );
    assert_eq!(
        record(app, &coord, &host_path, "SECRET-H", "")
            .await
            .status(),
        303
    );
    let t_id = hearing_ids(app, "iwate", HearingSubject::Talent(talent_id)).await[0];
    let h_id = hearing_ids(app, "iwate", HearingSubject::Host(host)).await[0];

    let member_client = host_member(app, "iwate", host, "member-h@example.jp").await;
    let (stranger, _) = person(app, "無関係 者", "nobody-h@example.jp").await;
    let paths = [
        talent_path.clone(),
        host_path.clone(),
        format!("/t/iwate/hearings/{t_id}"),
        format!("/t/iwate/hearings/{h_id}"),
        "/t/iwate/hearings".to_owned(),
        // Another tenant's ids under one's own tenant.
        format!("/t/kamaishi/talents/{talent_id}/hearings"),
        format!("/t/kamaishi/hosts/{host}/hearings"),
        format!("/t/kamaishi/hearings/{t_id}"),
    ];
    for (who, client) in [
        ("other tenant", &other),
        ("talent", &talent),
        ("host member", &member_client),
        ("stranger", &stranger),
    ] {
        for path in &paths {
            if who == "other tenant" && path == "/t/kamaishi/hearings" {
                continue;
            }
            let res = client.get(app.url(path)).send().await.unwrap();
            assert_eq!(res.status(), 404, "{who} GET {path}");
            let body = res.text().await.unwrap();
            assert!(!body.contains("SECRET-"), "{who} {path}");
        }
    }
    // The other tenant's coordinator cannot write either, with a valid CSRF token of
    // its own pages.
    let own = app.open(&other, "/t/kamaishi/hearings").await;
    assert_eq!(own.status(), 200);
    let csrf = own
        .html()
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .map(|s| s.split('"').next().unwrap().to_owned());
    for path in [
        format!("/t/iwate/talents/{talent_id}/hearings"),
        format!("/t/kamaishi/talents/{talent_id}/hearings"),
        format!("/t/kamaishi/hosts/{host}/hearings"),
        format!("/t/kamaishi/hearings/{t_id}"),
    ] {
        let res = other
            .post(app.url(&path))
            .form(&[
                ("csrf", csrf.clone().unwrap_or_default()),
                ("held_on", "2026-11-30".to_owned()),
                ("notes", "INJECTED".to_owned()),
            ])
            .send()
            .await
            .unwrap();
        assert!(
            res.status() == 404 || res.status() == 403,
            "POST {path}: {}",
            res.status()
        );
    }
    let html = app.page(&coord, &talent_path).await;
    assert!(html.contains("SECRET-T"));
    assert!(!html.contains("INJECTED"));
    assert_eq!(
        hearing_ids(app, "iwate", HearingSubject::Talent(talent_id))
            .await
            .len(),
        1
    );
}

async fn leaving_hides_the_talents_hearings(app: &TestApp) {
    let coord = coordinator(app, "iwate", "coord-l@example.jp").await;
    let (talent, talent_id) = member(app, "iwate", "leaver-h@example.jp").await;
    let path = format!("/t/iwate/talents/{talent_id}/hearings");
    assert_eq!(
        record(app, &coord, &path, "LEAVER-NOTE", &due_soon(app))
            .await
            .status(),
        303
    );
    let id = hearing_ids(app, "iwate", HearingSubject::Talent(talent_id)).await[0];
    assert!(
        app.page(&coord, "/t/iwate/hearings")
            .await
            .contains("LEAVER-NOTE")
    );
    let res = app
        .open(&talent, "/t/iwate/me")
        .await
        .form("/t/iwate/me/leave")
        .submit(&talent)
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(app.status(&coord, &path).await, 404);
    assert_eq!(
        app.status(&coord, &format!("/t/iwate/hearings/{id}")).await,
        404
    );
    assert!(
        !app.page(&coord, "/t/iwate/hearings")
            .await
            .contains("LEAVER-NOTE")
    );
    // Nor can a hearing be recorded for someone who left.
    let tenant = app.store.tenant_by_slug("iwate").await.unwrap();
    let mut tx = app.store.tenant(tenant.id).write().await.unwrap();
    let fields = yui_domain::hearing::check_hearing(&yui_domain::hearing::HearingInput {
        held_on: "2026-11-30".into(),
        notes: "x".into(),
        ..Default::default()
    })
    .unwrap();
    assert!(
        tx.create_hearing(
            HearingSubject::Talent(talent_id),
            &fields,
            talent_id,
            app.now()
        )
        .await
        .unwrap()
        .is_none()
    );
    tx.commit().await.unwrap();
}

/// A hearing dated more than a year ahead (a typo such as 2962) or before 2000 is
/// named as a field error in ja and en, keeping what was typed; the lists print no
/// form-label leftovers and name each link to a hearing apart.
async fn dates_far_off_are_refused_and_the_list_reads_well(app: &TestApp) {
    let coord = coordinator(app, "iwate", "coord-d@example.jp").await;
    let (_talent, talent_id) = member(app, "iwate", "talent-d@example.jp").await;
    let path = format!("/t/iwate/talents/{talent_id}/hearings");
    let today = app
        .now()
        .with_timezone(&yui_domain::fiscal::tokyo())
        .date_naive();
    let too_late = (today + chrono::Duration::days(367)).to_string();
    let today = today.to_string();
    for (held, due, field) in [
        ("2962-11-30", "", "実施日："),
        ("1999-12-31", "", "実施日："),
        (
            today.as_str(),
            too_late.as_str(),
            "次の対応の期日（任意）：",
        ),
    ] {
        let res = app
            .open(&coord, &path)
            .await
            .form(&path)
            .set("held_on", held)
            .set("notes", "記録")
            .set("next_due_on", due)
            .submit(&coord)
            .await;
        assert_eq!(res.status(), 422, "{held} {due}");
        let html = Page::read(res).await.html().to_owned();
        assert!(
            html.contains(&format!(
                "{field}2000年1月1日から今日の1年後までの日付を入力してください"
            )),
            "{held} {due}: {html}"
        );
        assert!(html.contains(&format!(r#"value="{held}""#)), "kept: {html}");
    }
    let res = app
        .open(&coord, &format!("{path}?lang=en"))
        .await
        .form(&path)
        .set("held_on", "2962-11-30")
        .set("notes", "notes")
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 422);
    let html = Page::read(res).await.html().to_owned();
    assert!(
        html.contains("Enter a date from 1 January 2000 to one year from today"),
        "{html}"
    );
    app.page(&coord, &format!("{path}?lang=ja")).await;
    // A year ahead is still accepted; nothing was stored before.
    assert!(
        hearing_ids(app, "iwate", HearingSubject::Talent(talent_id))
            .await
            .is_empty()
    );
    let res = record(app, &coord, &path, "一つ目", &due_soon(app)).await;
    assert_eq!(res.status(), 303);
    let res = record(app, &coord, &path, "二つ目", "").await;
    assert_eq!(res.status(), 303);
    for list in [path.as_str(), "/t/iwate/hearings"] {
        let page = app.page(&coord, list).await;
        // The list, not the form below it (whose labels do say 任意).
        let html = page.split("id=\"new-heading\"").next().unwrap();
        assert!(!html.contains("（任意）"), "{list}: {html}");
        // Each link to a hearing has its own name (the subject and date, hidden
        // visually after 「開く」).
        let ids = hearing_ids(app, "iwate", HearingSubject::Talent(talent_id)).await;
        for id in ids {
            let href =
                format!(r#"<a href="/t/iwate/hearings/{id}">開く<span class="visually-hidden">: "#);
            assert!(html.contains(&href), "{list}: {html}");
        }
    }
}
