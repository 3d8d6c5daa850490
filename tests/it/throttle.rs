//! Throttling under attack: bursts of guesses, guesses from a shared address, spoofed
//! `X-Forwarded-For`, floods of mailed links. Each test performs the attack.

use chrono::Duration;

use crate::accounts::{sign_in, sign_up};
use crate::support::{Backend, Seed, TestApp, on_both_backends};

on_both_backends!(
    TestApp::empty =>
    a_burst_of_wrong_passwords_gets_five_guesses,
    forwarded_for_from_an_untrusted_peer_is_ignored,
    failures_on_made_up_accounts_back_off_and_never_lock,
    successful_sign_ins_do_not_use_up_an_address,
    mail_cannot_flood_an_address_or_tell_who_is_registered,
);

on_both_backends!(
    behind_proxy =>
    the_owner_signs_in_from_elsewhere_while_the_attacker_waits,
    a_known_device_keeps_working_on_a_busy_address,
    a_client_address_cannot_mail_without_end,
    sign_ups_count_against_the_mail_limits,
);

/// The app behind a reverse proxy at 127.0.0.1 (where the test clients connect from).
async fn behind_proxy(backend: Backend) -> Option<TestApp> {
    TestApp::spawn(backend, Seed::Empty, |s| {
        s.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await
}

fn client_at_headers(ip: &str) -> reqwest::header::HeaderMap {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-forwarded-for", ip.parse().unwrap());
    headers
}

/// A browser whose requests the proxy forwards from `ip`.
fn client_at(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(client_at_headers(ip))
        .build()
        .unwrap()
}

const THROTTLED: &str = "受け付けを一時停止しています";
const PASSWORD: &str = "the right passphrase";

/// Seconds the server asks to wait.
fn retry_after(res: &reqwest::Response) -> i64 {
    res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

async fn a_burst_of_wrong_passwords_gets_five_guesses(app: &TestApp) {
    assert_eq!(
        sign_up(app, &app.client(), "Ken", "ken@example.jp", PASSWORD)
            .await
            .status(),
        303
    );
    let attacker = app.client();
    let mut form = app.open(&attacker, "/signin").await.form("/signin");
    form.set("email", "ken@example.jp")
        .set("password", "guess guess guess");
    let burst: Vec<_> = (0..40)
        .map(|_| {
            let (form, client) = (form.clone(), attacker.clone());
            tokio::spawn(async move { form.submit(&client).await.status().as_u16() })
        })
        .collect();
    let (mut evaluated, mut refused) = (0, 0);
    for b in burst {
        match b.await.unwrap() {
            401 => evaluated += 1,
            429 => refused += 1,
            other => panic!("status {other}"),
        }
    }
    assert_eq!((evaluated, refused), (5, 35), "five guesses evaluated");
    // The right password right after the burst is not even checked.
    let res = form.set("password", PASSWORD).submit(&attacker).await;
    assert_eq!(res.status(), 429);
    let wait = retry_after(&res);
    assert!((1..=60).contains(&wait), "{wait}");
    let html = res.text().await.unwrap();
    assert!(html.contains(THROTTLED), "in the person's language");
    assert!(
        html.contains(r#"value="ken@example.jp""#),
        "the address is kept"
    );
    // Once the wait is over, the right password works.
    app.advance(Duration::seconds(wait));
    assert_eq!(
        sign_in(app, &attacker, "ken@example.jp", PASSWORD)
            .await
            .status(),
        303
    );
}

async fn the_owner_signs_in_from_elsewhere_while_the_attacker_waits(app: &TestApp) {
    assert_eq!(
        sign_up(app, &app.client(), "Ken", "ken@example.jp", PASSWORD)
            .await
            .status(),
        303
    );
    let attacker = client_at("203.0.113.66");
    for _ in 0..5 {
        assert_eq!(
            sign_in(app, &attacker, "ken@example.jp", "guess guess guess")
                .await
                .status(),
            401
        );
    }
    assert_eq!(
        sign_in(app, &attacker, "ken@example.jp", PASSWORD)
            .await
            .status(),
        429
    );
    // The owner, at home, is not locked out by the stranger.
    let owner = client_at("198.51.100.7");
    assert_eq!(
        sign_in(app, &owner, "ken@example.jp", PASSWORD)
            .await
            .status(),
        303
    );
    // The audit log has the address the proxy saw.
    let entries = crate::support::audit_entries(&app.store, None, 1)
        .await
        .unwrap();
    assert_eq!(entries[0].ip, "198.51.100.7");
    // The attacker still waits.
    assert_eq!(
        sign_in(app, &attacker, "ken@example.jp", PASSWORD)
            .await
            .status(),
        429
    );
}

async fn a_known_device_keeps_working_on_a_busy_address(app: &TestApp) {
    let office = "192.0.2.10";
    assert_eq!(
        sign_up(app, &app.client(), "Ken", "ken@example.jp", PASSWORD)
            .await
            .status(),
        303
    );
    // Ken's laptop signs in at the office once, and signs out.
    let laptop = client_at(office);
    assert_eq!(
        sign_in(app, &laptop, "ken@example.jp", PASSWORD)
            .await
            .status(),
        303
    );
    let res = app
        .open(&laptop, "/account")
        .await
        .form("/signout")
        .submit(&laptop)
        .await;
    assert_eq!(res.status(), 303);
    // Someone on the office network guesses Ken's password, then tries many accounts.
    let stranger = client_at(office);
    for _ in 0..5 {
        assert_eq!(
            sign_in(app, &stranger, "ken@example.jp", "guess guess guess")
                .await
                .status(),
            401
        );
    }
    for i in 0..25 {
        let status = sign_in(app, &stranger, &format!("u{i}@example.jp"), "guess guess")
            .await
            .status();
        assert_eq!(status, 401, "u{i}");
    }
    // The address and Ken's account from it are both held back now…
    assert_eq!(
        sign_in(app, &stranger, "ken@example.jp", PASSWORD)
            .await
            .status(),
        429
    );
    assert_eq!(
        sign_in(app, &client_at(office), "other@example.jp", "guess guess")
            .await
            .status(),
        429
    );
    // …but Ken's laptop is known for Ken's account and signs in.
    assert_eq!(
        sign_in(app, &laptop, "ken@example.jp", PASSWORD)
            .await
            .status(),
        303
    );
    let cookie = laptop_device_cookie(app, &laptop).await;
    assert!(cookie, "the laptop keeps its device cookie");
    // Known for Ken only: the laptop is still held back for another account.
    assert_eq!(
        sign_in(app, &laptop, "other@example.jp", "guess guess")
            .await
            .status(),
        429
    );
    // A made-up device cookie is no way around the limit.
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    jar.add_cookie_str("yui_device=made-up", &app.url("/").parse().unwrap());
    let forger = reqwest::Client::builder()
        .cookie_provider(jar)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(client_at_headers(office))
        .build()
        .unwrap();
    assert_eq!(
        sign_in(app, &forger, "ken@example.jp", PASSWORD)
            .await
            .status(),
        429
    );
}

/// Whether the browser's device cookie was set with a long life and HttpOnly (read
/// from a fresh sign-in's headers, since the cookie store hides attributes).
async fn laptop_device_cookie(app: &TestApp, laptop: &reqwest::Client) -> bool {
    let res = app
        .open(laptop, "/account")
        .await
        .form("/signout")
        .submit(laptop)
        .await;
    assert_eq!(res.status(), 303);
    let res = sign_in(app, laptop, "ken@example.jp", PASSWORD).await;
    assert_eq!(res.status(), 303);
    res.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .any(|c| {
            c.starts_with("yui_device=") && c.contains("HttpOnly") && c.contains("Max-Age=31536000")
        })
}

async fn forwarded_for_from_an_untrusted_peer_is_ignored(app: &TestApp) {
    // No proxy is configured: each request claims a fresh address, in vain.
    for i in 0..30 {
        let client = client_at(&format!("203.0.113.{i}"));
        let res = sign_in(app, &client, &format!("u{i}@example.jp"), "guess guess").await;
        assert_eq!(res.status(), 401, "attempt {i}");
    }
    let res = sign_in(
        app,
        &client_at("198.51.100.1"),
        "x@example.jp",
        "guess guess",
    )
    .await;
    assert_eq!(
        res.status(),
        429,
        "the address is the peer's, and it has had its 30"
    );
    let entries = crate::support::audit_entries(&app.store, None, 1)
        .await
        .unwrap();
    assert_eq!(entries[0].ip, "127.0.0.1");
}

async fn failures_on_made_up_accounts_back_off_and_never_lock(app: &TestApp) {
    let client = app.client();
    let mut waits = Vec::new();
    for i in 0..50 {
        let email = format!("made-up-{i}@example.jp");
        let res = sign_in(app, &client, &email, "guess guess").await;
        let res = if res.status() == 429 {
            // Wait as asked; then one more attempt is evaluated.
            let wait = retry_after(&res);
            waits.push(wait);
            app.advance(Duration::seconds(wait));
            sign_in(app, &client, &email, "guess guess").await
        } else {
            res
        };
        assert_eq!(res.status(), 401, "attempt {i} is evaluated");
    }
    // Thirty free attempts, then waits that grow and stop growing at half an hour.
    assert_eq!(waits.len(), 20, "{waits:?}");
    assert!(waits.windows(2).all(|w| w[0] <= w[1]), "{waits:?}");
    assert!(waits[0] <= 10 && waits[3] > waits[0], "{waits:?}");
    assert!(waits.iter().all(|w| *w <= 30 * 60), "{waits:?}");
}

async fn successful_sign_ins_do_not_use_up_an_address(app: &TestApp) {
    // An office behind one address: people sign in all day, new browsers included.
    assert_eq!(
        sign_up(app, &app.client(), "Ken", "ken@example.jp", PASSWORD)
            .await
            .status(),
        303
    );
    for i in 0..40 {
        let res = sign_in(app, &app.client(), "ken@example.jp", PASSWORD).await;
        assert_eq!(res.status(), 303, "sign-in {i}");
    }
}

/// Mails with a link to `path` that `to` received, after the worker had time to send.
async fn links_mailed(app: &TestApp, to: &str, path: &str) -> usize {
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    app.sink
        .inbox()
        .messages()
        .iter()
        .filter(|m| m.rcpt_to.iter().any(|r| r == to))
        .filter(|m| m.links().iter().any(|l| l.contains(path)))
        .count()
}

async fn mail_cannot_flood_an_address_or_tell_who_is_registered(app: &TestApp) {
    assert_eq!(
        sign_up(app, &app.client(), "Hanako", "hanako@example.jp", PASSWORD)
            .await
            .status(),
        303
    );
    let browser = app.client();
    let form = |path: &'static str, email: &'static str| {
        let browser = browser.clone();
        async move {
            let mut form = app.open(&browser, path).await.form(path);
            form.set("email", email);
            form
        }
    };
    // A single request is mailed, and answers as for an address nobody has.
    let reset = form("/reset", "hanako@example.jp").await;
    let known = reset.submit(&browser).await.text().await.unwrap();
    let unknown = form("/reset", "nobody@example.jp")
        .await
        .submit(&browser)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(known, unknown);
    crate::accounts::mailed_link(app, "hanako@example.jp", "/reset/confirm?token=").await;
    // Bursts of reset and sign-in link requests, a few minutes apart (past the
    // per-account cooldown of two minutes).
    let magic = form("/magic", "hanako@example.jp").await;
    let mut bodies = Vec::new();
    for _ in 0..3 {
        app.advance(Duration::minutes(3));
        let burst: Vec<_> = (0..10)
            .map(|i| {
                let form = if i % 2 == 0 {
                    reset.clone()
                } else {
                    magic.clone()
                };
                let client = browser.clone();
                tokio::spawn(async move {
                    let res = form.submit(&client).await;
                    (res.status().as_u16(), res.text().await.unwrap())
                })
            })
            .collect();
        for (i, b) in burst.into_iter().enumerate() {
            let (status, body) = b.await.unwrap();
            assert_eq!(status, 200);
            if i % 2 == 0 {
                bodies.push(body);
            }
        }
    }
    assert!(
        bodies.iter().all(|b| *b == known),
        "over the limit, the same answer"
    );
    let mailed = links_mailed(app, "hanako@example.jp", "/reset/confirm?token=").await
        + links_mailed(app, "hanako@example.jp", "/magic/confirm?token=").await;
    assert!(mailed <= 3, "{mailed} links mailed within the hour");
    // An hour later the address gets mail again.
    app.advance(Duration::minutes(61));
    magic.submit(&browser).await;
    let before = mailed;
    let mut after = before;
    for _ in 0..40 {
        after = links_mailed(app, "hanako@example.jp", "/confirm?token=").await;
        if after > before {
            break;
        }
    }
    assert_eq!(after, before + 1);
}

async fn a_client_address_cannot_mail_without_end(app: &TestApp) {
    // 22 people; one client asks for a reset link for each of them.
    let emails: Vec<String> = (0..22).map(|i| format!("p{i}@example.jp")).collect();
    for e in &emails {
        assert_eq!(
            sign_up(app, &app.client(), "P", e, PASSWORD).await.status(),
            303
        );
    }
    let asker = client_at("203.0.113.5");
    let mut form = app.open(&asker, "/reset").await.form("/reset");
    for e in &emails {
        assert_eq!(form.set("email", e).submit(&asker).await.status(), 200);
    }
    let mailed = || {
        app.sink
            .inbox()
            .messages()
            .iter()
            .filter(|m| {
                m.links()
                    .iter()
                    .any(|l| l.contains("/reset/confirm?token="))
            })
            .count()
    };
    for _ in 0..200 {
        if mailed() >= 20 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
    assert_eq!(mailed(), 20, "twenty an hour from one client address");
}

/// Mails received so far whose links contain `part`, after giving the worker time.
async fn mails_with(app: &TestApp, to: Option<&str>, part: &str, at_least: usize) -> usize {
    let count = || {
        app.sink
            .inbox()
            .messages()
            .iter()
            .filter(|m| to.is_none_or(|t| m.rcpt_to.iter().any(|r| r.eq_ignore_ascii_case(t))))
            .filter(|m| m.links().iter().any(|l| l.contains(part)))
            .count()
    };
    for _ in 0..200 {
        if count() >= at_least {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    count()
}

async fn sign_ups_count_against_the_mail_limits(app: &TestApp) {
    // One client signs up 22 addresses: 20 confirmation mails, and the rest are told
    // the mail comes later.
    let client = client_at("198.51.100.7");
    let mut later = 0;
    for i in 0..22 {
        let res = sign_up(app, &client, "P", &format!("s{i}@example.jp"), PASSWORD).await;
        assert_eq!(res.status(), 303);
        if res.headers()["location"] == "/account?welcome=later" {
            later += 1;
        }
    }
    assert_eq!(later, 2);
    assert_eq!(mails_with(app, None, "/verify?token=", 20).await, 20);
    // One address: its sign-up's mail counts with the links asked for later, from
    // other clients, at most three an hour in all.
    let res = sign_up(
        app,
        &client_at("198.51.100.8"),
        "V",
        "v@example.jp",
        PASSWORD,
    )
    .await;
    assert_eq!(res.status(), 303);
    for (i, path) in ["/reset", "/magic", "/reset"].into_iter().enumerate() {
        let c = client_at(&format!("198.51.100.{}", 20 + i));
        let res = app
            .open(&c, path)
            .await
            .form(path)
            .set("email", "v@example.jp")
            .submit(&c)
            .await;
        assert_eq!(res.status(), 200);
        // Past the two minutes between links of one kind.
        app.advance(Duration::minutes(3));
    }
    assert_eq!(mails_with(app, Some("v@example.jp"), "token=", 3).await, 3);
}
