//! Accounts: sign-up, sign-in, sessions, CSRF, throttling, sign-out everywhere.

use chrono::Duration;

use crate::support::{Backend, Form, Page, Seed, TestApp, on_both_backends};

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

/// The sign-up form of `page`, filled in.
fn sign_up_form(page: &Page, name: &str, email: &str, password: &str, again: &str) -> Form {
    let mut form = page.form("/signup");
    form.set("display_name", name)
        .set("email", email)
        .set("password", password)
        .set("password_confirm", again);
    form
}

/// Opens the sign-up page with `client`, fills it in and sends it.
pub async fn sign_up(
    app: &TestApp,
    client: &reqwest::Client,
    name: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    let page = app.open(client, "/signup").await;
    sign_up_form(&page, name, email, password, password)
        .submit(client)
        .await
}

/// Opens the sign-in page with `client`, fills it in and sends it.
pub async fn sign_in(
    app: &TestApp,
    client: &reqwest::Client,
    email: &str,
    password: &str,
) -> reqwest::Response {
    app.open(client, "/signin")
        .await
        .form("/signin")
        .set("email", email)
        .set("password", password)
        .submit(client)
        .await
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
    // The address in its normal form: the domain in lower case, the local part as typed.
    assert!(html.contains("Hanako@example.jp") && html.contains("佐藤 花子"));
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

    let res = app
        .open(&client, "/account")
        .await
        .form("/signout")
        .submit(&client)
        .await;
    assert_eq!(res.status(), 303);
    let res = client.get(app.url("/account")).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/signin?next=%2Faccount");

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
    let page = app.open(&client, "/signup").await;
    let res = sign_up_form(&page, "Taro <b>", "taro@", "short", "short")
        .submit(&client)
        .await;
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

    // In English, chosen with the page's language switch.
    assert_eq!(app.status(&client, "/lang/en?next=%2Fsignup").await, 303);
    let page = app.open(&client, "/signup").await;
    let res = sign_up_form(
        &page,
        "Taro",
        "taro@example.jp",
        "long enough pw",
        "long enough pv",
    )
    .submit(&client)
    .await;
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
    // The form as another browser got it, filled in and sent without its token by a
    // browser that never opened the page.
    let elsewhere = app.open(&app.client(), "/signup").await;
    let theirs = sign_up_form(
        &elsewhere,
        "X",
        "x@example.jp",
        "long enough pw",
        "long enough pw",
    );
    let res = theirs.clone().remove("csrf").submit(&client).await;
    assert_eq!(res.status(), 403);
    // The browser's own form without its token, or with the other browser's token, is no
    // good either.
    let page = app.open(&client, "/signup").await;
    let mut own = sign_up_form(
        &page,
        "X",
        "x@example.jp",
        "long enough pw",
        "long enough pw",
    );
    let res = own.clone().remove("csrf").submit(&client).await;
    assert_eq!(res.status(), 403);
    let stolen = theirs.value("csrf").expect("a csrf token");
    assert_ne!(Some(&stolen), own.value("csrf").as_ref());
    let res = own.forge("csrf", &stolen).submit(&client).await;
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
            .contains("受け付けを一時停止しています")
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
    let res = app
        .open(&phone, "/account")
        .await
        .form("/account/signout-everywhere")
        .submit(&phone)
        .await;
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
    // (An email field holds one line: only a forged request carries a line break.)
    let hostile = "aoi@example.jp\r\nINFO sign_in ok";
    app.open(&client, "/signin")
        .await
        .form("/signin")
        .forge("email", hostile)
        .set("password", "x")
        .submit(&client)
        .await;
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
    let entries = crate::support::audit_entries(&app.store, None, 10)
        .await
        .unwrap();
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
    magic_link_sign_in,
    a_sign_in_link_takes_an_unproven_account_from_whoever_registered_it,
    an_empty_password_is_a_field_to_fill_not_a_guess,
);

/// The first link in the newest mail to `to`.
pub async fn mailed_link(app: &TestApp, to: &str, path: &str) -> String {
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
    let mut form = app.open(&browser, "/reset").await.form("/reset");
    // An unknown address gets the same answer and no mail.
    let res = form
        .set("email", "nobody@example.jp")
        .submit(&browser)
        .await;
    assert_eq!(res.status(), 200);
    let unknown = res.text().await.unwrap();
    let res = form.set("email", "SORA@example.jp").submit(&browser).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), unknown);
    let link = mailed_link(app, "sora@example.jp", "/reset/confirm?token=").await;
    let page = Page::get(&browser, &link).await;
    assert!(
        page.html()
            .contains("10文字以上。長めのフレーズがおすすめです。"),
        "the new password's rule is shown"
    );
    // A too-short password is refused and the link still works afterwards: the page
    // shown again keeps the link's token.
    let res = page
        .form("/reset/confirm")
        .set("password", "short")
        .set("password_confirm", "short")
        .submit(&browser)
        .await;
    assert_eq!(res.status(), 422);
    let res = Page::read(res)
        .await
        .form("/reset/confirm")
        .set("password", "new passphrase!")
        .set("password_confirm", "new passphrase!")
        .submit(&browser)
        .await;
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
    let res = Page::get(&browser, &link)
        .await
        .form("/reset/confirm")
        .set("password", "third passphrase")
        .set("password_confirm", "third passphrase")
        .submit(&browser)
        .await;
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
    // A browser in English (chosen with the language switch) asks for a link.
    let browser = app.client();
    assert_eq!(app.status(&browser, "/lang/en?next=%2Fmagic").await, 303);
    app.open(&browser, "/magic")
        .await
        .form("/magic")
        .set("email", "nagi@example.jp")
        .submit(&browser)
        .await;
    let link = mailed_link(app, "nagi@example.jp", "/magic/confirm?token=").await;
    // Following the link (as a mail scanner would) signs nobody in.
    let page = Page::get(&browser, &link).await;
    assert_eq!(app.status(&browser, "/account").await, 303);
    let res = page.form("/magic/confirm").submit(&browser).await;
    assert_eq!(res.status(), 303);
    assert_eq!(app.status(&browser, "/account").await, 200);
    // Fifteen minutes later a new link has expired. (A new link is mailed at most
    // every two minutes.)
    app.advance(chrono::Duration::minutes(3));
    app.open(&client, "/magic")
        .await
        .form("/magic")
        .set("email", "nagi@example.jp")
        .submit(&client)
        .await;
    let mut second = mailed_link(app, "nagi@example.jp", "/magic/confirm?token=").await;
    while second == link {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        second = mailed_link(app, "nagi@example.jp", "/magic/confirm?token=").await;
    }
    app.advance(chrono::Duration::minutes(16));
    let res = Page::get(&client, &second)
        .await
        .form("/magic/confirm")
        .submit(&client)
        .await;
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
    let page = Page::read(res).await;
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = sign_up_form(
        &page,
        "TLS",
        "tls@example.jp",
        "a long passphrase",
        "a long passphrase",
    )
    .request(&plain)
    .header("cookie", format!("__Host-yui_csrf={csrf}"))
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
    let app = TestApp::spawn(Backend::Sqlite, Seed::Empty, |s| {
        s.throttle.address.free = 8
    })
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

async fn a_sign_in_link_takes_an_unproven_account_from_whoever_registered_it(app: &TestApp) {
    // Someone registers an address they cannot read and stays signed in.
    let squatter = app.client();
    let res = sign_up(
        app,
        &squatter,
        "先回り",
        "mio@example.jp",
        "squatter passphrase",
    )
    .await;
    assert_eq!(res.status(), 303);
    // The mailbox's owner signs in with a link by mail.
    let owner = app.client();
    app.open(&owner, "/magic")
        .await
        .form("/magic")
        .set("email", "mio@example.jp")
        .submit(&owner)
        .await;
    let link = mailed_link(app, "mio@example.jp", "/magic/confirm?token=").await;
    let res = Page::get(&owner, &link)
        .await
        .form("/magic/confirm")
        .submit(&owner)
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(app.status(&owner, "/account").await, 200);
    // The squatter's session and password are gone with the proof.
    assert_eq!(app.status(&squatter, "/account").await, 303);
    assert_eq!(
        sign_in(app, &app.client(), "mio@example.jp", "squatter passphrase")
            .await
            .status(),
        401
    );
}

async fn an_empty_password_is_a_field_to_fill_not_a_guess(app: &TestApp) {
    let client = app.client();
    let res = sign_up(app, &client, "Rin", "rin@example.jp", "rin's passphrase").await;
    assert_eq!(res.status(), 303);
    let browser = app.client();
    for _ in 0..8 {
        let res = app
            .open(&browser, "/signin")
            .await
            .form("/signin")
            .set("email", "rin@example.jp")
            .submit(&browser)
            .await;
        assert_eq!(res.status(), 422);
        let html = res.text().await.unwrap();
        assert!(html.contains("パスワード：入力してください"), "{html}");
    }
    // Not counted: the right password still works at once.
    assert_eq!(
        sign_in(app, &browser, "rin@example.jp", "rin's passphrase")
            .await
            .status(),
        303
    );
    // A reset page without its link's token says the link does not work, before any
    // password is typed.
    let res = app.get("/reset/confirm").await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("このリンクは使えません"));
}

on_both_backends!(TestApp::with_tenants => sign_in_lands_talents_on_their_dashboard_and_staff_on_the_account);

/// Without `next`, signing in lands a talent (anyone without a staff or host role)
/// on `/me`, and staff, host members and operators on `/account` as before; `next`
/// still wins.
async fn sign_in_lands_talents_on_their_dashboard_and_staff_on_the_account(app: &TestApp) {
    use crate::staff::{grant, person};
    let password = "a passphrase long enough";
    let (talent, _) = person(app, "人材 花子", "talent-l@example.jp").await;
    assert_eq!(
        crate::talent::join(app, &talent, "iwate", false)
            .await
            .status(),
        303
    );
    let (_, coord) = person(app, "事務局", "coord-l@example.jp").await;
    grant(app, coord, yui_authz::Role::Coordinator, Some("iwate")).await;
    let (_, admin) = person(app, "管理者", "admin-l@example.jp").await;
    grant(app, admin, yui_authz::Role::TenantAdmin, Some("iwate")).await;
    person(app, "新人", "new-l@example.jp").await;
    for (email, to) in [
        ("talent-l@example.jp", "/me"),
        ("new-l@example.jp", "/me"),
        ("coord-l@example.jp", "/account"),
        ("admin-l@example.jp", "/account"),
    ] {
        let client = app.client();
        let res = sign_in(app, &client, email, password).await;
        assert_eq!(res.status(), 303, "{email}");
        assert_eq!(res.headers()["location"], to, "{email}");
        assert_eq!(app.status(&client, to).await, 200, "{email}");
    }
    let client = app.client();
    let res = app
        .open(&client, "/signin?next=%2Faccount")
        .await
        .form("/signin")
        .set("email", "talent-l@example.jp")
        .set("password", password)
        .submit(&client)
        .await;
    assert_eq!(res.headers()["location"], "/account");
}
