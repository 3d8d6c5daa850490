//! Form pages as people meet them: the server's own messages (no browser checks in
//! their way), one error summary that takes the focus, every field saying its own
//! error, a page title that starts with the error marker, and refusals shown as
//! alerts, never like a confirmation. These check templates, not storage: SQLite only.

use yui_authz::Role;

use crate::accounts::sign_in;
use crate::support::Page;
use crate::support::{Backend, TestApp};

const DEMO_ADMIN: &str = "admin@iwate.demo.yui.example";
const DEMO_PASSWORD: &str = "yui-demo-2026";

/// The page's `<title>`.
fn title(html: &str) -> &str {
    let start = html.find("<title>").expect("a title") + "<title>".len();
    &html[start..start + html[start..].find("</title>").unwrap()]
}

/// The error summary's markup (the box, its opening tag included), if the page has one.
fn summary(html: &str) -> Option<&str> {
    let at = html.find(r#"id="error-summary""#)?;
    let start = html[..at].rfind('<').unwrap();
    let end = at + html[at..].find("</div>").unwrap();
    Some(&html[start..end])
}

/// The opening tag of the element with this id.
fn tag_of<'a>(html: &'a str, id: &str) -> &'a str {
    let at = html
        .find(&format!(r#"id="{id}""#))
        .unwrap_or_else(|| panic!("no #{id} in:\n{html}"));
    let start = html[..at].rfind('<').unwrap();
    &html[start..at + html[at..].find('>').unwrap() + 1]
}

/// The opening tags of the posted forms with something to type or choose that do not
/// leave the checking to the server (`novalidate`).
fn forms_checked_by_the_browser(html: &str) -> Vec<String> {
    html.split("<form")
        .skip(1)
        .filter_map(|rest| {
            let open = &rest[..rest.find('>').unwrap()];
            let body = &rest[..rest.find("</form>").unwrap()];
            let fields = body.contains("<select")
                || body.contains("<textarea")
                || body
                    .match_indices("<input")
                    .any(|(i, _)| !body[i..].starts_with(r#"<input type="hidden""#));
            (open.contains(r#"method="post""#) && fields && !open.contains("novalidate"))
                .then(|| format!("<form{open}>"))
        })
        .collect()
}

/// The demo's accounts (README): the operator, an administrator per region, Amami's
/// coordinator. `TestApp::spawn` loads the regions' demo pages, not these.
pub async fn demo_accounts(app: &TestApp) {
    yui::demo::load_accounts(&app.store, app.now())
        .await
        .expect("demo accounts");
    app.authz
        .refresh_if_changed(&app.store, app.now())
        .await
        .expect("authz");
}

/// The app with the demo, and a client signed in as Iwate's demo administrator.
async fn admin() -> (TestApp, reqwest::Client) {
    let app = TestApp::with_demo(Backend::Sqlite).await.unwrap();
    demo_accounts(&app).await;
    let client = app.client();
    assert_eq!(
        sign_in(&app, &client, DEMO_ADMIN, DEMO_PASSWORD)
            .await
            .status(),
        303
    );
    (app, client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_leave_checking_to_the_server() {
    let (app, client) = admin().await;
    let anonymous = app.client();
    for (who, path) in [
        (&anonymous, "/signup"),
        (&anonymous, "/signin"),
        (&anonymous, "/reset"),
        (&anonymous, "/magic"),
        (&client, "/account"),
        (&client, "/account/tokens"),
        (&client, "/t/iwate/staff"),
    ] {
        let html = app.page(who, path).await;
        assert!(html.contains("<form"), "{path}");
        assert_eq!(
            forms_checked_by_the_browser(&html),
            Vec::<String>::new(),
            "{path}: the browser's own messages would hide the server's"
        );
        // A page without errors has neither the summary nor the error title.
        assert!(summary(&html).is_none(), "{path}");
        assert!(!title(&html).starts_with("エラー"), "{path}");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_an_alert_not_a_notice() {
    let app = TestApp::with_demo(Backend::Sqlite).await.unwrap();
    demo_accounts(&app).await;
    let client = app.client();
    let res = sign_in(&app, &client, DEMO_ADMIN, "not the password").await;
    assert_eq!(res.status(), 401);
    let html = res.text().await.unwrap();
    assert_eq!(title(&html), "エラー：ログイン — 結 Yui");
    let summary = summary(&html).expect("an error summary");
    assert!(summary.contains(r#"class="error-summary""#), "{summary}");
    assert!(summary.contains(r#"role="alert""#), "{summary}");
    assert!(summary.contains("メールアドレスまたはパスワードが正しくありません"));
    assert!(
        !html.contains(r#"class="notice""#),
        "not styled as a confirmation"
    );
    assert!(
        html.contains(r#"value="admin@iwate.demo.yui.example""#),
        "the address is kept"
    );

    // The same in English.
    let res = app
        .open(&client, "/signin?lang=en")
        .await
        .form("/signin")
        .set("email", DEMO_ADMIN)
        .set("password", "not the password")
        .submit(&client)
        .await;
    assert_eq!(res.status(), 401);
    let html = res.text().await.unwrap();
    assert_eq!(title(&html), "Error: Sign in — Yui");
    let summary = self::summary(&html).expect("an error summary");
    assert!(summary.contains(r#"role="alert""#));
    assert!(summary.contains("The email address or password is not correct"));

    // A confirmation is a status, not an alert, and not an error. (English is
    // remembered from `?lang=en` above.)
    let html = app.page(&client, "/signin?signed_out=1").await;
    assert!(html.contains(r#"<p class="notice" role="status">"#));
    assert!(self::summary(&html).is_none());
    assert_eq!(title(&html), "Sign in — Yui");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_the_last_admin_is_refused_in_an_alert() {
    let (app, client) = admin().await;
    let grants = yui_authz::list_grants(&app.store, Some("iwate"))
        .await
        .unwrap();
    let admins: Vec<_> = grants
        .iter()
        // The demo's prefecture admin also reads its municipalities' aggregates: a
        // second grant of the same person, on the children, which is not a seat.
        .filter(|g| g.role == Role::TenantAdmin && g.scope == yui_authz::Scope::Tenant)
        .collect();
    assert_eq!(admins.len(), 1, "the demo has one admin in iwate");
    let res = app
        .open(&client, "/t/iwate/staff")
        .await
        .form(&format!("/t/iwate/staff/{}/revoke", admins[0].id))
        .submit(&client)
        .await;
    assert_eq!(res.status(), 409);
    let html = res.text().await.unwrap();
    assert!(title(&html).starts_with("エラー："), "{}", title(&html));
    let summary = summary(&html).expect("an error summary");
    assert!(summary.contains(r#"role="alert""#) && summary.contains("autofocus"));
    assert!(summary.contains("この地域の最後の管理者の役割は外せません"));
    // At the top, before the list it is about.
    assert!(html.find(r#"id="error-summary""#) < html.find("<table"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_field_says_its_error_and_the_summary_links_to_it() {
    let (app, client) = admin().await;

    // The staff invitation: the address, the role and the date are all wrong.
    // (A role the page does not offer and a date the browser's picker would not
    // produce are what a forged request sends.)
    let res = app
        .open(&client, "/t/iwate/staff")
        .await
        .form("/t/iwate/staff")
        .set("email", "coordinator@")
        .forge("role", "platform_operator")
        .forge("until", "2027-02-30")
        .submit(&client)
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(title(&html).starts_with("エラー："), "{}", title(&html));
    let box_ = summary(&html).expect("an error summary");
    for field in ["email", "role", "until"] {
        assert!(box_.contains(&format!(r##"href="#f-{field}""##)), "{box_}");
        assert!(
            html.contains(&format!(r#"id="f-{field}-error""#)),
            "{field}"
        );
    }
    assert!(box_.contains(r#"tabindex="-1""#) && box_.contains("autofocus"));
    assert!(box_.contains(r#"role="alert""#));
    let role = tag_of(&html, "f-role");
    assert!(
        role.contains(r#"aria-invalid="true""#)
            && role.contains(r#"aria-describedby="f-role-error""#),
        "{role}"
    );
    assert!(
        html.contains(r#"<p class="error" id="f-role-error">役割：一覧から選んでください</p>"#)
    );
    let until = tag_of(&html, "f-until");
    assert!(
        until.contains(r#"aria-invalid="true""#)
            && until.contains(r#"aria-describedby="f-until-hint f-until-error""#),
        "{until}"
    );
    let email = tag_of(&html, "f-email");
    assert!(email.contains(r#"aria-invalid="true""#), "{email}");
    // Fields without a problem say nothing.
    let res = Page::new(&app.url("/t/iwate/staff"), html.clone())
        .form("/t/iwate/staff")
        .set("email", "coordinator@")
        .set("role", "coordinator")
        .set("until", "")
        .submit(&client)
        .await;
    let html = res.text().await.unwrap();
    assert!(!tag_of(&html, "f-role").contains("aria-invalid"));
    assert!(!html.contains(r#"id="f-until-error""#));
    assert!(tag_of(&html, "f-until").contains(r#"aria-describedby="f-until-hint""#));

    // A token without a name, for a region the person has no role in.
    let res = app
        .open(&client, "/account/tokens")
        .await
        .form("/account/tokens")
        .set("token_name", "")
        .forge("tenant", "amami")
        .submit(&client)
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(title(&html).starts_with("エラー："), "{}", title(&html));
    let box_ = summary(&html).expect("an error summary");
    assert!(box_.contains(r##"href="#f-token_name""##), "{box_}");
    assert!(box_.contains(r##"href="#f-tenant""##), "{box_}");
    let tenant = tag_of(&html, "f-tenant");
    assert!(
        tenant.contains(r#"aria-invalid="true""#)
            && tenant.contains(r#"aria-describedby="f-tenant-error""#),
        "{tenant}"
    );
    assert!(html.contains(r#"id="f-tenant-error">地域：一覧から選んでください</p>"#));

    // The profile without a name, in English.
    // Opened in English by `?lang=en`, the page's form is answered in English too.
    let res = app
        .open(&client, "/account?lang=en")
        .await
        .form("/account")
        .set("display_name", " ")
        .set("locale", "ja")
        .submit(&client)
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert_eq!(title(&html), "Error: Account settings — Yui");
    let box_ = summary(&html).expect("an error summary");
    assert!(box_.contains(r##"href="#f-display_name""##) && box_.contains("autofocus"));
    assert!(box_.contains("Please check what you entered"));
    assert!(tag_of(&html, "f-display_name").contains(r#"aria-invalid="true""#));
    app.stop().await;
}
