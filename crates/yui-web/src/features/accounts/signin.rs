//! Sign-in with a password, throttled per account and address together (or per known
//! device), per address and per account; sign-out.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use yui_domain::account::{Email, FieldError, Problem};
use yui_domain::audit::AuditAction;
use yui_domain::{AccountId, Locale, Permission};
use yui_store::{Attempt, AuditEntry, AuditTx, Limit, PlatformReason};

use super::{FormPage, form_page};
use crate::AppState;
use crate::error::{PageError, WebError};
use crate::extract::{ClientIp, CsrfForm, CsrfOnly, Lang, throttle_address};
use crate::security::{
    SESSION, cookie_name, device_id_hash, end_session_cookie, password_matches, remember_device,
    safe_next, secret_hash, start_session,
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

/// The throttling keys of one sign-in attempt: what is counted, and what a success
/// forgets or gives back.
struct AttemptKeys {
    counted: Vec<(String, Limit)>,
    forget: Vec<String>,
    refund: Vec<String>,
}

/// Keys are made from the address as typed (its normalised key) whether or not an
/// account has it, so an unknown address is throttled exactly like a known one.
async fn attempt_keys(
    state: &AppState,
    jar: &CookieJar,
    email: &Email,
    ip: &str,
) -> Result<AttemptKeys, WebError> {
    let limits = &state.inner.settings.throttle;
    let who = email.key();
    let since = state.now() - Duration::days(limits.device_days);
    if let Some(device) = device_id_hash(state, jar)
        && state.store.is_known_device(&device, email, since).await?
    {
        // A browser that signed in to this account before: neither its address's
        // nor the account's crowd of strangers holds it back.
        let key = format!("signin:dev:{who}:{device}");
        return Ok(AttemptKeys {
            counted: vec![(key.clone(), limits.device)],
            forget: vec![key],
            refund: Vec::new(),
        });
    }
    let address = throttle_address(ip);
    let pair = format!("signin:ai:{who}:{address}");
    let address = format!("signin:ip:{address}");
    let account = format!("signin:a:{who}");
    Ok(AttemptKeys {
        counted: vec![
            (pair.clone(), limits.account_address),
            (address.clone(), limits.address),
            (account.clone(), limits.account),
        ],
        forget: vec![pair],
        refund: vec![address, account],
    })
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
    let now = state.now();
    // Both fields at once; an empty password is a field to fill in, not a guess (it
    // is not counted against the limits).
    let mut errors = Vec::new();
    let email = Email::parse("email", &form.email)
        .map_err(|e| errors.push(e))
        .ok();
    if form.password.is_empty() {
        errors.push(FieldError {
            field: "password",
            problem: Problem::Required,
        });
    }
    let Some(email) = email.filter(|_| errors.is_empty()) else {
        let view = SigninView {
            email: &form.email,
            next: &form.next,
            errors,
            notice: None,
            problem: None,
            status: StatusCode::UNPROCESSABLE_ENTITY,
        };
        return Ok(signin_form(&state, locale, jar, view));
    };
    let keys = attempt_keys(&state, &jar, &email, &ip).await?;
    // Counted before the password is checked, so a burst cannot get more guesses in
    // than the limit: parallel requests take turns on the key's row.
    let attempt = state.store.count_attempt(&keys.counted, now).await?;
    // Either the account, or why it is refused (what to audit, what to say, the status).
    let outcome = if let Attempt::Refused { retry_after } = attempt {
        Err((
            AuditAction::SignInThrottled,
            "err_throttled",
            StatusCode::TOO_MANY_REQUESTS,
            Some(retry_after),
        ))
    } else {
        let account = state.store.find_account(&email).await?;
        let ok = password_matches(
            form.password.clone(),
            account.as_ref().and_then(|a| a.password_hash.clone()),
        )
        .await;
        account.filter(|_| ok).ok_or((
            AuditAction::SignInFailed,
            "err_bad_credentials",
            StatusCode::UNAUTHORIZED,
            None,
        ))
    };
    let account = match outcome {
        Ok(account) => account,
        Err((action, problem, status, retry_after)) => {
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
                // "Try again in N minutes": the wait the limit set, rounded up.
                problem: Some(
                    c.text(locale, problem).replace(
                        "{minutes}",
                        &retry_after
                            .map_or(1, |w| (w.num_seconds() + 59) / 60)
                            .max(1)
                            .to_string(),
                    ),
                ),
                status,
            };
            let mut res = signin_form(&state, locale, jar, view);
            if let Some(wait) = retry_after {
                // Whole seconds, rounded up: never an invitation to come back too soon.
                let secs = (wait.num_milliseconds() + 999) / 1000;
                res.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
            }
            return Ok(res);
        }
    };
    // The owner is back: this pair starts afresh; the shared keys get their attempt
    // back, so many people signing in from one office do not use up its allowance.
    state
        .store
        .attempt_succeeded(&keys.forget, &keys.refund)
        .await?;
    // Housekeeping on the way: keys quiet for a day have started over anyway. It may
    // meet a concurrent attempt's row lock; the sign-in does not depend on it.
    if let Err(e) = state.store.prune_attempts(now - Duration::days(1)).await {
        tracing::warn!(error = %e, "pruning sign-in attempts failed");
    }
    let jar = remember_device(&state, jar, account.id).await?;
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
    let to = safe_next(&form.next).unwrap_or_else(|| landing(&state, account.id, now).to_owned());
    Ok((jar, Redirect::to(&to)).into_response())
}

/// Where a sign-in without `next` lands: staff, host members and operators on
/// `/account` (which lists their places), everyone else (talents, newcomers) on their
/// dashboard `/me`.
fn landing(state: &AppState, account: AccountId, now: DateTime<Utc>) -> &'static str {
    let operator = state
        .authz
        .check_platform(account, Permission::TenantRead, now);
    let has_role = state
        .authz
        .snapshot()
        .tenant_roles_of(account, now)
        .iter()
        .any(|(_, roles)| roles.iter().any(|r| *r != yui_authz::Role::Talent));
    if operator || has_role {
        "/account"
    } else {
        "/me"
    }
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
