//! What operators rely on: HTTPS headers, readiness that tells the truth about the
//! database and about shutdown.

use crate::support::{Seed, TestApp, on_both_backends};

on_both_backends!(
    |b| TestApp::spawn(b, Seed::Tenants, |s| s.public_url = "https://yui.example".to_owned()) =>
    https_sends_hsts_and_only_secure_cookies
);
on_both_backends!(TestApp::with_tenants => plain_http_sends_no_hsts);

const HSTS: &str = "max-age=31536000; includeSubDomains";

/// With an `https://` public URL, every response (pages, probes, the API, errors,
/// redirects) carries HSTS, and every cookie (the language cookie too) is `Secure`.
async fn https_sends_hsts_and_only_secure_cookies(app: &TestApp) {
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut cookies = 0;
    for path in [
        "/",
        "/signup",
        "/?lang=en",
        "/t/iwate/?lang=ja",
        "/lang/en?next=/t/iwate/",
        "/healthz",
        "/readyz",
        "/api/v1/tenants",
        "/no/such/page",
    ] {
        let res = plain.get(app.url(path)).send().await.unwrap();
        assert_eq!(
            res.headers()
                .get("strict-transport-security")
                .map(|v| v.to_str().unwrap()),
            Some(HSTS),
            "{path}"
        );
        for c in res.headers().get_all("set-cookie") {
            let c = c.to_str().unwrap();
            cookies += 1;
            assert!(
                c.split(';')
                    .any(|a| a.trim().eq_ignore_ascii_case("secure")),
                "{path}: {c}"
            );
        }
    }
    // The CSRF cookie and both ways of remembering a language were seen.
    assert!(cookies >= 3, "{cookies} cookies");
}

async fn plain_http_sends_no_hsts(app: &TestApp) {
    let res = app.get("/").await;
    assert!(res.headers().get("strict-transport-security").is_none());
}

on_both_backends!(crate::support::TestDb::create_empty => health_notices_a_missing_schema);

/// `/readyz` is 200 only when the database holds the schema, not merely answers.
async fn health_notices_a_missing_schema(db: &crate::support::TestDb) {
    let store = db.connect().await;
    assert_eq!(
        store.health().await,
        Err(yui_store::Unhealthy::SchemaMissing)
    );
    store.migrate().await.unwrap();
    assert_eq!(store.health().await, Ok(()));
    store.close().await;
}
