//! Staff management, the operator console, and the isolation matrix: every route ×
//! role × own/other tenant, including accounts named like roles and patterns.

use yui_authz::{NewGrant, Role, Scope};

use crate::accounts::sign_up;
use crate::support::{Page, TestApp, on_both_backends};

on_both_backends!(
    TestApp::with_tenants =>
    tenant_admin_invites_lists_and_revokes_staff,
    operator_suspends_and_resumes_a_tenant,
    isolation_matrix,
    grants_end_on_their_own
);

/// Signs up an account and returns its browser and id.
pub async fn person(
    app: &TestApp,
    name: &str,
    email: &str,
) -> (reqwest::Client, yui_domain::AccountId) {
    let client = app.client();
    assert_eq!(
        sign_up(app, &client, name, email, "a passphrase long enough")
            .await
            .status(),
        303,
        "{email}"
    );
    let e = yui_domain::account::Email::parse("email", email).unwrap();
    let id = crate::support::account_by_email(&app.store, &e)
        .await
        .unwrap()
        .id;
    // As if they had followed the confirmation mail: roles attach only to proven
    // addresses.
    let mut tx = app.store.account(id).write().await.unwrap();
    tx.mark_email_verified(app.now()).await.unwrap();
    tx.commit().await.unwrap();
    (client, id)
}

pub async fn grant(
    app: &TestApp,
    account_id: yui_domain::AccountId,
    role: Role,
    tenant: Option<&str>,
) -> yui_domain::GrantId {
    let scope = if role == Role::PlatformOperator {
        Scope::Global
    } else {
        Scope::Tenant
    };
    let g = NewGrant {
        account_id,
        role,
        scope,
        tenant: tenant.map(str::to_owned),
        valid_until: None,
        granted_by: None,
    };
    app.authz.grant(&app.store, &g, app.now()).await.unwrap().id
}

async fn tenant_admin_invites_lists_and_revokes_staff(app: &TestApp) {
    let (admin, admin_id) = person(app, "釜石 管理者", "admin@kamaishi.example").await;
    grant(app, admin_id, Role::TenantAdmin, Some("kamaishi")).await;
    let html = app.page(&admin, "/t/kamaishi/staff").await;
    assert!(html.contains("admin@kamaishi.example"));

    // Bad input names the field and keeps what was typed. (The page offers no
    // platform role, and a date field holds only real dates: those two are forged.)
    let res = app
        .open(&admin, "/t/kamaishi/staff")
        .await
        .form("/t/kamaishi/staff")
        .set("email", "new-coordinator@example")
        .forge("role", "platform_operator")
        .forge("until", "2027-02-30")
        .submit(&admin)
        .await;
    assert_eq!(res.status(), 422);
    let page = Page::read(res).await;
    let html = page.html();
    assert!(html.contains("メールアドレス：メールアドレスの形式が正しくありません"));
    assert!(html.contains("役割：一覧から選んでください"));
    assert!(html.contains("有効期限（任意）：日付の形式が正しくありません"));
    assert!(html.contains(r#"value="new-coordinator@example""#));

    // A contractor's coordinator until the fiscal year's end: a new account, invited by
    // mail, corrected on the page that named the problems.
    let res = page
        .form("/t/kamaishi/staff")
        .set("email", "coord@contractor.example")
        .set("role", "coordinator")
        .set("until", "2027-03-31")
        .submit(&admin)
        .await;
    assert_eq!(res.status(), 303);
    let mail = app
        .sink
        .inbox()
        .wait_for_mail_to(
            "coord@contractor.example",
            std::time::Duration::from_secs(20),
        )
        .await
        .unwrap();
    assert!(
        mail.header("from")
            .unwrap()
            .contains("kamaishi@mail.yui.example"),
        "the tenant's sender"
    );
    let link = mail
        .links()
        .into_iter()
        .find(|l| l.contains("/t/kamaishi/invitation?token="))
        .expect("a link to accept the invitation");
    assert!(link.starts_with(&app.url("/")));
    // The link's page says who invites whom, where, in which role, until when.
    let invitee = app.client();
    let path = link.trim_start_matches(&app.url(""));
    let page = app.open(&invitee, path).await;
    let html = page.html();
    assert!(
        html.contains("釜石市")
            && html.contains("事務局（コーディネーター）")
            && html.contains("2027年3月31日"),
        "{html}"
    );
    // Until it is accepted there is no role, only an open invitation on the list.
    assert!(
        yui_authz::list_grants(&app.store, Some("kamaishi"))
            .await
            .unwrap()
            .iter()
            .all(|g| g.role != Role::Coordinator)
    );
    let staff_html = app.page(&admin, "/t/kamaishi/staff").await;
    assert!(
        staff_html.contains("承諾待ちの招待") && staff_html.contains("coord@contractor.example")
    );
    // A changed token, or the token under another region's path, shows nothing.
    let forged = path.replace("token=", "token=x");
    let elsewhere = path.replace("/t/kamaishi/", "/t/iwate/");
    for bad in [forged.as_str(), elsewhere.as_str()] {
        let res = invitee.get(app.url(bad)).send().await.unwrap();
        assert_eq!(res.status(), 400, "{bad}");
        assert!(!res.text().await.unwrap().contains("釜石市"));
    }
    // Choosing a name and a password there accepts it, and signs the person in.
    let res = page
        .form("/t/kamaishi/invitation")
        .set("display_name", "事務局 花子")
        .set("password", "a passphrase long enough")
        .set("password_confirm", "a passphrase long enough")
        .submit(&invitee)
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/account?joined=1");
    let html = app.page(&invitee, "/account?joined=1").await;
    assert!(
        html.contains("招待を承諾しました") && html.contains("釜石市"),
        "{html}"
    );
    // The link is used up.
    let res = app.client().get(app.url(path)).send().await.unwrap();
    assert_eq!(res.status(), 400);
    let res = crate::accounts::sign_in(
        app,
        &invitee,
        "coord@contractor.example",
        "a passphrase long enough",
    )
    .await;
    assert_eq!(res.status(), 303);
    let html = app.page(&admin, "/t/kamaishi/staff").await;
    assert!(
        html.contains("coord@contractor.example") && html.contains("2027年3月31日"),
        "{html}"
    );

    let grants = yui_authz::list_grants(&app.store, Some("kamaishi"))
        .await
        .unwrap();
    let coord = grants.iter().find(|g| g.role == Role::Coordinator).unwrap();
    let res = app
        .open(&admin, "/t/kamaishi/staff")
        .await
        .form(&format!("/t/kamaishi/staff/{}/revoke", coord.id))
        .submit(&admin)
        .await;
    assert_eq!(res.status(), 303);
    let html = app.page(&admin, "/t/kamaishi/staff").await;
    assert!(!html.contains("coord@contractor.example"));
    let audit = crate::support::audit_entries(
        &app.store,
        Some(app.store.tenant_by_slug("kamaishi").await.unwrap().id),
        10,
    )
    .await
    .unwrap();
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(actions, ["role_revoked", "role_granted", "invitation_sent"]);
    let page = app.page(&admin, "/t/kamaishi/audit").await;
    assert!(page.contains("役割の解除") && page.contains("admin@kamaishi.example"));
    assert!(
        !page.contains("sign_up"),
        "platform events are not a tenant's"
    );
}

async fn operator_suspends_and_resumes_a_tenant(app: &TestApp) {
    let (ops, ops_id) = person(app, "運営", "ops@yui.example").await;
    grant(app, ops_id, Role::PlatformOperator, None).await;
    let (admin, admin_id) = person(app, "Admin", "admin@kamaishi.example").await;
    grant(app, admin_id, Role::TenantAdmin, Some("kamaishi")).await;
    let html = app.page(&ops, "/ops/").await;
    assert!(html.contains("運営コンソール") && html.contains("一部事務組合・広域連合"));
    let unions = app.page(&ops, "/ops/prefectures/unions").await;
    assert!(unions.contains("奄美群島広域事務組合"), "{unions}");
    let html = app.page(&ops, "/ops/tenants/kamaishi").await;
    assert!(
        html.contains("<dt>スタッフ数</dt><dd>1</dd>"),
        "kamaishi has one staff member"
    );

    let res = app
        .open(&ops, "/ops/tenants/kamaishi")
        .await
        .form("/ops/tenants/kamaishi/suspend")
        .submit(&ops)
        .await;
    assert_eq!(res.status(), 303);
    let res = app.get("/t/kamaishi/").await;
    assert_eq!(res.status(), 503);
    assert!(res.text().await.unwrap().contains("一時停止中"));
    // Nothing was deleted: staff and data are still there.
    assert_eq!(
        yui_authz::list_grants(&app.store, Some("kamaishi"))
            .await
            .unwrap()
            .len(),
        1
    );
    let tenants: Vec<serde_json::Value> = app.get("/api/v1/tenants").await.json().await.unwrap();
    assert!(tenants.iter().all(|t| t["slug"] != "kamaishi"));
    // The console now offers to resume it. A tenant admin who sends that form (with
    // the token of a page of their own: the suspended tenant's pages answer 503, so
    // the account page's) cannot.
    let resume = app
        .open(&ops, "/ops/tenants/kamaishi")
        .await
        .form("/ops/tenants/kamaishi/resume");
    let admin_token = app
        .open(&admin, "/account")
        .await
        .form("/account")
        .value("csrf")
        .unwrap();
    let res = resume
        .clone()
        .forge("csrf", &admin_token)
        .submit(&admin)
        .await;
    assert_eq!(res.status(), 404);

    let res = resume.submit(&ops).await;
    assert_eq!(res.status(), 303);
    assert_eq!(app.get("/t/kamaishi/").await.status(), 200);
    let actions: Vec<String> = crate::support::audit_entries(&app.store, None, 3)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert!(
        actions.contains(&"tenant_suspended".to_owned())
            && actions.contains(&"tenant_resumed".to_owned())
    );
}

async fn grants_end_on_their_own(app: &TestApp) {
    let (admin, admin_id) = person(app, "Admin", "a@kamaishi.example").await;
    let g = NewGrant {
        account_id: admin_id,
        role: Role::TenantAdmin,
        scope: Scope::Tenant,
        tenant: Some("kamaishi".into()),
        valid_until: Some(app.now() + chrono::Duration::days(1)),
        granted_by: None,
    };
    app.authz.grant(&app.store, &g, app.now()).await.unwrap();
    assert_eq!(app.status(&admin, "/t/kamaishi/staff").await, 200);
    // A day and a half later (signed in all along) the grant has ended by itself.
    for _ in 0..3 {
        app.advance(chrono::Duration::hours(11));
        assert_eq!(app.status(&admin, "/account").await, 200);
    }
    assert_eq!(app.status(&admin, "/t/kamaishi/staff").await, 404);
}

async fn isolation_matrix(app: &TestApp) {
    let (ops, ops_id) = person(app, "Operator", "ops@yui.example").await;
    grant(app, ops_id, Role::PlatformOperator, None).await;
    let (iwate_admin, id) = person(app, "Iwate admin", "admin@iwate.example").await;
    let iwate_grant = grant(app, id, Role::TenantAdmin, Some("iwate")).await;
    let (kamaishi_admin, id) = person(app, "Kamaishi admin", "admin@kamaishi.example").await;
    let kamaishi_grant = grant(app, id, Role::TenantAdmin, Some("kamaishi")).await;
    let (talent, id) = person(app, "Talent", "talent@example.jp").await;
    grant(app, id, Role::Talent, Some("kamaishi")).await;
    // Accounts named like roles and domain patterns hold nothing by their names.
    let mut hostile = Vec::new();
    for (i, name) in ["r:tenant_admin", "role::x", "*", "iwate/*", "u:1"]
        .iter()
        .enumerate()
    {
        hostile.push(person(app, name, &format!("hostile{i}@example.jp")).await.0);
    }
    let anon = app.client();

    // Who, where, what status.
    let mut cases: Vec<(&str, &reqwest::Client, &str, u16)> = vec![
        ("anon", &anon, "/t/kamaishi/staff", 303),
        ("anon", &anon, "/ops/", 303),
        ("operator", &ops, "/ops/", 200),
        ("iwate admin", &iwate_admin, "/t/iwate/staff", 200),
        ("iwate admin", &iwate_admin, "/t/kamaishi/staff", 404),
        ("iwate admin", &iwate_admin, "/t/amami/staff", 404),
        ("iwate admin", &iwate_admin, "/ops/", 404),
        ("kamaishi admin", &kamaishi_admin, "/t/kamaishi/staff", 200),
        ("kamaishi admin", &kamaishi_admin, "/t/iwate/staff", 404),
        (
            "kamaishi admin",
            &kamaishi_admin,
            "/t/ichinoseki/staff",
            404,
        ),
        ("kamaishi admin", &kamaishi_admin, "/ops/", 404),
        ("talent", &talent, "/t/kamaishi/staff", 404),
        ("talent", &talent, "/ops/", 404),
        ("anon", &anon, "/t/kamaishi/audit", 303),
        ("anon", &anon, "/ops/audit", 303),
        ("operator", &ops, "/ops/audit", 200),
        ("kamaishi admin", &kamaishi_admin, "/t/kamaishi/audit", 200),
        ("kamaishi admin", &kamaishi_admin, "/t/iwate/audit", 404),
        ("kamaishi admin", &kamaishi_admin, "/ops/audit", 404),
        ("iwate admin", &iwate_admin, "/t/iwate/audit", 200),
        ("iwate admin", &iwate_admin, "/t/ichinoseki/audit", 404),
        ("talent", &talent, "/t/kamaishi/audit", 404),
    ];
    for h in &hostile {
        cases.push(("hostile", h, "/t/iwate/audit", 404));
        cases.push(("hostile", h, "/ops/audit", 404));
        cases.push(("hostile", h, "/t/iwate/staff", 404));
        cases.push(("hostile", h, "/t/kamaishi/staff", 404));
        cases.push(("hostile", h, "/ops/", 404));
    }
    for (who, client, path, expected) in &cases {
        let res = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status().as_u16(), *expected, "{who} GET {path}");
        let body = res.text().await.unwrap();
        if *expected == 404 {
            for secret in [
                "admin@iwate.example",
                "admin@kamaishi.example",
                "talent@example.jp",
            ] {
                assert!(!body.contains(secret), "{who} GET {path} leaked {secret}");
            }
        }
    }

    // Writes: the kamaishi admin's own forms, sent elsewhere. Another tenant's grant
    // through either tenant's path is unknown.
    let own = app.open(&kamaishi_admin, "/t/kamaishi/staff").await;
    let revoke = own.form(&format!("/t/kamaishi/staff/{kamaishi_grant}/revoke"));
    for path in [
        format!("/t/kamaishi/staff/{iwate_grant}/revoke"),
        format!("/t/iwate/staff/{iwate_grant}/revoke"),
    ] {
        let res = revoke.clone().retarget(&path).submit(&kamaishi_admin).await;
        assert_eq!(res.status(), 404, "kamaishi admin POST {path}");
    }
    let res = own
        .form("/t/kamaishi/staff")
        .set("email", "x@example.jp")
        .set("role", "tenant_admin")
        .retarget("/t/iwate/staff")
        .submit(&kamaishi_admin)
        .await;
    assert_eq!(res.status(), 404, "kamaishi admin cannot invite into iwate");
    let res = revoke
        .clone()
        .retarget("/ops/tenants/iwate/suspend")
        .submit(&kamaishi_admin)
        .await;
    assert_eq!(res.status(), 404);
    // Someone else sends the kamaishi admin's revoke form with their own token.
    let hostile_token = app
        .open(&hostile[3], "/account")
        .await
        .form("/signout")
        .value("csrf")
        .unwrap();
    let res = revoke
        .clone()
        .forge("csrf", &hostile_token)
        .submit(&hostile[3])
        .await;
    assert_eq!(res.status(), 404);
    // Everything is still in place.
    assert_eq!(
        yui_authz::list_grants(&app.store, Some("iwate"))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        yui_authz::list_grants(&app.store, Some("kamaishi"))
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(
        !crate::support::audit_entries(&app.store, None, 50)
            .await
            .unwrap()
            .iter()
            .any(|a| a.action.starts_with("tenant_"))
    );
}

on_both_backends!(
    TestApp::with_tenants =>
    revoking_ones_own_role_asks_first,
    an_admin_with_an_end_does_not_keep_the_tenant_alone,
);

/// An admin who presses "remove role" on their own row gets a confirmation page in
/// their language (with the way back) and loses the role only by confirming it.
async fn revoking_ones_own_role_asks_first(app: &TestApp) {
    let (me, my_id) = person(app, "Me", "me@kamaishi.example").await;
    let mine = grant(app, my_id, Role::TenantAdmin, Some("kamaishi")).await;
    let (_other, other_id) = person(app, "Other", "other@kamaishi.example").await;
    let theirs = grant(app, other_id, Role::Coordinator, Some("kamaishi")).await;
    let (_second, second_id) = person(app, "Second", "second@kamaishi.example").await;
    grant(app, second_id, Role::TenantAdmin, Some("kamaishi")).await;
    let live = || async {
        yui_authz::list_grants(&app.store, Some("kamaishi"))
            .await
            .unwrap()
            .iter()
            .filter(|g| g.live_at(app.now()))
            .map(|g| g.id)
            .collect::<Vec<_>>()
    };
    let own_path = format!("/t/kamaishi/staff/{}/revoke", mine.get());

    // In English (remembered from ?lang=en), the list marks the own row.
    let list = app.open(&me, "/t/kamaishi/staff?lang=en").await;
    assert!(list.html().contains("(you)"));
    let res = list.form(&own_path).submit(&me).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let confirm = Page::read(res).await;
    assert!(confirm.html().contains("Remove your own role?"));
    assert!(
        confirm.html().contains(r#"href="/t/kamaishi/staff""#),
        "a way back"
    );
    assert!(
        live().await.contains(&mine),
        "not revoked without confirmation"
    );
    let form = confirm.form(&own_path);
    assert!(form.value("confirm").is_some() && form.value("csrf").is_some());

    // In Japanese the same question.
    let ja = app
        .open(&me, "/t/kamaishi/staff?lang=ja")
        .await
        .form(&own_path)
        .submit(&me)
        .await;
    assert!(
        ja.text()
            .await
            .unwrap()
            .contains("ご自身の役割を外しますか")
    );

    // Another person's role goes without a question.
    let res = app
        .open(&me, "/t/kamaishi/staff")
        .await
        .form(&format!("/t/kamaishi/staff/{}/revoke", theirs.get()))
        .submit(&me)
        .await;
    assert_eq!(res.status(), 303);
    assert!(!live().await.contains(&theirs));

    let res = form.submit(&me).await;
    assert_eq!(res.status(), 303);
    assert!(!live().await.contains(&mine), "revoked once confirmed");
    assert_eq!(app.status(&me, "/t/kamaishi/staff").await, 404);
}

async fn an_admin_with_an_end_does_not_keep_the_tenant_alone(app: &TestApp) {
    // The permanent admin may not leave a tenant to an admin whose role ends tomorrow:
    // on that day nobody would administer it.
    let (me, my_id) = person(app, "Me", "me@kamaishi.example").await;
    let mine = grant(app, my_id, Role::TenantAdmin, Some("kamaishi")).await;
    let (_temp, temp_id) = person(app, "Temp", "temp@kamaishi.example").await;
    let g = yui_authz::NewGrant {
        account_id: temp_id,
        role: Role::TenantAdmin,
        scope: Scope::Tenant,
        tenant: Some("kamaishi".to_owned()),
        valid_until: Some(app.now() + chrono::Duration::days(1)),
        granted_by: None,
    };
    let temp = app.authz.grant(&app.store, &g, app.now()).await.unwrap().id;
    let own_path = format!("/t/kamaishi/staff/{}/revoke", mine.get());
    let confirm = Page::read(
        app.open(&me, "/t/kamaishi/staff")
            .await
            .form(&own_path)
            .submit(&me)
            .await,
    )
    .await;
    let res = confirm.form(&own_path).submit(&me).await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("<html"));
    // The admin with the end may go: the permanent one stays.
    let res = app
        .open(&me, "/t/kamaishi/staff")
        .await
        .form(&format!("/t/kamaishi/staff/{}/revoke", temp.get()))
        .submit(&me)
        .await;
    assert_eq!(res.status(), 303);
}
