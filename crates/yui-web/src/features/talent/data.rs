//! The person's own data: everything as one JSON download (`/me/data.json`), and
//! deleting the account (`/me/delete`), which erases the personal fields everywhere
//! and signs out.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use yui_authz::{Role, Scope};
use yui_domain::Locale;
use yui_domain::account::{FieldError, Problem};
use yui_domain::audit::AuditAction;
use yui_store::{Account, AuditEntry, AuditTx};

use crate::AppState;
use crate::error::PageError;
use crate::extract::{ClientIp, CsrfForm, Lang, SignedIn, TenantPath};
use crate::render::{FieldView, base_context, error_views, field_message, message_page, render};
use crate::security::{csrf_token, end_session_cookie, password_matches};

pub(super) async fn download(
    State(state): State<AppState>,
    SignedIn(account): SignedIn,
    ClientIp(ip): ClientIp,
) -> Result<Response, PageError> {
    let now = state.now();
    let mut tx = state.store.account(account.id).write().await?;
    let data = tx.personal_data().await?;
    // Exports of personal data are logged, also one's own.
    let entry = AuditEntry {
        actor_id: Some(account.id),
        action: AuditAction::Export,
        detail: serde_json::json!({ "what": "own_data" }),
        ip,
    };
    tx.audit(&entry, now).await?;
    tx.commit().await?;
    let body = serde_json::to_vec_pretty(&data)
        .map_err(|e| crate::WebError::Internal(format!("personal data: {e}")))?;
    let mut res = (StatusCode::OK, body).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"yui-my-data.json\""),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct DeleteForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: Option<String>,
}

fn render_delete(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    account: &Account,
    errors: &[FieldError],
    problem: Option<&str>,
    status: StatusCode,
) -> Response {
    let (jar, csrf) = csrf_token(state, jar);
    let mut ctx = base_context(state, locale, Some(account), "/me/delete");
    ctx.insert("csrf", &csrf);
    ctx.insert("errors", &error_views(state, locale, errors));
    ctx.insert(
        "problem",
        &problem.map(|k| state.inner.catalogs.text(locale, k)),
    );
    ctx.insert("has_password", &account.password_hash.is_some());
    ctx.insert(
        "password_field",
        &FieldView::new(
            state,
            locale,
            "password",
            "password",
            String::new(),
            "current-password",
            errors,
        ),
    );
    ctx.insert(
        "confirm_error",
        &errors
            .iter()
            .find(|e| e.field == "confirm")
            .map(|e| field_message(state, locale, e)),
    );
    (
        jar,
        render(state, "talent_delete.html", ctx, locale, status),
    )
        .into_response()
}

/// Whether the account is a region's administrator whom no other administrator
/// outlasts: deleting it would leave the region to nobody (the staff page refuses
/// to remove such a role for the same reason).
async fn holds_last_admin_role(state: &AppState, account: &Account) -> Result<bool, PageError> {
    let now = state.now();
    for (slug, roles) in state.authz.snapshot().tenant_roles_of(account.id, now) {
        if !roles.contains(&Role::TenantAdmin) {
            continue;
        }
        let tenant = match TenantPath::load_even_suspended(state, &slug).await {
            Ok(t) => t,
            Err(crate::WebError::NotFound) => continue,
            Err(e) => return Err(e.into()),
        };
        let mut tx = state.store.tenant(tenant.id).read().await?;
        let grants = yui_authz::list_grants_in(&mut tx).await?;
        tx.commit().await?;
        let last = grants
            .iter()
            .filter(|g| {
                g.account_id == account.id
                    && g.role == Role::TenantAdmin
                    && g.scope == Scope::Tenant
                    && g.live_at(now)
            })
            .any(|g| !crate::features::staff::admins_outlast(&grants, g, now));
        if last {
            return Ok(true);
        }
    }
    Ok(false)
}

pub(super) async fn delete_page(
    State(state): State<AppState>,
    lang: Lang,
    SignedIn(account): SignedIn,
    jar: CookieJar,
) -> Response {
    let locale = lang.or(account.locale());
    render_delete(&state, locale, jar, &account, &[], None, StatusCode::OK)
}

pub(super) async fn delete(
    State(state): State<AppState>,
    lang: Lang,
    SignedIn(account): SignedIn,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<DeleteForm>,
) -> Result<Response, PageError> {
    let locale = lang.or(account.locale());
    let mut errors = Vec::new();
    if form.confirm.is_none() {
        errors.push(FieldError {
            field: "confirm",
            problem: Problem::Required,
        });
    }
    // Whoever holds an open session is not necessarily its owner: an account with a
    // password asks for it again before anything is erased.
    if account.password_hash.is_some() {
        if form.password.is_empty() {
            errors.push(FieldError {
                field: "password",
                problem: Problem::Required,
            });
        } else if !password_matches(form.password, account.password_hash.clone()).await {
            errors.push(FieldError {
                field: "password",
                problem: Problem::Mismatch,
            });
        }
    }
    if !errors.is_empty() {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(render_delete(
            &state, locale, jar, &account, &errors, None, status,
        ));
    }
    if holds_last_admin_role(&state, &account).await? {
        return Ok(render_delete(
            &state,
            locale,
            jar,
            &account,
            &[],
            Some("err_last_admin_delete"),
            StatusCode::CONFLICT,
        ));
    }
    let now = state.now();
    let mut tx = state.store.account(account.id).write().await?;
    let erased = tx.erase_account(now).await?;
    let entry = AuditEntry {
        actor_id: Some(account.id),
        action: AuditAction::AccountDeleted,
        detail: serde_json::json!({
            "memberships_ended": erased.memberships_ended,
            "roles_revoked": erased.roles_revoked,
        }),
        ip,
    };
    tx.audit(&entry, now).await?;
    tx.commit().await?;
    if erased.roles_revoked > 0 {
        state.authz.refresh_if_changed(&state.store, now).await?;
    }
    let jar = end_session_cookie(&state, jar);
    let page = message_page(
        &state,
        locale,
        None,
        StatusCode::OK,
        "account_deleted_title",
        "account_deleted_body",
    );
    Ok((jar, page).into_response())
}
