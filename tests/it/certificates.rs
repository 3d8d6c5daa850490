//! Activity record and certificates (issue 13, item 9; the check of item 10): the
//! record shows one's own activities per region and fiscal year from a hand-made
//! fixture (attendance, the talent's own check-ins; the host's and another person's
//! absent; another region's shown under that region only); a certificate issued
//! through the rendered form verifies signed out, at its page, as a pasted file and
//! in the API; an altered payload or signature, or an altered stored row, does not
//! verify; a revoked one says so; a rotated key keeps old certificates valid; a
//! parallel burst of first certificates makes one key; another person, a region's
//! staff and strangers get 404.

use std::sync::atomic::{AtomicU32, Ordering};

use chrono::NaiveDate;
use serde_json::Value;
use yui_authz::Role;
use yui_domain::engagement::{Checkin, CheckinSide, EngagementStatus};
use yui_domain::{AccountId, TenantId};
use yui_store::Store;

use crate::hosts::make_host;
use crate::kpis::{attend, titled_event};
use crate::projects::make_project;

use crate::staff::{grant, person};
use crate::support::{Page, TestApp, on_both_backends};
use crate::talent::{join, save_profile};

on_both_backends!(
    TestApp::with_tenants =>
    the_record_shows_ones_own_activities_per_region_and_year,
    a_certificate_verifies_signed_out_and_fails_once_altered,
    revoked_certificates_fail_and_only_the_holder_reaches_them,
    a_rotated_key_keeps_old_certificates_valid,
    a_published_case_study_is_an_activity_and_issue_and_revoke_are_audited,
);

on_both_backends!(
    with_configured_key =>
    a_configured_key_signs_and_the_database_holds_only_its_public_half,
);

/// The secret of the key the configuration holds in these tests.
const CONFIGURED: [u8; 32] = [9; 32];

async fn with_configured_key(backend: crate::support::Backend) -> Option<TestApp> {
    TestApp::spawn(backend, crate::support::Seed::Tenants, |s| {
        s.certificate_key = Some(yui_domain::certificate::KeyPair::from_secret(CONFIGURED));
    })
    .await
}

/// Runs statements as someone with the database in hand would, past the platform
/// and past row-level security: a tamperer, for the checks that must catch one.
async fn exec(app: &TestApp, sql: &str) {
    match &app.store {
        Store::Sqlite(pool) => {
            sqlx::raw_sql(sql).execute(pool).await.unwrap();
        }
        Store::Postgres(pool) => {
            let mut tx = pool.begin().await.unwrap();
            sqlx::query("SELECT set_config('app.tenant_id', '*', true)")
                .execute(&mut *tx)
                .await
                .unwrap();
            sqlx::raw_sql(sql).execute(&mut *tx).await.unwrap();
            tx.commit().await.unwrap();
        }
    }
}

async fn tenant(app: &TestApp, slug: &str) -> TenantId {
    app.store.tenant_by_slug(slug).await.unwrap().id
}

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

/// An event of `slug` titled `title` that `who` attended on `days` (none: registered
/// but never checked in).
async fn attended(app: &TestApp, slug: &str, who: AccountId, title: &str, days: &[&str]) {
    let t = tenant(app, slug).await;
    let first = days.first().map_or(day("2026-05-01"), |d| day(d));
    let event = titled_event(app, t, "seminar", title, first, days.len().max(1) as u32).await;
    let days: Vec<NaiveDate> = days.iter().map(|d| day(d)).collect();
    attend(app, t, event, who, &days, false).await;
}

/// An active engagement of `who` with a new host's project, and check-ins on it:
/// `(side, month)`; the host's are written by the host's member, the mentor's note
/// by a mentor.
async fn engagement(
    app: &TestApp,
    slug: &str,
    who: AccountId,
    project: &str,
    host: &str,
    checkins: &[(&str, &str)],
) {
    static N: AtomicU32 = AtomicU32::new(1);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let t = tenant(app, slug).await;
    let host = make_host(app, slug, host, "032069", true).await;
    let project = make_project(app, slug, host, project, "public", true).await;
    let (_, member) = person(app, "受入 担当", &format!("host-member-{n}@example.jp")).await;
    let (_, mentor) = person(app, "案内 人", &format!("mentor-{n}@example.jp")).await;
    let now = app.now();
    let mut tx = app.store.tenant(t).write().await.unwrap();
    let id = tx.create_engagement(None, who, project, now).await.unwrap();
    assert!(
        tx.move_engagement(
            id,
            EngagementStatus::Proposed,
            EngagementStatus::Active,
            Some(day("2026-05-01")),
            None,
            who,
            now,
        )
        .await
        .unwrap()
    );
    for (side, month) in checkins {
        let checkin = |satisfaction| Checkin {
            month: (*month).to_owned(),
            progress: "進捗".to_owned(),
            satisfaction,
            concern: None,
        };
        match *side {
            "talent" => tx
                .save_checkin(id, CheckinSide::Talent, who, &checkin(4), now)
                .await
                .unwrap(),
            "host" => tx
                .save_checkin(id, CheckinSide::Host, member, &checkin(3), now)
                .await
                .unwrap(),
            _ => tx
                .add_mentor_note(id, mentor, "進捗", None, now)
                .await
                .unwrap(),
        }
    }
    tx.commit().await.unwrap();
}

/// A talent with a profile who joined `regions`.
async fn talent(
    app: &TestApp,
    name: &str,
    email: &str,
    regions: &[&str],
) -> (reqwest::Client, AccountId) {
    let (client, id) = person(app, name, email).await;
    assert_eq!(
        save_profile(app, &client, name, "タレント", "広報", "")
            .await
            .status(),
        303
    );
    for slug in regions {
        assert_eq!(join(app, &client, slug, false).await.status(), 303);
    }
    (client, id)
}

/// The part of the record page about one region.
fn region_part<'a>(html: &'a str, slug: &str) -> &'a str {
    let start = html
        .find(&format!("id=\"region-{slug}\""))
        .unwrap_or_else(|| panic!("no region {slug} in {html}"));
    let rest = &html[start..];
    let end = rest[10..]
        .find("aria-labelledby=\"region-")
        .map(|i| i + 10)
        .or_else(|| rest.find("id=\"certificates-heading\""))
        .unwrap_or(rest.len());
    &rest[..end]
}

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// Issues a certificate of `slug` and `fy` through the rendered form; its code.
async fn issue(app: &TestApp, client: &reqwest::Client, slug: &str, fy: i32, name: &str) -> String {
    let path = format!("/t/{slug}/me/certificates/{fy}");
    let page = app.open(client, &path).await;
    assert_eq!(page.status(), 200, "{}", page.html());
    let res = page
        .form(&path)
        .set("printed_name", name)
        .submit(client)
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let to = location(&res);
    let code = to
        .strip_prefix("/me/certificates/")
        .and_then(|r| r.strip_suffix("?issued=1"))
        .unwrap_or_else(|| panic!("redirected to {to}"))
        .to_owned();
    assert_eq!(code.len(), 22, "{code}");
    code
}

async fn download(app: &TestApp, client: &reqwest::Client, code: &str) -> Value {
    let res = client
        .get(app.url(&format!("/me/certificates/{code}/download")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    res.json().await.unwrap()
}

/// Pastes `document` into the public check form, signed out; the page.
async fn paste(app: &TestApp, document: &str) -> Page {
    let stranger = app.client();
    let res = app
        .open(&stranger, "/certificates/verify")
        .await
        .form("/certificates/verify")
        .set("document", document)
        .submit(&stranger)
        .await;
    Page::read(res).await
}

async fn api_verdict(app: &TestApp, code: &str) -> (u16, Value) {
    let res = reqwest::Client::new()
        .get(app.url(&format!("/api/v1/certificates/{code}")))
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

async fn api_check(app: &TestApp, document: &Value) -> Value {
    let res = reqwest::Client::new()
        .post(app.url("/api/v1/certificates/verify"))
        .json(document)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

const VALID_JA: &str = "この活動証明は有効です";
const REVOKED_JA: &str = "取り消されています";
const NOT_VERIFIED_JA: &str = "この活動証明は検証できません";

async fn the_record_shows_ones_own_activities_per_region_and_year(app: &TestApp) {
    let (hanako, a) = talent(app, "結 花子", "hanako@example.jp", &["iwate", "kamaishi"]).await;
    let (taro, b) = talent(app, "結 太郎", "taro@example.jp", &["iwate"]).await;

    // 花子 in iwate, FY2026: a two-day tour (one activity), a seminar, two months
    // of her own check-ins; the host's check-in and the mentor's note are not hers.
    attended(app, "iwate", a, "遠野ツアー", &["2026-05-10", "2026-05-11"]).await;
    attended(app, "iwate", a, "盛岡セミナー", &["2027-02-01"]).await;
    attended(app, "iwate", a, "欠席した講座", &[]).await;
    attended(app, "iwate", a, "前年度の説明会", &["2026-03-15"]).await;
    engagement(
        app,
        "iwate",
        a,
        "ブランド作り",
        "かんた試験",
        &[
            ("talent", "2026-06"),
            ("talent", "2026-07"),
            ("host", "2026-08"),
            ("mentor", "2026-09"),
            // Before the engagement began (on 2026-05-01): not one of its months.
            ("talent", "2026-04"),
        ],
    )
    .await;
    // Kamaishi's event is hers too, under kamaishi only.
    attended(app, "kamaishi", a, "釜石フィールドワーク", &["2026-09-01"]).await;
    // 太郎's activities in the same region.
    attended(app, "iwate", b, "太郎のセミナー", &["2026-06-01"]).await;
    engagement(
        app,
        "iwate",
        b,
        "太郎の案件",
        "太郎の受入先",
        &[("talent", "2026-10")],
    )
    .await;

    let page = app.open(&hanako, "/me/activities").await;
    assert_eq!(page.status(), 200);
    let html = page.html();
    let iwate = region_part(html, "iwate");
    for shown in [
        "遠野ツアー",
        "盛岡セミナー",
        "前年度の説明会",
        "ブランド作り — かんた試験",
        "2026年6月",
        "2026年7月",
        "2026年度（令和8年度）",
        "2025年度（令和7年度）",
        "活動 4 件（イベント参加 2 件、伴走の月 2 か月、事例 0 件）",
        "この年度の活動は 3 件以上です",
        "/t/iwate/me/certificates/2026",
    ] {
        assert!(iwate.contains(shown), "{shown} missing in {iwate}");
    }
    for absent in [
        "欠席した講座",
        "2026年4月",
        "2026年8月",
        "2026年9月",
        "釜石フィールドワーク",
        "太郎",
    ] {
        assert!(!iwate.contains(absent), "{absent} shown in {iwate}");
    }
    let kamaishi = region_part(html, "kamaishi");
    assert!(kamaishi.contains("釜石フィールドワーク"));
    assert!(kamaishi.contains("活動 1 件"));
    assert!(kamaishi.contains("この年度の活動は 3 件未満です"));
    assert!(!kamaishi.contains("遠野ツアー"));
    assert!(!html.contains("太郎の案件") && !html.contains("太郎のセミナー"));

    // 太郎 sees his own and nothing of hers.
    let his = app.page(&taro, "/me/activities").await;
    assert!(his.contains("太郎のセミナー") && his.contains("太郎の案件 — 太郎の受入先"));
    for hers in ["遠野ツアー", "ブランド作り", "釜石"] {
        assert!(!his.contains(hers), "{hers} shown to 太郎");
    }

    // English: the same facts in English.
    let en = app.page(&hanako, "/me/activities?lang=en").await;
    assert!(
        en.contains("Activities: 4 (events attended: 2, engagement months: 2, case studies: 0)")
    );
    assert!(en.contains("June 2026"));
    // (The choice of language sticks; back to Japanese.)
    app.page(&hanako, "/me/activities?lang=ja").await;

    // Signed out, the record is not there.
    assert_eq!(app.status(&app.client(), "/me/activities").await, 303);
    // The issue page of a region she is not a member of, or of no region, is 404;
    // a year that is not a number too.
    for path in [
        "/t/ichinoseki/me/certificates/2026",
        "/t/nowhere/me/certificates/2026",
        "/t/iwate/me/certificates/twenty",
        "/t/iwate/me/certificates/99999",
    ] {
        assert_eq!(app.status(&hanako, path).await, 404, "{path}");
    }
    // A year without activities shows no form.
    let empty = app.page(&hanako, "/t/iwate/me/certificates/2024").await;
    assert!(
        empty.contains("証明書は発行できません") && !empty.contains("name=\"printed_name\""),
        "{empty}"
    );
}

async fn a_certificate_verifies_signed_out_and_fails_once_altered(app: &TestApp) {
    let (hanako, a) = talent(app, "結 花子", "hanako@example.jp", &["iwate"]).await;
    attended(app, "iwate", a, "遠野ツアー", &["2026-05-10"]).await;
    attended(app, "iwate", a, "盛岡セミナー", &["2026-06-10"]).await;
    engagement(
        app,
        "iwate",
        a,
        "ブランド作り",
        "かんた試験",
        &[("talent", "2026-07")],
    )
    .await;

    // Bad input: an empty name is named and the form comes back.
    let path = "/t/iwate/me/certificates/2026";
    let page = app.open(&hanako, path).await;
    assert!(
        page.html().contains("value=\"結 花子\""),
        "the profile's name first"
    );
    let res = page
        .form(path)
        .set("printed_name", "   ")
        .submit(&hanako)
        .await;
    assert_eq!(res.status(), 422);
    let again = Page::read(res).await;
    assert!(
        again.html().contains("証明書に記載する氏名："),
        "{}",
        again.html()
    );
    // Too long in English.
    let res = app
        .open(&hanako, &format!("{path}?lang=en"))
        .await
        .form(path)
        .set("printed_name", &"長".repeat(101))
        .submit(&hanako)
        .await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Name printed on the certificate: ")
    );
    app.page(&hanako, &format!("{path}?lang=ja")).await;

    let hostile = "<script>alert('c')</script>結 花子";
    let code = issue(app, &hanako, "iwate", 2026, hostile).await;
    let mine = app
        .page(&hanako, &format!("/me/certificates/{code}?issued=1"))
        .await;
    assert!(
        mine.contains("活動証明書") && mine.contains("&lt;script&gt;"),
        "{mine}"
    );
    assert!(!mine.contains("<script>"));
    assert!(mine.contains(&format!("/certificates/{code}")));

    // Signed out, the public page states the facts and nothing else.
    let public = app
        .page(&app.client(), &format!("/certificates/{code}"))
        .await;
    assert!(public.contains(VALID_JA), "{public}");
    for fact in [
        "&lt;script&gt;",
        "岩手県",
        "2026年度",
        "遠野ツアー",
        "ブランド作り — かんた試験",
    ] {
        assert!(public.contains(fact), "{fact} missing");
    }
    assert!(!public.contains("<script>") && !public.contains("hanako@example.jp"));
    let (status, verdict) = api_verdict(app, &code).await;
    assert_eq!(status, 200);
    assert_eq!(verdict["verdict"], "valid");
    assert_eq!(verdict["certificate"]["name"], hostile);
    assert_eq!(verdict["certificate"]["fiscal_year"], 2026);
    assert_eq!(
        verdict["certificate"]["activities"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert!(!verdict.to_string().contains("hanako@example.jp"));

    // The downloaded file verifies pasted, signed out, and in the API.
    let doc = download(app, &hanako, &code).await;
    let text = serde_json::to_string_pretty(&doc).unwrap();
    let checked = paste(app, &text).await;
    assert_eq!(checked.status(), 200);
    assert!(checked.html().contains(VALID_JA), "{}", checked.html());
    assert_eq!(api_check(app, &doc).await["verdict"], "valid");

    // An altered payload (another year) does not verify, nor an altered signature.
    let mut altered = doc.clone();
    altered["payload"] = Value::String(
        doc["payload"]
            .as_str()
            .unwrap()
            .replace("\"fiscal_year\":2026", "\"fiscal_year\":2025"),
    );
    assert_ne!(altered, doc);
    let page = paste(app, &altered.to_string()).await;
    assert!(page.html().contains(NOT_VERIFIED_JA) && !page.html().contains("遠野ツアー</td>"));
    assert_eq!(api_check(app, &altered).await["verdict"], "does_not_verify");
    let mut forged = doc.clone();
    let sig = doc["signature"].as_str().unwrap();
    let flipped = if sig.starts_with('A') { "B" } else { "A" };
    forged["signature"] = Value::String(format!("{flipped}{}", &sig[1..]));
    assert!(
        paste(app, &forged.to_string())
            .await
            .html()
            .contains(NOT_VERIFIED_JA)
    );
    assert_eq!(api_check(app, &forged).await["verdict"], "does_not_verify");
    // Not a certificate at all, or empty: a verdict, or the field named.
    assert!(
        paste(app, "{\"hello\": 1}")
            .await
            .html()
            .contains(NOT_VERIFIED_JA)
    );
    let empty = paste(app, "").await;
    assert_eq!(empty.status(), 422);
    assert!(empty.html().contains("証明書ファイルの中身："));
    let res = reqwest::Client::new()
        .post(app.url("/api/v1/certificates/verify"))
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "bad_request");

    // A stored row altered behind the platform's back fails at its public page.
    exec(
        app,
        &format!("UPDATE certificates SET payload = REPLACE(payload, '遠野ツアー', '偽のツアー') WHERE code = '{code}'"),
    )
    .await;
    let public = app
        .page(&app.client(), &format!("/certificates/{code}"))
        .await;
    assert!(public.contains(NOT_VERIFIED_JA) && !public.contains("偽のツアー"));
    assert_eq!(
        api_verdict(app, &code).await.1["verdict"],
        "does_not_verify"
    );
    // And the file the holder had no longer matches what is stored.
    assert_eq!(api_check(app, &doc).await["verdict"], "does_not_verify");

    // The API documents the verification.
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    for path in [
        "/api/v1/certificates/{code}",
        "/api/v1/certificates/verify",
        "/api/v1/certificates/keys",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} not documented");
    }
}

async fn revoked_certificates_fail_and_only_the_holder_reaches_them(app: &TestApp) {
    let (hanako, a) = talent(app, "結 花子", "hanako@example.jp", &["iwate"]).await;
    let (taro, _) = talent(app, "結 太郎", "taro@example.jp", &["iwate"]).await;
    let (staff, staff_id) = person(app, "岩手 事務局", "coordinator@iwate.example").await;
    grant(app, staff_id, Role::Coordinator, Some("iwate")).await;
    attended(app, "iwate", a, "遠野ツアー", &["2026-05-10"]).await;
    let code = issue(app, &hanako, "iwate", 2026, "結 花子").await;
    let doc = download(app, &hanako, &code).await;

    // Another person and the region's staff reach none of the holder's pages.
    for client in [&taro, &staff] {
        for path in [
            format!("/me/certificates/{code}"),
            format!("/me/certificates/{code}/download"),
        ] {
            assert_eq!(app.status(client, &path).await, 404, "{path}");
        }
    }
    // Staff cannot issue one in the region they run: they are not its member.
    assert_eq!(
        app.status(&staff, "/t/iwate/me/certificates/2026").await,
        404
    );
    // Another person's revoke, with their own valid CSRF token, is 404 and changes nothing.
    let res = app
        .open(&taro, "/certificates/verify")
        .await
        .form("/certificates/verify")
        .remove("document")
        .retarget(&format!("/me/certificates/{code}/revoke"))
        .submit(&taro)
        .await;
    assert_eq!(res.status(), 404);
    assert_eq!(api_verdict(app, &code).await.1["verdict"], "valid");
    // Taro's own record lists no certificate of hers.
    assert!(!app.page(&taro, "/me/activities").await.contains(&code));

    // Unknown and malformed ids are 404 pages, and 404 JSON in the API.
    for path in [
        "/certificates/AAAAAAAAAAAAAAAAAAAAAA".to_owned(),
        "/certificates/1".to_owned(),
        format!("/certificates/{code}x"),
    ] {
        let res = app.get(&path).await;
        assert_eq!(res.status(), 404, "{path}");
        assert!(
            res.text().await.unwrap().contains("<html"),
            "{path}: a page"
        );
    }
    let (status, body) = api_verdict(app, "AAAAAAAAAAAAAAAAAAAAAA").await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));

    // The holder revokes through the rendered button.
    let path = format!("/me/certificates/{code}");
    let res = app
        .open(&hanako, &path)
        .await
        .form(&format!("{path}/revoke"))
        .submit(&hanako)
        .await;
    assert_eq!(res.status(), 303);
    let mine = app.page(&hanako, &format!("{path}?revoked=1")).await;
    assert!(mine.contains("取り消し済み") && !mine.contains(&format!("{path}/revoke")));
    let public = app
        .page(&app.client(), &format!("/certificates/{code}"))
        .await;
    assert!(public.contains(REVOKED_JA) && !public.contains("遠野ツアー"));
    let (_, verdict) = api_verdict(app, &code).await;
    assert_eq!(verdict["verdict"], "revoked");
    assert!(verdict["certificate"].is_null());
    let pasted = paste(app, &doc.to_string()).await;
    // The pasted text comes back in its box; the statement itself is not shown.
    assert!(pasted.html().contains(REVOKED_JA) && !pasted.html().contains("class=\"certificate\""));
    assert_eq!(api_check(app, &doc).await["verdict"], "revoked");
    assert!(
        app.page(&hanako, "/me/activities")
            .await
            .contains("取り消し済み")
    );
    // The certificate is part of the holder's own data download, and of nobody else's.
    assert!(app.page(&hanako, "/me/data.json").await.contains(&code));
    assert!(!app.page(&taro, "/me/data.json").await.contains(&code));
}

async fn a_rotated_key_keeps_old_certificates_valid(app: &TestApp) {
    let (hanako, a) = talent(app, "結 花子", "hanako@example.jp", &["iwate", "kamaishi"]).await;
    attended(app, "iwate", a, "遠野ツアー", &["2026-05-10"]).await;
    attended(app, "kamaishi", a, "釜石フィールドワーク", &["2026-09-01"]).await;

    // The first certificates, issued in a parallel burst on a platform with no key
    // yet: every one is issued, and one key signed them all.
    let path = "/t/iwate/me/certificates/2026";
    let form = app.open(&hanako, path).await.form(path);
    let mut tasks = Vec::new();
    for i in 0..6 {
        let (client, mut form) = (hanako.clone(), form.clone());
        form.set("printed_name", &format!("結 花子 {i}"));
        tasks.push(tokio::spawn(async move {
            form.submit(&client).await.status().as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert!(statuses.iter().all(|s| *s == 303), "{statuses:?}");
    let keys: Vec<Value> = app
        .get("/api/v1/certificates/keys")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(keys[0]["retired_at"].is_null());

    let old = issue(app, &hanako, "iwate", 2026, "結 花子").await;
    let old_doc = download(app, &hanako, &old).await;
    assert_eq!(old_doc["key_id"], keys[0]["key_id"]);

    let new_key =
        yui_web::features::certificates::rotate_signing_key(&app.store, [42; 32], app.now())
            .await
            .unwrap();
    let new = issue(app, &hanako, "kamaishi", 2026, "結 花子").await;
    let new_doc = download(app, &hanako, &new).await;
    assert_eq!(new_doc["key_id"], new_key.as_str());
    assert_ne!(new_doc["key_id"], old_doc["key_id"]);

    // Both verify: the old one with the retired key, the new one with the current.
    for (code, doc) in [(&old, &old_doc), (&new, &new_doc)] {
        assert_eq!(api_verdict(app, code).await.1["verdict"], "valid");
        assert_eq!(api_check(app, doc).await["verdict"], "valid");
        let public = app
            .page(&app.client(), &format!("/certificates/{code}"))
            .await;
        assert!(public.contains(VALID_JA));
    }
    let keys: Vec<Value> = app
        .get("/api/v1/certificates/keys")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(keys.len(), 2);
    let retired: Vec<_> = keys.iter().filter(|k| !k["retired_at"].is_null()).collect();
    assert_eq!(retired.len(), 1);
    assert_eq!(retired[0]["key_id"], old_doc["key_id"]);

    // A document re-signed by a key the platform never had does not verify.
    let mut stranger = new_doc.clone();
    stranger["key_id"] = Value::String("AAAAAAAAAAAAAAAA".to_owned());
    assert_eq!(
        api_check(app, &stranger).await["verdict"],
        "does_not_verify"
    );

    // Deleting the account erases the certificates that print the name.
    let res = app
        .open(&hanako, "/me/delete")
        .await
        .form("/me/delete")
        .set("password", "a passphrase long enough")
        .check("confirm")
        .submit(&hanako)
        .await;
    assert_eq!(res.status(), 200);
    for code in [&old, &new] {
        assert_eq!(
            app.get(&format!("/certificates/{code}")).await.status(),
            404
        );
    }
    assert!(!app.dump_database().await.contains("結 花子"));
}

/// A case study of an engagement of the talent's, published with both approvals.
async fn published_case(app: &TestApp, slug: &str, talent: AccountId, title: &str) {
    use yui_domain::case_study::{CaseSide, CaseStatus, CaseStudyFields, Text};
    let host = crate::hosts::make_host(app, slug, &format!("{title}の宿"), "032069", true).await;
    let project = crate::projects::make_project(app, slug, host, title, "public", true).await;
    let tenant = app.store.tenant_by_slug(slug).await.unwrap();
    let now = app.now();
    let mut tx = app.store.tenant(tenant.id).write().await.unwrap();
    let engagement = tx
        .create_engagement(None, talent, project, now)
        .await
        .unwrap();
    let text = |ja: &str| Text {
        ja: ja.to_owned(),
        en: String::new(),
    };
    let fields = CaseStudyFields {
        title: text(title),
        overview: text("概要"),
        challenge: text("課題"),
        talent_skills: text("広報"),
        proposal: text("提案"),
        outcome: text("成果"),
    };
    let case = tx
        .create_case_study(engagement, &fields, talent, now)
        .await
        .unwrap()
        .unwrap();
    assert!(
        tx.move_case_study(case, CaseStatus::Draft, CaseStatus::AwaitingApproval, now)
            .await
            .unwrap()
    );
    for side in [CaseSide::Talent, CaseSide::Host] {
        assert!(
            tx.approve_case_study(case, side, talent, now)
                .await
                .unwrap()
        );
    }
    assert!(
        tx.move_case_study(case, CaseStatus::AwaitingApproval, CaseStatus::Public, now)
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
}

async fn a_published_case_study_is_an_activity_and_issue_and_revoke_are_audited(app: &TestApp) {
    let (hanako, a) = talent(app, "結 花子", "hanako@example.jp", &["iwate"]).await;
    let (taro, b) = talent(app, "結 太郎", "taro@example.jp", &["iwate"]).await;
    published_case(app, "iwate", a, "宿の発信を変えた一年").await;
    published_case(app, "iwate", b, "太郎さんの事例").await;

    // Her case is in her record, in the year it was published; his is not.
    let record = app.page(&hanako, "/me/activities").await;
    let iwate = region_part(&record, "iwate");
    assert!(iwate.contains("宿の発信を変えた一年"), "{iwate}");
    assert!(!record.contains("太郎さんの事例"), "{record}");
    assert!(
        !app.page(&taro, "/me/activities")
            .await
            .contains("宿の発信を変えた一年")
    );

    let fy = yui_domain::FiscalYear::containing(
        app.now()
            .with_timezone(&yui_domain::fiscal::tokyo())
            .date_naive(),
    )
    .0;
    let code = issue(app, &hanako, "iwate", fy, "結 花子").await;
    let doc = download(app, &hanako, &code).await;
    let payload: Value = serde_json::from_str(doc["payload"].as_str().unwrap()).unwrap();
    let kinds: Vec<&str> = payload["activities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["case_study"], "{payload}");
    assert_eq!(api_verdict(app, &code).await.1["verdict"], "valid");

    // Revoking it through its page's form; both acts are in the region's audit log,
    // with the year and the key but never the code that opens the public page.
    let path = format!("/me/certificates/{code}");
    let res = app
        .open(&hanako, &path)
        .await
        .form(&format!("{path}/revoke"))
        .submit(&hanako)
        .await;
    assert_eq!(res.status(), 303);
    let iwate_id = app.store.tenant_by_slug("iwate").await.unwrap().id;
    let entries = crate::support::audit_entries(&app.store, Some(iwate_id), 20)
        .await
        .unwrap();
    let of = |action: &str| {
        entries
            .iter()
            .filter(|e| e.action == action)
            .collect::<Vec<_>>()
    };
    let (issued, revoked) = (of("certificate_issued"), of("certificate_revoked"));
    assert_eq!((issued.len(), revoked.len()), (1, 1), "{entries:?}");
    for e in [issued[0], revoked[0]] {
        assert_eq!(e.actor_id, Some(a));
        assert_eq!(e.detail.0["fiscal_year"], fy);
        assert_eq!(e.detail.0["key_id"], doc["key_id"]);
        assert!(!e.detail.0.to_string().contains(&code), "{:?}", e.detail);
    }
    // A second revocation changes nothing and logs nothing.
    let res = app
        .open(&hanako, "/certificates/verify")
        .await
        .form("/certificates/verify")
        .remove("document")
        .retarget(&format!("{path}/revoke"))
        .submit(&hanako)
        .await;
    assert_eq!(res.status(), 303);
    let entries = crate::support::audit_entries(&app.store, Some(iwate_id), 20)
        .await
        .unwrap();
    assert_eq!(
        entries
            .iter()
            .filter(|e| e.action == "certificate_revoked")
            .count(),
        1
    );
}

async fn a_configured_key_signs_and_the_database_holds_only_its_public_half(app: &TestApp) {
    use yui_domain::certificate::KeyPair;
    // A key kept in the database before the configuration named one retires.
    let earlier =
        yui_web::features::certificates::rotate_signing_key(&app.store, [42; 32], app.now())
            .await
            .unwrap();
    let (hanako, a) = talent(app, "結 花子", "hanako@example.jp", &["iwate"]).await;
    attended(app, "iwate", a, "遠野ツアー", &["2026-05-10"]).await;
    let code = issue(app, &hanako, "iwate", 2026, "結 花子").await;
    let doc = download(app, &hanako, &code).await;
    let configured = KeyPair::from_secret(CONFIGURED);
    assert_eq!(doc["key_id"], configured.key_id().as_str());
    assert_eq!(api_verdict(app, &code).await.1["verdict"], "valid");
    assert_eq!(api_check(app, &doc).await["verdict"], "valid");

    let mut tx = app
        .store
        .platform(yui_store::PlatformReason::Certificates)
        .read()
        .await
        .unwrap();
    let current = tx.current_signing_key().await.unwrap().unwrap();
    let keys = tx.certificate_keys().await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(current.key_id, configured.key_id());
    assert_eq!(current.public_key, configured.public().to_base64());
    assert_eq!(
        current.private_key, "",
        "the private half stays in the configuration"
    );
    let retired: Vec<_> = keys.iter().filter(|k| k.retired_at.is_some()).collect();
    assert_eq!(retired.len(), 1);
    assert_eq!(retired[0].key_id, earlier);

    // A second certificate uses the same key, and no key is added.
    issue(app, &hanako, "iwate", 2026, "結 花子").await;
    let keys: Vec<Value> = app
        .get("/api/v1/certificates/keys")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(keys.len(), 2, "{keys:?}");
}
