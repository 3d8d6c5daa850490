//! Probes, the tenant API and the OpenAPI document.

use serde_json::Value;

use crate::support::{TestApp, on_both_backends};

on_both_backends!(TestApp::empty => probes_answer);
on_both_backends!(
    TestApp::with_tenants =>
    tenants_api_lists_the_four_tenants,
    openapi_documents_every_json_endpoint,
    the_bearer_scheme_is_case_insensitive
);

async fn probes_answer(app: &TestApp) {
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "ok");
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "ready");
}

async fn tenants_api_lists_the_four_tenants(app: &TestApp) {
    let res = app.get("/api/v1/tenants").await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let list: Vec<Value> = res.json().await.unwrap();
    let slugs: Vec<&str> = list.iter().map(|t| t["slug"].as_str().unwrap()).collect();
    // Ordered by local-government code; the union (no code) last.
    assert_eq!(slugs, ["iwate", "ichinoseki", "kamaishi", "amami"]);
    let by = |slug: &str| list.iter().find(|t| t["slug"] == slug).unwrap().clone();
    let iwate = by("iwate");
    assert_eq!(iwate["names"]["ja"], "岩手県");
    assert_eq!(iwate["kind"], "prefecture");
    assert_eq!(iwate["code"], "030007");
    assert_eq!(iwate["parent"], Value::Null);
    let ichinoseki = by("ichinoseki");
    assert_eq!(ichinoseki["names"]["ja"], "一関市");
    assert_eq!(ichinoseki["code"], "032093");
    assert_eq!(ichinoseki["parent"], "iwate");
    assert_eq!(by("kamaishi")["code"], "032115");
    let amami = by("amami");
    assert_eq!(amami["kind"], "union");
    assert_eq!(amami["names"]["ja"], "奄美群島広域事務組合");
    assert_eq!(amami["code"], Value::Null);
    assert_eq!(amami["names"]["kana"], "あまみぐんとうこういきじむくみあい");
}

async fn openapi_documents_every_json_endpoint(app: &TestApp) {
    let res = app.get("/api/v1/openapi.json").await;
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/healthz",
        "/readyz",
        "/api/v1/tenants",
        "/api/v1/tenants/{slug}/staff",
        "/api/v1/tenants/{slug}/events",
    ] {
        assert!(
            paths.contains_key(path),
            "{path} missing from OpenAPI: {:?}",
            paths.keys()
        );
        // Every documented endpoint really answers with JSON.
        let res = app.get(&path.replace("{slug}", "iwate")).await;
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json"),
            "{path}"
        );
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    assert!(schemas.contains_key("TenantSummary"));
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

#[tokio::test]
async fn readyz_reports_a_database_that_stopped_answering() {
    let app = TestApp::empty(crate::support::Backend::Sqlite)
        .await
        .unwrap();
    app.store.close().await;
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 503);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "unavailable");
    assert_eq!(app.get("/healthz").await.status(), 200);
    // A page that reads the session answers with the HTML error page, not JSON.
    let res = app
        .client()
        .get(app.url("/"))
        .header("cookie", "yui_session=abc")
        .send()
        .await
        .unwrap();
    // An outage is 503 (never 404 or 500), said as such.
    assert_eq!(res.status(), 503);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("ただいまご利用いただけません")
    );
}

/// `Authorization: bearer …` is the same scheme as `Bearer …` (scheme names are
/// case-insensitive); a client library that writes it in lower case must not get 401.
async fn the_bearer_scheme_is_case_insensitive(app: &TestApp) {
    let (admin, id) = crate::staff::person(app, "Admin", "admin@kamaishi.example").await;
    crate::staff::grant(app, id, yui_authz::Role::TenantAdmin, Some("kamaishi")).await;
    let res = app
        .open(&admin, "/account/tokens")
        .await
        .form("/account/tokens")
        .set("token_name", "script")
        .set("tenant", "kamaishi")
        .submit(&admin)
        .await;
    assert_eq!(res.status(), 201);
    let token = crate::tokens::token_in(&res.text().await.unwrap());
    let api = reqwest::Client::new();
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let res = api
            .get(app.url("/api/v1/tenants/kamaishi/staff"))
            .header("authorization", format!("{scheme} {token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{scheme}");
    }
    // Only the scheme is case-insensitive: another scheme or a token in other case is not.
    for header in [
        format!("Basic {token}"),
        format!("Bearer{token}"),
        format!("bearer {}", token.to_uppercase()),
    ] {
        let res = api
            .get(app.url("/api/v1/tenants/kamaishi/staff"))
            .header("authorization", header.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "{header}");
    }
}
