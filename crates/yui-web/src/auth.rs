//! Accounts on the web: sign-up, sign-in, sign-out, email verification, account
//! settings; sessions in the database; CSRF on every form; sign-in throttling.

use std::net::SocketAddr;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use axum::Router;
use axum::extract::{ConnectInfo, Form, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tera::Context;
use yui_domain::Locale;
use yui_domain::account::{Email, FieldError, Problem, check_display_name, check_new_password};
use yui_domain::audit::AuditAction;
use yui_store::{Account, AuditEntry, Store, StoreError, TokenPurpose};

use crate::i18n::Lang;
use crate::pages::{base_context, render};
use crate::{AppState, WebError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/signup", get(signup_page).post(signup))
        .route("/signin", get(signin_page).post(signin))
        .route("/signout", post(signout))
        .route("/verify", get(verify_email))
        .route("/account", get(account_page).post(update_account))
        .route("/account/signout-everywhere", post(signout_everywhere))
        .route("/reset", get(reset_page).post(reset_request))
        .route(
            "/reset/confirm",
            get(reset_confirm_page).post(reset_confirm),
        )
        .route("/magic", get(magic_page).post(magic_request))
        .route(
            "/magic/confirm",
            get(magic_confirm_page).post(magic_confirm),
        )
}

/// A random secret for a cookie or a mailed link: 256 bits, URL-safe.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Only hashes of session ids and tokens are stored: a database leak signs nobody in.
pub fn secret_hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn cookie_name(state: &AppState, base: &'static str) -> String {
    // `__Host-` binds the cookie to this exact origin; browsers accept it only over TLS.
    if state.inner.settings.secure_cookies {
        format!("__Host-{base}")
    } else {
        base.to_owned()
    }
}

fn cookie(state: &AppState, base: &'static str, value: String) -> Cookie<'static> {
    Cookie::build((cookie_name(state, base), value))
        .path("/")
        .http_only(true)
        .secure(state.inner.settings.secure_cookies)
        .same_site(SameSite::Lax)
        .build()
}

const SESSION: &str = "yui_session";
const CSRF: &str = "yui_csrf";

/// The signed-in account, if any.
#[derive(Debug, Clone)]
pub struct Viewer(pub Option<Account>);

impl Viewer {
    /// Puts the signed-in account (if any) into a page's context for the header.
    pub fn describe(&self, ctx: &mut Context) {
        if let Some(a) = &self.0 {
            ctx.insert(
                "me",
                &MeView {
                    display_name: a.display_name.clone(),
                },
            );
        }
    }
}

impl FromRequestParts<AppState> for Viewer {
    /// A database failure answers with the HTML error page in the visitor's language.
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(id) = jar
            .get(&cookie_name(state, SESSION))
            .map(|c| c.value().to_owned())
        else {
            return Ok(Viewer(None));
        };
        match state
            .store
            .session_account(&secret_hash(&id), state.inner.settings.session, state.now())
            .await
        {
            Ok(account) => Ok(Viewer(account)),
            Err(e) => {
                let Ok(lang) = Lang::from_request_parts(parts, state).await;
                Err(crate::pages::error_page(
                    state,
                    lang.or(Locale::Ja),
                    e.into(),
                ))
            }
        }
    }
}

pub(crate) fn audit_entry(
    actor: Option<i64>,
    action: AuditAction,
    detail: serde_json::Value,
    ip: &str,
) -> AuditEntry {
    AuditEntry {
        tenant_id: None,
        actor_id: actor,
        action,
        detail,
        ip: ip.to_owned(),
    }
}

/// The client's address, for throttling and the audit log.
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_default();
        Ok(ClientIp(ip))
    }
}

/// The CSRF token of this browser (double-submit: a cookie and the same value in each
/// form), created on first use.
pub(crate) fn csrf_token(state: &AppState, jar: CookieJar) -> (CookieJar, String) {
    match jar.get(&cookie_name(state, CSRF)) {
        Some(c) if !c.value().is_empty() => {
            let token = c.value().to_owned();
            (jar, token)
        }
        _ => {
            let token = new_secret();
            (jar.add(cookie(state, CSRF, token.clone())), token)
        }
    }
}

pub(crate) fn csrf_ok(state: &AppState, jar: &CookieJar, submitted: &str) -> bool {
    jar.get(&cookie_name(state, CSRF)).is_some_and(|c| {
        !submitted.is_empty() && bool::from(c.value().as_bytes().ct_eq(submitted.as_bytes()))
    })
}

pub(crate) fn csrf_failed(state: &AppState, locale: Locale) -> Response {
    crate::pages::message_page(
        state,
        locale,
        StatusCode::FORBIDDEN,
        "error_title",
        "err_csrf",
    )
}

/// A field error as a sentence in the user's language.
pub(crate) fn field_message(state: &AppState, locale: Locale, e: &FieldError) -> String {
    let c = &state.inner.catalogs;
    let label = c.text(locale, &format!("field_{}", e.field)).to_owned();
    let text = match e.problem {
        Problem::Required => c.text(locale, "err_required").to_owned(),
        Problem::InvalidEmail => c.text(locale, "err_invalid_email").to_owned(),
        Problem::TooShort { min } => c
            .text(locale, "err_too_short")
            .replace("{n}", &min.to_string()),
        Problem::TooLong { max } => c
            .text(locale, "err_too_long")
            .replace("{n}", &max.to_string()),
        Problem::PasswordIsEmail => c.text(locale, "err_password_is_email").to_owned(),
        Problem::Mismatch => c.text(locale, "err_mismatch").to_owned(),
        Problem::AlreadyRegistered => c.text(locale, "err_already_registered").to_owned(),
        Problem::InvalidDate => c.text(locale, "err_invalid_date").to_owned(),
        Problem::InvalidChoice => c.text(locale, "err_invalid_choice").to_owned(),
    };
    let sep = if locale == Locale::Ja { "：" } else { ": " };
    format!("{label}{sep}{text}")
}

/// One labelled input as the `form_field.html` template shows it.
#[derive(Serialize)]
pub(crate) struct FieldView {
    name: &'static str,
    label: String,
    r#type: &'static str,
    value: String,
    error: Option<String>,
    autocomplete: &'static str,
    hint: Option<String>,
}

impl FieldView {
    /// An input named `name`, labelled by the message `field_<name>`, with its error
    /// (if `errors` has one for it) in the user's language.
    pub(crate) fn new(
        state: &AppState,
        locale: Locale,
        name: &'static str,
        r#type: &'static str,
        value: String,
        autocomplete: &'static str,
        errors: &[FieldError],
    ) -> FieldView {
        FieldView {
            name,
            label: state
                .inner
                .catalogs
                .text(locale, &format!("field_{name}"))
                .to_owned(),
            r#type,
            value,
            error: errors
                .iter()
                .find(|e| e.field == name)
                .map(|e| field_message(state, locale, e)),
            autocomplete,
            hint: None,
        }
    }
}

/// A form's errors for the summary at its top, each linking to its field.
#[derive(Serialize)]
pub(crate) struct ErrorView {
    field: &'static str,
    message: String,
}

pub(crate) fn error_views(
    state: &AppState,
    locale: Locale,
    errors: &[FieldError],
) -> Vec<ErrorView> {
    errors
        .iter()
        .map(|e| ErrorView {
            field: e.field,
            message: field_message(state, locale, e),
        })
        .collect()
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
    action: &'a str,
    submit: &'a str,
    fields: Vec<(&'static str, &'static str, &'static str, String)>, // name, type, autocomplete, value
    errors: Vec<FieldError>,
    notice: Option<String>,
    links: Vec<(&'a str, &'a str)>,
    /// Hidden inputs besides the CSRF token, e.g. a mailed token.
    hidden: Vec<(&'static str, String)>,
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
    let mut ctx = base_context(state, locale, page.action);
    ctx.insert("heading", c.text(locale, page.heading));
    ctx.insert("lead", &page.lead.map(|l| c.text(locale, l)));
    ctx.insert("action", page.action);
    ctx.insert("submit", c.text(locale, page.submit));
    ctx.insert("csrf", &csrf);
    ctx.insert("fields", &fields);
    ctx.insert("errors", &errors);
    ctx.insert("notice", &page.notice);
    let links: Vec<LinkView> = page
        .links
        .iter()
        .map(|(href, key)| LinkView {
            href: (*href).to_owned(),
            text: c.text(locale, key).to_owned(),
        })
        .collect();
    ctx.insert("links", &links);
    ctx.insert("hidden", &page.hidden);
    (jar, render(state, "auth_form.html", &ctx, locale, status)).into_response()
}

fn signup_form(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    form: &SignupForm,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> Response {
    form_page(
        state,
        locale,
        jar,
        FormPage {
            heading: "signup_title",
            lead: Some("signup_lead"),
            action: "/signup",
            submit: "signup_submit",
            fields: vec![
                ("display_name", "text", "name", form.display_name.clone()),
                ("email", "email", "email", form.email.clone()),
                ("password", "password", "new-password", String::new()),
                (
                    "password_confirm",
                    "password",
                    "new-password",
                    String::new(),
                ),
            ],
            errors,
            notice: None,
            links: vec![("/signin", "sign_in")],
            hidden: Vec::new(),
        },
        status,
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct SignupForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

async fn signup_page(State(state): State<AppState>, lang: Lang, jar: CookieJar) -> Response {
    signup_form(
        &state,
        lang.or(Locale::Ja),
        jar,
        &SignupForm::default(),
        Vec::new(),
        StatusCode::OK,
    )
}

pub async fn hash_password(password: String) -> Result<String, WebError> {
    // Argon2id is deliberately slow; keep it off the async workers.
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
    })
    .await
    .map_err(|e| WebError::Internal(e.to_string()))?
    .map_err(|e| WebError::Internal(e.to_string()))
}

/// Checks a password. An unknown account is checked against a throw-away hash so
/// the answer takes as long as for a real one and does not reveal who is registered.
async fn password_matches(password: String, hash: Option<String>) -> bool {
    static DECOY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let known = hash.is_some();
    let Some(hash) = hash.or_else(|| {
        DECOY
            .get_or_init(|| {
                Argon2::default()
                    .hash_password(b"decoy password")
                    .ok()
                    .map(|h| h.to_string())
            })
            .clone()
    }) else {
        return false;
    };
    let ok = tokio::task::spawn_blocking(move || {
        Argon2::default()
            .verify_password(password.as_bytes(), hash.as_str())
            .is_ok()
    })
    .await
    .unwrap_or(false);
    ok && known
}

/// Starts a fresh session (a new id every sign-in, so a planted id is useless) and
/// ends the one the browser had.
async fn start_session(
    state: &AppState,
    jar: CookieJar,
    account_id: i64,
    ip: &str,
    headers: &HeaderMap,
) -> Result<CookieJar, WebError> {
    if let Some(old) = jar.get(&cookie_name(state, SESSION)) {
        state
            .store
            .delete_session(&secret_hash(old.value()))
            .await?;
    }
    let id = new_secret();
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    state
        .store
        .create_session(
            account_id,
            &secret_hash(&id),
            state.inner.settings.session,
            ip,
            ua,
            state.now(),
        )
        .await?;
    let max_age = state.inner.settings.session.absolute.num_seconds();
    let mut c = cookie(state, SESSION, id);
    c.set_max_age(cookie::time::Duration::seconds(max_age));
    // A new CSRF token too, so one seen before sign-in is not valid after it.
    Ok(jar.add(c).add(cookie(state, CSRF, new_secret())))
}

async fn signup(
    State(state): State<AppState>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<SignupForm>,
) -> Result<Response, WebError> {
    let locale = lang.or(Locale::Ja);
    if !csrf_ok(&state, &jar, &form.csrf) {
        return Ok(csrf_failed(&state, locale));
    }
    let mut errors = Vec::new();
    let name = check_display_name("display_name", &form.display_name)
        .map_err(|e| errors.push(e))
        .ok();
    let email = Email::parse("email", &form.email)
        .map_err(|e| errors.push(e))
        .ok();
    // The password is checked even when the address is wrong, so every problem shows at once.
    let no_email = Email {
        address: String::new(),
        key: String::new(),
    };
    if let Err(e) = check_new_password(
        "password",
        &form.password,
        email.as_ref().unwrap_or(&no_email),
    ) {
        errors.push(e);
    } else if form.password != form.password_confirm {
        errors.push(FieldError {
            field: "password_confirm",
            problem: Problem::Mismatch,
        });
    }
    let (Some(name), Some(email), true) = (name, email, errors.is_empty()) else {
        return Ok(signup_form(
            &state,
            locale,
            jar,
            &form,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    };
    let hash = hash_password(form.password.clone()).await?;
    let now = state.now();
    let mut tx = state.store.begin_write().await?;
    let id = match Store::create_account(&mut tx, &email, &name, Some(&hash), locale, now).await {
        Ok(id) => id,
        Err(StoreError::Conflict(_)) => {
            tx.rollback().await?;
            let errors = vec![FieldError {
                field: "email",
                problem: Problem::AlreadyRegistered,
            }];
            return Ok(signup_form(
                &state,
                locale,
                jar,
                &form,
                errors,
                StatusCode::CONFLICT,
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let token = new_secret();
    Store::create_token(
        &mut tx,
        id,
        TokenPurpose::VerifyEmail,
        &secret_hash(&token),
        now,
        now + Duration::minutes(VERIFY_MINUTES),
    )
    .await?;
    let account = Account {
        id,
        email: email.address.clone(),
        display_name: name.clone(),
        password_hash: None,
        email_verified_at: None,
        locale: locale.tag().to_owned(),
    };
    let link = format!("/verify?token={token}");
    queue_link_mail(
        &state,
        &mut tx,
        &account,
        yui_mail::MailKind::VerifyEmail,
        &link,
        VERIFY_MINUTES,
    )
    .await?;
    Store::audit_in(
        &mut tx,
        &audit_entry(Some(id), AuditAction::SignUp, serde_json::json!({}), &ip),
        now,
    )
    .await?;
    tx.commit().await?;
    state.inner.mail_waker.notify_one();
    let jar = start_session(&state, jar, id, &ip, &headers).await?;
    Ok((jar, Redirect::to("/account?welcome=1")).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct SigninForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

#[derive(Debug, Default, Deserialize)]
struct SigninQuery {
    signed_out: Option<String>,
    reset: Option<String>,
}

fn signin_form(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    email: &str,
    errors: Vec<FieldError>,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    form_page(
        state,
        locale,
        jar,
        FormPage {
            heading: "signin_title",
            lead: None,
            action: "/signin",
            submit: "signin_submit",
            fields: vec![
                ("email", "email", "username", email.to_owned()),
                ("password", "password", "current-password", String::new()),
            ],
            errors,
            notice,
            links: vec![
                ("/signup", "sign_up"),
                ("/reset", "forgot_password"),
                ("/magic", "magic_link_link"),
            ],
            hidden: Vec::new(),
        },
        status,
    )
}

async fn signin_page(
    State(state): State<AppState>,
    lang: Lang,
    jar: CookieJar,
    Query(q): Query<SigninQuery>,
) -> Response {
    let locale = lang.or(Locale::Ja);
    let c = &state.inner.catalogs;
    let notice = match (q.signed_out, q.reset) {
        (Some(_), _) => Some(c.text(locale, "signed_out_everywhere").to_owned()),
        (None, Some(_)) => Some(c.text(locale, "reset_done").to_owned()),
        _ => None,
    };
    signin_form(&state, locale, jar, "", Vec::new(), notice, StatusCode::OK)
}

async fn signin(
    State(state): State<AppState>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<SigninForm>,
) -> Result<Response, WebError> {
    let locale = lang.or(Locale::Ja);
    if !csrf_ok(&state, &jar, &form.csrf) {
        return Ok(csrf_failed(&state, locale));
    }
    let c = &state.inner.catalogs;
    let settings = &state.inner.settings;
    let now = state.now();
    let email = match Email::parse("email", &form.email) {
        Ok(e) => e,
        Err(e) => {
            return Ok(signin_form(
                &state,
                locale,
                jar,
                &form.email,
                vec![e],
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            ));
        }
    };
    let account_key = format!("account:{}", email.key);
    let ip_key = format!("ip:{ip}");
    let throttled = state
        .store
        .throttle_failures(&account_key, settings.throttle_window, now)
        .await?
        >= settings.max_failures_per_account
        || state
            .store
            .throttle_failures(&ip_key, settings.throttle_window, now)
            .await?
            >= settings.max_failures_per_ip;
    // Either the account, or why it is refused (what to audit, what to say, the status).
    let outcome = if throttled {
        Err((
            AuditAction::SignInThrottled,
            "err_throttled",
            StatusCode::TOO_MANY_REQUESTS,
        ))
    } else {
        let account = state.store.account_by_email(&email).await?;
        let ok = password_matches(
            form.password.clone(),
            account.as_ref().and_then(|a| a.password_hash.clone()),
        )
        .await;
        match account.filter(|_| ok) {
            Some(account) => Ok(account),
            None => {
                state
                    .store
                    .throttle_record_failure(
                        &[&account_key, &ip_key],
                        settings.throttle_window,
                        now,
                    )
                    .await?;
                Err((
                    AuditAction::SignInFailed,
                    "err_bad_credentials",
                    StatusCode::UNAUTHORIZED,
                ))
            }
        }
    };
    let account = match outcome {
        Ok(account) => account,
        Err((action, notice, status)) => {
            let detail = serde_json::json!({ "email": email.key });
            state
                .store
                .audit(&audit_entry(None, action, detail, &ip), now)
                .await?;
            let notice = Some(c.text(locale, notice).to_owned());
            return Ok(signin_form(
                &state,
                locale,
                jar,
                &form.email,
                Vec::new(),
                notice,
                status,
            ));
        }
    };
    state.store.throttle_clear(&account_key).await?;
    let jar = start_session(&state, jar, account.id, &ip, &headers).await?;
    state
        .store
        .audit(
            &audit_entry(
                Some(account.id),
                AuditAction::SignIn,
                serde_json::json!({}),
                &ip,
            ),
            now,
        )
        .await?;
    Ok((jar, Redirect::to("/account")).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

async fn signout(
    State(state): State<AppState>,
    lang: Lang,
    jar: CookieJar,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, WebError> {
    if !csrf_ok(&state, &jar, &form.csrf) {
        return Ok(csrf_failed(&state, lang.or(Locale::Ja)));
    }
    if let Some(id) = jar.get(&cookie_name(&state, SESSION)) {
        state.store.delete_session(&secret_hash(id.value())).await?;
    }
    let jar = jar.remove(cookie(&state, SESSION, String::new()));
    Ok((jar, Redirect::to("/")).into_response())
}

async fn signout_everywhere(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, WebError> {
    if !csrf_ok(&state, &jar, &form.csrf) {
        return Ok(csrf_failed(&state, lang.or(Locale::Ja)));
    }
    if let Some(account) = viewer.0 {
        let n = state.store.delete_sessions_of(account.id).await?;
        let detail = serde_json::json!({ "sessions": n });
        let entry = audit_entry(
            Some(account.id),
            AuditAction::SignOutEverywhere,
            detail,
            &ip,
        );
        state.store.audit(&entry, state.now()).await?;
    }
    let jar = jar.remove(cookie(&state, SESSION, String::new()));
    Ok((jar, Redirect::to("/signin?signed_out=1")).into_response())
}

#[derive(Debug, Deserialize)]
struct TokenQuery {
    #[serde(default)]
    token: String,
}

async fn verify_email(
    State(state): State<AppState>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    Query(q): Query<TokenQuery>,
) -> Result<Response, WebError> {
    let locale = lang.or(Locale::Ja);
    let now = state.now();
    let mut tx = state.store.begin_write().await?;
    let account = Store::consume_token(
        &mut tx,
        TokenPurpose::VerifyEmail,
        &secret_hash(&q.token),
        now,
    )
    .await?;
    if let Some(id) = account {
        Store::mark_email_verified(&mut tx, id, now).await?;
        let entry = audit_entry(
            Some(id),
            AuditAction::EmailVerified,
            serde_json::json!({}),
            &ip,
        );
        Store::audit_in(&mut tx, &entry, now).await?;
    }
    tx.commit().await?;
    Ok(match account {
        Some(_) => crate::pages::message_page(
            &state,
            locale,
            StatusCode::OK,
            "verify_done_title",
            "verify_done_body",
        ),
        None => crate::pages::message_page(
            &state,
            locale,
            StatusCode::BAD_REQUEST,
            "verify_failed_title",
            "verify_failed_body",
        ),
    })
}

#[derive(Serialize)]
struct AccountView {
    email: String,
    verified: bool,
    locale: String,
}

#[derive(Debug, Default, Deserialize)]
struct AccountQuery {
    welcome: Option<String>,
    saved: Option<String>,
}

/// The profile form as submitted (or as stored), with its errors.
struct ProfileForm<'a> {
    name: &'a str,
    errors: Vec<FieldError>,
}

async fn account_view(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    account: &Account,
    form: ProfileForm<'_>,
    notice: Option<String>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let ProfileForm { name, errors } = form;
    let (jar, csrf) = csrf_token(state, jar);
    let mut ctx: Context = base_context(state, locale, "/account");
    Viewer(Some(account.clone())).describe(&mut ctx);
    ctx.insert("places", &work_places(state, locale, account.id).await?);
    ctx.insert(
        "account",
        &AccountView {
            email: account.email.clone(),
            verified: account.email_verified_at.is_some(),
            locale: account.locale.clone(),
        },
    );
    ctx.insert("csrf", &csrf);
    ctx.insert("notice", &notice);
    ctx.insert(
        "name_field",
        &FieldView::new(
            state,
            locale,
            "display_name",
            "text",
            name.to_owned(),
            "name",
            &errors,
        ),
    );
    ctx.insert("errors", &error_views(state, locale, &errors));
    Ok((jar, render(state, "account.html", &ctx, locale, status)).into_response())
}

/// A place the account works in, with the pages its roles open.
#[derive(Debug, Serialize)]
struct WorkPlace {
    name: String,
    roles: String,
    links: Vec<LinkView>,
}

/// The tenants (and the console) the account holds roles in, for the account page.
async fn work_places(
    state: &AppState,
    locale: Locale,
    account_id: i64,
) -> Result<Vec<WorkPlace>, WebError> {
    let c = &state.inner.catalogs;
    let now = state.now();
    let authz = state.authz.snapshot();
    let mut places = Vec::new();
    if authz.check_platform(account_id, "tenant", "read", now) {
        places.push(WorkPlace {
            name: c.text(locale, "audit_platform").to_owned(),
            roles: c.text(locale, "role_platform_operator").to_owned(),
            links: vec![
                LinkView {
                    href: "/ops/".into(),
                    text: c.text(locale, "ops_title").to_owned(),
                },
                LinkView {
                    href: "/ops/audit".into(),
                    text: c.text(locale, "audit_title").to_owned(),
                },
            ],
        });
    }
    for record in state.store.list_tenants().await? {
        let (slug, names) = (record.tenant.slug.as_str(), &record.tenant.name);
        let roles: Vec<String> = authz
            .roles(account_id, slug, now)
            .into_iter()
            .filter(|(_, scope)| *scope == yui_authz::Scope::Tenant)
            .map(|(r, _)| c.text(locale, &format!("role_{}", r.as_str())).to_owned())
            .collect();
        if roles.is_empty() {
            continue;
        }
        let mut links = vec![LinkView {
            href: format!("/t/{slug}/"),
            text: c.text(locale, "visit_region").to_owned(),
        }];
        if authz.check(account_id, slug, "staff", "read", now) {
            links.push(LinkView {
                href: format!("/t/{slug}/staff"),
                text: c.text(locale, "staff_title").to_owned(),
            });
        }
        if authz.check(account_id, slug, "audit", "read", now) {
            links.push(LinkView {
                href: format!("/t/{slug}/audit"),
                text: c.text(locale, "audit_title").to_owned(),
            });
        }
        places.push(WorkPlace {
            name: names.get(locale).to_owned(),
            roles: roles.join("・"),
            links,
        });
    }
    Ok(places)
}

/// What the header shows of the signed-in account.
#[derive(Debug, Serialize)]
pub struct MeView {
    pub display_name: String,
}

async fn account_page(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    jar: CookieJar,
    Query(q): Query<AccountQuery>,
) -> Response {
    let Some(account) = viewer.0 else {
        return Redirect::to("/signin").into_response();
    };
    let locale = lang.or(account.locale());
    let c = &state.inner.catalogs;
    let notice = if q.welcome.is_some() {
        Some(c.text(locale, "signup_done").to_owned())
    } else {
        q.saved.map(|_| c.text(locale, "saved").to_owned())
    };
    account_view(
        &state,
        locale,
        jar,
        &account,
        ProfileForm {
            name: &account.display_name,
            errors: Vec::new(),
        },
        notice,
        StatusCode::OK,
    )
    .await
    .unwrap_or_else(IntoResponse::into_response)
}

#[derive(Debug, Default, Deserialize)]
pub struct AccountForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    locale: String,
}

async fn update_account(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    jar: CookieJar,
    Form(form): Form<AccountForm>,
) -> Result<Response, WebError> {
    let Some(account) = viewer.0 else {
        return Ok(Redirect::to("/signin").into_response());
    };
    let locale = lang.or(account.locale());
    if !csrf_ok(&state, &jar, &form.csrf) {
        return Ok(csrf_failed(&state, locale));
    }
    let chosen = Locale::parse(&form.locale).unwrap_or(account.locale());
    match check_display_name("display_name", &form.display_name) {
        Ok(name) => {
            state
                .store
                .update_account_profile(account.id, &name, chosen, state.now())
                .await?;
            Ok(Redirect::to("/account?saved=1").into_response())
        }
        Err(e) => Ok(account_view(
            &state,
            locale,
            jar,
            &account,
            ProfileForm {
                name: &form.display_name,
                errors: vec![e],
            },
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await?),
    }
}

/// Opens a writing transaction and uses a mailed token in it: the account it was
/// for, or `None` (nothing changed) when the token is unknown, used or expired.
async fn use_token(
    state: &AppState,
    purpose: TokenPurpose,
    token: &str,
) -> Result<Option<(yui_store::StoreTx, i64)>, WebError> {
    let mut tx = state.store.begin_write().await?;
    match Store::consume_token(&mut tx, purpose, &secret_hash(token), state.now()).await? {
        Some(id) => Ok(Some((tx, id))),
        None => {
            tx.rollback().await?;
            Ok(None)
        }
    }
}

fn link_failed(state: &AppState, locale: Locale) -> Response {
    crate::pages::message_page(
        state,
        locale,
        StatusCode::BAD_REQUEST,
        "verify_failed_title",
        "link_failed_body",
    )
}

/// Queues a mail with a one-time link for an account, in the caller's transaction.
async fn queue_link_mail(
    state: &AppState,
    tx: &mut yui_store::StoreTx,
    account: &Account,
    kind: yui_mail::MailKind,
    path_with_token: &str,
    minutes: i64,
) -> Result<(), WebError> {
    let mail = yui_mail::NewMail {
        tenant: None,
        to: account.email.clone(),
        locale: account.locale(),
        kind,
        vars: serde_json::json!({
            "display_name": account.display_name,
            "link": format!("{}{}", state.inner.settings.public_url.trim_end_matches('/'), path_with_token),
            "expires_minutes": minutes,
        }),
    };
    state
        .inner
        .outbox
        .enqueue(tx, &mail, state.now())
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(())
}

/// Minutes a mailed link stays valid.
const VERIFY_MINUTES: i64 = 48 * 60;
const RESET_MINUTES: i64 = 60;
const MAGIC_MINUTES: i64 = 15;

#[derive(Debug, Default, Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
}

/// What the reset / sign-in-link form shows.
enum EmailStep {
    /// The empty form.
    Blank,
    /// The address as typed, and what is wrong with it.
    Invalid(String, FieldError),
    /// The answer after a request, the same whether the address is registered or not.
    Sent(String),
}

fn email_form(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    which: &'static str,
    step: EmailStep,
) -> Response {
    let (email, errors, notice, status) = match step {
        EmailStep::Blank => (String::new(), Vec::new(), None, StatusCode::OK),
        EmailStep::Invalid(email, e) => (email, vec![e], None, StatusCode::UNPROCESSABLE_ENTITY),
        EmailStep::Sent(notice) => (String::new(), Vec::new(), Some(notice), StatusCode::OK),
    };
    let (heading, lead, submit) = match which {
        "/reset" => ("reset_title", "reset_lead", "reset_submit"),
        _ => ("magic_title", "magic_lead", "magic_submit"),
    };
    form_page(
        state,
        locale,
        jar,
        FormPage {
            heading,
            lead: Some(lead),
            action: which,
            submit,
            fields: vec![("email", "email", "email", email)],
            errors,
            notice,
            links: vec![("/signin", "sign_in")],
            hidden: Vec::new(),
        },
        status,
    )
}

async fn reset_page(State(state): State<AppState>, lang: Lang, jar: CookieJar) -> Response {
    email_form(&state, lang.or(Locale::Ja), jar, "/reset", EmailStep::Blank)
}

async fn magic_page(State(state): State<AppState>, lang: Lang, jar: CookieJar) -> Response {
    email_form(&state, lang.or(Locale::Ja), jar, "/magic", EmailStep::Blank)
}

/// Sends a reset or sign-in link when the address belongs to an account. The answer
/// is the same either way, so the form does not reveal who is registered.
async fn send_link(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    which: &'static str,
    form: EmailForm,
) -> Result<Response, WebError> {
    if !csrf_ok(state, &jar, &form.csrf) {
        return Ok(csrf_failed(state, locale));
    }
    let email = match Email::parse("email", &form.email) {
        Ok(e) => e,
        Err(e) => {
            return Ok(email_form(
                state,
                locale,
                jar,
                which,
                EmailStep::Invalid(form.email.clone(), e),
            ));
        }
    };
    if let Some(account) = state.store.account_by_email(&email).await? {
        let (purpose, kind, minutes, path) = match which {
            "/reset" => (
                TokenPurpose::PasswordReset,
                yui_mail::MailKind::PasswordReset,
                RESET_MINUTES,
                "/reset/confirm",
            ),
            _ => (
                TokenPurpose::MagicLink,
                yui_mail::MailKind::MagicLink,
                MAGIC_MINUTES,
                "/magic/confirm",
            ),
        };
        let token = new_secret();
        let now = state.now();
        let mut tx = state.store.begin_write().await?;
        Store::create_token(
            &mut tx,
            account.id,
            purpose,
            &secret_hash(&token),
            now,
            now + Duration::minutes(minutes),
        )
        .await?;
        queue_link_mail(
            state,
            &mut tx,
            &account,
            kind,
            &format!("{path}?token={token}"),
            minutes,
        )
        .await?;
        tx.commit().await?;
        state.inner.mail_waker.notify_one();
    }
    let notice = state.inner.catalogs.text(locale, "link_sent").to_owned();
    Ok(email_form(
        state,
        locale,
        jar,
        which,
        EmailStep::Sent(notice),
    ))
}

async fn reset_request(
    State(state): State<AppState>,
    lang: Lang,
    jar: CookieJar,
    Form(form): Form<EmailForm>,
) -> Result<Response, WebError> {
    send_link(&state, lang.or(Locale::Ja), jar, "/reset", form).await
}

async fn magic_request(
    State(state): State<AppState>,
    lang: Lang,
    jar: CookieJar,
    Form(form): Form<EmailForm>,
) -> Result<Response, WebError> {
    send_link(&state, lang.or(Locale::Ja), jar, "/magic", form).await
}

#[derive(Debug, Default, Deserialize)]
pub struct NewPasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

fn new_password_form(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    token: &str,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> Response {
    form_page(
        state,
        locale,
        jar,
        FormPage {
            heading: "reset_confirm_title",
            lead: None,
            action: "/reset/confirm",
            submit: "save",
            fields: vec![
                ("password", "password", "new-password", String::new()),
                (
                    "password_confirm",
                    "password",
                    "new-password",
                    String::new(),
                ),
            ],
            errors,
            notice: None,
            links: Vec::new(),
            hidden: vec![("token", token.to_owned())],
        },
        status,
    )
}

async fn reset_confirm_page(
    State(state): State<AppState>,
    lang: Lang,
    jar: CookieJar,
    Query(q): Query<TokenQuery>,
) -> Response {
    new_password_form(
        &state,
        lang.or(Locale::Ja),
        jar,
        &q.token,
        Vec::new(),
        StatusCode::OK,
    )
}

async fn reset_confirm(
    State(state): State<AppState>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    Form(form): Form<NewPasswordForm>,
) -> Result<Response, WebError> {
    let locale = lang.or(Locale::Ja);
    if !csrf_ok(&state, &jar, &form.csrf) {
        return Ok(csrf_failed(&state, locale));
    }
    let now = state.now();
    let Some((mut tx, id)) = use_token(&state, TokenPurpose::PasswordReset, &form.token).await?
    else {
        return Ok(link_failed(&state, locale));
    };
    let account = state.store.account(id).await?;
    let email = Email {
        address: account.email.clone(),
        key: account.email.to_lowercase(),
    };
    let problem = match check_new_password("password", &form.password, &email) {
        Err(e) => Some(e),
        Ok(()) if form.password != form.password_confirm => Some(FieldError {
            field: "password_confirm",
            problem: Problem::Mismatch,
        }),
        Ok(()) => None,
    };
    if let Some(e) = problem {
        // The token stays usable: nothing is committed.
        tx.rollback().await?;
        return Ok(new_password_form(
            &state,
            locale,
            jar,
            &form.token,
            vec![e],
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    let hash = hash_password(form.password.clone()).await?;
    Store::set_password(&mut tx, id, &hash, now).await?;
    // Following the link proved the mailbox is theirs.
    Store::mark_email_verified(&mut tx, id, now).await?;
    Store::audit_in(
        &mut tx,
        &audit_entry(
            Some(id),
            AuditAction::PasswordReset,
            serde_json::json!({}),
            &ip,
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    let jar = jar.remove(cookie(&state, SESSION, String::new()));
    Ok((jar, Redirect::to("/signin?reset=1")).into_response())
}

async fn magic_confirm_page(
    State(state): State<AppState>,
    lang: Lang,
    jar: CookieJar,
    Query(q): Query<TokenQuery>,
) -> Response {
    // A page with a button rather than signing in on GET: mail scanners that follow
    // links must not use up (or use) the token.
    form_page(
        &state,
        lang.or(Locale::Ja),
        jar,
        FormPage {
            heading: "magic_confirm_title",
            lead: Some("magic_confirm_lead"),
            action: "/magic/confirm",
            submit: "signin_submit",
            fields: Vec::new(),
            errors: Vec::new(),
            notice: None,
            links: Vec::new(),
            hidden: vec![("token", q.token)],
        },
        StatusCode::OK,
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    token: String,
}

async fn magic_confirm(
    State(state): State<AppState>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<TokenForm>,
) -> Result<Response, WebError> {
    let locale = lang.or(Locale::Ja);
    if !csrf_ok(&state, &jar, &form.csrf) {
        return Ok(csrf_failed(&state, locale));
    }
    let now = state.now();
    let Some((mut tx, id)) = use_token(&state, TokenPurpose::MagicLink, &form.token).await? else {
        return Ok(link_failed(&state, locale));
    };
    Store::mark_email_verified(&mut tx, id, now).await?;
    let detail = serde_json::json!({ "method": "magic_link" });
    Store::audit_in(
        &mut tx,
        &audit_entry(Some(id), AuditAction::SignIn, detail, &ip),
        now,
    )
    .await?;
    tx.commit().await?;
    let jar = start_session(&state, jar, id, &ip, &headers).await?;
    Ok((jar, Redirect::to("/account")).into_response())
}
