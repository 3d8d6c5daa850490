//! Talent (issue 10, items 1–2): the profile through its rendered form, joining
//! regions with consent, what a region's staff see (and another region's staff do
//! not), leaving and withdrawing, a new consent version, one's own data, and
//! account deletion proven against a dump of the whole database.

use yui_authz::Role;
use yui_domain::TenantId;

use crate::staff::{grant, person};
use crate::support::{Page, TestApp, on_both_backends};

on_both_backends!(
    TestApp::with_tenants =>
    profile_form_names_fields_and_keeps_what_was_typed,
    joining_regions_records_consent_and_staff_see_only_their_members,
    leaving_and_withdrawing_hide_the_profile_at_once,
    a_new_consent_version_asks_again,
    data_download_holds_ones_own_data_only,
    account_deletion_erases_personal_fields_everywhere,
    strangers_forged_forms_and_unverified_accounts,
    coordinators_search_their_members_and_the_pool
);

/// Fills the profile form the page rendered and sends it.
pub async fn save_profile(
    app: &TestApp,
    client: &reqwest::Client,
    name: &str,
    kana: &str,
    summary: &str,
    tags: &str,
) -> reqwest::Response {
    app.open(client, "/me/profile")
        .await
        .form("/me/profile")
        .set("display_name", name)
        .set("kana", kana)
        .set("residence", "13")
        .check_value("skills", "pr", true)
        .check_value("skills", "agriculture", true)
        .set("tags", tags)
        .set("summary", summary)
        .set("hours_per_month", "20")
        .set("work_style", "remote")
        .set("compensation", "honorarium")
        .set("tie_hometown", "03")
        .check_value("industries", "agriculture", true)
        .check_value("project_kinds", "fan_community", true)
        .submit(client)
        .await
}

/// Joins a region through its join page: the staff box ticked, the hosts box as asked.
pub async fn join(
    app: &TestApp,
    client: &reqwest::Client,
    slug: &str,
    hosts: bool,
) -> reqwest::Response {
    let page = app.open(client, &format!("/t/{slug}/join")).await;
    assert_eq!(page.status(), 200, "{}", page.html());
    let mut form = page.form(&format!("/t/{slug}/join"));
    form.check("consent_staff");
    if hosts {
        form.check("consent_hosts");
    }
    form.submit(client).await
}

async fn get_with(app: &TestApp, client: &reqwest::Client, path: &str) -> reqwest::Response {
    client.get(app.url(path)).send().await.unwrap()
}

/// The members `GET /api/v1/tenants/iwate/talents` lists for `token`.
async fn api_members(app: &TestApp, token: &str) -> Vec<serde_json::Value> {
    let res = reqwest::Client::new()
        .get(app.url("/api/v1/tenants/iwate/talents"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn tenant_id(app: &TestApp, slug: &str) -> TenantId {
    app.store.tenant_by_slug(slug).await.unwrap().id
}

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

async fn profile_form_names_fields_and_keeps_what_was_typed(app: &TestApp) {
    let (client, _) = person(app, "佐藤 花子", "hanako@example.jp").await;
    let hostile = "<script>alert('x')</script>広報を10年";
    let res = app
        .open(&client, "/me/profile")
        .await
        .form("/me/profile")
        .set("display_name", "佐藤 花子")
        .set("kana", "Sato")
        .set("residence", "13")
        .check_value("skills", "pr", true)
        .set("summary", hostile)
        .set("hours_per_month", "999")
        .set("work_style", "remote")
        .set("compensation", "honorarium")
        .submit(&client)
        .await;
    assert_eq!(res.status(), 422);
    let page = Page::read(res).await;
    let html = page.html();
    assert!(
        html.contains("フリガナ：カタカナまたはひらがなで入力してください"),
        "the kana field is named with what it takes: {html}"
    );
    assert!(
        html.contains("月あたりの稼働時間（時間）：0から200まで"),
        "hours named with the range"
    );
    assert!(html.contains(r#"value="999""#), "what was typed is kept");
    assert!(html.contains(r#"value="Sato""#));
    assert!(!html.contains("<script>alert"), "hostile text is escaped");
    assert!(html.contains("&lt;script&gt;"));
    // Corrected on the page that named the problems: the rest was kept.
    let res = page
        .form("/me/profile")
        .set("kana", "さとう はなこ")
        .set("hours_per_month", "20")
        .submit(&client)
        .await;
    assert_eq!(res.status(), 303);
    let html = app.page(&client, "/me/profile").await;
    assert!(
        html.contains(r#"value="サトウ ハナコ""#),
        "kana read as katakana"
    );
    assert!(html.contains(r#"value="pr" checked"#));
    assert!(html.contains(r#"<option value="13" selected>東京都</option>"#));
    assert!(!html.contains("<script>alert"));
    // In English the field is named in English.
    let res = app
        .open(&client, "/me/profile?lang=en")
        .await
        .form("/me/profile")
        .set("kana", "Sato")
        .submit(&client)
        .await;
    assert_eq!(res.status(), 422);
    assert!(
        Page::read(res)
            .await
            .html()
            .contains("Reading (katakana): Write it in katakana or hiragana")
    );
    // A side-job permission chosen without ticking the public-servant box is named,
    // not dropped, and the choice is kept.
    let res = app
        .open(&client, "/me/profile?lang=ja")
        .await
        .form("/me/profile")
        .set("side_job_permission", "granted")
        .submit(&client)
        .await;
    assert_eq!(res.status(), 422);
    let page = Page::read(res).await;
    let html = page.html();
    assert!(
        html.contains("兼業許可の状況：公務員の方だけが選ぶ項目です"),
        "{html}"
    );
    assert_eq!(
        page.form("/me/profile")
            .value("side_job_permission")
            .as_deref(),
        Some("granted")
    );
    // Ticking the box, the same choice is saved.
    let res = page
        .form("/me/profile")
        .check("public_servant")
        .submit(&client)
        .await;
    assert_eq!(res.status(), 303);

    // The shared pool is a separate, explicit choice.
    let res = app
        .open(&client, "/me/profile")
        .await
        .form("/me/pool")
        .check("pool")
        .submit(&client)
        .await;
    assert_eq!(res.status(), 303);
    let id = crate::support::account_by_email(
        &app.store,
        &yui_domain::account::Email::parse("email", "hanako@example.jp").unwrap(),
    )
    .await
    .unwrap()
    .id;
    let mut tx = app.store.account(id).read().await.unwrap();
    let p = tx.talent_profile().await.unwrap().unwrap();
    tx.commit().await.unwrap();
    assert!(p.pool_opt_in_at.is_some());
    assert_eq!(p.profile.kana, "サトウ ハナコ");
    assert_eq!(p.profile.hours_per_month, Some(20));
}

async fn joining_regions_records_consent_and_staff_see_only_their_members(app: &TestApp) {
    let (talent, talent_id) = person(app, "岩手 好子", "suki@example.jp").await;
    assert_eq!(
        save_profile(
            app,
            &talent,
            "岩手 好子",
            "イワテ スキコ",
            "<b>農業</b>と広報",
            "地域おこし"
        )
        .await
        .status(),
        303
    );
    let before = app.now();
    let res = join(app, &talent, "iwate", true).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/t/iwate/me?joined=1");
    assert_eq!(join(app, &talent, "kamaishi", false).await.status(), 303);
    let mut tx = app.store.account(talent_id).read().await.unwrap();
    let ms = tx.memberships().await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(ms.len(), 2);
    for m in &ms {
        assert_eq!(m.membership.consent_version, 1);
        assert!(m.membership.consented_at >= before - chrono::Duration::seconds(1));
        assert!(m.membership.is_live());
    }
    let iwate = ms.iter().find(|m| m.tenant_slug == "iwate").unwrap();
    let kamaishi = ms.iter().find(|m| m.tenant_slug == "kamaishi").unwrap();
    assert!(
        iwate.membership.hosts_since.is_some(),
        "hosts chosen in iwate"
    );
    assert!(
        kamaishi.membership.hosts_since.is_none(),
        "staff only in kamaishi"
    );

    let (coord_a, coord_a_id) = person(app, "岩手 事務局", "coord@iwate.example").await;
    grant(app, coord_a_id, Role::Coordinator, Some("iwate")).await;
    let (coord_b, coord_b_id) = person(app, "奄美 事務局", "coord@amami.example").await;
    grant(app, coord_b_id, Role::Coordinator, Some("amami")).await;

    let list = app.page(&coord_a, "/t/iwate/talents").await;
    assert!(list.contains("岩手 好子"));
    let detail = app
        .page(&coord_a, &format!("/t/iwate/talents/{talent_id}"))
        .await;
    assert!(detail.contains("suki@example.jp"));
    assert!(detail.contains("&lt;b&gt;農業&lt;"), "escaped");
    assert!(!detail.contains("<b>農業"));
    assert!(
        detail.contains("事務局と受入企業・団体"),
        "consent covers hosts"
    );

    // Tenant B's staff: the same account id is nothing to them.
    assert_eq!(
        app.status(&coord_b, &format!("/t/amami/talents/{talent_id}"))
            .await,
        404
    );
    assert!(
        !app.page(&coord_b, "/t/amami/talents")
            .await
            .contains("岩手 好子")
    );
    // And tenant A's staff reach nothing of tenant B, nor a path they may not read.
    assert_eq!(
        app.status(&coord_a, &format!("/t/amami/talents/{talent_id}"))
            .await,
        404
    );
    assert_eq!(app.status(&coord_a, "/t/iwate/talents/999999").await, 404);
    assert_eq!(app.status(&coord_a, "/t/iwate/talents/abc").await, 404);
    // A talent is not staff.
    assert_eq!(app.status(&talent, "/t/iwate/talents").await, 404);
    // Store level: tenant B's handle sees no such member.
    let mut tx = app
        .store
        .tenant(tenant_id(app, "amami").await)
        .read()
        .await
        .unwrap();
    assert!(tx.talent_member(talent_id).await.unwrap().is_none());
    tx.commit().await.unwrap();
}

async fn leaving_and_withdrawing_hide_the_profile_at_once(app: &TestApp) {
    let (talent, talent_id) = person(app, "退会 する子", "leaver@example.jp").await;
    save_profile(app, &talent, "退会 する子", "タイカイ スルコ", "経歴", "").await;
    join(app, &talent, "iwate", true).await;
    let (coord, coord_id) = person(app, "岩手 事務局", "coord@iwate.example").await;
    grant(app, coord_id, Role::Coordinator, Some("iwate")).await;
    let path = format!("/t/iwate/talents/{talent_id}");
    assert_eq!(app.status(&coord, &path).await, 200);
    // The API answers the same as the pages.
    let res = app
        .open(&coord, "/account/tokens")
        .await
        .form("/account/tokens")
        .set("token_name", "talents")
        .set("tenant", "iwate")
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 201);
    let token = crate::tokens::token_in(&res.text().await.unwrap());
    let members = api_members(app, &token).await;
    assert_eq!(members.len(), 1);
    assert_eq!(members[0]["id"], talent_id.get());
    assert_eq!(members[0]["hosts"], true);
    assert!(
        members[0]["consented_at"]
            .as_str()
            .unwrap()
            .ends_with("+09:00")
    );

    // Withdrawing the hosts' part: the staff still see the member, marked staff only.
    let res = app
        .open(&talent, "/t/iwate/me")
        .await
        .form("/t/iwate/me/hosts")
        .uncheck("hosts")
        .submit(&talent)
        .await;
    assert_eq!(res.status(), 303);
    assert!(app.page(&coord, &path).await.contains("事務局のみ"));

    // Leaving: the next request of the staff finds nothing.
    let res = app
        .open(&talent, "/t/iwate/me")
        .await
        .form("/t/iwate/me/leave")
        .submit(&talent)
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(app.status(&coord, &path).await, 404);
    assert!(api_members(app, &token).await.is_empty());
    assert!(
        !app.page(&coord, "/t/iwate/talents")
            .await
            .contains("退会 する子")
    );
    // The region's pages send the person to join again.
    let res = get_with(app, &talent, "/t/iwate/me").await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/t/iwate/join");
    // Leaving twice, or a region never joined: nothing to withdraw.
    let page = app.open(&talent, "/me/profile").await;
    let csrf = page.form("/me/profile").value("csrf").unwrap();
    let res = talent
        .post(app.url("/t/kamaishi/me/leave"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    // The log holds every consent given and withdrawn.
    let mut tx = app.store.account(talent_id).read().await.unwrap();
    let data = tx.personal_data().await.unwrap();
    tx.commit().await.unwrap();
    let log: Vec<(String, String)> = data
        .consent_log
        .iter()
        .map(|e| (e.scope.clone(), e.action.clone()))
        .collect();
    let pair = |s: &str, a: &str| (s.to_owned(), a.to_owned());
    assert_eq!(
        log,
        [
            pair("staff", "given"),
            pair("hosts", "given"),
            pair("hosts", "withdrawn"),
            pair("staff", "withdrawn")
        ]
    );
    // Counts survive leaving.
    let mut tx = app
        .store
        .tenant(tenant_id(app, "iwate").await)
        .read()
        .await
        .unwrap();
    assert_eq!(tx.membership_counts().await.unwrap(), (1, 0));
    tx.commit().await.unwrap();
}

async fn a_new_consent_version_asks_again(app: &TestApp) {
    let (talent, talent_id) = person(app, "再同意 さん", "again@example.jp").await;
    join(app, &talent, "kamaishi", false).await;
    assert_eq!(app.status(&talent, "/t/kamaishi/me").await, 200);

    let folder = crate::support::repo_tenants().join("kamaishi");
    let text = std::fs::read_to_string(folder.join("tenant.toml")).unwrap();
    let logo = std::fs::read_to_string(folder.join("logo.svg")).unwrap();
    let mut tenant = yui_domain::tenant::parse_tenant_file(&text).unwrap();
    // The same version with another text is refused: members agreed to the old one.
    let mut changed = tenant.clone();
    changed
        .consent
        .text
        .ja
        .push_str("\n\n8. 改定：保存期間は5年です。");
    let err = app
        .store
        .apply_tenant(&changed, &logo, app.now())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("consent"), "{err}");
    tenant.consent = changed.consent;
    tenant.consent.version = 2;
    app.store
        .apply_tenant(&tenant, &logo, app.now())
        .await
        .unwrap();

    let res = get_with(app, &talent, "/t/kamaishi/me").await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/t/kamaishi/join?renew=1");
    let page = app.open(&talent, "/t/kamaishi/join?renew=1").await;
    assert!(page.html().contains("同意文が変わりました"));
    assert!(page.html().contains("保存期間は5年"));
    // Declining is possible from here too: leaving is never blocked.
    page.form("/t/kamaishi/me/leave");
    let res = page
        .form("/t/kamaishi/join")
        .check("consent_staff")
        .submit(&talent)
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(app.status(&talent, "/t/kamaishi/me").await, 200);
    let mut tx = app.store.account(talent_id).read().await.unwrap();
    let m = tx
        .membership(tenant_id(app, "kamaishi").await)
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(m.consent_version, 2);
}

async fn data_download_holds_ones_own_data_only(app: &TestApp) {
    let (a, a_id) = person(app, "データ 一郎", "ichiro@example.jp").await;
    save_profile(
        app,
        &a,
        "データ 一郎",
        "データ イチロウ",
        "OWN-SUMMARY-1",
        "タグ一",
    )
    .await;
    join(app, &a, "iwate", false).await;
    join(app, &a, "amami", true).await;
    let (b, _) = person(app, "データ 二郎", "jiro@example.jp").await;
    save_profile(
        app,
        &b,
        "データ 二郎",
        "データ ジロウ",
        "OTHER-SUMMARY-2",
        "",
    )
    .await;
    join(app, &b, "iwate", false).await;

    let res = a.get(app.url("/me/data.json")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let json: serde_json::Value = res.json().await.unwrap();
    assert_eq!(json["account"]["email"], "ichiro@example.jp");
    assert_eq!(json["account"]["id"], a_id.get());
    assert_eq!(json["profile"]["summary"], "OWN-SUMMARY-1");
    assert_eq!(json["profile"]["kana"], "データ イチロウ");
    let slugs: Vec<&str> = json["memberships"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["tenant_slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["iwate", "amami"]);
    assert_eq!(json["memberships"][0]["consent_version"], 1);
    let text = json.to_string();
    assert!(!text.contains("OTHER-SUMMARY-2") && !text.contains("jiro@example.jp"));
    // Signed out: to sign in, and nothing of anyone.
    let res = app.get("/me/data.json").await;
    assert_eq!(res.status(), 303);
    assert!(location(&res).starts_with("/signin?next="));
}

async fn account_deletion_erases_personal_fields_everywhere(app: &TestApp) {
    let name = "消去 テスト太郎";
    let email = "erase-me-7f3a@example.jp";
    let kana = "ショウキョ テストタロウ";
    let summary = "ERASE-SUMMARY-93b1";
    let tag = "ERASETAG-41c2";
    let (client, id) = person(app, name, email).await;
    save_profile(app, &client, name, kana, summary, tag).await;
    join(app, &client, "iwate", true).await;
    join(app, &client, "kamaishi", false).await;
    // A failed sign-in leaves the address in the audit log and the throttle.
    let stranger = app.client();
    crate::accounts::sign_in(app, &stranger, email, "not the password").await;
    let (other, _) = person(app, "残る 人", "stays@example.jp").await;
    join(app, &other, "iwate", false).await;
    // A coordinator's hearing about the person: its notes are about them too.
    let hearing = "ERASE-HEARING-5d1e 面談の記録";
    let coord = crate::hosts::coordinator(app, "iwate", "coord-erase@example.jp").await;
    let path = format!("/t/iwate/talents/{id}/hearings");
    let res = app
        .open(&coord, &path)
        .await
        .form(&path)
        .set("held_on", "2026-11-30")
        .set("notes", hearing)
        .set("needs", "ERASE-NEEDS-77aa")
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 303);

    let dump = app.dump_database().await;
    for s in [name, email, kana, summary, tag, hearing, "ERASE-NEEDS-77aa"] {
        assert!(dump.contains(s), "{s} is stored before deletion");
    }

    // Without the confirmation box nothing happens, and the field is named.
    let res = app
        .open(&client, "/me/delete")
        .await
        .form("/me/delete")
        .set("password", "a passphrase long enough")
        .submit(&client)
        .await;
    assert_eq!(res.status(), 422);
    let res = app
        .open(&client, "/me/delete")
        .await
        .form("/me/delete")
        .set("password", "a passphrase long enough")
        .check("confirm")
        .submit(&client)
        .await;
    assert_eq!(res.status(), 200);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("アカウントを削除しました")
    );

    let dump = app.dump_database().await;
    for s in [name, email, kana, summary, tag, hearing, "ERASE-NEEDS-77aa"] {
        let hits: Vec<&str> = dump.lines().filter(|l| l.contains(s)).collect();
        assert!(hits.is_empty(), "{s} survives deletion: {hits:?}");
    }
    assert!(dump.contains("stays@example.jp"), "others are untouched");
    // Anonymous counts stay: iwate had two members, one remains.
    let mut tx = app
        .store
        .tenant(tenant_id(app, "iwate").await)
        .read()
        .await
        .unwrap();
    assert_eq!(tx.membership_counts().await.unwrap(), (2, 1));
    assert!(tx.talent_member(id).await.unwrap().is_none());
    tx.commit().await.unwrap();
    // Signed out, and nobody signs in as the deleted account again.
    let res = get_with(app, &client, "/me").await;
    assert_eq!(res.status(), 303);
    let res = crate::accounts::sign_in(app, &app.client(), email, "a passphrase long enough").await;
    assert_ne!(res.status(), 303);
}

async fn strangers_forged_forms_and_unverified_accounts(app: &TestApp) {
    // Not signed in: every talent page sends to sign in.
    for path in [
        "/me",
        "/me/profile",
        "/me/delete",
        "/t/iwate/join",
        "/t/iwate/me",
    ] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 303, "{path}");
        assert!(location(&res).starts_with("/signin?next="), "{path}");
    }
    let (talent, talent_id) = person(app, "正規 利用者", "real@example.jp").await;
    save_profile(app, &talent, "正規 利用者", "セイキ リヨウシャ", "経歴", "").await;
    // A form without its CSRF token changes nothing.
    let res = app
        .open(&talent, "/me/profile")
        .await
        .form("/me/profile")
        .set("kana", "カエラレタ")
        .remove("csrf")
        .submit(&talent)
        .await;
    assert_eq!(res.status(), 403);
    let page = app.open(&talent, "/t/iwate/join").await;
    let res = page
        .form("/t/iwate/join")
        .check("consent_staff")
        .remove("csrf")
        .submit(&talent)
        .await;
    assert_eq!(res.status(), 403);
    let res = app
        .open(&talent, "/me/delete")
        .await
        .form("/me/delete")
        .set("password", "a passphrase long enough")
        .check("confirm")
        .remove("csrf")
        .submit(&talent)
        .await;
    assert_eq!(res.status(), 403);
    let mut tx = app.store.account(talent_id).read().await.unwrap();
    assert!(tx.memberships().await.unwrap().is_empty());
    assert_eq!(
        tx.talent_profile().await.unwrap().unwrap().profile.kana,
        "セイキ リヨウシャ"
    );
    assert_eq!(tx.get().await.unwrap().email, "real@example.jp");
    tx.commit().await.unwrap();
    // Joining without the staff consent box: named, and nothing recorded.
    let res = app
        .open(&talent, "/t/iwate/join")
        .await
        .form("/t/iwate/join")
        .check("consent_hosts")
        .submit(&talent)
        .await;
    assert_eq!(res.status(), 422);
    assert!(
        Page::read(res)
            .await
            .html()
            .contains("事務局にプロフィールを提供して参加します")
    );

    // An account whose address nobody proved joins nothing: consent must come from
    // the owner of the address the region would write to.
    let unverified = app.client();
    crate::accounts::sign_up(
        app,
        &unverified,
        "未確認 さん",
        "unproved@example.jp",
        "a passphrase long enough",
    )
    .await;
    let page = app.open(&unverified, "/t/iwate/join").await;
    assert!(page.html().contains("メールアドレスを確認してください"));
    assert!(
        page.forms()
            .iter()
            .all(|f| !f.action().path().ends_with("/join")),
        "no join form is offered"
    );
    // Posting it anyway (a request no browser on that page would send) is refused.
    let csrf = app
        .open(&unverified, "/me/profile")
        .await
        .form("/me/profile")
        .value("csrf")
        .unwrap();
    let res = unverified
        .post(app.url("/t/iwate/join"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("consent_staff", "1"),
            ("version", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    // The last administrator of a region cannot delete the account: the region
    // would fall to nobody.
    let (admin, admin_id) = person(app, "最後の 管理者", "last-admin@example.jp").await;
    grant(app, admin_id, Role::TenantAdmin, Some("amami")).await;
    let res = app
        .open(&admin, "/me/delete")
        .await
        .form("/me/delete")
        .set("password", "a passphrase long enough")
        .check("confirm")
        .submit(&admin)
        .await;
    assert_eq!(res.status(), 409);
    assert!(Page::read(res).await.html().contains("最後の管理者"));
}

/// The coordinator's search (`/t/{slug}/talents`), filled in as a browser does: a
/// two-character word finds members, the pool only when asked, never another region's
/// members; a value not among the choices is named, not a 500.
async fn coordinators_search_their_members_and_the_pool(app: &TestApp) {
    let (member, _) = person(app, "岩手 会員", "member@example.jp").await;
    save_profile(
        app,
        &member,
        "岩手 会員",
        "いわて かいいん",
        "観光農業の広報",
        "",
    )
    .await;
    assert_eq!(join(app, &member, "iwate", false).await.status(), 303);
    let (pooled, _) = person(app, "共有 人材", "pool@example.jp").await;
    save_profile(
        app,
        &pooled,
        "共有 人材",
        "きょうゆう じんざい",
        "農業と発信",
        "",
    )
    .await;
    let res = app
        .open(&pooled, "/me/profile")
        .await
        .form("/me/pool")
        .check("pool")
        .submit(&pooled)
        .await;
    assert_eq!(res.status(), 303);
    let (amami_member, _) = person(app, "奄美 会員", "amami@example.jp").await;
    save_profile(
        app,
        &amami_member,
        "奄美 会員",
        "あまみ かいいん",
        "農業の六次化",
        "",
    )
    .await;
    assert_eq!(join(app, &amami_member, "amami", false).await.status(), 303);

    let (coordinator, id) = person(app, "事務局 太郎", "coord@example.jp").await;
    grant(app, id, Role::Coordinator, Some("iwate")).await;
    let page = app.open(&coordinator, "/t/iwate/talents").await;
    let res = page
        .form("/t/iwate/talents")
        .set("q", "農業")
        .submit(&coordinator)
        .await;
    assert_eq!(res.status(), 200);
    let html = Page::read(res).await.html().to_owned();
    assert!(
        html.contains("岩手 会員"),
        "a member is found by a two-character word"
    );
    assert!(!html.contains("共有 人材"), "the pool only when asked");
    assert!(!html.contains("奄美 会員"), "never another region's member");
    let res = app
        .open(&coordinator, "/t/iwate/talents")
        .await
        .form("/t/iwate/talents")
        .set("q", "農業　発信")
        .check("pool")
        .submit(&coordinator)
        .await;
    let html = Page::read(res).await.html().to_owned();
    assert!(html.contains("共有 人材"), "the pool when asked");
    assert!(!html.contains("奄美 会員"));
    // Skill names are searchable, and filters narrow.
    let res = app
        .open(&coordinator, "/t/iwate/talents")
        .await
        .form("/t/iwate/talents")
        .set("skill", "agriculture")
        .set("residence", "13")
        .set("min_hours", "20")
        .submit(&coordinator)
        .await;
    let html = Page::read(res).await.html().to_owned();
    assert!(html.contains("岩手 会員"));
    // Too many hours, typed into the rendered form: named beside the field, kept.
    let res = app
        .open(&coordinator, "/t/iwate/talents")
        .await
        .form("/t/iwate/talents")
        .set("min_hours", "300")
        .submit(&coordinator)
        .await;
    assert_eq!(res.status(), 200);
    let html = Page::read(res).await.html().to_owned();
    assert!(
        html.contains(r#"<p class="error" id="search-min_hours-error">月あたりの稼働時間（この時間以上）: 0 から 200 までの整数で入力してください。</p>"#),
        "{html}"
    );
    assert!(
        html.contains(r#"value="300" aria-invalid="true""#),
        "{html}"
    );
    // The search fields are labelled form fields like every other form's.
    assert!(
        html.contains("<div class=\"field\">\n    <label for=\"search-q\">"),
        "{html}"
    );
    // A hand-made value is named, and nothing breaks.
    let res = get_with(
        app,
        &coordinator,
        "/t/iwate/talents?min_hours=-5&skill=%3Cscript%3E",
    )
    .await;
    assert_eq!(res.status(), 200);
    let html = Page::read(res).await.html().to_owned();
    // A number field says which numbers it takes, not "not among the choices".
    assert!(
        html.contains(
            "月あたりの稼働時間（この時間以上）: 0 から 200 までの整数で入力してください。"
        ),
        "{html}"
    );
    assert!(html.contains("スキル: 選択肢にない値です"));
    assert!(!html.contains("<script>"));
    // Another region's coordinator finds the pool, never iwate's members.
    let (other, id) = person(app, "奄美 事務局", "coord-amami@example.jp").await;
    grant(app, id, Role::Coordinator, Some("amami")).await;
    let html = app
        .page(&other, "/t/amami/talents?q=%E8%BE%B2%E6%A5%AD&pool=1")
        .await;
    assert!(html.contains("共有 人材") && html.contains("奄美 会員"));
    assert!(!html.contains("岩手 会員"));
    // Talents themselves and strangers do not search.
    assert_eq!(app.status(&member, "/t/iwate/talents?q=x").await, 404);
}
