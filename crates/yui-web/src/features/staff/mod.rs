//! A tenant's staff: who holds which role, inviting someone with a role (one
//! transaction for the invitation, its mail and the audit row; the role is granted
//! when the person accepts by mail), withdrawing an invitation, ending a role; and the
//! staff list in the JSON API.

pub mod api;
pub(crate) mod invite;
mod list;
mod revoke;

use axum::Router;
use axum::routing::{get, post};
use yui_authz::{Grant, Role, Scope};

use crate::AppState;
pub(crate) use list::until_text;

pub(crate) const TEMPLATES: &[(&str, &str)] = &[
    ("staff.html", include_str!("templates/staff.html")),
    (
        "staff_revoke_confirm.html",
        include_str!("templates/staff_revoke_confirm.html"),
    ),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/t/{slug}/staff", get(list::page).post(invite::submit))
        .route("/t/{slug}/staff/{grant}/revoke", post(revoke::submit))
        .route(
            "/t/{slug}/staff/invitations/{invitation}/withdraw",
            post(invite::withdraw),
        )
        .route("/api/v1/tenants/{slug}/staff", get(api::staff))
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

/// The tenant's administrators whose role works at `now`.
fn live_admins(grants: &[Grant], now: chrono::DateTime<chrono::Utc>) -> Vec<&Grant> {
    grants
        .iter()
        .filter(|g| g.role == Role::TenantAdmin && g.scope == Scope::Tenant && g.live_at(now))
        .collect()
}

/// Whether removing `leaving` (a live administrator's grant) leaves the tenant
/// administered for as long as it was: another live administrator whose role lasts
/// at least as long (no end outlasts every end). Otherwise a time-limited
/// administrator left alone would let the tenant fall to nobody when their role ends.
pub(crate) fn admins_outlast(
    grants: &[Grant],
    leaving: &Grant,
    now: chrono::DateTime<chrono::Utc>,
) -> bool {
    live_admins(grants, now)
        .into_iter()
        .filter(|g| g.id != leaving.id)
        .any(|g| match (g.valid_until, leaving.valid_until) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(other), Some(mine)) => other >= mine,
        })
}
