//! Inviting someone with a role: the invitation (a one-time token's hash), its mail and
//! the audit row commit together, or not at all. The role itself is granted when the
//! person accepts by the mail's link (`accounts::invitation`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use chrono::Duration;
use yui_authz::Role;
use yui_domain::InvitationId;
use yui_domain::account::{Email, FieldError, Problem};
use yui_domain::audit::AuditAction;
use yui_store::{Account, AccountsTx, AuditEntry, AuditTx, NewInvitation};

use super::TENANT_ROLES;
use super::list::{InviteForm, StaffView, refuse_last_admin, render_staff};
use crate::error::PageError;
use crate::extract::{ClientIp, CsrfForm, CsrfOnly, Lang, Staff, StaffInvite};
use crate::security::{new_secret, secret_hash};
use crate::{AppState, WebError};

/// Minutes an invitation link stays valid (7 days).
pub(crate) const INVITATION_MINUTES: i64 = 7 * 24 * 60;

/// What the form asks for, checked: every problem at once.
struct Invitation {
    email: Email,
    role: Role,
    until: Option<chrono::DateTime<chrono::Utc>>,
}

fn parse(
    form: &InviteForm,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Invitation, Vec<FieldError>> {
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
            // A role that would end before it starts is a mistake worth naming.
            Some(u) if u <= now => {
                errors.push(FieldError {
                    field: "until",
                    problem: Problem::DateInPast,
                });
                None
            }
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
    match (email, role) {
        (Some(email), Some(role)) if errors.is_empty() => Ok(Invitation { email, role, until }),
        _ => Err(errors),
    }
}

pub(super) async fn submit(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<StaffInvite>,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<InviteForm>,
) -> Result<Response, PageError> {
    let tenant = staff.tenant.clone();
    let locale = lang.or(tenant.record.tenant.default_locale);
    let now = state.now();
    let refuse = |errors: Vec<FieldError>| StaffView {
        form: &form,
        errors,
        notice: None,
        problem: None,
        status: StatusCode::UNPROCESSABLE_ENTITY,
    };
    let invitation = match parse(&form, now) {
        Ok(i) => i,
        Err(errors) => return render_staff(&state, locale, jar, &staff, refuse(errors)).await,
    };
    let mut tx = state.store.tenant(tenant.id).write().await?;
    tx.lock_staff().await?;
    // Nothing is attached to an existing account here: the role goes to whoever
    // proves the mailbox by accepting (an address may be registered by someone who
    // cannot read its mail).
    let existing = tx.account_by_email(&invitation.email).await?;
    // Inviting an administrator again with an end date replaces their grant when
    // accepted: the last administrator without an end may not be given one this way.
    if let Some(account) = &existing
        && invitation.role == Role::TenantAdmin
        && invitation.until.is_some()
    {
        let grants = yui_authz::list_grants_in(&mut tx).await?;
        let admins = super::live_admins(&grants, now);
        let others_without_end = admins
            .iter()
            .filter(|g| g.account_id != account.id && g.valid_until.is_none())
            .count();
        let is_admin = admins.iter().any(|g| g.account_id == account.id);
        if is_admin && others_without_end == 0 {
            tx.rollback().await?;
            return refuse_last_admin(&state, locale, jar, &staff, &form).await;
        }
    }
    let sent = send_invitation(
        &state,
        &mut tx,
        &tenant,
        &staff.account,
        Invitee {
            email: &invitation.email,
            role: invitation.role,
            until: invitation.until,
            existing: existing.as_ref(),
        },
        (locale, ip, now),
    )
    .await?;
    if let Err(error) = sent {
        tx.rollback().await?;
        return render_staff(&state, locale, jar, &staff, refuse(vec![error])).await;
    }
    tx.commit().await?;
    state.inner.mail_waker.notify_one();
    Ok(Redirect::to(&format!("/t/{}/staff?done=invited", tenant.slug())).into_response())
}

/// Whom an invitation goes to.
pub(crate) struct Invitee<'a> {
    pub email: &'a Email,
    pub role: Role,
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// The account that has this address, if any (for the mail's language and
    /// greeting, never for the grant).
    pub existing: Option<&'a Account>,
}

/// Stores an invitation with its one-time token, queues its mail and writes the
/// audit row, all in the caller's transaction (nothing is committed here). A mail
/// address the mailer refuses is a field error on `email`: the caller rolls back.
pub(crate) async fn send_invitation(
    state: &AppState,
    tx: &mut yui_store::TenantTx,
    tenant: &crate::extract::TenantPath,
    inviter: &Account,
    invitee: Invitee<'_>,
    (locale, ip, now): (yui_domain::Locale, String, chrono::DateTime<chrono::Utc>),
) -> Result<Result<InvitationId, FieldError>, PageError> {
    let token = new_secret();
    let token_hash = secret_hash(&token);
    let new = NewInvitation {
        email: invitee.email,
        role: invitee.role.as_str(),
        valid_until: invitee.until,
        invited_by: Some(inviter.id),
        token_hash: &token_hash,
        expires_at: now + Duration::minutes(INVITATION_MINUTES),
        host: None,
    };
    let invitation_id = tx.create_invitation(new, now).await?;
    let path = format!("/t/{}/invitation?token={token}", tenant.slug());
    // Written in the invitee's language when they have chosen one, else the page's.
    let mail_locale = invitee.existing.map_or(locale, Account::locale);
    let mail = yui_mail::NewMail {
        tenant: Some(yui_mail::MailTenant::from_tenant(
            tenant.id,
            &tenant.record.tenant,
        )),
        // What the administrator typed (in its normal form), never another address
        // that shares its key.
        to: invitee.email.as_str().to_owned(),
        locale: mail_locale,
        kind: yui_mail::MailKind::StaffInvitation,
        vars: serde_json::json!({
            // Only a name its owner proved: whoever registered an address without
            // reading its mail does not get to write the greeting of our mail.
            "display_name": invitee.existing
                .filter(|a| a.email_verified_at.is_some())
                .map(|a| a.display_name.as_str())
                .unwrap_or_default(),
            "inviter_name": inviter.display_name,
            "role_name": state.inner.catalogs.text(mail_locale, &format!("role_{}", invitee.role.as_str())),
            "link": state.link(&path),
            "expires_minutes": INVITATION_MINUTES,
        }),
        attachment: None,
    };
    if let Err(e) = state.inner.outbox.enqueue(tx, &mail, now).await {
        // The mailer refuses an address our own check let through: the person can
        // fix it, so it is a field error.
        if matches!(e, yui_mail::MailError::Address(_)) {
            return Ok(Err(FieldError {
                field: "email",
                problem: Problem::InvalidEmail,
            }));
        }
        return Err(e.into());
    }
    let detail = serde_json::json!({
        "invitation": invitation_id,
        "email": invitee.email.as_str(),
        "role": invitee.role.as_str(),
        "until": invitee.until,
    });
    let entry = AuditEntry {
        actor_id: Some(inviter.id),
        action: AuditAction::InvitationSent,
        detail,
        ip,
    };
    tx.audit(&entry, now).await?;
    Ok(Ok(invitation_id))
}

/// Withdraws an open invitation: its link stops working. Another tenant's
/// invitation, or one already accepted, is not found.
pub(super) async fn withdraw(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, i64)>,
    staff: Staff<StaffInvite>,
    ClientIp(ip): ClientIp,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let now = state.now();
    let mut tx = state.store.tenant(staff.tenant.id).write().await?;
    let Some(withdrawn) = tx.withdraw_invitation(InvitationId::new(id), now).await? else {
        tx.rollback().await?;
        return Err(WebError::NotFound.into());
    };
    let entry = AuditEntry {
        actor_id: Some(staff.account.id),
        action: AuditAction::InvitationWithdrawn,
        detail: serde_json::json!({
            "invitation": withdrawn.id,
            "email": withdrawn.email,
            "role": withdrawn.role,
        }),
        ip,
    };
    tx.audit(&entry, now).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/t/{}/staff?done=withdrawn", staff.tenant.slug())).into_response())
}
