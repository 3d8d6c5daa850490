//! Staff management for tenant admins and the operator console.
//!
//! A page of a tenant the viewer holds no fitting role in answers 404, exactly as
//! for a tenant that does not exist: nothing tells one tenant's staff about another.

use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use chrono::Duration;
use serde::{Deserialize, Serialize};
use yui_authz::{NewGrant, Role, Scope};
use yui_domain::account::{Email, FieldError, Problem};
use yui_domain::audit::AuditAction;
use yui_domain::{Locale, TenantStatus};
use yui_store::{Store, TenantRecord, TokenPurpose};

use crate::auth::{
    ClientIp, FieldView, Viewer, audit_entry, csrf_failed, csrf_ok, csrf_token, error_views,
    new_secret, secret_hash,
};
use crate::i18n::Lang;
use crate::pages::{base_context, not_found_page, render};
use crate::{AppState, WebError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ops/", get(console))
        .route("/ops/tenants/{slug}/{action}", post(set_status))
        .route("/t/{slug}/staff", get(staff_page).post(invite))
        .route("/t/{slug}/staff/{grant}/revoke", post(revoke))
        .route("/t/{slug}/audit", get(tenant_audit))
        .route("/ops/audit", get(platform_audit))
}

/// Roles a tenant admin may hand out (never platform_operator).
const TENANT_ROLES: [Role; 6] = [
    Role::TenantAdmin,
    Role::Coordinator,
    Role::MunicipalStaff,
    Role::Mentor,
    Role::HostMember,
    Role::Talent,
];

/// Days an invitation link stays valid.
const INVITATION_MINUTES: i64 = 7 * 24 * 60;

#[derive(Debug, Default, Deserialize)]
struct Notice {
    done: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// The signed-in account's id.
fn signed_in(viewer: &Viewer) -> Option<i64> {
    viewer.0.as_ref().map(|a| a.id)
}

fn to_sign_in() -> Response {
    Redirect::to("/signin").into_response()
}

async fn console(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    jar: CookieJar,
    Query(q): Query<Notice>,
) -> Result<Response, WebError> {
    let locale = lang.or(Locale::Ja);
    let Some(me) = signed_in(&viewer) else {
        return Ok(to_sign_in());
    };
    if !state
        .authz
        .check_platform(me, "tenant", "read", state.now())
    {
        return Ok(not_found_page(&state, lang).await);
    }
    let c = &state.inner.catalogs;
    let counts = state.store.staff_counts().await?;
    #[derive(Serialize)]
    struct Row {
        slug: String,
        name: String,
        kind: String,
        staff: i64,
        suspended: bool,
        status_label: String,
    }
    let rows: Vec<Row> = state
        .store
        .list_tenants()
        .await?
        .into_iter()
        .map(|r| Row {
            staff: counts
                .iter()
                .find(|(t, _)| *t == r.id)
                .map_or(0, |(_, n)| *n),
            suspended: r.status == TenantStatus::Suspended,
            status_label: c
                .text(locale, &format!("status_{}", r.status.as_str()))
                .to_owned(),
            kind: c
                .text(locale, &format!("kind_{}", r.tenant.kind.as_str()))
                .to_owned(),
            name: r.tenant.name.get(locale).to_owned(),
            slug: r.tenant.slug,
        })
        .collect();
    let (jar, csrf) = csrf_token(&state, jar);
    let mut ctx = base_context(&state, locale, "/ops/");
    viewer.describe(&mut ctx);
    ctx.insert("rows", &rows);
    ctx.insert("csrf", &csrf);
    ctx.insert("notice", &q.done.map(|_| c.text(locale, "ops_done")));
    Ok((
        jar,
        render(&state, "ops.html", &ctx, locale, StatusCode::OK),
    )
        .into_response())
}

async fn set_status(
    State(state): State<AppState>,
    Path((slug, action)): Path<(String, String)>,
    lang: Lang,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    let locale = lang.or(Locale::Ja);
    let Some(me) = signed_in(&viewer) else {
        return Ok(to_sign_in());
    };
    let (status, audit) = match action.as_str() {
        "suspend" => (TenantStatus::Suspended, AuditAction::TenantSuspended),
        "resume" => (TenantStatus::Active, AuditAction::TenantResumed),
        _ => return Ok(not_found_page(&state, lang).await),
    };
    if !state
        .authz
        .check_platform(me, "tenant", &action, state.now())
    {
        return Ok(not_found_page(&state, lang).await);
    }
    if !csrf_ok(&state, &jar, &form.csrf) {
        return Ok(csrf_failed(&state, locale));
    }
    let now = state.now();
    let tenant_id = state.store.set_tenant_status(&slug, status, now).await?;
    let entry = audit_entry(Some(me), audit, serde_json::json!({ "tenant": slug }), &ip)
        .in_tenant(tenant_id);
    state.store.audit(&entry, now).await?;
    Ok(Redirect::to("/ops/?done=1").into_response())
}

/// The tenant, when the viewer may do `action` on its staff; `Err` is the page to
/// answer instead (sign-in, or 404 for everything else).
async fn staff_tenant(
    state: &AppState,
    viewer: &Viewer,
    lang: Lang,
    slug: &str,
    action: &str,
) -> Result<(i64, TenantRecord), Response> {
    let Some(me) = signed_in(viewer) else {
        return Err(to_sign_in());
    };
    if !state.authz.check(me, slug, "staff", action, state.now()) {
        return Err(not_found_page(state, lang).await);
    }
    match state.store.tenant_by_slug(slug).await {
        Ok(t) => Ok((me, t)),
        Err(_) => Err(not_found_page(state, lang).await),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    until: String,
}

struct StaffView<'a> {
    form: &'a InviteForm,
    errors: Vec<FieldError>,
    notice: Option<&'a str>,
    status: StatusCode,
}

async fn render_staff(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    viewer: &Viewer,
    tenant: &TenantRecord,
    view: StaffView<'_>,
) -> Result<Response, WebError> {
    let c = &state.inner.catalogs;
    let slug = &tenant.tenant.slug;
    #[derive(Serialize)]
    struct GrantRow {
        id: i64,
        email: String,
        role: String,
        until: String,
    }
    let now = state.now();
    let mut grants = Vec::new();
    for g in yui_authz::list_grants(&state.store, Some(slug))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
    {
        if !g.live_at(now) || g.scope != Scope::Tenant {
            continue;
        }
        let email = state.store.account(g.account_id).await?.email;
        grants.push(GrantRow {
            id: g.id,
            email,
            role: c
                .text(locale, &format!("role_{}", g.role.as_str()))
                .to_owned(),
            until: g
                .valid_until
                .map(|u| {
                    (u.with_timezone(&yui_domain::fiscal::tokyo()) - Duration::seconds(1))
                        .format("%Y-%m-%d")
                        .to_string()
                })
                .unwrap_or_else(|| c.text(locale, "no_end").to_owned()),
        });
    }
    let roles: Vec<(&str, String)> = TENANT_ROLES
        .iter()
        .map(|r| {
            (
                r.as_str(),
                c.text(locale, &format!("role_{}", r.as_str())).to_owned(),
            )
        })
        .collect();
    let (jar, csrf) = csrf_token(state, jar);
    let mut ctx = base_context(state, locale, &format!("/t/{slug}/staff"));
    viewer.describe(&mut ctx);
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", tenant.tenant.name.get(locale));
    ctx.insert("grants", &grants);
    ctx.insert("roles", &roles);
    ctx.insert("chosen_role", &view.form.role);
    ctx.insert("until", &view.form.until);
    ctx.insert("csrf", &csrf);
    ctx.insert("notice", &view.notice.map(|k| c.text(locale, k)));
    ctx.insert(
        "email_field",
        &FieldView::new(
            state,
            locale,
            "email",
            "email",
            view.form.email.clone(),
            "off",
            &view.errors,
        ),
    );
    ctx.insert("errors", &error_views(state, locale, &view.errors));
    Ok((jar, render(state, "staff.html", &ctx, locale, view.status)).into_response())
}

async fn staff_page(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    lang: Lang,
    viewer: Viewer,
    jar: CookieJar,
    Query(q): Query<Notice>,
) -> Result<Response, WebError> {
    let (_, tenant) = match staff_tenant(&state, &viewer, lang, &slug, "read").await {
        Ok(t) => t,
        Err(r) => return Ok(r),
    };
    let locale = lang.or(tenant.tenant.default_locale);
    let notice = match q.done.as_deref() {
        Some("invited") => Some("staff_invited"),
        Some(_) => Some("staff_revoked"),
        None => None,
    };
    let form = InviteForm {
        role: "coordinator".to_owned(),
        ..Default::default()
    };
    render_staff(
        &state,
        locale,
        jar,
        &viewer,
        &tenant,
        StaffView {
            form: &form,
            errors: Vec::new(),
            notice,
            status: StatusCode::OK,
        },
    )
    .await
}

async fn invite(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    lang: Lang,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    Form(form): Form<InviteForm>,
) -> Result<Response, WebError> {
    let (me, tenant) = match staff_tenant(&state, &viewer, lang, &slug, "invite").await {
        Ok(t) => t,
        Err(r) => return Ok(r),
    };
    let locale = lang.or(tenant.tenant.default_locale);
    if !csrf_ok(&state, &jar, &form.csrf) {
        return Ok(csrf_failed(&state, locale));
    }
    let mut errors = Vec::new();
    let email = Email::parse("email", &form.email)
        .map_err(|e| errors.push(e))
        .ok();
    let role = Role::parse(&form.role).filter(|r| TENANT_ROLES.contains(r));
    if role.is_none() {
        errors.push(FieldError {
            field: "role",
            problem: Problem::InvalidChoice,
        });
    }
    let until = match form.until.trim() {
        "" => None,
        s => match s
            .parse::<chrono::NaiveDate>()
            .ok()
            .and_then(yui_domain::fiscal::after_day_in_tokyo)
        {
            Some(u) => Some(u),
            None => {
                errors.push(FieldError {
                    field: "until",
                    problem: Problem::InvalidDate,
                });
                None
            }
        },
    };
    let (Some(email), Some(role), true) = (email, role, errors.is_empty()) else {
        let view = StaffView {
            form: &form,
            errors,
            notice: None,
            status: StatusCode::UNPROCESSABLE_ENTITY,
        };
        return render_staff(&state, locale, jar, &viewer, &tenant, view).await;
    };
    let now = state.now();
    let (account, new_account) = match state.store.account_by_email(&email).await? {
        Some(a) => (a, false),
        None => {
            let mut tx = state.store.begin_write().await?;
            let id = Store::create_account(&mut tx, &email, "", None, locale, now).await?;
            tx.commit().await?;
            (state.store.account(id).await?, true)
        }
    };
    let grant = NewGrant {
        account_id: account.id,
        role,
        scope: Scope::Tenant,
        tenant: Some(slug.clone()),
        valid_until: until,
        granted_by: Some(me),
    };
    state
        .authz
        .grant(&state.store, &grant, now)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;

    // The invitation: a new account sets its password through a reset link.
    let mut tx = state
        .store
        .begin_write_in(yui_store::TenantScope::Tenant(tenant.id))
        .await?;
    let path = if new_account {
        let token = new_secret();
        Store::create_token(
            &mut tx,
            account.id,
            TokenPurpose::PasswordReset,
            &secret_hash(&token),
            now,
            now + Duration::minutes(INVITATION_MINUTES),
        )
        .await?;
        format!("/reset/confirm?token={token}")
    } else {
        format!("/t/{slug}/")
    };
    let inviter = viewer
        .0
        .as_ref()
        .map(|a| a.display_name.clone())
        .unwrap_or_default();
    let mail = yui_mail::NewMail {
        tenant: Some(yui_mail::MailTenant::from_tenant(tenant.id, &tenant.tenant)),
        to: account.email.clone(),
        locale: account.locale(),
        kind: yui_mail::MailKind::StaffInvitation,
        vars: serde_json::json!({
            "display_name": account.display_name,
            "inviter_name": inviter,
            "role_name": state.inner.catalogs.text(account.locale(), &format!("role_{}", role.as_str())),
            "link": format!("{}{}", state.inner.settings.public_url.trim_end_matches('/'), path),
            "expires_minutes": INVITATION_MINUTES,
        }),
    };
    state
        .inner
        .outbox
        .enqueue(&mut tx, &mail, now)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let detail =
        serde_json::json!({ "account": account.id, "role": role.as_str(), "until": until });
    let entry = audit_entry(Some(me), AuditAction::RoleGranted, detail, &ip).in_tenant(tenant.id);
    Store::audit_in(&mut tx, &entry, now).await?;
    tx.commit().await?;
    state.inner.mail_waker.notify_one();
    Ok(Redirect::to(&format!("/t/{slug}/staff?done=invited")).into_response())
}

async fn revoke(
    State(state): State<AppState>,
    Path((slug, grant_id)): Path<(String, i64)>,
    lang: Lang,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    let (me, tenant) = match staff_tenant(&state, &viewer, lang, &slug, "revoke").await {
        Ok(t) => t,
        Err(r) => return Ok(r),
    };
    if !csrf_ok(&state, &jar, &form.csrf) {
        return Ok(csrf_failed(&state, lang.or(tenant.tenant.default_locale)));
    }
    // Only a grant of this tenant: another tenant's grant id is as unknown as none.
    let grants = yui_authz::list_grants(&state.store, Some(&slug))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let Some(grant) = grants
        .into_iter()
        .find(|g| g.id == grant_id && g.tenant.as_deref() == Some(slug.as_str()))
    else {
        return Ok(not_found_page(&state, lang).await);
    };
    let now = state.now();
    state
        .authz
        .revoke(&state.store, grant.id, Some(me), now)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let detail = serde_json::json!({ "account": grant.account_id, "role": grant.role.as_str() });
    let entry = audit_entry(Some(me), AuditAction::RoleRevoked, detail, &ip).in_tenant(tenant.id);
    state.store.audit(&entry, now).await?;
    Ok(Redirect::to(&format!("/t/{slug}/staff?done=revoked")).into_response())
}

/// Renders audit entries, newest first.
async fn render_audit(
    state: &AppState,
    locale: Locale,
    viewer: &Viewer,
    tenant: Option<&TenantRecord>,
    path: &str,
) -> Result<Response, WebError> {
    #[derive(Serialize)]
    struct Row {
        time: String,
        action: String,
        actor: String,
        ip: String,
        detail: String,
    }
    let tz = yui_domain::fiscal::tokyo();
    let mut rows = Vec::new();
    for e in state.store.audit_entries(tenant.map(|t| t.id), 200).await? {
        let actor = match e.actor_id {
            Some(id) => state
                .store
                .account(id)
                .await
                .map(|a| a.email)
                .unwrap_or_else(|_| format!("#{id}")),
            None => "-".to_owned(),
        };
        rows.push(Row {
            time: e
                .created_at
                .with_timezone(&tz)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string(),
            action: e.action,
            actor,
            ip: e.ip,
            detail: e.detail.0.to_string(),
        });
    }
    let c = &state.inner.catalogs;
    let mut ctx = base_context(state, locale, path);
    viewer.describe(&mut ctx);
    ctx.insert(
        "scope_name",
        &tenant.map_or_else(
            || c.text(locale, "audit_platform").to_owned(),
            |t| t.tenant.name.get(locale).to_owned(),
        ),
    );
    ctx.insert("entries", &rows);
    Ok(render(state, "audit.html", &ctx, locale, StatusCode::OK))
}

/// A tenant's audit log, for those who may read it there (its admins).
async fn tenant_audit(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    lang: Lang,
    viewer: Viewer,
) -> Result<Response, WebError> {
    let Some(me) = signed_in(&viewer) else {
        return Ok(to_sign_in());
    };
    if !state.authz.check(me, &slug, "audit", "read", state.now()) {
        return Ok(not_found_page(&state, lang).await);
    }
    let Ok(tenant) = state.store.tenant_by_slug(&slug).await else {
        return Ok(not_found_page(&state, lang).await);
    };
    let locale = lang.or(tenant.tenant.default_locale);
    render_audit(
        &state,
        locale,
        &viewer,
        Some(&tenant),
        &format!("/t/{slug}/audit"),
    )
    .await
}

/// Every audit entry, for platform operators.
async fn platform_audit(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
) -> Result<Response, WebError> {
    let Some(me) = signed_in(&viewer) else {
        return Ok(to_sign_in());
    };
    if !state.authz.check_platform(me, "audit", "read", state.now()) {
        return Ok(not_found_page(&state, lang).await);
    }
    render_audit(&state, lang.or(Locale::Ja), &viewer, None, "/ops/audit").await
}
