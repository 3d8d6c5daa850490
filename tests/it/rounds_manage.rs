//! The coordinator's round pages over HTTP, on both databases, through the forms
//! the pages render: a round created (a mistake named on its field, what was typed
//! kept), projects and seats, invitations by address, opened, closed, solved, a
//! manual change shown by the engine's check as a blocking pair, published with
//! one mail per person (also when two coordinators publish at once), and a second
//! phase; manual mode; and nobody but the tenant's staff reaching any route.

use chrono::Duration;
use yui_domain::fiscal::tokyo;
use yui_domain::ids::RoundId;
use yui_domain::round::RoundStatus;
use yui_domain::{AccountId, ProjectId, TenantId};

use crate::events_api::people;
use crate::hosts::{coordinator, host_member, make_host, status_form};
use crate::projects::make_project;
use crate::staff::person;
use crate::support::{Page, TestApp, on_both_backends};

on_both_backends!(
    TestApp::with_tenants =>
    a_coordinator_runs_a_round_from_draft_to_second_phase,
    a_manual_round_is_paired_by_hand_and_checked,
    publishing_twice_at_once_mails_everyone_once,
    nobody_outside_the_tenants_staff_reaches_a_round_route,
);

async fn tenant_id(app: &TestApp, slug: &str) -> TenantId {
    app.store.tenant_by_slug(slug).await.unwrap().id
}

/// A Tokyo `datetime-local` value `days` from the app's now.
fn local(app: &TestApp, days: i64) -> String {
    (app.now() + Duration::days(days))
        .with_timezone(&tokyo())
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

/// This year's program of `slug`, made from the programs page's form.
async fn program(app: &TestApp, client: &reqwest::Client, slug: &str) {
    let path = format!("/t/{slug}/programs");
    let res = app
        .open(client, &path)
        .await
        .form(&path)
        .submit(client)
        .await;
    assert_eq!(res.status(), 303);
}

/// A round made through the list page's form; its id.
async fn create_round(
    app: &TestApp,
    client: &reqwest::Client,
    slug: &str,
    title: &str,
    mode: &str,
) -> RoundId {
    let path = format!("/t/{slug}/rounds");
    let page = app.open(client, &path).await;
    assert_eq!(page.status(), 200);
    let mut form = page.form(&path);
    form.set("title", title)
        .set("mode", mode)
        .set("entry_opens_at", &local(app, -1))
        .set("entry_closes_at", &local(app, 2))
        .set("ranks_close_at", &local(app, 4))
        .check("interim_on");
    let res = form.submit(client).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let id = location
        .split("/rounds/")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap();
    RoundId::new(id.parse().unwrap())
}

fn manage(slug: &str, round: RoundId) -> String {
    format!("/t/{slug}/rounds/{round}/manage")
}

async fn status_of(app: &TestApp, slug: &str, round: RoundId) -> RoundStatus {
    let mut tx = app
        .store
        .tenant(tenant_id(app, slug).await)
        .read()
        .await
        .unwrap();
    let s = tx.round(round).await.unwrap().status();
    tx.commit().await.unwrap();
    s
}

/// Moves the round with the page's status button.
async fn move_to(app: &TestApp, client: &reqwest::Client, slug: &str, round: RoundId, to: &str) {
    let page = app.open(client, &manage(slug, round)).await;
    let res = status_form(&page, to).submit(client).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
}

/// Sets seats through the projects form.
async fn seats(
    app: &TestApp,
    client: &reqwest::Client,
    slug: &str,
    round: RoundId,
    seats: &[(ProjectId, &str)],
) -> reqwest::Response {
    let page = app.open(client, &manage(slug, round)).await;
    let mut form = page.form(&format!("{}/projects", manage(slug, round)));
    for (p, n) in seats {
        form.set(&format!("seats_{p}"), n);
    }
    form.submit(client).await
}

/// Talents who joined `slug`, entered the round and ranked, and the projects'
/// lists, through the store (the talents' and hosts' pages are tested elsewhere).
async fn enter_and_rank(
    app: &TestApp,
    slug: &str,
    round: RoundId,
    talents: &[(AccountId, Vec<ProjectId>)],
    hosts: &[(ProjectId, Vec<AccountId>)],
) {
    let mut tx = app
        .store
        .tenant(tenant_id(app, slug).await)
        .write()
        .await
        .unwrap();
    for (t, list) in talents {
        tx.enter_round(round, *t, app.now()).await.unwrap();
        tx.set_talent_preferences(round, *t, list).await.unwrap();
    }
    for (p, list) in hosts {
        tx.set_host_preferences(round, *p, list).await.unwrap();
    }
    tx.commit().await.unwrap();
}

/// Both sides confirm every pair still waiting, through the store (the answer
/// pages are tested with the talents' and hosts' pages).
pub(crate) async fn answer_all(app: &TestApp, slug: &str, round: RoundId) {
    use yui_domain::round::{Answer, MatchStatus};
    use yui_store::Side;
    let mut tx = app
        .store
        .tenant(tenant_id(app, slug).await)
        .write()
        .await
        .unwrap();
    for pair in tx.round_pairs(round).await.unwrap() {
        if pair.status() == MatchStatus::Proposed {
            for side in [Side::Talent, Side::Host] {
                tx.answer_pair(round, pair.id, side, Answer::Confirmed, app.now())
                    .await
                    .unwrap();
            }
        }
    }
    tx.commit().await.unwrap();
}

async fn join(app: &TestApp, slug: &str, account: AccountId) {
    let record = app.store.tenant_by_slug(slug).await.unwrap();
    let mut tx = app.store.account(account).write().await.unwrap();
    tx.join_tenant(record.id, &record.tenant.consent, true, app.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

async fn outbox_count(app: &TestApp, template: &str) -> usize {
    app.dump_database()
        .await
        .lines()
        .filter(|l| *l == format!("mail_outbox.template: {template}"))
        .count()
}

fn error_summary(page: &Page) -> String {
    let html = page.html();
    let start = html.find("error-summary").unwrap_or(0);
    html[start..].chars().take(600).collect()
}

async fn a_coordinator_runs_a_round_from_draft_to_second_phase(app: &TestApp) {
    let slug = "iwate";
    let client = coordinator(app, slug, "rm-coord@example.jp").await;
    program(app, &client, slug).await;
    let host = make_host(app, slug, "りんご園", "032051", true).await;
    let a = make_project(app, slug, host, "収穫体験の発信", "public", true).await;
    let b = make_project(app, slug, host, "直売所の改善", "public", true).await;
    let c = make_project(app, slug, host, "会員向けの案件", "members", true).await;
    // Nobody ranks d: its seat is left for the second phase.
    let d = make_project(app, slug, host, "空き家の活用", "public", true).await;

    // A mistake is named on its field and what was typed stays.
    let path = format!("/t/{slug}/rounds");
    let mut form = app.open(&client, &path).await.form(&path);
    form.set("title", "<b>秋のマッチング</b>")
        .set("entry_opens_at", &local(app, 1))
        .set("entry_closes_at", &local(app, 3))
        .set("ranks_close_at", &local(app, 2))
        .set("talent_rank_limit", "0");
    let res = form.submit(&client).await;
    assert_eq!(res.status(), 422);
    let page = Page::read(res).await;
    let summary = error_summary(&page);
    assert!(summary.contains("希望順位の締切"), "{summary}");
    assert!(summary.contains("人材が選べる案件の数"), "{summary}");
    assert!(
        page.html()
            .contains("&lt;b&gt;秋のマッチング&lt;&#x2F;b&gt;")
    );
    assert!(!page.html().contains("<b>秋のマッチング"));

    let round = create_round(app, &client, slug, "秋のマッチング", "engine").await;
    assert_eq!(status_of(app, slug, round).await, RoundStatus::Draft);

    // Seats: a number out of range is refused on its row, nothing saved.
    let res = seats(app, &client, slug, round, &[(a, "99"), (b, "1")]).await;
    assert_eq!(res.status(), 422);
    let page = Page::read(res).await;
    assert!(page.html().contains("aria-invalid=\"true\""));
    assert_eq!(
        page.form(&format!("{}/projects", manage(slug, round)))
            .value(&format!("seats_{a}"))
            .as_deref(),
        Some("99")
    );
    let res = seats(
        app,
        &client,
        slug,
        round,
        &[(a, "1"), (b, "１"), (c, "1"), (d, "1")],
    )
    .await;
    assert_eq!(res.status(), 303);

    // Invitations by address: members are invited, an address of nobody here is named.
    let talents: Vec<AccountId> = people(app, slug, "rm-talent", 4)
        .await
        .iter()
        .map(|p| p.id)
        .collect();
    for t in &talents {
        join(app, slug, *t).await;
    }
    let page = app.open(&client, &manage(slug, round)).await;
    let mut form = page.form(&format!("{}/invite", manage(slug, round)));
    form.set("emails", "rm-talent0@example.jp\nnobody@example.jp");
    let res = form.submit(&client).await;
    assert_eq!(res.status(), 422);
    let page = Page::read(res).await;
    assert!(page.html().contains("nobody@example.jp"));
    assert!(
        !page
            .form(&format!("{}/invite", manage(slug, round)))
            .value("emails")
            .unwrap()
            .contains("rm-talent0")
    );
    assert!(page.html().contains("招待 1人"), "{}", page.html());

    move_to(app, &client, slug, round, "open").await;
    assert_eq!(status_of(app, slug, round).await, RoundStatus::Open);
    let [t0, t1, t2, t3] = [talents[0], talents[1], talents[2], talents[3]];
    enter_and_rank(
        app,
        slug,
        round,
        &[
            (t0, vec![a, b]),
            (t1, vec![a]),
            (t2, vec![b, c]),
            (t3, vec![c, a]),
        ],
        &[(a, vec![t1, t0, t3]), (b, vec![t0, t2]), (c, vec![t2, t3])],
    )
    .await;
    // While open, the coordinator sees the first-choice counts.
    let page = app.open(&client, &manage(slug, round)).await;
    assert!(page.html().contains("エントリー 4人"), "{}", page.html());

    move_to(app, &client, slug, round, "closed").await;
    let page = app.open(&client, &manage(slug, round)).await;
    assert!(
        !page.html().contains("value=\"published\""),
        "publish needs a result first"
    );
    let res = page
        .form(&format!("{}/solve", manage(slug, round)))
        .submit(&client)
        .await;
    assert_eq!(res.status(), 303);
    let page = app.open(&client, &manage(slug, round)).await;
    // t0→b (a prefers t1), t1→a, t2→c? No: c's list is [t2, t3], b's is [t0, t2];
    // t2 ranks b first but b took t0 → t2→c; t3 ranks c first but c prefers t2 → t3
    // would go to a, which prefers t1 (one seat) → t3 unmatched.
    assert!(
        page.html()
            .contains("ブロッキングペアも規則違反もありません"),
        "{}",
        page.html()
    );
    assert!(page.html().contains("rm-talent 3"));

    // A manual change: t1 off a, t3 on a. t1 and a would both rather be together.
    let adjust = format!("{}/adjust", manage(slug, round));
    let mut form = page.form(&adjust);
    form.set("action", "remove")
        .set("talent", &t1.to_string())
        .set("project", &a.to_string())
        .set("reason", "");
    let res = form.submit(&client).await;
    assert_eq!(res.status(), 422);
    let page = Page::read(res).await;
    assert!(error_summary(&page).contains("理由"));
    let mut form = page.form(&adjust);
    form.set("reason", "本人から辞退の申し出");
    assert_eq!(form.submit(&client).await.status(), 303);
    let page = app.open(&client, &manage(slug, round)).await;
    let mut form = page.form(&adjust);
    form.set("action", "add")
        .set("talent", &t3.to_string())
        .set("project", &a.to_string())
        .set("reason", "受入先と面談済み");
    assert_eq!(form.submit(&client).await.status(), 303);
    // Adding a second pair for t3 is refused on the talent's field.
    let page = app.open(&client, &manage(slug, round)).await;
    let mut form = page.form(&adjust);
    form.set("action", "add")
        .set("talent", &t3.to_string())
        .set("project", &b.to_string())
        .set("reason", "重複");
    assert_eq!(form.submit(&client).await.status(), 422);
    let page = app.open(&client, &manage(slug, round)).await;
    // t1 and a rank each other first; t0 and a also prefer each other to b and t3.
    assert!(
        page.html().contains("ブロッキングペアが2組"),
        "{}",
        page.html()
    );
    assert!(page.html().contains("本人から辞退の申し出"));
    assert!(
        page.html().contains("現在の組み合わせには"),
        "publish warns"
    );

    // Publish: a mail to each entrant and to the host's member.
    let _member = host_member(app, slug, host, "rm-host@example.jp").await;
    move_to(app, &client, slug, round, "published").await;
    assert_eq!(status_of(app, slug, round).await, RoundStatus::Published);
    assert_eq!(outbox_count(app, "round_matched").await, 3);
    assert_eq!(outbox_count(app, "round_unmatched").await, 1);
    // The host's member hears of each of its three projects.
    assert_eq!(outbox_count(app, "round_host_matched").await, 3);
    // No more adjustments once published.
    let page = app.open(&client, &manage(slug, round)).await;
    assert!(
        page.forms()
            .iter()
            .all(|f| !f.action().path().ends_with("/adjust"))
    );

    // The second phase waits for every answer.
    let second = format!("{}/second-phase", manage(slug, round));
    assert!(
        page.html()
            .contains("すべての組み合わせに双方が回答してから")
    );
    assert!(page.forms().iter().all(|f| f.action().path() != second));
    answer_all(app, slug, round).await;
    let page = app.open(&client, &manage(slug, round)).await;
    // A bad length is named; then it starts.
    let mut form = page.form(&second);
    form.set("offer_minutes", "0");
    let res = form.submit(&client).await;
    assert_eq!(res.status(), 422);
    let page = Page::read(res).await;
    assert!(error_summary(&page).contains("1回の長さ"));
    let mut form = page.form(&second);
    form.set("offer_minutes", "60");
    assert_eq!(form.submit(&client).await.status(), 303);
    assert_eq!(status_of(app, slug, round).await, RoundStatus::SecondPhase);
    let page = app.open(&client, &manage(slug, round)).await;
    assert!(page.html().contains("第1回／全3回"), "{}", page.html());

    // Every step is in the audit log.
    let audit = app.dump_database().await;
    for action in [
        "round_created",
        "round_edited",
        "round_status_changed",
        "round_solved",
        "round_adjusted",
    ] {
        assert!(audit.contains(action), "{action}");
    }
}

async fn a_manual_round_is_paired_by_hand_and_checked(app: &TestApp) {
    let slug = "kamaishi";
    let client = coordinator(app, slug, "rm-manual@example.jp").await;
    program(app, &client, slug).await;
    let host = make_host(app, slug, "漁協", "032115", true).await;
    let p = make_project(app, slug, host, "水産加工の販路", "public", true).await;
    let round = create_round(app, &client, slug, "小さなマッチング", "manual").await;
    assert_eq!(
        seats(app, &client, slug, round, &[(p, "1")]).await.status(),
        303
    );
    move_to(app, &client, slug, round, "open").await;
    let talents: Vec<AccountId> = people(app, slug, "rm-manual-t", 2)
        .await
        .iter()
        .map(|p| p.id)
        .collect();
    enter_and_rank(
        app,
        slug,
        round,
        &[(talents[0], vec![]), (talents[1], vec![])],
        &[],
    )
    .await;
    move_to(app, &client, slug, round, "closed").await;
    let page = app.open(&client, &manage(slug, round)).await;
    assert!(
        page.forms()
            .iter()
            .all(|f| !f.action().path().ends_with("/solve")),
        "no engine in manual mode"
    );
    let mut form = page.form(&format!("{}/adjust", manage(slug, round)));
    form.set("action", "add")
        .set("talent", &talents[1].to_string())
        .set("project", &p.to_string())
        .set("reason", "面談で合意");
    assert_eq!(form.submit(&client).await.status(), 303);
    let page = app.open(&client, &manage(slug, round)).await;
    // Nobody listed anybody: the check says the pair is on neither list.
    assert!(
        page.html().contains("どちらの希望にもない組み合わせ"),
        "{}",
        page.html()
    );
    move_to(app, &client, slug, round, "published").await;
    assert_eq!(outbox_count(app, "round_matched").await, 1);
    assert_eq!(outbox_count(app, "round_unmatched").await, 1);
}

async fn publishing_twice_at_once_mails_everyone_once(app: &TestApp) {
    let slug = "iwate";
    let client = coordinator(app, slug, "rm-race@example.jp").await;
    program(app, &client, slug).await;
    let host = make_host(app, slug, "酒蔵", "032051", true).await;
    let p = make_project(app, slug, host, "酒蔵の英語案内", "public", true).await;
    let round = create_round(app, &client, slug, "同時公表", "engine").await;
    assert_eq!(
        seats(app, &client, slug, round, &[(p, "2")]).await.status(),
        303
    );
    move_to(app, &client, slug, round, "open").await;
    let talents: Vec<AccountId> = people(app, slug, "rm-race-t", 3)
        .await
        .iter()
        .map(|p| p.id)
        .collect();
    let lists: Vec<(AccountId, Vec<ProjectId>)> = talents.iter().map(|t| (*t, vec![p])).collect();
    enter_and_rank(app, slug, round, &lists, &[(p, talents.clone())]).await;
    move_to(app, &client, slug, round, "closed").await;
    let page = app.open(&client, &manage(slug, round)).await;
    page.form(&format!("{}/solve", manage(slug, round)))
        .submit(&client)
        .await;
    let page = app.open(&client, &manage(slug, round)).await;
    let form = status_form(&page, "published");
    let (x, y) = tokio::join!(form.submit(&client), form.submit(&client));
    let mut codes = [x.status().as_u16(), y.status().as_u16()];
    codes.sort_unstable();
    assert_eq!(codes, [303, 409]);
    assert_eq!(outbox_count(app, "round_matched").await, 2);
    assert_eq!(outbox_count(app, "round_unmatched").await, 1);
}

async fn nobody_outside_the_tenants_staff_reaches_a_round_route(app: &TestApp) {
    let client = coordinator(app, "iwate", "rm-wall@example.jp").await;
    program(app, &client, "iwate").await;
    let round = create_round(app, &client, "iwate", "壁", "engine").await;
    let page = app.open(&client, &manage("iwate", round)).await;
    let mut forms: Vec<_> = page.forms();
    forms.push(
        app.open(&client, "/t/iwate/rounds")
            .await
            .form("/t/iwate/rounds"),
    );
    assert!(forms.len() >= 4);
    // The routes a draft's page has no form for yet, with the coordinator's token.
    for route in ["solve", "adjust", "second-phase"] {
        let mut f = forms[0].clone();
        f.retarget(&format!("{}/{route}", manage("iwate", round)));
        forms.push(f);
    }

    let other = coordinator(app, "kamaishi", "rm-other@example.jp").await;
    program(app, &other, "kamaishi").await;
    let (talent, _) = person(app, "人材", "rm-talent-wall@example.jp").await;
    let stranger = app.client();
    // Another tenant's coordinator, by this tenant's slug and by their own slug
    // with this tenant's round id; a talent; a stranger.
    for who in [&other, &talent] {
        assert_eq!(app.status(who, "/t/iwate/rounds").await, 404);
        assert_eq!(app.status(who, &manage("iwate", round)).await, 404);
        for f in &forms {
            let res = f.submit(who).await;
            assert_eq!(res.status(), 404, "{}", f.action());
        }
    }
    assert_eq!(app.status(&other, &manage("kamaishi", round)).await, 404);
    // Their own CSRF token under their own slug, with this tenant's round id: only
    // the tenant boundary can refuse it.
    let other_csrf = app
        .open(&other, "/t/kamaishi/rounds")
        .await
        .form("/t/kamaishi/rounds")
        .value("csrf")
        .unwrap();
    for f in &forms {
        let path = f.action().path().to_owned();
        let res = f.submit(&stranger).await;
        assert_eq!(res.status(), 303, "signed out {path}");
        if path == "/t/iwate/rounds" {
            continue;
        }
        let mut cross = f.clone();
        cross
            .retarget(&path.replace("/t/iwate/", "/t/kamaishi/"))
            .forge("csrf", &other_csrf);
        assert_eq!(cross.submit(&other).await.status(), 404, "cross {path}");
    }
    let res = stranger
        .get(app.url(&manage("iwate", round)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert!(
        res.headers()["location"]
            .to_str()
            .unwrap()
            .contains("/signin")
    );
    assert_eq!(status_of(app, "iwate", round).await, RoundStatus::Draft);
}
