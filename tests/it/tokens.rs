//! Personal API tokens: shown once, stored hashed, revocable, one tenant each.

use serde_json::Value;
use yui_authz::Role;

use crate::staff::{grant, person};
use crate::support::{Page, TestApp, on_both_backends};

on_both_backends!(
    TestApp::with_tenants =>
    api_tokens_work_in_their_tenant_only,
    a_reset_revokes_tokens_and_signing_out_everywhere_asks,
    a_childrens_grant_makes_no_token_for_a_child,
);

/// Makes a token for Kamaishi on the tokens page, as the page offers it.
async fn make_token(app: &TestApp, client: &reqwest::Client, name: &str) -> String {
    let res = app
        .open(client, "/account/tokens")
        .await
        .form("/account/tokens")
        .set("token_name", name)
        .set("tenant", "kamaishi")
        .submit(client)
        .await;
    assert_eq!(res.status(), 201);
    token_in(&res.text().await.unwrap())
}

async fn api_status(app: &TestApp, token: &str) -> u16 {
    reqwest::Client::new()
        .get(app.url("/api/v1/tenants/kamaishi/staff"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn a_reset_revokes_tokens_and_signing_out_everywhere_asks(app: &TestApp) {
    let (admin, id) = person(app, "Admin", "admin@kamaishi.example").await;
    grant(app, id, Role::TenantAdmin, Some("kamaishi")).await;
    let token = make_token(app, &admin, "夜間バッチ").await;
    // The account page lists what can act as the person.
    let account = app.open(&admin, "/account").await;
    assert!(account.html().contains("夜間バッチ"), "{}", account.html());

    // Signing out everywhere asks; left unticked, the token keeps working.
    let res = account
        .form("/account/signout-everywhere")
        .submit(&admin)
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(api_status(app, &token).await, 200);

    // A reset revokes tokens unless the person unticks the box, which is ticked.
    let browser = app.client();
    let res = app
        .open(&browser, "/reset")
        .await
        .form("/reset")
        .set("email", "admin@kamaishi.example")
        .submit(&browser)
        .await;
    assert_eq!(res.status(), 200);
    let link =
        crate::accounts::mailed_link(app, "admin@kamaishi.example", "/reset/confirm?token=").await;
    let page = Page::get(&browser, &link).await;
    let mut form = page.form("/reset/confirm");
    assert_eq!(
        form.value("revoke_tokens").as_deref(),
        Some("1"),
        "ticked by default"
    );
    let res = form
        .set("password", "a new passphrase here")
        .set("password_confirm", "a new passphrase here")
        .submit(&browser)
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(api_status(app, &token).await, 401);
    let kamaishi = app.store.tenant_by_slug("kamaishi").await.unwrap().id;
    let audit = crate::support::audit_entries(&app.store, Some(kamaishi), 5)
        .await
        .unwrap();
    assert_eq!(audit[0].action, "token_revoked");

    // Ticked when signing out everywhere, the tokens go too.
    let again = app.client();
    assert_eq!(
        crate::accounts::sign_in(
            app,
            &again,
            "admin@kamaishi.example",
            "a new passphrase here"
        )
        .await
        .status(),
        303
    );
    let second = make_token(app, &again, "二本目").await;
    assert_eq!(api_status(app, &second).await, 200);
    let res = app
        .open(&again, "/account")
        .await
        .form("/account/signout-everywhere")
        .check("revoke_tokens")
        .submit(&again)
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(api_status(app, &second).await, 401);
    assert_eq!(app.status(&again, "/account").await, 303);
}

async fn a_childrens_grant_makes_no_token_for_a_child(app: &TestApp) {
    // Iwate's administrator reads its municipalities' figures through a children's
    // grant; that is no role in Kamaishi, so no token for it.
    let (admin, id) = person(app, "岩手 管理者", "admin@iwate.example").await;
    let g = yui_authz::NewGrant {
        account_id: id,
        role: Role::TenantAdmin,
        scope: yui_authz::Scope::Children,
        tenant: Some("iwate".to_owned()),
        valid_until: None,
        granted_by: None,
    };
    app.authz.grant(&app.store, &g, app.now()).await.unwrap();
    let page = app.open(&admin, "/account/tokens").await;
    assert!(!page.html().contains(r#"value="kamaishi""#));
    let csrf = app
        .open(&admin, "/account")
        .await
        .form("/account")
        .value("csrf")
        .unwrap();
    let res = admin
        .post(app.url("/account/tokens"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("token_name", "子"),
            ("tenant", "kamaishi"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("地域：一覧から選んでください")
    );
}

pub fn token_in(html: &str) -> String {
    let start = html
        .find(r#"id="new-token" type="text" readonly value=""#)
        .expect("the new token")
        + r#"id="new-token" type="text" readonly value=""#.len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

async fn api_tokens_work_in_their_tenant_only(app: &TestApp) {
    let (admin, id) = person(app, "Admin", "admin@kamaishi.example").await;
    grant(app, id, Role::TenantAdmin, Some("kamaishi")).await;

    // Only tenants the account holds a role in can be chosen: the page offers no other,
    // and a forged one is refused.
    let res = app
        .open(&admin, "/account/tokens")
        .await
        .form("/account/tokens")
        .set("token_name", "CSV")
        .forge("tenant", "iwate")
        .submit(&admin)
        .await;
    assert_eq!(res.status(), 422);
    let page = Page::read(res).await;
    assert!(page.html().contains("地域：一覧から選んでください"));

    let res = page
        .form("/account/tokens")
        .set("token_name", "集計スクリプト")
        .set("tenant", "kamaishi")
        .submit(&admin)
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let token = token_in(&res.text().await.unwrap());
    assert!(token.starts_with("yui_"));
    // Shown once: the list never shows it again, and the database holds only its hash.
    let page = app.page(&admin, "/account/tokens").await;
    assert!(page.contains("集計スクリプト") && !page.contains(&token));

    let api = reqwest::Client::new();
    let res = api
        .get(app.url("/api/v1/tenants/kamaishi/staff"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let staff: Vec<Value> = res.json().await.unwrap();
    assert_eq!(staff[0]["email"], "admin@kamaishi.example");
    assert_eq!(staff[0]["role"], "tenant_admin");
    // Another tenant, even a sibling under the same prefecture: 404, nothing of it.
    for other in ["iwate", "ichinoseki", "amami", "atlantis"] {
        let res = api
            .get(app.url(&format!("/api/v1/tenants/{other}/staff")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{other}");
        assert_eq!(
            res.json::<Value>().await.unwrap()["error"],
            serde_json::json!("not_found")
        );
    }
    let res = api
        .get(app.url("/api/v1/tenants/kamaishi/staff"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    let res = api
        .get(app.url("/api/v1/tenants/kamaishi/staff"))
        .bearer_auth("yui_forged")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    // Someone else cannot revoke it, even with the admin's own revoke form (sent with
    // a token of theirs).
    let (other, _) = person(app, "Other", "other@example.jp").await;
    let tokens = {
        let mut tx = app.store.account(id).read().await.unwrap();
        let t = tx.api_tokens().await.unwrap();
        tx.commit().await.unwrap();
        t
    };
    let revoke_path = format!("/account/tokens/{}/revoke", tokens[0].id);
    let revoke = app.open(&admin, "/account/tokens").await.form(&revoke_path);
    let other_token = app
        .open(&other, "/account")
        .await
        .form("/signout")
        .value("csrf")
        .unwrap();
    let res = revoke
        .clone()
        .forge("csrf", &other_token)
        .submit(&other)
        .await;
    assert_eq!(res.status(), 404);
    // A page for a person, not JSON, and nothing of the token.
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = res.text().await.unwrap();
    assert!(html.contains("<html") && !html.contains("集計スクリプト"));
    assert_eq!(
        api.get(app.url("/api/v1/tenants/kamaishi/staff"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let res = app
        .open(&admin, "/account/tokens")
        .await
        .form(&revoke_path)
        .submit(&admin)
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        api.get(app.url("/api/v1/tenants/kamaishi/staff"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );

    let actions: Vec<String> = crate::support::audit_entries(&app.store, None, 20)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    for a in ["token_created", "token_used", "token_revoked"] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
}
