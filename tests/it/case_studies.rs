//! Case studies (事例): a coordinator writes one about an engagement through the
//! rendered forms, uploads photos as a browser does (multipart), and sends it for
//! approval; it goes public only after the talent and a member of the host approved
//! and the coordinator published; an edit after an approval withdraws both. Another
//! host's member, another tenant's ids and strangers get 404; a photo too large or
//! not an image is a field error on the page; drafts and their photos stay hidden.

use yui_domain::AccountId;
use yui_domain::ids::{CaseStudyId, EngagementId};

use crate::hosts::{coordinator, host_member, make_host};
use crate::projects::make_project;
use crate::staff::person;
use crate::support::{Page, TestApp, on_both_backends};
use crate::talent::join;

on_both_backends!(
    TestApp::with_tenants =>
    both_sides_approve_before_the_coordinator_publishes,
    other_hosts_other_tenants_and_strangers_get_404,
    photos_are_checked_by_their_bytes_and_hidden_while_draft,
    a_talent_who_left_is_hidden_and_cannot_approve,
    texts_lose_nul_controls_and_bidi_overrides,
);

const HOSTILE: &str = "<script>alert('cs')</script>ワイン";

/// A PNG's first bytes and some more: what the server recognises as PNG.
fn png(len: usize) -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
    b.resize(len, 7);
    b
}

/// An engagement in `slug`: a host, its project, a talent who joined. Returns the
/// engagement, the talent's client and the host's member's client.
struct Pair {
    engagement: EngagementId,
    talent: reqwest::Client,
    host: reqwest::Client,
    host_id: yui_domain::HostId,
}

async fn pair(app: &TestApp, slug: &str, tag: &str, code: &str) -> Pair {
    let host_id = make_host(app, slug, &format!("かんたはうす{tag}"), code, true).await;
    let project = make_project(app, slug, host_id, "ワインのファンづくり", "public", true).await;
    let (talent, talent_id) = person(app, "複業 花子", &format!("talent-{tag}@example.jp")).await;
    assert_eq!(join(app, &talent, slug, false).await.status(), 303);
    let host = host_member(app, slug, host_id, &format!("host-{tag}@example.jp")).await;
    let engagement = engagement(app, slug, talent_id, project).await;
    Pair {
        engagement,
        talent,
        host,
        host_id,
    }
}

async fn engagement(
    app: &TestApp,
    slug: &str,
    talent: AccountId,
    project: yui_domain::ProjectId,
) -> EngagementId {
    let tenant = app.store.tenant_by_slug(slug).await.unwrap();
    let mut tx = app.store.tenant(tenant.id).write().await.unwrap();
    let id = tx
        .create_engagement(None, talent, project, app.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

/// The case as stored.
async fn stored(app: &TestApp, slug: &str, id: CaseStudyId) -> yui_store::CaseStudy {
    let tenant = app.store.tenant_by_slug(slug).await.unwrap();
    let mut tx = app.store.tenant(tenant.id).read().await.unwrap();
    let case = tx.case_study(id).await.unwrap().unwrap();
    tx.commit().await.unwrap();
    case
}

fn location(res: &reqwest::Response) -> String {
    res.headers()[reqwest::header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned()
}

/// Writes a case through the new-case form; its id.
async fn write_case(
    app: &TestApp,
    coord: &reqwest::Client,
    slug: &str,
    engagement: EngagementId,
    title: &str,
) -> CaseStudyId {
    let path = format!("/t/{slug}/case-studies/new");
    let res = app
        .open(coord, &path)
        .await
        .form(&path)
        .set("engagement", &engagement.to_string())
        .set("title_ja", title)
        .set("overview_ja", "地域産ぶどうを活かすワイン造り")
        .set("challenge_ja", "販路拡大とブランド化")
        .set("talent_skills_ja", "SNS運用、コミュニティ運営")
        .set("proposal_ja", "ファンを増やすコミュニティ形成")
        .set("outcome_ja", "オンラインのファンクラブが生まれた")
        .set("outcome_en", "An online fan club began")
        .submit(coord)
        .await;
    assert_eq!(res.status(), 303);
    let to = location(&res);
    let prefix = format!("/t/{slug}/case-studies/");
    to.trim_start_matches(&prefix)
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// Presses the status button moving the case to `to`.
async fn press(app: &TestApp, coord: &reqwest::Client, path: &str, to: &str) -> reqwest::Response {
    let page = app.open(coord, path).await;
    crate::hosts::status_form(&page, to).submit(coord).await
}

fn decision_form(page: &Page, decision: &str) -> yui_testkit::form::Form {
    page.forms()
        .into_iter()
        .find(|f| f.value("decision").as_deref() == Some(decision))
        .unwrap_or_else(|| panic!("no {decision} form: {}", page.html()))
}

async fn approve(app: &TestApp, client: &reqwest::Client, review: &str) -> reqwest::Response {
    let page = app.open(client, review).await;
    assert_eq!(page.status(), 200, "{review}");
    decision_form(&page, "approve").submit(client).await
}

async fn both_sides_approve_before_the_coordinator_publishes(app: &TestApp) {
    let coord = coordinator(app, "iwate", "coord-cs@example.jp").await;
    let p = pair(app, "iwate", "a", "033057").await;
    // Bad input is named and kept.
    let new = "/t/iwate/case-studies/new";
    let res = app
        .open(&coord, new)
        .await
        .form(new)
        .set("title_ja", "題だけ")
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("対象の協働：入力してください") || html.contains("対象の協働："));
    assert!(html.contains("概要（日本語）："), "{html}");
    assert!(html.contains("value=\"題だけ\""));

    let id = write_case(app, &coord, "iwate", p.engagement, HOSTILE).await;
    let manage = format!("/t/iwate/case-studies/{id}");
    let review = format!("/t/iwate/case-studies/{id}/review");
    let public = format!("/t/iwate/cases/{id}");
    let html = app.page(&coord, &manage).await;
    assert!(html.contains("&lt;script&gt;alert("), "escaped");
    assert!(!html.contains("<script>alert('cs')"));
    // A draft is nobody's business outside: 404 to the public; the sides see it
    // but cannot approve yet.
    assert_eq!(app.get(&public).await.status(), 404);
    let page = app.open(&p.talent, &review).await;
    assert_eq!(page.status(), 200);
    assert!(page.html().contains("いまは承認を受け付けていません"));
    assert!(!page.html().contains("<script>alert('cs')"));

    // Sent for approval with the button pressed twice at once: it moves once, and
    // each side is mailed once, with the link to the review page.
    let page = app.open(&coord, &manage).await;
    let form = crate::hosts::status_form(&page, "awaiting_approval");
    let twin = form.clone();
    let (a, b) = tokio::join!(twin.submit(&coord), form.submit(&coord));
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (303, 303));
    let asked = || {
        app.sink
            .inbox()
            .messages()
            .into_iter()
            .filter(|m| {
                m.subject()
                    .is_some_and(|s| s.contains("事例の内容をご確認ください"))
            })
            .collect::<Vec<_>>()
    };
    for _ in 0..200 {
        if asked().len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Time for a second mail, were one queued.
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let mails = asked();
    for to in ["talent-a@example.jp", "host-a@example.jp"] {
        let theirs: Vec<_> = mails
            .iter()
            .filter(|m| m.rcpt_to.iter().any(|r| r == to))
            .collect();
        assert_eq!(theirs.len(), 1, "one mail to {to}");
        let links = theirs[0].links();
        assert!(links.iter().any(|l| l.ends_with(&review)), "{links:?}");
    }
    // The talent approves; not yet public, and no publish button.
    assert_eq!(approve(app, &p.talent, &review).await.status(), 303);
    let html = app.page(&p.talent, &review).await;
    assert!(html.contains("承認済み"), "{html}");
    let page = app.open(&coord, &manage).await;
    assert!(
        page.forms()
            .iter()
            .all(|f| f.value("to").as_deref() != Some("public"))
    );
    // The talent's "my case studies" lists it.
    let mine = app.page(&p.talent, "/t/iwate/my-case-studies").await;
    assert!(mine.contains(&review));

    // The host asks for changes: back to draft, approvals gone, comment shown.
    let page = app.open(&p.host, &review).await;
    let res = decision_form(&page, "changes").submit(&p.host).await;
    assert_eq!(res.status(), 422, "a request for changes needs a comment");
    let page = app.open(&p.host, &review).await;
    let res = decision_form(&page, "changes")
        .set("comment", "社名の表記を直してください<b>")
        .submit(&p.host)
        .await;
    assert_eq!(res.status(), 303);
    let html = app.page(&coord, &manage).await;
    assert!(html.contains("社名の表記を直してください&lt;b&gt;"));
    assert!(html.contains("下書き"));

    // Round two: both approve, then the coordinator publishes.
    assert_eq!(
        press(app, &coord, &manage, "awaiting_approval")
            .await
            .status(),
        303
    );
    assert_eq!(approve(app, &p.host, &review).await.status(), 303);
    assert_eq!(
        app.get(&public).await.status(),
        404,
        "one approval is not enough"
    );
    assert_eq!(approve(app, &p.talent, &review).await.status(), 303);
    assert_eq!(app.get(&public).await.status(), 404, "not until published");
    assert_eq!(press(app, &coord, &manage, "public").await.status(), 303);
    let res = app.get(&public).await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("&lt;script&gt;alert("));
    assert!(!html.contains("<script>alert('cs')"));
    assert!(html.contains("販路拡大とブランド化"));
    assert!(html.contains("かんたはうすa"));
    // The place reads as a place: the prefecture, never a bare municipality code.
    assert!(
        html.contains("岩手県") && !html.contains("033057"),
        "{html}"
    );
    assert!(
        !html.contains("複業 花子"),
        "the public page names no talent"
    );
    let list = app.page(&app.client(), "/t/iwate/cases").await;
    assert!(list.contains(&public));
    assert!(
        app.page(&app.client(), "/t/iwate/")
            .await
            .contains("/t/iwate/cases")
    );
    // In English the English outcome, the rest in Japanese marked as such.
    let en = app.page(&app.client(), &format!("{public}?lang=en")).await;
    assert!(en.contains("An online fan club began"));
    assert!(en.contains("lang=\"ja\""));

    // The store's figures for the year's report and certificates.
    let tenant = app.store.tenant_by_slug("iwate").await.unwrap();
    let fy = yui_domain::FiscalYear::containing(
        app.now()
            .with_timezone(&yui_domain::fiscal::tokyo())
            .date_naive(),
    );
    let mut tx = app.store.tenant(tenant.id).read().await.unwrap();
    assert_eq!(tx.count_public_case_studies(fy).await.unwrap(), 1);
    assert_eq!(
        tx.count_public_case_studies(yui_domain::FiscalYear(fy.0 - 1))
            .await
            .unwrap(),
        0
    );
    let talent_id = tx.case_study(id).await.unwrap().unwrap().talent_id;
    assert_eq!(
        tx.talent_public_case_studies(talent_id, fy)
            .await
            .unwrap()
            .len(),
        1
    );
    tx.commit().await.unwrap();

    // An edit after the approvals withdraws them and takes the case off the pages.
    let res = app
        .open(&coord, &manage)
        .await
        .form(&manage)
        .set("outcome_ja", "ファンクラブが100人に")
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(app.get(&public).await.status(), 404);
    let html = app.page(&coord, &manage).await;
    assert!(html.contains("承認待ち"));
    assert!(!html.contains("value=\"public\""));
    let mut tx = app.store.tenant(tenant.id).read().await.unwrap();
    let case = tx.case_study(id).await.unwrap().unwrap();
    assert!(case.talent_approved_at.is_none() && case.host_approved_at.is_none());
    assert_eq!(tx.count_public_case_studies(fy).await.unwrap(), 0);
    tx.commit().await.unwrap();
    // An approval of a text read before it changed is refused, and says so.
    let read_before = decision_form(&app.open(&p.talent, &review).await, "approve");
    let res = app
        .open(&coord, &manage)
        .await
        .form(&manage)
        .set("outcome_ja", "ファンクラブが120人に")
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 303);
    let res = read_before.submit(&p.talent).await;
    assert!(location(&res).ends_with("done=stale"));
    assert!(stored(app, "iwate", id).await.talent_approved_at.is_none());
    // Approved again and published, then withdrawn: 404 to the public.
    assert_eq!(approve(app, &p.talent, &review).await.status(), 303);
    assert_eq!(approve(app, &p.host, &review).await.status(), 303);
    assert_eq!(press(app, &coord, &manage, "public").await.status(), 303);
    assert_eq!(app.get(&public).await.status(), 200);
    assert_eq!(press(app, &coord, &manage, "withdrawn").await.status(), 303);
    assert_eq!(app.get(&public).await.status(), 404);
    assert!(
        !app.page(&app.client(), "/t/iwate/cases")
            .await
            .contains(&public)
    );
}

async fn other_hosts_other_tenants_and_strangers_get_404(app: &TestApp) {
    let coord = coordinator(app, "iwate", "coord-x@example.jp").await;
    let p = pair(app, "iwate", "b", "033057").await;
    let id = write_case(app, &coord, "iwate", p.engagement, "岩手の事例").await;
    let manage = format!("/t/iwate/case-studies/{id}");
    let review = format!("/t/iwate/case-studies/{id}/review");
    press(app, &coord, &manage, "awaiting_approval").await;

    // A member of another host of the same tenant: 404, and cannot approve.
    let other_host = make_host(app, "iwate", "さともり", "034614", true).await;
    assert_ne!(other_host, p.host_id);
    let stranger = host_member(app, "iwate", other_host, "other-host@example.jp").await;
    assert_eq!(app.status(&stranger, &review).await, 404);
    let page = app.open(&p.host, &review).await;
    let res = decision_form(&page, "approve").submit(&stranger).await;
    assert!(
        res.status() == 404 || res.status() == 403,
        "{}",
        res.status()
    );
    assert!(stored(app, "iwate", id).await.host_approved_at.is_none());
    // Neither may it see the coordinator's pages or the draft's photos.
    assert_eq!(app.status(&stranger, &manage).await, 404);
    assert_eq!(app.status(&stranger, "/t/iwate/case-studies").await, 404);
    // Signed out: to sign in for the review, 404 for the rest.
    let out = app.client();
    assert_eq!(app.status(&out, &review).await, 303);
    assert_eq!(app.status(&out, &format!("/t/iwate/cases/{id}")).await, 404);

    // Another tenant: its coordinator, its case and its engagement.
    let other = coordinator(app, "ichinoseki", "coord-i@example.jp").await;
    let q = pair(app, "ichinoseki", "c", "032093").await;
    let their = write_case(app, &other, "ichinoseki", q.engagement, "一関の事例").await;
    for path in [
        format!("/t/iwate/case-studies/{their}"),
        format!("/t/iwate/case-studies/{their}/review"),
        format!("/t/iwate/cases/{their}"),
        format!("/t/iwate/cases/{their}/photos/1"),
    ] {
        assert_eq!(app.status(&coord, &path).await, 404, "{path}");
    }
    // Their coordinator in our tenant: nothing.
    for path in [
        "/t/iwate/case-studies".to_owned(),
        "/t/iwate/case-studies/new".to_owned(),
        manage.clone(),
    ] {
        assert_eq!(app.status(&other, &path).await, 404, "{path}");
    }
    // Posting to another tenant's case from our pages: 404, nothing changed.
    let page = app.open(&coord, &manage).await;
    let res = page
        .form(&manage)
        .retarget(&format!("/t/iwate/case-studies/{their}"))
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 404);
    let spare = write_case(app, &coord, "iwate", p.engagement, "下書き").await;
    let spare_page = app
        .open(&coord, &format!("/t/iwate/case-studies/{spare}"))
        .await;
    let res = crate::hosts::status_form(&spare_page, "awaiting_approval")
        .retarget(&format!("/t/iwate/case-studies/{their}/status"))
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 404);
    // A case about another tenant's engagement cannot be written.
    let new = "/t/iwate/case-studies/new";
    let res = app
        .open(&coord, new)
        .await
        .form(new)
        .forge("engagement", &q.engagement.to_string())
        .set("title_ja", "よその事例")
        .set("overview_ja", "a")
        .set("challenge_ja", "b")
        .set("talent_skills_ja", "c")
        .set("proposal_ja", "d")
        .set("outcome_ja", "e")
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("value=\"よその事例\""));
    // The public list of each tenant shows its own public cases only.
    let their_manage = format!("/t/ichinoseki/case-studies/{their}");
    press(app, &other, &their_manage, "awaiting_approval").await;
    let their_review = format!("{their_manage}/review");
    let res = decision_form(
        &app.open(
            &q.talent,
            &format!("/t/ichinoseki/case-studies/{their}/review"),
        )
        .await,
        "approve",
    )
    .retarget(&format!("/t/iwate/case-studies/{their}/review"))
    .submit(&q.talent)
    .await;
    assert_eq!(res.status(), 404);
    approve(app, &q.talent, &their_review).await;
    approve(app, &q.host, &their_review).await;
    assert_eq!(
        press(app, &other, &their_manage, "public").await.status(),
        303
    );
    let iwate = app.page(&app.client(), "/t/iwate/cases").await;
    assert!(!iwate.contains("一関の事例"));
    assert!(!iwate.contains("岩手の事例"), "a draft is not listed");
    let ichinoseki = app.page(&app.client(), "/t/ichinoseki/cases").await;
    assert!(ichinoseki.contains("一関の事例"));
    assert_eq!(
        app.status(&app.client(), &format!("/t/iwate/cases/{their}"))
            .await,
        404
    );
}

async fn photos_are_checked_by_their_bytes_and_hidden_while_draft(app: &TestApp) {
    let coord = coordinator(app, "iwate", "coord-p@example.jp").await;
    let p = pair(app, "iwate", "d", "033057").await;
    let id = write_case(app, &coord, "iwate", p.engagement, "写真の事例").await;
    let manage = format!("/t/iwate/case-studies/{id}");
    let upload = format!("{manage}/photos");

    let page = app.open(&coord, &manage).await;
    let res = page
        .form(&upload)
        .set("alt", "ぶどう畑と<b>収穫</b>")
        .attach("photo", "vineyard.png", "image/png", png(4096))
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let html = app.page(&coord, &manage).await;
    assert!(
        html.contains("alt=\"ぶどう畑と&lt;b&gt;収穫&lt;&#x2F;b&gt;\""),
        "{html}"
    );
    let src = html
        .split("src=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap())
        .map(|s| s.replace("&#x2F;", "/"))
        .find(|s| s.contains("/photos/"))
        .unwrap();

    // One byte too many: the page with the field error, the alt text kept, nothing
    // stored and nothing else lost.
    let res = app
        .open(&coord, &manage)
        .await
        .form(&upload)
        .set("alt", "大きすぎる写真")
        .attach("photo", "big.png", "image/png", png(2 * 1024 * 1024 + 1))
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("写真ファイル：2MB以下のファイルにしてください"),
        "{html}"
    );
    assert!(html.contains("value=\"大きすぎる写真\""));
    assert!(html.contains("写真の事例"));
    // Far past the limit too: still a page, not a 413 text.
    let res = app
        .open(&coord, &manage)
        .await
        .form(&upload)
        .set("alt", "とても大きい")
        .attach("photo", "huge.png", "image/png", png(9 * 1024 * 1024))
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("2MB以下"));
    assert!(
        html.contains("value=\"とても大きい\""),
        "the alt text is kept"
    );
    // A script calling itself a PNG.
    let res = app
        .open(&coord, &manage)
        .await
        .form(&upload)
        .set("alt", "偽物")
        .attach(
            "photo",
            "x.png",
            "image/png",
            b"<svg onload=alert(1)>".to_vec(),
        )
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("JPEG・PNG・WebPの画像ファイルを選んでください"));
    // Without alt text.
    let res = app
        .open(&coord, &manage)
        .await
        .form(&upload)
        .attach("photo", "ok.png", "image/png", png(100))
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("写真の説明（代替テキスト）：入力してください")
    );
    let tenant = app.store.tenant_by_slug("iwate").await.unwrap();
    let mut tx = app.store.tenant(tenant.id).read().await.unwrap();
    assert_eq!(tx.case_photos(id).await.unwrap().len(), 1);
    tx.commit().await.unwrap();

    // A draft's photo: 404 signed out and to another host's member; the coordinator
    // and the sides get it with its stored type.
    assert_eq!(app.get(&src).await.status(), 404);
    let other_host = make_host(app, "iwate", "夏油", "032069", true).await;
    let stranger = host_member(app, "iwate", other_host, "kobiru-x@example.jp").await;
    assert_eq!(app.status(&stranger, &src).await, 404);
    for client in [&coord, &p.talent, &p.host] {
        let res = client.get(app.url(&src)).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "image/png");
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
        assert!(
            res.headers()["cache-control"]
                .to_str()
                .unwrap()
                .contains("private")
        );
        assert_eq!(res.bytes().await.unwrap().len(), 4096);
    }
    // Public once published, cacheable.
    press(app, &coord, &manage, "awaiting_approval").await;
    let review = format!("{manage}/review");
    approve(app, &p.talent, &review).await;
    approve(app, &p.host, &review).await;
    press(app, &coord, &manage, "public").await;
    let res = app.get(&src).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("public")
    );
    let html = app
        .page(&app.client(), &format!("/t/iwate/cases/{id}"))
        .await;
    assert!(html.contains(&src.replace('/', "&#x2F;")) && html.contains("alt=\"ぶどう畑と"));
    // Removing the photo is an edit: approvals withdrawn, the photo hidden again.
    let page = app.open(&coord, &manage).await;
    let res = page.form(&format!("{src}/delete").replace("/cases/", "/case-studies/"));
    let res = res.submit(&coord).await;
    assert_eq!(res.status(), 303);
    assert_eq!(app.get(&src).await.status(), 404);
    assert_eq!(app.get(&format!("/t/iwate/cases/{id}")).await.status(), 404);
}

async fn a_talent_who_left_is_hidden_and_cannot_approve(app: &TestApp) {
    let coord = coordinator(app, "iwate", "coord-left@example.jp").await;
    let p = pair(app, "iwate", "left", "033057").await;
    let id = write_case(app, &coord, "iwate", p.engagement, "去った人の事例").await;
    let manage = format!("/t/iwate/case-studies/{id}");
    let review = format!("/t/iwate/case-studies/{id}/review");
    let new = "/t/iwate/case-studies/new";
    assert_eq!(
        press(app, &coord, &manage, "awaiting_approval")
            .await
            .status(),
        303
    );
    let option = format!("value=\"{}\"", p.engagement);
    assert!(app.page(&coord, new).await.contains(&option));
    assert!(app.page(&coord, &manage).await.contains("複業 花子"));
    // The review page as the talent had it open when leaving.
    let page = app.open(&p.talent, &review).await;
    assert_eq!(page.status(), 200);
    let approval = decision_form(&page, "approve");

    let res = app
        .open(&p.talent, "/t/iwate/me")
        .await
        .form("/t/iwate/me/leave")
        .submit(&p.talent)
        .await;
    assert_eq!(res.status(), 303);
    // Gone at once: not offered for a new case, not named, no review or approval.
    assert!(!app.page(&coord, new).await.contains(&option));
    for path in [manage.clone(), "/t/iwate/case-studies".to_owned()] {
        let html = app.page(&coord, &path).await;
        assert!(!html.contains("複業 花子"), "{path}: {html}");
    }
    assert!(app.page(&coord, &manage).await.contains("（退会した人材）"));
    assert_eq!(app.status(&p.talent, &review).await, 404);
    assert_eq!(approval.submit(&p.talent).await.status(), 404);
    assert!(stored(app, "iwate", id).await.talent_approved_at.is_none());
    // The host's member still reviews it.
    assert_eq!(app.status(&p.host, &review).await, 200);
    // A new case about that engagement is refused, as for any engagement not offered.
    let res = app
        .open(&coord, new)
        .await
        .form(new)
        .forge("engagement", &p.engagement.to_string())
        .set("title_ja", "二つ目")
        .set("overview_ja", "概要")
        .set("challenge_ja", "課題")
        .set("talent_skills_ja", "スキル")
        .set("proposal_ja", "提案")
        .set("outcome_ja", "成果")
        .submit(&coord)
        .await;
    assert_ne!(res.status(), 303);
    assert!(res.status().as_u16() < 500);
}

async fn texts_lose_nul_controls_and_bidi_overrides(app: &TestApp) {
    let coord = coordinator(app, "iwate", "coord-nul@example.jp").await;
    let p = pair(app, "iwate", "nul", "033057").await;
    let id = write_case(
        app,
        &coord,
        "iwate",
        p.engagement,
        "ワイン\u{0}の\u{202E}話\u{7}",
    )
    .await;
    let case = stored(app, "iwate", id).await;
    assert_eq!(case.title_ja, "ワインの話");
    let manage = format!("/t/iwate/case-studies/{id}");
    let res = app
        .open(&coord, &manage)
        .await
        .form(&manage)
        .set("overview_ja", "一行目\r\n二行目\u{0}\u{2066}終わり")
        .submit(&coord)
        .await;
    assert!(res.status().as_u16() < 500, "{}", res.status());
    assert_eq!(
        stored(app, "iwate", id).await.overview_ja,
        "一行目\n二行目終わり"
    );
    // English pages use English brackets.
    let html = app.page(&coord, &format!("{manage}?lang=en")).await;
    assert!(!html.contains('（') && !html.contains('）'), "{html}");
    app.page(&coord, &format!("{manage}?lang=ja")).await;
}
