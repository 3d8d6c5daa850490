//! A real browser: headless Chromium driven through WebDriver (chromedriver).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{ClientBuilder, Locator, key::Key};

use crate::support::{Backend, TestApp};

/// chromedriver on a free port, stopped when dropped.
struct Driver {
    child: Child,
    port: u16,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find(name: &str, candidates: &[&str]) -> Option<String> {
    std::env::var(name).ok().or_else(|| {
        candidates
            .iter()
            .find(|p| std::path::Path::new(p).exists())
            .map(|p| (*p).to_owned())
    })
}

async fn start_driver() -> Option<(Driver, String)> {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    let driver = find("YUI_TEST_CHROMEDRIVER", &["/usr/bin/chromedriver"]);
    let chromium = find(
        "YUI_TEST_CHROMIUM",
        &["/usr/bin/chromium", "/usr/bin/chromium-browser"],
    );
    let (Some(driver), Some(chromium)) = (driver, chromium) else {
        assert!(
            !ci,
            "CI=true but chromium/chromedriver are not installed (apt-get install chromium chromium-driver)"
        );
        eprintln!("skipping browser test: chromium and chromium-driver are not installed");
        return None;
    };
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let d = Driver {
        child,
        port,
        _profile: tempfile::tempdir().unwrap(),
    };
    for _ in 0..100 {
        if reqwest::get(format!("http://127.0.0.1:{port}/status"))
            .await
            .is_ok()
        {
            return Some((d, chromium));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start");
}

/// A WebDriver session in headless Chromium, ended when dropped by `finish`.
struct Browser {
    client: fantoccini::Client,
    /// Where the browser saves downloaded files.
    downloads: std::path::PathBuf,
    _driver: Driver,
}

async fn open_browser() -> Option<Browser> {
    let (driver, chromium) = start_driver().await?;
    // Two TLS back-ends are linked into the test binary; WebDriver needs one chosen.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let profile = driver._profile.path().display().to_string();
    let downloads = driver._profile.path().join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let caps = serde_json::json!({
        "goog:chromeOptions": {
            "binary": chromium,
            // A Japanese user's browser: the page must start in Japanese. Downloads
            // are saved without asking, where the test reads them.
            "prefs": {
                "intl.accept_languages": "ja,ja-JP",
                "download.default_directory": downloads.display().to_string(),
                "download.prompt_for_download": false,
            },
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-quic", "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--lang=ja",
                     format!("--user-data-dir={profile}")]
        }
    });
    let caps = caps.as_object().unwrap().clone();
    let client = ClientBuilder::rustls()
        .unwrap()
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("WebDriver session");
    Some(Browser {
        client,
        downloads,
        _driver: driver,
    })
}

type Steps = Result<(), fantoccini::error::CmdError>;

async fn text_of(c: &fantoccini::Client, css: &str) -> Result<String, fantoccini::error::CmdError> {
    c.find(Locator::Css(css)).await?.text().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switch_to_english_and_visit_amami() {
    let Some(browser) = open_browser().await else {
        return;
    };
    let app = TestApp::with_tenants(Backend::Sqlite).await.unwrap();
    let c = &browser.client;
    let result: Steps = async {
        c.goto(&app.url("/")).await?;
        assert_eq!(text_of(c, "h1").await?, "参加している地域");

        // Keyboard first: Tab reaches the skip link before anything else.
        c.find(Locator::Css("body"))
            .await?
            .send_keys(&Key::Tab.to_string())
            .await?;
        assert_eq!(c.active_element().await?.text().await?, "本文へスキップ");

        c.find(Locator::Css(".lang-switch a"))
            .await?
            .click()
            .await?;
        for _ in 0..50 {
            if text_of(c, "h1").await? != "参加している地域" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(text_of(c, "h1").await?, "Participating regions");

        c.find(Locator::Css(r#"a[href="/t/amami/"]"#))
            .await?
            .click()
            .await?;
        arrive(c, "/t/amami/").await?;
        assert_eq!(text_of(c, "h1").await?, "Amami Islands Regional Union");
        let lang = c.find(Locator::Css("html")).await?.attr("lang").await?;
        assert_eq!(lang.as_deref(), Some("en"));
        Ok(())
    }
    .await;
    browser.client.close().await.ok();
    app.stop().await;
    result.expect("browser steps");
}

/// Waits for a navigation (a click on a link or a form submission) to arrive at `path`.
async fn arrive(c: &fantoccini::Client, path: &str) -> Steps {
    for _ in 0..100 {
        if c.current_url().await?.path() == path {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "never arrived at {path}; at {} with:\n{}",
        c.current_url().await?,
        c.source().await?
    );
}

async fn fill(c: &fantoccini::Client, id: &str, value: &str) -> Steps {
    c.find(Locator::Id(id)).await?.send_keys(value).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_verify_by_mail_sign_in_sign_out() {
    let Some(browser) = open_browser().await else {
        return;
    };
    let app = TestApp::empty(Backend::Sqlite).await.unwrap();
    let c = &browser.client;
    let result: Steps = async {
        c.goto(&app.url("/")).await?;
        c.find(Locator::LinkText("新規登録")).await?.click().await?;
        fill(c, "f-display_name", "山田 太郎").await?;
        fill(c, "f-email", "taro@example.jp").await?;
        fill(c, "f-password", "yamada's passphrase").await?;
        fill(c, "f-password_confirm", "yamada's passphrase").await?;
        click_and_load(c, c.find(Locator::Css("form button[type=submit]")).await?).await?;
        arrive(c, "/account").await?;
        assert!(text_of(c, ".account-facts").await?.contains("未確認"));

        // The verification mail arrives at the SMTP sink; open its link.
        let mail = app
            .sink
            .inbox()
            .wait_for_mail_to("taro@example.jp", std::time::Duration::from_secs(20))
            .await
            .unwrap();
        let link = mail
            .links()
            .into_iter()
            .find(|l| l.contains("/verify?token="))
            .expect("a verification link");
        c.goto(&link).await?;
        assert_eq!(text_of(c, "h1").await?, "メールアドレスを確認しました");

        c.goto(&app.url("/account")).await?;
        assert!(text_of(c, ".account-facts").await?.contains("確認済み"));
        click_and_load(
            c,
            c.find(Locator::Css(r#"form[action="/signout"] button"#))
                .await?,
        )
        .await?;
        arrive(c, "/").await?;
        assert!(c.find(Locator::LinkText("ログイン")).await.is_ok());

        c.find(Locator::LinkText("ログイン")).await?.click().await?;
        fill(c, "f-email", "TARO@example.jp").await?;
        fill(c, "f-password", "yamada's passphrase").await?;
        click_and_load(c, c.find(Locator::Css("form button[type=submit]")).await?).await?;
        // A person without a staff role lands on their dashboard.
        arrive(c, "/me").await?;
        c.goto(&app.url("/account")).await?;
        click_and_load(
            c,
            c.find(Locator::Css(r#"form[action="/signout"] button"#))
                .await?,
        )
        .await?;
        arrive(c, "/").await?;
        c.goto(&app.url("/account")).await?;
        arrive(c, "/signin").await?;
        Ok(())
    }
    .await;
    browser.client.close().await.ok();
    app.stop().await;
    result.expect("browser steps");
}

/// Every demo account's password (README).
const DEMO_PASSWORD: &str = "yui-demo-2026";
const DEMO_ADMIN: &str = "admin@iwate.demo.yui.example";
const DEMO_OPERATOR: &str = "operator@demo.yui.example";

/// Clicks the submit button of the form posting to `action` and waits for the answer.
async fn submit(c: &fantoccini::Client, action: &str) -> Steps {
    let button = c
        .find(Locator::Css(&format!(
            r#"form[action="{action}"] button[type=submit]"#
        )))
        .await?;
    click_and_load(c, button).await
}

/// Clicks `button`, which submits a form, and waits until the answer's page has
/// loaded. The answer often comes back at the URL already shown, so a path proves
/// nothing: the old document carries a mark the new one lacks. Without this wait the
/// next step acts on the old page, or its navigation cancels the POST in flight.
async fn click_and_load(c: &fantoccini::Client, button: fantoccini::elements::Element) -> Steps {
    c.execute("window.__yuiOld = true;", vec![]).await?;
    button.click().await?;
    for _ in 0..300 {
        // While the page changes, a script may fail to run: that is "not yet".
        let state = c
            .execute(
                "return window.__yuiOld === true ? 'old' : document.readyState;",
                vec![],
            )
            .await;
        if matches!(&state, Ok(v) if v == "complete") {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "the form's answer never loaded; at {} with:\n{}",
        c.current_url().await?,
        c.source().await?
    );
}

/// Waits for the page answered with errors: its error summary.
async fn error_summary(
    c: &fantoccini::Client,
) -> Result<fantoccini::elements::Element, fantoccini::error::CmdError> {
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Id("error-summary"))
        .await
}

async fn sign_in_as(c: &fantoccini::Client, app: &TestApp, email: &str) -> Steps {
    c.goto(&app.url("/signin")).await?;
    fill(c, "f-email", email).await?;
    fill(c, "f-password", DEMO_PASSWORD).await?;
    submit(c, "/signin").await?;
    // Staff land on /account, talents on /me.
    for _ in 0..100 {
        let path = c.current_url().await?.path().to_owned();
        if path == "/account" || path == "/me" {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{email} never arrived after signing in; at {}",
        c.current_url().await?
    );
}

/// Forgets the session (and the language cookie), as a new visitor.
async fn sign_out(c: &fantoccini::Client) -> Steps {
    c.delete_all_cookies().await
}

/// Chooses the language with the header's switch (a remembered cookie).
async fn choose_language(c: &fantoccini::Client, app: &TestApp, lang: &str) -> Steps {
    c.goto(&app.url(&format!("/lang/{lang}?next=/"))).await?;
    arrive(c, "/").await
}

async fn page_lang(c: &fantoccini::Client) -> Result<String, fantoccini::error::CmdError> {
    Ok(c.find(Locator::Css("html"))
        .await?
        .attr("lang")
        .await?
        .unwrap_or_default())
}

/// The id of the focused element ("" when it has none). The browser moves the focus to
/// an `autofocus` element at its next rendering after the load: this waits for it, up
/// to 5 s, when `expected` is not focused yet.
async fn focused_id(
    c: &fantoccini::Client,
    expected: &str,
) -> Result<String, fantoccini::error::CmdError> {
    let mut id = String::new();
    for _ in 0..50 {
        id = c
            .active_element()
            .await?
            .attr("id")
            .await?
            .unwrap_or_default();
        if id == expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn form_errors_come_from_the_server_and_take_the_focus() {
    let Some(browser) = open_browser().await else {
        return;
    };
    let app = TestApp::with_demo(Backend::Sqlite).await.unwrap();
    crate::form_pages::demo_accounts(&app).await;
    let c = &browser.client;
    let result: Steps = async {
        // Empty required fields reach the server (novalidate): its Japanese messages show,
        // and the summary has the focus without any script.
        c.goto(&app.url("/signup")).await?;
        submit(c, "/signup").await?;
        let summary = error_summary(c).await?;
        snapshot(c, "signup-errors").await?;
        assert_eq!(focused_id(c, "error-summary").await?, "error-summary");
        assert_eq!(summary.attr("role").await?.as_deref(), Some("alert"));
        assert!(summary.text().await?.contains("表示名：入力してください"));
        assert!(
            c.title().await?.starts_with("エラー："),
            "{}",
            c.title().await?
        );
        // The keyboard goes on from the summary to its links, and a link leads to its field.
        summary.send_keys(&Key::Tab.to_string()).await?;
        let link = c.active_element().await?;
        assert_eq!(link.attr("href").await?.as_deref(), Some("#f-display_name"));
        link.send_keys(&Key::Enter.to_string()).await?;
        assert_eq!(c.current_url().await?.fragment(), Some("f-display_name"));

        // A wrong password is a refusal in the same alert, not a notice.
        c.goto(&app.url("/signin")).await?;
        fill(c, "f-email", DEMO_ADMIN).await?;
        fill(c, "f-password", "not the password").await?;
        submit(c, "/signin").await?;
        let summary = error_summary(c).await?;
        snapshot(c, "signin-refused").await?;
        assert_eq!(focused_id(c, "error-summary").await?, "error-summary");
        assert!(
            summary
                .text()
                .await?
                .contains("メールアドレスまたはパスワードが正しくありません")
        );
        assert!(c.find_all(Locator::Css(".notice")).await?.is_empty());

        sign_in_as(c, &app, DEMO_ADMIN).await?;
        // The browser would refuse "coordinator@" itself, in its own words, and never send it.
        c.goto(&app.url("/t/iwate/staff")).await?;
        fill(c, "f-email", "coordinator@").await?;
        submit(c, "/t/iwate/staff").await?;
        let summary = error_summary(c).await?;
        snapshot(c, "staff-errors").await?;
        assert_eq!(focused_id(c, "error-summary").await?, "error-summary");
        assert!(
            summary
                .text()
                .await?
                .contains("メールアドレス：メールアドレスの形式が正しくありません")
        );
        let email = c.find(Locator::Id("f-email")).await?;
        assert_eq!(email.attr("aria-invalid").await?.as_deref(), Some("true"));
        assert!(c.title().await?.starts_with("エラー："));

        c.goto(&app.url("/account")).await?;
        c.find(Locator::Id("f-display_name")).await?.clear().await?;
        submit(c, "/account").await?;
        let summary = error_summary(c).await?;
        assert_eq!(focused_id(c, "error-summary").await?, "error-summary");
        assert!(summary.text().await?.contains("表示名：入力してください"));

        c.goto(&app.url("/account/tokens")).await?;
        submit(c, "/account/tokens").await?;
        let summary = error_summary(c).await?;
        assert_eq!(focused_id(c, "error-summary").await?, "error-summary");
        assert!(summary.text().await?.contains("名前：入力してください"));

        // In English the title says so in English.
        choose_language(c, &app, "en").await?;
        c.goto(&app.url("/account")).await?;
        c.find(Locator::Id("f-display_name")).await?.clear().await?;
        submit(c, "/account").await?;
        error_summary(c).await?;
        assert_eq!(focused_id(c, "error-summary").await?, "error-summary");
        assert!(
            c.title().await?.starts_with("Error: "),
            "{}",
            c.title().await?
        );
        Ok(())
    }
    .await;
    browser.client.close().await.ok();
    app.stop().await;
    result.expect("browser steps");
}

/// With `YUI_TEST_SCREENSHOTS=<folder>`, saves what the browser shows there as
/// `<name>.png`, to look at the pages as a person would.
async fn snapshot(c: &fantoccini::Client, name: &str) -> Steps {
    if let Ok(dir) = std::env::var("YUI_TEST_SCREENSHOTS") {
        let name: String = name
            .chars()
            .map(|ch| {
                if ch.is_ascii_alphanumeric() || ch == '-' {
                    ch
                } else {
                    '_'
                }
            })
            .collect();
        std::fs::write(format!("{dir}/{name}.png"), c.screenshot().await?).unwrap();
    }
    Ok(())
}

/// Makes the page's viewport `width` CSS pixels wide (the window's frame, if any,
/// is added).
async fn set_viewport(c: &fantoccini::Client, width: u32) -> Steps {
    c.set_window_size(width, 800).await?;
    let inner = c.execute("return window.innerWidth", vec![]).await?;
    let inner = inner.as_u64().unwrap_or(u64::from(width)) as u32;
    if inner != width {
        c.set_window_size(width + width.saturating_sub(inner), 800)
            .await?;
    }
    let inner = c.execute("return window.innerWidth", vec![]).await?;
    assert_eq!(inner.as_u64(), Some(u64::from(width)), "viewport width");
    Ok(())
}

/// What does not fit the screen: the page scrolls sideways, or a header link breaks
/// inside its words.
async fn misfits(c: &fantoccini::Client) -> Result<Vec<String>, fantoccini::error::CmdError> {
    let found = c
        .execute(
            r#"
            const out = [];
            const d = document.documentElement;
            if (d.scrollWidth > d.clientWidth) {
              out.push(`the page is ${d.scrollWidth}px wide in a ${d.clientWidth}px viewport`);
              for (const el of document.body.querySelectorAll('*')) {
                const r = el.getBoundingClientRect();
                // What a table's scroll box clips is fine; what escapes it (absolutely
                // positioned) is not.
                const clipped = el.closest('.table-scroll') && getComputedStyle(el).position !== 'absolute';
                if (r.right > d.clientWidth + 1 && !clipped) {
                  out.push(`  ${el.tagName.toLowerCase()}${el.className ? '.' + el.className : ''} reaches ${Math.round(r.right)}px`);
                }
              }
            }
            // Table cells squeezed to a character or two a line.
            for (const cell of document.querySelectorAll('td, th')) {
              const r = cell.getBoundingClientRect();
              if (r.width === 0) continue;
              const fs = parseFloat(getComputedStyle(cell).fontSize);
              const range = document.createRange();
              range.selectNodeContents(cell);
              const lines = new Set(Array.from(range.getClientRects()).map(r => Math.round(r.top)));
              if (lines.size > 2 && r.width < 3.5 * fs) {
                out.push(`the table cell "${cell.textContent.trim().slice(0, 20)}" is ${Math.round(r.width)}px wide over ${lines.size} lines`);
              }
            }
            // Fields too small to touch (44 CSS pixels, as the forms' fields are).
            for (const el of document.querySelectorAll('main input:not([type=checkbox]):not([type=radio]):not([type=hidden]), main select, main textarea')) {
              const r = el.getBoundingClientRect();
              if (r.width > 0 && r.height < 44) {
                out.push(`the field ${el.tagName.toLowerCase()}#${el.id || el.name} is ${Math.round(r.height)}px tall`);
              }
            }
            for (const a of document.querySelectorAll('.header-nav a')) {
              if (a.closest('.account-link')) continue;
              const range = document.createRange();
              range.selectNodeContents(a);
              const lines = new Set(Array.from(range.getClientRects()).map(r => Math.round(r.top)));
              if (lines.size > 1) out.push(`the header link "${a.textContent}" breaks over ${lines.size} lines`);
            }
            return out;
            "#,
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(found).unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_fit_phone_screens() {
    let Some(browser) = open_browser().await else {
        return;
    };
    let app = TestApp::with_demo(Backend::Sqlite).await.unwrap();
    crate::form_pages::demo_accounts(&app).await;
    let demo = DemoPages::load(&app).await;
    // An open invitation to a long address: on the staff list and on its own page.
    let admin = app.client();
    crate::accounts::sign_in(&app, &admin, DEMO_ADMIN, DEMO_PASSWORD).await;
    let long = "a.rather.long.address.of.a.coordinator@ichinoseki.demo.yui.example";
    app.open(&admin, "/t/iwate/staff")
        .await
        .form("/t/iwate/staff")
        .set("email", long)
        .submit(&admin)
        .await;
    let invitation = crate::accounts::mailed_link(&app, long, "/invitation?token=").await;
    let invitation = invitation.trim_start_matches(&app.url("")).to_owned();
    let ev = demo_event_pages(&app).await;
    let c = &browser.client;
    let result: Steps = async {
        // (who is signed in, the pages) — the public pages, then the admin's, then the operator's.
        let mut visits: Vec<(Option<&str>, Vec<&str>)> = vec![
            (
                None,
                vec![
                    "/",
                    "/t/iwate/",
                    "/t/amami/",
                    "/signin",
                    "/signup",
                    &invitation,
                    "/events",
                    "/t/iwate/events",
                    "/t/iwate/events?past=1",
                    &ev.full,
                    &ev.tour,
                ],
            ),
            (
                Some(DEMO_ADMIN),
                vec![
                    "/account",
                    "/account/tokens",
                    "/t/iwate/staff",
                    "/t/iwate/audit",
                    "/me",
                    "/me/profile",
                    "/t/iwate/join",
                    "/me/delete",
                    "/t/iwate/programs",
                    &ev.registrants,
                    &ev.edit,
                    &ev.tour,
                    "/t/iwate/setup",
                    "/t/iwate/municipalities",
                    "/t/iwate/municipalities?code=032026",
                    "/t/iwate/settings",
                    "/t/iwate/settings/names",
                    "/t/iwate/settings/introduction",
                    "/t/iwate/settings/branding",
                    "/t/iwate/settings/consent",
                    "/t/iwate/settings/mail",
                    "/t/iwate/settings/templates",
                ],
            ),
            (
                Some(DEMO_OPERATOR),
                vec![
                    "/account",
                    "/ops/",
                    "/ops/audit",
                    "/ops/prefectures/03",
                    "/ops/tenants/new?q=いわて",
                    "/ops/tenants/new?code=032085",
                    "/ops/tenants/new?kind=union",
                    "/ops/tenants/iwate",
                ],
            ),
        ];
        for (who, paths) in &demo.visits {
            visits.push((Some(who), paths.iter().map(String::as_str).collect()));
        }
        let mut problems = Vec::new();
        for lang in ["ja", "en"] {
            for (who, paths) in &visits {
                sign_out(c).await?;
                set_viewport(c, 1024).await?;
                if let Some(who) = who {
                    sign_in_as(c, &app, who).await?;
                }
                choose_language(c, &app, lang).await?;
                for width in [375, 320] {
                    set_viewport(c, width).await?;
                    for path in paths.iter().copied() {
                        c.goto(&app.url(path)).await?;
                        assert_eq!(page_lang(c).await?, lang, "{path}");
                        snapshot(c, &format!("{lang}-{width}-{path}")).await?;
                        for m in misfits(c).await? {
                            problems.push(format!("{path} ({lang}, {width}px): {m}"));
                        }
                    }
                }
            }
        }
        assert!(
            problems.is_empty(),
            "pages that do not fit a phone:\n{}",
            problems.join("\n")
        );
        Ok(())
    }
    .await;
    browser.client.close().await.ok();
    app.stop().await;
    result.expect("browser steps");
}

/// axe-core, pinned in tests/browser/package-lock.json and installed there by `npm ci`
/// (.ci/run does it). `None` (the test is skipped) when it is missing, except under CI.
fn axe_source() -> Option<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/browser/node_modules/axe-core/axe.min.js");
    match std::fs::read_to_string(&path) {
        Ok(source) => Some(source),
        Err(e) => {
            let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
            assert!(
                !ci,
                "CI=true but {} is missing ({e}): run `npm ci --prefix tests/browser`",
                path.display()
            );
            eprintln!(
                "skipping the accessibility audit: axe-core is not installed (npm ci --prefix tests/browser)"
            );
            None
        }
    }
}

/// Runs axe-core's WCAG 2.0/2.1/2.2 level A and AA rules on the page in the browser
/// and returns each violation as a line. The page's CSP (`script-src 'none'`) does not
/// apply to scripts that WebDriver evaluates, so the source is passed in as the body.
async fn axe_violations(
    c: &fantoccini::Client,
    axe: &str,
) -> Result<Vec<String>, fantoccini::error::CmdError> {
    let script = format!(
        r#"{axe}
;
return axe.run(document, {{
  runOnly: {{ type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] }},
  resultTypes: ['violations'],
}}).then(r => r.violations.map(v =>
  `${{v.id}} (${{v.impact}}): ${{v.help}}\n` +
  v.nodes.map(n => `    ${{n.target.join(' ')}}: ${{n.failureSummary.replace(/\n/g, ' ')}}`).join('\n')));
"#
    );
    let found = c.execute(&script, vec![]).await?;
    Ok(serde_json::from_value(found).expect("axe's violations as strings"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_passes_the_accessibility_audit() {
    let Some(axe) = axe_source() else {
        return;
    };
    let Some(browser) = open_browser().await else {
        return;
    };
    let app = TestApp::with_demo(Backend::Sqlite).await.unwrap();
    crate::form_pages::demo_accounts(&app).await;
    let ev = demo_event_pages(&app).await;
    let c = &browser.client;
    let result: Steps = async {
        let mut audited = 0;
        let mut problems = Vec::new();
        // Audits the page the browser shows, named `what`.
        macro_rules! audit {
            ($lang:expr, $what:expr) => {{
                assert_eq!(page_lang(c).await?, $lang, "{}", $what);
                audited += 1;
                for v in axe_violations(c, &axe).await? {
                    problems.push(format!("{} ({}): {v}", $what, $lang));
                }
            }};
        }
        // The audit can fail: an image without a text alternative, and faint grey on
        // white (styled through the DOM: the CSP refuses inline style attributes).
        c.goto(&app.url("/")).await?;
        c.execute(
            r#"const main = document.querySelector('main');
               main.insertAdjacentHTML('beforeend', '<img src="/favicon.ico"><p id="faint">faint</p>');
               document.getElementById('faint').style.color = '#aaaaaa';"#,
            vec![],
        )
        .await?;
        let found = axe_violations(c, &axe).await?;
        assert!(
            found.iter().any(|v| v.starts_with("image-alt "))
                && found.iter().any(|v| v.starts_with("color-contrast ")),
            "axe found {found:?}"
        );
        for lang in ["ja", "en"] {
            sign_out(c).await?;
            choose_language(c, &app, lang).await?;
            for path in [
                "/",
                "/?q=%E5%B2%A9%E6%89%8B",
                "/?q=nowhere",
                "/t/iwate/",
                "/t/amami/",
                "/t/kamaishi/",
                "/signin",
                "/signup",
                "/reset",
                "/magic",
                "/reset/confirm?token=not-a-token",
                "/magic/confirm?token=not-a-token",
                "/verify?token=not-a-token",
                "/no-such-page",
                "/t/no-such-region/",
                "/events",
                "/t/iwate/events",
                "/t/iwate/events?past=1",
                &ev.full,
                &ev.tour,
            ] {
                c.goto(&app.url(path)).await?;
                audit!(lang, path);
            }
            // Forms answered with errors: every field's error, and a refusal.
            c.goto(&app.url("/signup")).await?;
            fill(c, "f-email", "taro@").await?;
            submit(c, "/signup").await?;
            error_summary(c).await?;
            audit!(lang, "/signup with errors");
            c.goto(&app.url("/signin")).await?;
            fill(c, "f-email", DEMO_ADMIN).await?;
            fill(c, "f-password", "not the password").await?;
            submit(c, "/signin").await?;
            error_summary(c).await?;
            audit!(lang, "/signin with a wrong password");
            c.goto(&app.url("/reset")).await?;
            submit(c, "/reset").await?;
            error_summary(c).await?;
            audit!(lang, "/reset with errors");

            sign_in_as(c, &app, DEMO_ADMIN).await?;
            for path in [
                "/account",
                "/account/tokens",
                "/t/iwate/staff",
                "/t/iwate/audit",
                "/",
                "/t/iwate/programs",
                &ev.registrants,
                &ev.edit,
                &ev.tour,
                "/t/iwate/setup",
                "/t/iwate/municipalities",
                "/t/iwate/municipalities?code=032026",
                "/t/iwate/settings",
                "/t/iwate/settings/names",
                "/t/iwate/settings/introduction",
                "/t/iwate/settings/branding",
                "/t/iwate/settings/consent",
                "/t/iwate/settings/mail",
                "/t/iwate/settings/templates",
            ] {
                c.goto(&app.url(path)).await?;
                audit!(lang, path);
            }
            c.goto(&app.url("/account")).await?;
            c.find(Locator::Id("f-display_name")).await?.clear().await?;
            submit(c, "/account").await?;
            error_summary(c).await?;
            audit!(lang, "/account with errors");
            c.goto(&app.url("/account/tokens")).await?;
            submit(c, "/account/tokens").await?;
            error_summary(c).await?;
            audit!(lang, "/account/tokens with errors");
            c.goto(&app.url("/t/iwate/staff")).await?;
            fill(c, "f-email", "coordinator@").await?;
            submit(c, "/t/iwate/staff").await?;
            error_summary(c).await?;
            audit!(lang, "/t/iwate/staff with errors");
            // The coordinator's round pages (the secretariat runs rounds).
            sign_in_as(c, &app, "coordinator@iwate.demo.yui.example").await?;
            for path in ["/t/iwate/rounds", &ev.rounds[0], &ev.rounds[1], &ev.rounds[2]] {
                c.goto(&app.url(path)).await?;
                audit!(lang, path);
            }
            c.goto(&app.url("/t/iwate/rounds")).await?;
            submit(c, "/t/iwate/rounds").await?;
            error_summary(c).await?;
            audit!(lang, "/t/iwate/rounds with errors");
            sign_in_as(c, &app, DEMO_ADMIN).await?;
            // The talent's pages: the dashboard, the profile (and its errors), deleting
            // the account, a region's consent (and its error), the region after joining.
            for path in ["/me", "/me/profile", "/me/delete"] {
                c.goto(&app.url(path)).await?;
                audit!(lang, path);
            }
            c.goto(&app.url("/me/profile")).await?;
            fill(c, "f-kana", "Sato").await?;
            submit(c, "/me/profile").await?;
            error_summary(c).await?;
            audit!(lang, "/me/profile with errors");
            let region = if lang == "ja" { "kamaishi" } else { "ichinoseki" };
            let join = format!("/t/{region}/join");
            c.goto(&app.url(&join)).await?;
            audit!(lang, &join);
            submit(c, &join).await?;
            error_summary(c).await?;
            audit!(lang, "a region's consent with errors");
            c.find(Locator::Css("input[name=consent_staff]"))
                .await?
                .click()
                .await?;
            submit(c, &join).await?;
            arrive(c, &format!("/t/{region}/me")).await?;
            audit!(lang, "a region's page for its member");
            // An open invitation on the list, and the page its link opens.
            let invitee = format!("invitee-{lang}@example.jp");
            c.goto(&app.url("/t/iwate/staff")).await?;
            fill(c, "f-email", &invitee).await?;
            submit(c, "/t/iwate/staff").await?;
            // The redirect after sending (the page before it was the staff page too).
            for _ in 0..100 {
                if c.current_url().await?.query() == Some("done=invited") {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            audit!(lang, "/t/iwate/staff with an open invitation");
            let link = crate::accounts::mailed_link(&app, &invitee, "/invitation?token=").await;

            sign_out(c).await?;
            choose_language(c, &app, lang).await?;
            c.goto(&link).await?;
            audit!(lang, "an invitation's page");
            submit(c, "/t/iwate/invitation").await?;
            error_summary(c).await?;
            audit!(lang, "an invitation's page with errors");

            sign_out(c).await?;
            choose_language(c, &app, lang).await?;
            sign_in_as(c, &app, DEMO_OPERATOR).await?;
            for path in [
                "/account",
                "/ops/",
                "/ops/audit",
                "/ops/prefectures/03",
                "/ops/tenants/new?q=いわて",
                "/ops/tenants/new?code=032085",
                "/ops/tenants/new?kind=union",
                "/ops/tenants/iwate",
            ] {
                c.goto(&app.url(path)).await?;
                audit!(lang, path);
            }
        }
        assert_eq!(audited, 2 * 68, "pages audited");
        assert!(
            problems.is_empty(),
            "accessibility violations (axe-core, WCAG 2 A/AA):\n{}",
            problems.join("\n")
        );
        Ok(())
    }
    .await;
    browser.client.close().await.ok();
    app.stop().await;
    result.expect("browser steps");
}

/// The demo's talents, hosts, projects, applications and hearings loaded (as
/// `yui serve --demo` does), and the pages of talent search, recommendations,
/// applications, hearings and scouts that they fill, by who sees them.
struct DemoPages {
    /// (who signs in, the pages they see)
    visits: Vec<(&'static str, Vec<String>)>,
    project: String,
    talent_hearings: String,
    scout_new: String,
}

impl DemoPages {
    async fn load(app: &TestApp) -> DemoPages {
        use yui_store::Audience;
        let now = app.now();
        yui::demo::load_hosts(&app.store, &crate::support::repo_tenants(), now)
            .await
            .expect("demo hosts");
        yui::demo::load_talents(&app.store, now)
            .await
            .expect("demo talents");
        app.authz
            .refresh_if_changed(&app.store, now)
            .await
            .expect("authz");
        let iwate = app.store.tenant_by_slug("iwate").await.unwrap();
        let mut tx = app.store.tenant(iwate.id).read().await.unwrap();
        let projects = tx.projects().await.unwrap();
        let hearings = tx.hearings(50).await.unwrap();
        tx.commit().await.unwrap();
        let open: Vec<_> = projects
            .iter()
            .filter(|p| p.status == "open" && p.visibility == "public")
            .collect();
        // A talent with an application, and an open project they have not applied to.
        let mut found = None;
        for n in 1..=300 {
            let email = format!("talent{n:03}@demo.yui.example");
            let e = yui_domain::account::Email::parse("email", &email).unwrap();
            let id = crate::support::account_by_email(&app.store, &e)
                .await
                .unwrap()
                .id;
            let mut tx = app.store.account(id).read().await.unwrap();
            let mine = tx.my_applications().await.unwrap();
            tx.commit().await.unwrap();
            if let Some(a) = mine.iter().find(|a| a.tenant_slug == "iwate")
                && let Some(p) = open
                    .iter()
                    .find(|p| mine.iter().all(|m| m.project_id != p.id))
            {
                found = Some((n, id, a.id, p.id));
                break;
            }
        }
        let (n, talent_id, application, project) = found.expect("a demo talent who applied");
        let talent: &'static str =
            Box::leak(format!("talent{n:03}@demo.yui.example").into_boxed_str());
        // The host of one application (consent covering hosts) and its member.
        let host_member = "kantahouse@demo.yui.example";
        let e = yui_domain::account::Email::parse("email", host_member).unwrap();
        let member = crate::support::account_by_email(&app.store, &e)
            .await
            .unwrap()
            .id;
        let mut tx = app.store.tenant(iwate.id).read().await.unwrap();
        let host = tx.hosts_of_member(member).await.unwrap()[0].id;
        let host_apps = tx
            .applications(Audience::Hosts, Some(host), 10)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut host_pages = vec!["/t/iwate/host".to_owned()];
        if let Some(a) = host_apps.first() {
            host_pages.push(format!("/t/iwate/applications/{}", a.id));
        }
        let hearing = hearings
            .iter()
            .find(|h| h.talent_id.is_some())
            .expect("a demo hearing of a talent");
        let subject = hearing.talent_id.unwrap();
        // Amami's coordinator scouts a talent of Iwate in the shared pool.
        let amami = app.store.tenant_by_slug("amami").await.unwrap();
        let mut tx = app.store.tenant(amami.id).read().await.unwrap();
        let pool = tx
            .search_talents(&yui_store::TalentQuery {
                reach: yui_store::Reach::PoolOutsiders,
                limit: 1,
                ..yui_store::TalentQuery::default()
            })
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let scout_new = format!(
            "/t/amami/scouts/new?talent={}",
            pool.first().expect("a pool talent").account_id
        );
        let project_path = format!("/t/iwate/projects/{project}");
        DemoPages {
            visits: vec![
                (
                    talent,
                    vec![
                        "/me".to_owned(),
                        "/me/recommendations".to_owned(),
                        project_path.clone(),
                        format!("{project_path}/apply"),
                        format!("/t/iwate/applications/{application}"),
                    ],
                ),
                (host_member, host_pages),
                (
                    "coordinator@iwate.demo.yui.example",
                    vec![
                        "/t/iwate/inbox".to_owned(),
                        "/t/iwate/talents".to_owned(),
                        format!("/t/iwate/talents/{talent_id}"),
                        "/t/iwate/hearings".to_owned(),
                        format!("/t/iwate/talents/{subject}/hearings"),
                        format!("/t/iwate/hearings/{}", hearing.id),
                        format!("{project_path}/recommendations"),
                        "/t/iwate/scouts".to_owned(),
                    ],
                ),
                (
                    "coordinator@amami.demo.yui.example",
                    vec!["/t/amami/scouts".to_owned(), scout_new.clone()],
                ),
            ],
            project: project_path,
            talent_hearings: format!("/t/iwate/talents/{subject}/hearings"),
            scout_new,
        }
    }
}

/// The pages of talent search, recommendations, applications, hearings and scouts,
/// with the demo's data, in both languages, pass the axe-core audit, also with errors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_application_hearing_and_scout_pages_pass_the_accessibility_audit() {
    let Some(axe) = axe_source() else {
        return;
    };
    let Some(browser) = open_browser().await else {
        return;
    };
    let app = TestApp::with_demo(Backend::Sqlite).await.unwrap();
    crate::form_pages::demo_accounts(&app).await;
    let demo = DemoPages::load(&app).await;
    let c = &browser.client;
    let result: Steps = async {
        let mut problems = Vec::new();
        let mut audited = 0;
        macro_rules! audit {
            ($lang:expr, $what:expr) => {{
                assert_eq!(page_lang(c).await?, $lang, "{}", $what);
                audited += 1;
                for v in axe_violations(c, &axe).await? {
                    problems.push(format!("{} ({}): {v}", $what, $lang));
                }
            }};
        }
        let mut expected = 0;
        for lang in ["ja", "en"] {
            for (who, paths) in &demo.visits {
                sign_out(c).await?;
                choose_language(c, &app, lang).await?;
                sign_in_as(c, &app, who).await?;
                for path in paths {
                    c.goto(&app.url(path)).await?;
                    let status = c.find(Locator::Css("h1")).await?.text().await?;
                    assert!(
                        !status.contains("404") && !status.contains("見つかりません"),
                        "{who} {path}: {status}"
                    );
                    audit!(lang, format!("{path} ({who})"));
                    expected += 1;
                }
                // Forms answered with errors.
                let with_errors: Vec<(String, String)> = match *who {
                    w if w.starts_with("talent") => {
                        vec![(
                            format!("{}/apply", demo.project),
                            format!("{}/apply", demo.project),
                        )]
                    }
                    "coordinator@iwate.demo.yui.example" => {
                        vec![(demo.talent_hearings.clone(), demo.talent_hearings.clone())]
                    }
                    "coordinator@amami.demo.yui.example" => {
                        vec![(demo.scout_new.clone(), "/t/amami/scouts".to_owned())]
                    }
                    _ => Vec::new(),
                };
                for (page, action) in with_errors {
                    c.goto(&app.url(&page)).await?;
                    submit(c, &action).await?;
                    error_summary(c).await?;
                    audit!(lang, format!("{page} with errors"));
                    expected += 1;
                }
                if *who == "coordinator@iwate.demo.yui.example" {
                    c.goto(&app.url("/t/iwate/talents?min_hours=abc")).await?;
                    audit!(lang, "/t/iwate/talents with an error");
                    expected += 1;
                }
            }
        }
        assert_eq!(audited, expected, "pages audited");
        assert!(audited >= 2 * 20, "pages audited: {audited}");
        assert!(
            problems.is_empty(),
            "accessibility violations (axe-core, WCAG 2 A/AA):\n{}",
            problems.join("\n")
        );
        Ok(())
    }
    .await;
    browser.client.close().await.ok();
    app.stop().await;
    result.expect("browser steps");
}

/// The pages of hosts and projects, for the public and for a coordinator, in both
/// languages, pass the same axe-core audit as every other page, also with errors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_and_project_pages_pass_the_accessibility_audit() {
    let Some(axe) = axe_source() else {
        return;
    };
    let Some(browser) = open_browser().await else {
        return;
    };
    let app = TestApp::with_tenants(Backend::Sqlite).await.unwrap();
    let (_, coord) = crate::staff::person(&app, "事務局 担当", "coord@iwate.example").await;
    crate::staff::grant(&app, coord, yui_authz::Role::Coordinator, Some("iwate")).await;
    let host = crate::hosts::make_host(&app, "iwate", "かんたはうす", "032051", true).await;
    let tenant = app.store.tenant_by_slug("iwate").await.unwrap();
    let fields = yui_domain::project::check_project(&yui_domain::project::ProjectInput {
        title: "古民家カフェの販路開拓".into(),
        challenge: "冬の客足が落ちる。".into(),
        help_wanted: "SNSで発信してほしい。".into(),
        kind: "business".into(),
        skills: vec!["sns".into()],
        remote_ratio: "80".into(),
        compensation: "honorarium".into(),
        amount_min: "10000".into(),
        amount_max: "30000".into(),
        visibility: "public".into(),
        ..Default::default()
    })
    .unwrap();
    let mut tx = app.store.tenant(tenant.id).write().await.unwrap();
    let project = tx
        .create_project(host, &fields, Some(coord), app.now())
        .await
        .unwrap();
    use yui_domain::project::ProjectStatus::{Draft, Open};
    tx.transition_project(project, Draft, Open, coord, app.now())
        .await
        .unwrap();
    tx.add_project_comment(project, coord, "冬のイベントも", app.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let c = &browser.client;
    let result: Steps = async {
        let mut problems = Vec::new();
        let mut narrow = Vec::new();
        let mut audited = 0;
        macro_rules! audit {
            ($lang:expr, $what:expr) => {{
                assert_eq!(page_lang(c).await?, $lang, "{}", $what);
                audited += 1;
                for v in axe_violations(c, &axe).await? {
                    problems.push(format!("{} ({}): {v}", $what, $lang));
                }
            }};
        }
        let new_project = format!("/t/iwate/projects/new?host={host}");
        for lang in ["ja", "en"] {
            sign_out(c).await?;
            choose_language(c, &app, lang).await?;
            // The search across regions: its first page, a word, a value no choice has.
            for path in [
                "/t/iwate/projects".to_owned(),
                format!("/t/iwate/projects/{project}"),
                "/projects".to_owned(),
                "/projects?q=%E8%BE%B2%E6%A5%AD".to_owned(),
                "/projects?skill=bogus".to_owned(),
            ] {
                c.goto(&app.url(&path)).await?;
                audit!(lang, path);
            }
            c.goto(&app.url("/signin")).await?;
            fill(c, "f-email", "coord@iwate.example").await?;
            fill(c, "f-password", "a passphrase long enough").await?;
            submit(c, "/signin").await?;
            arrive(c, "/account").await?;
            for path in [
                "/t/iwate/hosts".to_owned(),
                format!("/t/iwate/hosts/{host}"),
                "/t/iwate/projects/all".to_owned(),
                new_project.clone(),
                format!("/t/iwate/projects/{project}"),
                format!("/t/iwate/projects/{project}/edit"),
            ] {
                c.goto(&app.url(&path)).await?;
                audit!(lang, path);
            }
            c.goto(&app.url("/t/iwate/hosts")).await?;
            submit(c, "/t/iwate/hosts").await?;
            error_summary(c).await?;
            audit!(lang, "/t/iwate/hosts with errors");
            c.goto(&app.url(&new_project)).await?;
            submit(c, &new_project).await?;
            error_summary(c).await?;
            audit!(lang, "a new project with errors");
            // On a phone: nothing scrolls sideways (tables scroll in their box).
            set_viewport(c, 320).await?;
            for path in [
                "/t/iwate/hosts".to_owned(),
                format!("/t/iwate/hosts/{host}"),
                new_project.clone(),
                format!("/t/iwate/projects/{project}"),
                "/projects?skill=bogus".to_owned(),
            ] {
                c.goto(&app.url(&path)).await?;
                for m in misfits(c).await? {
                    narrow.push(format!("{path} ({lang}, 320px): {m}"));
                }
            }
            set_viewport(c, 1024).await?;
        }
        assert!(
            narrow.is_empty(),
            "pages that do not fit a phone:\n{}",
            narrow.join("\n")
        );
        assert_eq!(audited, 2 * 13, "pages audited");
        assert!(
            problems.is_empty(),
            "accessibility violations (axe-core, WCAG 2 A/AA):\n{}",
            problems.join("\n")
        );
        Ok(())
    }
    .await;
    browser.client.close().await.ok();
    app.stop().await;
    result.expect("browser steps");
}

/// Issue 10's journey in a real browser: a talent joins two regions (one with consent
/// for host organizations), marks a project as interesting and applies; the host's
/// member reads the proposal and replies; the talent withdraws the host consent in
/// that region, and the host no longer sees them.
#[tokio::test]
async fn a_talent_applies_the_host_replies_and_consent_withdrawal_hides_them() {
    let Some(browser) = open_browser().await else {
        return;
    };
    let app = TestApp::with_tenants(Backend::Sqlite).await.unwrap();
    const PASSWORD: &str = "a passphrase long enough";
    let (_, coord) = crate::staff::person(&app, "事務局 担当", "coord@iwate.example").await;
    crate::staff::grant(&app, coord, yui_authz::Role::Coordinator, Some("iwate")).await;
    let host = crate::hosts::make_host(&app, "iwate", "かんたはうす", "032051", true).await;
    let host_client =
        crate::hosts::host_member(&app, "iwate", host, "kantahouse@host.example").await;
    let tenant = app.store.tenant_by_slug("iwate").await.unwrap();
    let fields = yui_domain::project::check_project(&yui_domain::project::ProjectInput {
        title: "ぶどう畑のファンづくり".into(),
        challenge: "県外のファンとのつながりが続かない。".into(),
        help_wanted: "SNSで発信してほしい。".into(),
        kind: "fan_community".into(),
        skills: vec!["sns".into()],
        remote_ratio: "80".into(),
        compensation: "expenses".into(),
        visibility: "public".into(),
        ..Default::default()
    })
    .unwrap();
    let mut tx = app.store.tenant(tenant.id).write().await.unwrap();
    let project = tx
        .create_project(host, &fields, Some(coord), app.now())
        .await
        .unwrap();
    use yui_domain::project::ProjectStatus::{Draft, Open};
    tx.transition_project(project, Draft, Open, coord, app.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    crate::staff::person(&app, "結 花子", "hanako@example.jp").await;

    let c = &browser.client;
    let mut application = String::new();
    let result: Steps = async {
        sign_in_with(c, &app, "hanako@example.jp", PASSWORD).await?;
        // Two regions: iwate with consent for its host organizations, amami without.
        for (slug, hosts) in [("iwate", true), ("amami", false)] {
            c.goto(&app.url(&format!("/t/{slug}/join"))).await?;
            c.find(Locator::Css(r#"input[name="consent_staff"]"#))
                .await?
                .click()
                .await?;
            if hosts {
                c.find(Locator::Css(r#"input[name="consent_hosts"]"#))
                    .await?
                    .click()
                    .await?;
            }
            submit(c, &format!("/t/{slug}/join")).await?;
            arrive(c, &format!("/t/{slug}/me")).await?;
        }
        c.goto(&app.url("/me")).await?;
        let regions = text_of(c, "main").await?;
        assert!(
            regions.contains("岩手県") && regions.contains("奄美"),
            "{regions}"
        );

        // 気になる, then a full application with a proposal.
        let page = format!("/t/iwate/projects/{project}");
        c.goto(&app.url(&page)).await?;
        submit(c, &format!("{page}/interest")).await?;
        arrive(c, &page).await?;
        c.find(Locator::Css(&format!(r#"a[href="{page}/apply"]"#)))
            .await?
            .click()
            .await?;
        arrive(c, &format!("{page}/apply")).await?;
        fill(
            c,
            "f-proposal",
            "収穫祭をオンラインで中継し、ファンの集まりを続けます。",
        )
        .await?;
        fill(c, "f-approach", "月1回のオンライン会と、収穫期の訪問。").await?;
        fill(c, "f-frequency", "月2回").await?;
        c.find(Locator::Id("f-format"))
            .await?
            .select_by_value("online")
            .await?;
        submit(c, &format!("{page}/apply")).await?;
        for _ in 0..100 {
            if c.current_url()
                .await?
                .path()
                .starts_with("/t/iwate/applications/")
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        application = c.current_url().await?.path().to_owned();
        assert!(
            application.starts_with("/t/iwate/applications/"),
            "{application}: {}",
            c.source().await?
        );

        // The host's member reads it and replies.
        sign_in_with(c, &app, "kantahouse@host.example", PASSWORD).await?;
        c.goto(&app.url(&application)).await?;
        let body = text_of(c, "main").await?;
        assert!(body.contains("収穫祭をオンラインで中継"), "{body}");
        assert!(body.contains("結 花子"));
        fill(
            c,
            "f-message",
            "ありがとうございます。来週お話ししましょう。",
        )
        .await?;
        submit(c, &format!("{application}/messages")).await?;
        c.wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css("ol.thread"))
            .await?;
        assert!(
            text_of(c, "ol.thread")
                .await?
                .contains("来週お話ししましょう")
        );

        // The talent reads the reply, then withdraws the host consent in iwate.
        sign_in_with(c, &app, "hanako@example.jp", PASSWORD).await?;
        c.goto(&app.url(&application)).await?;
        assert!(
            text_of(c, "ol.thread")
                .await?
                .contains("来週お話ししましょう")
        );
        c.goto(&app.url("/t/iwate/me")).await?;
        c.find(Locator::Css(
            r#"form[action="/t/iwate/me/hosts"] input[name="hosts"]"#,
        ))
        .await?
        .click()
        .await?;
        submit(c, "/t/iwate/me/hosts").await?;
        arrive(c, "/t/iwate/me").await?;

        // The host no longer sees the applicant.
        sign_in_with(c, &app, "kantahouse@host.example", PASSWORD).await?;
        c.goto(&app.url(&application)).await?;
        let body = text_of(c, "main").await?;
        assert!(!body.contains("結 花子"), "{body}");
        assert!(!body.contains("収穫祭をオンラインで中継"), "{body}");
        Ok(())
    }
    .await;
    browser.client.close().await.ok();
    if result.is_ok() {
        // And not by another route either.
        assert_eq!(app.status(&host_client, &application).await, 404);
    }
    app.stop().await;
    result.expect("browser steps");
}

/// Signs in afresh (cookies dropped first) as `email` with `password`.
async fn sign_in_with(c: &fantoccini::Client, app: &TestApp, email: &str, password: &str) -> Steps {
    c.delete_all_cookies().await?;
    c.goto(&app.url("/signin")).await?;
    fill(c, "f-email", email).await?;
    fill(c, "f-password", password).await?;
    submit(c, "/signin").await?;
    // Staff land on /account, talents on /me.
    for _ in 0..100 {
        let path = c.current_url().await?.path().to_owned();
        if path == "/account" || path == "/me" {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{email} never arrived after signing in; at {}",
        c.current_url().await?
    );
}

/// Issue 11's walk through: a talent registers for a full seminar and is waitlisted,
/// the person holding the seat cancels, the talent is promoted and the mail saying so
/// arrives at the SMTP sink, and a coordinator checks them in by opening the QR
/// code's URL on their own (signed-in) browser.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waitlisted_talent_is_promoted_by_mail_and_checked_in_through_the_qr_url() {
    let Some(browser) = open_browser().await else {
        return;
    };
    let app = TestApp::with_tenants(Backend::Sqlite).await.unwrap();
    const PASSWORD: &str = "a passphrase long enough";
    let (_, coord) = crate::staff::person(&app, "事務局 担当", "coord@iwate.example").await;
    crate::staff::grant(&app, coord, yui_authz::Role::Coordinator, Some("iwate")).await;
    crate::staff::person(&app, "先着 一郎", "first@example.jp").await;
    crate::staff::person(&app, "結 花子", "hanako@example.jp").await;
    let event = published_seminar(&app, "iwate", "満席のセミナー", 1).await;
    let page = format!("/t/iwate/events/{event}");

    let c = &browser.client;
    let result: Steps = async {
        // The one seat goes to the first person.
        sign_in_with(c, &app, "first@example.jp", PASSWORD).await?;
        c.goto(&app.url(&page)).await?;
        submit(c, &format!("{page}/register")).await?;
        arrive(c, &page).await?;
        let first_status = text_of(c, "#registration-status").await?;
        assert!(first_status.contains("確定"), "{first_status}");

        // The talent finds the seminar full and joins the waitlist.
        sign_in_with(c, &app, "hanako@example.jp", PASSWORD).await?;
        c.goto(&app.url(&page)).await?;
        submit(c, &format!("{page}/register")).await?;
        arrive(c, &page).await?;
        let waiting = text_of(c, "#registration-status").await?;
        assert!(waiting.contains("キャンセル待ち"), "{waiting}");
        assert!(c.find(Locator::Id("checkin-url")).await.is_err());

        // The first person cancels.
        sign_in_with(c, &app, "first@example.jp", PASSWORD).await?;
        c.goto(&app.url(&page)).await?;
        // Giving up a seat asks once more.
        c.find(Locator::Css("#registration details.cancel summary"))
            .await?
            .click()
            .await?;
        click_and_load(
            c,
            c.find(Locator::Css(
                r#"#registration form[action$="/cancel"] button[type=submit]"#,
            ))
            .await?,
        )
        .await?;
        arrive(c, &page).await?;

        // The talent's promotion arrives by mail, once.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        let promoted = loop {
            let found: Vec<_> = app
                .sink
                .inbox()
                .messages()
                .into_iter()
                .filter(|m| m.rcpt_to.iter().any(|a| a == "hanako@example.jp"))
                .filter(|m| {
                    m.subject()
                        .is_some_and(|s| s.contains("キャンセル待ちから参加が確定"))
                })
                .collect();
            if !found.is_empty() || tokio::time::Instant::now() > deadline {
                break found;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        assert_eq!(promoted.len(), 1, "one promotion mail");
        assert!(
            promoted[0]
                .text_body()
                .unwrap_or_default()
                .contains("満席のセミナー")
        );

        // Her page now shows the seat and the QR code's check-in URL.
        sign_in_with(c, &app, "hanako@example.jp", PASSWORD).await?;
        c.goto(&app.url(&page)).await?;
        assert!(text_of(c, "#registration-status").await?.contains("確定"));
        assert!(c.find(Locator::Css("#registration svg")).await.is_ok());
        let checkin = c
            .find(Locator::Id("checkin-url"))
            .await?
            .attr("href")
            .await?
            .expect("a check-in URL");

        // The coordinator opens that URL (as a phone scanning the code would) and
        // checks her in.
        sign_in_with(c, &app, "coord@iwate.example", PASSWORD).await?;
        c.goto(&checkin).await?;
        assert!(text_of(c, "main").await?.contains("結 花子"));
        click_and_load(
            c,
            c.find(Locator::Css("main form button[type=submit]"))
                .await?,
        )
        .await?;
        c.wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css("main [role=status]"))
            .await?;
        Ok(())
    }
    .await;
    browser.client.close().await.ok();
    if result.is_ok() {
        let tenant = app.store.tenant_by_slug("iwate").await.unwrap();
        let mut tx = app.store.tenant(tenant.id).read().await.unwrap();
        let rows = tx.registrations(event).await.unwrap();
        tx.commit().await.unwrap();
        let hanako = rows
            .iter()
            .find(|r| r.email == "hanako@example.jp")
            .unwrap();
        assert_eq!(
            hanako.status(),
            yui_domain::registration::RegistrationStatus::Attended
        );
    }
    app.stop().await;
    result.expect("browser steps");
}

/// A published onsite seminar of `slug` ten days from now with `seats` seats, in
/// the program of its fiscal year (made when missing).
async fn published_seminar(
    app: &TestApp,
    slug: &str,
    title: &str,
    seats: u32,
) -> yui_domain::EventId {
    use yui_domain::event::{EventInput, EventStatus, check_event_edit};
    use yui_domain::program::{FieldworkRule, ProgramFields};
    let tokyo = yui_domain::fiscal::tokyo();
    let day = (app.now() + chrono::TimeDelta::days(10))
        .with_timezone(&tokyo)
        .date_naive();
    let pairs: Vec<(String, String)> = [
        ("kind", "seminar"),
        ("audience", "talent"),
        ("title", title),
        ("format", "onsite"),
        ("selection", "first_come"),
        ("day1_date", &day.format("%Y-%m-%d").to_string()),
        ("day1_starts", "19:00"),
        ("day1_ends", "20:30"),
        ("capacity_onsite", &seats.to_string()),
        ("venue", "盛岡市内の会場"),
        ("subsidy", "none"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let fields = check_event_edit(&EventInput::from_pairs(&pairs)).unwrap();
    let tenant = app.store.tenant_by_slug(slug).await.unwrap();
    let year = yui_domain::FiscalYear::containing(day);
    let mut tx = app.store.tenant(tenant.id).write().await.unwrap();
    let program = match tx.program_of_year(year).await.unwrap() {
        Some(p) => p.id,
        None => tx
            .create_program(
                &ProgramFields {
                    fiscal_year: year,
                    title: yui_domain::locale::Localized {
                        ja: format!("遠恋複業 {}年度", year.0),
                        en: format!("Enren {year}"),
                    },
                },
                FieldworkRule::Open,
                app.now(),
            )
            .await
            .unwrap(),
    };
    let id = tx
        .create_event(program, &fields, EventStatus::Published, None, app.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

/// The demo's event pages worth looking at: the full seminar (with its waitlist),
/// the screened two-day tour, and the staff's pages of the full seminar.
struct DemoEventPages {
    full: String,
    tour: String,
    registrants: String,
    edit: String,
    /// The demo rounds: the published one's and the open one's coordinator pages,
    /// and the open one's participants' page.
    rounds: [String; 3],
}

async fn demo_event_pages(app: &TestApp) -> DemoEventPages {
    // `TestApp::with_demo` loads the regions' pages; the events need the talents.
    let tenants = crate::support::repo_tenants();
    yui::demo::load_hosts(&app.store, &tenants, app.now())
        .await
        .unwrap();
    yui::demo::load_talents(&app.store, app.now())
        .await
        .unwrap();
    yui::demo::load_events(&app.store, app.now()).await.unwrap();
    yui::demo::load_rounds(&app.store, app.now()).await.unwrap();
    let tenant = app.store.tenant_by_slug("iwate").await.unwrap();
    let mut tx = app.store.tenant(tenant.id).read().await.unwrap();
    let events = tx.events(true, None, Some(app.now()), 100).await.unwrap();
    let rounds = tx.rounds(10).await.unwrap();
    tx.commit().await.unwrap();
    let round = |status: yui_domain::round::RoundStatus| {
        rounds
            .iter()
            .find(|r| r.status() == status)
            .expect("a demo round")
            .id
    };
    let published = round(yui_domain::round::RoundStatus::Published);
    let open = round(yui_domain::round::RoundStatus::Open);
    let full = events
        .iter()
        .find(|e| e.waitlisted > 0)
        .expect("the full seminar")
        .id;
    let tour = events
        .iter()
        .find(|e| e.kind == "fieldwork")
        .expect("an upcoming tour")
        .id;
    DemoEventPages {
        full: format!("/t/iwate/events/{full}"),
        tour: format!("/t/iwate/events/{tour}"),
        registrants: format!("/t/iwate/events/{full}/registrants"),
        edit: format!("/t/iwate/events/{full}/edit"),
        rounds: [
            format!("/t/iwate/rounds/{published}/manage"),
            format!("/t/iwate/rounds/{open}/manage"),
            format!("/t/iwate/rounds/{open}"),
        ],
    }
}

/// Clicks the button of the status form (one of several posting to the same
/// action) that moves the round `to`.
async fn press_status(c: &fantoccini::Client, action: &str, to: &str) -> Steps {
    let button = c
        .find(Locator::Css(&format!(
            r#"form[action="{action}"]:has(input[name="to"][value="{to}"]) button[type=submit]"#
        )))
        .await?;
    click_and_load(c, button).await
}

/// Sets a `datetime-local` input as its picker would (typing into it depends on the
/// browser's locale).
async fn set_value(c: &fantoccini::Client, id: &str, value: &str) -> Steps {
    c.execute(
        "document.getElementById(arguments[0]).value = arguments[1];",
        vec![serde_json::json!(id), serde_json::json!(value)],
    )
    .await
    .map(|_| ())
}

/// Issue 12's walk through, in a real browser: a coordinator makes a round of three
/// projects, six talents enter and rank by typing numbers, the host ranks after its
/// meetings, the coordinator solves, moves one pair by hand and sees the engine's
/// check name the blocking pairs that change makes, publishes, and a second phase
/// fills the one seat left open: a talent applies, the host offers, the talent
/// accepts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_round_from_entry_to_a_second_phase_that_fills_a_seat() {
    let Some(browser) = open_browser().await else {
        return;
    };
    let app = TestApp::with_tenants(Backend::Sqlite).await.unwrap();
    const PASSWORD: &str = "a passphrase long enough";
    let (_, coord) = crate::staff::person(&app, "事務局 担当", "coord@round.example").await;
    crate::staff::grant(&app, coord, yui_authz::Role::Coordinator, Some("iwate")).await;
    let host = crate::hosts::make_host(&app, "iwate", "りんご園", "032051", true).await;
    crate::hosts::host_member(&app, "iwate", host, "host@round.example").await;
    let mut projects = Vec::new();
    for title in ["収穫体験の発信", "直売所の改善", "加工品の開発"] {
        projects.push(
            crate::projects::make_project(&app, "iwate", host, title, "public", true)
                .await
                .get(),
        );
    }
    let [a, b, c_] = [projects[0], projects[1], projects[2]];
    let tenant = app.store.tenant_by_slug("iwate").await.unwrap();
    let mut talents = Vec::new();
    for i in 1..=6 {
        let email = format!("t{i}@round.example");
        let (_, id) = crate::staff::person(&app, &format!("人材 {i}"), &email).await;
        let mut tx = app.store.account(id).write().await.unwrap();
        tx.join_tenant(tenant.id, &tenant.tenant.consent, true, app.now())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        talents.push((id.get(), email));
    }
    let local = |days: i64| {
        (app.now() + chrono::Duration::days(days))
            .with_timezone(&yui_domain::fiscal::tokyo())
            .format("%Y-%m-%dT%H:%M")
            .to_string()
    };

    let c = &browser.client;
    let result: Steps = async {
        // The coordinator: a program, then the round, its seats, and it opens.
        sign_in_with(c, &app, "coord@round.example", PASSWORD).await?;
        c.goto(&app.url("/t/iwate/programs")).await?;
        submit(c, "/t/iwate/programs").await?;
        for _ in 0..100 {
            if c.current_url()
                .await?
                .path()
                .starts_with("/t/iwate/programs/")
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        c.goto(&app.url("/t/iwate/rounds")).await?;
        fill(c, "f-title", "秋のマッチング").await?;
        set_value(c, "f-entry_opens_at", &local(-1)).await?;
        set_value(c, "f-entry_closes_at", &local(2)).await?;
        set_value(c, "f-ranks_close_at", &local(4)).await?;
        submit(c, "/t/iwate/rounds").await?;
        let mut manage = String::new();
        for _ in 0..100 {
            let path = c.current_url().await?.path().to_owned();
            if path.ends_with("/manage") {
                manage = path;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(!manage.is_empty(), "{}", c.source().await?);
        let round = manage.trim_end_matches("/manage").to_owned();
        for (p, seats) in [(a, "1"), (b, "1"), (c_, "3")] {
            fill(c, &format!("seats-{p}"), seats).await?;
        }
        submit(c, &format!("{manage}/projects")).await?;
        arrive(c, &manage).await?;
        press_status(c, &format!("{manage}/status"), "open").await?;
        arrive(c, &manage).await?;

        // Six talents enter and rank (blank = not ranked).
        let lists: [&[(i64, &str)]; 6] = [
            &[(a, "1"), (b, "2")],
            &[(a, "1")],
            &[(b, "1"), (c_, "2")],
            &[(c_, "1")],
            &[(c_, "１")],
            &[(a, "1")],
        ];
        for ((_, email), list) in talents.iter().zip(lists) {
            sign_in_with(c, &app, email, PASSWORD).await?;
            c.goto(&app.url(&round)).await?;
            submit(c, &format!("{round}/enter")).await?;
            arrive(c, &round).await?;
            for (p, n) in list {
                fill(c, &format!("f-rank_{p}"), n).await?;
            }
            submit(c, &format!("{round}/ranking")).await?;
            arrive(c, &round).await?;
        }

        // The host ranks after its meetings; project c leaves talent 5 off its list.
        let t = |i: usize| talents[i - 1].0;
        sign_in_with(c, &app, "host@round.example", PASSWORD).await?;
        let host_lists: [(i64, &[(i64, &str)]); 3] = [
            (a, &[(t(2), "1"), (t(1), "2"), (t(6), "3")]),
            (b, &[(t(1), "1"), (t(3), "2")]),
            (c_, &[(t(3), "1"), (t(4), "2")]),
        ];
        for (p, list) in host_lists {
            let page = format!("{round}/projects/{p}");
            c.goto(&app.url(&page)).await?;
            for (who, n) in list {
                fill(c, &format!("f-rank_{who}"), n).await?;
            }
            submit(c, &format!("{page}/ranking")).await?;
            arrive(c, &page).await?;
        }

        // The coordinator closes, solves: 2→a, 1→b, 3 and 4→c; 5 and 6 unmatched.
        sign_in_with(c, &app, "coord@round.example", PASSWORD).await?;
        c.goto(&app.url(&manage)).await?;
        press_status(c, &format!("{manage}/status"), "closed").await?;
        arrive(c, &manage).await?;
        submit(c, &format!("{manage}/solve")).await?;
        arrive(c, &manage).await?;
        let check = text_of(c, "#check").await?;
        assert!(
            check.contains("ブロッキングペアも規則違反もありません"),
            "{check}"
        );

        // By hand: 2 off a, 6 onto a. The check names what that costs.
        c.find(Locator::Css(r#"input[name="action"][value="remove"]"#))
            .await?
            .click()
            .await?;
        c.find(Locator::Id("f-talent"))
            .await?
            .select_by_value(&t(2).to_string())
            .await?;
        c.find(Locator::Id("f-project"))
            .await?
            .select_by_value(&a.to_string())
            .await?;
        fill(c, "f-reason", "本人の都合で辞退").await?;
        submit(c, &format!("{manage}/adjust")).await?;
        arrive(c, &manage).await?;
        c.find(Locator::Id("f-talent"))
            .await?
            .select_by_value(&t(6).to_string())
            .await?;
        c.find(Locator::Id("f-project"))
            .await?
            .select_by_value(&a.to_string())
            .await?;
        fill(c, "f-reason", "面談で強い希望があった").await?;
        submit(c, &format!("{manage}/adjust")).await?;
        arrive(c, &manage).await?;
        let check = text_of(c, "#check").await?;
        assert!(check.contains("ブロッキングペアが2組"), "{check}");
        assert!(check.contains("人材 2 — 収穫体験の発信"), "{check}");

        press_status(c, &format!("{manage}/status"), "published").await?;
        arrive(c, &manage).await?;
        let main = text_of(c, "main").await?;
        assert!(main.contains("結果公表済み"), "{main}");

        // Both sides answer (the answer buttons are tested in rounds_pages), and the
        // second phase: one seat of c is open; talent 5 applies, the host offers,
        // talent 5 accepts.
        let id = yui_domain::ids::RoundId::new(round.rsplit('/').next().unwrap().parse().unwrap());
        crate::rounds_manage::answer_all(&app, "iwate", id).await;
        c.goto(&app.url(&manage)).await?;
        let minutes = c.find(Locator::Id("f-offer_minutes")).await?;
        minutes.clear().await?;
        minutes.send_keys("60").await?;
        submit(c, &format!("{manage}/second-phase")).await?;
        arrive(c, &manage).await?;
        sign_in_with(c, &app, &talents[4].1, PASSWORD).await?;
        c.goto(&app.url(&round)).await?;
        submit(c, &format!("{round}/apply")).await?;
        arrive(c, &round).await?;
        sign_in_with(c, &app, "host@round.example", PASSWORD).await?;
        let page_c = format!("{round}/projects/{c_}");
        c.goto(&app.url(&page_c)).await?;
        submit(c, &format!("{page_c}/offer")).await?;
        arrive(c, &page_c).await?;
        sign_in_with(c, &app, &talents[4].1, PASSWORD).await?;
        c.goto(&app.url(&round)).await?;
        let accept = c
            .find(Locator::Css(&format!(
                r#"form[action^="{round}/offers/"]:has(input[value="accept"]) button"#
            )))
            .await?;
        click_and_load(c, accept).await?;
        arrive(c, &round).await?;

        sign_in_with(c, &app, "coord@round.example", PASSWORD).await?;
        c.goto(&app.url(&manage)).await?;
        let main = text_of(c, "main").await?;
        assert!(
            main.contains("空き\n0 / 5") || main.contains("空き 0 / 5"),
            "{main}"
        );
        assert!(main.contains("人材 5 — 加工品の開発"), "{main}");
        Ok(())
    }
    .await;
    browser.client.close().await.ok();
    app.stop().await;
    result.expect("browser steps");
}

/// Newsletters in a browser: the compose page (also with errors), the talent's
/// region page with its opt-in, and a mailed unsubscribe link followed signed out
/// and used with its button, in both languages, pass the axe-core audit and fit a
/// 375 px phone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn newsletter_pages_work_signed_out_pass_the_audit_and_fit_a_phone() {
    let Some(axe) = axe_source() else {
        return;
    };
    let Some(browser) = open_browser().await else {
        return;
    };
    let app = TestApp::with_demo(Backend::Sqlite).await.unwrap();
    crate::form_pages::demo_accounts(&app).await;
    let talent = "nl-browser@example.jp";
    let (member, _) = crate::staff::person(&app, "便り 太郎", talent).await;
    assert_eq!(
        crate::talent::join(&app, &member, "iwate", false)
            .await
            .status(),
        303
    );
    let mut form = app
        .open(&member, "/t/iwate/me")
        .await
        .form("/t/iwate/me/newsletter");
    form.check("newsletter");
    assert_eq!(form.submit(&member).await.status(), 303);
    let admin = app.client();
    crate::accounts::sign_in(&app, &admin, DEMO_ADMIN, DEMO_PASSWORD).await;
    let res = app
        .open(&admin, "/t/iwate/newsletters")
        .await
        .form("/t/iwate/newsletters")
        .set("subject_ja", "冬の交流会のお知らせ")
        .set("body_ja", "盛岡で冬の交流会を開きます。")
        .submit(&admin)
        .await;
    assert_eq!(res.status(), 303);
    let link = crate::accounts::mailed_link(&app, talent, "/t/iwate/unsubscribe/").await;
    let c = &browser.client;
    let result: Steps = async {
        let mut problems = Vec::new();
        for lang in ["ja", "en"] {
            let mut check = async |what: &str| -> Steps {
                assert_eq!(page_lang(c).await?, lang, "{what}");
                for v in axe_violations(c, &axe).await? {
                    problems.push(format!("{what} ({lang}): {v}"));
                }
                set_viewport(c, 375).await?;
                for m in misfits(c).await? {
                    problems.push(format!("{what} ({lang}, 375px): {m}"));
                }
                set_viewport(c, 1024).await
            };
            sign_out(c).await?;
            set_viewport(c, 1024).await?;
            sign_in_as(c, &app, DEMO_ADMIN).await?;
            choose_language(c, &app, lang).await?;
            c.goto(&app.url("/t/iwate/newsletters")).await?;
            check("/t/iwate/newsletters").await?;
            submit(c, "/t/iwate/newsletters").await?;
            error_summary(c).await?;
            check("/t/iwate/newsletters with errors").await?;

            sign_out(c).await?;
            sign_in_with(c, &app, talent, "a passphrase long enough").await?;
            choose_language(c, &app, lang).await?;
            c.goto(&app.url("/t/iwate/me")).await?;
            check("/t/iwate/me").await?;

            // The mailed link, signed out: a page, then the button.
            sign_out(c).await?;
            choose_language(c, &app, lang).await?;
            c.goto(&link).await?;
            check("the unsubscribe page").await?;
            // Once unsubscribed (in the first language), the link says so at once.
            let action = link.trim_start_matches(&app.url("")).to_owned();
            let button = format!(r#"form[action="{action}"] button[type=submit]"#);
            if c.find(Locator::Css(&button)).await.is_ok() {
                submit(c, &action).await?;
            }
            c.wait()
                .at_most(Duration::from_secs(10))
                .for_element(Locator::Css("p.notice"))
                .await?;
            check("the unsubscribe confirmation").await?;
        }
        assert!(
            problems.is_empty(),
            "newsletter pages:\n{}",
            problems.join("\n")
        );
        Ok(())
    }
    .await;
    browser.client.close().await.ok();
    // Unsubscribed: the region page shows the box unticked.
    let page = app.open(&member, "/t/iwate/me").await;
    assert_eq!(
        page.form("/t/iwate/me/newsletter").value("newsletter"),
        None
    );
    app.stop().await;
    result.expect("browser steps");
}

/// Issue 13's walk through, in a real browser, on the demo data: a talent who
/// attended demo events opens their activity record, has a certificate issued,
/// downloads it, and a stranger (signed out) sees it valid at its public URL and
/// by pasting the downloaded file; the same file altered does not verify.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_talent_downloads_a_certificate_that_verifies_signed_out() {
    let Some(browser) = open_browser().await else {
        return;
    };
    let app = TestApp::with_demo(Backend::Sqlite).await.unwrap();
    whole_demo(&app).await;
    // A demo talent with activities in Iwate, and the latest year of them.
    let iwate = app.store.tenant_by_slug("iwate").await.unwrap().id;
    let mut found = None;
    for i in 1..=300 {
        let email = format!("talent{i:03}@demo.yui.example");
        let e = yui_domain::account::Email::parse("email", &email).unwrap();
        let Some(account) = app.store.find_account(&e).await.unwrap() else {
            continue;
        };
        let mut tx = app.store.account(account.id).read().await.unwrap();
        let acts = tx.my_activities().await.unwrap();
        tx.commit().await.unwrap();
        let years: Vec<i32> = acts
            .iter()
            .filter(|(t, _)| *t == iwate)
            .filter_map(|(_, a)| a.fiscal_year())
            .map(|fy| fy.0)
            .collect();
        if let Some(fy) = years.iter().max() {
            found = Some((email, *fy));
            break;
        }
    }
    let (email, fy) = found.expect("a demo talent with activities in Iwate");

    let c = &browser.client;
    let result: Steps = async {
        sign_in_as(c, &app, &email).await?;
        c.goto(&app.url("/me/activities")).await?;
        let issue_path = format!("/t/iwate/me/certificates/{fy}");
        c.find(Locator::Css(&format!(r#"a[href="{issue_path}"]"#)))
            .await?
            .click()
            .await?;
        arrive(c, &issue_path).await?;
        let name = c.find(Locator::Id("f-printed_name")).await?;
        name.clear().await?;
        name.send_keys("結 花子").await?;
        submit(c, &issue_path).await?;
        let mine = c.current_url().await?.path().to_owned();
        assert!(mine.starts_with("/me/certificates/"), "{mine}");
        let code = mine.trim_start_matches("/me/certificates/").to_owned();

        // The download link saves the signed document.
        c.find(Locator::Css(&format!(r#"a[href="{mine}/download"]"#)))
            .await?
            .click()
            .await?;
        let file = browser
            .downloads
            .join(format!("yui-certificate-{code}.json"));
        let mut document = String::new();
        for _ in 0..100 {
            // Chromium writes to a temporary name and renames when done.
            if let Ok(text) = std::fs::read_to_string(&file)
                && !text.is_empty()
            {
                document = text;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(
            document.contains(&code),
            "no download at {}",
            file.display()
        );
        let public = c
            .find(Locator::Css(&format!(r#"a[href$="/certificates/{code}"]"#)))
            .await?
            .attr("href")
            .await?
            .expect("the public URL");

        // A stranger: the public page, then the pasted file, then an altered one.
        sign_out(c).await?;
        c.goto(&public).await?;
        let verdict = text_of(c, "main").await?;
        assert!(verdict.contains("この活動証明は有効です"), "{verdict}");
        assert!(verdict.contains("結 花子"), "{verdict}");
        for (doc, expected) in [
            (document.clone(), "この活動証明は有効です"),
            (
                document.replacen("結 花子", "結 花男", 1),
                "この活動証明は検証できません",
            ),
        ] {
            c.goto(&app.url("/certificates/verify")).await?;
            set_value(c, "f-document", &doc).await?;
            submit(c, "/certificates/verify").await?;
            let verdict = text_of(c, "main").await?;
            assert!(verdict.contains(expected), "{verdict}");
        }
        Ok(())
    }
    .await;
    browser.client.close().await.ok();
    app.stop().await;
    result.expect("browser steps");
}

/// Everything `yui serve --demo` loads, as it loads it, with the roles in force.
pub(crate) async fn whole_demo(app: &TestApp) {
    let now = app.now();
    crate::form_pages::demo_accounts(app).await;
    let tenants = crate::support::repo_tenants();
    yui::demo::load_hosts(&app.store, &tenants, now)
        .await
        .unwrap();
    yui::demo::load_talents(&app.store, now).await.unwrap();
    yui::demo::load_events(&app.store, now).await.unwrap();
    yui::demo::load_rounds(&app.store, now).await.unwrap();
    yui::demo::load_engagements(&app.store, now).await.unwrap();
    app.authz.refresh_if_changed(&app.store, now).await.unwrap();
}

/// The rows of every data table on the page: each row's header and its cells.
async fn table_rows(
    c: &fantoccini::Client,
) -> Result<Vec<Vec<String>>, fantoccini::error::CmdError> {
    let rows = c
        .execute(
            "return Array.from(document.querySelectorAll('main table.data tbody tr')).map(tr =>
                 Array.from(tr.querySelectorAll('th, td')).map(cell => cell.textContent.trim()));",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(rows.clone())
        .unwrap_or_else(|e| panic!("table rows {rows}: {e} at {:?}", e)))
}

/// Issue 13's dashboard and report in a real browser, on the demo data: the KPI
/// dashboard's summary and the printable report show what the database holds —
/// each KPI as the store counts it from its rows, the year's matches as many as
/// its engagements that started, and 158 matches and 81 organizations since
/// FY2018 — and the report lists the year's published case studies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kpi_dashboard_and_report_show_what_the_database_holds() {
    use yui_domain::kpi::KpiCode;
    let Some(browser) = open_browser().await else {
        return;
    };
    let app = TestApp::with_demo(Backend::Sqlite).await.unwrap();
    whole_demo(&app).await;
    let now = app.now();

    let tenant = app.store.tenant_by_slug("iwate").await.unwrap();
    let today = now.with_timezone(&yui_domain::fiscal::tokyo()).date_naive();
    let year = yui_domain::FiscalYear::containing(today);
    let home = tenant
        .tenant
        .code
        .as_ref()
        .and_then(|c| c.prefecture_prefix().parse().ok());
    let mut tx = app.store.tenant(tenant.id).read().await.unwrap();
    let figures = tx.kpi_figures(year, today, home).await.unwrap();
    let engagements = tx
        .engagements(yui_store::EngagementFilter::default(), 10_000)
        .await
        .unwrap();
    let cases = tx.public_case_studies_of_year(year).await.unwrap();
    tx.commit().await.unwrap();
    // Counted apart from the KPI code: the engagements that started this year.
    let started = engagements
        .iter()
        .filter(|e| {
            e.started_on
                .is_some_and(|d| yui_domain::FiscalYear::containing(d) == year)
        })
        .count() as u64;
    assert_eq!(figures.actual(KpiCode::Matches), Some(started));
    assert_eq!(figures.actual(KpiCode::CumulativeMatches), Some(158));
    assert_eq!(figures.actual(KpiCode::CumulativeHosts), Some(81));

    let c = &browser.client;
    let result: Steps = async {
        sign_in_as(c, &app, DEMO_ADMIN).await?;
        c.goto(&app.url("/t/iwate/kpis")).await?;
        let shown = |rows: &[Vec<String>], code: KpiCode| {
            rows.iter()
                .find(|r| r.first().map(String::as_str) == Some(code.name(yui_domain::Locale::Ja)))
                .and_then(|r| r.get(1).cloned())
                .unwrap_or_else(|| panic!("no row for {code:?} in {rows:?}"))
        };
        let rows = table_rows(c).await?;
        assert!(!rows.is_empty(), "{}", c.source().await?);
        for code in KpiCode::ALL {
            let expected = figures
                .actual(*code)
                .map_or_else(|| "—".to_owned(), |v| v.to_string());
            assert_eq!(shown(&rows, *code), expected, "{code:?} on the dashboard");
        }
        assert_eq!(shown(&rows, KpiCode::CumulativeMatches), "158");
        assert_eq!(shown(&rows, KpiCode::CumulativeHosts), "81");

        // The printable report, reached by its link, says the same.
        let report = format!("/t/iwate/kpis/report?fy={}", year.0);
        c.find(Locator::Css(&format!(r#"a[href="{report}"]"#)))
            .await?
            .click()
            .await?;
        arrive(c, "/t/iwate/kpis/report").await?;
        let rows = table_rows(c).await?;
        for code in [
            KpiCode::Matches,
            KpiCode::HostsEngaged,
            KpiCode::CumulativeMatches,
            KpiCode::CumulativeHosts,
        ] {
            let expected = figures.actual(code).unwrap().to_string();
            assert_eq!(shown(&rows, code), expected, "{code:?} in the report");
        }
        let main = text_of(c, "main").await?;
        for case in &cases {
            assert!(main.contains(&case.title_ja), "{} missing", case.title_ja);
        }
        Ok(())
    }
    .await;
    browser.client.close().await.ok();
    app.stop().await;
    result.expect("browser steps");
}

/// Clears the field `id` and types `value` into it.
async fn retype(c: &fantoccini::Client, id: &str, value: &str) -> Steps {
    let field = c.find(Locator::Id(id)).await?;
    field.clear().await?;
    field.send_keys(value).await
}

/// Issue 14's walk through: an operator finds 遠野市 in the national list, onboards it
/// with Iwate's settings and invites its administrator; the administrator accepts by
/// the mail's link, works through the setup checklist (introduction, colours and a
/// logo file, consent, mail sender, the first program) and puts the region live; the
/// public home page then lists it and its page shows its own introduction.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_onboards_a_municipality_whose_admin_sets_it_up_and_launches_it() {
    let Some(browser) = open_browser().await else {
        return;
    };
    let app = TestApp::with_demo(Backend::Sqlite).await.unwrap();
    crate::form_pages::demo_accounts(&app).await;
    let c = &browser.client;
    let logo = browser.downloads.join("tono-logo.svg");
    std::fs::write(
        &logo,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle cx="5" cy="5" r="4" fill="#1b5e20"/></svg>"##,
    )
    .unwrap();
    let result: Steps = async {
        sign_in_as(c, &app, DEMO_OPERATOR).await?;
        c.goto(&app.url("/ops/")).await?;
        c.find(Locator::LinkText("地域を追加する"))
            .await?
            .click()
            .await?;
        arrive(c, "/ops/tenants/new").await?;
        fill(c, "f-q", "とおの").await?;
        submit(c, "/ops/tenants/new").await?;
        c.find(Locator::Css(r#"a[href="/ops/tenants/new?code=032085"]"#))
            .await?
            .click()
            .await?;
        let slug = c.wait().for_element(Locator::Id("f-slug")).await?;
        assert_eq!(slug.prop("value").await?.as_deref(), Some("tono"));
        fill(c, "f-admin_email", "kikaku@city.tono.example.jp").await?;
        submit(c, "/ops/tenants").await?;
        arrive(c, "/ops/tenants/tono").await?;
        assert!(text_of(c, "main").await?.contains("準備中"));

        // The administrator accepts the invitation from the mail.
        let mail = app
            .sink
            .inbox()
            .wait_for_mail_to("kikaku@city.tono.example.jp", Duration::from_secs(20))
            .await
            .unwrap();
        let link = mail
            .links()
            .into_iter()
            .find(|l| l.contains("/t/tono/invitation?token="))
            .expect("an invitation link");
        sign_out(c).await?;
        c.goto(&link).await?;
        fill(c, "f-display_name", "遠野 企画").await?;
        fill(c, "f-password", "tono's long passphrase").await?;
        fill(c, "f-password_confirm", "tono's long passphrase").await?;
        submit(c, "/t/tono/invitation").await?;
        arrive(c, "/account").await?;

        // The region's page says it is being set up and leads to the checklist.
        c.goto(&app.url("/t/tono/")).await?;
        c.find(Locator::LinkText("管理者の方：準備のチェックリスト"))
            .await?
            .click()
            .await?;
        arrive(c, "/t/tono/setup").await?;
        assert_eq!(text_of(c, "ol.checklist").await?.matches("まだ").count(), 5);

        c.find(Locator::LinkText("紹介文")).await?.click().await?;
        arrive(c, "/t/tono/settings/introduction").await?;
        retype(
            c,
            "f-intro_ja",
            "遠野の物語の里で、複業人材と地域の事業者をつなぎます。",
        )
        .await?;
        submit(c, "/t/tono/settings/introduction").await?;

        c.goto(&app.url("/t/tono/setup")).await?;
        c.find(Locator::LinkText("色とロゴ")).await?.click().await?;
        arrive(c, "/t/tono/settings/branding").await?;
        // Too light a colour is refused, and says why.
        retype(c, "f-primary", "#dddddd").await?;
        submit(c, "/t/tono/settings/branding").await?;
        assert!(error_summary(c).await?.text().await?.contains(":1"));
        retype(c, "f-primary", "#1b5e20").await?;
        submit(c, "/t/tono/settings/branding").await?;
        c.find(Locator::Id("f-logo"))
            .await?
            .send_keys(&logo.display().to_string())
            .await?;
        submit(c, "/t/tono/settings/branding/logo").await?;

        c.goto(&app.url("/t/tono/setup")).await?;
        c.find(Locator::LinkText("参加の同意文"))
            .await?
            .click()
            .await?;
        arrive(c, "/t/tono/settings/consent").await?;
        // Read and kept as it is.
        submit(c, "/t/tono/settings/consent").await?;

        c.goto(&app.url("/t/tono/setup")).await?;
        c.find(Locator::LinkText("メールの差出人"))
            .await?
            .click()
            .await?;
        arrive(c, "/t/tono/settings/mail").await?;
        retype(c, "f-sender_name", "遠野市 複業事務局").await?;
        retype(c, "f-sender_address", "fukugyo@city.tono.example.jp").await?;
        submit(c, "/t/tono/settings/mail").await?;

        c.goto(&app.url("/t/tono/setup")).await?;
        c.find(Locator::LinkText("最初の年度の事業"))
            .await?
            .click()
            .await?;
        arrive(c, "/t/tono/programs").await?;
        submit(c, "/t/tono/programs").await?;

        c.goto(&app.url("/t/tono/setup")).await?;
        assert_eq!(text_of(c, "ol.checklist").await?.matches("済み").count(), 5);
        submit(c, "/t/tono/setup/launch").await?;
        assert!(text_of(c, "main").await?.contains("この地域を公開しました"));

        // A visitor now finds it among Iwate's municipalities, in its own words.
        sign_out(c).await?;
        c.goto(&app.url("/t/iwate/")).await?;
        c.find(Locator::Css(r#"a[href="/t/tono/"]"#))
            .await?
            .click()
            .await?;
        arrive(c, "/t/tono/").await?;
        let main = text_of(c, "main").await?;
        assert!(main.contains("遠野の物語の里で"), "{main}");
        assert!(!main.contains("準備中"));
        Ok(())
    }
    .await;
    browser.client.close().await.ok();
    app.stop().await;
    result.expect("browser steps");
}
