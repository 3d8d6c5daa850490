//! Sign-in with a password, throttled per account and per address; sign-out.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use yui_domain::Locale;
use yui_domain::account::{Email, FieldError};
use yui_domain::audit::AuditAction;
use yui_store::{AuditEntry, AuditTx, PlatformReason};

use super::{FormPage, form_page};
use crate::AppState;
use crate::error::PageError;
use crate::extract::{ClientIp, CsrfForm, CsrfOnly, Lang};
use crate::security::{
    SESSION, cookie_name, end_session_cookie, password_matches, safe_next, secret_hash,
    start_session,
};

#[derive(Debug, Default, Deserialize)]
pub struct SigninForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    /// Where to go after signing in (a local path).
    #[serde(default)]
    next: String,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct SigninQuery {
    signed_out: Option<String>,
    reset: Option<String>,
    next: Option<String>,
}

struct SigninView<'a> {
    email: &'a str,
    next: &'a str,
    errors: Vec<FieldError>,
    notice: Option<String>,
    problem: Option<String>,
    status: StatusCode,
}

fn signin_form(state: &AppState, locale: Locale, jar: CookieJar, view: SigninView<'_>) -> Response {
    let mut page = FormPage::new("signin_title", "/signin", "signin_submit");
    page.fields = vec![
        ("email", "email", "username", view.email.to_owned()),
        ("password", "password", "current-password", String::new()),
    ];
    page.errors = view.errors;
    page.notice = view.notice;
    page.problem = view.problem;
    page.links = vec![
        ("/signup", "sign_up"),
        ("/reset", "forgot_password"),
        ("/magic", "magic_link_link"),
    ];
    if let Some(next) = safe_next(view.next) {
        page.hidden.push(("next", next));
    }
    form_page(state, locale, jar, page, view.status)
}

pub(super) async fn page(
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
    let view = SigninView {
        email: "",
        next: q.next.as_deref().unwrap_or(""),
        errors: Vec::new(),
        notice,
        problem: None,
        status: StatusCode::OK,
    };
    signin_form(&state, locale, jar, view)
}

pub(super) async fn submit(
    State(state): State<AppState>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<SigninForm>,
) -> Result<Response, PageError> {
    let locale = lang.or(Locale::Ja);
    let c = &state.inner.catalogs;
    let settings = &state.inner.settings;
    let now = state.now();
    let email = match Email::parse("email", &form.email) {
        Ok(e) => e,
        Err(e) => {
            let view = SigninView {
                email: &form.email,
                next: &form.next,
                errors: vec![e],
                notice: None,
                problem: None,
                status: StatusCode::UNPROCESSABLE_ENTITY,
            };
            return Ok(signin_form(&state, locale, jar, view));
        }
    };
    let account_key = format!("account:{}", email.key());
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
        let account = state.store.find_account(&email).await?;
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
        Err((action, problem, status)) => {
            let entry = AuditEntry {
                actor_id: None,
                action,
                detail: serde_json::json!({ "email": email.key() }),
                ip,
            };
            let mut tx = state
                .store
                .platform(PlatformReason::Authentication)
                .write()
                .await?;
            tx.audit(&entry, now).await?;
            tx.commit().await?;
            let view = SigninView {
                email: &form.email,
                next: &form.next,
                errors: Vec::new(),
                notice: None,
                problem: Some(c.text(locale, problem).to_owned()),
                status,
            };
            return Ok(signin_form(&state, locale, jar, view));
        }
    };
    state.store.throttle_clear(&account_key).await?;
    let jar = start_session(
        &state,
        jar,
        account.id,
        account.credential_epoch,
        &ip,
        &headers,
    )
    .await?;
    let mut tx = state.store.account(account.id).write().await?;
    let entry = AuditEntry {
        actor_id: Some(account.id),
        action: AuditAction::SignIn,
        detail: serde_json::json!({}),
        ip,
    };
    tx.audit(&entry, now).await?;
    tx.commit().await?;
    let to = safe_next(&form.next).unwrap_or_else(|| "/account".to_owned());
    Ok((jar, Redirect::to(&to)).into_response())
}

pub(super) async fn signout(
    State(state): State<AppState>,
    jar: CookieJar,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, PageError> {
    if let Some(id) = jar.get(&cookie_name(&state, SESSION)) {
        state.store.end_session(&secret_hash(id.value())).await?;
    }
    let jar = end_session_cookie(&state, jar);
    Ok((jar, Redirect::to("/")).into_response())
}
