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
    _driver: Driver,
}

async fn open_browser() -> Option<Browser> {
    let (driver, chromium) = start_driver().await?;
    // Two TLS back-ends are linked into the test binary; WebDriver needs one chosen.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let profile = driver._profile.path().display().to_string();
    let caps = serde_json::json!({
        "goog:chromeOptions": {
            "binary": chromium,
            // A Japanese user's browser: the page must start in Japanese.
            "prefs": { "intl.accept_languages": "ja,ja-JP" },
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
        c.find(Locator::Css("form button[type=submit]"))
            .await?
            .click()
            .await?;
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
        c.find(Locator::Css(r#"form[action="/signout"] button"#))
            .await?
            .click()
            .await?;
        arrive(c, "/").await?;
        assert!(c.find(Locator::LinkText("ログイン")).await.is_ok());

        c.find(Locator::LinkText("ログイン")).await?.click().await?;
        fill(c, "f-email", "TARO@example.jp").await?;
        fill(c, "f-password", "yamada's passphrase").await?;
        c.find(Locator::Css("form button[type=submit]"))
            .await?
            .click()
            .await?;
        arrive(c, "/account").await?;
        c.find(Locator::Css(r#"form[action="/signout"] button"#))
            .await?
            .click()
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
