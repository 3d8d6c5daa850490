//! Accounts: sign-up, sign-in, sign-out, email verification, password reset and
//! sign-in links, and the account page.

mod account;
mod invitation;
mod links;
mod signin;
mod signup;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use serde::Serialize;
use yui_domain::Locale;
use yui_domain::account::FieldError;

use crate::AppState;
use crate::render::{FieldView, base_context, echo, error_views, render};
use crate::security::csrf_token;

pub(crate) const TEMPLATES: &[(&str, &str)] = &[
    ("auth_form.html", include_str!("templates/auth_form.html")),
    ("account.html", include_str!("templates/account.html")),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/signup", get(signup::page).post(signup::submit))
        .route("/signin", get(signin::page).post(signin::submit))
        .route("/signout", post(signin::signout))
        .route("/verify", get(links::verify_email))
        .route(
            "/t/{slug}/invitation",
            get(invitation::page).post(invitation::accept),
        )
        .route("/account", get(account::page).post(account::update))
        .route("/account/verify-again", post(links::verify_again))
        .route(
            "/account/signout-everywhere",
            post(account::signout_everywhere),
        )
        .route("/reset", get(links::reset_page).post(links::reset_request))
        .route(
            "/reset/confirm",
            get(links::reset_confirm_page).post(links::reset_confirm),
        )
        .route("/magic", get(links::magic_page).post(links::magic_request))
        .route(
            "/magic/confirm",
            get(links::magic_confirm_page).post(links::magic_confirm),
        )
}

#[derive(Debug, Serialize)]
struct LinkView {
    href: String,
    text: String,
}

/// Everything an account form page shows.
struct FormPage<'a> {
    heading: &'a str,
    lead: Option<&'a str>,
    /// A sentence made for this page (not a message key), shown as its lead.
    intro: Option<String>,
    action: &'a str,
    submit: &'a str,
    fields: Vec<(&'static str, &'static str, &'static str, String)>, // name, type, autocomplete, value
    errors: Vec<FieldError>,
    /// A confirmation (`role="status"`).
    notice: Option<String>,
    /// A refusal that is no field's fault, e.g. a wrong password (`role="alert"`).
    problem: Option<String>,
    links: Vec<(&'a str, &'a str)>,
    /// Hidden inputs besides the CSRF token, e.g. a mailed token.
    hidden: Vec<(&'static str, String)>,
    /// Checkboxes after the fields: (name, label key, ticked).
    checkboxes: Vec<(&'static str, &'a str, bool)>,
    /// Who is signed in, for the header (most of these pages are for people who
    /// are not).
    viewer: Option<&'a yui_store::Account>,
}

impl<'a> FormPage<'a> {
    fn new(heading: &'a str, action: &'a str, submit: &'a str) -> FormPage<'a> {
        FormPage {
            heading,
            lead: None,
            intro: None,
            action,
            submit,
            fields: Vec::new(),
            errors: Vec::new(),
            notice: None,
            problem: None,
            links: Vec::new(),
            hidden: Vec::new(),
            checkboxes: Vec::new(),
            viewer: None,
        }
    }
}

/// The two inputs of a new password: the password and its confirmation.
fn new_password_fields() -> Vec<(&'static str, &'static str, &'static str, String)> {
    vec![
        ("password", "password", "new-password", String::new()),
        (
            "password_confirm",
            "password",
            "new-password",
            String::new(),
        ),
    ]
}

fn form_page(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    page: FormPage<'_>,
    status: StatusCode,
) -> Response {
    let c = &state.inner.catalogs;
    let (jar, csrf) = csrf_token(state, jar);
    let fields: Vec<FieldView> = page
        .fields
        .into_iter()
        .map(|(name, ty, autocomplete, value)| FieldView {
            hint: (name == "password" && page.action != "/signin")
                .then(|| c.text(locale, "password_hint").to_owned()),
            ..FieldView::new(state, locale, name, ty, value, autocomplete, &page.errors)
        })
        .collect();
    let errors = error_views(state, locale, &page.errors);
    let mut ctx = base_context(state, locale, page.viewer, page.action);
    ctx.insert("heading", c.text(locale, page.heading));
    ctx.insert("lead", &page.lead.map(|l| c.text(locale, l)));
    ctx.insert("intro", &page.intro);
    ctx.insert("action", page.action);
    ctx.insert("submit", c.text(locale, page.submit));
    ctx.insert("csrf", &csrf);
    ctx.insert("fields", &fields);
    ctx.insert("errors", &errors);
    ctx.insert("notice", &page.notice);
    ctx.insert("problem", &page.problem);
    let links: Vec<LinkView> = page
        .links
        .iter()
        .map(|(href, key)| LinkView {
            href: (*href).to_owned(),
            text: c.text(locale, key).to_owned(),
        })
        .collect();
    ctx.insert("links", &links);
    let hidden: Vec<(&str, String)> = page
        .hidden
        .into_iter()
        .map(|(name, value)| (name, echo(value)))
        .collect();
    ctx.insert("hidden", &hidden);
    let checkboxes: Vec<(&str, &str, bool)> = page
        .checkboxes
        .iter()
        .map(|(name, key, ticked)| (*name, c.text(locale, key), *ticked))
        .collect();
    ctx.insert("checkboxes", &checkboxes);
    (jar, render(state, "auth_form.html", ctx, locale, status)).into_response()
}
