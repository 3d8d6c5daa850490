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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switch_to_english_and_visit_amami() {
    let Some((driver, chromium)) = start_driver().await else {
        return;
    };
    // Two TLS back-ends are linked into the test binary; WebDriver needs one chosen.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
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

    let result = async {
        client.goto(&app.url("/")).await?;
        let h1 = client.find(Locator::Css("h1")).await?.text().await?;
        assert_eq!(h1, "参加している地域");

        // Keyboard first: Tab reaches the skip link before anything else.
        client
            .find(Locator::Css("body"))
            .await?
            .send_keys(&Key::Tab.to_string())
            .await?;
        let focused = client.active_element().await?.text().await?;
        assert_eq!(focused, "本文へスキップ");

        client
            .find(Locator::Css("nav.lang-switch a"))
            .await?
            .click()
            .await?;
        let h1 = client.find(Locator::Css("h1")).await?.text().await?;
        assert_eq!(h1, "Participating regions");

        client
            .find(Locator::Css(r#"a[href="/t/amami/"]"#))
            .await?
            .click()
            .await?;
        assert_eq!(client.current_url().await?.path(), "/t/amami/");
        let h1 = client.find(Locator::Css("h1")).await?.text().await?;
        assert_eq!(h1, "Amami Islands Regional Union");
        let lang = client
            .find(Locator::Css("html"))
            .await?
            .attr("lang")
            .await?;
        assert_eq!(lang.as_deref(), Some("en"));
        Ok::<(), fantoccini::error::CmdError>(())
    }
    .await;
    client.close().await.ok();
    app.stop().await;
    result.expect("browser steps");
}
