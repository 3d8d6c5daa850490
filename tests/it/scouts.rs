//! Scouting (スカウト): a coordinator finds a pool talent and scouts them for an open
//! project through the rendered form (one mail); the talent accepts through the
//! join page with consent and lands on the project, or declines; a talent outside
//! the pool is refused; the daily limit holds under a parallel burst; another
//! tenant's coordinators and another talent get 404; leaving the pool hides the
//! talent from the tenant's list.

use yui_domain::project::{ProjectFields, ProjectStatus, Visibility};
use yui_domain::talent::{Compensation, ProjectKind};
use yui_domain::{AccountId, ProjectId};

use crate::hosts::make_host;
use crate::staff::{grant, person};
use crate::support::{Page, TestApp, on_both_backends};
use crate::talent::{join, save_profile};

on_both_backends!(
    TestApp::with_tenants =>
    a_pool_talent_is_scouted_and_accepts_by_joining_with_consent,
    a_scout_is_declined_and_others_see_nothing,
    only_pool_talents_can_be_scouted,
    the_daily_limit_holds_under_a_parallel_burst,
    members_never_hide_the_pool,
);

const HOSTILE: &str = "<script>alert('s')</script>ぜひ";

/// An open public project of a new host of `slug`.
async fn open_project(app: &TestApp, slug: &str, actor: AccountId, title: &str) -> ProjectId {
    let host = make_host(
        app,
        slug,
        &format!("{title}の会"),
        if slug == "iwate" { "032069" } else { "032115" },
        true,
    )
    .await;
    let tenant = app.store.tenant_by_slug(slug).await.unwrap();
    let fields = ProjectFields {
        title: title.to_owned(),
        challenge: "課題".to_owned(),
        help_wanted: "手伝ってほしいこと".to_owned(),
        kind: ProjectKind::Business,
        skills: Vec::new(),
        hours_per_month: None,
        months: None,
        remote_ratio: 50,
        compensation: Compensation::ProBono,
        amount_min: None,
        amount_max: None,
        location: String::new(),
        visibility: Visibility::Public,
    };
    let mut tx = app.store.tenant(tenant.id).write().await.unwrap();
    let id = tx
        .create_project(host, &fields, None, app.now())
        .await
        .unwrap();
    assert!(
        tx.transition_project(
            id,
            ProjectStatus::Draft,
            ProjectStatus::Open,
            actor,
            app.now()
        )
        .await
        .unwrap()
    );
    tx.commit().await.unwrap();
    id
}

/// A coordinator of `slug`: client and id.
async fn coordinator(app: &TestApp, slug: &str, email: &str) -> (reqwest::Client, AccountId) {
    let (client, id) = person(app, "事務局 担当", email).await;
    grant(app, id, yui_authz::Role::Coordinator, Some(slug)).await;
    (client, id)
}

/// A talent with a profile, in the shared pool or not.
async fn talent(
    app: &TestApp,
    name: &str,
    email: &str,
    pool: bool,
) -> (reqwest::Client, AccountId) {
    let (client, id) = person(app, name, email).await;
    let res = save_profile(app, &client, name, "タレント", "広報の経験", "").await;
    assert_eq!(res.status(), 303);
    if pool {
        let res = app
            .open(&client, "/me/profile")
            .await
            .form("/me/pool")
            .check("pool")
            .submit(&client)
            .await;
        assert_eq!(res.status(), 303);
    }
    (client, id)
}

/// Scouts `talent` for `project` through the rendered form.
async fn scout(
    app: &TestApp,
    client: &reqwest::Client,
    slug: &str,
    talent: AccountId,
    project: ProjectId,
    message: &str,
) -> reqwest::Response {
    let path = format!("/t/{slug}/scouts/new?talent={talent}");
    let page = app.open(client, &path).await;
    assert_eq!(page.status(), 200, "{}", page.html());
    page.form(&format!("/t/{slug}/scouts"))
        .set("project", &project.to_string())
        .set("message", message)
        .submit(client)
        .await
}

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

async fn scout_ids(app: &TestApp, talent: AccountId) -> Vec<yui_domain::ScoutId> {
    let mut tx = app.store.account(talent).read().await.unwrap();
    let ids = tx
        .my_scouts()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    tx.commit().await.unwrap();
    ids
}

async fn mails_to(app: &TestApp, address: &str, n: usize) -> usize {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let count = app
            .sink
            .inbox()
            .messages()
            .into_iter()
            .filter(|m| m.rcpt_to.iter().any(|a| a.eq_ignore_ascii_case(address)))
            .count();
        if count >= n || tokio::time::Instant::now() > deadline {
            return count;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn a_pool_talent_is_scouted_and_accepts_by_joining_with_consent(app: &TestApp) {
    let (coord, coord_id) = coordinator(app, "iwate", "coord-s@example.jp").await;
    let project = open_project(app, "iwate", coord_id, "古民家カフェの広報").await;
    let (pooled, pooled_id) = talent(app, "プール 太郎", "pooled@example.jp", true).await;

    // Found in the pool search.
    let html = app.page(&coord, "/t/iwate/scouts").await;
    assert!(html.contains("プール 太郎"), "{html}");
    assert!(html.contains(&format!("/t/iwate/scouts/new?talent={pooled_id}")));

    // Bad input names the field and keeps the rest.
    let path = format!("/t/iwate/scouts/new?talent={pooled_id}");
    let res = app
        .open(&coord, &path)
        .await
        .form("/t/iwate/scouts")
        .set("project", &project.to_string())
        .set("message", " ")
        .submit(&coord)
        .await;
    assert_eq!(res.status(), 422);
    let html = Page::read(res).await.html().to_owned();
    assert!(html.contains("メッセージ："), "{html}");

    // The address check of signing up is the first mail.
    let before = mails_to(app, "pooled@example.jp", 1).await;
    let res = scout(app, &coord, "iwate", pooled_id, project, HOSTILE).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    // One mail to the talent.
    assert_eq!(
        mails_to(app, "pooled@example.jp", before + 1).await,
        before + 1
    );
    // Scouting again for the same project while it is open is refused.
    let res = scout(app, &coord, "iwate", pooled_id, project, "もう一度").await;
    assert_eq!(res.status(), 409);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        mails_to(app, "pooled@example.jp", before + 1).await,
        before + 1,
        "one mail per scout"
    );

    // The talent sees it on the dashboard and its page, escaped.
    let ids = scout_ids(app, pooled_id).await;
    assert_eq!(ids.len(), 1);
    let dash = app.page(&pooled, "/me").await;
    assert!(dash.contains(&format!("/me/scouts/{}", ids[0])), "{dash}");
    let page = app.open(&pooled, &format!("/me/scouts/{}", ids[0])).await;
    assert_eq!(page.status(), 200);
    assert!(!page.html().contains("<script>alert"));
    assert!(page.html().contains("&lt;script&gt;"));

    // Accepting goes through the join page (consent), then to the project.
    let res = page
        .form(&format!("/me/scouts/{}/accept", ids[0]))
        .submit(&pooled)
        .await;
    assert_eq!(res.status(), 303);
    let to_join = location(&res);
    assert_eq!(to_join, format!("/t/iwate/join?scout={}", ids[0]));
    let join_page = app.open(&pooled, &to_join).await;
    assert_eq!(join_page.status(), 200);
    // Without the consent box nothing is accepted.
    let res = join_page.form("/t/iwate/join").submit(&pooled).await;
    assert_eq!(res.status(), 422);
    let res = join_page
        .form("/t/iwate/join")
        .check("consent_staff")
        .submit(&pooled)
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), format!("/t/iwate/projects/{project}"));
    let mut tx = app.store.account(pooled_id).read().await.unwrap();
    let m = tx
        .membership(app.store.tenant_by_slug("iwate").await.unwrap().id)
        .await
        .unwrap()
        .unwrap();
    assert!(m.is_live());
    let s = tx.my_scout(ids[0]).await.unwrap().unwrap();
    assert_eq!(s.status, "accepted");
    tx.commit().await.unwrap();
    // The coordinator sees it accepted.
    assert!(app.page(&coord, "/t/iwate/scouts").await.contains("承諾"));
}

async fn a_scout_is_declined_and_others_see_nothing(app: &TestApp) {
    let (coord, coord_id) = coordinator(app, "iwate", "coord-d@example.jp").await;
    let (other_coord, other_id) = coordinator(app, "kamaishi", "coord-k@example.jp").await;
    open_project(app, "kamaishi", other_id, "釜石の案件").await;
    let project = open_project(app, "iwate", coord_id, "販路開拓").await;
    let (pooled, pooled_id) = talent(app, "断る 花子", "decliner@example.jp", true).await;
    let (other_talent, _) = talent(app, "別の 人", "other-t@example.jp", true).await;
    assert_eq!(
        scout(app, &coord, "iwate", pooled_id, project, "SCOUT-MSG-1")
            .await
            .status(),
        303
    );
    let id = scout_ids(app, pooled_id).await[0];

    // Another talent and another tenant's coordinator: 404 everywhere.
    for path in [format!("/me/scouts/{id}")] {
        assert_eq!(app.status(&other_talent, &path).await, 404);
    }
    let own = app.open(&other_talent, "/me/profile").await;
    let csrf = own
        .html()
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .map(|s| s.split('"').next().unwrap().to_owned())
        .unwrap_or_default();
    for action in ["accept", "decline"] {
        let res = other_talent
            .post(app.url(&format!("/me/scouts/{id}/{action}")))
            .form(&[("csrf", csrf.clone())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{action}");
    }
    let html = app.page(&other_coord, "/t/kamaishi/scouts").await;
    assert!(!html.contains("SCOUT-MSG-1"));
    assert!(
        !html.contains("断る 花子") || html.contains("scouts/new?talent="),
        "only as a pool talent"
    );
    assert_eq!(app.status(&other_coord, "/t/iwate/scouts").await, 404);
    assert_eq!(
        app.status(
            &other_coord,
            &format!("/t/iwate/scouts/new?talent={pooled_id}")
        )
        .await,
        404
    );
    // Another tenant's project cannot be used from kamaishi.
    let res = app
        .open(
            &other_coord,
            &format!("/t/kamaishi/scouts/new?talent={pooled_id}"),
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = res
        .form("/t/kamaishi/scouts")
        .forge("project", &project.to_string())
        .set("message", "横取り")
        .submit(&other_coord)
        .await;
    assert_eq!(res.status(), 422);

    // Decline.
    let page = app.open(&pooled, &format!("/me/scouts/{id}")).await;
    let res = page
        .form(&format!("/me/scouts/{id}/decline"))
        .submit(&pooled)
        .await;
    assert_eq!(res.status(), 303);
    let html = app.page(&pooled, &format!("/me/scouts/{id}")).await;
    assert!(html.contains("辞退"));
    assert!(!html.contains(&format!("/me/scouts/{id}/accept")));
    assert!(app.page(&coord, "/t/iwate/scouts").await.contains("辞退"));

    // Leaving the pool: the tenant sees the status only.
    let res = app
        .open(&pooled, "/me/profile")
        .await
        .form("/me/pool")
        .uncheck("pool")
        .submit(&pooled)
        .await;
    assert_eq!(res.status(), 303);
    let html = app.page(&coord, "/t/iwate/scouts").await;
    assert!(!html.contains("断る 花子"), "{html}");
    assert!(!html.contains("SCOUT-MSG-1"));
    assert!(html.contains("辞退"));
}

async fn only_pool_talents_can_be_scouted(app: &TestApp) {
    let (coord, coord_id) = coordinator(app, "iwate", "coord-p@example.jp").await;
    let project = open_project(app, "iwate", coord_id, "観光企画").await;
    let (_private, private_id) = talent(app, "非公開 さん", "private@example.jp", false).await;
    let (member, member_id) = talent(app, "会員 さん", "member-s@example.jp", true).await;
    assert_eq!(join(app, &member, "iwate", false).await.status(), 303);
    let html = app.page(&coord, "/t/iwate/scouts").await;
    assert!(!html.contains("非公開 さん"));
    assert!(
        !html.contains(&format!("talent={member_id}")),
        "members are not scouted"
    );
    for id in [private_id, member_id] {
        assert_eq!(
            app.status(&coord, &format!("/t/iwate/scouts/new?talent={id}"))
                .await,
            404
        );
    }
    // A forged post for a talent outside the pool is refused too.
    let tenant = app.store.tenant_by_slug("iwate").await.unwrap();
    let mut tx = app.store.tenant(tenant.id).write().await.unwrap();
    let out = tx
        .send_scout(project, private_id, coord_id, "x", 10, app.now())
        .await
        .unwrap();
    assert_eq!(out, yui_store::ScoutOutcome::NotInPool);
    tx.rollback().await.unwrap();
    assert!(scout_ids(app, private_id).await.is_empty());
}

async fn the_daily_limit_holds_under_a_parallel_burst(app: &TestApp) {
    let (coord, coord_id) = coordinator(app, "iwate", "coord-b@example.jp").await;
    let limit = 10usize;
    let mut projects = Vec::new();
    for i in 0..3 {
        projects.push(open_project(app, "iwate", coord_id, &format!("案件{i}")).await);
    }
    let mut talents = Vec::new();
    for i in 0..5 {
        talents.push(
            talent(
                app,
                &format!("候補 {i}"),
                &format!("burst{i}@example.jp"),
                true,
            )
            .await
            .1,
        );
    }
    // 15 distinct (talent, project) pairs, sent at once through rendered forms.
    let mut forms = Vec::new();
    for t in &talents {
        for p in &projects {
            let path = format!("/t/iwate/scouts/new?talent={t}");
            let mut form = app.open(&coord, &path).await.form("/t/iwate/scouts");
            form.set("project", &p.to_string())
                .set("message", "ご検討ください");
            forms.push(form);
        }
    }
    let mut burst = tokio::task::JoinSet::new();
    for form in forms {
        let client = coord.clone();
        burst.spawn(async move { form.submit(&client).await.status().as_u16() });
    }
    let statuses: Vec<u16> = burst.join_all().await;
    let sent = statuses.iter().filter(|s| **s == 303).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(sent, limit, "{statuses:?}");
    assert_eq!(refused, 15 - limit, "{statuses:?}");
    let tenant = app.store.tenant_by_slug("iwate").await.unwrap();
    let mut tx = app.store.tenant(tenant.id).read().await.unwrap();
    assert_eq!(tx.scouts().await.unwrap().len(), limit);
    assert_eq!(
        tx.scouts_sent_today(coord_id, app.now()).await.unwrap(),
        limit as i64
    );
    tx.commit().await.unwrap();
    // The page says so.
    assert!(app.page(&coord, "/t/iwate/scouts").await.contains("10／10"));
}

/// A talent made in the store (no password, no mail): a profile, the shared pool
/// when asked, and iwate's membership when asked.
async fn stored_talent(app: &TestApp, n: usize, member: bool, pool: bool) -> AccountId {
    use yui_domain::account::Email;
    use yui_store::AccountsTx;
    let email = Email::parse("email", &format!("stored{n}@example.jp")).unwrap();
    let name = format!("会員 {n}");
    let mut tx = app
        .store
        .platform(yui_store::PlatformReason::TenantFiles)
        .write()
        .await
        .unwrap();
    let id = tx
        .create_account(
            yui_store::NewAccount {
                email: &email,
                display_name: &name,
                password_hash: None,
                locale: yui_domain::Locale::Ja,
            },
            app.now(),
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let profile = yui_domain::talent::check_profile(&yui_domain::talent::ProfileInput {
        display_name: name,
        kana: "カイイン".into(),
        residence: "13".into(),
        skills: vec!["pr".into()],
        hours_per_month: "10".into(),
        work_style: "remote".into(),
        compensation: "honorarium".into(),
        ..Default::default()
    })
    .unwrap();
    let iwate = app.store.tenant_by_slug("iwate").await.unwrap();
    let mut tx = app.store.account(id).write().await.unwrap();
    tx.save_talent_profile(&profile, app.now()).await.unwrap();
    if pool {
        tx.set_pool_opt_in(true, app.now()).await.unwrap();
    }
    if member {
        tx.join_tenant(iwate.id, &iwate.tenant.consent, false, app.now())
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    id
}

/// Members of the tenant (here 55, in the pool too, with lower ids) filling the first
/// page of the search never hide the one talent who can be scouted: members are left
/// out before the limit, not after it.
async fn members_never_hide_the_pool(app: &TestApp) {
    let (coord, _) = coordinator(app, "iwate", "coord-m@example.jp").await;
    let mut members = Vec::new();
    for n in 0..55 {
        members.push(stored_talent(app, n, true, n % 2 == 0).await);
    }
    let pooled = stored_talent(app, 99, false, true).await;
    let html = app.page(&coord, "/t/iwate/scouts").await;
    assert!(
        html.contains(&format!("/t/iwate/scouts/new?talent={pooled}")),
        "{html}"
    );
    for m in members {
        assert!(
            !html.contains(&format!("talent={m}\"")),
            "member {m} is listed: {html}"
        );
    }
}
