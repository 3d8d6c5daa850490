//! Ending a staff member's role. The last administrator of a tenant stays: a
//! tenant nobody can administer is a support call, not a feature.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use yui_authz::{Grant, Role, Scope};
use yui_domain::audit::AuditAction;
use yui_domain::{GrantId, Locale};
use yui_store::{AuditEntry, AuditTx};

use super::list::{InviteForm, refuse_last_admin};
use crate::error::PageError;
use crate::extract::{ClientIp, CsrfForm, Lang, Staff, StaffRevoke};
use crate::render::{base_context, render};
use crate::security::csrf_token;
use crate::{AppState, WebError};

/// The revoke form: `confirm` is sent only by the confirmation page.
#[derive(Debug, Default, Deserialize)]
pub(super) struct RevokeForm {
    #[serde(default)]
    confirm: String,
}

pub(super) async fn submit(
    State(state): State<AppState>,
    Path((_, grant_id)): Path<(String, i64)>,
    lang: Lang,
    staff: Staff<StaffRevoke>,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<RevokeForm>,
) -> Result<Response, PageError> {
    let tenant = staff.tenant.clone();
    let now = state.now();
    let mut tx = state.store.tenant(tenant.id).write().await?;
    // Two admins removing each other at once: the second counts after the first.
    tx.lock_staff().await?;
    let grants = yui_authz::list_grants_in(&mut tx).await?;
    // Only a live grant of this tenant: another tenant's grant id is as unknown as none.
    let Some(grant) = grants
        .iter()
        .find(|g| g.id == GrantId::new(grant_id) && g.scope == Scope::Tenant && g.live_at(now))
        .cloned()
    else {
        tx.rollback().await?;
        return Err(WebError::NotFound.into());
    };
    if grant.role == Role::TenantAdmin && !super::admins_outlast(&grants, &grant, now) {
        tx.rollback().await?;
        let locale = lang.or(tenant.record.tenant.default_locale);
        let form = InviteForm {
            role: "coordinator".to_owned(),
            ..Default::default()
        };
        return refuse_last_admin(&state, locale, jar, &staff, &form).await;
    }
    // Removing one's own role locks oneself out of this page at once, with nobody
    // but another admin to undo it: ask first, and act only on the confirmed form.
    if grant.account_id == staff.account.id && form.confirm.is_empty() {
        tx.rollback().await?;
        let locale = lang.or(tenant.record.tenant.default_locale);
        return Ok(confirm_page(&state, locale, jar, &staff, &grant));
    }
    yui_authz::revoke_in(&mut tx, grant.id, Some(staff.account.id), now).await?;
    let detail = serde_json::json!({ "account": grant.account_id, "role": grant.role.as_str() });
    let entry = AuditEntry {
        actor_id: Some(staff.account.id),
        action: AuditAction::RoleRevoked,
        detail,
        ip,
    };
    tx.audit(&entry, now).await?;
    tx.commit().await?;
    state.authz.refresh_if_changed(&state.store, now).await?;
    Ok(Redirect::to(&format!("/t/{}/staff?done=revoked", tenant.slug())).into_response())
}

/// "Remove your own role?" with a form that sends the same revoke confirmed, and
/// the way back to the staff page.
fn confirm_page(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    staff: &Staff<StaffRevoke>,
    grant: &Grant,
) -> Response {
    let c = &state.inner.catalogs;
    let slug = staff.tenant.slug();
    let (jar, csrf) = csrf_token(state, jar);
    let mut ctx = base_context(
        state,
        locale,
        Some(&staff.account),
        &format!("/t/{slug}/staff"),
    );
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", staff.tenant.record.tenant.name.get(locale));
    ctx.insert("grant_id", &grant.id.get());
    ctx.insert(
        "role",
        c.text(locale, &format!("role_{}", grant.role.as_str())),
    );
    ctx.insert("csrf", &csrf);
    (
        jar,
        render(
            state,
            "staff_revoke_confirm.html",
            ctx,
            locale,
            StatusCode::OK,
        ),
    )
        .into_response()
}
