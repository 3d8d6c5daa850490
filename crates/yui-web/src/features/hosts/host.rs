//! One host: its page (staff, or a member of it; anyone else 404), editing it,
//! approving or archiving it, and inviting a member by mail (the role `host_member`
//! and membership of this host are given when the person accepts the mailed link).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use chrono::Duration;
use serde::{Deserialize, Serialize};
use yui_domain::account::{Email, FieldError, Problem};
use yui_domain::audit::AuditAction;
use yui_domain::host::{HostInput, HostStatus};
use yui_domain::{HostId, Locale};
use yui_store::{Account, AccountsTx, AuditEntry, AuditTx, Host, NewInvitation};

use super::form::{Builder, Kind, error_lines};
use super::list::NoticeQuery;
use super::{Access, check, host_inputs, input_of, municipality_name, name_taken, status_text};
use crate::error::PageError;
use crate::extract::{ClientIp, CsrfForm, Lang};
use crate::features::projects::project_rows;
use crate::render::{base_context, datetime_text, render};
use crate::security::{csrf_token, new_secret, secret_hash};
use crate::{AppState, WebError};

/// Minutes a host member's invitation link stays valid, as staff invitations.
const INVITATION_MINUTES: i64 = 7 * 24 * 60;

/// The invitation form as typed.
#[derive(Debug, Default, Deserialize)]
pub(super) struct InviteForm {
    #[serde(default)]
    email: String,
}

/// The status form: the status to move to.
#[derive(Debug, Default, Deserialize)]
pub(super) struct StatusForm {
    #[serde(default)]
    to: String,
}

/// What the page shows besides the stored host.
#[derive(Default)]
struct View<'a> {
    /// The edit form as typed, when it is answered with errors.
    edit: Option<&'a HostInput>,
    edit_errors: Vec<FieldError>,
    invite: Option<&'a str>,
    invite_errors: Vec<FieldError>,
    notice: Option<&'static str>,
}

/// The host `id` of the path's tenant, if the person may see it: anything else
/// (another tenant's id, a host of which a host member is not a member) is 404.
async fn visible_host(state: &AppState, access: &Access, id: HostId) -> Result<Host, PageError> {
    let mut tx = state.store.tenant(access.tenant.id).read().await?;
    let host = tx.host(id).await?;
    let allowed = match &host {
        Some(h) => access.can_see_host(&mut tx, h.id).await?,
        None => false,
    };
    tx.commit().await?;
    match host {
        Some(h) if allowed => Ok(h),
        _ => Err(WebError::NotFound.into()),
    }
}

async fn render_host(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    access: &Access,
    host: &Host,
    view: View<'_>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let tenant = &access.tenant;
    let t = &tenant.record.tenant;
    let slug = tenant.slug();
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let can_edit = access.can_edit_host(&mut tx, host.id).await?;
    let can_see_projects = access.can_see_projects_of(&mut tx, host.id).await?;
    let can_add_project = access.can_edit_projects_of(&mut tx, host.id).await?;
    let members = tx.host_members(host.id).await?;
    let projects = if can_see_projects {
        tx.projects_of_host(host.id).await?
    } else {
        Vec::new()
    };
    tx.commit().await?;
    #[derive(Serialize)]
    struct MemberRow {
        name: String,
        email: String,
        since: String,
    }
    let members: Vec<MemberRow> = members
        .into_iter()
        .map(|m| MemberRow {
            name: m.display_name,
            email: m.email,
            since: datetime_text(locale, m.created_at),
        })
        .collect();
    let moves: Vec<(&str, String)> = HostStatus::ALL
        .into_iter()
        .filter(|to| access.host_manage && host.status().can_become(*to))
        .map(|to| {
            (
                to.code(),
                state
                    .inner
                    .catalogs
                    .text(locale, &format!("hp_host_to_{}", to.code()))
                    .to_owned(),
            )
        })
        .collect();
    let stored = input_of(host);
    let edit = view.edit.unwrap_or(&stored);
    let invite_input = Builder {
        state,
        locale,
        errors: &view.invite_errors,
    }
    .input("email", Kind::Email, view.invite.unwrap_or(""), 254, true);
    let mut errors = view.edit_errors.clone();
    errors.extend(view.invite_errors.iter().cloned());
    let (jar, csrf) = csrf_token(state, jar);
    let mut ctx = base_context(
        state,
        locale,
        Some(&access.account),
        &format!("/t/{slug}/hosts/{}", host.id),
    );
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", t.name.get(locale));
    ctx.insert("host_id", &host.id.get());
    ctx.insert("name", &host.name);
    ctx.insert("kana", &host.kana);
    ctx.insert(
        "municipality",
        &municipality_name(t, locale, &host.municipality_code),
    );
    ctx.insert("industry", &host.industry);
    ctx.insert("summary", &host.summary);
    ctx.insert("website", &host.website);
    ctx.insert("status", &status_text(state, locale, &host.status));
    ctx.insert(
        "notice",
        &view.notice.map(|k| state.inner.catalogs.text(locale, k)),
    );
    ctx.insert("can_edit", &can_edit);
    ctx.insert("can_manage", &access.host_manage);
    ctx.insert("staff", &access.sees_all_hosts());
    ctx.insert(
        "can_hearings",
        &state.authz.check(
            access.account.id,
            slug,
            yui_domain::Permission::HearingRead,
            state.now(),
        ),
    );
    ctx.insert("moves", &moves);
    ctx.insert("members", &members);
    ctx.insert("can_see_projects", &can_see_projects);
    ctx.insert("can_add_project", &can_add_project);
    ctx.insert("projects", &project_rows(state, locale, &projects));
    ctx.insert("csrf", &csrf);
    ctx.insert(
        "inputs",
        &host_inputs(state, locale, t, edit, &view.edit_errors),
    );
    ctx.insert("invite_input", &invite_input);
    ctx.insert("errors", &error_lines(state, locale, &errors));
    Ok((jar, render(state, "host.html", ctx, locale, status)).into_response())
}

pub(super) async fn page(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, i64)>,
    lang: Lang,
    access: Access,
    jar: CookieJar,
    notice: NoticeQuery,
) -> Result<Response, PageError> {
    let locale = lang.or(access.tenant.record.tenant.default_locale);
    let host = visible_host(&state, &access, HostId::new(id)).await?;
    let view = View {
        notice: notice.key(),
        ..View::default()
    };
    render_host(&state, locale, jar, &access, &host, view, StatusCode::OK).await
}

/// Saves the host's fields: staff who manage hosts, or a member of this host.
pub(super) async fn edit(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, i64)>,
    lang: Lang,
    access: Access,
    jar: CookieJar,
    CsrfForm(input): CsrfForm<HostInput>,
) -> Result<Response, PageError> {
    let locale = lang.or(access.tenant.record.tenant.default_locale);
    let host = visible_host(&state, &access, HostId::new(id)).await?;
    let refuse = |errors: Vec<FieldError>| {
        let view = View {
            edit: Some(&input),
            edit_errors: errors,
            ..View::default()
        };
        render_host(
            &state,
            locale,
            jar.clone(),
            &access,
            &host,
            view,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
    };
    let fields = match check(&input, &access.tenant.record.tenant) {
        Ok(f) => f,
        Err(errors) => return refuse(errors).await,
    };
    let now = state.now();
    let mut tx = state.store.tenant(access.tenant.id).write().await?;
    if !access.can_edit_host(&mut tx, host.id).await? {
        tx.rollback().await?;
        return Err(WebError::NotFound.into());
    }
    match tx.update_host(host.id, &fields, now).await {
        Ok(Some(_)) => tx.commit().await?,
        Ok(None) => {
            tx.rollback().await?;
            return Err(WebError::NotFound.into());
        }
        Err(e) => {
            tx.rollback().await?;
            return match name_taken(&e) {
                Some(errors) => refuse(errors).await,
                None => Err(e.into()),
            };
        }
    }
    Ok(Redirect::to(&format!(
        "/t/{}/hosts/{}?done=saved",
        access.tenant.slug(),
        host.id
    ))
    .into_response())
}

/// Approves, archives or restores a host (staff who manage hosts).
pub(super) async fn status(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, i64)>,
    access: Access,
    ClientIp(ip): ClientIp,
    CsrfForm(form): CsrfForm<StatusForm>,
) -> Result<Response, PageError> {
    if !access.host_manage {
        return Err(WebError::NotFound.into());
    }
    let now = state.now();
    let mut tx = state.store.tenant(access.tenant.id).write().await?;
    let Some(host) = tx.host(HostId::new(id)).await? else {
        tx.rollback().await?;
        return Err(WebError::NotFound.into());
    };
    let from = host.status();
    let to = HostStatus::parse(&form.to)
        .filter(|to| from.can_become(*to))
        .ok_or_else(|| WebError::Conflict("status".to_owned()))?;
    // Moved by someone else in between: the conflict page, nothing changed.
    if tx
        .set_host_status(host.id, from, to, access.account.id, now)
        .await?
        .is_none()
    {
        tx.rollback().await?;
        return Err(WebError::Conflict("status".to_owned()).into());
    }
    let entry = AuditEntry {
        actor_id: Some(access.account.id),
        action: AuditAction::HostStatusChanged,
        detail: serde_json::json!({ "host": host.id, "from": from.code(), "to": to.code() }),
        ip,
    };
    tx.audit(&entry, now).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "/t/{}/hosts/{}?done=status",
        access.tenant.slug(),
        host.id
    ))
    .into_response())
}

/// Invites a member of this host by mail: the invitation (with the host), its mail
/// and the audit row commit together.
pub(super) async fn invite(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, i64)>,
    lang: Lang,
    access: Access,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<InviteForm>,
) -> Result<Response, PageError> {
    if !access.host_manage {
        return Err(WebError::NotFound.into());
    }
    let locale = lang.or(access.tenant.record.tenant.default_locale);
    let host = visible_host(&state, &access, HostId::new(id)).await?;
    let refuse = |errors: Vec<FieldError>| {
        let view = View {
            invite: Some(&form.email),
            invite_errors: errors,
            ..View::default()
        };
        render_host(
            &state,
            locale,
            jar.clone(),
            &access,
            &host,
            view,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
    };
    let email = match Email::parse("email", &form.email) {
        Ok(e) => e,
        Err(e) => return refuse(vec![e]).await,
    };
    let tenant = &access.tenant;
    let now = state.now();
    let mut tx = state.store.tenant(tenant.id).write().await?;
    let existing = tx.account_by_email(&email).await?;
    let token = new_secret();
    let token_hash = secret_hash(&token);
    let new = NewInvitation {
        email: &email,
        role: "host_member",
        valid_until: None,
        invited_by: Some(access.account.id),
        token_hash: &token_hash,
        expires_at: now + Duration::minutes(INVITATION_MINUTES),
        host: Some(host.id),
    };
    let invitation_id = tx.create_invitation(new, now).await?;
    let path = format!("/t/{}/invitation?token={token}", tenant.slug());
    let mail_locale = existing.as_ref().map_or(locale, Account::locale);
    let role = state.inner.catalogs.text(mail_locale, "role_host_member");
    let role_name = match mail_locale {
        Locale::Ja => format!("{role}（{}）", host.name),
        Locale::En => format!("{role} ({})", host.name),
    };
    let mail = yui_mail::NewMail {
        tenant: Some(yui_mail::MailTenant::from_tenant(
            tenant.id,
            &tenant.record.tenant,
        )),
        to: email.as_str().to_owned(),
        locale: mail_locale,
        kind: yui_mail::MailKind::StaffInvitation,
        vars: serde_json::json!({
            "display_name": existing
                .as_ref()
                .filter(|a| a.email_verified_at.is_some())
                .map(|a| a.display_name.as_str())
                .unwrap_or_default(),
            "inviter_name": access.account.display_name,
            "role_name": role_name,
            "link": state.link(&path),
            "expires_minutes": INVITATION_MINUTES,
        }),
        attachment: None,
    };
    if let Err(e) = state.inner.outbox.enqueue(&mut tx, &mail, now).await {
        tx.rollback().await?;
        if matches!(e, yui_mail::MailError::Address(_)) {
            return refuse(vec![FieldError {
                field: "email",
                problem: Problem::InvalidEmail,
            }])
            .await;
        }
        return Err(e.into());
    }
    let entry = AuditEntry {
        actor_id: Some(access.account.id),
        action: AuditAction::InvitationSent,
        detail: serde_json::json!({
            "invitation": invitation_id,
            "email": email.as_str(),
            "role": "host_member",
            "host": host.id,
        }),
        ip,
    };
    tx.audit(&entry, now).await?;
    tx.commit().await?;
    state.inner.mail_waker.notify_one();
    Ok(Redirect::to(&format!(
        "/t/{}/hosts/{}?done=invited",
        tenant.slug(),
        host.id
    ))
    .into_response())
}
