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

on_both_backends!(TestApp::with_tenants => a_suspended_tenants_mail_waits_until_it_is_resumed);

/// Queues one mail in `slug`'s name, as a feature of that tenant would.
async fn queue_tenant_mail(app: &TestApp, slug: &str, to: &str) {
    use yui_store::OutboxTx;
    let tenant = app.store.tenant_by_slug(slug).await.unwrap().id;
    let message_id = format!("<{}@yui.example>", uuid::Uuid::new_v4());
    let mut tx = app.store.tenant(tenant).write().await.unwrap();
    tx.enqueue_mail(
        &yui_store::NewOutboxMail {
            tenant_id: Some(tenant),
            template: "staff_invitation",
            locale: "ja",
            from_name: "Yui",
            from_address: "no-reply@yui.example",
            to_address: to,
            subject: "お知らせ",
            body_text: "本文",
            body_html: "<p>本文</p>",
            message_id: &message_id,
            attachment: None,
            list_unsubscribe: None,
            not_before: None,
        },
        app.now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

/// A suspended tenant sends no mail: what it queued waits, pending, and goes out
/// when the operator resumes the tenant. Other tenants' mail is not held up.
async fn a_suspended_tenants_mail_waits_until_it_is_resumed(app: &TestApp) {
    use std::time::Duration;
    let (ops, ops_id) = crate::staff::person(app, "運営", "ops@yui.example").await;
    crate::staff::grant(app, ops_id, yui_authz::Role::PlatformOperator, None).await;
    let res = app
        .open(&ops, "/ops/tenants/kamaishi")
        .await
        .form("/ops/tenants/kamaishi/suspend")
        .submit(&ops)
        .await;
    assert_eq!(res.status(), 303);
    queue_tenant_mail(app, "kamaishi", "held@example.jp").await;
    queue_tenant_mail(app, "amami", "control@example.jp").await;
    // The worker ran: the other tenant's mail arrived…
    if let Err(e) = app
        .sink
        .wait_for_mail_to("control@example.jp", Duration::from_secs(10))
        .await
    {
        let mut tx = app
            .store
            .platform(yui_store::PlatformReason::MailDelivery)
            .read()
            .await
            .unwrap();
        let counts = tx.outbox_counts().await.unwrap();
        panic!("{e}: {counts:?}");
    }
    // …and a few more rounds of it (it polls every 200 ms) send nothing of kamaishi.
    assert!(
        app.sink
            .wait_for_mail_to("held@example.jp", Duration::from_millis(1500))
            .await
            .is_err(),
        "a suspended tenant's mail is not sent"
    );
    let res = app
        .open(&ops, "/ops/tenants/kamaishi")
        .await
        .form("/ops/tenants/kamaishi/resume")
        .submit(&ops)
        .await;
    assert_eq!(res.status(), 303);
    let mail = app
        .sink
        .wait_for_mail_to("held@example.jp", Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(mail.subject().as_deref(), Some("お知らせ"));
}

on_both_backends!(TestApp::with_tenants => operators_read_a_suspended_tenants_audit_log);

/// Operators keep reading a suspended tenant's audit log, told that it is suspended;
/// its own admins get 503 like on every page of it, others 404.
async fn operators_read_a_suspended_tenants_audit_log(app: &TestApp) {
    use crate::staff::{grant, person};
    use yui_authz::Role;
    let (admin, admin_id) = person(app, "釜石 管理者", "admin@kamaishi.example").await;
    grant(app, admin_id, Role::TenantAdmin, Some("kamaishi")).await;
    let (other, other_id) = person(app, "岩手 管理者", "admin@iwate.example").await;
    grant(app, other_id, Role::TenantAdmin, Some("iwate")).await;
    let (ops, ops_id) = person(app, "運営", "ops@yui.example").await;
    grant(app, ops_id, Role::PlatformOperator, None).await;
    // Something in kamaishi's log: its admin invites a coordinator.
    let res = app
        .open(&admin, "/t/kamaishi/staff")
        .await
        .form("/t/kamaishi/staff")
        .set("email", "coordinator@kamaishi.example")
        .set("role", "coordinator")
        .submit(&admin)
        .await;
    assert!(res.status().is_redirection() || res.status().is_success());
    let before = app.page(&admin, "/t/kamaishi/audit").await;
    assert!(!before.contains("tenant-suspended"));

    let res = app
        .open(&ops, "/ops/tenants/kamaishi")
        .await
        .form("/ops/tenants/kamaishi/suspend")
        .submit(&ops)
        .await;
    assert_eq!(res.status(), 303);

    let res = ops.get(app.url("/t/kamaishi/audit")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains(r#"id="tenant-suspended""#), "{html}");
    assert!(html.contains("この地域は一時停止中です"));
    assert!(
        html.contains("coordinator@kamaishi.example"),
        "the log itself"
    );
    let en = app.page(&ops, "/t/kamaishi/audit?lang=en").await;
    assert!(en.contains("This region is suspended"));
    // Its own admin: 503 as everywhere in it; another tenant's admin: 404.
    assert_eq!(app.status(&admin, "/t/kamaishi/audit").await, 503);
    assert_eq!(app.status(&other, "/t/kamaishi/audit").await, 404);
    // Reading only: the operator gets no staff page of the suspended tenant.
    assert_ne!(app.status(&ops, "/t/kamaishi/staff").await, 200);

    let res = app
        .open(&ops, "/ops/tenants/kamaishi")
        .await
        .form("/ops/tenants/kamaishi/resume")
        .submit(&ops)
        .await;
    assert_eq!(res.status(), 303);
    assert!(
        !app.page(&ops, "/t/kamaishi/audit")
            .await
            .contains("tenant-suspended")
    );
    assert_eq!(app.status(&admin, "/t/kamaishi/audit").await, 200);
}
