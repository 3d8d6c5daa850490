//! The account page: profile, language, the places the person works in, and
//! signing out everywhere.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};
use yui_domain::account::{FieldError, check_display_name};
use yui_domain::audit::AuditAction;
use yui_domain::{Locale, Permission};
use yui_store::{Account, AccountTx, AuditEntry, AuditTx};

use super::LinkView;
use crate::AppState;
use crate::error::PageError;
use crate::extract::{ClientIp, CsrfForm, Lang, SignedIn};
use crate::render::{FieldView, base_context, error_views, render};
use crate::security::{csrf_token, end_session_cookie};

#[derive(Serialize)]
struct AccountView {
    email: String,
    verified: bool,
    locale: String,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct AccountQuery {
    welcome: Option<String>,
    saved: Option<String>,
    verify: Option<String>,
    joined: Option<String>,
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
) -> Result<Response, PageError> {
    let ProfileForm { name, errors } = form;
    let (jar, csrf) = csrf_token(state, jar);
    let mut ctx = base_context(state, locale, Some(account), "/account");
    ctx.insert("places", &work_places(state, locale, account).await?);
    ctx.insert(
        "tokens",
        &crate::features::tokens::token_rows(state, locale, account).await?,
    );
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
    Ok((jar, render(state, "account.html", ctx, locale, status)).into_response())
}

/// A place the account works in, with the pages its roles open.
#[derive(Debug, Serialize)]
struct WorkPlace {
    name: String,
    roles: String,
    links: Vec<LinkView>,
}

/// The tenants (and the console) the account holds roles in, for the account page.
/// Its cost follows the person's grants, not the number of tenants.
async fn work_places(
    state: &AppState,
    locale: Locale,
    account: &Account,
) -> Result<Vec<WorkPlace>, PageError> {
    let c = &state.inner.catalogs;
    let now = state.now();
    let authz = state.authz.snapshot();
    let link = |href: String, key: &str| LinkView {
        href,
        text: c.text(locale, key).to_owned(),
    };
    let mut places = Vec::new();
    if authz.check_platform(account.id, Permission::TenantRead, now) {
        places.push(WorkPlace {
            name: c.text(locale, "audit_platform").to_owned(),
            roles: c.text(locale, "role_platform_operator").to_owned(),
            links: vec![
                link("/ops/".into(), "ops_title"),
                link("/ops/audit".into(), "audit_title"),
            ],
        });
    }
    for (slug, roles) in authz.tenant_roles_of(account.id, now) {
        let tenant = match crate::extract::TenantPath::load(state, &slug).await {
            Ok(t) => t.record,
            Err(crate::WebError::NotFound | crate::WebError::Suspended) => continue,
            Err(e) => return Err(e.into()),
        };
        let roles: Vec<String> = roles
            .iter()
            .map(|r| c.text(locale, &format!("role_{}", r.as_str())).to_owned())
            .collect();
        let mut links = vec![link(format!("/t/{slug}/"), "visit_region")];
        if authz.check(account.id, &slug, Permission::StaffRead, now) {
            links.push(link(format!("/t/{slug}/staff"), "staff_title"));
        }
        if authz.check(account.id, &slug, Permission::AuditRead, now) {
            links.push(link(format!("/t/{slug}/audit"), "audit_title"));
        }
        // Hosts: staff see every host, a host member their own (the same page).
        let can = |p| authz.check(account.id, &slug, p, now);
        if can(Permission::HostRead) || can(Permission::HostManage) {
            links.push(link(format!("/t/{slug}/hosts"), "hp_hosts_title"));
        } else if can(Permission::HostWriteOwn) {
            links.push(link(format!("/t/{slug}/hosts"), "hp_my_hosts"));
        }
        if can(Permission::ProjectRead) || can(Permission::ProjectManage) {
            links.push(link(
                format!("/t/{slug}/projects/all"),
                "hp_projects_all_title",
            ));
        }
        if can(Permission::NewsletterSend) {
            links.push(link(format!("/t/{slug}/newsletters"), "nl_title"));
        }
        places.push(WorkPlace {
            name: tenant.tenant.name.get(locale).to_owned(),
            roles: roles.join("・"),
            links,
        });
    }
    Ok(places)
}

pub(super) async fn page(
    State(state): State<AppState>,
    lang: Lang,
    SignedIn(account): SignedIn,
    jar: CookieJar,
    Query(q): Query<AccountQuery>,
) -> Result<Response, PageError> {
    let locale = lang.or(account.locale());
    let c = &state.inner.catalogs;
    let notice = if q.joined.is_some() {
        Some(c.text(locale, super::invitation::JOINED).to_owned())
    } else if let Some(w) = q.welcome {
        let key = if w == "later" {
            "signup_done_mail_later"
        } else {
            "signup_done"
        };
        Some(c.text(locale, key).to_owned())
    } else if let Some(v) = q.verify {
        let key = if v == "sent" {
            "verify_again_sent"
        } else {
            "verify_again_recent"
        };
        Some(c.text(locale, key).to_owned())
    } else {
        q.saved.map(|_| c.text(locale, "saved").to_owned())
    };
    let form = ProfileForm {
        name: &account.display_name,
        errors: Vec::new(),
    };
    account_view(&state, locale, jar, &account, form, notice, StatusCode::OK).await
}

#[derive(Debug, Default, Deserialize)]
pub struct AccountForm {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    locale: String,
}

pub(super) async fn update(
    State(state): State<AppState>,
    lang: Lang,
    SignedIn(account): SignedIn,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<AccountForm>,
) -> Result<Response, PageError> {
    let locale = lang.or(account.locale());
    let chosen = Locale::parse(&form.locale).unwrap_or(account.locale());
    match check_display_name("display_name", &form.display_name) {
        Ok(name) => {
            let mut tx = state.store.account(account.id).write().await?;
            tx.update_profile(&name, chosen, state.now()).await?;
            tx.commit().await?;
            Ok(Redirect::to("/account?saved=1").into_response())
        }
        Err(e) => {
            let form = ProfileForm {
                name: &form.display_name,
                errors: vec![e],
            };
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            account_view(&state, locale, jar, &account, form, None, status).await
        }
    }
}

/// Revokes every live API token of the account in `tx`, with an audit row in each
/// token's tenant: after a reset, or when signing out everywhere, if asked.
pub(super) async fn revoke_all_tokens(
    tx: &mut AccountTx,
    ip: &str,
    reason: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), PageError> {
    let actor = tx.account_id();
    for (token, tenant) in tx.revoke_all_api_tokens(now).await? {
        let entry = AuditEntry {
            actor_id: Some(actor),
            action: AuditAction::TokenRevoked,
            detail: serde_json::json!({ "token": token, "reason": reason }),
            ip: ip.to_owned(),
        };
        tx.audit_in_tenant(tenant, &entry, now).await?;
    }
    Ok(())
}

#[derive(Debug, Default, Deserialize)]
pub struct SignOutEverywhereForm {
    /// Unticked by default: a person signing out a lost phone may still want their
    /// scripts to run; a reset, where the password may be known to others, ticks it.
    revoke_tokens: Option<String>,
}

pub(super) async fn signout_everywhere(
    State(state): State<AppState>,
    SignedIn(account): SignedIn,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<SignOutEverywhereForm>,
) -> Result<Response, PageError> {
    let now = state.now();
    let mut tx = state.store.account(account.id).write().await?;
    let n = tx.end_all_sessions().await?;
    let entry = AuditEntry {
        actor_id: Some(account.id),
        action: AuditAction::SignOutEverywhere,
        detail: serde_json::json!({ "sessions": n, "tokens_revoked": form.revoke_tokens.is_some() }),
        ip: ip.clone(),
    };
    tx.audit(&entry, now).await?;
    if form.revoke_tokens.is_some() {
        revoke_all_tokens(&mut tx, &ip, "sign_out_everywhere", now).await?;
    }
    tx.commit().await?;
    let jar = end_session_cookie(&state, jar);
    Ok((jar, Redirect::to("/signin?signed_out=1")).into_response())
}
