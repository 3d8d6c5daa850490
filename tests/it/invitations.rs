//! Invitations go to whoever proves the mailbox: an address registered by someone
//! who cannot read its mail receives no role, whoever accepts first.

use std::time::Duration;

use yui_authz::Role;

use crate::accounts::{sign_in, sign_up};
use crate::staff::{grant, person};
use crate::support::{Page, TestApp, on_both_backends};

on_both_backends!(
    TestApp::with_tenants =>
    a_preregistered_address_gets_no_role_and_the_mailbox_owner_takes_it_back,
    a_proven_account_accepts_after_signing_in_as_itself,
    a_look_alike_address_is_the_same_identity,
    withdrawing_and_inviting_again_kill_the_old_link,
    a_burst_of_acceptances_grants_once,
    another_region_cannot_withdraw_an_invitation,
    the_staff_list_shows_names_beside_addresses,
    sign_ins_racing_the_claim_keep_nothing,
    an_invitation_dies_with_its_inviters_role,
);

/// The `n`-th mail (1-based) to `address`, waiting for it.
pub(crate) async fn nth_mail_to(
    app: &TestApp,
    address: &str,
    n: usize,
) -> yui_mail::testing::ReceivedMail {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let to: Vec<_> = app
            .sink
            .inbox()
            .messages()
            .into_iter()
            .filter(|m| m.rcpt_to.iter().any(|a| a.eq_ignore_ascii_case(address)))
            .collect();
        if to.len() >= n {
            return to[n - 1].clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "mail {n} to {address} did not arrive"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Invites `email` to Kamaishi as `role` through the staff page; answers the path of
/// the invitation's link (the `n`-th mail to that address).
async fn invite(
    app: &TestApp,
    admin: &reqwest::Client,
    email: &str,
    role: &str,
    n: usize,
) -> String {
    let res = app
        .open(admin, "/t/kamaishi/staff")
        .await
        .form("/t/kamaishi/staff")
        .set("email", email)
        .set("role", role)
        .submit(admin)
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let mail = nth_mail_to(app, email, n).await;
    let link = mail
        .links()
        .into_iter()
        .find(|l| l.contains("/t/kamaishi/invitation?token="))
        .expect("an invitation link");
    link.trim_start_matches(&app.url("")).to_owned()
}

async fn kamaishi_admin(app: &TestApp) -> reqwest::Client {
    let (admin, id) = person(app, "釜石 管理者", "admin@kamaishi.example").await;
    grant(app, id, Role::TenantAdmin, Some("kamaishi")).await;
    admin
}

async fn roles_of(app: &TestApp, email: &str) -> Vec<Role> {
    let e = yui_domain::account::Email::parse("email", email).unwrap();
    let Some(account) = app.store.find_account(&e).await.unwrap() else {
        return Vec::new();
    };
    yui_authz::list_grants(&app.store, Some("kamaishi"))
        .await
        .unwrap()
        .into_iter()
        .filter(|g| g.account_id == account.id && g.live_at(app.now()))
        .map(|g| g.role)
        .collect()
}

async fn a_preregistered_address_gets_no_role_and_the_mailbox_owner_takes_it_back(app: &TestApp) {
    let admin = kamaishi_admin(app).await;
    // The attacker registers the address the region is about to invite, never
    // proving it.
    let attacker = app.client();
    let res = sign_up(
        app,
        &attacker,
        "攻撃者",
        "new.admin@kamaishi.example",
        "attacker passphrase",
    )
    .await;
    assert_eq!(res.status(), 303);
    let path = invite(app, &admin, "new.admin@kamaishi.example", "tenant_admin", 2).await;
    // The region's mail does not greet with the name the attacker chose.
    let mail = nth_mail_to(app, "new.admin@kamaishi.example", 2).await;
    assert!(!mail.text_body().unwrap().contains("攻撃者"));
    // No role, so no token and no staff pages for the attacker.
    assert!(roles_of(app, "new.admin@kamaishi.example").await.is_empty());
    assert_eq!(app.status(&attacker, "/t/kamaishi/staff").await, 404);
    let tokens = app.page(&attacker, "/account/tokens").await;
    assert!(!tokens.contains(r#"value="kamaishi""#));
    // The page offers no form; a forged request is refused and names the field.
    let csrf = app
        .open(&attacker, "/account")
        .await
        .form("/account")
        .value("csrf")
        .unwrap();
    let res = attacker
        .post(app.url("/account/tokens"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("token_name", "steal"),
            ("tenant", "kamaishi"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    // Accepting with a session but without the link is impossible; a guessed link
    // shows nothing.
    let res = attacker
        .get(app.url("/t/kamaishi/invitation?token=guess"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);

    // The mailbox's owner opens the link: the account nobody proved is theirs to
    // claim with a name and a password of their own.
    let owner = app.client();
    let page = app.open(&owner, &path).await;
    assert_eq!(page.status(), 200);
    assert!(page.html().contains("new.admin@kamaishi.example"));
    let res = page
        .form("/t/kamaishi/invitation")
        .set("display_name", "本物 管理者")
        .set("password", "the owner's passphrase")
        .set("password_confirm", "the owner's passphrase")
        .submit(&owner)
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        roles_of(app, "new.admin@kamaishi.example").await,
        [Role::TenantAdmin]
    );
    assert_eq!(app.status(&owner, "/t/kamaishi/staff").await, 200);
    // The attacker's session ended and their password no longer works.
    assert_eq!(app.status(&attacker, "/t/kamaishi/staff").await, 303);
    let res = sign_in(
        app,
        &app.client(),
        "new.admin@kamaishi.example",
        "attacker passphrase",
    )
    .await;
    assert_ne!(res.status(), 303);
    // The name is the owner's, not the attacker's.
    let staff = app.page(&owner, "/t/kamaishi/staff").await;
    assert!(staff.contains("本物 管理者") && !staff.contains("攻撃者"));
}

async fn a_proven_account_accepts_after_signing_in_as_itself(app: &TestApp) {
    let admin = kamaishi_admin(app).await;
    let (coord, _) = person(app, "事務局 花子", "hanako@contractor.example").await;
    let (other, _) = person(app, "別人", "other@example.jp").await;
    // (The first mail to the address asked to confirm it at sign-up.)
    let path = invite(app, &admin, "hanako@contractor.example", "coordinator", 2).await;

    // Someone else signed in (who got hold of the link) is asked to sign in as the
    // invited address; posting the token with their own session grants nothing.
    let page = app.open(&other, &path).await;
    assert_eq!(page.status(), 200);
    let form = page.form("/signin");
    assert_eq!(
        form.value("email").as_deref(),
        Some("hanako@contractor.example")
    );
    let token = path.split("token=").nth(1).unwrap();
    let csrf = form.value("csrf").unwrap();
    let res = other
        .post(app.url("/t/kamaishi/invitation"))
        .form(&[("csrf", csrf.as_str()), ("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert!(roles_of(app, "other@example.jp").await.is_empty());
    assert!(roles_of(app, "hanako@contractor.example").await.is_empty());

    // The invited person, signed out, signs in on the page the link opened and comes
    // back to it; there one button accepts.
    let fresh = app.client();
    let res = app
        .open(&fresh, &path)
        .await
        .form("/signin")
        .set("password", "a passphrase long enough")
        .submit(&fresh)
        .await;
    assert_eq!(res.status(), 303);
    let back = res.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(back, path);
    let page = app.open(&fresh, &back).await;
    assert!(page.html().contains("招待を受ける"));
    let res = page.form("/t/kamaishi/invitation").submit(&fresh).await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        roles_of(app, "hanako@contractor.example").await,
        [Role::Coordinator]
    );
    // The person's other session (signed in before) keeps working, with the role.
    assert!(app.page(&coord, "/account").await.contains("釜石市"));
}

async fn a_look_alike_address_is_the_same_identity(app: &TestApp) {
    let admin = kamaishi_admin(app).await;
    // The Kelvin sign looks like K: the look-alike is the plain address, so the
    // confirmation mail goes to the real mailbox, not to the look-alike.
    let attacker = app.client();
    let res = sign_up(
        app,
        &attacker,
        "偽物",
        "\u{212A}ato@example.jp",
        "attacker passphrase",
    )
    .await;
    assert_eq!(res.status(), 303);
    let mail = nth_mail_to(app, "Kato@example.jp", 1).await;
    assert!(
        mail.rcpt_to.iter().all(|a| a.is_ascii()),
        "{:?}",
        mail.rcpt_to
    );
    // The real person cannot register a second account for their mailbox.
    let res = sign_up(
        app,
        &app.client(),
        "加藤",
        "kato@example.jp",
        "a passphrase long enough",
    )
    .await;
    assert_eq!(res.status(), 409);
    let html = res.text().await.unwrap();
    assert!(html.contains("登録"), "{html}");
    // Full-width input is the same address too.
    let res = sign_up(
        app,
        &app.client(),
        "加藤",
        "ｋａｔｏ＠ｅｘａｍｐｌｅ．ｊｐ",
        "a passphrase long enough",
    )
    .await;
    assert_eq!(res.status(), 409);
    // The invitation goes to what the administrator typed; the attacker's account
    // gets nothing; the mailbox's owner claims it.
    let path = invite(app, &admin, "kato@example.jp", "coordinator", 2).await;
    assert!(roles_of(app, "kato@example.jp").await.is_empty());
    let owner = app.client();
    let res = app
        .open(&owner, &path)
        .await
        .form("/t/kamaishi/invitation")
        .set("display_name", "加藤")
        .set("password", "the owner's passphrase")
        .set("password_confirm", "the owner's passphrase")
        .submit(&owner)
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(roles_of(app, "kato@example.jp").await, [Role::Coordinator]);
    assert_eq!(app.status(&attacker, "/account").await, 303);
    // Invisible names are no names.
    let res = sign_up(
        app,
        &app.client(),
        "\u{200B}\u{3164}\u{3000}",
        "blank@example.jp",
        "a passphrase long enough",
    )
    .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("表示名"));
}

async fn withdrawing_and_inviting_again_kill_the_old_link(app: &TestApp) {
    let admin = kamaishi_admin(app).await;
    let first = invite(app, &admin, "twice@example.jp", "coordinator", 1).await;
    let second = invite(app, &admin, "twice@example.jp", "mentor", 2).await;
    let invitee = app.client();
    let res = invitee.get(app.url(&first)).send().await.unwrap();
    assert_eq!(res.status(), 400, "the replaced link is dead");
    let page = app.open(&invitee, &second).await;
    assert_eq!(page.status(), 200);
    // The list shows one open invitation; withdrawing it kills its link too.
    let staff = app.open(&admin, "/t/kamaishi/staff").await;
    assert_eq!(
        staff.html().matches("twice@example.jp").count(),
        2,
        "one row, address twice (cell and hidden label)"
    );
    let withdraw = staff
        .forms()
        .into_iter()
        .find(|f| f.action().path().contains("/invitations/"))
        .expect("a withdraw form");
    let res = withdraw.submit(&admin).await;
    assert_eq!(res.status(), 303);
    assert!(
        app.page(&admin, "/t/kamaishi/staff?done=withdrawn")
            .await
            .contains("招待を取り消しました")
    );
    let res = page
        .form("/t/kamaishi/invitation")
        .set("display_name", "二度目")
        .set("password", "a passphrase long enough")
        .set("password_confirm", "a passphrase long enough")
        .submit(&invitee)
        .await;
    assert_eq!(res.status(), 400);
    assert!(roles_of(app, "twice@example.jp").await.is_empty());
}

async fn a_burst_of_acceptances_grants_once(app: &TestApp) {
    let admin = kamaishi_admin(app).await;
    let path = invite(app, &admin, "burst@example.jp", "coordinator", 1).await;
    let mut clients = Vec::new();
    let mut forms = Vec::new();
    for _ in 0..6 {
        let c = app.client();
        let page: Page = app.open(&c, &path).await;
        let mut f = page.form("/t/kamaishi/invitation");
        f.set("display_name", "連打")
            .set("password", "a passphrase long enough")
            .set("password_confirm", "a passphrase long enough");
        forms.push(f);
        clients.push(c);
    }
    let mut burst = tokio::task::JoinSet::new();
    for (f, c) in forms.into_iter().zip(clients) {
        burst.spawn(async move { f.submit(&c).await.status().as_u16() });
    }
    let mut statuses: Vec<u16> = burst.join_all().await;
    statuses.sort_unstable();
    assert_eq!(
        statuses.iter().filter(|s| **s == 303).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| [303, 400, 422].contains(s)),
        "{statuses:?}"
    );
    assert_eq!(roles_of(app, "burst@example.jp").await, [Role::Coordinator]);
}

async fn another_region_cannot_withdraw_an_invitation(app: &TestApp) {
    let admin = kamaishi_admin(app).await;
    let (iwate_admin, iwate_id) = person(app, "岩手 管理者", "admin@iwate.example").await;
    grant(app, iwate_id, Role::TenantAdmin, Some("iwate")).await;
    let path = invite(app, &admin, "keep@example.jp", "coordinator", 1).await;
    let staff = app.open(&admin, "/t/kamaishi/staff").await;
    let withdraw = staff
        .forms()
        .into_iter()
        .find(|f| f.action().path().contains("/invitations/"))
        .expect("a withdraw form");
    let id = withdraw
        .action()
        .path()
        .split('/')
        .nth(5)
        .unwrap()
        .to_owned();
    // Iwate's admin, with Kamaishi's id, on Iwate's path and on Kamaishi's.
    for target in [
        format!("/t/iwate/staff/invitations/{id}/withdraw"),
        format!("/t/kamaishi/staff/invitations/{id}/withdraw"),
    ] {
        let res = app
            .open(&iwate_admin, "/t/iwate/staff")
            .await
            .form("/t/iwate/staff")
            .retarget(&target)
            .submit(&iwate_admin)
            .await;
        assert_eq!(res.status(), 404, "{target}");
        let html = res.text().await.unwrap();
        assert!(html.contains("<html") && !html.contains("keep@example.jp"));
    }
    // Kamaishi's list does not show on Iwate's page, and the link still works.
    assert!(
        !app.page(&iwate_admin, "/t/iwate/staff")
            .await
            .contains("keep@example.jp")
    );
    assert_eq!(app.open(&app.client(), &path).await.status(), 200);
}

async fn the_staff_list_shows_names_beside_addresses(app: &TestApp) {
    let admin = kamaishi_admin(app).await;
    let html = app.page(&admin, "/t/kamaishi/staff").await;
    assert!(html.contains("釜石 管理者") && html.contains("admin@kamaishi.example"));
}

async fn sign_ins_racing_the_claim_keep_nothing(app: &TestApp) {
    let admin = kamaishi_admin(app).await;
    let attacker = app.client();
    let res = sign_up(
        app,
        &attacker,
        "攻撃者",
        "race@example.jp",
        "attacker passphrase",
    )
    .await;
    assert_eq!(res.status(), 303);
    let path = invite(app, &admin, "race@example.jp", "tenant_admin", 2).await;
    // The attacker keeps signing in with the old password, in parallel, while the
    // mailbox's owner claims the account.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut racers = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let (stop, url) = (stop.clone(), app.url(""));
        racers.spawn(async move {
            let mut sessions = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let c = reqwest::Client::builder()
                    .cookie_store(true)
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .unwrap();
                let page = Page::get(&c, &format!("{url}/signin")).await;
                let res = page
                    .form("/signin")
                    .set("email", "race@example.jp")
                    .set("password", "attacker passphrase")
                    .submit(&c)
                    .await;
                if res.status() == 303 {
                    sessions.push(c);
                }
            }
            sessions
        });
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let owner = app.client();
    let res = app
        .open(&owner, &path)
        .await
        .form("/t/kamaishi/invitation")
        .set("display_name", "本人")
        .set("password", "the owner's passphrase")
        .set("password_confirm", "the owner's passphrase")
        .submit(&owner)
        .await;
    assert_eq!(res.status(), 303);
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let sessions: Vec<reqwest::Client> = racers.join_all().await.into_iter().flatten().collect();
    for c in &sessions {
        assert_eq!(
            app.status(c, "/t/kamaishi/staff").await,
            303,
            "an attacker's session survived"
        );
    }
    assert_eq!(app.status(&owner, "/t/kamaishi/staff").await, 200);
}

async fn an_invitation_dies_with_its_inviters_role(app: &TestApp) {
    let (leaving, leaving_id) = person(app, "退任 管理者", "leaving@kamaishi.example").await;
    let leaving_grant = grant(app, leaving_id, Role::TenantAdmin, Some("kamaishi")).await;
    let _staying = kamaishi_admin(app).await;
    let path = invite(app, &leaving, "late@example.jp", "tenant_admin", 1).await;
    app.authz
        .revoke(&app.store, leaving_grant, None, app.now())
        .await
        .unwrap();
    let res = app.client().get(app.url(&path)).send().await.unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("このリンクは使えません"));
}
