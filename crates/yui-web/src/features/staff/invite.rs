//! Inviting someone with a role: the account (created when the address is new), the
//! grant, the invitation mail and the audit row commit together, or not at all.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use chrono::Duration;
use yui_authz::{NewGrant, Role, Scope};
use yui_domain::account::{Email, FieldError, Problem};
use yui_domain::audit::AuditAction;
use yui_store::{AccountsTx, AuditEntry, AuditTx, NewAccount, TokenPurpose};

use super::TENANT_ROLES;
use super::list::{InviteForm, StaffView, refuse_last_admin, render_staff};
use crate::AppState;
use crate::error::PageError;
use crate::extract::{ClientIp, CsrfForm, Lang, Staff, StaffInvite};
use crate::security::{new_secret, secret_hash};

/// Minutes an invitation link stays valid (7 days).
const INVITATION_MINUTES: i64 = 7 * 24 * 60;

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
    let (account, new_account) = match tx.account_by_email(&invitation.email).await? {
        Some(a) => (a, false),
        None => {
            let new = NewAccount {
                email: &invitation.email,
                display_name: "",
                password_hash: None,
                locale,
            };
            let id = tx.create_account(new, now).await?;
            (tx.account_by_id(id).await?, true)
        }
    };
    // Inviting an administrator again with an end date replaces their grant: the
    // last administrator without an end may not be given one this way either.
    if !new_account && invitation.role == Role::TenantAdmin && invitation.until.is_some() {
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
    let grant = NewGrant {
        account_id: account.id,
        role: invitation.role,
        scope: Scope::Tenant,
        tenant: Some(tenant.slug().to_owned()),
        valid_until: invitation.until,
        granted_by: Some(staff.account.id),
    };
    let granted = yui_authz::grant_in(&mut tx, &grant, now).await?;
    // An account without a password (new, or invited before and never finished)
    // sets it through the invitation's link.
    let path = if new_account || account.password_hash.is_none() {
        let token = new_secret();
        tx.create_login_token(
            account.id,
            TokenPurpose::PasswordReset,
            &secret_hash(&token),
            now,
            now + Duration::minutes(INVITATION_MINUTES),
        )
        .await?;
        format!("/invitation?token={token}&grant={}", granted.id)
    } else {
        format!("/t/{}/", tenant.slug())
    };
    let mail = yui_mail::NewMail {
        tenant: Some(yui_mail::MailTenant::from_tenant(
            tenant.id,
            &tenant.record.tenant,
        )),
        to: invitation.email.as_str().to_owned(),
        locale: account.locale(),
        kind: yui_mail::MailKind::StaffInvitation,
        vars: serde_json::json!({
            "display_name": account.display_name,
            "inviter_name": staff.account.display_name,
            "role_name": state.inner.catalogs.text(account.locale(), &format!("role_{}", invitation.role.as_str())),
            "link": state.link(&path),
            "expires_minutes": INVITATION_MINUTES,
        }),
    };
    if let Err(e) = state.inner.outbox.enqueue(&mut tx, &mail, now).await {
        tx.rollback().await?;
        // The mailer refuses an address our own check let through: the person can
        // fix it, so it is a field error, and nothing was stored.
        if matches!(e, yui_mail::MailError::Address(_)) {
            let errors = vec![FieldError {
                field: "email",
                problem: Problem::InvalidEmail,
            }];
            return render_staff(&state, locale, jar, &staff, refuse(errors)).await;
        }
        return Err(e.into());
    }
    let detail = serde_json::json!({
        "account": account.id,
        "email": invitation.email.as_str(),
        "role": invitation.role.as_str(),
        "until": invitation.until,
    });
    let entry = AuditEntry {
        actor_id: Some(staff.account.id),
        action: AuditAction::RoleGranted,
        detail,
        ip,
    };
    tx.audit(&entry, now).await?;
    tx.commit().await?;
    state.inner.mail_waker.notify_one();
    state.authz.refresh_if_changed(&state.store, now).await?;
    Ok(Redirect::to(&format!("/t/{}/staff?done=invited", tenant.slug())).into_response())
}
