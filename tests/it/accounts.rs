//! Accounts: sign-up, sign-in, sessions, CSRF, throttling, sign-out everywhere.

use chrono::Duration;

use crate::support::{Backend, Seed, TestApp, on_both_backends};

on_both_backends!(
    TestApp::empty =>
    sign_up_sign_in_sign_out,
    bad_sign_up_names_the_fields_and_keeps_input,
    forms_refuse_requests_without_the_csrf_token,
    sign_in_is_throttled_per_account,
    sign_out_everywhere_ends_other_sessions,
    sessions_expire_when_idle_and_at_their_absolute_end,
    verification_links_work_once,
);

/// The CSRF token in a page's form.
pub fn csrf_of(html: &str) -> String {
    let start = html
        .find(r#"name="csrf" value=""#)
        .expect("a form with a csrf field")
        + r#"name="csrf" value=""#.len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

pub async fn form_token(client: &reqwest::Client, app: &TestApp, path: &str) -> String {
    csrf_of(&app.page(client, path).await)
}

pub async fn sign_up(
    app: &TestApp,
    client: &reqwest::Client,
    name: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    let csrf = form_token(client, app, "/signup").await;
    client
        .post(app.url("/signup"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("display_name", name),
            ("email", email),
            ("password", password),
            ("password_confirm", password),
        ])
        .send()
        .await
        .unwrap()
}

pub async fn sign_in(
    app: &TestApp,
    client: &reqwest::Client,
    email: &str,
    password: &str,
) -> reqwest::Response {
    let csrf = form_token(client, app, "/signin").await;
    client
        .post(app.url("/signin"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", email),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
}

fn session_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("yui_session=") && !c.starts_with("yui_session=;"))
}

async fn sign_up_sign_in_sign_out(app: &TestApp) {
    let client = app.client();
    let res = sign_up(
        app,
        &client,
        "佐藤 花子",
        "Hanako@Example.JP",
        "a long passphrase",
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/account?welcome=1");
    let cookie = session_cookie(&res).expect("signed in after sign-up");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"),
        "{cookie}"
    );
    let first_session = cookie.split(';').next().unwrap().to_owned();

    let html = app.page(&client, "/account?welcome=1").await;
    assert!(html.contains("Hanako@Example.JP") && html.contains("佐藤 花子"));
    assert!(html.contains("確認のためのメールを送りました"));

    // The same address in another case is the same account.
    let other = app.client();
    let res = sign_up(
        app,
        &other,
        "別人",
        "hanako@example.jp",
        "another passphrase",
    )
    .await;
    assert_eq!(res.status(), 409);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("このメールアドレスはすでに登録されています")
    );

    let csrf = form_token(&client, app, "/account").await;
    let res = client
        .post(app.url("/signout"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let res = client.get(app.url("/account")).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/signin");

    let res = sign_in(app, &client, "hanako@example.jp", "wrong password!").await;
    assert_eq!(res.status(), 401);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("メールアドレスまたはパスワードが正しくありません")
    );
    let res = sign_in(app, &client, "HANAKO@example.jp", "a long passphrase").await;
    assert_eq!(res.status(), 303);
    let second_session = session_cookie(&res)
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert_ne!(
        first_session, second_session,
        "a new session id at every sign-in"
    );
    let html = app.page(&client, "/").await;
    assert!(
        html.contains(r#"<a href="/account">佐藤 花子</a>"#),
        "the header shows who is signed in"
    );
}

async fn bad_sign_up_names_the_fields_and_keeps_input(app: &TestApp) {
    let client = app.client();
    let csrf = form_token(&client, app, "/signup").await;
    let res = client
        .post(app.url("/signup"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("display_name", "Taro <b>"),
            ("email", "taro@"),
            ("password", "short"),
            ("password_confirm", "short"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("メールアドレス：メールアドレスの形式が正しくありません"),
        "{html}"
    );
    assert!(html.contains(r#"value="taro@""#), "what was typed is kept");
    assert!(html.contains(r#"value="Taro &lt;b&gt;""#));
    assert!(!html.contains("short\""), "passwords are never echoed");
    assert!(html.contains(r#"aria-invalid="true""#));
    assert!(
        html.contains("パスワード：10文字以上で入力してください"),
        "every problem at once"
    );

    let res = client
        .post(app.url("/signup?lang=en"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("display_name", "Taro"),
            ("email", "taro@example.jp"),
            ("password", "long enough pw"),
            ("password_confirm", "long enough pv"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Password (again): The passwords do not match")
    );
}

async fn forms_refuse_requests_without_the_csrf_token(app: &TestApp) {
    let client = app.client();
    let form = [
        ("display_name", "X"),
        ("email", "x@example.jp"),
        ("password", "long enough pw"),
        ("password_confirm", "long enough pw"),
    ];
    let res = client
        .post(app.url("/signup"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // A token from another browser is no good either.
    let stolen = form_token(&app.client(), app, "/signup").await;
    form_token(&client, app, "/signup").await;
    let mut with_stolen = form.to_vec();
    with_stolen.push(("csrf", stolen.as_str()));
    let res = client
        .post(app.url("/signup"))
        .form(&with_stolen)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("フォームの有効期限が切れました")
    );
    let res = client.post(app.url("/signout")).send().await.unwrap();
    assert_ne!(res.status(), 303);
}

async fn sign_in_is_throttled_per_account(app: &TestApp) {
    let client = app.client();
    assert_eq!(
        sign_up(
            app,
            &client,
            "Ken",
            "ken@example.jp",
            "the right passphrase"
        )
        .await
        .status(),
        303
    );
    let attacker = app.client();
    for _ in 0..5 {
        assert_eq!(
            sign_in(app, &attacker, "ken@example.jp", "guess guess guess")
                .await
                .status(),
            401
        );
    }
    let res = sign_in(app, &attacker, "ken@example.jp", "the right passphrase").await;
    assert_eq!(res.status(), 429);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("しばらく受け付けを停止しています")
    );
    // The window passes and the right password works again.
    app.advance(Duration::minutes(16));
    assert_eq!(
        sign_in(app, &attacker, "ken@example.jp", "the right passphrase")
            .await
            .status(),
        303
    );
}

async fn sign_out_everywhere_ends_other_sessions(app: &TestApp) {
    let phone = app.client();
    let laptop = app.client();
    assert_eq!(
        sign_up(app, &phone, "Mai", "mai@example.jp", "mai's passphrase")
            .await
            .status(),
        303
    );
    assert_eq!(
        sign_in(app, &laptop, "mai@example.jp", "mai's passphrase")
            .await
            .status(),
        303
    );
    assert_eq!(app.status(&laptop, "/account").await, 200);
    let csrf = form_token(&phone, app, "/account").await;
    let res = phone
        .post(app.url("/account/signout-everywhere"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(app.status(&laptop, "/account").await, 303);
    assert_eq!(app.status(&phone, "/account").await, 303);
}

async fn sessions_expire_when_idle_and_at_their_absolute_end(app: &TestApp) {
    let client = app.client();
    assert_eq!(
        sign_up(app, &client, "Yu", "yu@example.jp", "yu's passphrase")
            .await
            .status(),
        303
    );
    // Active every 11 hours: the idle limit (12 h) never strikes…
    for _ in 0..3 {
        app.advance(Duration::hours(11));
        assert_eq!(app.status(&client, "/account").await, 200);
    }
    // …but 13 idle hours do.
    app.advance(Duration::hours(13));
    assert_eq!(app.status(&client, "/account").await, 303);

    assert_eq!(
        sign_in(app, &client, "yu@example.jp", "yu's passphrase")
            .await
            .status(),
        303
    );
    for round in 1..=40 {
        app.advance(Duration::hours(11));
        if app.status(&client, "/account").await != 200 {
            // Ended by the absolute limit (14 days = 336 h) although never idle.
            assert_eq!(round, 31, "ended after {} hours", round * 11);
            return;
        }
    }
    panic!("a session outlived its absolute expiry");
}

async fn verification_links_work_once(app: &TestApp) {
    let res = app.get("/verify?token=not-a-token").await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("確認リンクが無効です"));
}

on_both_backends!(TestApp::empty => sign_ins_and_failures_are_audited);

async fn sign_ins_and_failures_are_audited(app: &TestApp) {
    let client = app.client();
    assert_eq!(
        sign_up(app, &client, "Aoi", "aoi@example.jp", "aoi's passphrase")
            .await
            .status(),
        303
    );
    // A forged second log line hidden in the address is kept as data, never as a line.
    let hostile = "aoi@example.jp\r\nINFO sign_in ok";
    let csrf = form_token(&client, app, "/signin").await;
    client
        .post(app.url("/signin"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", hostile),
            ("password", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        sign_in(app, &client, "aoi@example.jp", "wrong passphrase")
            .await
            .status(),
        401
    );
    assert_eq!(
        sign_in(app, &client, "aoi@example.jp", "aoi's passphrase")
            .await
            .status(),
        303
    );
    let entries = app.store.audit_entries(None, 10).await.unwrap();
    let actions: Vec<&str> = entries.iter().rev().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["sign_up", "sign_in_failed", "sign_in"]);
    let failed = &entries[1];
    assert_eq!(failed.detail.0["email"], "aoi@example.jp");
    assert_eq!(failed.ip, "127.0.0.1", "{entries:?}");
    assert!(entries[0].actor_id.is_some());
}

on_both_backends!(
    TestApp::empty =>
    verification_mail_arrives_and_confirms_the_address,
    password_reset_by_mail,
    magic_link_sign_in
);

/// The first link in the newest mail to `to`.
async fn mailed_link(app: &TestApp, to: &str, path: &str) -> String {
    let deadline = std::time::Duration::from_secs(20);
    let start = std::time::Instant::now();
    loop {
        let link = app
            .sink
            .inbox()
            .messages()
            .iter()
            .rev()
            .filter(|m| m.rcpt_to.iter().any(|r| r.eq_ignore_ascii_case(to)))
            .flat_map(|m| m.links())
            .find(|l| l.contains(path));
        if let Some(link) = link {
            return link;
        }
        assert!(
            start.elapsed() < deadline,
            "no mail to {to} with a {path} link"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn verification_mail_arrives_and_confirms_the_address(app: &TestApp) {
    let client = app.client();
    assert_eq!(
        sign_up(app, &client, "Rin", "rin@example.jp", "rin's passphrase")
            .await
            .status(),
        303
    );
    let mail = app
        .sink
        .inbox()
        .wait_for_mail_to("rin@example.jp", std::time::Duration::from_secs(20))
        .await
        .unwrap();
    assert!(
        mail.subject().unwrap().contains("確認") || mail.subject().unwrap().contains("メール"),
        "{:?}",
        mail.subject()
    );
    let link = mailed_link(app, "rin@example.jp", "/verify?token=").await;
    assert!(link.starts_with(&app.url("/verify?token=")), "{link}");
    let html = app.page(&client, "/account").await;
    assert!(html.contains("未確認"));
    let res = client.get(&link).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let html = app.page(&client, "/account").await;
    assert!(html.contains("確認済み"));
    // Once only.
    assert_eq!(client.get(&link).send().await.unwrap().status(), 400);
    // Exactly one mail for one sign-up.
    let n = app
        .sink
        .inbox()
        .messages()
        .iter()
        .filter(|m| m.rcpt_to.iter().any(|r| r == "rin@example.jp"))
        .count();
    assert_eq!(n, 1);
}

async fn password_reset_by_mail(app: &TestApp) {
    let client = app.client();
    assert_eq!(
        sign_up(app, &client, "Sora", "sora@example.jp", "old passphrase!")
            .await
            .status(),
        303
    );
    let browser = app.client();
    let csrf = form_token(&browser, app, "/reset").await;
    // An unknown address gets the same answer and no mail.
    let res = browser
        .post(app.url("/reset"))
        .form(&[("csrf", csrf.as_str()), ("email", "nobody@example.jp")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let unknown = res.text().await.unwrap();
    let res = browser
        .post(app.url("/reset"))
        .form(&[("csrf", csrf.as_str()), ("email", "SORA@example.jp")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), unknown);
    let link = mailed_link(app, "sora@example.jp", "/reset/confirm?token=").await;
    let page = browser
        .get(&link)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("10文字以上。長めのフレーズがおすすめです。"),
        "the new password's rule is shown"
    );
    let csrf = csrf_of(&page);
    let token = link.split("token=").nth(1).unwrap().to_owned();
    // A too-short password is refused and the link still works afterwards.
    let res = browser
        .post(app.url("/reset/confirm"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("token", token.as_str()),
            ("password", "short"),
            ("password_confirm", "short"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let res = browser
        .post(app.url("/reset/confirm"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("token", token.as_str()),
            ("password", "new passphrase!"),
            ("password_confirm", "new passphrase!"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/signin?reset=1");
    // Every old session ended; the old password no longer works, the new one does.
    assert_eq!(app.status(&client, "/account").await, 303);
    assert_eq!(
        sign_in(app, &browser, "sora@example.jp", "old passphrase!")
            .await
            .status(),
        401
    );
    assert_eq!(
        sign_in(app, &browser, "sora@example.jp", "new passphrase!")
            .await
            .status(),
        303
    );
    let res = browser
        .post(app.url("/reset/confirm"))
        .form(&[
            (
                "csrf",
                csrf_of(
                    &browser
                        .get(&link)
                        .send()
                        .await
                        .unwrap()
                        .text()
                        .await
                        .unwrap(),
                )
                .as_str(),
            ),
            ("token", token.as_str()),
            ("password", "third passphrase"),
            ("password_confirm", "third passphrase"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400, "a reset link works once");
}

async fn magic_link_sign_in(app: &TestApp) {
    let client = app.client();
    assert_eq!(
        sign_up(app, &client, "Nagi", "nagi@example.jp", "nagi's passphrase")
            .await
            .status(),
        303
    );
    let browser = app.client();
    let csrf = form_token(&browser, app, "/magic").await;
    browser
        .post(app.url("/magic?lang=en"))
        .form(&[("csrf", csrf.as_str()), ("email", "nagi@example.jp")])
        .send()
        .await
        .unwrap();
    let link = mailed_link(app, "nagi@example.jp", "/magic/confirm?token=").await;
    // Following the link (as a mail scanner would) signs nobody in.
    let page = browser
        .get(&link)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(app.status(&browser, "/account").await, 303);
    let token = link.split("token=").nth(1).unwrap().to_owned();
    let res = browser
        .post(app.url("/magic/confirm"))
        .form(&[("csrf", csrf_of(&page).as_str()), ("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(app.status(&browser, "/account").await, 200);
    // Fifteen minutes later a new link has expired.
    let csrf = form_token(&client, app, "/magic").await;
    client
        .post(app.url("/magic"))
        .form(&[("csrf", csrf.as_str()), ("email", "nagi@example.jp")])
        .send()
        .await
        .unwrap();
    let mut second = mailed_link(app, "nagi@example.jp", "/magic/confirm?token=").await;
    while second == link {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        second = mailed_link(app, "nagi@example.jp", "/magic/confirm?token=").await;
    }
    app.advance(chrono::Duration::minutes(16));
    let page = client
        .get(&second)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = second.split("token=").nth(1).unwrap().to_owned();
    let res = client
        .post(app.url("/magic/confirm"))
        .form(&[("csrf", csrf_of(&page).as_str()), ("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400, "an expired link signs nobody in");
}

/// Served over TLS: cookies are `Secure` and carry the `__Host-` prefix. (The test
/// speaks plain HTTP, so it reads the headers rather than letting a client store them.)
#[tokio::test]
async fn cookies_are_secure_and_host_bound_over_tls() {
    let app = TestApp::spawn(Backend::Sqlite, Seed::Empty, |s| {
        s.public_url = "https://yui.example".to_owned();
        s.secure_cookies = true;
    })
    .await
    .unwrap();
    let res = app.get("/signup").await;
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.starts_with("__Host-yui_csrf=")
            && cookie.contains("Secure")
            && cookie.contains("Path=/")
            && !cookie.contains("Domain"),
        "{cookie}"
    );
    let csrf = cookie
        .split(';')
        .next()
        .unwrap()
        .split('=')
        .nth(1)
        .unwrap()
        .to_owned();
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(app.url("/signup"))
        .header("cookie", format!("__Host-yui_csrf={csrf}"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("display_name", "TLS"),
            ("email", "tls@example.jp"),
            ("password", "a long passphrase"),
            ("password_confirm", "a long passphrase"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let session = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("__Host-yui_session="))
        .expect("a __Host- session cookie");
    assert!(
        session.contains("Secure")
            && session.contains("HttpOnly")
            && session.contains("SameSite=Lax"),
        "{session}"
    );
    app.stop().await;
}

/// Many accounts tried from one address: the address is throttled too.
#[tokio::test]
async fn sign_in_is_throttled_per_address() {
    let app = TestApp::spawn(Backend::Sqlite, Seed::Empty, |s| s.max_failures_per_ip = 8)
        .await
        .unwrap();
    let client = app.client();
    for i in 0..8 {
        assert_eq!(
            sign_in(&app, &client, &format!("user{i}@example.jp"), "guess guess")
                .await
                .status(),
            401
        );
    }
    let res = sign_in(&app, &client, "someone-else@example.jp", "guess guess").await;
    assert_eq!(res.status(), 429);
    app.stop().await;
}
