//! Projects: drafted and co-designed by staff and the host's members, opened and
//! closed with the change recorded; the public sees only open public projects of
//! approved hosts, on pages and in the API; nobody reaches another host's or
//! tenant's project.

use serde_json::{Value, json};
use yui_authz::Role;

use crate::hosts::{coordinator, host_member, make_host, status_form};
use crate::staff::grant;
use std::sync::atomic::{AtomicUsize, Ordering};

use yui_domain::project::{ProjectInput, ProjectStatus, check_project};
use yui_domain::{HostId, ProjectId};

use crate::staff::person;
use crate::support::{Page, TestApp, on_both_backends};

on_both_backends!(
    TestApp::with_tenants =>
    a_project_is_co_designed_then_opened_and_closed,
    a_host_member_cannot_touch_another_hosts_project,
    staff_of_another_tenant_get_404_for_every_project_route,
    projects_in_the_api,
    the_projects_csv_is_safe_and_audited,
    anyone_searches_open_projects_across_regions,
);

/// Makes a personal API token for `slug` on the tokens page, as the page offers it.
pub async fn make_token(app: &TestApp, client: &reqwest::Client, slug: &str) -> String {
    let res = app
        .open(client, "/account/tokens")
        .await
        .form("/account/tokens")
        .set("token_name", "連携")
        .set("tenant", slug)
        .submit(client)
        .await;
    assert_eq!(res.status(), 201);
    crate::tokens::token_in(&res.text().await.unwrap())
}

fn project_id_in(location: &str) -> i64 {
    location
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// Fills the new-project form of `host` and sends it; the project's id.
pub async fn new_project(app: &TestApp, client: &reqwest::Client, host: i64, title: &str) -> i64 {
    let path = format!("/t/iwate/projects/new?host={host}");
    let res = app
        .open(client, &path)
        .await
        .form(&path)
        .set("title", title)
        .set("challenge", "冬の客足が落ちる。")
        .set("help_wanted", "SNSで発信してほしい。")
        .check_value("skills", "sns", true)
        .submit(client)
        .await;
    assert_eq!(res.status(), 303);
    project_id_in(res.headers()["location"].to_str().unwrap())
}

async fn public_titles(app: &TestApp) -> Vec<Value> {
    app.get("/api/v1/tenants/iwate/projects")
        .await
        .json::<Vec<Value>>()
        .await
        .unwrap()
}

async fn a_project_is_co_designed_then_opened_and_closed(app: &TestApp) {
    let host = make_host(app, "iwate", "夏油古民家カフェ kobiru", "032069", false).await;
    let coord = coordinator(app, "iwate", "coord@iwate.example").await;
    let member = host_member(app, "iwate", host, "kobiru@host.example").await;

    // The host's member drafts it; bad input names every field and keeps the rest.
    let path = format!("/t/iwate/projects/new?host={host}");
    let res = app
        .open(&member, &path)
        .await
        .form(&path)
        .set("title", "")
        .set("challenge", "冬の客足が落ちる。")
        .forge("kind", "charity")
        .set("remote_ratio", "101")
        .set("compensation", "contract")
        .set("amount_min", "50000")
        .set("amount_max", "100")
        .submit(&member)
        .await;
    assert_eq!(res.status(), 422);
    let page = Page::read(res).await;
    let html = page.html();
    for message in [
        "案件名：入力してください",
        "求める協力：入力してください",
        "案件の種類：一覧から選んでください",
        "リモートの割合（％）：0から100までの数字で入力してください",
        "金額の上限（円、任意）：50000から100000000までの数字で入力してください",
    ] {
        assert!(html.contains(message), "{message} in {html}");
    }
    assert!(html.contains("冬の客足が落ちる。"), "input kept");
    // In English, the same fields by their English names.
    let en = format!("{path}&lang=en");
    let res = app
        .open(&member, &en)
        .await
        .form(&path)
        .set("title", "")
        .submit(&member)
        .await;
    let html = res.text().await.unwrap();
    assert!(html.contains("Title: Please fill this in"), "{html}");
    assert!(html.contains("Challenge: Please fill this in"), "{html}");
    app.open(&member, "/t/iwate/projects?lang=ja").await;

    let id = new_project(app, &member, host.get(), "<b>古民家カフェ</b>の販路開拓").await;
    let detail = format!("/t/iwate/projects/{id}");
    // A draft: the public neither lists it nor reaches it.
    assert_eq!(app.status(&app.client(), &detail).await, 404);
    assert!(public_titles(app).await.is_empty());
    assert!(
        !app.page(&app.client(), "/t/iwate/projects")
            .await
            .contains("販路開拓")
    );

    // Co-design: the coordinator comments, the member answers; hostile text escaped.
    let page = app.open(&coord, &detail).await;
    assert!(
        page.html().contains("&lt;b&gt;古民家カフェ"),
        "{}",
        page.html()
    );
    let comments = format!("/t/iwate/projects/{id}/comments");
    let res = page.form(&comments).set("body", " ").submit(&coord).await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("コメント：入力してください")
    );
    let res = page
        .form(&comments)
        .set(
            "body",
            "<img src=x onerror=alert(1)> 冬のイベントも書きましょう",
        )
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 303);
    let page = app.open(&member, &detail).await;
    assert!(page.html().contains("&lt;img src=x"), "{}", page.html());

    // It opens only once the host is approved.
    let res = status_form(&page, "open").submit(&member).await;
    assert_eq!(res.status(), 409);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("受入企業・団体が承認されるまで")
    );
    let host_page = app.open(&coord, &format!("/t/iwate/hosts/{host}")).await;
    assert_eq!(
        status_form(&host_page, "approved")
            .submit(&coord)
            .await
            .status(),
        303
    );
    let page = app.open(&member, &detail).await;
    assert_eq!(
        status_form(&page, "open").submit(&member).await.status(),
        303
    );

    // Open and public: listed, readable by anyone, in the API as the contract says.
    assert_eq!(app.status(&app.client(), &detail).await, 200);
    assert!(
        app.page(&app.client(), "/t/iwate/projects")
            .await
            .contains("販路開拓")
    );
    let listed = public_titles(app).await;
    assert_eq!(
        listed,
        [json!({
            "id": id,
            "title": "<b>古民家カフェ</b>の販路開拓",
            "kind": "business",
            "host": {"id": host.get(), "name": "夏油古民家カフェ kobiru"},
            "status": "open"
        })]
    );
    // The next page after it is empty.
    let older: Vec<Value> = app
        .get(&format!("/api/v1/tenants/iwate/projects?before={id}"))
        .await
        .json()
        .await
        .unwrap();
    assert!(older.is_empty());
    let public_page = app.page(&app.client(), &detail).await;
    assert!(
        !public_page.contains("冬のイベントも"),
        "comments are not public"
    );
    assert!(public_page.contains("SNS"), "{public_page}");
    let page = app.open(&coord, &detail).await;
    assert!(
        page.html().contains("下書き → 募集中（受入 担当）"),
        "the change is recorded with who: {}",
        page.html()
    );

    // Members only: gone from the public again.
    let edit = format!("/t/iwate/projects/{id}/edit");
    let res = app
        .open(&coord, &edit)
        .await
        .form(&edit)
        .set("visibility", "members")
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(app.status(&app.client(), &detail).await, 404);
    assert!(public_titles(app).await.is_empty());
    let res = app
        .open(&coord, &edit)
        .await
        .form(&edit)
        .set("visibility", "public")
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(public_titles(app).await.len(), 1);

    // Closed: gone from the public; a stale button is a conflict, not a 500.
    let page = app.open(&coord, &detail).await;
    assert_eq!(
        status_form(&page, "closed").submit(&coord).await.status(),
        303
    );
    assert_eq!(app.status(&app.client(), &detail).await, 404);
    assert!(public_titles(app).await.is_empty());
    assert_eq!(
        status_form(&page, "closed").submit(&coord).await.status(),
        409
    );
}

async fn a_host_member_cannot_touch_another_hosts_project(app: &TestApp) {
    let mine = make_host(app, "iwate", "かんたはうす", "032051", true).await;
    let theirs = make_host(app, "iwate", "さともり株式会社", "034614", true).await;
    let coord = coordinator(app, "iwate", "coord@iwate.example").await;
    let member = host_member(app, "iwate", mine, "kanta@host.example").await;
    let own = new_project(app, &member, mine.get(), "自分の案件").await;
    let other = new_project(app, &coord, theirs.get(), "よその案件").await;
    let page = app.open(&member, &format!("/t/iwate/projects/{own}")).await;
    assert_eq!(page.status(), 200);
    for path in [
        format!("/t/iwate/projects/{other}"),
        format!("/t/iwate/projects/{other}/edit"),
    ] {
        assert_eq!(app.status(&member, &path).await, 404, "{path}");
    }
    // Their own project's forms, sent at the other project: 404, nothing changed.
    for (action, target) in [
        (
            format!("/t/iwate/projects/{own}/comments"),
            format!("/t/iwate/projects/{other}/comments"),
        ),
        (
            format!("/t/iwate/projects/{own}/status"),
            format!("/t/iwate/projects/{other}/status"),
        ),
    ] {
        let mut form = if action.ends_with("status") {
            status_form(&page, "open")
        } else {
            page.form(&action)
        };
        if !action.ends_with("status") {
            form.set("body", "乗っ取り");
        }
        let res = form.retarget(&target).submit(&member).await;
        assert_eq!(res.status(), 404, "{target}");
    }
    let edit = format!("/t/iwate/projects/{own}/edit");
    let res = app
        .open(&member, &edit)
        .await
        .form(&edit)
        .set("title", "乗っ取り")
        .retarget(&format!("/t/iwate/projects/{other}/edit"))
        .submit(&member)
        .await;
    assert_eq!(res.status(), 404);
    let page = app
        .open(&coord, &format!("/t/iwate/projects/{other}"))
        .await;
    assert!(page.html().contains("よその案件") && !page.html().contains("乗っ取り"));
    // The staff list and export are not theirs either.
    assert_eq!(app.status(&member, "/t/iwate/projects/all").await, 404);
    assert_eq!(app.status(&member, "/t/iwate/projects.csv").await, 404);
}

async fn staff_of_another_tenant_get_404_for_every_project_route(app: &TestApp) {
    let host = make_host(app, "iwate", "かんたはうす", "032051", true).await;
    let iwate = coordinator(app, "iwate", "coord@iwate.example").await;
    let id = new_project(app, &iwate, host.get(), "岩手の案件").await;
    let page = app.open(&iwate, &format!("/t/iwate/projects/{id}")).await;
    assert_eq!(
        status_form(&page, "open").submit(&iwate).await.status(),
        303
    );

    let kamaishi_host = make_host(app, "kamaishi", "釜石の宿", "032115", true).await;
    let kamaishi = coordinator(app, "kamaishi", "coord@kamaishi.example").await;
    let path = format!("/t/kamaishi/projects/new?host={kamaishi_host}");
    let res = app
        .open(&kamaishi, &path)
        .await
        .form(&path)
        .set("title", "釜石の案件")
        .set("challenge", "課題")
        .set("help_wanted", "協力")
        .submit(&kamaishi)
        .await;
    let own = project_id_in(res.headers()["location"].to_str().unwrap());
    let page = app
        .open(&kamaishi, &format!("/t/kamaishi/projects/{own}"))
        .await;
    // Iwate's project id under Kamaishi's path: no such project.
    for path in [
        format!("/t/kamaishi/projects/{id}"),
        format!("/t/kamaishi/projects/{id}/edit"),
        "/t/iwate/projects/all".to_owned(),
        "/t/iwate/projects.csv".to_owned(),
        format!("/t/iwate/projects/{id}/edit"),
    ] {
        assert_eq!(app.status(&kamaishi, &path).await, 404, "{path}");
    }
    for target in [
        format!("/t/kamaishi/projects/{id}/comments"),
        format!("/t/iwate/projects/{id}/comments"),
    ] {
        let res = page
            .form(&format!("/t/kamaishi/projects/{own}/comments"))
            .set("body", "越境")
            .retarget(&target)
            .submit(&kamaishi)
            .await;
        assert_eq!(res.status(), 404, "{target}");
    }
    for target in [
        format!("/t/kamaishi/projects/{id}/status"),
        format!("/t/iwate/projects/{id}/status"),
    ] {
        let res = status_form(&page, "open")
            .forge("to", "closed")
            .retarget(&target)
            .submit(&kamaishi)
            .await;
        assert_eq!(res.status(), 404, "{target}");
    }
    // Iwate's open project stays open and public.
    assert_eq!(
        app.status(&app.client(), &format!("/t/iwate/projects/{id}"))
            .await,
        200
    );
    // A talent of Iwate sees the public page only: no co-design thread, no edit.
    let (talent, tid) = person(app, "人材", "talent@example.jp").await;
    grant(app, tid, Role::Talent, Some("iwate")).await;
    let html = app.page(&talent, &format!("/t/iwate/projects/{id}")).await;
    assert!(
        !html.contains("/edit") && !html.contains("/comments"),
        "{html}"
    );
    assert_eq!(
        app.status(&talent, &format!("/t/iwate/projects/{id}/edit"))
            .await,
        404
    );
}

async fn projects_in_the_api(app: &TestApp) {
    let iwate_host = make_host(app, "iwate", "かんたはうす", "032051", true).await;
    let (coord, id) = person(app, "事務局", "coord@kamaishi.example").await;
    grant(app, id, Role::Coordinator, Some("kamaishi")).await;
    let kamaishi_host = make_host(app, "kamaishi", "釜石の宿", "032115", true).await;
    let token = make_token(app, &coord, "kamaishi").await;
    let api = reqwest::Client::new();
    let post = |body: Value| {
        api.post(app.url("/api/v1/tenants/kamaishi/projects"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let good = json!({
        "host_id": kamaishi_host.get(), "title": "釜石の案件", "challenge": "課題",
        "help_wanted": "協力", "kind": "fan_community", "skills": ["sns", "tourism"],
        "hours_per_month": 10, "remote_ratio": 80, "compensation": "honorarium",
        "amount_min": 10000, "amount_max": 30000, "visibility": "public"
    });
    let mut bad = good.clone();
    bad["title"] = json!("");
    bad["kind"] = json!("charity");
    bad["remote_ratio"] = json!(101);
    let res = post(bad).await.unwrap();
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid");
    assert_eq!(body["fields"]["title"], "required");
    assert_eq!(body["fields"]["kind"], "invalid_choice");
    assert_eq!(body["fields"]["remote_ratio"], "out_of_range");
    // Iwate's host id is no host of Kamaishi.
    let mut foreign = good.clone();
    foreign["host_id"] = json!(iwate_host.get());
    assert_eq!(post(foreign).await.unwrap().status(), 404);
    let res = post(good).await.unwrap();
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    let all: Vec<Value> = api
        .get(app.url("/api/v1/tenants/kamaishi/projects/all"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["id"], created["id"]);
    assert_eq!(all[0]["status"], "draft");
    assert_eq!(all[0]["kind"], "fan_community");
    // A draft is not in the public list; another tenant's list is not this token's.
    let public: Vec<Value> = app
        .get("/api/v1/tenants/kamaishi/projects")
        .await
        .json()
        .await
        .unwrap();
    assert!(public.is_empty());
    let res = api
        .get(app.url("/api/v1/tenants/iwate/projects/all"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(
        app.get("/api/v1/tenants/nowhere/projects").await.status(),
        404
    );
    // Every endpoint is documented.
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    for path in [
        "/api/v1/tenants/{slug}/projects",
        "/api/v1/tenants/{slug}/projects/all",
        "/api/v1/tenants/{slug}/hosts",
    ] {
        assert!(doc["paths"][path].is_object(), "{path}");
    }
    assert!(doc["paths"]["/api/v1/tenants/{slug}/projects"]["post"].is_object());
    assert!(doc["paths"]["/api/v1/tenants/{slug}/hosts"]["post"].is_object());
}

async fn the_projects_csv_is_safe_and_audited(app: &TestApp) {
    let host = make_host(app, "iwate", "かんたはうす", "032051", true).await;
    let coord = coordinator(app, "iwate", "coord@iwate.example").await;
    new_project(app, &coord, host.get(), "=HYPERLINK(\"http://evil\")").await;
    new_project(app, &coord, host.get(), "@SUM(1+1)").await;
    let res = coord
        .get(app.url("/t/iwate/projects.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let bytes = res.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    assert!(
        text.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""),
        "{text}"
    );
    assert!(text.contains(",'@SUM(1+1),"), "{text}");
    assert!(text.contains("SNS"), "skills listed: {text}");
    let tenant = app.store.tenant_by_slug("iwate").await.unwrap();
    let audit = crate::support::audit_entries(&app.store, Some(tenant.id), 10)
        .await
        .unwrap();
    let export = audit
        .iter()
        .find(|a| a.action == "export")
        .expect("audited");
    assert_eq!(export.detail.0["export"], "projects");
    assert_eq!(export.detail.0["rows"], 2);
    // The region's audit log shows the export in words (it once failed to render
    // a detail key it had no label for).
    let (admin, id) = crate::staff::person(app, "岩手 管理者", "admin@iwate.example").await;
    crate::staff::grant(app, id, yui_authz::Role::TenantAdmin, Some("iwate")).await;
    let res = admin.get(app.url("/t/iwate/audit")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("書き出し：projects"), "{html}");
    assert!(html.contains("件数：2"));
}

/// A project of `host` in `slug`, made in the store (set-up: the pages that make one
/// are tested above), opened when `open`.
pub async fn make_project(
    app: &TestApp,
    slug: &str,
    host: HostId,
    title: &str,
    visibility: &str,
    open: bool,
) -> ProjectId {
    make_project_as(app, slug, host, title, visibility, open, "business").await
}

/// An open public project of `kind` (`business` or `fan_community`).
pub async fn make_project_of_kind(
    app: &TestApp,
    slug: &str,
    host: HostId,
    title: &str,
    kind: &str,
) -> ProjectId {
    make_project_as(app, slug, host, title, "public", true, kind).await
}

async fn make_project_as(
    app: &TestApp,
    slug: &str,
    host: HostId,
    title: &str,
    visibility: &str,
    open: bool,
    kind: &str,
) -> ProjectId {
    let fields = check_project(&ProjectInput {
        title: title.to_owned(),
        challenge: "冬の客足が落ちる。".to_owned(),
        help_wanted: "SNSで発信してほしい。".to_owned(),
        kind: kind.to_owned(),
        remote_ratio: "50".to_owned(),
        compensation: "pro_bono".to_owned(),
        visibility: visibility.to_owned(),
        ..Default::default()
    })
    .unwrap();
    // Someone opens it: an account made for the purpose.
    static MADE: AtomicUsize = AtomicUsize::new(0);
    let n = MADE.fetch_add(1, Ordering::SeqCst);
    let (_, actor) = person(app, "作成", &format!("maker{n}@example.com")).await;
    let tenant = app.store.tenant_by_slug(slug).await.unwrap().id;
    let mut tx = app.store.tenant(tenant).write().await.unwrap();
    let id = tx
        .create_project(host, &fields, None, app.now())
        .await
        .unwrap();
    if open {
        let opened = tx
            .transition_project(
                id,
                ProjectStatus::Draft,
                ProjectStatus::Open,
                actor,
                app.now(),
            )
            .await
            .unwrap();
        assert!(opened);
    }
    tx.commit().await.unwrap();
    id
}

/// The page the search form of `page` answers with `field` set to `value`.
async fn search_with(page: &Page, client: &reqwest::Client, field: &str, value: &str) -> String {
    let res = page
        .form("/projects")
        .set(field, value)
        .submit(client)
        .await;
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

/// Talents and the public search open projects of every region at `/projects`, by a
/// two-character word and filters, through the form the page renders; drafts,
/// members-only projects, unapproved hosts and suspended regions never show; a value
/// that is no choice is an error naming the field, in the person's language.
async fn anyone_searches_open_projects_across_regions(app: &TestApp) {
    let iwate_host = make_host(app, "iwate", "花巻の農園", "032051", true).await;
    let kamaishi_host = make_host(app, "kamaishi", "釜石の宿", "032115", true).await;
    let pending = make_host(app, "iwate", "承認待ちの農家", "032069", false).await;
    let apples = make_project(
        app,
        "iwate",
        iwate_host,
        "りんご農業の販路開拓",
        "public",
        true,
    )
    .await;
    let inn = make_project(
        app,
        "kamaishi",
        kamaishi_host,
        "漁業と農業の体験ツアー",
        "public",
        true,
    )
    .await;
    make_project(app, "iwate", iwate_host, "農業の下書き", "public", false).await;
    make_project(app, "iwate", iwate_host, "農業の会員向け", "members", true).await;
    make_project(app, "iwate", pending, "農業の未承認", "public", true).await;

    let stranger = app.client();
    let page = app.open(&stranger, "/projects").await;
    assert_eq!(page.status(), 200);
    let html = page.html();
    assert!(
        html.contains("りんご農業の販路開拓") && html.contains("漁業と農業の体験ツアー"),
        "{html}"
    );
    for hidden in ["農業の下書き", "農業の会員向け", "農業の未承認"] {
        assert!(!html.contains(hidden), "{hidden} listed: {html}");
    }
    // The home page leads there.
    assert!(
        app.open(&stranger, "/")
            .await
            .html()
            .contains("href=\"/projects\"")
    );

    // A two-character word, through the rendered form.
    let res = page
        .form("/projects")
        .set("q", "農業")
        .submit(&stranger)
        .await;
    assert_eq!(res.status(), 200);
    let found = Page::read(res).await;
    let html = found.html();
    assert!(
        html.contains(&format!("/t/iwate/projects/{apples}")),
        "{html}"
    );
    assert!(
        html.contains(&format!("/t/kamaishi/projects/{inn}")),
        "{html}"
    );
    assert!(
        html.contains("岩手県") && html.contains("釜石市"),
        "region names: {html}"
    );
    assert!(
        !html.contains("農業の下書き") && !html.contains("農業の会員向け"),
        "{html}"
    );
    // The word is kept in the form; words narrow; a filter narrows.
    let form = found.form("/projects");
    assert_eq!(form.value("q").as_deref(), Some("農業"));
    let html = search_with(&found, &stranger, "q", "農業 りんご").await;
    assert!(
        html.contains("りんご農業") && !html.contains("体験ツアー"),
        "{html}"
    );
    let html = search_with(&found, &stranger, "prefecture", "47").await;
    assert!(
        !html.contains("りんご農業") && html.contains("条件に合う募集中の案件はありません"),
        "{html}"
    );

    // A value that is no choice names its field and keeps the words.
    let res = found
        .form("/projects")
        .forge("skill", "hacking<script>")
        .submit(&stranger)
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("スキル：一覧から選んでください"), "{html}");
    // No search ran, so no "nothing matches" advice either.
    assert!(
        !html.contains("条件に合う募集中の案件はありません"),
        "{html}"
    );
    assert!(!html.contains("<script>"), "escaped");
    assert!(html.contains("value=\"農業\""), "words kept: {html}");
    let html = app
        .open(
            &stranger,
            "/projects?q=%E8%BE%B2%E6%A5%AD&kind=charity&lang=en",
        )
        .await
        .html()
        .to_owned();
    assert!(
        html.contains("Kind of project: Please choose one of the options"),
        "{html}"
    );

    // Control characters are dropped, not searched for or shown again.
    let html = app
        .open(&stranger, "/projects?q=%E8%BE%B2%00%01%0B%E6%A5%AD")
        .await
        .html()
        .to_owned();
    assert!(
        !html.contains(['\0', '\u{1}', '\u{b}']),
        "control characters echoed"
    );
    assert!(
        html.contains("value=\"農業\"") && html.contains("りんご農業"),
        "{html}"
    );
    // A suspended region's projects leave the search at once.
    let kamaishi = app.store.tenant_by_slug("kamaishi").await.unwrap();
    let mut tx = app
        .store
        .platform(yui_store::PlatformReason::OperatorConsole)
        .write()
        .await
        .unwrap();
    tx.set_tenant_status(kamaishi.id, yui_domain::TenantStatus::Suspended, app.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let html = app
        .open(&stranger, "/projects?q=%E8%BE%B2%E6%A5%AD")
        .await
        .html()
        .to_owned();
    assert!(
        html.contains("りんご農業") && !html.contains("体験ツアー"),
        "{html}"
    );
}
