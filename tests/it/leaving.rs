//! A region leaving the platform: its whole-data export and its deletion, each asked
//! by one operator and confirmed by another, audited, and the deletion only after
//! its waiting period, erasing personal data and keeping anonymous figures.

use std::io::Read;

use yui_authz::Role;

use crate::staff::{grant, person};
use crate::support::{TestApp, on_both_backends};

on_both_backends!(
    TestApp::with_demo =>
    an_export_needs_a_second_operator_and_holds_every_table_without_secrets,
);
on_both_backends!(
    TestApp::with_tenants =>
    a_deletion_waits_is_confirmed_erases_people_and_keeps_the_figures,
);

async fn operators(app: &TestApp) -> (reqwest::Client, reqwest::Client) {
    let (a, id) = person(app, "運営 一", "ops1@yui.example").await;
    grant(app, id, Role::PlatformOperator, None).await;
    let (b, id) = person(app, "運営 二", "ops2@yui.example").await;
    grant(app, id, Role::PlatformOperator, None).await;
    (a, b)
}

/// Asks for `kind` on the tenant page, with `reason`.
async fn ask(
    app: &TestApp,
    op: &reqwest::Client,
    slug: &str,
    kind: &str,
    reason: &str,
) -> reqwest::Response {
    app.open(op, &format!("/ops/tenants/{slug}"))
        .await
        .form(&format!("/ops/tenants/{slug}/leaving"))
        .set("kind", kind)
        .set("reason", reason)
        .submit(op)
        .await
}

/// The id of the newest request shown on the tenant page (from its confirm or
/// cancel form).
async fn newest_request(app: &TestApp, op: &reqwest::Client, slug: &str) -> i64 {
    let html = app.page(op, &format!("/ops/tenants/{slug}")).await;
    let marker = format!("/ops/tenants/{slug}/leaving/");
    let at = html.find(&marker).expect("a request on the page") + marker.len();
    html[at..].split('/').next().unwrap().parse().unwrap()
}

async fn press(app: &TestApp, op: &reqwest::Client, slug: &str, id: i64, action: &str) -> String {
    let res = app
        .open(op, &format!("/ops/tenants/{slug}"))
        .await
        .form(&format!("/ops/tenants/{slug}/leaving/{id}/{action}"))
        .submit(op)
        .await;
    assert_eq!(res.status(), 303, "{action}");
    res.headers()["location"].to_str().unwrap().to_owned()
}

async fn an_export_needs_a_second_operator_and_holds_every_table_without_secrets(app: &TestApp) {
    let (a, b) = operators(app).await;
    // A reason is required, and named.
    let res = ask(app, &a, "kamaishi", "export", "   ").await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("理由"));
    let res = app
        .open(&a, "/ops/tenants/kamaishi")
        .await
        .form("/ops/tenants/kamaishi/leaving")
        .forge("kind", "bogus")
        .set("reason", "理由")
        .submit(&a)
        .await;
    assert_eq!(res.status(), 422);
    let res = ask(app, &a, "kamaishi", "export", "移行先の基盤へ移るため").await;
    assert_eq!(res.status(), 303);
    // Asking again while it is open adds nothing.
    let res = ask(app, &a, "kamaishi", "export", "もう一度").await;
    assert!(
        res.headers()["location"]
            .to_str()
            .unwrap()
            .contains("leaving_open")
    );
    let id = newest_request(app, &a, "kamaishi").await;
    let archive = format!("/ops/tenants/kamaishi/leaving/{id}/archive.zip");
    // Not before a second operator confirms; the asker cannot confirm it, and the
    // page does not offer it to them.
    assert_eq!(app.status(&a, &archive).await, 404);
    let page = app.page(&a, "/ops/tenants/kamaishi").await;
    assert!(!page.contains(&format!("/leaving/{id}/confirm")));
    let csrf = app
        .open(&a, "/ops/tenants/kamaishi")
        .await
        .form("/ops/tenants/kamaishi/leaving")
        .value("csrf")
        .unwrap();
    let res = a
        .post(app.url(&format!("/ops/tenants/kamaishi/leaving/{id}/confirm")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    let location = res.headers()["location"].to_str().unwrap();
    assert!(location.contains("leaving_second_operator"), "{location}");
    assert_eq!(app.status(&a, &archive).await, 404);
    // A region's administrator can do none of it.
    let (admin, id_admin) = person(app, "釜石 管理者", "admin@kamaishi.example").await;
    grant(app, id_admin, Role::TenantAdmin, Some("kamaishi")).await;
    assert_eq!(app.status(&admin, &archive).await, 404);
    assert!(
        press(app, &b, "kamaishi", id, "confirm")
            .await
            .contains("leaving_confirmed")
    );
    let res = a.get(app.url(&archive)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/zip");
    let bytes = res.bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let names: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
    for name in [
        "README.txt",
        "members.json",
        "tenant.toml",
        "logo.svg",
        "tables/memberships.json",
        "tables/hosts.json",
        "tables/role_grants.json",
    ] {
        assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
    }
    let mut everything = String::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let mut text = String::new();
        f.read_to_string(&mut text).unwrap();
        let name = f.name().unwrap().into_owned();
        if name.ends_with(".json") {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert!(v.is_array(), "{name}");
        }
        everything.push_str(&text);
    }
    assert!(
        !everything.contains("_hash\""),
        "no hash column is exported"
    );
    assert!(!everything.contains("$argon2"));
    // Only Kamaishi's rows: Iwate's hosts are not in it.
    assert!(!everything.contains("かんたはうす"));
    let hosts: serde_json::Value = {
        let mut f = zip.by_name("tables/hosts.json").unwrap();
        let mut t = String::new();
        f.read_to_string(&mut t).unwrap();
        serde_json::from_str(&t).unwrap()
    };
    let kamaishi = app.store.tenant_by_slug("kamaishi").await.unwrap();
    assert!(
        hosts
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["tenant_id"] == kamaishi.id.get())
    );
    let audit = crate::support::audit_entries(&app.store, None, 20)
        .await
        .unwrap();
    for action in [
        "tenant_leaving_requested",
        "tenant_leaving_confirmed",
        "tenant_exported",
    ] {
        assert!(audit.iter().any(|e| e.action == action), "{action}");
    }
    // Cancelled, it is no longer downloadable.
    press(app, &a, "kamaishi", id, "cancel").await;
    assert_eq!(app.status(&a, &archive).await, 404);
}

async fn a_deletion_waits_is_confirmed_erases_people_and_keeps_the_figures(app: &TestApp) {
    // The whole demo: Iwate's engagements since FY2025 and its years before Yui.
    crate::browser::whole_demo(app).await;
    let (a, b) = operators(app).await;
    let iwate = app.store.tenant_by_slug("iwate").await.unwrap();
    let figures_before = {
        let mut tx = app.store.tenant(iwate.id).read().await.unwrap();
        let h = tx.kpi_history().await.unwrap();
        tx.commit().await.unwrap();
        h
    };
    let res = ask(app, &a, "iwate", "delete", "事業終了のため").await;
    assert_eq!(res.status(), 303);
    let id = newest_request(app, &a, "iwate").await;
    // Confirmed by the second operator, but the waiting period runs.
    press(app, &b, "iwate", id, "confirm").await;
    let page = app.page(&a, "/ops/tenants/iwate").await;
    assert!(!page.contains(&format!("/leaving/{id}/erase")));
    let csrf = app
        .open(&a, "/ops/tenants/iwate")
        .await
        .form("/ops/tenants/iwate/leaving")
        .value("csrf")
        .unwrap();
    let res = a
        .post(app.url(&format!("/ops/tenants/iwate/leaving/{id}/erase")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    let location = res.headers()["location"].to_str().unwrap();
    assert!(location.contains("leaving_not_yet"), "{location}");
    assert!(
        app.page(&app.client(), "/t/iwate/")
            .await
            .contains("岩手県")
    );

    app.advance(chrono::Duration::days(31));
    // A month later, the operator signs in again.
    let a = app.client();
    let res =
        crate::accounts::sign_in(app, &a, "ops1@yui.example", "a passphrase long enough").await;
    assert_eq!(res.status(), 303);
    // Two operators pressing at once erase once.
    let form = app
        .open(&a, "/ops/tenants/iwate")
        .await
        .form(&format!("/ops/tenants/iwate/leaving/{id}/erase"));
    let (ra, rb) = tokio::join!(form.submit(&a), form.submit(&a));
    assert_eq!((ra.status().as_u16(), rb.status().as_u16()), (303, 303));
    let audit = crate::support::audit_entries(&app.store, None, 50)
        .await
        .unwrap();
    assert_eq!(
        audit
            .iter()
            .filter(|e| e.action == "tenant_deleted")
            .count(),
        1
    );
    // Nobody's data is left in it: members, staff, hosts, engagements, mail.
    let mut tx = app
        .store
        .platform(yui_store::PlatformReason::OperatorConsole)
        .read()
        .await
        .unwrap();
    let activity = tx.tenant_activity(&[iwate.id]).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!((activity[0].members, activity[0].staff), (0, 0));
    let mut tx = app.store.tenant(iwate.id).read().await.unwrap();
    assert!(tx.talent_members().await.unwrap().is_empty());
    // Its yearly figures stay: the years before the platform and those on it.
    let kept = tx.kpi_history().await.unwrap();
    tx.commit().await.unwrap();
    assert!(!figures_before.is_empty());
    for h in &figures_before {
        assert!(kept.contains(h), "{h:?}");
    }
    assert!(
        kept.iter()
            .any(|h| h.fiscal_year.0 == 2025 && h.matches > 0),
        "{kept:?}"
    );
    // Its pages are gone for the public; it is no longer listed.
    assert_ne!(app.status(&app.client(), "/t/iwate/").await, 200);
    let home = app.page(&app.client(), "/").await;
    assert!(!home.contains("href=\"/t/iwate/\""));
    // The demo talents are still there, as people of other regions.
    let talent = app.client();
    let res = crate::accounts::sign_in(
        app,
        &talent,
        "talent002@demo.yui.example",
        yui::demo::DEMO_PASSWORD,
    )
    .await;
    assert_eq!(res.status(), 303);
}
