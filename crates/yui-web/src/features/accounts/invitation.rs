//! Accepting an invitation by its mailed link (`/t/<slug>/invitation?token=…`). The
//! token proves the mailbox; the role goes to the account of that address, and only
//! in one of two ways:
//! - the address has an account whose owner proved it and chose a password: they sign
//!   in as that account and accept (the token alone does not hand a role to whoever
//!   happens to hold a session);
//! - there is no account yet, or one nobody proved (perhaps registered by someone who
//!   cannot read the mail): the mailbox's owner chooses the name and password here.
//!   A taken-over account loses every session and API token it had.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use yui_authz::{NewGrant, Role, Scope};
use yui_domain::account::{Email, FieldError, Problem, check_display_name, check_new_password};
use yui_domain::audit::AuditAction;
use yui_domain::{AccountId, Locale, Permission};
use yui_store::{Account, AccountsTx, AuditEntry, AuditTx, Invitation, NewAccount};

use super::links::link_failed;
use super::{FormPage, form_page, new_password_fields};
use crate::AppState;
use crate::error::PageError;
use crate::extract::{ClientIp, CsrfForm, Lang, TenantPath, Viewer};
use crate::features::staff::until_text;
use crate::security::{hash_password, secret_hash, start_session};

#[derive(Debug, Deserialize)]
pub(super) struct InvitationQuery {
    #[serde(default)]
    token: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct AcceptForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

/// How the person in front of the link accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Way {
    /// Signed in as the invited address's proven account: one button.
    Accept(AccountId),
    /// The address has a proven account, not signed in here: sign in first.
    SignIn,
    /// No account, or one nobody proved: the mailbox's owner sets name and password.
    Claim(Option<AccountId>),
}

fn way(invited: Option<&Account>, viewer: Option<&Account>) -> Way {
    match invited {
        Some(a) if a.email_verified_at.is_some() && a.password_hash.is_some() => {
            if viewer.is_some_and(|v| v.id == a.id) {
                Way::Accept(a.id)
            } else {
                Way::SignIn
            }
        }
        Some(a) => Way::Claim(Some(a.id)),
        None => Way::Claim(None),
    }
}

/// The open invitation behind a token, with the account of its address and the
/// inviter's name.
async fn look_up(
    state: &AppState,
    tenant: &TenantPath,
    token: &str,
) -> Result<Option<Found>, PageError> {
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let Some(invitation) = tx
        .invitation_by_token(&secret_hash(token), state.now())
        .await?
    else {
        tx.commit().await?;
        return Ok(None);
    };
    // An invitation speaks for its inviter only while they may still invite: one
    // left behind by an administrator who has since lost the role is void. A host
    // member's invitation is made by staff who manage hosts.
    let needed = if invitation.host_id.is_some() {
        Permission::HostManage
    } else {
        Permission::StaffInvite
    };
    let authz = state.authz.snapshot();
    let now = state.now();
    // A region's first administrator is invited by whoever onboarded it: an
    // operator, or the administrator of its prefecture (its parent); only while it
    // is being set up, so that neither can make themselves staff of a live region
    // and read its members.
    let parent = tenant.record.tenant.parent.as_deref();
    let onboarding = tenant.record.is_setting_up();
    let still_allowed = invitation.invited_by.is_some_and(|by| {
        authz.check(by, tenant.slug(), needed, now)
            || (invitation.host_id.is_none()
                && onboarding
                && (authz.check_platform(by, Permission::TenantOnboard, now)
                    || parent
                        .is_some_and(|p| authz.check(by, p, Permission::TenantConfigure, now))))
    });
    if !still_allowed {
        tx.commit().await?;
        return Ok(None);
    }
    let email = Email::parse("email", &invitation.email)
        .map_err(|e| crate::WebError::Internal(format!("stored invitation address: {e}")))?;
    let invited = tx.account_by_email(&email).await?;
    let inviter = match invitation.invited_by {
        Some(by) => {
            let a = tx.account_by_id(by).await?;
            if a.display_name.is_empty() {
                a.email
            } else {
                a.display_name
            }
        }
        None => String::new(),
    };
    tx.commit().await?;
    Ok(Some((invitation, invited, inviter)))
}

/// An open invitation, the account of its address, and the inviter's name.
type Found = (Invitation, Option<Account>, String);

/// What the page shows for one way of accepting, with the person's input and errors.
struct View<'a> {
    viewer: Option<&'a Account>,
    invitation: &'a Invitation,
    inviter: &'a str,
    way: Way,
    token: &'a str,
    name: &'a str,
    errors: Vec<FieldError>,
    status: StatusCode,
}

fn render_view(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    tenant: &TenantPath,
    view: View<'_>,
) -> Response {
    let c = &state.inner.catalogs;
    let lead = c
        .text(locale, "invitation_lead")
        .replace("{inviter}", view.inviter)
        .replace("{tenant}", tenant.record.tenant.name.get(locale))
        .replace(
            "{role}",
            c.text(locale, &format!("role_{}", view.invitation.role)),
        )
        .replace(
            "{until}",
            &view.invitation.valid_until.map_or_else(String::new, |u| {
                c.text(locale, "invitation_until")
                    .replace("{date}", &until_text(state, locale, Some(u)))
            }),
        )
        .replace("{email}", &view.invitation.email);
    let here = format!(
        "/t/{}/invitation?token={}",
        tenant.slug(),
        form_urlencoded::byte_serialize(view.token.as_bytes()).collect::<String>()
    );
    let mut page = match view.way {
        Way::Accept(_) => {
            let mut p = FormPage::new("invitation_title", "", "invitation_accept_now");
            p.lead = Some("invitation_accept_lead");
            p
        }
        Way::SignIn => {
            // The sign-in form itself, returning here: the person proves both the
            // mailbox (this link) and the account (its password).
            let mut p = FormPage::new("invitation_title", "/signin", "signin_submit");
            p.lead = Some("invitation_signin_lead");
            p.fields = vec![
                ("email", "email", "username", view.invitation.email.clone()),
                ("password", "password", "current-password", String::new()),
            ];
            p.links = vec![("/reset", "forgot_password")];
            p.hidden = vec![("next", here)];
            p
        }
        Way::Claim(_) => {
            let mut p = FormPage::new("invitation_title", "", "invitation_claim");
            p.lead = Some("invitation_claim_lead");
            p.fields = vec![("display_name", "text", "name", view.name.to_owned())];
            p.fields.extend(new_password_fields());
            p
        }
    };
    let action = format!("/t/{}/invitation", tenant.slug());
    if view.way != Way::SignIn {
        page.action = &action;
        page.hidden = vec![("token", view.token.to_owned())];
    }
    page.intro = Some(lead);
    page.viewer = view.viewer;
    page.errors = view.errors;
    form_page(state, locale, jar, page, view.status)
}

pub(super) async fn page(
    State(state): State<AppState>,
    lang: Lang,
    tenant: TenantPath,
    Viewer(viewer): Viewer,
    jar: CookieJar,
    Query(q): Query<InvitationQuery>,
) -> Result<Response, PageError> {
    let locale = lang.or(viewer
        .as_ref()
        .map_or(tenant.record.tenant.default_locale, Account::locale));
    let Some((invitation, invited, inviter)) = look_up(&state, &tenant, &q.token).await? else {
        return Ok(link_failed(&state, locale));
    };
    let view = View {
        viewer: viewer.as_ref(),
        invitation: &invitation,
        inviter: &inviter,
        way: way(invited.as_ref(), viewer.as_ref()),
        token: &q.token,
        name: "",
        errors: Vec::new(),
        status: StatusCode::OK,
    };
    Ok(render_view(&state, locale, jar, &tenant, view))
}

/// The name and password a claim sets, checked: every problem at once.
fn check_claim(form: &AcceptForm, email: &Email) -> Result<String, Vec<FieldError>> {
    let mut errors = Vec::new();
    let name = check_display_name("display_name", &form.display_name)
        .map_err(|e| errors.push(e))
        .ok();
    match check_new_password("password", &form.password, Some(email)) {
        Err(e) => errors.push(e),
        Ok(()) if form.password != form.password_confirm => errors.push(FieldError {
            field: "password_confirm",
            problem: Problem::Mismatch,
        }),
        Ok(()) => {}
    }
    match name {
        Some(name) if errors.is_empty() => Ok(name),
        _ => Err(errors),
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn accept(
    State(state): State<AppState>,
    lang: Lang,
    tenant: TenantPath,
    Viewer(viewer): Viewer,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<AcceptForm>,
) -> Result<Response, PageError> {
    let locale = lang.or(viewer
        .as_ref()
        .map_or(tenant.record.tenant.default_locale, Account::locale));
    let Some((invitation, invited, inviter)) = look_up(&state, &tenant, &form.token).await? else {
        return Ok(link_failed(&state, locale));
    };
    let now = state.now();
    let email = Email::parse("email", &invitation.email)
        .map_err(|e| crate::WebError::Internal(format!("stored invitation address: {e}")))?;
    let chosen = way(invited.as_ref(), viewer.as_ref());
    let refuse = |errors: Vec<FieldError>, way: Way| {
        let view = View {
            viewer: viewer.as_ref(),
            invitation: &invitation,
            inviter: &inviter,
            way,
            token: &form.token,
            name: &form.display_name,
            errors,
            status: StatusCode::UNPROCESSABLE_ENTITY,
        };
        render_view(&state, locale, jar.clone(), &tenant, view)
    };
    // A claim's password is hashed before the writing transaction (hashing is slow).
    let claim = match chosen {
        Way::SignIn => return Ok(refuse(Vec::new(), Way::SignIn)),
        Way::Accept(_) => None,
        Way::Claim(_) => match check_claim(&form, &email) {
            Ok(name) => Some((name, hash_password(form.password.clone()).await?)),
            Err(errors) => return Ok(refuse(errors, chosen)),
        },
    };
    let mut tx = state.store.tenant(tenant.id).write().await?;
    tx.lock_staff().await?;
    // What was read may have changed (an account made, the address proved): the
    // decision is made again inside the transaction.
    let invited_now = tx.account_by_email(&email).await?;
    if way(invited_now.as_ref(), viewer.as_ref()) != chosen {
        tx.rollback().await?;
        let again = way(invited_now.as_ref(), viewer.as_ref());
        return Ok(refuse(Vec::new(), again));
    }
    let account = match (chosen, claim) {
        (Way::Accept(id), _) => id,
        (Way::Claim(existing), Some((name, hash))) => {
            let id = match existing {
                Some(id) => {
                    // Whoever registered this address without proving it loses the
                    // account: its sessions end with the new password.
                    tx.set_account_password(id, &hash, now).await?;
                    tx.set_account_name(id, &name, now).await?;
                    id
                }
                None => {
                    let new = NewAccount {
                        email: &email,
                        display_name: &name,
                        password_hash: Some(&hash),
                        locale,
                    };
                    tx.create_account(new, now).await?
                }
            };
            // Following the mailed link proved the mailbox.
            tx.mark_account_verified(id, now).await?;
            id
        }
        _ => {
            tx.rollback().await?;
            return Ok(link_failed(&state, locale));
        }
    };
    let Some(accepted) = tx
        .accept_invitation(&secret_hash(&form.token), account, now)
        .await?
    else {
        // Accepted or withdrawn a moment ago.
        tx.rollback().await?;
        return Ok(link_failed(&state, locale));
    };
    let role = Role::parse(&accepted.role).ok_or_else(|| {
        crate::WebError::Internal(format!("stored invitation role {:?}", accepted.role))
    })?;
    let grant = NewGrant {
        account_id: account,
        role,
        scope: Scope::Tenant,
        tenant: Some(tenant.slug().to_owned()),
        valid_until: accepted.valid_until,
        granted_by: accepted.invited_by,
    };
    let granted = yui_authz::grant_in(&mut tx, &grant, now).await?;
    // A host member's invitation also makes them a member of its host, in the same
    // transaction as the role.
    if let Some(host) = accepted.host_id {
        tx.add_host_member(host, account, now).await?;
    }
    let entry = AuditEntry {
        actor_id: Some(account),
        action: AuditAction::RoleGranted,
        detail: serde_json::json!({
            "account": account,
            "email": accepted.email,
            "role": accepted.role,
            "until": accepted.valid_until,
            "invitation": accepted.id,
            "grant": granted.id,
            "host": accepted.host_id,
        }),
        ip: ip.clone(),
    };
    tx.audit(&entry, now).await?;
    tx.commit().await?;
    if matches!(chosen, Way::Claim(Some(_))) {
        // Tokens made before the mailbox's owner claimed the account are not theirs.
        let mut tx = state.store.account(account).write().await?;
        tx.revoke_all_api_tokens(now).await?;
        tx.commit().await?;
    }
    state.authz.refresh_if_changed(&state.store, now).await?;
    let jar = match chosen {
        Way::Accept(_) => jar,
        _ => {
            // The epoch the claim left (a changed password moved it).
            let mut tx = state.store.account(account).read().await?;
            let epoch = tx.get().await?.credential_epoch;
            tx.commit().await?;
            start_session(&state, jar, account, epoch, &ip, &headers).await?
        }
    };
    Ok((jar, Redirect::to("/account?joined=1")).into_response())
}

/// The account page's notice after an acceptance.
pub(super) const JOINED: &str = "invitation_accepted";

#[cfg(test)]
mod tests {
    use super::*;

    fn account(verified: bool, password: bool) -> Account {
        Account {
            id: AccountId::new(7),
            email: "a@example.jp".into(),
            display_name: String::new(),
            password_hash: password.then(|| "h".into()),
            email_verified_at: verified.then_some(chrono::DateTime::<chrono::Utc>::UNIX_EPOCH),
            locale: "ja".into(),
            credential_epoch: 0,
        }
    }

    #[test]
    fn only_a_proven_account_signed_in_accepts_with_one_button() {
        let proven = account(true, true);
        let mut other = account(true, true);
        other.id = AccountId::new(8);
        assert_eq!(way(Some(&proven), Some(&proven)), Way::Accept(proven.id));
        assert_eq!(way(Some(&proven), None), Way::SignIn);
        assert_eq!(way(Some(&proven), Some(&other)), Way::SignIn);
        // Registered by someone who never proved the address: the mailbox's owner
        // claims it, whoever is signed in.
        let unproven = account(false, true);
        assert_eq!(
            way(Some(&unproven), Some(&unproven)),
            Way::Claim(Some(unproven.id))
        );
        assert_eq!(way(None, Some(&proven)), Way::Claim(None));
    }
}
