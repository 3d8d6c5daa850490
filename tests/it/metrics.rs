//! `/metrics`: off by default, behind a bearer token when on, counting requests by
//! route template (never a tenant's slug), with the outbox and the pool.

use crate::support::{Seed, TestApp, on_both_backends};

const TOKEN: &str = "scrape-token-for-tests-0123";

fn with_metrics(b: crate::support::Backend) -> impl std::future::Future<Output = Option<TestApp>> {
    TestApp::spawn(b, Seed::Tenants, |s| {
        s.metrics_token = Some(yui_web::MetricsToken::new(TOKEN));
    })
}

on_both_backends!(TestApp::with_tenants => metrics_are_off_unless_configured);
on_both_backends!(with_metrics =>
    metrics_need_the_token,
    metrics_count_requests_by_route_and_report_the_outbox,
    hostile_paths_and_methods_add_no_series,
);

async fn scrape(app: &TestApp, token: Option<&str>) -> reqwest::Response {
    let mut req = app.client().get(app.url("/metrics"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap()
}

async fn metrics_are_off_unless_configured(app: &TestApp) {
    assert_eq!(scrape(app, None).await.status(), 404);
    assert_eq!(scrape(app, Some(TOKEN)).await.status(), 404);
}

async fn metrics_need_the_token(app: &TestApp) {
    // Anonymous, a wrong token, another scheme, the token with something appended.
    let res = scrape(app, None).await;
    assert_eq!(res.status(), 401);
    assert!(res.headers().get("www-authenticate").is_some());
    assert_eq!(
        scrape(app, Some("wrong-token-0123456789")).await.status(),
        401
    );
    assert_eq!(scrape(app, Some(&format!("{TOKEN}x"))).await.status(), 401);
    let basic = app
        .client()
        .get(app.url("/metrics"))
        .basic_auth("metrics", Some(TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 401);
    // A tenant admin's session is no way in either.
    let (admin, admin_id) = crate::staff::person(app, "管理者", "admin@iwate.example").await;
    crate::staff::grant(app, admin_id, yui_authz::Role::TenantAdmin, Some("iwate")).await;
    assert_eq!(app.status(&admin, "/metrics").await, 401);
    let res = scrape(app, Some(TOKEN)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
}

/// The value of the sample `series` (name with labels) in a scrape.
fn sample(body: &str, series: &str) -> Option<f64> {
    body.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

async fn metrics_count_requests_by_route_and_report_the_outbox(app: &TestApp) {
    let client = app.client();
    for _ in 0..3 {
        assert_eq!(app.status(&client, "/t/iwate/").await, 200);
    }
    assert_eq!(app.status(&client, "/t/amami/").await, 200);
    assert_eq!(
        app.status(&client, "/api/v1/tenants/iwate/events").await,
        200
    );
    assert_eq!(
        app.status(&client, "/api/v1/tenants/nosuchtenant/events")
            .await,
        404
    );
    // A mail that waits: due tomorrow, queued a minute ago.
    let tenant = app.store.tenant_by_slug("iwate").await.unwrap().id;
    let message_id = format!("<{}@yui.example>", uuid::Uuid::new_v4());
    let mut tx = app.store.tenant(tenant).write().await.unwrap();
    yui_store::OutboxTx::enqueue_mail(
        &mut tx,
        &yui_store::NewOutboxMail {
            tenant_id: Some(tenant),
            template: "staff_invitation",
            locale: "ja",
            from_name: "Yui",
            from_address: "no-reply@yui.example",
            to_address: "later@example.jp",
            subject: "お知らせ",
            body_text: "本文",
            body_html: "<p>本文</p>",
            message_id: &message_id,
            attachment: None,
            list_unsubscribe: None,
            not_before: Some(app.now() + chrono::Duration::days(1)),
        },
        app.now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    app.advance(chrono::Duration::seconds(60));

    let body = scrape(app, Some(TOKEN)).await.text().await.unwrap();
    assert_eq!(
        sample(
            &body,
            r#"yui_http_requests_total{method="GET",route="/t/{slug}/",status="200"}"#
        ),
        Some(4.0),
        "{body}"
    );
    assert_eq!(
        sample(
            &body,
            r#"yui_http_requests_total{method="GET",route="/api/v1/tenants/{slug}/events",status="404"}"#
        ),
        Some(1.0),
        "{body}"
    );
    assert_eq!(
        sample(
            &body,
            r#"yui_http_request_duration_seconds_count{method="GET",route="/t/{slug}/"}"#
        ),
        Some(4.0),
        "{body}"
    );
    assert!(body.contains("# TYPE yui_http_request_duration_seconds histogram"));
    assert_eq!(
        sample(&body, "yui_mail_outbox_pending"),
        Some(1.0),
        "{body}"
    );
    let age = sample(&body, "yui_mail_outbox_oldest_pending_age_seconds").unwrap();
    assert!((59.0..3600.0).contains(&age), "{age}");
    let max = sample(&body, "yui_db_pool_max_connections").unwrap();
    let open = sample(&body, "yui_db_pool_connections").unwrap();
    let idle = sample(&body, "yui_db_pool_idle_connections").unwrap();
    let in_use = sample(&body, "yui_db_pool_in_use_connections").unwrap();
    assert!(max >= 1.0 && open <= max && idle + in_use == open, "{body}");
    // No tenant's slug anywhere: not in a label, not in a value.
    for slug in ["iwate", "amami", "nosuchtenant"] {
        assert!(!body.contains(slug), "{slug} in\n{body}");
    }
}

/// Made-up paths and methods all count as one series each: a stranger cannot make
/// the scrape grow.
async fn hostile_paths_and_methods_add_no_series(app: &TestApp) {
    let client = app.client();
    let paths: Vec<String> = (0..40)
        .map(|i| format!("/no/such/{i}/<script>alert({i})</script>\"{{x}}"))
        .collect();
    let mut burst = tokio::task::JoinSet::new();
    for p in &paths {
        let req = client.get(app.url(p));
        burst.spawn(async move { req.send().await.unwrap().status().as_u16() });
    }
    assert!(burst.join_all().await.iter().all(|s| *s == 404));
    for m in ["FOOBAR", "PROPFIND", "BREW"] {
        let method = reqwest::Method::from_bytes(m.as_bytes()).unwrap();
        let res = client
            .request(method, app.url("/t/iwate/"))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_client_error(), "{m}: {}", res.status());
    }
    let body = scrape(app, Some(TOKEN)).await.text().await.unwrap();
    assert_eq!(
        sample(
            &body,
            r#"yui_http_requests_total{method="GET",route="(unmatched)",status="404"}"#
        ),
        Some(40.0),
        "{body}"
    );
    let request_series = body
        .lines()
        .filter(|l| l.starts_with("yui_http_requests_total{"))
        .count();
    assert!(request_series <= 3, "{body}");
    for needle in ["script", "no/such", "FOOBAR", "PROPFIND", "BREW", "iwate"] {
        assert!(!body.contains(needle), "{needle} in\n{body}");
    }
}
