//! Host organizations: staff register, approve and edit them, invite members by
//! mail; a host member reaches only their own host; other tenants' staff, talents
//! and strangers reach nothing; the CSV export is safe for spreadsheets and audited.

use yui_authz::Role;
use yui_domain::host::{HostFields, HostStatus};
use yui_domain::{HostId, LocalGovCode};

use crate::staff::{grant, person};
use crate::support::{Page, TestApp, on_both_backends};

on_both_backends!(
    TestApp::with_tenants =>
    staff_register_approve_and_edit_hosts,
    a_host_member_is_invited_by_mail_and_reaches_only_their_host,
    other_tenants_talents_and_strangers_reach_no_host,
    the_csv_export_starts_with_the_bom_neutralises_formulas_and_is_audited,
    a_double_submitted_host_is_created_once,
    hosts_in_the_api,
);

/// A host of tenant `slug` made directly in the store (set-up, not what is tested).
pub async fn make_host(
    app: &TestApp,
    slug: &str,
    name: &str,
    code: &str,
    approved: bool,
) -> HostId {
    let tenant = app.store.tenant_by_slug(slug).await.unwrap();
    let fields = HostFields {
        name: name.to_owned(),
        kana: "テスト".to_owned(),
        municipality_code: LocalGovCode::parse(code).unwrap(),
        industry: "観光".to_owned(),
        summary: String::new(),
        website: None,
    };
    let status = if approved {
        HostStatus::Approved
    } else {
        HostStatus::Pending
    };
    let mut tx = app.store.tenant(tenant.id).write().await.unwrap();
    let id = tx
        .create_host(&fields, status, None, app.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

/// A signed-in host member of `host` in `slug` (role and membership set directly).
pub async fn host_member(app: &TestApp, slug: &str, host: HostId, email: &str) -> reqwest::Client {
    let (client, id) = person(app, "受入 担当", email).await;
    grant(app, id, Role::HostMember, Some(slug)).await;
    let tenant = app.store.tenant_by_slug(slug).await.unwrap();
    let mut tx = app.store.tenant(tenant.id).write().await.unwrap();
    tx.add_host_member(host, id, app.now()).await.unwrap();
    tx.commit().await.unwrap();
    client
}

/// A signed-in coordinator of `slug`.
pub async fn coordinator(app: &TestApp, slug: &str, email: &str) -> reqwest::Client {
    let (client, id) = person(app, "事務局 担当", email).await;
    grant(app, id, Role::Coordinator, Some(slug)).await;
    client
}

/// The form of `page` that posts `to` = `value` (one of several status buttons).
pub fn status_form(page: &Page, to: &str) -> yui_testkit::form::Form {
    page.forms()
        .into_iter()
        .find(|f| f.value("to").as_deref() == Some(to))
        .unwrap_or_else(|| panic!("no form moving to {to}: {}", page.html()))
}

fn host_id_in(location: &str) -> i64 {
    location
        .trim_start_matches("/t/iwate/hosts/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

async fn staff_register_approve_and_edit_hosts(app: &TestApp) {
    let coord = coordinator(app, "iwate", "coord@iwate.example").await;
    let page = app.open(&coord, "/t/iwate/hosts").await;
    assert_eq!(page.status(), 200);
    assert!(
        page.html()
            .contains("受入企業・団体はまだ登録されていません")
    );

    // Bad input: every field named, in Japanese, what was typed kept.
    let res = page
        .form("/t/iwate/hosts")
        .set("name", "")
        .set("kana", "Kanta")
        .set("municipality_code", "462225")
        .set("industry", "")
        .set("website", "javascript:alert(1)")
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 422);
    let page = Page::read(res).await;
    let html = page.html();
    for message in [
        "名称：入力してください",
        "名称のフリガナ：カタカナまたはひらがなで入力してください",
        "所在市町村：一覧から選んでください",
        "業種：入力してください",
        // (Tera writes the slashes of http:// as &#x2F;, which browsers show as `/`.)
        "ウェブサイト（任意）：http:",
    ] {
        assert!(html.contains(message), "{message} in {html}");
    }
    assert!(html.contains(r#"value="Kanta""#), "input kept");

    // Corrected on the page that named the problems; hostile text is stored as typed
    // and shown escaped.
    let res = page
        .form("/t/iwate/hosts")
        .set("name", "<script>alert(1)</script>かんたはうす")
        .set("kana", "かんたはうす")
        .set("municipality_code", "032051")
        .set("industry", "宿泊")
        .set("website", "https://kanta.example.jp/")
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let id = host_id_in(&location);
    let page = app.open(&coord, &location).await;
    let html = page.html();
    assert!(!html.contains("<script>alert(1)</script>"), "{html}");
    assert!(html.contains("&lt;script&gt;"), "{html}");
    assert!(html.contains("承認待ち") && html.contains("カンタハウス"));

    // Approved by the button the page offers; the status change is audited.
    let res = status_form(&page, "approved").submit(&coord).await;
    assert_eq!(res.status(), 303);
    let page = app.open(&coord, &format!("/t/iwate/hosts/{id}")).await;
    assert!(page.html().contains("承認済み"), "{}", page.html());
    let tenant = app.store.tenant_by_slug("iwate").await.unwrap();
    let audit = crate::support::audit_entries(&app.store, Some(tenant.id), 10)
        .await
        .unwrap();
    assert!(audit.iter().any(|a| a.action == "host_status_changed"));

    // Edited; a name the region already has is named as taken, in English too.
    let res = page
        .form(&format!("/t/iwate/hosts/{id}"))
        .set("industry", "宿泊・飲食")
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 303);
    let other = make_host(app, "iwate", "さともり株式会社", "034614", true).await;
    let page = app
        .open(&coord, &format!("/t/iwate/hosts/{other}?lang=en"))
        .await;
    let res = page
        .form(&format!("/t/iwate/hosts/{other}"))
        .set("name", "<script>alert(1)</script>かんたはうす")
        .set("municipality_code", "hello")
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Municipality: Please choose one of the options"),
        "{html}"
    );
    let res = app
        .open(&coord, &format!("/t/iwate/hosts/{other}?lang=en"))
        .await
        .form(&format!("/t/iwate/hosts/{other}"))
        .set("name", "<script>alert(1)</script>かんたはうす")
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Name: This name is already registered"),
        "{html}"
    );
    // A move the state machine does not allow is a conflict, never a 500.
    let res = app.open(&coord, &format!("/t/iwate/hosts/{id}")).await;
    let res = status_form(&res, "archived")
        .forge("to", "pending")
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 409);
}

async fn a_host_member_is_invited_by_mail_and_reaches_only_their_host(app: &TestApp) {
    let coord = coordinator(app, "iwate", "coord@iwate.example").await;
    let mine = make_host(app, "iwate", "夏油古民家カフェ kobiru", "032069", true).await;
    let theirs = make_host(app, "iwate", "さともり株式会社", "034614", true).await;

    let page = app.open(&coord, &format!("/t/iwate/hosts/{mine}")).await;
    let res = page
        .form(&format!("/t/iwate/hosts/{mine}/members"))
        .set("email", "not an address")
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("メールアドレス：メールアドレスの形式が正しくありません")
    );
    let res = page
        .form(&format!("/t/iwate/hosts/{mine}/members"))
        .set("email", "kobiru@host.example")
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 303);
    let link =
        crate::accounts::mailed_link(app, "kobiru@host.example", "/t/iwate/invitation?token=")
            .await;
    let member = app.client();
    let res = app
        .open(&member, link.trim_start_matches(&app.url("")))
        .await
        .form("/t/iwate/invitation")
        .set("display_name", "小昼 店主")
        .set("password", "the owner's passphrase")
        .set("password_confirm", "the owner's passphrase")
        .submit(&member)
        .await;
    assert_eq!(res.status(), 303);

    // Their account page leads to their host.
    assert!(
        app.page(&member, "/account")
            .await
            .contains("所属する受入企業・団体")
    );
    // Their host, listed and editable; the other one does not exist for them.
    let html = app.page(&member, "/t/iwate/hosts").await;
    assert!(
        html.contains("夏油古民家カフェ kobiru") && !html.contains("さともり"),
        "{html}"
    );
    assert!(
        !html.contains("/t/iwate/hosts.csv"),
        "no export for a host member"
    );
    let page = app.open(&member, &format!("/t/iwate/hosts/{mine}")).await;
    assert_eq!(page.status(), 200);
    assert!(page.html().contains("小昼 店主"), "listed as a member");
    let res = page
        .form(&format!("/t/iwate/hosts/{mine}"))
        .set("summary", "古民家カフェです。")
        .submit(&member)
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        app.status(&member, &format!("/t/iwate/hosts/{theirs}"))
            .await,
        404
    );
    let res = page
        .form(&format!("/t/iwate/hosts/{mine}"))
        .retarget(&format!("/t/iwate/hosts/{theirs}"))
        .submit(&member)
        .await;
    assert_eq!(res.status(), 404);
    // Staff work stays with staff: no approval, no export, no invitations.
    assert_eq!(app.status(&member, "/t/iwate/hosts.csv").await, 404);
    let res = page
        .form(&format!("/t/iwate/hosts/{mine}"))
        .retarget(&format!("/t/iwate/hosts/{mine}/status"))
        .submit(&member)
        .await;
    assert_eq!(res.status(), 404);
    // A project for their own host, not for another.
    assert_eq!(
        app.status(&member, &format!("/t/iwate/projects/new?host={mine}"))
            .await,
        200
    );
    assert_eq!(
        app.status(&member, &format!("/t/iwate/projects/new?host={theirs}"))
            .await,
        404
    );
}

async fn other_tenants_talents_and_strangers_reach_no_host(app: &TestApp) {
    let iwate_host = make_host(app, "iwate", "かんたはうす", "032051", true).await;
    let kamaishi_host = make_host(app, "kamaishi", "釜石の宿", "032115", true).await;
    let kamaishi = coordinator(app, "kamaishi", "coord@kamaishi.example").await;
    // Their own host, yes; Iwate's id under their own tenant or Iwate's, no.
    assert_eq!(
        app.status(&kamaishi, &format!("/t/kamaishi/hosts/{kamaishi_host}"))
            .await,
        200
    );
    for path in [
        format!("/t/kamaishi/hosts/{iwate_host}"),
        format!("/t/iwate/hosts/{iwate_host}"),
        "/t/iwate/hosts".to_owned(),
        "/t/iwate/hosts.csv".to_owned(),
        format!("/t/kamaishi/projects/new?host={iwate_host}"),
    ] {
        assert_eq!(app.status(&kamaishi, &path).await, 404, "{path}");
    }
    // A form of their own tenant retargeted at Iwate's host changes nothing.
    let page = app
        .open(&kamaishi, &format!("/t/kamaishi/hosts/{kamaishi_host}"))
        .await;
    for target in [
        format!("/t/kamaishi/hosts/{iwate_host}"),
        format!("/t/iwate/hosts/{iwate_host}"),
    ] {
        let res = page
            .form(&format!("/t/kamaishi/hosts/{kamaishi_host}"))
            .retarget(&target)
            .submit(&kamaishi)
            .await;
        assert_eq!(res.status(), 404, "{target}");
        let res = status_form(&page, "archived")
            .retarget(&format!("{target}/status"))
            .submit(&kamaishi)
            .await;
        assert_eq!(res.status(), 404, "{target}");
        let res = page
            .form(&format!("/t/kamaishi/hosts/{kamaishi_host}/members"))
            .set("email", "intruder@example.jp")
            .retarget(&format!("{target}/members"))
            .submit(&kamaishi)
            .await;
        assert_eq!(res.status(), 404, "{target}");
    }
    // A talent of Iwate and a signed-in stranger: 404; nobody signed in: to sign in.
    let (talent, id) = person(app, "人材", "talent@example.jp").await;
    grant(app, id, Role::Talent, Some("iwate")).await;
    let (stranger, _) = person(app, "通りすがり", "stranger@example.jp").await;
    for client in [&talent, &stranger] {
        assert_eq!(app.status(client, "/t/iwate/hosts").await, 404);
        assert_eq!(
            app.status(client, &format!("/t/iwate/hosts/{iwate_host}"))
                .await,
            404
        );
    }
    assert_eq!(app.status(&app.client(), "/t/iwate/hosts").await, 303);
}

async fn the_csv_export_starts_with_the_bom_neutralises_formulas_and_is_audited(app: &TestApp) {
    make_host(app, "iwate", "=cmd|' /C calc'!A0", "032051", true).await;
    make_host(app, "iwate", "かんた, はうす", "032069", false).await;
    let coord = coordinator(app, "iwate", "coord@iwate.example").await;
    let res = coord
        .get(app.url("/t/iwate/hosts.csv"))
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
    let bytes = res.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "UTF-8 BOM");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    assert!(text.contains(",'=cmd|' /C calc'!A0,"), "{text}");
    assert!(!text.contains(",=cmd"), "{text}");
    assert!(text.contains("\"かんた, はうす\""), "{text}");
    assert_eq!(text.lines().count(), 3, "a header and one row per host");
    let tenant = app.store.tenant_by_slug("iwate").await.unwrap();
    let audit = crate::support::audit_entries(&app.store, Some(tenant.id), 10)
        .await
        .unwrap();
    let export = audit
        .iter()
        .find(|a| a.action == "export")
        .expect("audited");
    assert_eq!(export.detail.0["export"], "hosts");
    assert_eq!(export.detail.0["rows"], 2);
}

async fn a_double_submitted_host_is_created_once(app: &TestApp) {
    let coord = coordinator(app, "iwate", "coord@iwate.example").await;
    let mut form = app
        .open(&coord, "/t/iwate/hosts")
        .await
        .form("/t/iwate/hosts");
    form.set("name", "二重送信の宿")
        .set("kana", "ニジュウソウシンノヤド")
        .set("municipality_code", "032051")
        .set("industry", "宿泊");
    let (a, b) = tokio::join!(form.submit(&coord), form.submit(&coord));
    let mut statuses = vec![a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(
        statuses,
        [303, 422],
        "one created, the other told the name is taken"
    );
    let tenant = app.store.tenant_by_slug("iwate").await.unwrap();
    let mut tx = app.store.tenant(tenant.id).read().await.unwrap();
    assert_eq!(tx.hosts().await.unwrap().len(), 1);
    tx.commit().await.unwrap();
}

async fn hosts_in_the_api(app: &TestApp) {
    let (coord, id) = person(app, "事務局", "coord@iwate.example").await;
    grant(app, id, Role::Coordinator, Some("iwate")).await;
    grant(app, id, Role::Coordinator, Some("kamaishi")).await;
    let token = crate::projects::make_token(app, &coord, "iwate").await;
    let api = reqwest::Client::new();
    let post = |slug: &str, body: serde_json::Value| {
        api.post(app.url(&format!("/api/v1/tenants/{slug}/hosts")))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let res = post(
        "iwate",
        serde_json::json!({"name": "", "kana": "Kanta", "municipality_code": "462225", "industry": "宿泊", "website": "ftp://x"}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 422);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid");
    assert_eq!(body["fields"]["name"], "required");
    assert_eq!(body["fields"]["kana"], "not_kana");
    assert_eq!(body["fields"]["municipality_code"], "invalid_choice");
    assert_eq!(body["fields"]["website"], "invalid_url");
    // A 200 KB name is a field error naming `name`, not an unreadable request.
    let huge = "あ".repeat(70_000);
    let res = post(
        "iwate",
        serde_json::json!({"name": huge, "kana": "カンタ", "municipality_code": "032051", "industry": "宿泊"}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 422);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid");
    assert_eq!(body["fields"]["name"], "too_long", "{body}");
    assert!(body["message"].is_string(), "{body}");
    // The name alone, 200 KB of ASCII: the name and each missing field are named.
    let res = post("iwate", serde_json::json!({"name": "a".repeat(200_000)}))
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["fields"]["name"], "too_long", "{body}");
    assert_eq!(body["fields"]["kana"], "required", "{body}");
    assert_eq!(body["fields"]["municipality_code"], "required", "{body}");
    let good = serde_json::json!({"name": "かんたはうす", "kana": "カンタハウス", "municipality_code": "032051", "industry": "宿泊"});
    let res = post("iwate", good.clone()).await.unwrap();
    assert_eq!(res.status(), 201);
    let created: serde_json::Value = res.json().await.unwrap();
    let res = post("iwate", good.clone()).await.unwrap();
    assert_eq!(res.status(), 409);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["fields"]["name"], "taken");
    let res = api
        .post(app.url("/api/v1/tenants/iwate/hosts"))
        .bearer_auth(&token)
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "bad_request");
    let list: serde_json::Value = api
        .get(app.url("/api/v1/tenants/iwate/hosts"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["id"], created["id"]);
    assert_eq!(list[0]["status"], "pending");
    // The token is Iwate's: Kamaishi answers 404 though its owner is staff there.
    let res = post("kamaishi", good).await.unwrap();
    assert_eq!(res.status(), 404);
    let res = api
        .get(app.url("/api/v1/tenants/kamaishi/hosts"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(app.get("/api/v1/tenants/iwate/hosts").await.status(), 401);
}
