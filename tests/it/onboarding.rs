//! Onboarding regions from the operator console (and a prefecture onboarding its
//! municipalities), the setup checklist, and the operator overview (issue 14).

use yui_authz::Role;

use crate::invitations::nth_mail_to;
use crate::staff::{grant, person};
use crate::support::{TestApp, on_both_backends};

on_both_backends!(
    TestApp::with_tenants =>
    an_operator_onboards_a_municipality_picked_from_the_list,
    onboarding_refuses_what_is_taken_unknown_or_hostile_and_keeps_the_input,
    a_burst_of_the_same_onboarding_creates_one_region_and_sends_one_mail,
    a_union_is_made_of_members_named_from_the_list,
    a_prefecture_onboards_its_own_municipalities_only,
    the_console_is_for_operators_only,
    the_overview_counts_tenants_by_prefecture_and_state,
);

async fn operator(app: &TestApp) -> reqwest::Client {
    let (ops, id) = person(app, "運営", "ops@yui.example").await;
    grant(app, id, Role::PlatformOperator, None).await;
    ops
}

/// The path of the invitation link in the `n`-th mail to `email`.
async fn invitation_path(app: &TestApp, email: &str, slug: &str, n: usize) -> String {
    let mail = nth_mail_to(app, email, n).await;
    let link = mail
        .links()
        .into_iter()
        .find(|l| l.contains(&format!("/t/{slug}/invitation?token=")))
        .expect("an invitation link");
    link.trim_start_matches(&app.url("")).to_owned()
}

/// Searches the list on the onboarding page and follows the "pick" link of `code`.
async fn pick(
    app: &TestApp,
    ops: &reqwest::Client,
    query: &str,
    code: &str,
) -> crate::support::Page {
    let res = app
        .open(ops, "/ops/tenants/new")
        .await
        .form("/ops/tenants/new")
        .set("q", query)
        .submit(ops)
        .await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    let href = format!("/ops/tenants/new?code={code}");
    assert!(html.contains(&format!("href=\"{href}\"")), "{html}");
    app.open(ops, &href).await
}

async fn an_operator_onboards_a_municipality_picked_from_the_list(app: &TestApp) {
    let ops = operator(app).await;
    // Found by kana as typed on a phone, in katakana.
    let page = pick(app, &ops, "トオノ", "032085").await;
    let form = page.form("/ops/tenants");
    assert_eq!(form.value("slug").as_deref(), Some("tono"));
    assert_eq!(form.value("name_ja").as_deref(), Some("遠野市"));
    assert_eq!(form.value("name_kana").as_deref(), Some("とおのし"));
    assert_eq!(form.value("name_en").as_deref(), Some("Tono City"));
    // Iwate is on Yui: its settings are offered first.
    assert_eq!(form.value("copy_from").as_deref(), Some("iwate"));
    let res = page
        .form("/ops/tenants")
        .set("admin_email", "kikaku@city.tono.example.jp")
        .submit(&ops)
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    assert_eq!(
        res.headers()["location"].to_str().unwrap(),
        "/ops/tenants/tono?done=onboarded"
    );
    let record = app.store.tenant_by_slug("tono").await.unwrap();
    assert!(record.is_setting_up());
    assert_eq!(record.tenant.parent.as_deref(), Some("iwate"));
    assert_eq!(record.tenant.code.as_ref().unwrap().as_str(), "032085");
    let iwate = app.store.tenant_by_slug("iwate").await.unwrap();
    assert_eq!(record.tenant.branding, {
        let mut b = iwate.tenant.branding.clone();
        b.logo = "logo.svg".to_owned();
        b
    });
    assert_eq!(record.tenant.consent.version, 1);
    assert_eq!(record.tenant.templates, iwate.tenant.templates);
    // Audited as the operator's act.
    let audit = crate::support::audit_entries(&app.store, Some(record.id), 10)
        .await
        .unwrap();
    assert!(
        audit.iter().any(|e| e.action == "tenant_created"),
        "{audit:?}"
    );

    // Not listed before it is launched, but its address answers, saying so.
    let home = app.page(&app.client(), "/").await;
    assert!(!home.contains("遠野市"));
    let api: Vec<serde_json::Value> = app.get("/api/v1/tenants").await.json().await.unwrap();
    assert!(api.iter().all(|t| t["slug"] != "tono"));
    let landing = app.page(&app.client(), "/t/tono/").await;
    assert!(landing.contains("公開の準備中") && landing.contains("noindex"));
    for path in [
        "/api/v1/tenants/tono/events",
        "/api/v1/tenants/tono/projects",
    ] {
        assert_eq!(app.get(path).await.status(), 404, "{path}");
    }
    // Nobody joins it yet: its consent wording is not final.
    let (talent, _) = person(app, "人材", "talent@example.jp").await;
    assert_eq!(app.status(&talent, "/t/tono/join").await, 404);
    let console = app.page(&ops, "/ops/tenants/tono").await;
    assert!(console.contains("準備中") && console.contains("返事待ちの管理者の招待があります"));
    // Its audit log, from its console page, is its own.
    assert!(console.contains("href=\"/t/tono/audit\""));
    let log = app.page(&ops, "/t/tono/audit").await;
    assert!(
        log.contains("tenant_created") || log.contains("地域の追加"),
        "{log}"
    );

    // The invited administrator accepts and sees the checklist.
    let path = invitation_path(app, "kikaku@city.tono.example.jp", "tono", 1).await;
    let admin = app.client();
    let res = app
        .open(&admin, &path)
        .await
        .form("/t/tono/invitation")
        .set("display_name", "遠野 企画")
        .set("password", "tono passphrase 2026")
        .set("password_confirm", "tono passphrase 2026")
        .submit(&admin)
        .await;
    assert_eq!(res.status(), 303);
    let setup = app.open(&admin, "/t/tono/setup").await;
    assert_eq!(setup.status(), 200);
    assert_eq!(setup.html().matches("まだ").count(), 5, "{}", setup.html());
    // Launching before the steps are done is refused, and says why.
    let res = setup.form("/t/tono/setup/launch").submit(&admin).await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("まだ済んでいない項目"));
    assert!(
        app.store
            .tenant_by_slug("tono")
            .await
            .unwrap()
            .is_setting_up()
    );
}

async fn onboarding_refuses_what_is_taken_unknown_or_hostile_and_keeps_the_input(app: &TestApp) {
    let ops = operator(app).await;
    // Iwate is on Yui already: the search says so and offers no pick.
    let res = app
        .open(&ops, "/ops/tenants/new")
        .await
        .form("/ops/tenants/new")
        .set("q", "岩手県")
        .submit(&ops)
        .await;
    let html = res.text().await.unwrap();
    assert!(html.contains("href=\"/ops/tenants/iwate\""), "{html}");
    assert!(!html.contains("code=030007"));

    let page = pick(app, &ops, "大船渡", "032034").await;
    // A slug already taken, an English name with markup, a reading in katakana and
    // a broken address: each named, in Japanese, and what was typed stays.
    let res = page
        .form("/ops/tenants")
        .set("slug", "kamaishi")
        .set("name_en", "<script>alert(1)</script>")
        .set("name_kana", "オオフナトシ")
        .set("admin_email", "not-an-address")
        .submit(&ops)
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("ひらがな"), "{html}");
    assert!(html.contains("メールアドレス"));
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;")
            || html.contains("&lt;script&gt;")
    );
    assert!(!html.contains("<script>alert(1)"));
    assert!(html.contains("value=\"not-an-address\""));
    // A name is one line: it goes into mail headers.
    let res = page
        .form("/ops/tenants")
        .forge("name_ja", "大船渡市\r\nBcc: evil@example.com")
        .set("admin_email", "admin@city.ofunato.example.jp")
        .submit(&ops)
        .await;
    assert_eq!(res.status(), 422);
    assert!(app.store.tenant_by_slug("ofunato").await.is_err());
    // Now only the slug is wrong: it is taken.
    let again = crate::support::Page::new(&app.url("/ops/tenants"), html);
    let res = again
        .form("/ops/tenants")
        .set("name_en", "Ofunato City")
        .set("name_kana", "おおふなとし")
        .set("admin_email", "admin@city.ofunato.example.jp")
        .submit(&ops)
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("スラッグ（URLの名前）：同じ名称がすでに登録されています"),
        "{html}"
    );
    assert!(app.store.tenant_by_slug("ofunato").await.is_err());
    // A code forged into the form that is already a tenant, or not on the list.
    for code in ["030007", "999999", "016951"] {
        let res = page
            .form("/ops/tenants")
            .set("slug", "ofunato")
            .set("admin_email", "admin@city.ofunato.example.jp")
            .forge("code", code)
            .submit(&ops)
            .await;
        assert_eq!(res.status(), 422, "{code}");
    }
    // A copy source that is not offered (another prefecture's region) is refused.
    let res = page
        .form("/ops/tenants")
        .set("admin_email", "admin@city.ofunato.example.jp")
        .forge("copy_from", "amami")
        .submit(&ops)
        .await;
    assert_eq!(res.status(), 422);
    assert!(app.store.tenant_by_slug("ofunato").await.is_err());
    // In English, the same mistake is named in English.
    let res = app
        .open(&ops, "/ops/tenants/new?code=032034&lang=en")
        .await
        .form("/ops/tenants")
        .set("slug", "Bad Slug")
        .set("admin_email", "admin@city.ofunato.example.jp")
        .submit(&ops)
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("lowercase letter"));
}

async fn a_burst_of_the_same_onboarding_creates_one_region_and_sends_one_mail(app: &TestApp) {
    let ops = operator(app).await;
    let page = pick(app, &ops, "花巻", "032051").await;
    let mut form = page.form("/ops/tenants");
    form.set("admin_email", "admin@city.hanamaki.example.jp");
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let (form, ops) = (form.clone(), ops.clone());
        set.spawn(async move { form.submit(&ops).await.status().as_u16() });
    }
    let mut statuses = Vec::new();
    while let Some(s) = set.join_next().await {
        statuses.push(s.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|&&s| s == 303).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|&s| s == 303 || s == 422),
        "{statuses:?}"
    );
    nth_mail_to(app, "admin@city.hanamaki.example.jp", 1).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let mails = app
        .sink
        .inbox()
        .messages()
        .into_iter()
        .filter(|m| {
            m.rcpt_to
                .iter()
                .any(|a| a == "admin@city.hanamaki.example.jp")
        })
        .count();
    assert_eq!(mails, 1);
}

async fn a_union_is_made_of_members_named_from_the_list(app: &TestApp) {
    let ops = operator(app).await;
    let page = app.open(&ops, "/ops/tenants/new?kind=union").await;
    let fill = |members: &str| {
        let mut f = page.form("/ops/tenants");
        f.set("slug", "hokubu")
            .set("name_ja", "北部広域連合")
            .set("name_kana", "ほくぶこういきれんごう")
            .set("name_en", "Northern Union")
            .set("members", members)
            .set("admin_email", "admin@hokubu.example.jp");
        f
    };
    // An ambiguous name lists both, each with its prefecture.
    let res = fill("伊達市\n一関市").submit(&ops).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("北海道伊達市") && html.contains("福島県伊達市"),
        "{html}"
    );
    assert!(
        html.contains(">伊達市\r\n一関市</textarea>")
            || html.contains(">伊達市\n一関市</textarea>"),
        "the lines are kept: {html}"
    );
    let res = fill("一関市").submit(&ops).await;
    assert_eq!(res.status(), 422);
    let res = fill("一関市\n032115\n福島県伊達市").submit(&ops).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let record = app.store.tenant_by_slug("hokubu").await.unwrap();
    assert_eq!(record.tenant.kind, yui_domain::TenantKind::Union);
    let codes: Vec<_> = record
        .tenant
        .members
        .iter()
        .map(|m| m.code.as_str())
        .collect();
    assert_eq!(codes, ["032093", "032115", "072133"]);
    assert_eq!(record.tenant.parent, None);
    let unions = app.page(&ops, "/ops/prefectures/unions").await;
    assert!(unions.contains("北部広域連合"));
    let console = app.page(&ops, "/ops/tenants/hokubu").await;
    assert!(console.contains("072133"));
}

async fn a_prefecture_onboards_its_own_municipalities_only(app: &TestApp) {
    let (iwate_admin, id) = person(app, "岩手 管理者", "admin@iwate.example").await;
    grant(app, id, Role::TenantAdmin, Some("iwate")).await;
    let list = app.open(&iwate_admin, "/t/iwate/municipalities").await;
    assert_eq!(list.status(), 200);
    // Those on Yui link to their page; the others can be invited.
    assert!(list.html().contains("href=\"/t/kamaishi/\""));
    assert!(
        list.html()
            .contains("href=\"/t/iwate/municipalities?code=032026\"")
    );
    let page = app
        .open(&iwate_admin, "/t/iwate/municipalities?code=032026")
        .await;
    let res = page
        .form("/t/iwate/municipalities")
        .set("admin_email", "admin@city.miyako.example.jp")
        .submit(&iwate_admin)
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let miyako = app.store.tenant_by_slug("miyako").await.unwrap();
    assert_eq!(miyako.tenant.parent.as_deref(), Some("iwate"));
    assert!(miyako.is_setting_up());
    invitation_path(app, "admin@city.miyako.example.jp", "miyako", 1).await;
    // Another prefecture's municipality, forged into the form, is refused.
    let res = page
        .form("/t/iwate/municipalities")
        .set("slug", "chiyoda")
        .set("admin_email", "x@example.jp")
        .forge("code", "131016")
        .submit(&iwate_admin)
        .await;
    assert_eq!(res.status(), 422);
    assert!(app.store.tenant_by_slug("chiyoda").await.is_err());
    // So is a union.
    let res = page
        .form("/t/iwate/municipalities")
        .set("slug", "iwate-union")
        .set("admin_email", "x@example.jp")
        .forge("kind", "union")
        .submit(&iwate_admin)
        .await;
    assert_eq!(res.status(), 422);
    assert!(app.store.tenant_by_slug("iwate-union").await.is_err());
    // A municipality has no municipalities; another region's admin sees nothing.
    let (kamaishi_admin, id) = person(app, "釜石 管理者", "admin@kamaishi.example").await;
    grant(app, id, Role::TenantAdmin, Some("kamaishi")).await;
    assert_eq!(
        app.status(&kamaishi_admin, "/t/kamaishi/municipalities")
            .await,
        404
    );
    assert_eq!(
        app.status(&kamaishi_admin, "/t/iwate/municipalities").await,
        404
    );
    assert_eq!(app.status(&kamaishi_admin, "/t/iwate/setup").await, 404);
    let res = page
        .form("/t/iwate/municipalities")
        .set("slug", "hanamaki")
        .set("admin_email", "x@example.jp")
        .forge("code", "032051")
        .submit(&kamaishi_admin)
        .await;
    assert_ne!(res.status(), 303);
    assert!(app.store.tenant_by_slug("hanamaki").await.is_err());
}

async fn the_console_is_for_operators_only(app: &TestApp) {
    let ops = operator(app).await;
    let (admin, id) = person(app, "岩手 管理者", "admin@iwate.example").await;
    grant(app, id, Role::TenantAdmin, Some("iwate")).await;
    let anon = app.client();
    for path in [
        "/ops/tenants/new",
        "/ops/tenants/new?code=032085",
        "/ops/prefectures/03",
        "/ops/tenants/iwate",
    ] {
        assert_eq!(app.status(&ops, path).await, 200, "{path}");
        assert_eq!(app.status(&admin, path).await, 404, "{path}");
        assert_eq!(app.status(&anon, path).await, 303, "{path}");
    }
    assert_eq!(app.status(&ops, "/ops/prefectures/99").await, 404);
    assert_eq!(app.status(&ops, "/ops/tenants/nowhere").await, 404);
    // The operator's form, sent by a tenant admin with a token of their own.
    let form = app.open(&ops, "/ops/tenants/new?code=032085").await;
    let token = app
        .open(&admin, "/account")
        .await
        .form("/account")
        .value("csrf")
        .unwrap();
    let res = form
        .form("/ops/tenants")
        .set("admin_email", "a@example.jp")
        .forge("csrf", &token)
        .submit(&admin)
        .await;
    assert_eq!(res.status(), 404);
    assert!(app.store.tenant_by_slug("tono").await.is_err());
    // A live region gets no administrator from the console: an operator could
    // otherwise make themselves its staff and read its members.
    let page = app.open(&ops, "/ops/tenants/iwate").await;
    assert!(!page.html().contains("/ops/tenants/iwate/invite"));
    let ops_token = page
        .form("/ops/tenants/iwate/leaving")
        .value("csrf")
        .unwrap();
    let res = ops
        .post(app.url("/ops/tenants/iwate/invite"))
        .form(&[
            ("csrf", ops_token.as_str()),
            ("admin_email", "ops@yui.example"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    // A region being set up: the operator re-invites; a bad address is named and kept.
    let res = app
        .open(&ops, "/ops/tenants/new?code=032085")
        .await
        .form("/ops/tenants")
        .set("admin_email", "first@city.tono.example.jp")
        .submit(&ops)
        .await;
    assert_eq!(res.status(), 303);
    let page = app.open(&ops, "/ops/tenants/tono").await;
    // The operator's invitation form, sent by a tenant admin with their own token.
    let res = page
        .form("/ops/tenants/tono/invite")
        .set("admin_email", "b@example.jp")
        .forge("csrf", &token)
        .submit(&admin)
        .await;
    assert_eq!(res.status(), 404);
    let res = page
        .form("/ops/tenants/tono/invite")
        .set("admin_email", "bad address")
        .submit(&ops)
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("value=\"bad address\""));
    let res = page
        .form("/ops/tenants/tono/invite")
        .set("admin_email", "second@city.tono.example.jp")
        .submit(&ops)
        .await;
    assert_eq!(res.status(), 303);
    invitation_path(app, "second@city.tono.example.jp", "tono", 1).await;
}

async fn the_overview_counts_tenants_by_prefecture_and_state(app: &TestApp) {
    let ops = operator(app).await;
    let html = app.page(&ops, "/ops/").await;
    // Every prefecture has its row; Iwate's three regions are live.
    assert_eq!(
        html.matches("href=\"/ops/prefectures/").count(),
        48,
        "{html}"
    );
    assert!(
        html.contains(
            "href=\"/ops/prefectures/03\">岩手県</a></th>\n    <td>0</td>\n    <td>3</td>"
        ),
        "{html}"
    );
    let iwate = app.page(&ops, "/ops/prefectures/03").await;
    for slug in ["iwate", "ichinoseki", "kamaishi"] {
        assert!(
            iwate.contains(&format!("href=\"/ops/tenants/{slug}\"")),
            "{slug}"
        );
    }
    // No person's name or address on the overview pages.
    let (_, id) = person(app, "個人 情報", "private.person@example.jp").await;
    grant(app, id, Role::TenantAdmin, Some("iwate")).await;
    for path in ["/ops/", "/ops/prefectures/03", "/ops/tenants/iwate"] {
        let html = app.page(&ops, path).await;
        assert!(
            !html.contains("private.person") && !html.contains("個人 情報"),
            "{path}"
        );
    }
    let en = app.page(&ops, "/ops/prefectures/03?lang=en").await;
    assert!(en.contains("Iwate Prefecture") && en.contains("Live"));
}
