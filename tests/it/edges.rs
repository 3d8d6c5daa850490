//! What the restructured edge promises, tried as a careless person, a stranger and
//! an attacker would: pages fail as pages in the person's language, the API as JSON;
//! the tenant and the permission are checked before anything of a tenant shows;
//! mistakes in forms are field errors that lose nothing and store nothing.

use yui_authz::Role;

use crate::accounts::sign_in;
use crate::staff::{grant, person};
use crate::support::{Page, TestApp, on_both_backends};

on_both_backends!(
    TestApp::with_tenants =>
    page_errors_are_html_pages_in_the_persons_language,
    a_suspended_tenant_answers_503_and_strangers_learn_nothing,
    inviting_with_a_past_date_or_a_refused_address_stores_nothing,
    the_last_admin_stays,
    sign_in_returns_where_the_person_was_going_and_nowhere_else,
    parallel_invites_of_one_address_leave_one_open_invitation,
    a_database_outage_is_503_never_404,
    the_confirmation_mail_can_be_sent_again_once_in_a_while,
    the_home_page_follows_changes_made_elsewhere,
    two_admins_removing_each_other_leave_one,
    reinviting_the_last_admin_with_an_end_is_refused,
    a_burst_of_link_requests_sends_one_mail,
    the_api_answers_json_whatever_goes_wrong,
);

async fn page_errors_are_html_pages_in_the_persons_language(app: &TestApp) {
    // Unknown path and unknown tenant: the HTML 404 page, Japanese by default.
    for path in ["/nope", "/t/nope/", "/t/nope/staff"] {
        let res = app.get(path).await;
        let status = res.status();
        let kind = res
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let html = res.text().await.unwrap();
        assert!(
            status == 404 || (path == "/t/nope/staff" && status == 303),
            "{path}: {status}"
        );
        if status == 404 {
            assert!(kind.starts_with("text/html"), "{path}: {kind}");
            assert!(html.contains("<html lang=\"ja\""), "{path}");
        }
    }
    let res = app
        .client()
        .get(app.url("/t/nope/?lang=en"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert!(res.text().await.unwrap().contains("<html lang=\"en\""));

    // A signed-in person sees their own header on the 404 page.
    let (hanako, _) = person(app, "花子", "hanako@example.jp").await;
    let html = app.page(&hanako, "/t/nope/").await;
    assert!(html.contains("花子") && !html.contains("href=\"/signup\""));

    // A form without its CSRF token: 403 as a page, nothing done.
    let res = app
        .open(&hanako, "/account")
        .await
        .form("/account")
        .set("display_name", "改ざん")
        .remove("csrf")
        .submit(&hanako)
        .await;
    assert_eq!(res.status(), 403);
    assert!(res.text().await.unwrap().contains("<!DOCTYPE html>"));
    assert!(app.page(&hanako, "/account").await.contains("花子"));

    // A path id that is not a number (axum's own rejection) is a page too.
    let (admin, admin_id) = person(app, "釜石 管理者", "admin@kamaishi.example").await;
    let own = grant(app, admin_id, Role::TenantAdmin, Some("kamaishi")).await;
    let res = app
        .open(&admin, "/t/kamaishi/staff")
        .await
        .form(&format!("/t/kamaishi/staff/{own}/revoke"))
        .retarget("/t/kamaishi/staff/abc/revoke")
        .submit(&admin)
        .await;
    assert_eq!(res.status(), 400);
    let kind = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(kind.starts_with("text/html"), "{kind}");

    // The API keeps answering JSON.
    let res = app.get("/api/v1/tenants/kamaishi/staff").await;
    assert_eq!(res.status(), 401);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "unauthorized");
}

async fn a_suspended_tenant_answers_503_and_strangers_learn_nothing(app: &TestApp) {
    let (admin, admin_id) = person(app, "釜石 管理者", "admin@kamaishi.example").await;
    grant(app, admin_id, Role::TenantAdmin, Some("kamaishi")).await;
    let (iwate_admin, iwate_id) = person(app, "岩手 管理者", "admin@iwate.example").await;
    grant(app, iwate_id, Role::TenantAdmin, Some("iwate")).await;
    let (ops, ops_id) = person(app, "運営", "ops@yui.example").await;
    grant(app, ops_id, Role::PlatformOperator, None).await;
    let res = app
        .open(&admin, "/account/tokens")
        .await
        .form("/account/tokens")
        .set("token_name", "集計")
        .set("tenant", "kamaishi")
        .submit(&admin)
        .await;
    assert_eq!(res.status(), 201);
    let token = crate::tokens::token_in(&res.text().await.unwrap());
    let res = app
        .open(&ops, "/ops/tenants/kamaishi")
        .await
        .form("/ops/tenants/kamaishi/suspend")
        .submit(&ops)
        .await;
    assert_eq!(res.status(), 303);
    // Its staff list through the API is as closed as its pages.
    let res = app
        .client()
        .get(app.url("/api/v1/tenants/kamaishi/staff"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "suspended");
    // No new token for it is offered, nor its pages on the account page.
    let tokens_page = app.page(&admin, "/account/tokens").await;
    assert!(!tokens_page.contains(r#"value="kamaishi""#), "not offered");
    assert!(
        tokens_page.contains("釜石市は運営により一時停止中のため"),
        "and the page says why"
    );
    assert!(
        !app.page(&admin, "/account")
            .await
            .contains("/t/kamaishi/staff")
    );
    for path in [
        "/t/kamaishi/",
        "/t/kamaishi/logo.svg",
        "/t/kamaishi/theme.css",
    ] {
        assert_eq!(app.get(path).await.status(), 503, "{path}");
    }
    // Its own admin is told it is suspended; another tenant's admin, as for any
    // tenant they hold nothing in, gets 404 — not even the suspension shows.
    assert_eq!(app.status(&admin, "/t/kamaishi/staff").await, 503);
    assert_eq!(app.status(&iwate_admin, "/t/kamaishi/staff").await, 404);
    assert_eq!(app.status(&iwate_admin, "/t/kamaishi/audit").await, 404);
}

async fn inviting_with_a_past_date_or_a_refused_address_stores_nothing(app: &TestApp) {
    let (admin, admin_id) = person(app, "釜石 管理者", "admin@kamaishi.example").await;
    grant(app, admin_id, Role::TenantAdmin, Some("kamaishi")).await;
    let yesterday = (app.now().with_timezone(&yui_domain::fiscal::tokyo())
        - chrono::Duration::days(1))
    .date_naive()
    .to_string();
    let cases = [
        (
            "new.person@example.jp",
            yesterday.as_str(),
            "until",
            "今日より後の日付",
        ),
        ("x@evil.example@example.jp", "", "email", "メールアドレス"),
        ("<script>@example.jp", "", "email", "メールアドレス"),
    ];
    for (email, until, field, words) in cases {
        let mut form = app
            .open(&admin, "/t/kamaishi/staff")
            .await
            .form("/t/kamaishi/staff");
        form.set("email", email).set("role", "coordinator");
        if !until.is_empty() {
            form.set("until", until);
        }
        let res = form.submit(&admin).await;
        assert_eq!(res.status(), 422, "{email}");
        let html = res.text().await.unwrap();
        assert!(
            html.contains(&format!("href=\"#f-{field}\"")),
            "{email}: {field}"
        );
        assert!(html.contains(words), "{email}");
        assert!(!html.contains("<script>@"), "hostile text is escaped");
        // What was typed is kept.
        let shown = email.replace('<', "&lt;").replace('>', "&gt;");
        assert!(html.contains(&shown), "{email} kept");
        // Nothing was stored: no account, no grant, no mail.
        if let Ok(e) = yui_domain::account::Email::parse("email", email) {
            assert!(
                crate::support::account_by_email(&app.store, &e)
                    .await
                    .is_none(),
                "{email}"
            );
        }
    }
    let grants = yui_authz::list_grants(&app.store, Some("kamaishi"))
        .await
        .unwrap();
    assert_eq!(grants.len(), 1, "only the admin's own grant");
    let mails = app.sink.inbox().messages();
    assert!(
        mails
            .iter()
            .all(|m| !m.rcpt_to.iter().any(|r| r.contains("new.person")))
    );
}

async fn the_last_admin_stays(app: &TestApp) {
    let (admin, admin_id) = person(app, "釜石 管理者", "admin@kamaishi.example").await;
    let own = grant(app, admin_id, Role::TenantAdmin, Some("kamaishi")).await;
    let revoke_own = format!("/t/kamaishi/staff/{own}/revoke");
    let res = app
        .open(&admin, "/t/kamaishi/staff")
        .await
        .form(&revoke_own)
        .submit(&admin)
        .await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("最後の管理者"));
    assert_eq!(app.status(&admin, "/t/kamaishi/staff").await, 200);
    // With a second admin, the first may step down.
    let (_, second) = person(app, "二人目", "second@kamaishi.example").await;
    grant(app, second, Role::TenantAdmin, Some("kamaishi")).await;
    // Stepping down is one's own role: it is confirmed on a page of its own first.
    let res = app
        .open(&admin, "/t/kamaishi/staff")
        .await
        .form(&revoke_own)
        .submit(&admin)
        .await;
    assert_eq!(res.status(), 200);
    let res = Page::read(res).await.form(&revoke_own).submit(&admin).await;
    assert_eq!(res.status(), 303);
    assert_eq!(app.status(&admin, "/t/kamaishi/staff").await, 404);
}

async fn sign_in_returns_where_the_person_was_going_and_nowhere_else(app: &TestApp) {
    let (admin, admin_id) = person(app, "釜石 管理者", "admin@kamaishi.example").await;
    grant(app, admin_id, Role::TenantAdmin, Some("kamaishi")).await;
    drop(admin);
    let client = app.client();
    let res = client
        .get(app.url("/t/kamaishi/staff"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(to, "/signin?next=%2Ft%2Fkamaishi%2Fstaff");
    // The sign-in page carries `next` in its form; signing in goes there.
    let page = app.open(&client, &to).await;
    let mut form = page.form("/signin");
    assert_eq!(form.value("next").as_deref(), Some("/t/kamaishi/staff"));
    let res = form
        .set("email", "admin@kamaishi.example")
        .set("password", "a passphrase long enough")
        .submit(&client)
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/t/kamaishi/staff");
    // Another site, a scheme-relative path or a control character: to the account page.
    for next in [
        "//evil.example",
        "https://evil.example",
        "/\t/evil.example",
        "/\\evil.example",
    ] {
        let client = app.client();
        let res = app
            .open(&client, "/signin?next=%2Faccount")
            .await
            .form("/signin")
            .set("email", "admin@kamaishi.example")
            .set("password", "a passphrase long enough")
            .forge("next", next)
            .submit(&client)
            .await;
        assert_eq!(res.headers()["location"], "/account", "{next:?}");
    }
    for next in [
        "/%09/evil.example",
        "%2F%2Fevil.example",
        "/%0d%0aSet-Cookie:x",
        "/%0a",
        "/%00",
        "/%7F",
        "/%5Cevil.example",
    ] {
        let res = app.get(&format!("/lang/en?next={next}")).await;
        assert_eq!(res.status(), 303, "{next}");
        assert_eq!(res.headers()["location"], "/", "{next}");
    }
    let res = sign_in(
        app,
        &app.client(),
        "admin@kamaishi.example",
        "wrong password!",
    )
    .await;
    assert_eq!(res.status(), 401);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("role=\"alert\""),
        "a refusal is an alert, not a notice"
    );
}

async fn parallel_invites_of_one_address_leave_one_open_invitation(app: &TestApp) {
    let (admin, admin_id) = person(app, "釜石 管理者", "admin@kamaishi.example").await;
    grant(app, admin_id, Role::TenantAdmin, Some("kamaishi")).await;
    let mut form = app
        .open(&admin, "/t/kamaishi/staff")
        .await
        .form("/t/kamaishi/staff");
    form.set("email", "burst@example.jp")
        .set("role", "coordinator");
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (admin, form) = (admin.clone(), form.clone());
        tasks.push(tokio::spawn(async move {
            form.submit(&admin).await.status().as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    // Invites of one tenant take turns: each replaces the open one, so one stays open
    // and no account or role exists before someone accepts.
    assert!(statuses.iter().all(|s| *s == 303), "{statuses:?}");
    let kamaishi = app.store.tenant_by_slug("kamaishi").await.unwrap().id;
    let mut tx = app.store.tenant(kamaishi).read().await.unwrap();
    let open = tx.open_invitations().await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(open.len(), 1, "one open invitation");
    let e = yui_domain::account::Email::parse("email", "burst@example.jp").unwrap();
    assert!(app.store.find_account(&e).await.unwrap().is_none());
}

async fn a_database_outage_is_503_never_404(app: &TestApp) {
    let (admin, admin_id) = person(app, "釜石 管理者", "admin@kamaishi.example").await;
    grant(app, admin_id, Role::TenantAdmin, Some("kamaishi")).await;
    app.store.close().await;
    for path in ["/", "/t/kamaishi/", "/signin?x=1"] {
        let status = app.get(path).await.status();
        assert!(
            status == 503 || (path == "/signin?x=1" && status == 200),
            "{path}: {status}"
        );
    }
    assert_eq!(app.status(&admin, "/t/kamaishi/staff").await, 503);
    assert_eq!(app.get("/readyz").await.status(), 503);
}

/// Mails the sink received for `address`, after the worker had time to deliver.
async fn mails_to(app: &TestApp, address: &str, at_least: usize) -> usize {
    let count = || {
        app.sink
            .inbox()
            .messages()
            .iter()
            .filter(|m| m.rcpt_to.iter().any(|r| r == address))
            .count()
    };
    for _ in 0..100 {
        if count() >= at_least {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // Long enough for the worker to send anything still queued.
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    count()
}

async fn the_confirmation_mail_can_be_sent_again_once_in_a_while(app: &TestApp) {
    let hanako = app.client();
    let res = crate::accounts::sign_up(
        app,
        &hanako,
        "花子",
        "hanako@example.jp",
        "a passphrase long enough",
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(mails_to(app, "hanako@example.jp", 1).await, 1);
    let again_form = app
        .open(&hanako, "/account")
        .await
        .form("/account/verify-again");
    let again = |client: reqwest::Client| {
        let form = again_form.clone();
        async move { form.submit(&client).await }
    };
    // Right after signing up: not again yet.
    let res = again(hanako.clone()).await;
    assert_eq!(res.headers()["location"], "/account?verify=recent");
    assert_eq!(mails_to(app, "hanako@example.jp", 1).await, 1);
    // Later, a burst of clicks sends one mail.
    app.advance(chrono::Duration::minutes(6));
    let burst: Vec<_> = (0..6)
        .map(|_| tokio::spawn(again(hanako.clone())))
        .collect();
    for b in burst {
        assert_eq!(b.await.unwrap().status(), 303);
    }
    assert_eq!(mails_to(app, "hanako@example.jp", 2).await, 2);
    // Its link verifies the address; the button is gone.
    let link = crate::accounts::mailed_link(app, "hanako@example.jp", "/verify?token=").await;
    let path = link.trim_start_matches(&app.url(""));
    assert_eq!(app.status(&hanako, path).await, 200);
    assert!(!app.page(&hanako, "/account").await.contains("verify-again"));
}

async fn the_home_page_follows_changes_made_elsewhere(app: &TestApp) {
    assert!(
        app.page(&app.client(), "/")
            .await
            .contains(r#"href="/t/amami/""#)
    );
    // Another node (here: the store directly, not this app) suspends Amami.
    let amami = app.store.tenant_by_slug("amami").await.unwrap().id;
    let set = |status| async move {
        let mut tx = app
            .store
            .platform(yui_store::PlatformReason::OperatorConsole)
            .write()
            .await
            .unwrap();
        tx.set_tenant_status(amami, status, app.now())
            .await
            .unwrap();
        tx.commit().await.unwrap();
    };
    set(yui_domain::TenantStatus::Suspended).await;
    assert!(
        !app.page(&app.client(), "/")
            .await
            .contains(r#"href="/t/amami/""#)
    );
    set(yui_domain::TenantStatus::Active).await;
    assert!(
        app.page(&app.client(), "/")
            .await
            .contains(r#"href="/t/amami/""#)
    );
}

async fn two_admins_removing_each_other_leave_one(app: &TestApp) {
    // Round after round, the remaining admin and a newcomer remove each other at the
    // same moment: one steps down, the other stays (a lost race would leave none).
    let (mut a, a_id) = person(app, "管理者 0", "admin0@kamaishi.example").await;
    let mut a_grant = grant(app, a_id, Role::TenantAdmin, Some("kamaishi")).await;
    for round in 1..=8 {
        let (b, b_id) = person(app, "管理者", &format!("admin{round}@kamaishi.example")).await;
        let b_grant = grant(app, b_id, Role::TenantAdmin, Some("kamaishi")).await;
        let a_form = app
            .open(&a, "/t/kamaishi/staff")
            .await
            .form(&format!("/t/kamaishi/staff/{b_grant}/revoke"));
        let b_form = app
            .open(&b, "/t/kamaishi/staff")
            .await
            .form(&format!("/t/kamaishi/staff/{a_grant}/revoke"));
        let (ra, rb) = tokio::join!(a_form.submit(&a), b_form.submit(&b));
        let (sa, sb) = (ra.status().as_u16(), rb.status().as_u16());
        let admins: Vec<_> = yui_authz::list_grants(&app.store, Some("kamaishi"))
            .await
            .unwrap()
            .into_iter()
            .filter(|g| g.role == Role::TenantAdmin && g.live_at(app.now()))
            .collect();
        assert_eq!(admins.len(), 1, "round {round}: {sa} {sb}");
        let mut statuses = [sa, sb];
        statuses.sort_unstable();
        // The loser is refused as the last admin (409), or, when the winner finished
        // before its request was authorized, no longer an admin at all (404).
        assert!(
            statuses == [303, 409] || statuses == [303, 404],
            "round {round}: {statuses:?}"
        );
        if admins[0].account_id == b_id {
            (a, a_grant) = (b, b_grant);
        }
    }
}

async fn reinviting_the_last_admin_with_an_end_is_refused(app: &TestApp) {
    let (admin, admin_id) = person(app, "釜石 管理者", "admin@kamaishi.example").await;
    grant(app, admin_id, Role::TenantAdmin, Some("kamaishi")).await;
    let next_year = (app.now() + chrono::Duration::days(365))
        .with_timezone(&yui_domain::fiscal::tokyo())
        .date_naive()
        .to_string();
    let res = app
        .open(&admin, "/t/kamaishi/staff")
        .await
        .form("/t/kamaishi/staff")
        .set("email", "admin@kamaishi.example")
        .set("role", "tenant_admin")
        .set("until", &next_year)
        .submit(&admin)
        .await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("最後の管理者"));
    let grants = yui_authz::list_grants(&app.store, Some("kamaishi"))
        .await
        .unwrap();
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].valid_until, None, "the grant is unchanged");
}

async fn a_burst_of_link_requests_sends_one_mail(app: &TestApp) {
    let (hanako, _) = person(app, "花子", "hanako@example.jp").await;
    drop(hanako);
    // The sign-up's confirmation, then one sign-in link, then one reset link.
    for (path, mails) in [("/magic", 2), ("/reset", 3)] {
        let form = {
            let c = app.client();
            let mut f = app.open(&c, path).await.form(path);
            f.set("email", "hanako@example.jp");
            (c, f)
        };
        let burst: Vec<_> = (0..6)
            .map(|_| {
                let (c, f) = (form.0.clone(), form.1.clone());
                tokio::spawn(async move { f.submit(&c).await.status().as_u16() })
            })
            .collect();
        for b in burst {
            assert_eq!(b.await.unwrap(), 200, "the same answer every time");
        }
        assert_eq!(mails_to(app, "hanako@example.jp", mails).await, mails);
        // Past the address's hourly allowance of links, which the burst used up.
        app.advance(chrono::Duration::minutes(61));
    }
}

async fn the_api_answers_json_whatever_goes_wrong(app: &TestApp) {
    for (method, path, status) in [
        ("GET", "/api/v1/nope", 404),
        ("POST", "/api/v1/tenants", 405),
        ("GET", "/api/v1/tenants/%FF/staff", 400),
    ] {
        let res = app
            .client()
            .request(method.parse().unwrap(), app.url(path))
            .bearer_auth("yui_x")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), status, "{method} {path}");
        let kind = res.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(kind.starts_with("application/json"), "{path}: {kind}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert!(
            body["error"].is_string() && body["message"].is_string(),
            "{body}"
        );
    }
}

on_both_backends!(TestApp::empty => a_megabyte_of_input_is_not_echoed_back);

/// A 1 MB e-mail address posted through the sign-up form answers a small page that
/// names the field, not a 1 MB page; what else was typed is kept.
async fn a_megabyte_of_input_is_not_echoed_back(app: &TestApp) {
    let client = app.client();
    let huge = format!("{}@example.jp", "a".repeat(1 << 20));
    let res = app
        .open(&client, "/signup")
        .await
        .form("/signup")
        .set("display_name", "長い 入力")
        .set("email", &huge)
        .set("password", "a passphrase long enough")
        .set("password_confirm", "a passphrase long enough")
        .submit(&client)
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.len() < 64 * 1024, "{} bytes", html.len());
    assert!(html.contains(r##"href="#f-email""##), "the field is named");
    assert!(html.contains("メールアドレス"));
    assert!(html.contains("長い 入力"), "the valid name is kept");
    // Up to 254 characters, a wrong value is shown again to be corrected.
    let long_but_shown = format!("{}@x", "b".repeat(251));
    let res = app
        .open(&client, "/signup")
        .await
        .form("/signup")
        .set("display_name", "長い 入力")
        .set("email", &long_but_shown)
        .set("password", "a passphrase long enough")
        .set("password_confirm", "a passphrase long enough")
        .submit(&client)
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains(&long_but_shown));
}
