//! Server-rendered pages in Japanese and English.

use crate::support::{TestApp, on_both_backends};

on_both_backends!(
    TestApp::with_tenants =>
    home_lists_regions_with_municipalities_nested,
    english_by_query_header_or_remembered_switch,
    unknown_tenant_is_a_404_page,
    assets_are_cached_and_safe,
    every_page_has_an_icon_and_answers_compressed,
);
// The landing page shows the demo introduction.
on_both_backends!(TestApp::with_demo => tenant_landing_page_in_its_branding);

async fn text(app: &TestApp, path: &str, lang_header: Option<&str>) -> (u16, String) {
    let mut req = app.client().get(app.url(path));
    if let Some(l) = lang_header {
        req = req.header("accept-language", l);
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn home_lists_regions_with_municipalities_nested(app: &TestApp) {
    // The home page lists the prefectures and unions; a prefecture's page lists its
    // municipalities (with 1,788 tenants the home page stays small).
    let (status, html) = text(app, "/", None).await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"<html lang="ja">"#));
    for name in ["岩手県", "奄美群島広域事務組合"] {
        assert!(html.contains(name), "{name} missing");
    }
    for name in ["一関市", "釜石市"] {
        assert!(
            !html.contains(name),
            "{name} should be on Iwate's page only"
        );
    }
    // One landmark each, a skip link to main.
    assert!(html.contains(r##"<a class="skip-link" href="#main">"##));
    assert!(html.contains(r#"<main id="main""#));
    // Iwate (by code) before Amami (a union, no code); Iwate shows its two municipalities.
    let iwate = html.find(r#"href="/t/iwate/""#).unwrap();
    let amami = html.find(r#"href="/t/amami/""#).unwrap();
    assert!(iwate < amami);
    assert!(html.contains("県内の参加市町村 2"));
    let (_, iwate_page) = text(app, "/t/iwate/", None).await;
    let ichinoseki = iwate_page.find(r#"href="/t/ichinoseki/""#).unwrap();
    let kamaishi = iwate_page.find(r#"href="/t/kamaishi/""#).unwrap();
    assert!(ichinoseki < kamaishi);
    let (_, amami_page) = text(app, "/t/amami/", None).await;
    assert!(amami_page.contains("与論町"));
    // A search by reading or name finds municipalities too.
    let (status, found) = text(app, "/?q=%E3%81%8B%E3%81%BE%E3%81%84%E3%81%97", None).await;
    assert_eq!(status, 200);
    assert!(found.contains(r#"href="/t/kamaishi/""#));
    assert!(!found.contains(r#"href="/t/ichinoseki/""#));
    let (_, none) = text(app, "/?q=%25", None).await;
    assert!(!none.contains(r#"href="/t/"#), "a % is taken literally");
}

async fn english_by_query_header_or_remembered_switch(app: &TestApp) {
    let (_, html) = text(app, "/?lang=en", None).await;
    assert!(html.contains(r#"<html lang="en">"#));
    assert!(html.contains("Iwate Prefecture"));
    let (_, html) = text(app, "/", Some("en-GB,en;q=0.9,ja;q=0.5")).await;
    assert!(html.contains("Iwate Prefecture"));
    let (_, html) = text(app, "/", Some("fr")).await;
    assert!(
        html.contains(r#"<html lang="ja">"#),
        "an unknown language falls back to Japanese"
    );

    // The visible switch sets a cookie and returns to the page it was on.
    let client = app.client();
    let (_, html) = text(app, "/t/amami/", None).await;
    assert!(
        html.contains(r#"href="/lang/en?next=%2Ft%2Famami%2F""#),
        "switch link on the page"
    );
    let res = client
        .get(app.url("/lang/en?next=%2Ft%2Famami%2F"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/t/amami/");
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.starts_with("yui_lang=en")
            && cookie.contains("SameSite=Lax")
            && cookie.contains("Path=/"),
        "{cookie}"
    );
    let html = app.page(&client, "/t/amami/").await;
    assert!(html.contains(r#"<html lang="en">"#));
    assert!(html.contains("Amami"));
    // Remembered across pages, and switched back the same way.
    let html = app.page(&client, "/").await;
    assert!(html.contains("Participating regions"));
    client.get(app.url("/lang/ja?next=/")).send().await.unwrap();
    let html = app.page(&client, "/").await;
    assert!(html.contains("参加している地域"));

    // The switch only returns to local paths.
    for next in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
    ] {
        let q: String = url_encode(next);
        let res = client
            .get(app.url(&format!("/lang/en?next={q}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["location"], "/", "{next}");
    }
}

fn url_encode(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

async fn tenant_landing_page_in_its_branding(app: &TestApp) {
    let (status, html) = text(app, "/t/amami/", None).await;
    assert_eq!(status, 200);
    assert!(html.contains("奄美群島広域事務組合"));
    assert!(html.contains(r#"href="/t/amami/theme.css?v="#));
    assert!(html.contains(r#"src="/t/amami/logo.svg""#));
    for member in [
        "奄美市",
        "大和村",
        "宇検村",
        "瀬戸内町",
        "龍郷町",
        "喜界町",
        "徳之島町",
        "天城町",
        "伊仙町",
        "和泊町",
        "知名町",
        "与論町",
    ] {
        assert!(html.contains(member), "{member}");
    }
    // The demo introduction, in each language.
    assert!(html.contains(r#"<section class="intro""#));
    let (_, en) = text(app, "/t/amami/?lang=en", None).await;
    assert!(en.contains("Amami"));
    assert!(
        !en.contains("奄美群島広域事務組合</"),
        "English page shows the English name"
    );

    // A municipality links to its prefecture; the prefecture lists its municipalities.
    let (_, html) = text(app, "/t/ichinoseki/", None).await;
    assert!(html.contains(r#"<a href="/t/iwate/">岩手県</a>"#));
    assert!(
        !html.contains("奄美"),
        "nothing of another tenant on the page"
    );
    let (_, html) = text(app, "/t/iwate/", None).await;
    assert!(html.contains(r#"href="/t/kamaishi/""#));
    assert!(!html.contains("奄美"));

    // /t/<slug> without the slash redirects.
    let res = app.get("/t/iwate").await;
    assert_eq!(res.status(), 308);
    assert_eq!(res.headers()["location"], "/t/iwate/");

    let res = app.get("/t/amami/theme.css?v=1").await;
    assert_eq!(res.status(), 200);
    let css = res.text().await.unwrap();
    assert!(
        css.contains("--brand: #") && css.contains("--accent: #"),
        "{css}"
    );
}

async fn unknown_tenant_is_a_404_page(app: &TestApp) {
    for path in [
        "/t/atlantis/",
        "/t/atlantis/logo.svg",
        "/t/atlantis/theme.css",
        "/no/such/page",
        "/t/%3Cscript%3E/",
    ] {
        let (status, html) = text(app, path, None).await;
        assert_eq!(status, 404, "{path}");
        assert!(html.contains("ページが見つかりません"), "{path}");
        assert!(!html.contains("<script>"), "{path}");
    }
    let (status, html) = text(app, "/t/atlantis/", Some("en")).await;
    assert_eq!(status, 404);
    assert!(html.contains("Page not found"));
}

async fn assets_are_cached_and_safe(app: &TestApp) {
    let html = app.get("/").await.text().await.unwrap();
    let start = html.find("/static/style.").unwrap();
    let href = &html[start..start + html[start..].find('"').unwrap()];
    let res = app.get(href).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert_eq!(app.get("/static/style.00000000.css").await.status(), 404);

    let res = app.get("/t/iwate/logo.svg").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/svg+xml");
    assert!(
        res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox")
    );
    assert!(res.text().await.unwrap().contains("<svg"));

    let res = app.get("/").await;
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert!(
        res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert_eq!(res.headers()["content-language"], "ja");
}

async fn every_page_has_an_icon_and_answers_compressed(app: &TestApp) {
    let res = app.get("/favicon.ico").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/svg+xml");
    assert!(app.page(&app.client(), "/").await.contains(r#"rel="icon""#));
    // reqwest here does not decode: the raw answer shows the encoding.
    let res = app
        .client()
        .get(app.url("/"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-encoding"], "gzip");
    let plain = app.page(&app.client(), "/").await.len();
    let packed = res.bytes().await.unwrap().len();
    assert!(packed < plain, "{packed} compressed bytes for {plain}");
}
