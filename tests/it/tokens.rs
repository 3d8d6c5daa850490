//! Personal API tokens: shown once, stored hashed, revocable, one tenant each.

use serde_json::Value;
use yui_authz::Role;

use crate::staff::{grant, person};
use crate::support::{Page, TestApp, on_both_backends};

on_both_backends!(TestApp::with_tenants => api_tokens_work_in_their_tenant_only);

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
