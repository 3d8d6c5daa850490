//! Tenant settings in pages (issue 14, item 3): every section's form filled by field
//! name and saved, the change seen where people see it; bad input named on its field
//! and kept, in Japanese and English; the walls (another tenant's admin, a
//! coordinator, a stranger); logos checked by their bytes; a changed consent wording
//! asks members again; and the tenant folder written back and applied again
//! (`yui tenant export`, `yui tenant apply --dry-run`, the overwrite warning).

use std::path::Path;
use std::process::Command;

use yui_authz::Role;
use yui_domain::TenantId;
use yui_domain::settings::{LogoKind, SettingsSection};
use yui_domain::tenant::parse_tenant_file;

use yui_store::AccountsTx;

use crate::support::{TestApp, on_both_backends, repo_tenants};

on_both_backends!(
    TestApp::with_tenants =>
    every_section_is_saved_from_its_form_and_seen,
    bad_input_names_the_field_and_keeps_it_in_both_languages,
    only_the_tenants_admin_reaches_the_settings,
    logos_are_checked_by_their_bytes_and_served_as_what_they_are,
    a_changed_consent_wording_asks_members_again,
    an_export_after_a_page_edit_holds_the_edit_and_applies_back,
    saves_of_different_sections_at_once_all_land
);

async fn signed_in(app: &TestApp, email: &str, role: Role, slug: &str) -> reqwest::Client {
    let (client, id) = crate::staff::person(app, "設定 担当", email).await;
    crate::staff::grant(app, id, role, Some(slug)).await;
    client
}

async fn tenant_id(app: &TestApp, slug: &str) -> TenantId {
    app.store.tenant_by_slug(slug).await.unwrap().id
}

fn location(res: &reqwest::Response) -> String {
    res.headers()[reqwest::header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned()
}

/// A PNG as far as its signature and first chunk go.
fn png(len: usize) -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
    b.resize(len, 7);
    b
}

const SECTIONS: [&str; 6] = [
    "names",
    "introduction",
    "branding",
    "consent",
    "mail",
    "templates",
];

async fn every_section_is_saved_from_its_form_and_seen(app: &TestApp) {
    let admin = signed_in(app, "settings-admin@example.jp", Role::TenantAdmin, "iwate").await;
    let index = app.page(&admin, "/t/iwate/settings").await;
    for s in SECTIONS {
        // Tera writes `/` in attributes as `&#x2F;`.
        assert!(index.contains(&format!("settings&#x2F;{s}\"")), "{s}");
    }
    assert!(!index.contains("このページで最後に保存"));

    let save = |path: &'static str, fields: Vec<(&'static str, &'static str)>| {
        let admin = admin.clone();
        async move {
            let page = app.open(&admin, path).await;
            assert_eq!(page.status(), 200, "{}", page.html());
            let mut form = page.form(path);
            for (name, value) in fields {
                form.set(name, value);
            }
            let res = form.submit(&admin).await;
            assert_eq!(res.status(), 303, "{path}");
            assert_eq!(location(&res), format!("{path}?done=1"));
            let done = app.page(&admin, &format!("{path}?done=1")).await;
            assert!(done.contains("保存しました。"), "{done}");
        }
    };

    save(
        "/t/iwate/settings/names",
        vec![("name_ja", "岩手県（編集）"), ("name_kana", "いわて けん")],
    )
    .await;
    save(
        "/t/iwate/settings/introduction",
        vec![
            ("intro_ja", "<script>alert(1)</script> 紹介を書き換えました"),
            ("heading_ja", "遠恋複業の新しい見出し"),
            ("paragraphs_ja", "一つ目の段落。\r\n\r\n二つ目の段落。"),
            ("facts_ja", "開始 | 2018年度\r\n累計 | 158件"),
        ],
    )
    .await;
    save(
        "/t/iwate/settings/branding",
        vec![("primary", "#1F4E79"), ("accent", "#7a4a00")],
    )
    .await;
    save(
        "/t/iwate/settings/mail",
        vec![
            ("sender_name", "岩手県 事務局（新）"),
            ("sender_address", "new-office@iwate.example"),
        ],
    )
    .await;
    save(
        "/t/iwate/settings/templates",
        vec![
            ("seminar_capacity", "77"),
            ("lecture_format", "online"),
            ("fieldwork_days", "3"),
            ("talent_preference_limit", "7"),
            ("scouting_daily_limit", "4"),
            ("event_reminders", "3d, 1h"),
        ],
    )
    .await;
    save(
        "/t/iwate/settings/consent",
        vec![("consent_en", "Updated consent wording for Iwate.")],
    )
    .await;

    // The public landing page shows the new name, introduction and template, with
    // the hostile text escaped.
    let html = app.get("/t/iwate/").await.text().await.unwrap();
    assert!(html.contains("岩手県（編集）"), "{html}");
    assert!(html.contains("遠恋複業の新しい見出し"));
    assert!(html.contains("二つ目の段落。"));
    assert!(html.contains("<dt>累計</dt><dd>158件</dd>"));
    assert!(html.contains("77"));
    assert!(!html.contains("<script>alert(1)</script>"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt; 紹介を書き換えました"));
    // The colours are the page's CSS, under a new address so no cache keeps the old.
    let theme = html
        .split("href=\"")
        .find(|s| s.starts_with("/t/iwate/theme.css"))
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    let css = app.get(&theme).await.text().await.unwrap();
    assert!(
        css.contains("--brand: #1f4e79;") && css.contains("--accent: #7a4a00;"),
        "{css}"
    );

    let spec = app.store.tenant_by_slug("iwate").await.unwrap().tenant;
    assert_eq!(spec.mail.sender_address, "new-office@iwate.example");
    assert_eq!(spec.templates.seminar.capacity, 77);
    assert_eq!(spec.templates.fieldwork.days, 3);
    assert_eq!(spec.templates.matching_round.talent_preference_limit, 7);
    assert_eq!(spec.scouting.daily_limit, 4);
    assert_eq!(spec.events.reminders.len(), 2);
    assert_eq!(spec.consent.version, 2);
    assert_eq!(spec.consent.text.en, "Updated consent wording for Iwate.");
    assert_eq!(spec.branding.primary, "#1f4e79");

    // The lead's contract: every section edited, with its time.
    let mut tx = app
        .store
        .tenant(tenant_id(app, "iwate").await)
        .read()
        .await
        .unwrap();
    let edited = tx.edited_settings_sections().await.unwrap();
    tx.commit().await.unwrap();
    let sections: Vec<SettingsSection> = edited.iter().map(|(s, _)| *s).collect();
    assert_eq!(sections, SettingsSection::ALL);
    let index = app.page(&admin, "/t/iwate/settings").await;
    assert_eq!(index.matches("このページで最後に保存").count(), 6);

    let entries =
        crate::support::audit_entries(&app.store, Some(tenant_id(app, "iwate").await), 20)
            .await
            .unwrap();
    let saved: Vec<&serde_json::Value> = entries
        .iter()
        .filter(|e| e.action == "tenant_settings_changed")
        .map(|e| &e.detail.0)
        .collect();
    assert_eq!(saved.len(), 6);
    assert!(saved.iter().any(|d| {
        d["section"] == "templates"
            && d["keys"]
                .as_array()
                .unwrap()
                .contains(&serde_json::json!("templates.seminar.capacity"))
    }));
}

async fn bad_input_names_the_field_and_keeps_it_in_both_languages(app: &TestApp) {
    let admin = signed_in(app, "settings-bad@example.jp", Role::TenantAdmin, "iwate").await;
    let before = app.store.tenant_by_slug("iwate").await.unwrap().tenant;
    // (path, field, value, Japanese message, English message)
    let cases: [(&str, &str, &str, &str, &str); 7] = [
        (
            "/t/iwate/settings/names",
            "name_kana",
            "イワテケン",
            "名称のよみ（ひらがな）：ひらがなで入力してください",
            "Reading of the name (hiragana): Write it in hiragana",
        ),
        (
            "/t/iwate/settings/introduction",
            "facts_en",
            "no bar on this line",
            "主な数字（英語）：1行に1つ",
            "Key figures (English): Write one figure per line",
        ),
        (
            "/t/iwate/settings/branding",
            "accent",
            "#ffff00",
            "アクセントカラー：白との明るさの比が 1.07:1 です",
            "Accent colour: Its contrast with white is 1.07:1",
        ),
        (
            "/t/iwate/settings/consent",
            "consent_ja",
            "   ",
            "同意文（日本語）：",
            "Consent text (Japanese): ",
        ),
        (
            "/t/iwate/settings/mail",
            "sender_address",
            "office@localhost",
            "差出人のメールアドレス：",
            "Sender address: ",
        ),
        (
            "/t/iwate/settings/templates",
            "lecture_capacity",
            "0",
            "講座 定員：",
            "Lecture: Capacity: ",
        ),
        (
            "/t/iwate/settings/templates",
            "event_reminders",
            "45d",
            "イベントのリマインダー：",
            "Event reminders: ",
        ),
    ];
    for english in [false, true] {
        if english {
            let res = admin.get(app.url("/lang/en?next=/")).send().await.unwrap();
            assert_eq!(res.status(), 303);
        }
        for (path, field, value, ja, en) in cases {
            let page = app.open(&admin, path).await;
            let res = page.form(path).set(field, value).submit(&admin).await;
            assert_eq!(res.status(), 422, "{path} {field}");
            let html = res.text().await.unwrap();
            let message = if english { en } else { ja };
            assert!(html.contains(message), "{path} {field}: {message}\n{html}");
            assert!(html.contains(&format!("href=\"#f-{field}\"")), "{field}");
            if !value.trim().is_empty() {
                assert!(html.contains(value), "{field} keeps {value:?}");
            }
        }
        // A select offers no other language: a forged one is named too.
        let path = "/t/iwate/settings/names";
        let res = app
            .open(&admin, path)
            .await
            .form(path)
            .forge("default_locale", "fr")
            .submit(&admin)
            .await;
        assert_eq!(res.status(), 422);
    }
    // Nothing was stored, and no edit recorded.
    assert_eq!(
        app.store.tenant_by_slug("iwate").await.unwrap().tenant,
        before
    );
    let mut tx = app
        .store
        .tenant(tenant_id(app, "iwate").await)
        .read()
        .await
        .unwrap();
    assert!(tx.edited_settings_sections().await.unwrap().is_empty());
    tx.commit().await.unwrap();
}

async fn only_the_tenants_admin_reaches_the_settings(app: &TestApp) {
    let mut paths = vec!["/t/iwate/settings".to_owned()];
    paths.extend(SECTIONS.iter().map(|s| format!("/t/iwate/settings/{s}")));
    // A stranger is sent to sign in.
    for path in &paths {
        let res = app.get(path).await;
        assert_eq!(res.status(), 303, "{path}");
        assert!(location(&res).starts_with("/signin"), "{path}");
    }
    // Another tenant's admin and the tenant's own coordinator: 404, as for a page
    // that does not exist.
    let other = signed_in(
        app,
        "kamaishi-admin@example.jp",
        Role::TenantAdmin,
        "kamaishi",
    )
    .await;
    let coordinator = signed_in(app, "iwate-coord@example.jp", Role::Coordinator, "iwate").await;
    for client in [&other, &coordinator] {
        for path in &paths {
            assert_eq!(app.status(client, path).await, 404, "{path}");
        }
    }
    // Their own form sent to iwate's address changes nothing in iwate.
    let before = app.store.tenant_by_slug("iwate").await.unwrap().tenant;
    let res = app
        .open(&other, "/t/kamaishi/settings/names")
        .await
        .form("/t/kamaishi/settings/names")
        .set("name_ja", "乗っ取り")
        .retarget("/t/iwate/settings/names")
        .submit(&other)
        .await;
    assert_eq!(res.status(), 404);
    assert_eq!(
        app.store.tenant_by_slug("iwate").await.unwrap().tenant,
        before
    );
    // A form without its CSRF token is refused.
    let admin = signed_in(app, "iwate-admin2@example.jp", Role::TenantAdmin, "iwate").await;
    let res = app
        .open(&admin, "/t/iwate/settings/mail")
        .await
        .form("/t/iwate/settings/mail")
        .set("sender_name", "偽物")
        .remove("csrf")
        .submit(&admin)
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(
        app.store.tenant_by_slug("iwate").await.unwrap().tenant,
        before
    );
}

async fn logos_are_checked_by_their_bytes_and_served_as_what_they_are(app: &TestApp) {
    let admin = signed_in(app, "logo-admin@example.jp", Role::TenantAdmin, "iwate").await;
    let path = "/t/iwate/settings/branding";
    let action = "/t/iwate/settings/branding/logo";
    let upload = |name: &'static str, kind: &'static str, bytes: Vec<u8>| {
        let admin = admin.clone();
        async move {
            app.open(&admin, path)
                .await
                .form(action)
                .attach("logo", name, kind, bytes)
                .submit(&admin)
                .await
        }
    };

    // A PNG: stored, served as a PNG, and the file name follows.
    let res = upload("mark.png", "image/png", png(2048)).await;
    assert_eq!(res.status(), 303);
    let res = app.get("/t/iwate/logo.svg").await;
    assert_eq!(res.headers()["content-type"], "image/png");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.bytes().await.unwrap().to_vec(), png(2048));
    let spec = app.store.tenant_by_slug("iwate").await.unwrap().tenant;
    assert_eq!(spec.branding.logo, "logo.png");

    // An SVG: served with a policy that runs no script.
    let svg = std::fs::read(repo_tenants().join("kamaishi/logo.svg")).unwrap();
    let res = upload("kamaishi.svg", "image/svg+xml", svg.clone()).await;
    assert_eq!(res.status(), 303);
    let res = app.get("/t/iwate/logo.svg").await;
    assert_eq!(res.headers()["content-type"], "image/svg+xml");
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'none'") && csp.contains("sandbox"),
        "{csp}"
    );
    assert_eq!(res.bytes().await.unwrap().to_vec(), svg);
    let spec = app.store.tenant_by_slug("iwate").await.unwrap().tenant;
    assert_eq!(spec.branding.logo, "logo.svg");

    // Refused, each named on the field, and the stored logo stays.
    let hostile =
        br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>"#;
    let handler =
        br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="3"/></svg>"#;
    let cases: [(&str, &str, Vec<u8>, &str); 5] = [
        (
            "evil.svg",
            "image/svg+xml",
            hostile.to_vec(),
            "ロゴ：スクリプト",
        ),
        (
            "evil2.svg",
            "image/svg+xml",
            handler.to_vec(),
            "ロゴ：スクリプト",
        ),
        (
            "photo.png",
            "image/png",
            b"GIF89a not a png at all".to_vec(),
            "ロゴ：PNGまたはSVGの画像ではありません",
        ),
        (
            "big.png",
            "image/png",
            png(100 * 1024 + 1),
            "ロゴ：ファイルが大きすぎます。100KB以下",
        ),
        ("empty.png", "image/png", Vec::new(), "ロゴ："),
    ];
    for (name, kind, bytes, message) in cases {
        let res = upload(name, kind, bytes).await;
        assert_eq!(res.status(), 422, "{name}");
        let html = res.text().await.unwrap();
        assert!(html.contains(message), "{name}: {html}");
        assert!(html.contains("href=\"#f-logo\""), "{name}");
    }
    let res = app.get("/t/iwate/logo.svg").await;
    assert_eq!(res.bytes().await.unwrap().to_vec(), svg);
    // A body far past the limit is answered as a page, and closes the connection.
    // The answer comes before the client has sent everything: a client still sending
    // may see the connection reset instead (TCP discards an answer it cannot
    // deliver), so only an answer that did arrive is checked; nothing is stored
    // either way (below).
    let huge = app
        .open(&admin, path)
        .await
        .form(action)
        .attach("logo", "huge.png", "image/png", png(2 * 1024 * 1024))
        .request(&admin)
        .send()
        .await;
    if let Ok(res) = huge {
        assert_eq!(res.status(), 422);
    }

    let mut tx = app
        .store
        .tenant(tenant_id(app, "iwate").await)
        .read()
        .await
        .unwrap();
    let edited = tx.edited_settings_sections().await.unwrap();
    let (logo, _) = tx.logo_file().await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(edited.len(), 1);
    assert_eq!(edited[0].0, SettingsSection::Branding);
    assert_eq!(logo.kind, LogoKind::Svg);
}

async fn a_changed_consent_wording_asks_members_again(app: &TestApp) {
    let (talent, _) = crate::staff::person(app, "同意 さん", "consent-again@example.jp").await;
    crate::talent::join(app, &talent, "iwate", false).await;
    assert_eq!(app.status(&talent, "/t/iwate/me").await, 200);
    let admin = signed_in(app, "consent-admin@example.jp", Role::TenantAdmin, "iwate").await;
    let path = "/t/iwate/settings/consent";

    // Saved unchanged: the version stays, and members are not asked again.
    let res = app.open(&admin, path).await.form(path).submit(&admin).await;
    assert_eq!(res.status(), 303);
    let spec = app.store.tenant_by_slug("iwate").await.unwrap().tenant;
    assert_eq!(spec.consent.version, 1);
    assert_eq!(app.status(&talent, "/t/iwate/me").await, 200);

    // A new wording: version 2, and the member is asked to agree to it.
    let page = app.open(&admin, path).await;
    let mut form = page.form(path);
    let ja = form.value("consent_ja").unwrap();
    form.set(
        "consent_ja",
        &format!("{ja}\n\n8. 改定：保存期間は5年です。"),
    );
    assert_eq!(form.submit(&admin).await.status(), 303);
    let spec = app.store.tenant_by_slug("iwate").await.unwrap().tenant;
    assert_eq!(spec.consent.version, 2);
    let page = app.page(&admin, path).await;
    assert!(page.contains("現在の同意文の版：2"));
    let res = talent.get(app.url("/t/iwate/me")).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/t/iwate/join?renew=1");
    let page = app.open(&talent, "/t/iwate/join?renew=1").await;
    assert!(page.html().contains("保存期間は5年"));
    let res = page
        .form("/t/iwate/join")
        .check("consent_staff")
        .submit(&talent)
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(app.status(&talent, "/t/iwate/me").await, 200);
}

async fn an_export_after_a_page_edit_holds_the_edit_and_applies_back(app: &TestApp) {
    let admin = signed_in(
        app,
        "export-admin@example.jp",
        Role::TenantAdmin,
        "kamaishi",
    )
    .await;
    let path = "/t/kamaishi/settings/introduction";
    let res = app
        .open(&admin, path)
        .await
        .form(path)
        .set(
            "intro_en",
            "Kamaishi, edited in the settings page \"with quotes\".",
        )
        .submit(&admin)
        .await;
    assert_eq!(res.status(), 303);

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("kamaishi");
    yui::tenants::export(&app.store, "kamaishi", &dir)
        .await
        .unwrap();
    let text = std::fs::read_to_string(dir.join("tenant.toml")).unwrap();
    let exported = parse_tenant_file(&text).unwrap();
    assert_eq!(
        exported.intro.en,
        "Kamaishi, edited in the settings page \"with quotes\"."
    );
    assert_eq!(
        exported,
        app.store.tenant_by_slug("kamaishi").await.unwrap().tenant
    );

    // The repository's file would put the old text back: the preview says so and
    // names it as a page edit it overwrites.
    let previews = yui::tenants::preview(&app.store, &[repo_tenants().join("kamaishi")])
        .await
        .unwrap();
    assert_eq!(previews[0].overwrites, ["intro.en"]);
    assert!(previews[0].lines()[0].starts_with("kamaishi: intro.en: \"Kamaishi, edited"));
    // The exported folder changes nothing.
    let previews = yui::tenants::preview(&app.store, std::slice::from_ref(&dir))
        .await
        .unwrap();
    assert!(previews[0].changes.is_empty() && !previews[0].logo_changes);
    assert_eq!(previews[0].lines(), ["kamaishi: no changes"]);
    let outcome = yui::tenants::apply(&app.store, &[dir], app.now())
        .await
        .unwrap();
    assert_eq!(outcome[0].1, yui_store::ApplyOutcome::Unchanged);
}

/// Two admins saving different sections at the same moment: each save starts from
/// the tenant as the other left it (the row is held while a save runs), so neither
/// undoes the other.
async fn saves_of_different_sections_at_once_all_land(app: &TestApp) {
    let a = signed_in(app, "burst-a@example.jp", Role::TenantAdmin, "iwate").await;
    let b = signed_in(app, "burst-b@example.jp", Role::TenantAdmin, "iwate").await;
    let mut forms = Vec::new();
    for round in 0..3 {
        let names = "/t/iwate/settings/names";
        let mut f = app.open(&a, names).await.form(names);
        f.set("name_en", &format!("Iwate {round}"));
        forms.push((a.clone(), f));
        let mail = "/t/iwate/settings/mail";
        let mut f = app.open(&b, mail).await.form(mail);
        f.set("sender_name", &format!("事務局 {round}"));
        forms.push((b.clone(), f));
        let templates = "/t/iwate/settings/templates";
        let mut f = app.open(&b, templates).await.form(templates);
        f.set("seminar_days", &format!("{}", round + 2));
        forms.push((b.clone(), f));
    }
    // The forms were all taken before any save: the same round's three go at once.
    let mut forms = forms.into_iter();
    for _ in 0..3 {
        let mut burst = tokio::task::JoinSet::new();
        for (client, form) in forms.by_ref().take(3) {
            burst.spawn(async move { form.submit(&client).await.status().as_u16() });
        }
        assert_eq!(burst.join_all().await, [303, 303, 303]);
    }
    let t = app.store.tenant_by_slug("iwate").await.unwrap().tenant;
    assert_eq!(t.name.en, "Iwate 2");
    assert_eq!(t.mail.sender_name, "事務局 2");
    assert_eq!(t.templates.seminar.days, 4);
}

// ---- the command line --------------------------------------------------------------

fn yui(cwd: &Path, db: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_yui"));
    cmd.current_dir(cwd)
        .env("YUI_DATABASE_URL", db)
        .env_remove("YUI_ADDR")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::null());
    cmd
}

fn run(cmd: &mut Command) -> (String, String) {
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{cmd:?}\n{stdout}\n{stderr}");
    (stdout, stderr)
}

#[test]
fn export_round_trips_and_dry_run_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/yui.db", tmp.path().display());
    run(yui(tmp.path(), &db)
        .args(["tenant", "apply"])
        .arg(repo_tenants().join("iwate")));

    // Export: the file reads back as the same tenant, the logo is the same bytes.
    let (out, _) = run(yui(tmp.path(), &db).args(["tenant", "export", "iwate"]));
    assert!(
        out.contains("tenant.toml") && out.contains("logo.svg"),
        "{out}"
    );
    let first = tmp.path().join("iwate");
    let text = std::fs::read_to_string(first.join("tenant.toml")).unwrap();
    let original = parse_tenant_file(
        &std::fs::read_to_string(repo_tenants().join("iwate/tenant.toml")).unwrap(),
    )
    .unwrap();
    assert_eq!(parse_tenant_file(&text).unwrap(), original);
    assert_eq!(
        std::fs::read(first.join("logo.svg")).unwrap(),
        std::fs::read(repo_tenants().join("iwate/logo.svg")).unwrap()
    );

    // Apply the export, export again: the same bytes.
    let (out, _) = run(yui(tmp.path(), &db).args(["tenant", "apply"]).arg(&first));
    assert_eq!(out, "iwate: unchanged\n");
    let second = tmp.path().join("again/iwate");
    run(yui(tmp.path(), &db)
        .args(["tenant", "export", "iwate", "--out"])
        .arg(&second));
    for file in ["tenant.toml", "logo.svg"] {
        assert_eq!(
            std::fs::read(first.join(file)).unwrap(),
            std::fs::read(second.join(file)).unwrap(),
            "{file}"
        );
    }

    // A dry run lists the keys a changed file would change, shortened, and writes nothing.
    let edited = tmp.path().join("edited/iwate");
    std::fs::create_dir_all(&edited).unwrap();
    std::fs::copy(first.join("logo.svg"), edited.join("logo.svg")).unwrap();
    let changed = text.replace("capacity = 40", "capacity = 45").replace(
        "Enren Fukugyo links professionals",
        "A much longer English introduction that goes on and on: Enren Fukugyo links professionals",
    );
    std::fs::write(edited.join("tenant.toml"), &changed).unwrap();
    let (out, _) = run(yui(tmp.path(), &db)
        .args(["tenant", "apply", "--dry-run"])
        .arg(&edited));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with("iwate: intro.en: \"Enren Fukugyo links"),
        "{out}"
    );
    assert!(lines[0].contains("…\" → \"A much longer"), "{out}");
    assert_eq!(
        lines[1],
        "iwate: templates.seminar.capacity: \"40\" → \"45\""
    );
    let (out, _) = run(yui(tmp.path(), &db)
        .args(["tenant", "export", "iwate", "--out"])
        .arg(tmp.path().join("after-dry")));
    assert!(!out.is_empty());
    assert_eq!(
        std::fs::read(tmp.path().join("after-dry/tenant.toml")).unwrap(),
        std::fs::read(first.join("tenant.toml")).unwrap()
    );
}

#[test]
fn a_file_apply_warns_which_page_edits_it_overwrites() {
    let tmp = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/yui.db", tmp.path().display());
    run(yui(tmp.path(), &db)
        .args(["tenant", "apply"])
        .arg(repo_tenants().join("iwate")));
    // An admin edits the mail sender and the colours in pages.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = yui_store::Store::connect(&db, &yui_store::ConnectSettings::default())
            .await
            .unwrap();
        let record = store.tenant_by_slug("iwate").await.unwrap();
        let mut t = record.tenant.clone();
        t.mail.sender_name = "ページで変えた名前".into();
        let mut tx = store.tenant(record.id).write().await.unwrap();
        let email = yui_domain::account::Email::parse("email", "warn-admin@example.jp").unwrap();
        let by = tx
            .create_account(
                yui_store::NewAccount {
                    email: &email,
                    display_name: "管理者",
                    password_hash: None,
                    locale: yui_domain::Locale::Ja,
                },
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        tx.save_settings(SettingsSection::Mail, &t, None, by, chrono::Utc::now())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        store.close().await;
    });
    // The dry run shows it; the real apply warns on stderr, naming the key.
    let (out, _) = run(yui(tmp.path(), &db)
        .args(["tenant", "apply", "--dry-run"])
        .arg(repo_tenants().join("iwate")));
    assert_eq!(
        out,
        "iwate: mail.sender_name: \"ページで変えた名前\" → \"岩手県 遠恋複業 事務局\"\n"
    );
    let (out, err) = run(yui(tmp.path(), &db)
        .args(["tenant", "apply"])
        .arg(repo_tenants().join("iwate")));
    assert_eq!(out, "iwate: updated\n");
    assert!(
        err.contains("warning: iwate: overwrites settings edited in pages since the last file apply: mail.sender_name"),
        "{err}"
    );
    // Applied again: nothing edited since, no warning.
    let (out, err) = run(yui(tmp.path(), &db)
        .args(["tenant", "apply"])
        .arg(repo_tenants().join("iwate")));
    assert_eq!(out, "iwate: unchanged\n");
    assert!(!err.contains("warning"), "{err}");
}
